//! Kernel self-tests, chosen with `test=NAME` on the command line.
//!
//! Each runs inside the booted kernel (real traps, timer, harts), prints
//! `test NAME ... ok` when every check passed and returns the exit status; a failed
//! check panics, which powers off with status 101. The host harness (`make test`)
//! boots each with `-smp 1` and `-smp 4`.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::future::Future;
use core::pin::Pin;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use core::task::{Context, Poll};
use core::time::Duration;

use executor::yield_now;
use ksync::{SpinLock, WaitQueue};

use crate::runtime::{self, sleep, spawn, timeout};

/// Runs test `name`; returns the exit status.
pub async fn run(name: &str) -> u16 {
    match name {
        "executor-spawn-join" => executor_spawn_join().await,
        "executor-wake-count" => executor_wake_count().await,
        "executor-smp-steal" => executor_smp_steal().await,
        "timer-sleep-order" => timer_sleep_order().await,
        "timer-timeout" => timer_timeout().await,
        "timer-no-idle-tick" => timer_no_idle_tick().await,
        "page-table-wx" => page_table_wx(),
        "rtc" => rtc().await,
        "virtio-blk" => crate::selftest_disk::run().await,
        "boot-race" => {
            // One hart was started at the boot entry (see boot.rs); it must have joined
            // as a secondary instead of booting the kernel a second time.
            let online = crate::boot::harts_online();
            let expected = crate::boot::machine().harts.len();
            println!("boot-race: {online} of {expected} harts online");
            assert_eq!(online, expected, "a hart sent to _start did not join");
        }
        "panic" => panic!("deliberate panic requested by test=panic"),
        "fault" => {
            // SAFETY: deliberately not safe: reads an unmapped address to check that a
            // kernel fault panics with the trap registers and powers off with failure.
            let value = unsafe { core::ptr::read_volatile(0x10 as *const u64) };
            panic!("reading address 0x10 returned {value}: it should have faulted");
        }
        _ => {
            println!("error: unknown test `{name}`");
            return 2;
        }
    }
    println!("test {name} ... ok");
    0
}

async fn executor_spawn_join() {
    let handles: Vec<_> = (0..200u64).map(|n| spawn(async move { n * 2 })).collect();
    let mut sum = 0;
    for handle in handles {
        sum += handle.await;
    }
    assert_eq!(sum, 2 * (0..200u64).sum::<u64>());
    // Nested spawns, and a join across a sleep.
    let outer = spawn(async {
        let inner = spawn(async {
            sleep(Duration::from_millis(5)).await;
            7u32
        });
        inner.await + 1
    });
    assert_eq!(outer.await, 8);
    // Dropping a handle cancels: the task never completes.
    let finished = Arc::new(AtomicBool::new(false));
    let flag = finished.clone();
    drop(spawn(async move {
        sleep(Duration::from_millis(5)).await;
        flag.store(true, Ordering::SeqCst);
    }));
    sleep(Duration::from_millis(20)).await;
    assert!(!finished.load(Ordering::SeqCst), "a cancelled task ran to completion");
}

/// A future that counts its polls and completes once `open` is set.
struct Counted {
    polls: Arc<AtomicUsize>,
    open: Arc<AtomicBool>,
    queue: Arc<WaitQueue>,
}

impl Future for Counted {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        self.queue.register(cx.waker());
        if self.open.load(Ordering::SeqCst) { Poll::Ready(()) } else { Poll::Pending }
    }
}

fn total_polls() -> u64 {
    let executor = runtime::executor();
    (0..executor.harts()).map(|hart| executor.polls(hart)).sum()
}

