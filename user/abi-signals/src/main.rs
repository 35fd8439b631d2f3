//! abi-signals: signal system calls — sigaction, delivery with siginfo (si_code for kill,
//! tgkill, sigqueue, faults), masks and pending sets, SIG_IGN, SIGCHLD, SA_RESTART vs EINTR,
//! sigaltstack, rt_sigtimedwait, sigsuspend, faults caught by handlers (the handler moves
//! the PC past the faulting store, so sigreturn must restore a modified context), SIGPIPE,
//! default actions.
//!
//! Every line is a stable fact; the exit status is 0 whatever the checks show.

#[path = "../../abi-common/abi_common.rs"]
mod common;

use common::*;
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering::SeqCst};

static COUNT: AtomicUsize = AtomicUsize::new(0);
static SIGNO: AtomicI32 = AtomicI32::new(0);
static CODE: AtomicI32 = AtomicI32::new(0);
static PID_IS_ME: AtomicBool = AtomicBool::new(false);
static VALUE: AtomicI32 = AtomicI32::new(0);
static ADDR: AtomicU64 = AtomicU64::new(0);
static STATUS: AtomicI32 = AtomicI32::new(0);
static ON_ALT: AtomicBool = AtomicBool::new(false);
static SS_ONSTACK: AtomicBool = AtomicBool::new(false);
static ALT_BASE: AtomicU64 = AtomicU64::new(0);
static ALT_SIZE: AtomicU64 = AtomicU64::new(0);
static MASK_HAS_SELF: AtomicBool = AtomicBool::new(false);
static MASK_HAS_USR2: AtomicBool = AtomicBool::new(false);
static RT_ORDER: AtomicU64 = AtomicU64::new(0);

const SEGV_MAPERR: i32 = 1;
const SEGV_ACCERR: i32 = 2;
const ILL_ILLOPC: i32 = 1;

extern "C" {
    fn sigqueue(pid: libc::pid_t, sig: i32, value: libc::sigval) -> i32;
}

extern "C" fn handler(signo: i32, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo and ucontext.
    unsafe {
        COUNT.fetch_add(1, SeqCst);
        SIGNO.store(signo, SeqCst);
        let info = &*info;
        CODE.store(info.si_code, SeqCst);
        if signo == libc::SIGCHLD {
            STATUS.store(info.si_status(), SeqCst);
        } else {
            PID_IS_ME.store(info.si_pid() == libc::getpid(), SeqCst);
        }
        if info.si_code == libc::SI_QUEUE {
            VALUE.store(info.si_value().sival_ptr as usize as i32, SeqCst);
        }
        let mut mask: libc::sigset_t = std::mem::zeroed();
        libc::pthread_sigmask(libc::SIG_BLOCK, null(), &mut mask);
        MASK_HAS_SELF.store(libc::sigismember(&mask, signo) == 1, SeqCst);
        MASK_HAS_USR2.store(libc::sigismember(&mask, libc::SIGUSR2) == 1, SeqCst);
        let local = 0u8;
        let here = &local as *const u8 as u64;
        let base = ALT_BASE.load(SeqCst);
        ON_ALT.store(here >= base && here < base + ALT_SIZE.load(SeqCst), SeqCst);
        let mut current: libc::stack_t = std::mem::zeroed();
        libc::sigaltstack(null(), &mut current);
        SS_ONSTACK.store(current.ss_flags & libc::SS_ONSTACK != 0, SeqCst);
        let _ = context;
    }
}

/// Records the RT signal order: each delivery appends its value (1..=9) as a digit.
extern "C" fn rt_handler(_signo: i32, info: *mut libc::siginfo_t, _context: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo.
    let value = unsafe { (*info).si_value().sival_ptr as u64 };
    let order = RT_ORDER.load(SeqCst);
    RT_ORDER.store(order * 10 + value, SeqCst);
}

/// A fault handler: records si_code and si_addr, then moves the PC past the faulting
/// instruction (2 or 4 bytes) so execution resumes after it.
extern "C" fn fault_handler(signo: i32, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo and ucontext; the PC points at the
    // faulting instruction, which is readable.
    unsafe {
        COUNT.fetch_add(1, SeqCst);
        SIGNO.store(signo, SeqCst);
        CODE.store((*info).si_code, SeqCst);
        ADDR.store((*info).si_addr() as u64, SeqCst);
        let context = &mut *(context as *mut libc::ucontext_t);
        let pc = context.uc_mcontext.__gregs[0];
        let low = *(pc as *const u16);
        context.uc_mcontext.__gregs[0] = pc + if low & 3 == 3 { 4 } else { 2 };
    }
}

