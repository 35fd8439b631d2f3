//! Coroutines: synchronous code that may wait, run as a future on a borrowed stack.
//!
//! Everything else in coros is a future; but a file-system crate (ext4) is ordinary
//! synchronous code that asks its block device for a block and expects the bytes back.
//! When the block is not in the cache, the device request is a future completed by the
//! disk's interrupt, and waiting for it must not stall the hart. So such code runs in
//! [`OnStack`]: a future that, when polled, switches to a stack of its own and runs the
//! code there; deep inside, [`block_on`] polls a future with the outer task's waker and,
//! while it is pending, switches back — the outer `poll` returns `Pending` and the hart
//! runs other tasks. When the waker fires, the next poll switches into the stack again
//! and the code continues where it stopped (possibly on another hart).
//!
//! Stacks come from a small pool and are held only while such code runs: a thread
//! parked in a futex or a pipe holds none. Rules for code on a coroutine stack: never
//! call [`block_on`] with a spin lock held (checked: interrupts must be enabled); the
//! file system's own lock is a [`SleepMutex`], which suspends a contended caller.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::future::Future;
use core::pin::{pin, Pin};
use core::ptr::{null_mut, NonNull};
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use core::task::{Context as TaskContext, Poll, Waker};

use arch::context::{switch, Context};
use arch::layout::MAX_HARTS;
use ksync::{SpinLock, WaitQueue};

/// Bytes of each coroutine stack.
pub const STACK_SIZE: usize = 128 * 1024;
/// Free stacks kept for reuse.
const POOL_KEEP: usize = 8;
/// Written at the bottom of every stack; checked when a coroutine ends.
const CANARY: u64 = 0xC0C0_5EED_DEAD_BEEF;
const CANARY_WORDS: usize = 8;

/// Coroutines run to completion so far, and suspensions (for statistics and tests).
pub static RUNS: AtomicU64 = AtomicU64::new(0);
pub static SUSPENSIONS: AtomicU64 = AtomicU64::new(0);

/// The coroutine each hart is running right now (null: none).
static CURRENT: [AtomicPtr<Header>; MAX_HARTS] = [const { AtomicPtr::new(null_mut()) }; MAX_HARTS];

static POOL: SpinLock<Vec<Stack>> = SpinLock::new(Vec::new());

struct Stack(Box<[u64]>);

impl Stack {
    fn get() -> Stack {
        if let Some(stack) = POOL.lock().pop() {
            return stack;
        }
        let mut words = alloc::vec![0u64; STACK_SIZE / 8].into_boxed_slice();
        words[..CANARY_WORDS].fill(CANARY);
        Stack(words)
    }

    fn top(&mut self) -> usize {
        self.0.as_mut_ptr_range().end as usize
    }

    fn check(&self) {
        assert!(
            self.0[..CANARY_WORDS].iter().all(|&word| word == CANARY),
            "a coroutine overflowed its {STACK_SIZE}-byte stack"
        );
    }

    fn put_back(self) {
        self.check();
        let mut pool = POOL.lock();
        if pool.len() < POOL_KEEP {
            pool.push(self);
        }
    }
}

/// What the coroutine's own stack and the code that polls it share.
#[repr(C)]
struct Header {
    /// Where the poller resumes when the coroutine suspends or ends.
    poller: Context,
    /// Where the coroutine resumes.
    coroutine: Context,
    /// The waker of the poll in progress (valid while the coroutine runs).
    waker: Option<NonNull<Waker>>,
    done: bool,
    /// Runs the body and stores its result (type-erased [`Frame::run`]).
    run: unsafe fn(*mut Header),
}

#[repr(C)]
struct Frame<F, R> {
    header: Header,
    body: Option<F>,
    result: Option<R>,
}

impl<F: FnOnce() -> R, R> Frame<F, R> {
    /// # Safety
    /// `header` is the header of a live `Frame<F, R>`, run once.
    unsafe fn run(header: *mut Header) {
        let frame = header.cast::<Frame<F, R>>();
        // SAFETY: `Frame` is repr(C) with the header first; the caller says it is ours.
        unsafe {
            let body = (*frame).body.take().expect("a coroutine body runs once");
            let result = body();
            (*frame).result = Some(result);
        }
    }
}

extern "C" fn coroutine_main(header: usize) -> ! {
    let header = header as *mut Header;
    // SAFETY: `OnStack::poll` passes its live, boxed header and keeps it until `done`.
    unsafe {
        ((*header).run)(header);
        (*header).done = true;
        switch(&raw mut (*header).coroutine, &raw const (*header).poller);
    }
    unreachable!("a finished coroutine was resumed");
}

/// A future that runs `body` on a stack of its own; see the module documentation.
pub struct OnStack<F, R> {
    frame: Box<Frame<F, R>>,
    stack: Option<Stack>,
}

// SAFETY: the body and its result move between harts only between polls, as any
// future's state does; what lives on the coroutine's stack is the body's own state.
// `F: Send` and `R: Send` is what a future holding them would need.
unsafe impl<F: Send, R: Send> Send for OnStack<F, R> {}

impl<F: FnOnce() -> R, R> OnStack<F, R> {
    pub fn new(body: F) -> Self {
        let header = Header { poller: Context::default(), coroutine: Context::default(), waker: None, done: false, run: Frame::<F, R>::run };
        Self { frame: Box::new(Frame { header, body: Some(body), result: None }), stack: None }
    }
}