async fn executor_wake_count() {
    let polls = Arc::new(AtomicUsize::new(0));
    let open = Arc::new(AtomicBool::new(false));
    let queue = Arc::new(WaitQueue::new());
    let task = spawn(Counted { polls: polls.clone(), open: open.clone(), queue: queue.clone() });
    while polls.load(Ordering::SeqCst) == 0 {
        yield_now().await;
    }
    // Not woken: never polled again, however long we wait.
    sleep(Duration::from_millis(30)).await;
    assert_eq!(polls.load(Ordering::SeqCst), 1, "polled without a wake");
    for expected in 2..=4 {
        assert!(queue.wake_one());
        sleep(Duration::from_millis(2)).await;
        assert_eq!(polls.load(Ordering::SeqCst), expected, "one wake, one poll");
    }
    open.store(true, Ordering::SeqCst);
    queue.wake_all();
    task.await;
    assert_eq!(polls.load(Ordering::SeqCst), 5);
    // An idle kernel polls nothing: across a 100 ms sleep, the only poll is this
    // task's own wake-up.
    let before = total_polls();
    sleep(Duration::from_millis(100)).await;
    let during = total_polls() - before;
    assert_eq!(during, 1, "{during} polls while the kernel was idle");
    println!("executor-wake-count: 1 poll per wake, {during} poll(s) during 100 ms idle");
}

async fn executor_smp_steal() {
    let harts = crate::boot::harts_online();
    let ipis_before = runtime::ipis_sent();
    // Tasks spawned on this hart, each spinning for a while: idle harts must be woken
    // (IPI) and steal them.
    let ran_on = Arc::new(SpinLock::new(Vec::new()));
    let handles: Vec<_> = (0..8 * harts)
        .map(|_| {
            let ran_on = ran_on.clone();
            spawn(async move {
                let start = arch::timer::nanos();
                while arch::timer::nanos() - start < 2_000_000 {
                    core::hint::spin_loop();
                }
                ran_on.lock().push(arch::hart::id());
                yield_now().await;
            })
        })
        .collect();
    for handle in handles {
        handle.await;
    }
    let mut used: Vec<usize> = ran_on.lock().clone();
    used.sort_unstable();
    used.dedup();
    let ipis = runtime::ipis_sent() - ipis_before;
    println!("executor-smp-steal: {harts} hart(s) online, tasks ran on harts {used:?}, {ipis} IPI(s)");
    if harts > 1 {
        assert!(used.len() > 1, "work was not spread: only harts {used:?} ran tasks");
        assert!(ipis > 0, "no idle hart was notified");
    } else {
        assert_eq!(used, [arch::hart::id()]);
        assert_eq!(ipis, 0, "a single hart never sends IPIs");
    }
}

async fn timer_sleep_order() {
    let order = Arc::new(SpinLock::new(Vec::new()));
    let start = runtime::now();
    let handles: Vec<_> = [30u64, 10, 20, 10]
        .into_iter()
        .enumerate()
        .map(|(index, millis)| {
            let order = order.clone();
            spawn(async move {
                sleep(Duration::from_millis(millis)).await;
                let slept = runtime::now().saturating_duration_since(start);
                order.lock().push((millis, index, slept));
            })
        })
        .collect();
    for handle in handles {
        handle.await;
    }
    let order = order.lock().clone();
    let millis: Vec<u64> = order.iter().map(|&(millis, _, _)| millis).collect();
    assert_eq!(millis, [10, 10, 20, 30], "sleeps ended out of deadline order: {order:?}");
    for &(millis, _, slept) in &order {
        assert!(slept >= Duration::from_millis(millis), "woke early: {slept:?} < {millis} ms");
        assert!(slept < Duration::from_millis(millis + 150), "woke very late: {slept:?} for {millis} ms");
    }
    let pending: usize = (0..runtime::timers().harts()).map(|hart| runtime::timers().pending(hart)).sum();
    assert_eq!(pending, 0, "timer entries left behind");
}

async fn timer_timeout() {
    let start = runtime::now();
    let result = timeout(Duration::from_millis(10), sleep(Duration::from_secs(10))).await;
    let waited = runtime::now().saturating_duration_since(start);
    assert!(result.is_err(), "a 10 s sleep finished within 10 ms");
    assert!(waited >= Duration::from_millis(10) && waited < Duration::from_millis(160), "timeout took {waited:?}");
    let result = timeout(Duration::from_secs(10), async {
        sleep(Duration::from_millis(5)).await;
        42
    })
    .await;
    assert_eq!(result, Ok(42));
    // A dropped sleep leaves no entry, and the alarm is not left armed for it.
    drop(sleep(Duration::from_secs(100)));
    let mut far = sleep(Duration::from_secs(100));
    assert!(poll_once(&mut far).await.is_pending());
    let hart_queue_sum = || (0..runtime::timers().harts()).map(|hart| runtime::timers().pending(hart)).sum::<usize>();
    assert_eq!(hart_queue_sum(), 1);
    drop(far);
    assert_eq!(hart_queue_sum(), 0, "a dropped sleep left its entry behind");
}

