//! Shared helpers of the `abi-*` test programs, included by each with
//! `#[path = "../../abi-common/abi_common.rs"] mod common;` (a file, not a crate, so every
//! workspace member stays one installable program).
//!
//! Output rule: one line per check, `name: value`, where the value is a stable fact (a
//! relation, an errno name, a field that every Linux-compatible kernel gives the same) —
//! never an address, a time or a process id. Lines go straight to fd 1 with `write(2)`, so
//! nothing sits in a user-space buffer across `fork`.

#![allow(dead_code)]

use std::ffi::CString;
use std::fmt::Display;

/// The calling thread's errno.
pub fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Sets the calling thread's errno (to tell a 0 return from a stale errno).
pub fn set_errno(value: i32) {
    // SAFETY: __errno_location returns the thread's errno slot.
    unsafe { *libc::__errno_location() = value };
}

/// The symbolic name of an errno value.
pub fn errno_name(errno: i32) -> String {
    let name = match errno {
        0 => "0",
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::ENXIO => "ENXIO",
        libc::E2BIG => "E2BIG",
        libc::ENOEXEC => "ENOEXEC",
        libc::EBADF => "EBADF",
        libc::ECHILD => "ECHILD",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::EXDEV => "EXDEV",
        libc::ENODEV => "ENODEV",
        libc::ENOTDIR => "ENOTDIR",
        libc::EISDIR => "EISDIR",
        libc::EINVAL => "EINVAL",
        libc::ENFILE => "ENFILE",
        libc::EMFILE => "EMFILE",
        libc::ENOTTY => "ENOTTY",
        libc::ETXTBSY => "ETXTBSY",
        libc::EFBIG => "EFBIG",
        libc::ENOSPC => "ENOSPC",
        libc::ESPIPE => "ESPIPE",
        libc::EROFS => "EROFS",
        libc::EMLINK => "EMLINK",
        libc::EPIPE => "EPIPE",
        libc::EDOM => "EDOM",
        libc::ERANGE => "ERANGE",
        libc::EDEADLK => "EDEADLK",
        libc::ENAMETOOLONG => "ENAMETOOLONG",
        libc::ENOSYS => "ENOSYS",
        libc::ENOTEMPTY => "ENOTEMPTY",
        libc::ELOOP => "ELOOP",
        libc::ENOTSUP => "EOPNOTSUPP",
        libc::ETIMEDOUT => "ETIMEDOUT",
        libc::EOVERFLOW => "EOVERFLOW",
        libc::ENOTSOCK => "ENOTSOCK",
        _ => return format!("errno {errno}"),
    };
    name.to_string()
}

/// Prints one check line, `name: value`.
pub fn check(name: &str, value: impl Display) {
    let line = format!("{name}: {value}\n");
    let mut rest = line.as_bytes();
    while !rest.is_empty() {
        // SAFETY: `rest` is a live byte slice.
        let written = unsafe { libc::write(1, rest.as_ptr().cast(), rest.len()) };
        if written <= 0 {
            if written < 0 && errno() == libc::EINTR {
                continue;
            }
            return;
        }
        rest = &rest[written as usize..];
    }
}

/// `ok` for a non-negative return, else the errno name.
pub fn ok(result: i64) -> String {
    if result >= 0 {
        "ok".into()
    } else {
        errno_name(errno())
    }
}

/// The value for a non-negative return, else the errno name.
pub fn val(result: i64) -> String {
    if result >= 0 {
        result.to_string()
    } else {
        errno_name(errno())
    }
}

/// The errno name when `result` is -1, else `unexpected success (VALUE)`.
pub fn err(result: i64) -> String {
    if result < 0 {
        errno_name(errno())
    } else {
        format!("unexpected success ({result})")
    }
}

/// A C string.
pub fn c(text: &str) -> CString {
    CString::new(text).unwrap()
}

/// The name of a signal.
pub fn signal_name(signal: i32) -> String {
    let name = match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGCHLD => "SIGCHLD",
        libc::SIGCONT => "SIGCONT",
        libc::SIGSTOP => "SIGSTOP",
        libc::SIGTSTP => "SIGTSTP",
        libc::SIGSYS => "SIGSYS",
        _ => return format!("signal {signal}"),
    };
    name.to_string()
}

