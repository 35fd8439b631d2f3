//! System calls: the Linux riscv64 ABI, one `async fn` per call, grouped by family.
//!
//! [`dispatch`] decodes `a7` and the arguments and awaits the handler: a call that has
//! to wait (a pipe read, wait4, nanosleep, a futex) returns `Pending` and the hart runs
//! other tasks until a waker brings this thread back. A blocked call gives up with
//! `ERESTARTSYS` when a signal arrives; the thread's loop then restarts it or returns
//! `EINTR` as Linux would. Unknown calls return `ENOSYS` and are logged once per number.

pub mod fs;
pub mod futex;
pub mod memory;
pub mod misc;
pub mod process;
pub mod signal;
pub mod time;

use alloc::sync::Arc;
use core::future::Future;
use core::pin::{pin, Pin};

use alloc::boxed::Box;
use core::sync::atomic::{AtomicU64, Ordering};
use core::task::Poll;

use abi::syscall as nr;
use abi::{Errno, Result};
use arch::user::UserContext;

use crate::process::Thread;

/// Which unknown system-call numbers were already logged (one bit per number < 512).
static LOGGED_UNKNOWN: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];
/// System calls handled so far (for benchmarks).
pub static SYSCALLS: AtomicU64 = AtomicU64::new(0);

fn unknown(number: usize) -> Result<usize> {
    let word = number / 64;
    let first_time = match LOGGED_UNKNOWN.get(word) {
        Some(bits) => bits.fetch_or(1 << (number % 64), Ordering::Relaxed) & (1 << (number % 64)) == 0,
        None => true,
    };
    if first_time {
        log::warn!("unknown system call {number} ({}): ENOSYS", nr::name(number).unwrap_or("no such call"));
    }
    Err(Errno::ENOSYS)
}

/// Runs `future`, giving up with ERESTARTSYS if a signal becomes deliverable while it
/// waits (the future is dropped, which cancels what it waited for).
pub async fn interruptible<T>(future: impl Future<Output = Result<T>>) -> Result<T> {
    let mut future = pin!(future);
    core::future::poll_fn(|cx| match future.as_mut().poll(cx) {
        Poll::Ready(result) => Poll::Ready(result),
        Poll::Pending if crate::process::current_has_pending_signal() => Poll::Ready(Err(Errno::ERESTARTSYS)),
        Poll::Pending => Poll::Pending,
    })
    .await
}

/// The outcome of decoding a system call: most complete at once; those that may wait
/// return their future, boxed, so a thread's task stays small when it runs and a
/// blocked thread costs only the state of the one call it waits in.
pub enum Dispatch<'a> {
    /// Finished.
    Done(Result<usize>),
    /// Must be awaited.
    Wait(Pin<Box<dyn Future<Output = Result<usize>> + Send + 'a>>),
}

fn wait<'a>(future: impl Future<Output = Result<usize>> + Send + 'a) -> Dispatch<'a> {
    Dispatch::Wait(Box::pin(future))
}

/// Handles the system call in `context` for `thread`.
///
/// A call that may reach a disk file system runs on a coroutine stack (see
/// `crate::coroutine`): its synchronous parts may then wait for disk blocks. Others run
/// directly; if one of them reaches a disk file system after all, the file system answers
/// `ERESTART_ON_STACK` before changing anything and the call runs again on a stack.
pub async fn dispatch(thread: &Arc<Thread>, context: &mut UserContext) -> Result<usize> {
    if crate::fs::disk_file_systems_mounted() && may_touch_disk(context.syscall_number()) {
        return dispatch_on_stack(thread, context).await;
    }
    let result = match decode(thread, context) {
        Dispatch::Done(result) => result,
        Dispatch::Wait(future) => future.await,
    };
    if result == Err(Errno::ERESTART_ON_STACK) {
        return dispatch_on_stack(thread, context).await;
    }
    result
}

