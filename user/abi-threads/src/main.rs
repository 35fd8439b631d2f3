//! abi-threads: threads and futexes — std::thread spawn/join (clone with
//! CLONE_CHILD_CLEARTID, joined through the tid futex), gettid, thread-local storage,
//! Mutex/Condvar/RwLock/Barrier (futex WAIT/WAKE), the futex system call directly (EAGAIN,
//! ETIMEDOUT, wake counts, bitsets, errors), signals aimed at one thread, exit_group from a
//! thread, fork from a threaded process.
//!
//! Every line is a stable fact; the exit status is 0 whatever the checks show.

#[path = "../../abi-common/abi_common.rs"]
mod common;

use common::*;
use std::cell::Cell;
use std::collections::VecDeque;
use std::ptr::null;
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier, Condvar, Mutex, RwLock};

thread_local! {
    static LOCAL: Cell<u64> = const { Cell::new(0) };
}

fn futex(
    word: &AtomicU32,
    op: i32,
    value: u32,
    timeout: *const libc::timespec,
    value3: u32,
) -> i64 {
    // SAFETY: `word` is a live, aligned u32; the timeout is null or a live timespec.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            op,
            value,
            timeout,
            null::<u32>(),
            value3,
        )
    }
}

static HANDLER_TID: AtomicI32 = AtomicI32::new(0);

extern "C" fn record_tid(_signo: i32) {
    // SAFETY: gettid has no preconditions.
    HANDLER_TID.store(unsafe { libc::gettid() }, SeqCst);
}

