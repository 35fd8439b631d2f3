//! Kernel memory per blocked thread: N threads parked on one futex, `MemFree` of
//! `/proc/meminfo` read before and after.
//!
//! What is counted: the threads are made with the raw `clone` of glibc (no pthread: no
//! TLS block, no guard page, no glibc thread descriptor) on 4 KiB stacks cut from one
//! anonymous mapping that is touched page by page *before* the first reading, so user
//! stacks and their page tables are already paid for. The difference of the two
//! readings is then what the kernel allocated for the threads themselves: on Linux the
//! task_struct, the kernel stack and the rest of a task; on coros the thread's task
//! (its future), its `Thread` record and the boxed futex wait. Per-CPU page caches of
//! Linux make its reading coarse by a few hundred KiB in all, which is why many threads
//! are parked.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::report::{self, Counters, Unit, Window};

/// Each thread's stack.
const STACK_SIZE: usize = 4096;

/// Threads that reached their futex wait.
static PARKED: AtomicU32 = AtomicU32::new(0);
/// The futex word the threads wait on (0: stay parked).
static RELEASE: AtomicU32 = AtomicU32::new(0);

const FUTEX_WAIT_PRIVATE: usize = 128;

/// futex(word, FUTEX_WAIT_PRIVATE, value) by `ecall` alone: the threads have no TLS,
/// so they must not go through libc (errno lives in TLS).
///
/// # Safety
/// `word` must point to a live futex word.
#[inline(always)]
unsafe fn futex_wait_raw(word: *const u32, value: u32) {
    // SAFETY: the futex system call reads the word (valid per the caller) and touches
    // no other user memory; only a0 is clobbered on return.
    unsafe {
        core::arch::asm!(
            "ecall",
            inlateout("a0") word as usize => _,
            in("a1") FUTEX_WAIT_PRIVATE,
            in("a2") value as usize,
            in("a3") 0usize,
            in("a7") libc::SYS_futex as usize,
            options(nostack)
        );
    }
}

/// The body of every parked thread; glibc's `clone` calls `exit` when it returns.
extern "C" fn parked_thread(_: *mut libc::c_void) -> libc::c_int {
    PARKED.fetch_add(1, Ordering::SeqCst);
    while RELEASE.load(Ordering::SeqCst) == 0 {
        // SAFETY: RELEASE is a static futex word.
        unsafe { futex_wait_raw(RELEASE.as_ptr(), 0) };
    }
    0
}

/// `MemFree` of /proc/meminfo, in bytes.
fn mem_free() -> u64 {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let line = text.lines().find(|line| line.starts_with("MemFree:")).unwrap_or_else(|| {
        eprintln!("no MemFree in /proc/meminfo");
        std::process::exit(1)
    });
    let kib: u64 = line.split_whitespace().nth(1).and_then(|value| value.parse().ok()).unwrap_or(0);
    kib * 1024
}

/// Parks `count` threads, prints `bench parked-thread-memory: ops=count bytes=B`.
pub fn run(count: usize, overhead: &Counters) {
    PARKED.store(0, Ordering::SeqCst);
    RELEASE.store(0, Ordering::SeqCst);
    let length = count * STACK_SIZE;
    // SAFETY: a fresh private anonymous mapping, used only as the threads' stacks.
    let stacks = unsafe {
        libc::mmap(std::ptr::null_mut(), length, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0)
    };
    if stacks == libc::MAP_FAILED {
        report::check(-1, "mmap of the thread stacks");
    }
    let stacks = stacks as *mut u8;
    for page in 0..length / 4096 {
        // SAFETY: inside the mapping: touching each page makes it resident now.
        unsafe { stacks.add(page * 4096).write_volatile(1) };
    }
    // Each thread's clear-tid word: 1 while it lives, 0 (and a futex wake) at its exit.
    let tids: Vec<AtomicU32> = (0..count).map(|_| AtomicU32::new(1)).collect();
    let settle = libc::timespec { tv_sec: 0, tv_nsec: 20_000_000 };
    // SAFETY: a valid timespec.
    unsafe { libc::nanosleep(&settle, std::ptr::null_mut()) };

    let before = mem_free();
    let window = Window::open();
    let flags = libc::CLONE_VM
        | libc::CLONE_FS
        | libc::CLONE_FILES
        | libc::CLONE_SIGHAND
        | libc::CLONE_THREAD
        | libc::CLONE_SYSVSEM
        | libc::CLONE_CHILD_CLEARTID;
    for (index, tid) in tids.iter().enumerate() {
        // SAFETY: the stack top is the end of this thread's own 4 KiB slot (16-byte
        // aligned); the thread runs only `parked_thread`, which touches statics and its
        // stack; `tid` outlives the thread (we wait for it to be cleared below).
        let result = unsafe {
            let top = stacks.add((index + 1) * STACK_SIZE);
            libc::clone(parked_thread, top.cast(), flags, std::ptr::null_mut(), std::ptr::null_mut::<libc::pid_t>(), std::ptr::null_mut::<libc::c_void>(), tid.as_ptr())
        };
        report::check(result as _, "clone");
    }
    while (PARKED.load(Ordering::SeqCst) as usize) < count {
        // SAFETY: no arguments.
        unsafe { libc::sched_yield() };
    }
    // The last one may be between its count and its wait: let it get there.
    // SAFETY: a valid timespec.
    unsafe { libc::nanosleep(&settle, std::ptr::null_mut()) };
    let after = mem_free();
    let counters = window.close(overhead);
    report::print("parked-thread-memory", count as u64, Unit::Bytes, before.saturating_sub(after), counters);

    RELEASE.store(1, Ordering::SeqCst);
    // SAFETY: a valid futex word; wakes every waiter.
    unsafe { libc::syscall(libc::SYS_futex, RELEASE.as_ptr(), libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG, i32::MAX, 0, 0, 0) };
    for tid in &tids {
        while tid.load(Ordering::SeqCst) != 0 {
            // SAFETY: a valid futex word, cleared and woken by the kernel at thread exit.
            unsafe { libc::syscall(libc::SYS_futex, tid.as_ptr(), libc::FUTEX_WAIT, 1, 0, 0, 0) };
        }
    }
    // SAFETY: every thread has exited: nothing uses the stacks any more.
    unsafe { libc::munmap(stacks.cast(), length) };
}