/// Runs the system call on a coroutine stack.
async fn dispatch_on_stack(thread: &Arc<Thread>, context: &mut UserContext) -> Result<usize> {
    ON_STACK.fetch_add(1, Ordering::Relaxed);
    let result = crate::coroutine::OnStack::new(|| match decode(thread, context) {
        Dispatch::Done(result) => result,
        Dispatch::Wait(future) => crate::coroutine::block_on(future).unwrap_or(Err(Errno::EIO)),
    })
    .await;
    if result == Err(Errno::ERESTART_ON_STACK) {
        log::error!("system call {} asked for a stack while on one: EIO", nr::name(context.syscall_number()).unwrap_or("?"));
        return Err(Errno::EIO);
    }
    result
}

/// System calls run on a coroutine stack so far (for benchmarks).
pub static ON_STACK: AtomicU64 = AtomicU64::new(0);

/// Calls that resolve paths or do file-system work (reads and writes of files are not
/// listed: they restart on a stack only when they reach a disk file system).
fn may_touch_disk(number: usize) -> bool {
    matches!(
        number,
        nr::GETCWD
            | nr::MKNODAT
            | nr::MKDIRAT
            | nr::UNLINKAT
            | nr::SYMLINKAT
            | nr::LINKAT
            | nr::RENAMEAT2
            | nr::UMOUNT2
            | nr::MOUNT
            | nr::STATFS
            | nr::FSTATFS
            | nr::TRUNCATE
            | nr::FTRUNCATE
            | nr::FACCESSAT
            | nr::FACCESSAT2
            | nr::CHDIR
            | nr::CHROOT
            | nr::FCHMOD
            | nr::FCHMODAT
            | nr::FCHOWNAT
            | nr::FCHOWN
            | nr::OPENAT
            | nr::GETDENTS64
            | nr::READLINKAT
            | nr::NEWFSTATAT
            | nr::FSTAT
            | nr::STATX
            | nr::UTIMENSAT
            | nr::EXECVE
            | nr::FSYNC
            | nr::FDATASYNC
            | nr::SYNC
            | nr::SYNCFS
            | nr::REBOOT
    )
}

