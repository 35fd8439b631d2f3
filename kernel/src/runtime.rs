//! The async runtime of the kernel: one executor loop and one timer queue per hart.
//!
//! [`spawn`], [`sleep`] and [`timeout`] are what kernel code uses. The hart loop runs
//! every runnable task, then sleeps in `wfi` with interrupts masked after announcing
//! itself idle, so a wake-up that races the check is never lost: either the waker sees
//! the idle bit and sends an IPI, or the hart sees the queued task.

use core::future::Future;
use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;

use executor::{Executor, JoinHandle, Platform};
use spin::Once;
use timer::{Clock, Instant, Sleep, Timeout, Timers};

/// The executor's view of the machine: the hart id is `tp`, a notification is an IPI.
pub struct KernelPlatform {
    ipis_sent: AtomicU64,
}

impl Platform for KernelPlatform {
    #[inline]
    fn current_hart(&self) -> usize {
        arch::hart::id()
    }

    fn notify(&self, hart: usize) {
        self.ipis_sent.fetch_add(1, Ordering::Relaxed);
        arch::hart::send_ipi(hart);
    }
}

/// The timers' view of the machine: `time` CSR and the per-hart timer interrupt.
pub struct KernelClock;

impl Clock for KernelClock {
    #[inline]
    fn now(&self) -> Instant {
        Instant::from_nanos(arch::timer::nanos())
    }

    fn set_alarm(&self, deadline: Option<Instant>) {
        arch::timer::set_alarm(deadline.map(|at| arch::timer::nanos_to_ticks(at.as_nanos())));
    }

    #[inline]
    fn current_hart(&self) -> usize {
        arch::hart::id()
    }
}

static CLOCK: KernelClock = KernelClock;
/// Timer interrupts taken, per hart (to show there is no periodic tick).
static TIMER_INTERRUPTS: [AtomicU64; arch::layout::MAX_HARTS] = [const { AtomicU64::new(0) }; arch::layout::MAX_HARTS];
static EXECUTOR: Once<Executor<KernelPlatform>> = Once::new();
static TIMERS: Once<Timers<'static>> = Once::new();

/// Creates the executor and the timer queues for `harts` hart slots.
pub fn init(harts: usize) {
    EXECUTOR.call_once(|| Executor::new(KernelPlatform { ipis_sent: AtomicU64::new(0) }, harts));
    TIMERS.call_once(|| Timers::new(&CLOCK, harts));
}

/// The kernel executor.
pub fn executor() -> &'static Executor<KernelPlatform> {
    EXECUTOR.get().expect("runtime::init ran")
}

/// The kernel timer queues.
pub fn timers() -> &'static Timers<'static> {
    TIMERS.get().expect("runtime::init ran")
}

/// IPIs sent to wake idle harts so far.
pub fn ipis_sent() -> u64 {
    executor().platform().ipis_sent.load(Ordering::Relaxed)
}

/// Timer interrupts taken so far, summed over all harts.
pub fn timer_interrupts() -> u64 {
    TIMER_INTERRUPTS.iter().map(|count| count.load(Ordering::Relaxed)).sum()
}

/// Spawns a kernel task on the current hart.
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    executor().spawn(future)
}

/// Completes after `duration`.
pub fn sleep(duration: Duration) -> Sleep<'static> {
    timers().sleep(duration)
}

/// Runs `future` for at most `duration`.
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<'static, F> {
    timers().timeout(duration, future)
}

/// Monotonic time since boot.
pub fn now() -> Instant {
    CLOCK.now()
}

/// Called from the timer interrupt: wakes the due sleepers of this hart.
pub fn on_timer_interrupt() {
    TIMER_INTERRUPTS[arch::hart::id()].fetch_add(1, Ordering::Relaxed);
    if let Some(timers) = TIMERS.get() {
        timers.handle_interrupt();
    } else {
        arch::timer::set_alarm(None);
    }
}

/// The per-hart loop: poll woken tasks, sleep when there are none. Never returns.
/// Written at the bottom of every hart stack at boot; checked by the hart's loop.
const STACK_CANARY: u64 = 0x57AC_CA4A_2200_0000;
const CANARY_WORDS: usize = 8;

fn canary(hart: usize) -> *mut u64 {
    (arch::layout::hart_stacks().0 + hart * arch::layout::HART_STACK_SIZE) as *mut u64
}

/// Marks the bottom of every hart stack (boot hart, before the others start).
pub fn mark_hart_stacks() {
    for hart in 0..arch::layout::MAX_HARTS {
        for word in 0..CANARY_WORDS {
            // SAFETY: the lowest words of each hart's stack area (linker script), far below
            // where any running hart's stack pointer is now.
            unsafe { canary(hart).add(word).write_volatile(STACK_CANARY) };
        }
    }
}

/// Panics (with a backtrace of the deep path) if less than 32 KiB of this hart's stack
/// is left at the caller.
pub fn check_stack_depth() {
    let hart = arch::hart::id();
    let bottom = canary(hart) as usize;
    let sp = arch::backtrace::frame_pointer();
    if sp > bottom && sp < bottom + arch::layout::HART_STACK_SIZE && sp - bottom < 32 * 1024 {
        panic!("hart {hart}'s kernel stack is nearly exhausted ({} bytes left)", sp - bottom);
    }
}

/// Panics if this hart's stack ran over its bottom.
pub fn check_hart_stack(hart: usize) {
    // SAFETY: as in `mark_hart_stacks`; reads only.
    let intact = (0..CANARY_WORDS).all(|word| unsafe { canary(hart).add(word).read_volatile() } == STACK_CANARY);
    if !intact {
        // SAFETY: as above.
        let words: [u64; CANARY_WORDS] = core::array::from_fn(|word| unsafe { canary(hart).add(word).read_volatile() });
        if words.iter().all(|&word| word == STACK_CANARY) {
            // Seen at -smp 2 under disk load: a first read differs, a second one finds
            // the canary intact (see README, known problems). Not an overflow.
            static LOGGED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);
            if !LOGGED.swap(true, core::sync::atomic::Ordering::Relaxed) {
                log::warn!("hart {hart}: a stack canary read differed once and then read intact");
            }
            return;
        }
        panic!("hart {hart}'s kernel stack ({} KiB) overflowed: its bottom holds {words:x?}", arch::layout::HART_STACK_SIZE / 1024);
    }
}

pub fn run_hart(hart: usize) -> ! {
    let executor = executor();
    loop {
        executor.run_until_idle(hart);
        check_hart_stack(hart);
        crate::process::run::release_dead_address_space(hart);
        arch::interrupts::disable();
        if executor.prepare_to_sleep(hart) {
            arch::interrupts::wait_for_interrupt();
        }
        executor.end_sleep(hart);
        // Pending interrupts (timer, IPI) are taken here and wake their tasks.
        arch::interrupts::enable();
    }
}