impl<F: FnOnce() -> R, R> Future for OnStack<F, R> {
    type Output = R;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<R> {
        // SAFETY: nothing is moved out of `self` but the result and the stack; the frame
        // is boxed, so the coroutine's pointer to it stays valid.
        let this = unsafe { self.get_unchecked_mut() };
        if let Some(result) = this.frame.result.take() {
            return Poll::Ready(result);
        }
        let header: *mut Header = &raw mut this.frame.header;
        if this.stack.is_none() {
            let mut stack = Stack::get();
            // SAFETY: header is valid (boxed in self).
            unsafe { (*header).coroutine = Context::new(stack.top(), coroutine_main, header as usize) };
            this.stack = Some(stack);
        }
        let hart = arch::hart::id();
        // SAFETY: header is valid; the waker outlives this poll, during which alone the
        // coroutine runs and reads it.
        unsafe { (*header).waker = Some(NonNull::from(cx.waker())) };
        let previous = CURRENT[hart].swap(header, Ordering::Relaxed);
        assert!(previous.is_null(), "coroutines do not nest");
        // SAFETY: the coroutine context was made by Context::new on our stack, or saved
        // when it suspended; the stack is owned by `this` until the coroutine is done.
        unsafe { switch(&raw mut (*header).poller, &raw const (*header).coroutine) };
        // The coroutine suspended or finished, on this same hart (it switched back to
        // the poller context saved just now).
        CURRENT[arch::hart::id()].store(null_mut(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { (*header).waker = None };
        // SAFETY: as above.
        if unsafe { (*header).done } {
            if let Some(stack) = this.stack.take() {
                stack.put_back();
            }
            RUNS.fetch_add(1, Ordering::Relaxed);
            return Poll::Ready(this.frame.result.take().expect("a finished coroutine has a result"));
        }
        SUSPENSIONS.fetch_add(1, Ordering::Relaxed);
        if let Some(stack) = &this.stack {
            stack.check();
        }
        crate::runtime::check_hart_stack(arch::hart::id());
        Poll::Pending
    }
}

impl<F, R> Drop for OnStack<F, R> {
    fn drop(&mut self) {
        if self.stack.is_some() && !self.frame.header.done {
            // The code on that stack can never be finished now: leaking its stack and
            // frame is the only safe choice (its borrows are never used again). Callers
            // never drop a started coroutine (waits on disk are not interruptible).
            log::error!("a suspended coroutine was dropped: its stack is leaked");
            core::mem::forget(self.stack.take());
            let frame = core::mem::replace(&mut self.frame, Box::new(Frame { header: Header { poller: Context::default(), coroutine: Context::default(), waker: None, done: true, run: |_| {} }, body: None, result: None }));
            core::mem::forget(frame);
        }
    }
}

/// Whether this code runs on a coroutine stack (so [`block_on`] can wait).
pub fn on_stack() -> bool {
    !CURRENT[arch::hart::id()].load(Ordering::Relaxed).is_null()
}

/// Runs `future` to completion from synchronous code on a coroutine stack, suspending
/// the coroutine while it is pending. `None` when not on a coroutine stack and the
/// future is not ready at once (the caller must then get itself onto a stack).
pub fn block_on<T>(future: impl Future<Output = T>) -> Option<T> {
    let mut future = pin!(future);
    loop {
        let header = CURRENT[arch::hart::id()].load(Ordering::Relaxed);
        if header.is_null() {
            let mut cx = TaskContext::from_waker(Waker::noop());
            return match future.as_mut().poll(&mut cx) {
                Poll::Ready(value) => Some(value),
                Poll::Pending => None,
            };
        }
        assert!(arch::interrupts::are_enabled(), "a coroutine must not wait with a spin lock held");
        // SAFETY: `header` is the running coroutine's; its waker is valid during this poll.
        let waker = unsafe { (*header).waker.expect("a running coroutine has a waker").as_ref() };
        if let Poll::Ready(value) = future.as_mut().poll(&mut TaskContext::from_waker(waker)) {
            return Some(value);
        }
        // SAFETY: switch back to the poller saved by `OnStack::poll`; it resumes us later.
        unsafe { switch(&raw mut (*header).coroutine, &raw const (*header).poller) };
    }
}

/// A mutex for code on coroutine stacks: a contended `lock` suspends the coroutine (it
/// must not spin: the holder may itself be suspended, waiting for the disk). Implements
/// `lock_api::RawMutex`, so crates generic over their lock (the ext4 layer) use it.
pub struct SleepMutex {
    locked: AtomicBool,
    waiters: WaitQueue,
}

impl SleepMutex {
    pub const fn new() -> Self {
        Self { locked: AtomicBool::new(false), waiters: WaitQueue::new() }
    }

    fn try_acquire(&self) -> bool {
        self.locked.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_ok()
    }

    fn acquire(&self) {
        if self.try_acquire() {
            return;
        }
        let acquired = block_on(core::future::poll_fn(|cx| {
            if self.try_acquire() {
                return Poll::Ready(());
            }
            self.waiters.register(cx.waker());
            if self.try_acquire() {
                return Poll::Ready(());
            }
            Poll::Pending
        }));
        if acquired.is_none() {
            // Not on a coroutine stack: only boot-time code gets here, with nothing
            // else holding file-system locks for long.
            while !self.try_acquire() {
                core::hint::spin_loop();
            }
        }
    }

    fn release(&self) {
        self.locked.store(false, Ordering::Release);
        self.waiters.wake_all();
    }
}

impl Default for SleepMutex {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: `lock` and `try_lock` give the flag to one owner at a time (an acquire
// compare-exchange) and `unlock` releases it. Guards may move between harts with their
// coroutine, which a flag-based lock allows (GuardSend).
unsafe impl lock_api::RawMutex for SleepMutex {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Self = SleepMutex::new();
    type GuardMarker = lock_api::GuardSend;

    fn lock(&self) {
        self.acquire();
    }

    fn try_lock(&self) -> bool {
        self.try_acquire()
    }

    unsafe fn unlock(&self) {
        self.release();
    }
}
