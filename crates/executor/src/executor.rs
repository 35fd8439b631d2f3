//! Run queues, the wake path (`schedule`), stealing and the idle protocol.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::future::Future;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use async_task::{ScheduleInfo, WithInfo};
use ksync::SpinLock;

use crate::JoinHandle;

/// The most harts one executor serves (one bit each in the idle mask).
pub const MAX_HARTS: usize = 64;

/// What the executor needs from the machine it runs on.
pub trait Platform: Send + Sync + 'static {
    /// Index of the hart (CPU, or OS thread on the host) running this code, below the
    /// executor's hart count.
    fn current_hart(&self) -> usize;

    /// Makes idle hart `hart` leave its sleep and look for work: an inter-processor
    /// interrupt in the kernel, `Thread::unpark` on the host. Called at most once per
    /// idle period of that hart.
    fn notify(&self, hart: usize);
}

/// A task's reference to the executor it belongs to: a strong count of the executor's
/// shared state, type-erased so that task and join-handle types do not name the
/// platform. It rides in async-task's per-task metadata, which lets the schedule
/// function capture nothing: async-task then calls it without creating a temporary
/// waker (a reference-count increment and decrement) on every wake.
pub(crate) struct Owner {
    shared: *const (),
    release: unsafe fn(*const ()),
}

// SAFETY: `shared` is an `Arc<Shared<P>>` with `P: Send + Sync`, which is Send + Sync.
unsafe impl Send for Owner {}
// SAFETY: as above.
unsafe impl Sync for Owner {}

impl Owner {
    fn new<P: Platform>(shared: &Arc<Shared<P>>) -> Self {
        /// # Safety
        /// `shared` must come from `Arc::into_raw` of an `Arc<Shared<P>>`.
        unsafe fn release<P: Platform>(shared: *const ()) {
            // SAFETY: this drops the strong count `Owner::new` took.
            unsafe { Arc::decrement_strong_count(shared as *const Shared<P>) }
        }
        Self { shared: Arc::into_raw(shared.clone()) as *const (), release: release::<P> }
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        // SAFETY: `release` was instantiated for the type `shared` points to.
        unsafe { (self.release)(self.shared) }
    }
}

type Runnable = async_task::Runnable<Owner>;

/// One hart's queue of runnable tasks.
struct RunQueue {
    tasks: SpinLock<VecDeque<Runnable>>,
    /// `tasks.len()`, readable without the lock (updated under it).
    len: AtomicUsize,
}

struct Shared<P> {
    platform: P,
    queues: Box<[RunQueue]>,
    /// Bit `h` set: hart `h` announced it is going to sleep.
    idle: AtomicU64,
    /// Total polls per hart (for statistics and tests).
    polls: Box<[AtomicU64]>,
}

/// A multi-hart executor. Share it by reference (a `static` in the kernel, an `Arc`
/// on the host); dropping it cancels the tasks still queued.
pub struct Executor<P: Platform> {
    shared: Arc<Shared<P>>,
}

impl<P: Platform> Executor<P> {
    /// An executor for `harts` harts (1 ..= [`MAX_HARTS`]).
    pub fn new(platform: P, harts: usize) -> Self {
        assert!((1..=MAX_HARTS).contains(&harts), "executor: {harts} harts is out of range");
        let queues = (0..harts)
            .map(|_| RunQueue { tasks: SpinLock::new(VecDeque::with_capacity(64)), len: AtomicUsize::new(0) })
            .collect();
        let polls = (0..harts).map(|_| AtomicU64::new(0)).collect();
        Self { shared: Arc::new(Shared { platform, queues, idle: AtomicU64::new(0), polls }) }
    }

    /// How many harts this executor serves.
    pub fn harts(&self) -> usize {
        self.shared.queues.len()
    }

    /// The platform this executor was built with.
    pub fn platform(&self) -> &P {
        &self.shared.platform
    }

    /// Spawns `future` onto the current hart's queue.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let schedule = WithInfo(|runnable: Runnable, info: ScheduleInfo| {
            let shared = runnable.metadata().shared as *const Shared<P>;
            // SAFETY: the task's `Owner` holds a strong count of this `Shared<P>` (the
            // type is fixed by this very `spawn`), and the task stays alive while we
            // hold its `runnable`.
            unsafe { (*shared).schedule(runnable, info) }
        });
        let builder = async_task::Builder::new().metadata(Owner::new(&self.shared));
        #[cfg(feature = "std")]
        let builder = builder.propagate_panic(true);
        let (runnable, task) = builder.spawn(move |_| future, schedule);
        runnable.schedule();
        JoinHandle(task)
    }

    /// Polls one runnable task of hart `hart` (stealing if its queue is empty).
    /// Returns false when there was nothing to run.
    pub fn run_once(&self, hart: usize) -> bool {
        let shared = &*self.shared;
        let runnable = match shared.pop(hart) {
            Some(runnable) => runnable,
            None => match shared.steal(hart) {
                Some(runnable) => runnable,
                None => return false,
            },
        };
        // Only this hart writes its counter: a plain load and store, no locked add.
        let polls = &shared.polls[hart];
        polls.store(polls.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        runnable.run();
        true
    }

    /// Runs tasks on `hart` until none is runnable; returns how many polls were made.
    pub fn run_until_idle(&self, hart: usize) -> u64 {
        let mut polls = 0;
        while self.run_once(hart) {
            polls += 1;
        }
        polls
    }

    /// Announces that `hart` is about to sleep. Call with interrupts masked; if it
    /// returns true, sleep (`wfi`) and call [`Executor::end_sleep`] after waking; if
    /// false, work arrived meanwhile: call `end_sleep` and run it.
    pub fn prepare_to_sleep(&self, hart: usize) -> bool {
        let shared = &*self.shared;
        shared.idle.fetch_or(1 << hart, Ordering::SeqCst);
        // Re-check after announcing, under each queue's lock: a waker that queued work
        // without seeing our bit is visible here (see `Shared::schedule`).
        !shared.has_work_for(hart)
    }

    /// Ends the idle period of `hart` (see [`Executor::prepare_to_sleep`]).
    pub fn end_sleep(&self, hart: usize) {
        self.shared.idle.fetch_and(!(1 << hart), Ordering::SeqCst);
    }

    /// Bit mask of harts currently announced idle.
    pub fn idle_harts(&self) -> u64 {
        self.shared.idle.load(Ordering::SeqCst)
    }

    /// Number of tasks queued on `hart`.
    pub fn queued(&self, hart: usize) -> usize {
        self.shared.queues[hart].len.load(Ordering::SeqCst)
    }

    /// Number of polls made on `hart` so far.
    pub fn polls(&self, hart: usize) -> u64 {
        self.shared.polls[hart].load(Ordering::Relaxed)
    }
}