fn main() {
    // SAFETY: getpid/gettid have no preconditions.
    let (pid, main_tid) = unsafe { (libc::getpid(), libc::gettid()) };

    // --- spawn, join, ids ---
    let handles: Vec<_> = (0..8u64)
        .map(|i| {
            std::thread::spawn(move || {
                // SAFETY: as above.
                let (p, t) = unsafe { (libc::getpid(), libc::gettid()) };
                (i * i, p, t)
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    check(
        "8 threads joined with results",
        results
            .iter()
            .enumerate()
            .all(|(i, r)| r.0 == (i * i) as u64),
    );
    check("threads share getpid", results.iter().all(|r| r.1 == pid));
    let mut tids: Vec<i32> = results.iter().map(|r| r.2).collect();
    tids.push(main_tid);
    tids.sort_unstable();
    tids.dedup();
    check("9 distinct tids", tids.len());
    check("thread tids != pid", results.iter().all(|r| r.2 != pid));

    // --- thread-local storage ---
    LOCAL.with(|l| l.set(7));
    let locals: Vec<u64> = (0..4u64)
        .map(|i| {
            std::thread::spawn(move || {
                let start = LOCAL.with(|l| l.get());
                for _ in 0..1000 {
                    LOCAL.with(|l| l.set(l.get() + i));
                }
                start * 1_000_000 + LOCAL.with(|l| l.get())
            })
        })
        .map(|h| h.join().unwrap())
        .collect();
    check(
        "TLS starts at 0 in each thread, ends at 1000*i",
        format!("{locals:?}"),
    );
    check("main TLS untouched", LOCAL.with(|l| l.get()));

    // --- Mutex, Condvar, RwLock, Barrier ---
    let counter = Arc::new(Mutex::new(0u64));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let counter = counter.clone();
            std::thread::spawn(move || {
                for _ in 0..10_000 {
                    *counter.lock().unwrap() += 1;
                }
            })
        })
        .collect();
    handles.into_iter().for_each(|h| h.join().unwrap());
    check("mutex counter 8 x 10000", *counter.lock().unwrap());

    let queue = Arc::new((Mutex::new(VecDeque::new()), Condvar::new(), Condvar::new()));
    let consumer = {
        let queue = queue.clone();
        std::thread::spawn(move || {
            let (lock, not_empty, not_full) = &*queue;
            let (mut sum, mut count) = (0u64, 0u64);
            loop {
                let mut items = lock.lock().unwrap();
                while items.is_empty() {
                    items = not_empty.wait(items).unwrap();
                }
                let item: u64 = items.pop_front().unwrap();
                not_full.notify_one();
                drop(items);
                if item == u64::MAX {
                    return (sum, count);
                }
                sum += item;
                count += 1;
            }
        })
    };
    {
        let (lock, not_empty, not_full) = &*queue;
        for item in (1..=2000u64).chain([u64::MAX]) {
            let mut items = lock.lock().unwrap();
            while items.len() >= 4 {
                items = not_full.wait(items).unwrap();
            }
            items.push_back(item);
            not_empty.notify_one();
        }
    }
    check(
        "condvar producer/consumer (sum, count)",
        format!("{:?}", consumer.join().unwrap()),
    );

    let table = Arc::new(RwLock::new(vec![0u32; 16]));
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let table = table.clone();
            std::thread::spawn(move || {
                let mut seen = 0;
                for round in 0..500 {
                    if round % 10 == i {
                        table.write().unwrap()[i] += 1;
                    } else {
                        seen += table.read().unwrap().len();
                    }
                }
                seen
            })
        })
        .collect();
    let seen: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    check(
        "rwlock writes",
        format!("{:?} reads {}", &table.read().unwrap()[..4], seen),
    );

    let barrier = Arc::new(Barrier::new(6));
    let arrived = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..5)
        .map(|_| {
            let (barrier, arrived) = (barrier.clone(), arrived.clone());
            std::thread::spawn(move || {
                arrived.fetch_add(1, SeqCst);
                barrier.wait();
                arrived.load(SeqCst)
            })
        })
        .collect();
    barrier.wait();
    check(
        "barrier: all 5 arrived before release",
        handles.into_iter().all(|h| h.join().unwrap() == 5),
    );

    check("scoped threads borrow locals", {
        let data = [1u64, 2, 3, 4];
        let total = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for chunk in data.chunks(2) {
                s.spawn(|| total.fetch_add(chunk.iter().sum::<u64>() as usize, SeqCst));
            }
        });
        total.load(SeqCst)
    });
    check(
        "thread with 64 KiB stack",
        std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(|| 5)
            .unwrap()
            .join()
            .unwrap(),
    );
    check(
        "thread name in /proc/thread-self/comm",
        std::thread::Builder::new()
            .name("abi-worker".into())
            .spawn(|| {
                std::fs::read_to_string("/proc/thread-self/comm").map_or_else(
                    |e| errno_name(e.raw_os_error().unwrap_or(0)),
                    |s| format!("{s:?}"),
                )
            })
            .unwrap()
            .join()
            .unwrap(),
    );
    check(
        "available_parallelism >= 1",
        std::thread::available_parallelism().map_or(0, |n| n.get()) >= 1,
    );
    // SAFETY: no arguments.
    check("sched_yield", ok(unsafe { libc::sched_yield() } as i64));

    // --- futex directly ---
    let word = AtomicU32::new(1);
    let private = libc::FUTEX_PRIVATE_FLAG;
    check(
        "FUTEX_WAIT wrong value",
        err(futex(&word, libc::FUTEX_WAIT, 2, null(), 0)),
    );
    check(
        "FUTEX_WAIT_PRIVATE wrong value",
        err(futex(&word, libc::FUTEX_WAIT | private, 2, null(), 0)),
    );
    let ten_ms = libc::timespec {
        tv_sec: 0,
        tv_nsec: 10_000_000,
    };
    let t0 = monotonic_ns();
    check(
        "FUTEX_WAIT 10ms timeout",
        err(futex(&word, libc::FUTEX_WAIT, 1, &ten_ms, 0)),
    );
    check(
        "FUTEX_WAIT waited >= 10ms",
        monotonic_ns() - t0 >= 10_000_000,
    );
    let mut abs = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `abs` is live.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut abs) };
    abs.tv_nsec += 10_000_000;
    if abs.tv_nsec >= 1_000_000_000 {
        abs.tv_sec += 1;
        abs.tv_nsec -= 1_000_000_000;
    }
    let t0 = monotonic_ns();
    check(
        "FUTEX_WAIT_BITSET absolute timeout",
        err(futex(
            &word,
            libc::FUTEX_WAIT_BITSET | private,
            1,
            &abs,
            u32::MAX,
        )),
    );
    check(
        "FUTEX_WAIT_BITSET waited >= ~10ms",
        monotonic_ns() - t0 >= 5_000_000,
    );
    check(
        "FUTEX_WAIT_BITSET bitset 0",
        err(futex(&word, libc::FUTEX_WAIT_BITSET, 1, null(), 0)),
    );
    let bad = libc::timespec {
        tv_sec: 0,
        tv_nsec: 1_000_000_000,
    };
    check(
        "FUTEX_WAIT bad timeout",
        err(futex(&word, libc::FUTEX_WAIT, 1, &bad, 0)),
    );
    check(
        "FUTEX_WAKE no waiters",
        futex(&word, libc::FUTEX_WAKE, 10, null(), 0),
    );
    check("futex bad op", err(futex(&word, 99, 0, null(), 0)));
    // SAFETY: deliberately bad addresses; the kernel must reject them.
    check(
        "futex unaligned address",
        err(unsafe {
            libc::syscall(
                libc::SYS_futex,
                (word.as_ptr() as usize + 1) as *const u32,
                libc::FUTEX_WAIT,
                1,
                null::<u8>(),
                null::<u8>(),
                0,
            )
        }),
    );
    // SAFETY: as above.
    check(
        "futex bad pointer",
        err(unsafe {
            libc::syscall(
                libc::SYS_futex,
                0x1000usize,
                libc::FUTEX_WAIT,
                1,
                null::<u8>(),
                null::<u8>(),
                0,
            )
        }),
    );

    let shared = Arc::new(AtomicU32::new(0));
    let woken = Arc::new(AtomicUsize::new(0));
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            let (shared, woken) = (shared.clone(), woken.clone());
            std::thread::spawn(move || {
                let r = futex(&shared, libc::FUTEX_WAIT | private, 0, null(), 0);
                woken.fetch_add(1, SeqCst);
                r
            })
        })
        .collect();
    // Generous naps: on a loaded host (CI runs two QEMUs) the waiter threads need time
    // to reach FUTEX_WAIT; too short a nap made a waiter miss every wake and hang.
    sleep_ms(1000);
    check("3 waiters asleep", woken.load(SeqCst));
    check(
        "FUTEX_WAKE 2 returns",
        futex(&shared, libc::FUTEX_WAKE | private, 2, null(), 0),
    );
    sleep_ms(500);
    check("woken after WAKE 2", woken.load(SeqCst));
    check(
        "FUTEX_WAKE rest returns",
        futex(
            &shared,
            libc::FUTEX_WAKE | private,
            i32::MAX as u32,
            null(),
            0,
        ),
    );
    check(
        "waiters returned 0",
        waiters.into_iter().all(|h| h.join().unwrap() == 0),
    );
    check("FUTEX_WAKE_BITSET", {
        let word = Arc::new(AtomicU32::new(0));
        let waiter = {
            let word = word.clone();
            std::thread::spawn(move || {
                futex(&word, libc::FUTEX_WAIT_BITSET | private, 0, null(), 0b01)
            })
        };
        sleep_ms(500);
        let wrong_bits = futex(&word, libc::FUTEX_WAKE_BITSET | private, 1, null(), 0b10);
        let right_bits = futex(&word, libc::FUTEX_WAKE_BITSET | private, 1, null(), 0b01);
        format!(
            "other bitset wakes {wrong_bits}, matching bitset wakes {right_bits}, waiter got {}",
            waiter.join().unwrap()
        )
    });
    check("FUTEX_REQUEUE", {
        let from = Arc::new(AtomicU32::new(0));
        let to = Arc::new(AtomicU32::new(0));
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let from = from.clone();
                std::thread::spawn(move || futex(&from, libc::FUTEX_WAIT | private, 0, null(), 0))
            })
            .collect();
        sleep_ms(1000);
        // SAFETY: both words are live and aligned.
        let moved = unsafe {
            libc::syscall(
                libc::SYS_futex,
                from.as_ptr(),
                libc::FUTEX_REQUEUE | private,
                1,
                2usize,
                to.as_ptr(),
                0,
            )
        };
        let on_to = futex(&to, libc::FUTEX_WAKE | private, 10, null(), 0);
        let all_ok = waiters.into_iter().all(|h| h.join().unwrap() == 0);
        format!("requeue returns {moved}, wake on target {on_to}, all returned 0 {all_ok}")
    });

    // --- signals aimed at one thread ---
    check("tgkill to a thread runs the handler there", {
        // SAFETY: a plain handler for SIGUSR1.
        unsafe { libc::signal(libc::SIGUSR1, record_tid as *const () as usize) };
        let (tx, rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let worker = std::thread::spawn(move || {
            // SAFETY: gettid has no preconditions.
            tx.send(unsafe { libc::gettid() }).unwrap();
            done_rx.recv().unwrap();
        });
        let tid = rx.recv().unwrap();
        // SAFETY: the thread is alive until `done_tx` is sent.
        let r = unsafe { libc::syscall(libc::SYS_tgkill, pid, tid, libc::SIGUSR1) };
        let mut tries = 0;
        while HANDLER_TID.load(SeqCst) == 0 && tries < 1000 {
            sleep_ms(1);
            tries += 1;
        }
        done_tx.send(()).unwrap();
        worker.join().unwrap();
        format!(
            "{} ran in target thread {}",
            ok(r),
            HANDLER_TID.load(SeqCst) == tid
        )
    });

    // --- process-wide effects of threads ---
    check(
        "exit_group from a thread ends the process",
        in_child(|| {
            std::thread::spawn(|| {
                sleep_ms(20);
                std::process::exit(3);
            });
            sleep_ms(5000);
            0
        }),
    );
    check(
        "main thread exits (SYS_exit) while a thread runs",
        in_child(|| {
            std::thread::spawn(|| {
                sleep_ms(50);
                // SAFETY: ends the process from the last thread.
                unsafe { libc::_exit(4) };
            });
            // SAFETY: exit(2), not exit_group: ends only the main thread; the other thread
            // ends the process.
            unsafe { libc::syscall(libc::SYS_exit, 0) };
            0
        }),
    );
    check("SIGKILL to a threaded process", {
        let pid = spawn(|| {
            for _ in 0..4 {
                std::thread::spawn(|| loop {
                    sleep_ms(10);
                });
            }
            sleep_ms(5000);
            0
        });
        sleep_ms(100);
        // SAFETY: signalling our own child.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        wait_text(pid)
    });
    check(
        "fault in a thread kills the process",
        in_child(|| {
            std::thread::spawn(|| {
                // SAFETY: a deliberate null store; the process must die of SIGSEGV.
                unsafe { std::ptr::write_volatile(0 as *mut u32, 1) };
            });
            sleep_ms(5000);
            0
        }),
    );
    check("fork from a threaded process", {
        let keep = std::thread::spawn(|| sleep_ms(200));
        let text = in_child(|| {
            let t = std::thread::spawn(|| 6).join().unwrap();
            t
        });
        keep.join().unwrap();
        text
    });
    check("threads counted in /proc/self/status", {
        let workers: Vec<_> = (0..3)
            .map(|_| std::thread::spawn(|| sleep_ms(300)))
            .collect();
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let threads = status
            .lines()
            .find(|l| l.starts_with("Threads:"))
            .map(|l| l.split_whitespace().nth(1).unwrap_or("").to_string());
        workers.into_iter().for_each(|h| h.join().unwrap());
        format!("{threads:?}")
    });
    check("mprotect stops a writer thread (on another hart when there is one)", in_child(mprotect_stops_writer));
    check("a signal and exit_group reach a thread spinning in user mode", in_child(interrupt_spinner));
    check("done", "ok");
}