fn install(signo: i32, function: usize, flags: i32, mask: &[i32]) -> i32 {
    // SAFETY: a zeroed sigaction is valid; the handler has the SA_SIGINFO signature.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = function;
        action.sa_flags = flags;
        libc::sigemptyset(&mut action.sa_mask);
        for &s in mask {
            libc::sigaddset(&mut action.sa_mask, s);
        }
        libc::sigaction(signo, &action, null_mut())
    }
}

fn install_handler(signo: i32, flags: i32) -> i32 {
    install(
        signo,
        handler as *const () as usize,
        libc::SA_SIGINFO | flags,
        &[],
    )
}

fn set_default(signo: i32) {
    install(signo, libc::SIG_DFL, 0, &[]);
}

fn reset() {
    COUNT.store(0, SeqCst);
    SIGNO.store(0, SeqCst);
    CODE.store(999, SeqCst);
}

fn code_name(code: i32) -> String {
    match code {
        libc::SI_USER => "SI_USER".into(),
        0x80 => "SI_KERNEL".into(),
        libc::SI_QUEUE => "SI_QUEUE".into(),
        libc::SI_TIMER => "SI_TIMER".into(),
        libc::SI_TKILL => "SI_TKILL".into(),
        other => format!("code {other}"),
    }
}

fn delivered() -> String {
    format!(
        "count {} signo {} code {}",
        COUNT.load(SeqCst),
        signal_name(SIGNO.load(SeqCst)),
        code_name(CODE.load(SeqCst))
    )
}

fn mask_with(signals: &[i32]) -> libc::sigset_t {
    // SAFETY: a zeroed sigset is valid for sigemptyset.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &s in signals {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

fn block(signals: &[i32]) {
    let set = mask_with(signals);
    // SAFETY: a live sigset.
    unsafe { libc::sigprocmask(libc::SIG_BLOCK, &set, null_mut()) };
}

fn unblock(signals: &[i32]) {
    let set = mask_with(signals);
    // SAFETY: a live sigset.
    unsafe { libc::sigprocmask(libc::SIG_UNBLOCK, &set, null_mut()) };
}

fn pending(signo: i32) -> bool {
    // SAFETY: a zeroed sigset is a valid buffer.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigpending(&mut set);
        libc::sigismember(&set, signo) == 1
    }
}

/// A child that sleeps `ms`, sends `signo` to the parent, then (if `fd` >= 0) sleeps
/// `ms` again and writes one byte to `fd`.
fn signal_later(ms: u64, signo: i32, fd: i32) -> libc::pid_t {
    // SAFETY: getpid has no preconditions.
    let parent = unsafe { libc::getpid() };
    spawn(move || {
        sleep_ms(ms);
        // SAFETY: plain system calls on live buffers.
        unsafe {
            libc::kill(parent, signo);
            if fd >= 0 {
                sleep_ms(ms);
                libc::write(fd, b"x".as_ptr().cast(), 1);
            }
        }
        0
    })
}

