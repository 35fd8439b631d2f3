//! abi-process: process system calls — fork/vfork/wait4/waitid statuses, execve (and its
//! errors), process groups and sessions, kill, rlimits, rusage, uname, sysinfo, getrandom.
//!
//! Every line is a stable fact (relations, never pids); the exit status is 0 whatever the
//! checks show.

#[path = "../../abi-common/abi_common.rs"]
mod common;

use common::*;
use std::ffi::CStr;
use std::ptr::null;

const DIR: &str = "/tmp/abi-process";

/// execve of `path` with `args` and `env` in a child; the child exits 100 + errno's
/// number when execve fails. Returns how it ended.
fn exec_child(path: &str, args: &[&str], env: &[&str]) -> String {
    let path = c(path);
    let args: Vec<_> = args.iter().map(|a| c(a)).collect();
    let env: Vec<_> = env.iter().map(|a| c(a)).collect();
    let mut argv: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    argv.push(null());
    let mut envp: Vec<*const libc::c_char> = env.iter().map(|a| a.as_ptr()).collect();
    envp.push(null());
    in_child(|| {
        // SAFETY: NULL-terminated arrays of live C strings.
        unsafe { libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
        100 + errno()
    })
}

/// The errno of a failed execve, done in a child (`ok` if it ran and exited 0).
fn exec_errno(path: &str) -> String {
    let text = exec_child(path, &[path], &[]);
    match text
        .strip_prefix("exited ")
        .and_then(|n| n.parse::<i32>().ok())
    {
        Some(0) => "ok".into(),
        Some(code) if code > 100 => errno_name(code - 100),
        _ => text,
    }
}

/// Runs `body` in a vfork child (clone(CLONE_VM | CLONE_VFORK | SIGCHLD) on a stack of
/// its own, which `_exit`s with the body's value); returns the child's pid once the
/// child has exited or exec'd.
unsafe fn vfork_run(body: &dyn Fn() -> i32) -> libc::pid_t {
    extern "C" fn trampoline(arg: *mut libc::c_void) -> libc::c_int {
        // SAFETY: `arg` is the `&&dyn Fn` passed below, alive while the parent is suspended.
        let body = unsafe { &*(arg as *const &dyn Fn() -> i32) };
        let code = body();
        // SAFETY: ends the child without touching the shared memory further.
        unsafe { libc::_exit(code) }
    }
    let mut stack = vec![0u8; 64 * 1024];
    let top = stack.as_mut_ptr().add(stack.len());
    let arg = &body as *const &dyn Fn() -> i32 as *mut libc::c_void;
    libc::clone(
        trampoline,
        top.cast(),
        libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
        arg,
    )
}

fn write_file(path: &str, text: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn main() {
    scratch_dir(DIR);
    // SAFETY (whole program): the libc calls get live buffers and C strings of the right
    // types; children only run code that ends in _exit or execve.
    unsafe {
        let me = libc::getpid();
        check("getpid > 1", me > 1);
        check("getppid >= 1", libc::getppid() >= 1);
        check("gettid == getpid", libc::gettid() == me);
        check(
            "getuid geteuid getgid getegid",
            format!(
                "{} {} {} {}",
                libc::getuid(),
                libc::geteuid(),
                libc::getgid(),
                libc::getegid()
            ),
        );

        // --- fork and exit statuses ---
        check("child exit 0", in_child(|| 0));
        check("child exit 3", in_child(|| 3));
        check("child exit 255", in_child(|| 255));
        check("child exit 256 wraps", in_child(|| 256));
        check(
            "child killed by SIGKILL",
            in_child(|| {
                libc::kill(libc::getpid(), libc::SIGKILL);
                0
            }),
        );
        check(
            "child killed by SIGTERM",
            in_child(|| {
                libc::raise(libc::SIGTERM);
                0
            }),
        );
        check(
            "child abort",
            in_child(|| {
                libc::abort();
            }),
        );
        check(
            "child getppid is parent",
            in_child(move || (libc::getppid() == me) as i32),
        );
        check(
            "child pid differs",
            in_child(move || (libc::getpid() != me) as i32),
        );
        check("fork copies memory", {
            let mut value = 5;
            let pid = spawn(|| {
                value = 6;
                (value == 6) as i32
            });
            let child = wait_text(pid);
            format!("{child}, parent still sees {value}")
        });
        check("status bits via wait4", {
            let pid = spawn(|| 42);
            let mut status = 0;
            let mut usage: libc::rusage = std::mem::zeroed();
            let r = libc::wait4(pid, &mut status, 0, &mut usage);
            format!(
                "returned pid {} WIFEXITED {} WEXITSTATUS {} raw {:#x}",
                r == pid,
                libc::WIFEXITED(status),
                libc::WEXITSTATUS(status),
                status
            )
        });
        check("status bits of SIGKILL", {
            let pid = spawn(|| {
                libc::kill(libc::getpid(), libc::SIGKILL);
                0
            });
            let mut status = 0;
            libc::waitpid(pid, &mut status, 0);
            format!(
                "WIFSIGNALED {} WTERMSIG {} raw {:#x}",
                libc::WIFSIGNALED(status),
                libc::WTERMSIG(status),
                status
            )
        });
        check(
            "wait4 no children",
            err(libc::wait4(-1, null::<i32>() as *mut i32, 0, std::ptr::null_mut()) as i64),
        );
        check(
            "waitpid non-child",
            err(libc::waitpid(1, std::ptr::null_mut(), 0) as i64),
        );
        check(
            "wait4 bad options",
            err(libc::wait4(-1, std::ptr::null_mut(), 0x4000_0000, std::ptr::null_mut()) as i64),
        );
        check("WNOHANG while child runs", {
            let fds = pipe(0);
            let pid = spawn(|| {
                libc::close(fds[1]);
                let mut b = [0u8; 1];
                libc::read(fds[0], b.as_mut_ptr().cast(), 1);
                9
            });
            libc::close(fds[0]);
            let r = libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG);
            libc::close(fds[1]);
            format!("{} then {}", val(r as i64), wait_text(pid))
        });
        check("waitpid picks the given child", {
            let fds = pipe(0);
            let first = spawn(|| {
                libc::close(fds[1]);
                let mut b = [0u8; 1];
                libc::read(fds[0], b.as_mut_ptr().cast(), 1);
                1
            });
            let second = spawn(|| 2);
            let text = wait_text(second);
            libc::close(fds[0]);
            libc::close(fds[1]);
            format!("{text}, then {}", wait_text(first))
        });
        check("wait any returns the exited child", {
            let pid = spawn(|| 4);
            let mut status = 0;
            let r = libc::wait(&mut status);
            format!("{} {}", r == pid, status_text(status))
        });
        check("bad status pointer", {
            let pid = spawn(|| 0);
            let r = libc::waitpid(pid, 0x10 as *mut i32, 0);
            let e = err(r as i64);
            libc::waitpid(pid, std::ptr::null_mut(), 0);
            e
        });
        check("waitid P_PID WEXITED", {
            let pid = spawn(|| 12);
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let r = libc::waitid(libc::P_PID, pid as u32, &mut info, libc::WEXITED);
            format!(
                "{} signo {} code CLD_EXITED {} status {} pid match {}",
                ok(r as i64),
                signal_name(info.si_signo),
                info.si_code == libc::CLD_EXITED,
                info.si_status(),
                info.si_pid() == pid
            )
        });
        check("waitid killed", {
            let pid = spawn(|| {
                libc::raise(libc::SIGUSR1);
                0
            });
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let r = libc::waitid(libc::P_PID, pid as u32, &mut info, libc::WEXITED);
            format!(
                "{} code CLD_KILLED {} status {}",
                ok(r as i64),
                info.si_code == libc::CLD_KILLED,
                signal_name(info.si_status())
            )
        });
        check("waitid WNOWAIT leaves a zombie", {
            let pid = spawn(|| 13);
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let r = libc::waitid(
                libc::P_PID,
                pid as u32,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            );
            format!(
                "{} status {}; then {}",
                ok(r as i64),
                info.si_status(),
                wait_text(pid)
            )
        });
        check(
            "waitid no options",
            err(libc::waitid(libc::P_ALL, 0, &mut std::mem::zeroed(), 0) as i64),
        );
        check("zombie still exists for kill 0", {
            let pid = spawn(|| 0);
            let mut info: libc::siginfo_t = std::mem::zeroed();
            libc::waitid(
                libc::P_PID,
                pid as u32,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            );
            let before = ok(libc::kill(pid, 0) as i64);
            libc::waitpid(pid, std::ptr::null_mut(), 0);
            let after = err(libc::kill(pid, 0) as i64);
            format!("before reap {before}, after reap {after}")
        });
        check("orphan reparented to init", {
            let fds = pipe(0);
            let pid = spawn(|| {
                spawn(|| {
                    // Wait for the middle process to exit, then report the new parent.
                    let parent = libc::getppid();
                    let mut tries = 0;
                    while libc::getppid() == parent && tries < 2000 {
                        sleep_ms(1);
                        tries += 1;
                    }
                    let byte = [(libc::getppid() == 1) as u8];
                    libc::write(fds[1], byte.as_ptr().cast(), 1);
                    0
                });
                0
            });
            wait_text(pid);
            libc::close(fds[1]);
            let mut b = [9u8; 1];
            libc::read(fds[0], b.as_mut_ptr().cast(), 1);
            libc::close(fds[0]);
            format!("getppid == 1: {}", b[0] == 1)
        });

        // --- execve ---
        check(
            "execve busybox echo",
            exec_child("/bin/busybox", &["busybox", "echo", "hello from exec"], &[]),
        );
        check(
            "execve argv and envp",
            exec_child(
                "/bin/busybox",
                &["sh", "-c", "echo \"argv1=$0 FOO=$FOO\"", "zero"],
                &["FOO=bar baz"],
            ),
        );
        check("execve keeps pid", {
            let path = c("/bin/busybox");
            let args = [c("sh"), c("-c"), c("exit $(( $$ % 256 ))")];
            let argv = [args[0].as_ptr(), args[1].as_ptr(), args[2].as_ptr(), null()];
            let pid = spawn(|| {
                libc::execve(path.as_ptr(), argv.as_ptr(), [null()].as_ptr());
                127
            });
            let text = wait_text(pid);
            text == format!("exited {}", pid % 256)
        });
        check("execve missing", exec_errno(&format!("{DIR}/missing")));
        check("execve directory", exec_errno(DIR));
        write_file(&format!("{DIR}/plain"), "just text\n", 0o644);
        check(
            "execve non-executable file",
            exec_errno(&format!("{DIR}/plain")),
        );
        write_file(
            &format!("{DIR}/garbage"),
            "\x01\x02\x03 not an ELF\n",
            0o755,
        );
        check(
            "execve garbage with x bit",
            exec_errno(&format!("{DIR}/garbage")),
        );
        write_file(
            &format!("{DIR}/script"),
            "#!/bin/busybox sh\necho \"script got: $1 $2\"\nexit 5\n",
            0o755,
        );
        check(
            "execve #! script",
            exec_child(&format!("{DIR}/script"), &["script", "a", "b"], &[]),
        );
        write_file(
            &format!("{DIR}/script2"),
            "#!/bin/busybox echo interp-arg\n",
            0o755,
        );
        check(
            "execve #! argument with a space is one word",
            exec_child(&format!("{DIR}/script2"), &["script2", "x"], &[]).replace(DIR, "DIR"),
        );
        write_file(&format!("{DIR}/script3"), "#!/bin/busybox echo\n", 0o755);
        check(
            "execve #! interpreter gets script path",
            exec_child(&format!("{DIR}/script3"), &["script3", "x"], &[]).replace(DIR, "DIR"),
        );
        write_file(
            &format!("{DIR}/badinterp"),
            "#!/nonexistent/interp\n",
            0o755,
        );
        check(
            "execve #! missing interpreter",
            exec_errno(&format!("{DIR}/badinterp")),
        );
        check(
            "execve through missing dir",
            exec_errno(&format!("{DIR}/plain/x")),
        );
        check(
            "execve bad path pointer",
            in_child(|| {
                libc::execve(
                    0x10 as *const libc::c_char,
                    [null()].as_ptr(),
                    [null()].as_ptr(),
                );
                100 + errno()
            })
            .replace("exited 114", "EFAULT"),
        );
        check("execve closes O_CLOEXEC fds", {
            let keep = libc::open(c("/dev/null").as_ptr(), libc::O_RDONLY);
            let gone = libc::open(c("/dev/null").as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
            libc::dup2(keep, 20);
            libc::dup2(gone, 21);
            libc::fcntl(21, libc::F_SETFD, libc::FD_CLOEXEC);
            let text = exec_child(
                "/bin/busybox",
                &["sh", "-c", "(: <&20) 2>/dev/null && echo fd20 open || echo fd20 closed; (: <&21) 2>/dev/null && echo fd21 open || echo fd21 closed"],
                &[],
            );
            libc::close(keep);
            libc::close(gone);
            libc::close(20);
            libc::close(21);
            text
        });
        check(
            "std Command output",
            match std::process::Command::new("/bin/busybox")
                .args(["echo", "spawned"])
                .output()
            {
                Ok(output) => format!(
                    "{:?} {}",
                    String::from_utf8_lossy(&output.stdout),
                    output.status
                ),
                Err(e) => errno_name(e.raw_os_error().unwrap_or(0)),
            },
        );

        // --- process groups and sessions ---
        check("getpgid(0) == getpgrp", libc::getpgid(0) == libc::getpgrp());
        check("getsid(0) == 0 (init's session)", libc::getsid(0) == 0);
        check("getpgid missing pid", err(libc::getpgid(999_999) as i64));
        check("getsid missing pid", err(libc::getsid(999_999) as i64));
        check(
            "setpgid(0,0) in child",
            in_child(|| {
                let r = libc::setpgid(0, 0);
                (r == 0 && libc::getpgid(0) == libc::getpid()) as i32
            }),
        );
        check("setpgid non-child", err(libc::setpgid(1, 1) as i64));
        check("setpgid negative pgid", err(libc::setpgid(0, -1) as i64));
        check(
            "setpgid to missing group",
            in_child(|| {
                let r = libc::setpgid(0, 999_999);
                if r < 0 {
                    100 + errno()
                } else {
                    0
                }
            })
            .replace("exited 101", "EPERM"),
        );
        check(
            "setsid in child",
            in_child(|| {
                let sid = libc::setsid();
                let me = libc::getpid();
                let again = libc::setsid();
                let again_errno = errno();
                ((sid == me) as i32)
                    | (((libc::getsid(0) == me) as i32) << 1)
                    | (((libc::getpgid(0) == me) as i32) << 2)
                    | (((again < 0 && again_errno == libc::EPERM) as i32) << 3)
            }),
        );
        check(
            "setsid as group leader",
            in_child(|| {
                libc::setpgid(0, 0);
                let r = libc::setsid();
                if r < 0 {
                    100 + errno()
                } else {
                    0
                }
            })
            .replace("exited 101", "EPERM"),
        );
        check("setpgid of child after exec", {
            let pid = spawn(|| {
                let args = [c("sh"), c("-c"), c("sleep 1")];
                let argv = [args[0].as_ptr(), args[1].as_ptr(), args[2].as_ptr(), null()];
                libc::execve(c("/bin/busybox").as_ptr(), argv.as_ptr(), [null()].as_ptr());
                127
            });
            sleep_ms(200);
            let r = err(libc::setpgid(pid, pid) as i64);
            libc::kill(pid, libc::SIGKILL);
            wait_text(pid);
            r
        });
        check("kill process group", {
            let fds = pipe(0);
            let first = spawn(|| {
                libc::setpgid(0, 0);
                libc::close(fds[1]);
                let mut b = [0u8; 1];
                libc::read(fds[0], b.as_mut_ptr().cast(), 1);
                libc::pause();
                0
            });
            libc::setpgid(first, first);
            let second = spawn(|| {
                libc::setpgid(0, first);
                libc::close(fds[1]);
                let mut b = [0u8; 1];
                libc::read(fds[0], b.as_mut_ptr().cast(), 1);
                libc::pause();
                0
            });
            libc::setpgid(second, first);
            let same = libc::getpgid(second) == first;
            let r = libc::kill(-first, libc::SIGTERM);
            libc::close(fds[0]);
            libc::close(fds[1]);
            format!(
                "same group {same}, kill {}, {}, {}",
                ok(r as i64),
                wait_text(first),
                wait_text(second)
            )
        });
        check(
            "kill missing pid",
            err(libc::kill(999_999, libc::SIGTERM) as i64),
        );
        check("kill bad signal", err(libc::kill(me, 1000) as i64));
        check("kill self signal 0", ok(libc::kill(me, 0) as i64));
        check(
            "kill missing group",
            err(libc::kill(-999_999, libc::SIGTERM) as i64),
        );

        // --- rlimits ---
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        check(
            "getrlimit NOFILE",
            ok(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) as i64),
        );
        check("NOFILE soft <= hard", limit.rlim_cur <= limit.rlim_max);
        check("getrlimit STACK", {
            let mut stack = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            let r = libc::getrlimit(libc::RLIMIT_STACK, &mut stack);
            format!("{} soft {}", ok(r as i64), stack.rlim_cur)
        });
        check(
            "getrlimit bad resource",
            err(libc::getrlimit(99, &mut limit) as i64),
        );
        check(
            "getrlimit bad pointer",
            err(libc::getrlimit(libc::RLIMIT_NOFILE, 0x10 as *mut libc::rlimit) as i64),
        );
        check(
            "rlimit NOFILE in child",
            in_child(|| {
                let small = libc::rlimit {
                    rlim_cur: 16,
                    rlim_max: 64,
                };
                let mut report = String::new();
                report += &format!(
                    "setrlimit {}",
                    ok(libc::setrlimit(libc::RLIMIT_NOFILE, &small) as i64)
                );
                let mut back = libc::rlimit {
                    rlim_cur: 0,
                    rlim_max: 0,
                };
                libc::getrlimit(libc::RLIMIT_NOFILE, &mut back);
                report += &format!(", read back {} {}", back.rlim_cur, back.rlim_max);
                let mut highest = -1;
                let mut last_errno = 0;
                for _ in 0..40 {
                    let fd = libc::open(c("/dev/null").as_ptr(), libc::O_RDONLY);
                    if fd < 0 {
                        last_errno = errno();
                        break;
                    }
                    highest = fd;
                }
                report += &format!(", highest fd {highest}, then {}", errno_name(last_errno));
                report += &format!(", dup2 to 16 {}", err(libc::dup2(0, 16) as i64));
                report += &format!(
                    ", F_DUPFD 16 {}",
                    err(libc::fcntl(0, libc::F_DUPFD, 16) as i64)
                );
                let over = libc::rlimit {
                    rlim_cur: 100,
                    rlim_max: 64,
                };
                report += &format!(
                    ", soft > hard {}",
                    err(libc::setrlimit(libc::RLIMIT_NOFILE, &over) as i64)
                );
                let mut old = libc::rlimit {
                    rlim_cur: 0,
                    rlim_max: 0,
                };
                let newer = libc::rlimit {
                    rlim_cur: 32,
                    rlim_max: 64,
                };
                let r = libc::prlimit(0, libc::RLIMIT_NOFILE, &newer, &mut old);
                report += &format!(
                    ", prlimit64 {} old {} {}",
                    ok(r as i64),
                    old.rlim_cur,
                    old.rlim_max
                );
                libc::getrlimit(libc::RLIMIT_NOFILE, &mut back);
                report += &format!(", now {} {}", back.rlim_cur, back.rlim_max);
                check("rlimit NOFILE details", report);
                0
            }),
        );
        check(
            "prlimit64 other missing pid",
            err(libc::prlimit(999_999, libc::RLIMIT_NOFILE, null(), &mut limit) as i64),
        );
        check("prlimit64 of child", {
            let fds = pipe(0);
            let pid = spawn(|| {
                libc::close(fds[1]);
                let mut b = [0u8; 1];
                libc::read(fds[0], b.as_mut_ptr().cast(), 1);
                let mut l = libc::rlimit {
                    rlim_cur: 0,
                    rlim_max: 0,
                };
                libc::getrlimit(libc::RLIMIT_NOFILE, &mut l);
                (l.rlim_cur == 48) as i32
            });
            let newer = libc::rlimit {
                rlim_cur: 48,
                rlim_max: limit.rlim_max,
            };
            let r = libc::prlimit(pid, libc::RLIMIT_NOFILE, &newer, std::ptr::null_mut());
            libc::close(fds[0]);
            libc::close(fds[1]);
            format!("{}, child saw it: {}", ok(r as i64), wait_text(pid))
        });

        // --- rusage, uname, sysinfo, getrandom, prctl ---
        let mut usage: libc::rusage = std::mem::zeroed();
        check(
            "getrusage SELF",
            ok(libc::getrusage(libc::RUSAGE_SELF, &mut usage) as i64),
        );
        check(
            "getrusage CHILDREN",
            ok(libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) as i64),
        );
        check(
            "getrusage THREAD",
            ok(libc::getrusage(libc::RUSAGE_THREAD, &mut usage) as i64),
        );
        check(
            "getrusage bad who",
            err(libc::getrusage(7, &mut usage) as i64),
        );
        check(
            "getrusage bad pointer",
            err(libc::getrusage(libc::RUSAGE_SELF, 0x10 as *mut libc::rusage) as i64),
        );
        let mut names: libc::utsname = std::mem::zeroed();
        check("uname", ok(libc::uname(&mut names) as i64));
        let field = |bytes: &[libc::c_char]| {
            CStr::from_ptr(bytes.as_ptr())
                .to_string_lossy()
                .into_owned()
        };
        check("uname sysname", field(&names.sysname));
        check("uname machine", field(&names.machine));
        check("uname nodename", field(&names.nodename));
        check(
            "uname release starts with a digit",
            field(&names.release).starts_with(|ch: char| ch.is_ascii_digit()),
        );
        check("uname version not empty", !field(&names.version).is_empty());
        check(
            "uname bad pointer",
            err(libc::uname(0x10 as *mut libc::utsname) as i64),
        );
        let mut info: libc::sysinfo = std::mem::zeroed();
        check("sysinfo", ok(libc::sysinfo(&mut info) as i64));
        check("sysinfo totalram > 0", info.totalram > 0);
        check("sysinfo freeram <= totalram", info.freeram <= info.totalram);
        check("sysinfo mem_unit >= 1", info.mem_unit >= 1);
        check("sysinfo procs >= 2", info.procs >= 2);
        check("sysinfo uptime < 1 day", info.uptime < 86_400);
        check(
            "sysinfo bad pointer",
            err(libc::sysinfo(0x10 as *mut libc::sysinfo) as i64),
        );
        let mut random = [0u8; 64];
        check(
            "getrandom 64",
            val(libc::getrandom(random.as_mut_ptr().cast(), 64, 0) as i64),
        );
        let mut random2 = [0u8; 64];
        libc::getrandom(random2.as_mut_ptr().cast(), 64, libc::GRND_NONBLOCK);
        check("getrandom differs between calls", random != random2);
        check(
            "getrandom GRND_NONBLOCK",
            val(libc::getrandom(random.as_mut_ptr().cast(), 16, libc::GRND_NONBLOCK) as i64),
        );
        check(
            "getrandom bad flags",
            err(libc::getrandom(random.as_mut_ptr().cast(), 16, 0x100) as i64),
        );
        check(
            "getrandom bad pointer",
            err(libc::getrandom(0x10 as *mut libc::c_void, 16, 0) as i64),
        );
        check("prctl PR_SET_NAME/PR_GET_NAME", {
            let r = libc::prctl(libc::PR_SET_NAME, c("abi-renamed").as_ptr());
            let mut name = [0u8; 16];
            libc::prctl(libc::PR_GET_NAME, name.as_mut_ptr());
            format!(
                "{} {:?}",
                ok(r as i64),
                CStr::from_ptr(name.as_ptr().cast()).to_string_lossy()
            )
        });
        check(
            "/proc/self/comm after PR_SET_NAME",
            std::fs::read_to_string("/proc/self/comm").map_or_else(
                |e| errno_name(e.raw_os_error().unwrap_or(0)),
                |s| format!("{:?}", s),
            ),
        );
        // --- vfork: clone(CLONE_VM|CLONE_VFORK) on a stack of its own; last, as a kernel that
        // gets it wrong may take the process down ---
        check("vfork + execve", {
            let path = c("/bin/busybox");
            let args = [c("busybox"), c("echo"), c("hello from vfork exec")];
            let argv = [args[0].as_ptr(), args[1].as_ptr(), args[2].as_ptr(), null()];
            let envp = [null()];
            let pid = vfork_run(&|| {
                libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr());
                127
            });
            wait_text(pid)
        });
        check("vfork child _exit", {
            let shared = std::cell::Cell::new(0);
            let pid = vfork_run(&|| {
                std::ptr::write_volatile(shared.as_ptr(), 7);
                7
            });
            let text = wait_text(pid);
            format!(
                "{text}, parent sees child's write: {}",
                std::ptr::read_volatile(shared.as_ptr()) == 7
            )
        });
        check(
            "std Command missing (posix_spawn: CLONE_VM|CLONE_VFORK child _exits)",
            match std::process::Command::new("/nonexistent").status() {
                Ok(status) => format!("ran: {status}"),
                Err(e) => errno_name(e.raw_os_error().unwrap_or(0)),
            },
        );
    }
    // A futex word in MAP_SHARED memory is the same futex in parent and child
    // (no FUTEX_PRIVATE_FLAG): the child waits, the parent's wake must reach it.
    // SAFETY: one anonymous shared page, used only as a u32 futex word, then unmapped.
    check("shared futex across fork", unsafe {
        let word = libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_ANONYMOUS,
            -1,
            0,
        ) as *mut u32;
        let pid = spawn(|| {
            let timeout = libc::timespec { tv_sec: 5, tv_nsec: 0 };
            while std::ptr::read_volatile(word) == 0 {
                let result = libc::syscall(libc::SYS_futex, word, libc::FUTEX_WAIT, 0, &timeout, 0, 0);
                if result < 0 && errno() == libc::ETIMEDOUT {
                    return 1;
                }
            }
            0
        });
        sleep_ms(50);
        std::ptr::write_volatile(word, 1);
        libc::syscall(libc::SYS_futex, word, libc::FUTEX_WAKE, 1, 0, 0, 0);
        let text = wait_text(pid);
        libc::munmap(word.cast(), 4096);
        text
    });
    check(
        "cleanup",
        match std::fs::remove_dir_all(DIR) {
            Ok(()) => "ok".to_string(),
            Err(e) => errno_name(e.raw_os_error().unwrap_or(0)),
        },
    );
    check("done", "ok");
}
