//! System-call microbenchmarks, the same static binary on coros and on Linux.
//!
//! Each workload runs a fixed number of operations between two `CLOCK_MONOTONIC`
//! readings and prints `bench NAME: ops=N ns=T` (see `report`). Under QEMU's
//! `-icount shift=0` one guest nanosecond is one retired instruction, so `ns / ops` is
//! instructions per operation, repeatable on a noisy host; `make bench` boots both
//! kernels and divides. A warm-up round runs before each measured one.
//!
//! Arguments: `quick` divides the counts by 10 (`tiny` by 100: the CI smoke run);
//! `sweep` runs only the concurrency sweep; `suffix=S` appends S to the sweep's names.
//!
//! Run as PID 1 (`rdinit=/usr/bin/bench-syscalls`), it is the boot probe instead: it
//! reads the `time` CSR first thing (QEMU starts it at 0 at reset; 10 MHz on `virt`),
//! prints `bench boot-to-init` and execs `/init` with its own environment.

mod parked;
mod report;
mod sweep;

use std::ffi::CString;
use std::os::unix::process::CommandExt;

use report::{check, measure, now, Counters, Unit, Window};

/// QEMU virt's timebase: the `time` CSR ticks at 10 MHz.
const TIME_TICKS_PER_SECOND: u64 = 10_000_000;

/// Reads the `time` CSR (user mode may: `scounteren.TM`, set by both kernels).
fn rdtime() -> u64 {
    let ticks: u64;
    // SAFETY: rdtime reads a counter; nothing else changes.
    unsafe { core::arch::asm!("rdtime {}", out(reg) ticks, options(nomem, nostack)) };
    ticks
}

/// PID 1: report the time from reset to here, then become /init.
fn boot_probe(ticks: u64) -> ! {
    let nanos = ticks * (1_000_000_000 / TIME_TICKS_PER_SECOND);
    report::print("boot-to-init", 1, Unit::Nanoseconds, nanos, None);
    let error = std::process::Command::new("/init").exec();
    eprintln!("bench-syscalls: could not exec /init: {error}");
    std::process::exit(1);
}

/// The time from `nanosleep` of 1 ms to the return, beyond the 1 ms: the median of
/// `ops` sleeps (printed as ops × median so that the harness's division gives it).
fn sleep_overshoot(ops: u64, overhead: &Counters) {
    let millisecond = libc::timespec { tv_sec: 0, tv_nsec: 1_000_000 };
    let sleep = || {
        let start = now();
        // SAFETY: a valid timespec.
        unsafe { libc::nanosleep(&millisecond, std::ptr::null_mut()) };
        (now() - start).saturating_sub(1_000_000)
    };
    for _ in 0..ops.div_ceil(10) {
        sleep();
    }
    let window = Window::open();
    let mut overshoots: Vec<u64> = (0..ops).map(|_| sleep()).collect();
    let counters = window.close(overhead);
    overshoots.sort_unstable();
    let median = overshoots[overshoots.len() / 2];
    report::print("sleep-1ms-overshoot", ops, Unit::Nanoseconds, median * ops, counters);
}

/// Bytes per write of the pipe bandwidth workload.
const CHUNK: usize = 64 * 1024;