/// While every hart idles, the only timer interrupt is the one for the one deadline
/// that exists: no periodic tick on any hart.
async fn timer_no_idle_tick() {
    sleep(Duration::from_millis(10)).await;
    let before = runtime::timer_interrupts();
    sleep(Duration::from_millis(500)).await;
    let during = runtime::timer_interrupts() - before;
    println!("timer-no-idle-tick: {during} timer interrupt(s) on {} hart(s) in 500 ms idle", crate::boot::harts_online());
    assert!(during >= 1, "the sleep's own deadline must interrupt");
    assert!(during <= 2, "{during} timer interrupts while idle: something ticks");
}

/// Polls `future` once, from inside a task (so it gets the task's waker).
async fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    core::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *future).poll(cx))).await
}

fn page_table_wx() {
    use mm::sv39::Flags;
    let sections = arch::layout::kernel_sections();
    let flags_at = |va: usize| crate::memory::translate(va).map(|(_, flags)| flags);
    let text = flags_at(sections.text.0).expect("kernel text is mapped");
    assert!(text.contains(Flags::R | Flags::X) && !text.contains(Flags::W), "text: {text:?}");
    let rodata = flags_at(sections.rodata.0).expect("rodata is mapped");
    assert!(rodata.contains(Flags::R) && !rodata.intersects(Flags::W | Flags::X), "rodata: {rodata:?}");
    let data = flags_at(sections.data.0).expect("data is mapped");
    assert!(data.contains(Flags::R | Flags::W) && !data.contains(Flags::X), "data: {data:?}");
    let stack = flags_at(arch::backtrace::frame_pointer()).expect("the stack is mapped");
    assert!(!stack.contains(Flags::X), "stack is executable: {stack:?}");
    // No mapping anywhere is both writable and executable.
    let mut page = sections.image.0;
    while page < sections.image.1 {
        let flags = flags_at(page).expect("the whole image is mapped");
        assert!(!flags.contains(Flags::W | Flags::X), "W+X page at {page:#x}");
        page += mm::PAGE_SIZE;
    }
    // The boot identity map is gone: the low half belongs to user space.
    let physical_text = arch::layout::virt_to_phys(sections.text.0);
    assert_eq!(flags_at(physical_text), None, "identity mapping still present at {physical_text:#x}");
    let (free, total) = crate::memory::frame_usage();
    let (used, heap) = crate::memory::heap_usage();
    println!("page-table-wx: {free}/{total} frames free, heap {used}/{heap} bytes used");
}

async fn rtc() {
    let machine = crate::boot::machine();
    let rtc = machine.rtc.expect("the device tree has a goldfish RTC");
    // SAFETY: the kernel page table maps the RTC registers the device tree names.
    let read = || unsafe { arch::rtc::read_nanos(arch::layout::phys_to_virt(rtc.base)) };
    let first = read();
    // 2024-01-01T00:00:00Z: any sane host clock is past it.
    assert!(first > 1_704_067_200 * 1_000_000_000, "wall clock says {first} ns since the epoch");
    let monotonic = runtime::now();
    sleep(Duration::from_millis(100)).await;
    let advanced = Duration::from_nanos(read() - first);
    let slept = runtime::now().saturating_duration_since(monotonic);
    assert!(advanced >= Duration::from_millis(90) && advanced < Duration::from_millis(400), "RTC advanced {advanced:?}");
    let seconds = first / 1_000_000_000;
    println!("rtc: {seconds} s since the epoch; advanced {advanced:?} while the timer slept {slept:?}");
    let _ = AtomicU64::new(0);
}