impl<P: Platform> Drop for Executor<P> {
    fn drop(&mut self) {
        // Queued runnables hold clones of `shared` through their schedule functions;
        // dropping them cancels those tasks and breaks the reference cycle.
        for queue in self.shared.queues.iter() {
            let tasks = core::mem::take(&mut *queue.tasks.lock());
            queue.len.store(0, Ordering::SeqCst);
            drop(tasks);
        }
    }
}

impl<P: Platform> Shared<P> {
    /// The wake path: queue `runnable` on the current hart. If that hart is asleep (the
    /// waker runs elsewhere, e.g. a host thread outside the executor), notify it; if it
    /// now has more than this one task waiting, let an idle hart know there is work to
    /// steal.
    fn schedule(&self, runnable: Runnable, _info: ScheduleInfo) {
        let hart = self.platform.current_hart();
        let queue = &self.queues[hart];
        let queued_before = {
            let mut tasks = queue.tasks.lock();
            tasks.push_back(runnable);
            let len = tasks.len();
            queue.len.store(len, Ordering::Relaxed);
            len - 1
        };
        // Relaxed is enough: a hart announcing idleness sets its bit *before* taking
        // this queue's lock to look at it (`has_work_for`). If it took the lock after
        // us, it sees our task; if before, its bit happens-before our load here.
        let idle = self.idle.load(Ordering::Relaxed);
        if idle & (1 << hart) != 0 {
            self.notify_if_idle(hart);
        } else if queued_before > 0 && idle != 0 {
            self.notify_one_idle(hart);
        }
    }

    /// Notifies `hart` if it is still announced idle (claiming its idle bit first, so
    /// that only one waker sends the notification).
    fn notify_if_idle(&self, hart: usize) -> bool {
        let previous = self.idle.fetch_and(!(1 << hart), Ordering::SeqCst);
        let was_idle = previous & (1 << hart) != 0;
        if was_idle {
            self.platform.notify(hart);
        }
        was_idle
    }

    /// Notifies the lowest-numbered idle hart other than `hart`, if any.
    fn notify_one_idle(&self, hart: usize) {
        let mut idle = self.idle.load(Ordering::SeqCst) & !(1 << hart);
        while idle != 0 {
            let target = idle.trailing_zeros() as usize;
            if self.notify_if_idle(target) {
                return;
            }
            idle &= !(1 << target);
        }
    }

    fn pop(&self, hart: usize) -> Option<Runnable> {
        let queue = &self.queues[hart];
        if queue.len.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let mut tasks = queue.tasks.lock();
        let runnable = tasks.pop_front();
        queue.len.store(tasks.len(), Ordering::Relaxed);
        runnable
    }

    /// Takes half of the fullest-looking other queue (scanning from `hart + 1`);
    /// returns one task to run and keeps the rest on `hart`'s queue.
    fn steal(&self, hart: usize) -> Option<Runnable> {
        let harts = self.queues.len();
        for offset in 1..harts {
            let victim = &self.queues[(hart + offset) % harts];
            if victim.len.load(Ordering::Relaxed) == 0 {
                continue;
            }
            let Some(mut tasks) = victim.tasks.try_lock() else { continue };
            let take = tasks.len().div_ceil(2);
            if take == 0 {
                continue;
            }
            let mut stolen: VecDeque<Runnable> = tasks.drain(..take).collect();
            victim.len.store(tasks.len(), Ordering::Relaxed);
            drop(tasks);
            let first = stolen.pop_front();
            if !stolen.is_empty() {
                let own = &self.queues[hart];
                let mut own_tasks = own.tasks.lock();
                own_tasks.extend(stolen);
                own.len.store(own_tasks.len(), Ordering::Relaxed);
            }
            return first;
        }
        None
    }

    /// Whether `hart` should stay awake: its own queue has work, or another queue has
    /// more than the one task its hart is about to run. Each length is read under its
    /// queue's lock (see `schedule` for why that closes the lost-wake-up window); this
    /// runs only when a hart is about to sleep, never on the wake path.
    fn has_work_for(&self, hart: usize) -> bool {
        self.queues.iter().enumerate().any(|(index, queue)| {
            let len = queue.tasks.lock().len();
            if index == hart { len > 0 } else { len > 1 }
        })
    }
}
