//! syscall-smoke: one line per basic system call, `name: value`.
//!
//! Each check prints a stable fact — a relation, an errno name, a field that is the same
//! on every Linux-compatible kernel — never an address, a time or a process id, so the
//! output on coros can be compared with Linux's byte for byte. Where std has no wrapper
//! the `libc` crate is called directly. The exit status is 0 even when a check shows an
//! unexpected value: the comparison with Linux is the verdict.

use std::ffi::CStr;
use std::io::Write;

/// The name of an errno value (the ones these checks can meet), else its number.
fn errno_name(errno: i32) -> String {
    let name = match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EINTR => "EINTR",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EFAULT => "EFAULT",
        libc::EINVAL => "EINVAL",
        libc::ENOSYS => "ENOSYS",
        libc::ENOTTY => "ENOTTY",
        _ => return format!("errno {errno}"),
    };
    name.to_string()
}

/// `ok` for a non-negative return, else the errno name.
fn outcome(result: i64) -> String {
    if result >= 0 {
        format!("{result}")
    } else {
        errno_name(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }
}

fn field(bytes: &[libc::c_char]) -> String {
    // SAFETY: uname NUL-terminates every field within its array.
    unsafe { CStr::from_ptr(bytes.as_ptr()) }.to_string_lossy().into_owned()
}

fn clock(id: libc::clockid_t) -> Option<libc::timespec> {
    let mut time = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `time` is a valid timespec to write.
    let result = unsafe { libc::clock_gettime(id, &mut time) };
    (result == 0).then_some(time)
}

fn nanos(time: &libc::timespec) -> i128 {
    time.tv_sec as i128 * 1_000_000_000 + time.tv_nsec as i128
}

fn main() {
    let mut out = std::io::stdout().lock();
    let mut line = |name: &str, value: String| {
        writeln!(out, "{name}: {value}").unwrap();
        out.flush().unwrap();
    };

    // SAFETY (this block and the calls below): these system calls take no pointers, or
    // pointers to live locals of the right type; the bad-pointer write is deliberate and
    // must fail in the kernel with EFAULT, not touch our memory.
    let (pid, ppid, tid) = unsafe { (libc::getpid(), libc::getppid(), libc::gettid()) };
    line("getpid > 1", (pid > 1).to_string());
    line("getppid >= 1", (ppid >= 1).to_string());
    line("getppid != getpid", (ppid != pid).to_string());
    line("gettid == getpid", (tid == pid).to_string());

    let null = std::fs::OpenOptions::new().write(true).open("/dev/null");
    match null {
        Ok(file) => {
            use std::os::fd::AsRawFd;
            let data = b"hello";
            // SAFETY: see above.
            let written = unsafe { libc::write(file.as_raw_fd(), data.as_ptr().cast(), data.len()) };
            line("write /dev/null", outcome(written as i64));
        }
        Err(error) => line("open /dev/null", errno_name(error.raw_os_error().unwrap_or(0))),
    }

    // SAFETY: a zeroed utsname is a valid buffer for uname to fill.
    let mut names: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: see above.
    let result = unsafe { libc::uname(&mut names) };
    line("uname", outcome(result as i64));
    if result == 0 {
        line("uname sysname", field(&names.sysname));
        line("uname machine", field(&names.machine));
        line("uname release not empty", (!field(&names.release).is_empty()).to_string());
    }

    let monotonic1 = clock(libc::CLOCK_MONOTONIC);
    let monotonic2 = clock(libc::CLOCK_MONOTONIC);
    line("clock_gettime(MONOTONIC)", if monotonic1.is_some() { "ok" } else { "failed" }.into());
    if let (Some(first), Some(second)) = (monotonic1, monotonic2) {
        line("monotonic does not go back", (nanos(&second) >= nanos(&first)).to_string());
        line("tv_nsec < 1e9", (first.tv_nsec < 1_000_000_000).to_string());
    }
    let realtime = clock(libc::CLOCK_REALTIME);
    // 2020-01-01: the RTC of QEMU virt gives the host's date.
    line(
        "realtime after 2020",
        realtime.is_some_and(|time| time.tv_sec > 1_577_836_800).to_string(),
    );

    let request = libc::timespec { tv_sec: 0, tv_nsec: 10_000_000 };
    let before = clock(libc::CLOCK_MONOTONIC);
    // SAFETY: see above.
    let slept = unsafe { libc::nanosleep(&request, std::ptr::null_mut()) };
    let after = clock(libc::CLOCK_MONOTONIC);
    line("nanosleep 10ms", outcome(slept as i64));
    if let (Some(before), Some(after)) = (before, after) {
        line("nanosleep slept >= 10ms", (nanos(&after) - nanos(&before) >= 10_000_000).to_string());
    }

    let bad = 0x10 as *const libc::c_void;
    // SAFETY: see above; the kernel must reject the pointer.
    let written = unsafe { libc::write(1, bad, 5) };
    line("write bad pointer", outcome(written as i64));

    // SAFETY: see above.
    let closed = unsafe { libc::close(-1) };
    line("close(-1)", outcome(closed as i64));

    // SAFETY: see above; 999 is no system call on riscv64 Linux.
    let unknown = unsafe { libc::syscall(999) };
    line("syscall(999)", outcome(unknown));

    line("done", "ok".into());
}