static WRITER_FAULTED: AtomicU32 = AtomicU32::new(0);

extern "C" fn writer_fault(_signo: i32) {
    WRITER_FAULTED.store(1, SeqCst);
    // SAFETY: ends this thread alone; the process goes on.
    unsafe { libc::syscall(libc::SYS_exit, 0) };
}

/// A thread keeps incrementing a counter in a page; the main thread makes the page
/// read-only. Once mprotect has returned, no write may land any more (on a multi-hart
/// machine the writer runs on another hart, whose TLB must be shot down): the writer
/// faults, and the counter stays still. Exits 7 if so, 8 if the counter moved, 9 if
/// the writer never faulted.
fn mprotect_stops_writer() -> i32 {
    // SAFETY: installs a plain handler; an anonymous private page.
    let page = unsafe {
        libc::signal(libc::SIGSEGV, writer_fault as *const () as usize);
        libc::mmap(std::ptr::null_mut(), 4096, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0)
    } as *mut u64;
    let address = page as usize;
    std::thread::spawn(move || loop {
        let counter = address as *mut u64;
        // SAFETY: the page is mapped for the life of the process.
        unsafe { counter.write_volatile(counter.read_volatile() + 1) };
    });
    // SAFETY: as above (reads only).
    while unsafe { page.read_volatile() } < 100_000 {}
    // SAFETY: the page is ours.
    unsafe { libc::mprotect(page as *mut libc::c_void, 4096, libc::PROT_READ) };
    // SAFETY: reads of a readable page.
    let before = unsafe { page.read_volatile() };
    sleep_ms(50);
    // SAFETY: as above.
    let after = unsafe { page.read_volatile() };
    match (before == after, WRITER_FAULTED.load(SeqCst)) {
        (true, 1) => 7,
        (false, _) => 8,
        _ => 9,
    }
}