/// One process writes `ops` chunks of 64 KiB into a pipe, another reads them (64 KiB
/// reads); the figure is ns per 64 KiB moved, until the reader has all of it.
fn pipe_bandwidth(ops: u64, overhead: &Counters) {
    let transfer = |chunks: u64, timed: bool| {
        let (mut data, mut ack) = ([0i32; 2], [0i32; 2]);
        // SAFETY: arrays of two ints.
        unsafe {
            check(libc::pipe(data.as_mut_ptr()) as _, "pipe");
            check(libc::pipe(ack.as_mut_ptr()) as _, "pipe");
        }
        // SAFETY: the child reads, acknowledges and _exits.
        let pid = unsafe { libc::fork() };
        check(pid as _, "fork");
        if pid == 0 {
            let mut buffer = vec![0u8; CHUNK];
            let mut left = chunks as usize * CHUNK;
            while left > 0 {
                // SAFETY: a valid buffer.
                let n = unsafe { libc::read(data[0], buffer.as_mut_ptr().cast(), CHUNK.min(left)) };
                if n <= 0 {
                    // SAFETY: leaving the child.
                    unsafe { libc::_exit(1) };
                }
                left -= n as usize;
            }
            // SAFETY: one byte; then leaving the child.
            unsafe {
                libc::write(ack[1], buffer.as_ptr().cast(), 1);
                libc::_exit(0);
            }
        }
        let buffer = vec![1u8; CHUNK];
        let mut byte = [0u8; 1];
        let window = timed.then(Window::open);
        let start = now();
        for _ in 0..chunks {
            let mut sent = 0;
            while sent < CHUNK {
                // SAFETY: a valid buffer.
                let n = unsafe { libc::write(data[1], buffer[sent..].as_ptr().cast(), CHUNK - sent) };
                check(n as _, "write");
                sent += n as usize;
            }
        }
        // SAFETY: a valid one-byte buffer.
        unsafe { libc::read(ack[0], byte.as_mut_ptr().cast(), 1) };
        let elapsed = now() - start;
        let counters = window.and_then(|window| window.close(overhead));
        // SAFETY: reaping our child; closing our fds.
        unsafe {
            libc::waitpid(pid, std::ptr::null_mut(), 0);
            for fd in data.iter().chain(&ack) {
                libc::close(*fd);
            }
        }
        (elapsed, counters)
    };
    transfer(ops.div_ceil(10).max(1), false);
    let (elapsed, counters) = transfer(ops, true);
    report::print("pipe-bandwidth-64k", ops, Unit::Nanoseconds, elapsed, counters);
}