/// Decodes and runs the system call in `context`; see [`Dispatch`].
pub fn decode<'a>(thread: &'a Arc<Thread>, context: &mut UserContext) -> Dispatch<'a> {
    SYSCALLS.fetch_add(1, Ordering::Relaxed);
    let number = context.syscall_number();
    let a = context.syscall_args();
    log::trace!("pid {} syscall {} {:x?}", thread.process.pid, nr::name(number).unwrap_or("?"), a);
    let result = match number {
        // files
        nr::GETCWD => fs::getcwd(thread, a[0], a[1]),
        nr::DUP => fs::dup(thread, a[0] as i32),
        nr::DUP3 => fs::dup3(thread, a[0] as i32, a[1] as i32, a[2] as u32),
        nr::FCNTL => fs::fcntl(thread, a[0] as i32, a[1] as u32, a[2]),
        nr::IOCTL => fs::ioctl(thread, a[0] as i32, a[1] as u32, a[2]),
        nr::MKNODAT => fs::mknodat(thread, a[0] as i32, a[1], a[2] as u32, a[3] as u64),
        nr::MKDIRAT => fs::mkdirat(thread, a[0] as i32, a[1], a[2] as u32),
        nr::UNLINKAT => fs::unlinkat(thread, a[0] as i32, a[1], a[2] as u32),
        nr::SYMLINKAT => fs::symlinkat(thread, a[0], a[1] as i32, a[2]),
        nr::LINKAT => fs::linkat(thread, a[0] as i32, a[1], a[2] as i32, a[3], a[4] as u32),
        nr::RENAMEAT2 => fs::renameat2(thread, a[0] as i32, a[1], a[2] as i32, a[3], a[4] as u32),
        nr::UMOUNT2 => fs::umount2(thread, a[0], a[1] as u32),
        nr::MOUNT => fs::mount(thread, a[0], a[1], a[2], a[3] as u64, a[4]),
        nr::STATFS => fs::statfs(thread, a[0], a[1]),
        nr::FSTATFS => fs::fstatfs(thread, a[0] as i32, a[1]),
        nr::TRUNCATE => fs::truncate(thread, a[0], a[1] as i64),
        nr::FTRUNCATE => fs::ftruncate(thread, a[0] as i32, a[1] as i64),
        nr::FACCESSAT => fs::faccessat(thread, a[0] as i32, a[1], a[2] as u32, 0),
        nr::FACCESSAT2 => fs::faccessat(thread, a[0] as i32, a[1], a[2] as u32, a[3] as u32),
        nr::CHDIR => fs::chdir(thread, a[0]),
        nr::FCHDIR => fs::fchdir(thread, a[0] as i32),
        nr::CHROOT => fs::chroot(thread, a[0]),
        nr::FCHMOD => fs::fchmod(thread, a[0] as i32, a[1] as u32),
        nr::FCHMODAT => fs::fchmodat(thread, a[0] as i32, a[1], a[2] as u32),
        nr::FCHOWNAT => fs::fchownat(thread, a[0] as i32, a[1], a[2] as u32, a[3] as u32, a[4] as u32),
        nr::FCHOWN => fs::fchown(thread, a[0] as i32, a[1] as u32, a[2] as u32),
        nr::OPENAT => return fs::openat(thread, a[0] as i32, a[1], a[2] as u32, a[3] as u32),
        nr::CLOSE => fs::close(thread, a[0] as i32),
        nr::PIPE2 => fs::pipe2(thread, a[0], a[1] as u32),
        nr::GETDENTS64 => fs::getdents64(thread, a[0] as i32, a[1], a[2]),
        nr::LSEEK => fs::lseek(thread, a[0] as i32, a[1] as i64, a[2] as u32),
        nr::READ => match fs::read_now(thread, a[0] as i32, a[1], a[2]) {
            Some(result) => result,
            None => return wait(fs::read(thread, a[0] as i32, a[1], a[2])),
        },
        nr::WRITE => match fs::write_now(thread, a[0] as i32, a[1], a[2]) {
            Some(result) => result,
            None => return wait(fs::write(thread, a[0] as i32, a[1], a[2])),
        },
        nr::READV => return wait(fs::readv(thread, a[0] as i32, a[1], a[2])),
        nr::WRITEV => return wait(fs::writev(thread, a[0] as i32, a[1], a[2])),
        nr::PREAD64 => return wait(fs::pread(thread, a[0] as i32, a[1], a[2], a[3] as i64)),
        nr::PWRITE64 => return wait(fs::pwrite(thread, a[0] as i32, a[1], a[2], a[3] as i64)),
        nr::PREADV => return wait(fs::preadv(thread, a[0] as i32, a[1], a[2], a[3] as i64)),
        nr::PWRITEV => return wait(fs::pwritev(thread, a[0] as i32, a[1], a[2], a[3] as i64)),
        nr::SOCKETPAIR => fs::socketpair(thread, a[0] as u32, a[1] as u32, a[2] as u32, a[3]),
        nr::EVENTFD2 => fs::eventfd2(thread, a[0] as u32, a[1] as u32),
        nr::EPOLL_CREATE1 => fs::epoll_create1(thread, a[0] as u32),
        nr::EPOLL_CTL => fs::epoll_ctl(thread, a[0] as i32, a[1] as u32, a[2] as i32, a[3]),
        nr::EPOLL_PWAIT => return wait(fs::epoll_pwait(thread, a[0] as i32, a[1], a[2] as i32, a[3] as i32, a[4], a[5])),
        nr::SENDFILE => return wait(fs::sendfile(thread, a[0] as i32, a[1] as i32, a[2], a[3])),
        nr::PSELECT6 => return wait(fs::pselect6(thread, a[0] as i32, a[1], a[2], a[3], a[4], a[5])),
        nr::PPOLL => return wait(fs::ppoll(thread, a[0], a[1], a[2], a[3], a[4])),
        nr::READLINKAT => fs::readlinkat(thread, a[0] as i32, a[1], a[2], a[3]),
        nr::NEWFSTATAT => fs::newfstatat(thread, a[0] as i32, a[1], a[2], a[3] as u32),
        nr::FSTAT => fs::fstat(thread, a[0] as i32, a[1]),
        nr::STATX => fs::statx(thread, a[0] as i32, a[1], a[2] as u32, a[3] as u32, a[4]),
        nr::SYNC => return wait(fs::sync_all()),
        nr::SYNCFS => {
            if let Err(error) = fs::fsync_check(thread, a[0] as i32) {
                Err(error)
            } else {
                return wait(fs::sync_all());
            }
        }
        nr::FSYNC | nr::FDATASYNC => return wait(fs::fsync(thread, a[0] as i32)),
        nr::UTIMENSAT => fs::utimensat(thread, a[0] as i32, a[1], a[2], a[3] as u32),
        nr::UMASK => fs::umask(thread, a[0] as u32),
        // processes
        nr::EXIT => process::exit(thread, a[0] as i32),
        nr::EXIT_GROUP => process::exit_group(thread, a[0] as i32),
        nr::WAITID => return wait(process::waitid(thread, a[0] as u32, a[1] as i32, a[2], a[3] as u32, a[4])),
        nr::WAIT4 => return wait(process::wait4(thread, a[0] as i32, a[1], a[2] as u32, a[3])),
        nr::SET_TID_ADDRESS => process::set_tid_address(thread, a[0]),
        nr::SET_ROBUST_LIST => process::set_robust_list(thread, a[0], a[1]),
        nr::GET_ROBUST_LIST => Err(Errno::ENOSYS),
        nr::CLONE => return wait(process::clone(thread, context.clone(), a[0] as u64, a[1], a[2], a[3], a[4])),
        nr::CLONE3 => return wait(process::clone3(thread, context.clone(), a[0], a[1])),
        nr::EXECVE => process::execve(thread, context, a[0], a[1], a[2]),
        nr::GETPID => Ok(thread.process.pid as usize),
        nr::GETPPID => Ok(thread.process.ppid() as usize),
        nr::GETTID => Ok(thread.tid as usize),
        nr::GETUID | nr::GETEUID | nr::GETGID | nr::GETEGID => Ok(0),
        nr::SETUID | nr::SETGID | nr::SETREUID | nr::SETREGID | nr::SETRESUID | nr::SETRESGID | nr::SETFSUID
        | nr::SETFSGID | nr::SETGROUPS => Ok(0),
        nr::GETRESUID | nr::GETRESGID => process::getresuid(thread, a[0], a[1], a[2]),
        nr::GETGROUPS => Ok(0),
        nr::SETPGID => process::setpgid(thread, a[0] as u32, a[1] as u32),
        nr::GETPGID => process::getpgid(thread, a[0] as u32),
        nr::GETSID => process::getsid(thread, a[0] as u32),
        nr::SETSID => process::setsid(thread),
        nr::PRLIMIT64 => process::prlimit64(thread, a[0] as u32, a[1] as u32, a[2], a[3]),
        nr::GETRLIMIT => process::prlimit64(thread, 0, a[0] as u32, 0, a[1]),
        nr::SETRLIMIT => process::prlimit64(thread, 0, a[0] as u32, a[1], 0),
        nr::GETRUSAGE => process::getrusage(thread, a[0] as i32, a[1]),
        nr::SCHED_YIELD => {
            return wait(async {
                executor::yield_now().await;
                Ok(0)
            })
        }
        nr::SCHED_GETAFFINITY => process::sched_getaffinity(thread, a[1], a[2]),
        nr::SCHED_SETAFFINITY => Ok(0),
        nr::GETPRIORITY => process::getpriority(thread, a[0] as u32, a[1] as u32),
        nr::SETPRIORITY => process::setpriority(thread, a[0] as u32, a[1] as u32, a[2] as i32),
        // memory
        nr::BRK => memory::brk(thread, a[0]),
        nr::MMAP => memory::mmap(thread, a[0], a[1], a[2] as u32, a[3] as u32, a[4] as i32, a[5]),
        nr::MUNMAP => memory::munmap(thread, a[0], a[1]),
        nr::MPROTECT => memory::mprotect(thread, a[0], a[1], a[2] as u32),
        nr::MREMAP => memory::mremap(thread, a[0], a[1], a[2], a[3] as u32, a[4]),
        nr::MADVISE => memory::madvise(thread, a[0], a[1], a[2] as u32),
        nr::MSYNC => memory::msync(thread, a[0], a[1], a[2] as u32),
        nr::MLOCK | nr::MUNLOCK => memory::check_range(thread, a[0], a[1]),
        nr::FADVISE64 => memory::fadvise64(thread, a[0] as i32, a[2] as i64, a[3] as u32),
        nr::CLOCK_SETTIME => time::clock_settime(thread, a[0] as u32, a[1]),
        // signals
        nr::KILL => signal::kill(thread, a[0] as i32, a[1] as u32),
        nr::TKILL => signal::tkill(thread, a[0] as i32, a[1] as u32),
        nr::TGKILL => signal::tgkill(thread, a[0] as i32, a[1] as i32, a[2] as u32),
        nr::SIGALTSTACK => signal::sigaltstack(thread, context, a[0], a[1]),
        nr::RT_SIGSUSPEND => return wait(signal::rt_sigsuspend(thread, a[0], a[1])),
        nr::RT_SIGACTION => signal::rt_sigaction(thread, a[0] as u32, a[1], a[2], a[3]),
        nr::RT_SIGPROCMASK => signal::rt_sigprocmask(thread, a[0] as u32, a[1], a[2], a[3]),
        nr::RT_SIGPENDING => signal::rt_sigpending(thread, a[0], a[1]),
        nr::RT_SIGTIMEDWAIT => return wait(signal::rt_sigtimedwait(thread, a[0], a[1], a[2], a[3])),
        nr::RT_SIGQUEUEINFO => signal::rt_sigqueueinfo(thread, a[0] as i32, None, a[1] as u32, a[2]),
        nr::RT_TGSIGQUEUEINFO => signal::rt_sigqueueinfo(thread, a[0] as i32, Some(a[1] as i32), a[2] as u32, a[3]),
        nr::RT_SIGRETURN => crate::process::signal::sigreturn(thread, context),
        // time
        nr::NANOSLEEP => return wait(time::nanosleep(thread, a[0], a[1])),
        nr::CLOCK_NANOSLEEP => return wait(time::clock_nanosleep(thread, a[0] as u32, a[1] as u32, a[2], a[3])),
        nr::CLOCK_GETTIME => time::clock_gettime(thread, a[0] as u32, a[1]),
        nr::CLOCK_GETRES => time::clock_getres(thread, a[0] as u32, a[1]),
        nr::GETTIMEOFDAY => time::gettimeofday(thread, a[0]),
        nr::TIMES => time::times(thread, a[0]),
        nr::TIMER_CREATE => time::timer_create(thread, a[0] as u32, a[1], a[2]),
        nr::TIMER_SETTIME => time::timer_settime(thread, a[0] as i32, a[1] as u32, a[2], a[3]),
        nr::TIMER_GETTIME => time::timer_gettime(thread, a[0] as i32, a[1]),
        nr::TIMER_GETOVERRUN => time::timer_getoverrun(thread, a[0] as i32),
        nr::TIMER_DELETE => time::timer_delete(thread, a[0] as i32),
        nr::SETITIMER => time::setitimer(thread, a[0] as u32, a[1], a[2]),
        nr::GETITIMER => time::getitimer(thread, a[0] as u32, a[1]),
        // futex
        nr::FUTEX => return wait(futex::futex(thread, a[0], a[1] as u32, a[2] as u32, a[3], a[4], a[5] as u32)),
        // the rest
        nr::UNAME => misc::uname(thread, a[0]),
        nr::SYSINFO => misc::sysinfo(thread, a[0]),
        nr::GETRANDOM => misc::getrandom(thread, a[0], a[1], a[2] as u32),
        nr::REBOOT => misc::reboot(thread, a[0] as u32, a[1] as u32, a[2] as u32),
        nr::PRCTL => misc::prctl(thread, a[0] as u32, a[1]),
        nr::GETCPU => misc::getcpu(thread, a[0], a[1]),
        number => unknown(number),
    };
    Dispatch::Done(result)
}