static SPINS: AtomicUsize = AtomicUsize::new(0);
static SPINNER_SIGNALLED: AtomicU32 = AtomicU32::new(0);

extern "C" fn spinner_signal(_signo: i32) {
    SPINNER_SIGNALLED.store(1, SeqCst);
}

/// A thread spins without system calls (on another hart when there is one); a signal
/// sent to it must run its handler promptly, and exit_group from the main thread must
/// end the process although the spinner never enters the kernel by itself. Exits 5
/// (the handler ran within a second), or 6 (it did not); a hang is the failure.
fn interrupt_spinner() -> i32 {
    // SAFETY: a plain handler that only stores to an atomic.
    unsafe { libc::signal(libc::SIGUSR1, spinner_signal as *const () as usize) };
    let (tid_sender, tid_receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // SAFETY: gettid has no preconditions.
        tid_sender.send(unsafe { libc::syscall(libc::SYS_gettid) } as i32).unwrap();
        loop {
            SPINS.fetch_add(1, SeqCst);
        }
    });
    let tid = tid_receiver.recv().unwrap();
    while SPINS.load(SeqCst) < 100_000 {}
    // SAFETY: tgkill of a thread of this process.
    unsafe { libc::syscall(libc::SYS_tgkill, libc::getpid(), tid, libc::SIGUSR1) };
    let start = monotonic_ns();
    while SPINNER_SIGNALLED.load(SeqCst) == 0 && monotonic_ns() - start < 1_000_000_000 {
        std::hint::spin_loop();
    }
    // in_child's exit is exit_group: it must stop the spinner too.
    if SPINNER_SIGNALLED.load(SeqCst) == 1 { 5 } else { 6 }
}