/// A wait status in words: `exited N`, `killed by SIGX`, `stopped by SIGX`.
pub fn status_text(status: i32) -> String {
    if libc::WIFEXITED(status) {
        format!("exited {}", libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        format!("killed by {}", signal_name(libc::WTERMSIG(status)))
    } else if libc::WIFSTOPPED(status) {
        format!("stopped by {}", signal_name(libc::WSTOPSIG(status)))
    } else {
        format!("status {status:#x}")
    }
}

/// Forks; the child runs `body` and `_exit`s with its return value. Returns the child's pid.
pub fn spawn(body: impl FnOnce() -> i32) -> libc::pid_t {
    // SAFETY: the child only runs `body` and then _exit, never returns into the caller.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let code = body();
        // SAFETY: ends the child without running the parent's atexit handlers.
        unsafe { libc::_exit(code) };
    }
    assert!(pid > 0, "fork failed: {}", errno_name(errno()));
    pid
}

/// Waits for `pid` (retrying on EINTR); returns its status in words.
pub fn wait_text(pid: libc::pid_t) -> String {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a live int.
        let result = unsafe { libc::waitpid(pid, &mut status, 0) };
        if result == pid {
            return status_text(status);
        }
        if result < 0 && errno() == libc::EINTR {
            continue;
        }
        return format!("waitpid: {}", val(result as i64));
    }
}

/// Runs `body` in a child and returns how it ended.
pub fn in_child(body: impl FnOnce() -> i32) -> String {
    let pid = spawn(body);
    wait_text(pid)
}

/// A pipe `[read, write]` (with `flags` for pipe2).
pub fn pipe(flags: i32) -> [i32; 2] {
    let mut fds = [0; 2];
    // SAFETY: `fds` is a live [i32; 2].
    let result = unsafe { libc::pipe2(fds.as_mut_ptr(), flags) };
    assert_eq!(result, 0, "pipe2 failed: {}", errno_name(errno()));
    fds
}

/// Writes all of `data` to `fd`; returns false on error.
pub fn write_all(fd: i32, data: &[u8]) -> bool {
    let mut rest = data;
    while !rest.is_empty() {
        // SAFETY: `rest` is a live byte slice.
        let written = unsafe { libc::write(fd, rest.as_ptr().cast(), rest.len()) };
        if written < 0 && errno() == libc::EINTR {
            continue;
        }
        if written <= 0 {
            return false;
        }
        rest = &rest[written as usize..];
    }
    true
}

/// Reads until EOF (or error) from `fd`.
pub fn read_to_end(fd: i32) -> Vec<u8> {
    let mut data = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        // SAFETY: `buffer` is a live byte array.
        let got = unsafe { libc::read(fd, buffer.as_mut_ptr().cast(), buffer.len()) };
        if got < 0 && errno() == libc::EINTR {
            continue;
        }
        if got <= 0 {
            return data;
        }
        data.extend_from_slice(&buffer[..got as usize]);
    }
}

/// Monotonic time in nanoseconds.
pub fn monotonic_ns() -> i128 {
    let mut time = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `time` is a live timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut time) };
    time.tv_sec as i128 * 1_000_000_000 + time.tv_nsec as i128
}

/// Sleeps for `ms` milliseconds (resuming after signals).
pub fn sleep_ms(ms: u64) {
    let mut request = libc::timespec {
        tv_sec: (ms / 1000) as i64,
        tv_nsec: ((ms % 1000) * 1_000_000) as i64,
    };
    loop {
        let mut remaining = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: both timespecs are live.
        let result = unsafe { libc::nanosleep(&request, &mut remaining) };
        if result == 0 || errno() != libc::EINTR {
            return;
        }
        request = remaining;
    }
}

/// A fresh, empty scratch directory (removed first if a previous run left it).
pub fn scratch_dir(path: &str) -> String {
    let _ = std::fs::remove_dir_all(path);
    std::fs::create_dir_all(path).expect("could not create the scratch directory");
    path.to_string()
}

/// Closes `fd`, keeping errno as it was (so an earlier failure's errno can still be read).
pub fn close_keep(fd: i32) {
    let saved = errno();
    // SAFETY: closing a descriptor (or failing with EBADF) touches no memory.
    unsafe { libc::close(fd) };
    set_errno(saved);
}
