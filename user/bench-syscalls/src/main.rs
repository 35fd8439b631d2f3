//! System-call microbenchmarks, the same static binary on coros and on Linux.
//!
//! Each workload runs a fixed number of operations between two `CLOCK_MONOTONIC`
//! readings and prints `bench NAME: ops=N ns=T`. Under QEMU's `-icount shift=0` one
//! guest nanosecond is one retired instruction, so `ns / ops` is instructions per
//! operation, repeatable on a noisy host; `make bench` boots both kernels and divides.
//! A warm-up round runs before each measured one. `bench-syscalls quick` divides the
//! counts by 10 (CI smoke run).

use std::ffi::CString;
use std::time::Instant;

fn now() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes the timespec we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn measure(name: &str, ops: u64, mut body: impl FnMut(u64)) {
    body(ops.div_ceil(10).max(1)); // warm-up
    let start = now();
    body(ops);
    let elapsed = now() - start;
    println!("bench {name}: ops={ops} ns={elapsed}");
}

fn check(result: libc::c_long, what: &str) {
    if result < 0 {
        eprintln!("{what} failed: {}", std::io::Error::last_os_error());
        std::process::exit(1);
    }
}

fn main() {
    let scale = if std::env::args().any(|arg| arg == "quick") { 10 } else { 1 };
    let n = |count: u64| (count / scale).max(1);
    let _ = Instant::now();

    measure("getppid", n(20_000), |ops| {
        for _ in 0..ops {
            // SAFETY: no arguments.
            unsafe { libc::syscall(libc::SYS_getppid) };
        }
    });

    let null = CString::new("/dev/null").unwrap();
    // SAFETY: a valid path.
    let null_fd = unsafe { libc::open(null.as_ptr(), libc::O_RDWR) };
    check(null_fd as _, "open /dev/null");
    measure("write-devnull", n(20_000), |ops| {
        let byte = [0u8; 1];
        for _ in 0..ops {
            // SAFETY: one valid byte.
            unsafe { libc::write(null_fd, byte.as_ptr().cast(), 1) };
        }
    });
    measure("read-devnull", n(20_000), |ops| {
        let mut byte = [0u8; 1];
        for _ in 0..ops {
            // SAFETY: one writable byte.
            unsafe { libc::read(null_fd, byte.as_mut_ptr().cast(), 1) };
        }
    });

    measure("pipe-pingpong", n(2_000), |ops| {
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

    measure("futex-pingpong", n(2_000), |ops| {
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

    measure("sched-yield", n(10_000), |ops| {
        for _ in 0..ops {
            // SAFETY: no arguments.
            unsafe { libc::sched_yield() };
        }
    });

    measure("fork-exit-wait", n(200), |ops| {
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
    measure("fork-exec-wait", n(100), |ops| {
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

    measure("thread-create-join", n(500), |ops| {
        for _ in 0..ops {
            std::thread::spawn(|| {}).join().unwrap();
        }
    });

    measure("mmap-touch-munmap", n(2_000), |ops| {
        for _ in 0..ops {
            // SAFETY: an anonymous private mapping, touched and unmapped.
            unsafe {
                let page = libc::mmap(std::ptr::null_mut(), 4096, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0);
                *(page as *mut u8) = 1;
                libc::munmap(page, 4096);
            }
        }
    });

    measure("page-fault", n(4_000), |ops| {
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

    measure("nanosleep-0", n(2_000), |ops| {
        let zero = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        for _ in 0..ops {
            // SAFETY: a valid timespec.
            unsafe { libc::nanosleep(&zero, std::ptr::null_mut()) };
        }
    });

    let passwd = CString::new("/etc/passwd").unwrap();
    measure("open-close", n(5_000), |ops| {
        for _ in 0..ops {
            // SAFETY: a valid path; the fd is closed at once.
            unsafe {
                let fd = libc::open(passwd.as_ptr(), libc::O_RDONLY);
                libc::close(fd);
            }
        }
    });
    measure("stat", n(5_000), |ops| {
        // SAFETY: zeroed plain data.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        for _ in 0..ops {
            // SAFETY: a valid path and buffer.
            unsafe { libc::stat(passwd.as_ptr(), &mut st) };
        }
    });
    println!("bench done");
}