fn main() {
    let ticks = rdtime();
    // SAFETY: no arguments.
    if unsafe { libc::getpid() } == 1 {
        boot_probe(ticks);
    }
    let args: Vec<String> = std::env::args().collect();
    let has = |word: &str| args.iter().any(|arg| arg == word);
    let scale = if has("tiny") { 100 } else if has("quick") { 10 } else { 1 };
    let n = |count: u64| (count / scale).max(1);
    let suffix = args.iter().find_map(|arg| arg.strip_prefix("suffix=")).unwrap_or("");
    let overhead = Counters::calibrate();
    if has("sweep") {
        sweep::run(n(2_000).max(64) as usize, suffix, &overhead);
        println!("bench done");
        return;
    }

    measure("getppid", n(20_000), &overhead, |ops| {
        for _ in 0..ops {
            // SAFETY: no arguments.
            unsafe { libc::syscall(libc::SYS_getppid) };
        }
    });

    let null = CString::new("/dev/null").unwrap();
    // SAFETY: a valid path.
    let null_fd = unsafe { libc::open(null.as_ptr(), libc::O_RDWR) };
    check(null_fd as _, "open /dev/null");
    measure("write-devnull", n(20_000), &overhead, |ops| {
        let byte = [0u8; 1];
        for _ in 0..ops {
            // SAFETY: one valid byte.
            unsafe { libc::write(null_fd, byte.as_ptr().cast(), 1) };
        }
    });
    measure("read-devnull", n(20_000), &overhead, |ops| {
        let mut byte = [0u8; 1];
        for _ in 0..ops {
            // SAFETY: one writable byte.
            unsafe { libc::read(null_fd, byte.as_mut_ptr().cast(), 1) };
        }
    });

    measure("pipe-pingpong", n(2_000), &overhead, |ops| {
        let (mut to_child, mut to_parent) = ([0i32; 2], [0i32; 2]);
        // SAFETY: arrays of two ints.
        unsafe {
            libc::pipe(to_child.as_mut_ptr());
            libc::pipe(to_parent.as_mut_ptr());
        }
        // SAFETY: the child only reads and writes its pipes, then _exits.
        let pid = unsafe { libc::fork() };
        let mut byte = [0u8; 1];
        if pid == 0 {
            for _ in 0..ops {
                // SAFETY: valid fds and buffers.
                unsafe {
                    libc::read(to_child[0], byte.as_mut_ptr().cast(), 1);
                    libc::write(to_parent[1], byte.as_ptr().cast(), 1);
                }
            }
            // SAFETY: leaving the child without running destructors.
            unsafe { libc::_exit(0) };
        }
        for _ in 0..ops {
            // SAFETY: valid fds and buffers.
            unsafe {
                libc::write(to_child[1], byte.as_ptr().cast(), 1);
                libc::read(to_parent[0], byte.as_mut_ptr().cast(), 1);
            }
        }
        // SAFETY: reaping our child; closing our fds.
        unsafe {
            libc::waitpid(pid, std::ptr::null_mut(), 0);
            for fd in to_child.iter().chain(&to_parent) {
                libc::close(*fd);
            }
        }
    });

    measure("futex-pingpong", n(2_000), &overhead, |ops| {
        use std::sync::atomic::{AtomicU32, Ordering};
        static WORD: AtomicU32 = AtomicU32::new(0);
        WORD.store(0, Ordering::SeqCst);
        let wait = |value: u32| {
            while WORD.load(Ordering::SeqCst) == value {
                // SAFETY: a valid futex word.
                unsafe {
                    libc::syscall(libc::SYS_futex, WORD.as_ptr(), libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG, value, 0, 0, 0)
                };
            }
        };
        let wake = || {
            // SAFETY: a valid futex word.
            unsafe { libc::syscall(libc::SYS_futex, WORD.as_ptr(), libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG, 1, 0, 0, 0) };
        };
        let other = std::thread::spawn(move || {
            for round in 0..ops {
                wait((round * 2) as u32); // wait for the main thread's odd value
                WORD.store((round * 2 + 2) as u32, Ordering::SeqCst);
                wake();
            }
        });
        for round in 0..ops {
            WORD.store((round * 2 + 1) as u32, Ordering::SeqCst);
            wake();
            wait((round * 2 + 1) as u32);
        }
        other.join().unwrap();
    });

    measure("sched-yield", n(10_000), &overhead, |ops| {
        for _ in 0..ops {
            // SAFETY: no arguments.
            unsafe { libc::sched_yield() };
        }
    });

    measure("fork-exit-wait", n(200), &overhead, |ops| {
        for _ in 0..ops {
            // SAFETY: the child exits at once.
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                // SAFETY: leaving the child.
                unsafe { libc::_exit(0) };
            }
            // SAFETY: reaping the child.
            unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
        }
    });

    let true_path = CString::new("/bin/true").unwrap();
    measure("fork-exec-wait", n(100), &overhead, |ops| {
        for _ in 0..ops {
            // SAFETY: the child execs or exits.
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                let argv = [true_path.as_ptr(), std::ptr::null()];
                let envp = [std::ptr::null()];
                // SAFETY: NULL-terminated arrays of valid strings.
                unsafe {
                    libc::execve(true_path.as_ptr(), argv.as_ptr(), envp.as_ptr());
                    libc::_exit(127);
                }
            }
            // SAFETY: reaping the child.
            unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
        }
    });

    measure("thread-create-join", n(500), &overhead, |ops| {
        for _ in 0..ops {
            std::thread::spawn(|| {}).join().unwrap();
        }
    });

    measure("mmap-touch-munmap", n(2_000), &overhead, |ops| {
        for _ in 0..ops {
            // SAFETY: an anonymous private mapping, touched and unmapped.
            unsafe {
                let page = libc::mmap(std::ptr::null_mut(), 4096, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0);
                *(page as *mut u8) = 1;
                libc::munmap(page, 4096);
            }
        }
    });

    measure("page-fault", n(4_000), &overhead, |ops| {
        let length = ops as usize * 4096;
        // SAFETY: one mapping, each page touched once, then unmapped.
        unsafe {
            let area = libc::mmap(std::ptr::null_mut(), length, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0);
            for page in 0..ops as usize {
                *(area as *mut u8).add(page * 4096) = 1;
            }
            libc::munmap(area, length);
        }
    });

    measure("nanosleep-0", n(2_000), &overhead, |ops| {
        let zero = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        for _ in 0..ops {
            // SAFETY: a valid timespec.
            unsafe { libc::nanosleep(&zero, std::ptr::null_mut()) };
        }
    });

    let passwd = CString::new("/etc/passwd").unwrap();
    measure("open-close", n(5_000), &overhead, |ops| {
        for _ in 0..ops {
            // SAFETY: a valid path; the fd is closed at once.
            unsafe {
                let fd = libc::open(passwd.as_ptr(), libc::O_RDONLY);
                libc::close(fd);
            }
        }
    });
    measure("stat", n(5_000), &overhead, |ops| {
        // SAFETY: zeroed plain data.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        for _ in 0..ops {
            // SAFETY: a valid path and buffer.
            unsafe { libc::stat(passwd.as_ptr(), &mut st) };
        }
    });
    sleep_overshoot(n(200).max(5), &overhead);
    pipe_bandwidth(n(400), &overhead);
    parked::run(if has("tiny") { 100 } else { 1_000 }, &overhead);
    sweep::run(n(2_000).max(64) as usize, suffix, &overhead);
    println!("bench done");
}
