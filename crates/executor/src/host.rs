//! Running the executor on host threads: one OS thread plays one hart.
//!
//! Used by the host tests and the host benchmarks. "Sleeping" is `thread::park`, and
//! [`Platform::notify`] is `Thread::unpark` (whose token makes an unpark that arrives
//! before the park harmless: the same no-lost-wake-up shape as `wfi` with a pending
//! interrupt).

use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread::{self, Thread};

use crate::{Executor, JoinHandle, Platform};

static NEXT_PLATFORM_ID: AtomicUsize = AtomicUsize::new(1);

thread_local! {
    /// (platform id, hart) of the executor loop running on this thread, if any.
    static CURRENT: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
}

/// Harts are OS threads; threads outside the executor count as hart 0.
pub struct HostPlatform {
    id: usize,
    threads: Mutex<Vec<Option<Thread>>>,
}

impl HostPlatform {
    fn new(harts: usize) -> Self {
        Self { id: NEXT_PLATFORM_ID.fetch_add(1, Ordering::Relaxed), threads: Mutex::new(vec![None; harts]) }
    }

    fn register_current(&self, hart: usize) {
        CURRENT.with(|current| current.set((self.id, hart)));
        self.threads.lock().unwrap()[hart] = Some(thread::current());
    }
}

impl Platform for HostPlatform {
    fn current_hart(&self) -> usize {
        let (id, hart) = CURRENT.with(Cell::get);
        if id == self.id { hart } else { 0 }
    }

    fn notify(&self, hart: usize) {
        if let Some(thread) = &self.threads.lock().unwrap()[hart] {
            thread.unpark();
        }
    }
}

/// The per-hart loop: run what is runnable, then sleep until notified.
fn hart_loop(executor: &Executor<HostPlatform>, hart: usize, stop: impl Fn() -> bool) {
    while !stop() {
        executor.run_until_idle(hart);
        if executor.prepare_to_sleep(hart) && !stop() {
            thread::park();
        }
        executor.end_sleep(hart);
    }
}

/// An executor whose harts are `harts` background threads.
pub struct HostRuntime {
    executor: Arc<Executor<HostPlatform>>,
    stop: Arc<AtomicBool>,
    threads: Vec<thread::JoinHandle<()>>,
}

impl HostRuntime {
    /// Starts `harts` threads, each running one hart's executor loop.
    pub fn new(harts: usize) -> Self {
        let executor = Arc::new(Executor::new(HostPlatform::new(harts), harts));
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..harts)
            .map(|hart| {
                let executor = executor.clone();
                let stop = stop.clone();
                thread::Builder::new()
                    .name(format!("hart{hart}"))
                    .spawn(move || {
                        executor.platform().register_current(hart);
                        hart_loop(&executor, hart, || stop.load(Ordering::SeqCst));
                    })
                    .expect("spawning a hart thread")
            })
            .collect();
        Self { executor, stop, threads }
    }

    /// The executor the harts run.
    pub fn executor(&self) -> &Executor<HostPlatform> {
        &self.executor
    }

    /// Spawns a task (from outside the executor it lands on hart 0's queue).
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.executor.spawn(future)
    }

    /// Spawns `future` and blocks the calling thread until it completes.
    pub fn block_on<F>(&self, future: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        wait_for(self.spawn(future))
    }
}

impl Drop for HostRuntime {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for hart in 0..self.threads.len() {
            self.executor.platform().notify(hart);
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Blocks the calling thread (parking it) until `handle` has its output.
fn wait_for<T>(handle: JoinHandle<T>) -> T {
    let mut handle = pin!(handle);
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = handle.as_mut().poll(&mut cx) {
            return output;
        }
        thread::park();
    }
}

struct ThreadWaker(Thread);

impl std::task::Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// A one-hart executor run by the calling thread, like tokio's `current_thread`.
pub struct LocalRuntime {
    executor: Executor<HostPlatform>,
}

impl LocalRuntime {
    /// A one-hart executor; its hart is whichever thread calls [`LocalRuntime::block_on`].
    pub fn new() -> Self {
        Self { executor: Executor::new(HostPlatform::new(1), 1) }
    }

    /// The executor.
    pub fn executor(&self) -> &Executor<HostPlatform> {
        &self.executor
    }

    /// Runs `future` and every task it spawns on this thread until `future` completes.
    pub fn block_on<F>(&self, future: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.executor.platform().register_current(0);
        let handle = self.executor.spawn(future);
        // A notification sent before this thread registered is not lost: the loop looks
        // at the queue before its first park.
        hart_loop(&self.executor, 0, || handle.is_finished());
        let mut handle = pin!(handle);
        match handle.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(output) => output,
            Poll::Pending => unreachable!("the loop ends only once the task is finished"),
        }
    }
}

impl Default for LocalRuntime {
    fn default() -> Self {
        Self::new()
    }
}