fn main() {
    // SAFETY (whole program): the libc calls get live buffers of the right types; the
    // deliberate faults are caught by `fault_handler` or happen in children.
    unsafe {
        let me = libc::getpid();

        // --- sigaction install and query ---
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGUSR1, null(), &mut old);
        check(
            "SIGUSR1 initially SIG_DFL",
            old.sa_sigaction == libc::SIG_DFL,
        );
        check(
            "sigaction install",
            ok(install(
                libc::SIGUSR1,
                handler as *const () as usize,
                libc::SA_SIGINFO,
                &[libc::SIGUSR2],
            ) as i64),
        );
        let mut now: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGUSR1, null(), &mut now);
        check(
            "sigaction query handler",
            now.sa_sigaction == handler as *const () as usize,
        );
        check(
            "sigaction query SA_SIGINFO",
            now.sa_flags & libc::SA_SIGINFO != 0,
        );
        check(
            "sigaction query sa_mask has SIGUSR2",
            libc::sigismember(&now.sa_mask, libc::SIGUSR2) == 1,
        );
        check(
            "sigaction SIGKILL",
            err(install(
                libc::SIGKILL,
                handler as *const () as usize,
                libc::SA_SIGINFO,
                &[],
            ) as i64),
        );
        check(
            "sigaction SIGSTOP",
            err(install(libc::SIGSTOP, libc::SIG_IGN, 0, &[]) as i64),
        );
        check(
            "sigaction query SIGKILL",
            ok(libc::sigaction(libc::SIGKILL, null(), &mut old) as i64),
        );
        check(
            "sigaction signal 0",
            err(libc::syscall(
                libc::SYS_rt_sigaction,
                0,
                null::<u8>(),
                &mut old as *mut _,
                8,
            )),
        );
        check(
            "sigaction signal 65",
            err(libc::syscall(
                libc::SYS_rt_sigaction,
                65,
                null::<u8>(),
                &mut old as *mut _,
                8,
            )),
        );
        check(
            "rt_sigaction bad sigsetsize",
            err(libc::syscall(
                libc::SYS_rt_sigaction,
                libc::SIGUSR1,
                null::<u8>(),
                &mut old as *mut _,
                4,
            )),
        );
        check(
            "sigaction bad pointer",
            err(libc::syscall(
                libc::SYS_rt_sigaction,
                libc::SIGUSR1,
                0x10usize,
                null_mut::<u8>(),
                8,
            )),
        );

        // --- delivery and siginfo ---
        reset();
        check("kill self", ok(libc::kill(me, libc::SIGUSR1) as i64));
        check("after kill", delivered());
        check("si_pid is sender", PID_IS_ME.load(SeqCst));
        check("handler mask has own signal", MASK_HAS_SELF.load(SeqCst));
        check(
            "handler mask has sa_mask SIGUSR2",
            MASK_HAS_USR2.load(SeqCst),
        );
        check("mask restored after handler", {
            let mut mask: libc::sigset_t = std::mem::zeroed();
            libc::sigprocmask(libc::SIG_BLOCK, null(), &mut mask);
            libc::sigismember(&mask, libc::SIGUSR1) == 0
                && libc::sigismember(&mask, libc::SIGUSR2) == 0
        });
        reset();
        check(
            "tgkill self",
            ok(libc::syscall(
                libc::SYS_tgkill,
                me,
                libc::gettid(),
                libc::SIGUSR1,
            )),
        );
        check("after tgkill", delivered());
        reset();
        check("raise", ok(libc::raise(libc::SIGUSR1) as i64));
        check("after raise", delivered());
        reset();
        check(
            "sigqueue",
            ok(sigqueue(
                me,
                libc::SIGUSR1,
                libc::sigval {
                    sival_ptr: 42 as *mut _,
                },
            ) as i64),
        );
        check(
            "after sigqueue",
            format!("{} value {}", delivered(), VALUE.load(SeqCst)),
        );
        check(
            "tgkill wrong tgid",
            err(libc::syscall(
                libc::SYS_tgkill,
                999_999,
                libc::gettid(),
                libc::SIGUSR1,
            )),
        );
        check(
            "tkill bad signal",
            err(libc::syscall(libc::SYS_tkill, libc::gettid(), 99)),
        );

        // --- masks and pending ---
        reset();
        block(&[libc::SIGUSR1]);
        libc::kill(me, libc::SIGUSR1);
        check("blocked: handler count", COUNT.load(SeqCst));
        check("blocked: pending", pending(libc::SIGUSR1));
        unblock(&[libc::SIGUSR1]);
        check("unblocked: delivered", delivered());
        check("unblocked: no longer pending", !pending(libc::SIGUSR1));
        reset();
        block(&[libc::SIGUSR1]);
        for _ in 0..3 {
            libc::kill(me, libc::SIGUSR1);
        }
        unblock(&[libc::SIGUSR1]);
        check(
            "standard signal sent 3x while blocked, delivered",
            COUNT.load(SeqCst),
        );
        let rt = libc::SIGRTMIN() + 1;
        install(rt, rt_handler as *const () as usize, libc::SA_SIGINFO, &[]);
        block(&[rt]);
        for value in [1usize, 2, 3] {
            sigqueue(
                me,
                rt,
                libc::sigval {
                    sival_ptr: value as *mut _,
                },
            );
        }
        unblock(&[rt]);
        check("RT signal queued 3x, delivery order", RT_ORDER.load(SeqCst));
        check(
            "sigprocmask bad how",
            err(libc::sigprocmask(99, &mask_with(&[]), null_mut()) as i64),
        );
        check("SIGKILL/SIGSTOP cannot be blocked", {
            let mut all: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut all);
            let mut old_mask: libc::sigset_t = std::mem::zeroed();
            libc::syscall(
                libc::SYS_rt_sigprocmask,
                libc::SIG_SETMASK,
                &all as *const _,
                &mut old_mask as *mut _,
                8,
            );
            let mut now_mask: libc::sigset_t = std::mem::zeroed();
            libc::syscall(
                libc::SYS_rt_sigprocmask,
                libc::SIG_SETMASK,
                &old_mask as *const _,
                &mut now_mask as *mut _,
                8,
            );
            format!(
                "kill {} stop {} term {}",
                libc::sigismember(&now_mask, libc::SIGKILL),
                libc::sigismember(&now_mask, libc::SIGSTOP),
                libc::sigismember(&now_mask, libc::SIGTERM)
            )
        });
        check(
            "rt_sigprocmask bad sigsetsize",
            err(libc::syscall(
                libc::SYS_rt_sigprocmask,
                libc::SIG_BLOCK,
                null::<u8>(),
                null_mut::<u8>(),
                4,
            )),
        );

        // --- SIG_IGN ---
        install(libc::SIGUSR2, libc::SIG_IGN, 0, &[]);
        libc::kill(me, libc::SIGUSR2);
        check("SIG_IGN SIGUSR2 survived", true);
        block(&[libc::SIGUSR2]);
        libc::kill(me, libc::SIGUSR2);
        check(
            "blocked SIG_IGN signal stays pending",
            pending(libc::SIGUSR2),
        );
        unblock(&[libc::SIGUSR2]);
        check(
            "SIG_IGN inherited across fork",
            in_child(|| {
                libc::kill(libc::getpid(), libc::SIGUSR2);
                0
            }),
        );
        check("SIG_IGN kept across exec", {
            let path = c("/bin/busybox");
            let args = [
                c("sh"),
                c("-c"),
                c("kill -USR2 $$; echo sh survived SIGUSR2"),
            ];
            let argv = [args[0].as_ptr(), args[1].as_ptr(), args[2].as_ptr(), null()];
            in_child(|| {
                libc::execve(path.as_ptr(), argv.as_ptr(), [null()].as_ptr());
                127
            })
        });
        set_default(libc::SIGUSR2);
        check("handler reset to default across exec", {
            let path = c("/bin/busybox");
            let args = [c("sh"), c("-c"), c("kill -USR1 $$; echo not reached")];
            let argv = [args[0].as_ptr(), args[1].as_ptr(), args[2].as_ptr(), null()];
            in_child(|| {
                libc::execve(path.as_ptr(), argv.as_ptr(), [null()].as_ptr());
                127
            })
        });
        check("mask inherited across fork, pending not", {
            block(&[libc::SIGUSR1]);
            libc::kill(me, libc::SIGUSR1);
            let text = in_child(|| {
                let mut mask: libc::sigset_t = std::mem::zeroed();
                libc::sigprocmask(libc::SIG_BLOCK, null(), &mut mask);
                ((libc::sigismember(&mask, libc::SIGUSR1) == 1) as i32)
                    | (((!pending(libc::SIGUSR1)) as i32) << 1)
            });
            reset();
            unblock(&[libc::SIGUSR1]);
            format!("{text}, parent's pending delivered {}", COUNT.load(SeqCst))
        });

        // --- default actions ---
        check(
            "default SIGTERM",
            in_child(|| {
                libc::kill(libc::getpid(), libc::SIGTERM);
                sleep_ms(1000);
                0
            }),
        );
        check(
            "default SIGUSR1",
            in_child(|| {
                set_default(libc::SIGUSR1);
                libc::raise(libc::SIGUSR1);
                0
            }),
        );
        check(
            "default SIGCHLD ignored",
            in_child(|| {
                libc::raise(libc::SIGCHLD);
                0
            }),
        );
        check(
            "default SIGWINCH ignored",
            in_child(|| {
                libc::raise(libc::SIGWINCH);
                0
            }),
        );
        check(
            "SIGKILL while blocked-all",
            in_child(|| {
                let mut all: libc::sigset_t = std::mem::zeroed();
                libc::sigfillset(&mut all);
                libc::sigprocmask(libc::SIG_SETMASK, &all, null_mut());
                libc::raise(libc::SIGKILL);
                0
            }),
        );
        check("SIGSTOP then SIGCONT", {
            let pid = spawn(|| {
                sleep_ms(300);
                5
            });
            libc::kill(pid, libc::SIGSTOP);
            let mut status = 0;
            let r = libc::waitpid(pid, &mut status, libc::WUNTRACED);
            let stopped = if r == pid {
                status_text(status)
            } else {
                err(r as i64)
            };
            libc::kill(pid, libc::SIGCONT);
            let r = libc::waitpid(pid, &mut status, libc::WCONTINUED);
            let continued = if r == pid {
                libc::WIFCONTINUED(status).to_string()
            } else {
                err(r as i64)
            };
            format!("{stopped}, continued {continued}, {}", wait_text(pid))
        });

        // --- SIGCHLD ---
        reset();
        install_handler(libc::SIGCHLD, libc::SA_RESTART);
        let child = spawn(|| 7);
        wait_text(child);
        check(
            "SIGCHLD on child exit",
            format!("{} status {}", delivered(), STATUS.load(SeqCst)),
        );
        check(
            "SIGCHLD si_code CLD_EXITED",
            CODE.load(SeqCst) == libc::CLD_EXITED,
        );
        set_default(libc::SIGCHLD);
        check("SA_NOCLDWAIT: wait gives ECHILD", {
            install(libc::SIGCHLD, libc::SIG_DFL, libc::SA_NOCLDWAIT, &[]);
            let pid = spawn(|| 0);
            let r = libc::waitpid(pid, null_mut(), 0);
            let e = err(r as i64);
            set_default(libc::SIGCHLD);
            e
        });
        check("SIGCHLD SIG_IGN: children auto-reaped", {
            install(libc::SIGCHLD, libc::SIG_IGN, 0, &[]);
            spawn(|| 0);
            let r = libc::wait(null_mut());
            let e = err(r as i64);
            set_default(libc::SIGCHLD);
            e
        });

        // --- EINTR and SA_RESTART ---
        let fds = pipe(0);
        install_handler(libc::SIGUSR1, 0);
        reset();
        let child = signal_later(50, libc::SIGUSR1, fds[1]);
        let mut byte = [0u8; 1];
        let r = libc::read(fds[0], byte.as_mut_ptr().cast(), 1);
        check("read interrupted without SA_RESTART", err(r as i64));
        check("handler ran", delivered());
        wait_text(child);
        libc::read(fds[0], byte.as_mut_ptr().cast(), 1);
        install_handler(libc::SIGUSR1, libc::SA_RESTART);
        reset();
        let child = signal_later(50, libc::SIGUSR1, fds[1]);
        let r = libc::read(fds[0], byte.as_mut_ptr().cast(), 1);
        check("read restarted with SA_RESTART", val(r as i64));
        check("handler ran during restarted read", COUNT.load(SeqCst));
        wait_text(child);
        reset();
        let child = signal_later(50, libc::SIGUSR1, -1);
        let t0 = monotonic_ns();
        let request = libc::timespec {
            tv_sec: 2,
            tv_nsec: 0,
        };
        let mut remaining = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        let r = libc::nanosleep(&request, &mut remaining);
        check("nanosleep interrupted even with SA_RESTART", err(r as i64));
        check(
            "nanosleep remaining < 2s",
            remaining.tv_sec < 2 && (remaining.tv_sec > 0 || remaining.tv_nsec > 0),
        );
        check(
            "nanosleep returned early",
            monotonic_ns() - t0 < 1_900_000_000,
        );
        wait_text(child);
        reset();
        let child = signal_later(50, libc::SIGUSR1, -1);
        check("pause", err(libc::pause() as i64));
        check("pause handler", delivered());
        wait_text(child);
        libc::close(fds[0]);
        libc::close(fds[1]);

        // --- sigsuspend ---
        reset();
        block(&[libc::SIGUSR1]);
        let child = signal_later(50, libc::SIGUSR1, -1);
        let empty = mask_with(&[]);
        check("sigsuspend", err(libc::sigsuspend(&empty) as i64));
        check("sigsuspend handler", delivered());
        check("mask restored after sigsuspend", {
            let mut mask: libc::sigset_t = std::mem::zeroed();
            libc::sigprocmask(libc::SIG_BLOCK, null(), &mut mask);
            libc::sigismember(&mask, libc::SIGUSR1) == 1
        });
        wait_text(child);

        // --- rt_sigtimedwait (SIGUSR1 still blocked) ---
        let set = mask_with(&[libc::SIGUSR1]);
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let timeout = libc::timespec {
            tv_sec: 0,
            tv_nsec: 10_000_000,
        };
        check(
            "sigtimedwait timeout",
            err(libc::sigtimedwait(&set, &mut info, &timeout) as i64),
        );
        let zero = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        check(
            "sigtimedwait zero timeout",
            err(libc::sigtimedwait(&set, &mut info, &zero) as i64),
        );
        libc::kill(me, libc::SIGUSR1);
        reset();
        let r = libc::sigtimedwait(&set, &mut info, &timeout);
        check(
            "sigtimedwait pending",
            format!(
                "{} code {}",
                if r > 0 { signal_name(r) } else { err(r as i64) },
                code_name(info.si_code)
            ),
        );
        check(
            "sigtimedwait consumed it (handler not run)",
            COUNT.load(SeqCst) == 0 && !pending(libc::SIGUSR1),
        );
        let child = signal_later(30, libc::SIGUSR1, -1);
        let r = libc::sigwaitinfo(&set, &mut info);
        check(
            "sigwaitinfo from another process",
            format!(
                "{} code {}",
                if r > 0 { signal_name(r) } else { err(r as i64) },
                code_name(info.si_code)
            ),
        );
        wait_text(child);
        let bad = libc::timespec {
            tv_sec: 0,
            tv_nsec: 1_000_000_000,
        };
        check(
            "sigtimedwait bad timeout",
            err(libc::sigtimedwait(&set, &mut info, &bad) as i64),
        );
        unblock(&[libc::SIGUSR1]);

        // --- sigaltstack ---
        let mut current: libc::stack_t = std::mem::zeroed();
        check(
            "sigaltstack query",
            ok(libc::sigaltstack(null(), &mut current) as i64),
        );
        check(
            "sigaltstack initially disabled",
            current.ss_flags & libc::SS_DISABLE != 0,
        );
        let mut alt = vec![0u8; 64 * 1024];
        let small = libc::stack_t {
            ss_sp: alt.as_mut_ptr().cast(),
            ss_flags: 0,
            ss_size: 512,
        };
        check(
            "sigaltstack too small",
            err(libc::sigaltstack(&small, null_mut()) as i64),
        );
        let bad_flags = libc::stack_t {
            ss_sp: alt.as_mut_ptr().cast(),
            ss_flags: 0x1234,
            ss_size: alt.len(),
        };
        check(
            "sigaltstack bad flags",
            err(libc::sigaltstack(&bad_flags, null_mut()) as i64),
        );
        let stack = libc::stack_t {
            ss_sp: alt.as_mut_ptr().cast(),
            ss_flags: 0,
            ss_size: alt.len(),
        };
        check(
            "sigaltstack set",
            ok(libc::sigaltstack(&stack, null_mut()) as i64),
        );
        ALT_BASE.store(alt.as_ptr() as u64, SeqCst);
        ALT_SIZE.store(alt.len() as u64, SeqCst);
        libc::sigaltstack(null(), &mut current);
        check(
            "sigaltstack read back",
            current.ss_sp == alt.as_mut_ptr().cast()
                && current.ss_size == alt.len()
                && current.ss_flags == 0,
        );
        install_handler(libc::SIGUSR1, libc::SA_ONSTACK);
        libc::raise(libc::SIGUSR1);
        check("SA_ONSTACK handler on alt stack", ON_ALT.load(SeqCst));
        check("SS_ONSTACK inside handler", SS_ONSTACK.load(SeqCst));
        install_handler(libc::SIGUSR1, 0);
        libc::raise(libc::SIGUSR1);
        check(
            "handler without SA_ONSTACK on alt stack",
            ON_ALT.load(SeqCst),
        );
        let disable = libc::stack_t {
            ss_sp: null_mut(),
            ss_flags: libc::SS_DISABLE,
            ss_size: 0,
        };
        check(
            "sigaltstack disable",
            ok(libc::sigaltstack(&disable, null_mut()) as i64),
        );
        ALT_BASE.store(0, SeqCst);
        ALT_SIZE.store(0, SeqCst);

        // --- SA_RESETHAND, SA_NODEFER ---
        install_handler(libc::SIGUSR1, libc::SA_RESETHAND);
        reset();
        libc::raise(libc::SIGUSR1);
        libc::sigaction(libc::SIGUSR1, null(), &mut now);
        check(
            "SA_RESETHAND: ran once, then SIG_DFL",
            format!(
                "{} {}",
                COUNT.load(SeqCst),
                now.sa_sigaction == libc::SIG_DFL
            ),
        );
        install_handler(libc::SIGUSR1, libc::SA_NODEFER);
        libc::raise(libc::SIGUSR1);
        check(
            "SA_NODEFER: own signal not masked in handler",
            !MASK_HAS_SELF.load(SeqCst),
        );

        // --- faults caught by a handler ---
        install(
            libc::SIGSEGV,
            fault_handler as *const () as usize,
            libc::SA_SIGINFO,
            &[],
        );
        reset();
        core::arch::asm!("sw zero, 0({0})", in(reg) 8usize);
        check(
            "null-page store caught",
            format!(
                "{} signo {} SEGV_MAPERR {} si_addr 8 {}",
                COUNT.load(SeqCst),
                signal_name(SIGNO.load(SeqCst)),
                CODE.load(SeqCst) == SEGV_MAPERR,
                ADDR.load(SeqCst) == 8
            ),
        );
        let page = libc::mmap(
            null_mut(),
            4096,
            libc::PROT_READ,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        reset();
        core::arch::asm!("sw zero, 16({0})", in(reg) page);
        check(
            "store to read-only page caught",
            format!(
                "{} SEGV_ACCERR {} si_addr match {}",
                COUNT.load(SeqCst),
                CODE.load(SeqCst) == SEGV_ACCERR,
                ADDR.load(SeqCst) == page as u64 + 16
            ),
        );
        reset();
        let value: u32;
        core::arch::asm!("li {0}, 77", "lw {0}, 0({1})", out(reg) value, in(reg) 0usize);
        check(
            "null load caught and skipped",
            format!("{} value kept {}", COUNT.load(SeqCst), value == 77),
        );
        libc::munmap(page, 4096);
        reset();
        libc::raise(libc::SIGSEGV);
        check("raise(SIGSEGV) with handler", delivered());
        reset();
        install(
            libc::SIGILL,
            fault_handler as *const () as usize,
            libc::SA_SIGINFO,
            &[],
        );
        core::arch::asm!(".4byte 0xc0001073"); // csrw cycle, zero: a read-only CSR
        check(
            "illegal instruction caught",
            format!(
                "{} signo {} ILL_ILLOPC {}",
                COUNT.load(SeqCst),
                signal_name(SIGNO.load(SeqCst)),
                CODE.load(SeqCst) == ILL_ILLOPC
            ),
        );
        reset();
        install(
            libc::SIGTRAP,
            fault_handler as *const () as usize,
            libc::SA_SIGINFO,
            &[],
        );
        core::arch::asm!("ebreak");
        check(
            "ebreak caught",
            format!(
                "{} signo {}",
                COUNT.load(SeqCst),
                signal_name(SIGNO.load(SeqCst))
            ),
        );
        set_default(libc::SIGSEGV);
        set_default(libc::SIGILL);
        set_default(libc::SIGTRAP);
        check(
            "child null write, no handler",
            in_child(|| {
                core::arch::asm!("sw zero, 0({0})", in(reg) 0usize);
                0
            }),
        );
        check(
            "child segfault with SIGSEGV blocked",
            in_child(|| {
                block(&[libc::SIGSEGV]);
                core::arch::asm!("sw zero, 0({0})", in(reg) 0usize);
                0
            }),
        );
        check(
            "child segfault with SIGSEGV ignored",
            in_child(|| {
                install(libc::SIGSEGV, libc::SIG_IGN, 0, &[]);
                core::arch::asm!("sw zero, 0({0})", in(reg) 0usize);
                0
            }),
        );
        check(
            "child illegal instruction",
            in_child(|| {
                core::arch::asm!(".4byte 0xc0001073"); // csrw cycle, zero: a read-only CSR
                0
            }),
        );
        check(
            "child stack overflow",
            in_child(|| {
                // std's overflow message goes to stderr: keep it out of the compared output.
                let null = libc::open(c("/dev/null").as_ptr(), libc::O_WRONLY);
                libc::dup2(null, 2);
                #[allow(unconditional_recursion)]
                fn recurse(depth: u64) -> u64 {
                    let buffer = [depth; 64];
                    std::hint::black_box(&buffer);
                    recurse(depth + 1) + buffer[3]
                }
                recurse(0) as i32
            }),
        );

        // --- SIGPIPE ---
        check(
            "write to pipe without reader",
            in_child(|| {
                set_default(libc::SIGPIPE); // Rust's runtime starts with SIGPIPE ignored
                let fds = pipe(0);
                libc::close(fds[0]);
                libc::write(fds[1], b"x".as_ptr().cast(), 1);
                0
            }),
        );
        check(
            "write to pipe without reader, SIGPIPE ignored",
            in_child(|| {
                install(libc::SIGPIPE, libc::SIG_IGN, 0, &[]);
                let fds = pipe(0);
                libc::close(fds[0]);
                let r = libc::write(fds[1], b"x".as_ptr().cast(), 1);
                if r < 0 {
                    100 + errno()
                } else {
                    0
                }
            })
            .replace(&format!("exited {}", 100 + libc::EPIPE), "EPIPE"),
        );
        check(
            "write to pipe without reader, SIGPIPE handled",
            in_child(|| {
                install_handler(libc::SIGPIPE, 0);
                reset();
                let fds = pipe(0);
                libc::close(fds[0]);
                let r = libc::write(fds[1], b"x".as_ptr().cast(), 1);
                let e = if r < 0 { errno() } else { 0 };
                check("  handler", delivered());
                if e == libc::EPIPE {
                    1
                } else {
                    0
                }
            }),
        );

        // --- kill with signal 0 ---
        let fds = pipe(0);
        let child = spawn(|| {
            libc::close(fds[1]);
            let mut b = [0u8; 1];
            libc::read(fds[0], b.as_mut_ptr().cast(), 1);
            0
        });
        check("kill 0 live child", ok(libc::kill(child, 0) as i64));
        libc::close(fds[0]);
        libc::close(fds[1]);
        wait_text(child);
        check("kill 0 reaped child", err(libc::kill(child, 0) as i64));
        check("kill 0 init", ok(libc::kill(1, 0) as i64));

        // --- timers ---
        install_handler(libc::SIGALRM, 0);
        reset();
        let timer = libc::itimerval {
            it_interval: libc::timeval {
                tv_sec: 0,
                tv_usec: 0,
            },
            it_value: libc::timeval {
                tv_sec: 0,
                tv_usec: 30_000,
            },
        };
        let armed = libc::setitimer(libc::ITIMER_REAL, &timer, null_mut());
        check("setitimer REAL 30ms", ok(armed as i64));
        // Without a timer, pause would never return.
        check(
            "pause until SIGALRM",
            if armed == 0 {
                err(libc::pause() as i64)
            } else {
                "skipped".into()
            },
        );
        check("SIGALRM delivered", delivered());
        reset();
        check("alarm returns 0 when none pending", libc::alarm(5));
        check("alarm returns remaining", libc::alarm(0) > 0);
        check(
            "default SIGALRM kills",
            in_child(|| {
                set_default(libc::SIGALRM);
                if libc::setitimer(libc::ITIMER_REAL, &timer, null_mut()) < 0 {
                    return 100 + errno();
                }
                sleep_ms(2000);
                0
            }),
        );
    }
    check("done", "ok");
}
