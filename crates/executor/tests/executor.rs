//! Host tests of the executor: fairness, wake paths, cancellation, panics, stealing,
//! and the rule that nothing is polled unless it was woken.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use executor::host::{HostRuntime, LocalRuntime};
use executor::{yield_now, Executor, Platform};

/// Scale iteration counts down under miri, which is slow.
fn scaled(n: usize) -> usize {
    if cfg!(miri) { n.min(20) } else { n }
}

/// A platform for driving harts by hand from the test thread.
struct ManualPlatform {
    hart: AtomicUsize,
    notified: Mutex<Vec<usize>>,
}

impl ManualPlatform {
    fn new() -> Self {
        Self { hart: AtomicUsize::new(0), notified: Mutex::new(Vec::new()) }
    }
}

impl Platform for ManualPlatform {
    fn current_hart(&self) -> usize {
        self.hart.load(Ordering::SeqCst)
    }
    fn notify(&self, hart: usize) {
        self.notified.lock().unwrap().push(hart);
    }
}

/// A future that counts its polls and stays pending until `ready` is set, keeping the
/// latest waker so the test can wake it.
#[derive(Default)]
struct Gate {
    polls: AtomicUsize,
    ready: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Gate {
    fn wait(self: &Arc<Self>) -> GateFuture {
        GateFuture(self.clone())
    }
    fn wake(&self) {
        if let Some(waker) = self.waker.lock().unwrap().take() {
            waker.wake();
        }
    }
    fn open(&self) {
        self.ready.store(true, Ordering::SeqCst);
        self.wake();
    }
}

struct GateFuture(Arc<Gate>);

impl Future for GateFuture {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.polls.fetch_add(1, Ordering::SeqCst);
        *self.0.waker.lock().unwrap() = Some(cx.waker().clone());
        if self.0.ready.load(Ordering::SeqCst) { Poll::Ready(()) } else { Poll::Pending }
    }
}

#[test]
fn nothing_is_polled_unless_woken() {
    let executor = Executor::new(ManualPlatform::new(), 1);
    let gate = Arc::new(Gate::default());
    let task = executor.spawn(gate.wait());
    assert_eq!(executor.run_until_idle(0), 1, "a new task is polled once");
    assert_eq!(gate.polls.load(Ordering::SeqCst), 1);
    // Nothing woke it: running the executor again polls nothing, however often.
    for _ in 0..10 {
        assert_eq!(executor.run_until_idle(0), 0);
    }
    assert_eq!(gate.polls.load(Ordering::SeqCst), 1);
    // Each wake gives exactly one poll.
    for expected in 2..5 {
        gate.wake();
        assert_eq!(executor.run_until_idle(0), 1);
        assert_eq!(gate.polls.load(Ordering::SeqCst), expected);
    }
    gate.open();
    assert_eq!(executor.run_until_idle(0), 1);
    assert!(task.is_finished());
    assert_eq!(executor.polls(0), 5);
}

#[test]
fn repeated_wakes_before_a_poll_coalesce() {
    let executor = Executor::new(ManualPlatform::new(), 1);
    let gate = Arc::new(Gate::default());
    let _task = executor.spawn(gate.wait());
    executor.run_until_idle(0);
    let waker = gate.waker.lock().unwrap().clone().unwrap();
    waker.wake_by_ref();
    waker.wake_by_ref();
    waker.wake_by_ref();
    assert_eq!(executor.queued(0), 1);
    assert_eq!(executor.run_until_idle(0), 1);
    assert_eq!(gate.polls.load(Ordering::SeqCst), 2);
}

#[test]
fn fifo_fairness_round_robin() {
    let executor = Executor::new(ManualPlatform::new(), 1);
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for id in 0..3 {
        let order = order.clone();
        tasks.push(executor.spawn(async move {
            for round in 0..3 {
                order.lock().unwrap().push((round, id));
                yield_now().await;
            }
        }));
    }
    executor.run_until_idle(0);
    let order = order.lock().unwrap().clone();
    let expected: Vec<_> = (0..3).flat_map(|round| (0..3).map(move |id| (round, id))).collect();
    assert_eq!(order, expected, "yielding tasks take turns in FIFO order");
    assert!(tasks.iter().all(|t| t.is_finished()));
}

#[test]
fn wake_while_running_requeues_once() {
    let executor = Executor::new(ManualPlatform::new(), 1);
    let polls = Arc::new(AtomicUsize::new(0));
    let counter = polls.clone();
    let task = executor.spawn(std::future::poll_fn(move |cx| {
        // Wake ourselves twice during the poll: must be polled exactly once more.
        let n = counter.fetch_add(1, Ordering::SeqCst);
        if n == 0 {
            cx.waker().wake_by_ref();
            cx.waker().wake_by_ref();
            Poll::Pending
        } else {
            Poll::Ready(n)
        }
    }));
    assert_eq!(executor.run_until_idle(0), 2);
    assert_eq!(polls.load(Ordering::SeqCst), 2);
    assert!(task.is_finished());
}

#[test]
fn join_handle_returns_output() {
    let runtime = LocalRuntime::new();
    let total = runtime.block_on(async {
        let executor_handles: Vec<_> = (0..5u64).map(|n| async move { n * n }).collect();
        let mut sum = 0;
        for future in executor_handles {
            sum += future.await;
        }
        sum
    });
    assert_eq!(total, 30);

    let runtime = HostRuntime::new(2);
    let handles: Vec<_> = (0..8u64).map(|n| runtime.spawn(async move { n + 100 })).collect();
    let outputs: Vec<u64> = handles.into_iter().map(|h| runtime.block_on(h)).collect();
    assert_eq!(outputs, (100..108).collect::<Vec<_>>());
}

#[test]
fn spawn_and_join_from_inside_a_task() {
    let runtime = HostRuntime::new(2);
    let executor_result = runtime.block_on(async {
        let mut sum = 0;
        for n in 0..10u32 {
            // Spawning from a task uses the global-free API: tasks get the executor by Arc.
            sum += n;
            yield_now().await;
        }
        sum
    });
    assert_eq!(executor_result, 45);
}

#[test]
fn dropping_the_handle_cancels() {
    let executor = Executor::new(ManualPlatform::new(), 1);
    let gate = Arc::new(Gate::default());
    let dropped = Arc::new(AtomicBool::new(false));
    struct SetOnDrop(Arc<AtomicBool>);
    impl Drop for SetOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let guard = SetOnDrop(dropped.clone());
    let wait = gate.wait();
    let task = executor.spawn(async move {
        let _guard = guard;
        wait.await;
        unreachable!("a cancelled task is never polled again");
    });
    executor.run_until_idle(0);
    assert_eq!(gate.polls.load(Ordering::SeqCst), 1);
    drop(task);
    executor.run_until_idle(0);
    assert!(dropped.load(Ordering::SeqCst), "the future is dropped on cancellation");
    gate.open();
    assert_eq!(executor.run_until_idle(0), 0);
    assert_eq!(gate.polls.load(Ordering::SeqCst), 1);
}

#[test]
fn detached_task_runs_to_completion() {
    let executor = Executor::new(ManualPlatform::new(), 1);
    let done = Arc::new(AtomicBool::new(false));
    let flag = done.clone();
    executor
        .spawn(async move {
            yield_now().await;
            flag.store(true, Ordering::SeqCst);
        })
        .detach();
    executor.run_until_idle(0);
    assert!(done.load(Ordering::SeqCst));
}

#[test]
fn cancel_returns_output_if_completed() {
    let executor = Executor::new(ManualPlatform::new(), 1);
    let finished = executor.spawn(async { 7 });
    executor.run_until_idle(0);
    let pending = executor.spawn(std::future::pending::<i32>());
    executor.run_until_idle(0);
    let mut cx = Context::from_waker(Waker::noop());
    let mut cancel_finished = std::pin::pin!(finished.cancel());
    assert_eq!(cancel_finished.as_mut().poll(&mut cx), Poll::Ready(Some(7)));
    // Cancelling a pending task schedules it once more so its hart drops the future.
    let mut cancel_pending = std::pin::pin!(pending.cancel());
    assert_eq!(cancel_pending.as_mut().poll(&mut cx), Poll::Pending);
    executor.run_until_idle(0);
    assert_eq!(cancel_pending.as_mut().poll(&mut cx), Poll::Ready(None));
}

#[test]
#[cfg_attr(miri, ignore = "unwinding through the executor is slow under miri")]
fn a_panicking_task_does_not_break_the_executor() {
    let runtime = HostRuntime::new(2);
    let bad = runtime.spawn(async {
        yield_now().await;
        panic!("task failure (expected by the test)");
    });
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runtime.block_on(bad)));
    assert!(result.is_err(), "the panic reaches whoever joins the task");
    // The harts still run other tasks.
    let value = runtime.block_on(async {
        yield_now().await;
        41 + 1
    });
    assert_eq!(value, 42);
}

#[test]
fn wake_from_another_thread() {
    let runtime = HostRuntime::new(1);
    let gate = Arc::new(Gate::default());
    let task = runtime.spawn(gate.wait());
    // Wait until the task has parked its waker, then open the gate from a foreign thread.
    while gate.waker.lock().unwrap().is_none() {
        std::thread::yield_now();
    }
    let remote = gate.clone();
    std::thread::spawn(move || remote.open()).join().unwrap();
    runtime.block_on(task);
    assert_eq!(gate.polls.load(Ordering::SeqCst), 2);
}

#[test]
fn no_lost_wakeups_under_stress() {
    // Ping-pong between tasks on different harts and foreign threads: every wake must
    // be delivered or a task hangs (the test would then never finish).
    let runtime = HostRuntime::new(2);
    let rounds = scaled(2_000);
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let gate = Arc::new(Gate::default());
            let waiter = gate.clone();
            let task = runtime.spawn(async move {
                let mut seen = 0;
                while seen < rounds {
                    waiter.ready.store(false, Ordering::SeqCst);
                    std::future::poll_fn(|cx| {
                        *waiter.waker.lock().unwrap() = Some(cx.waker().clone());
                        if waiter.ready.swap(false, Ordering::SeqCst) { Poll::Ready(()) } else { Poll::Pending }
                    })
                    .await;
                    seen += 1;
                }
                seen
            });
            (gate, task)
        })
        .collect();
    let wakers: Vec<_> = tasks
        .iter()
        .map(|(gate, task)| {
            let gate = gate.clone();
            let finished = Arc::new(AtomicBool::new(false));
            let flag = finished.clone();
            let thread = std::thread::spawn(move || {
                while !flag.load(Ordering::SeqCst) {
                    gate.ready.store(true, Ordering::SeqCst);
                    gate.wake();
                    std::thread::yield_now();
                }
            });
            let _ = task;
            (finished, thread)
        })
        .collect();
    for (_, task) in tasks {
        assert_eq!(runtime.block_on(task), rounds);
    }
    for (finished, thread) in wakers {
        finished.store(true, Ordering::SeqCst);
        thread.join().unwrap();
    }
}

#[test]
fn idle_hart_is_notified_and_steals() {
    let executor = Executor::new(ManualPlatform::new(), 2);
    // Hart 1 has nothing: it announces it is going to sleep.
    assert!(executor.prepare_to_sleep(1));
    assert_eq!(executor.idle_harts(), 0b10);
    // Hart 0 queues two tasks: the second one leaves work to steal, so hart 1 is
    // notified (once) and its idle bit is claimed.
    let first = executor.spawn(async { 1 });
    assert!(executor.platform().notified.lock().unwrap().is_empty(), "one task: hart 0 runs it itself");
    let second = executor.spawn(async { 2 });
    assert_eq!(*executor.platform().notified.lock().unwrap(), vec![1]);
    assert_eq!(executor.idle_harts(), 0);
    executor.end_sleep(1);
    // Hart 1 steals half of hart 0's queue (one task) and runs it.
    executor.platform().hart.store(1, Ordering::SeqCst);
    assert!(executor.run_once(1));
    assert_eq!(executor.queued(0), 1);
    assert!(first.is_finished());
    assert!(executor.run_once(1), "hart 1 steals the remaining task too");
    assert!(second.is_finished());
    assert!(!executor.run_once(1));
    assert_eq!(executor.polls(1), 2);
    assert_eq!(executor.polls(0), 0);
}

#[test]
fn prepare_to_sleep_refuses_when_work_is_queued() {
    let executor = Executor::new(ManualPlatform::new(), 2);
    let _task = executor.spawn(std::future::pending::<()>());
    assert!(!executor.prepare_to_sleep(0), "hart 0 has a task: it must not sleep");
    executor.end_sleep(0);
    assert!(executor.prepare_to_sleep(1), "one task on hart 0 is hart 0's to run");
    executor.end_sleep(1);
}

#[test]
fn wake_of_a_sleeping_hart_notifies_it() {
    let executor = Executor::new(ManualPlatform::new(), 2);
    executor.platform().hart.store(1, Ordering::SeqCst);
    let gate = Arc::new(Gate::default());
    let _task = executor.spawn(gate.wait());
    assert!(executor.run_once(1));
    assert!(executor.prepare_to_sleep(1));
    // A waker running "on hart 1" while hart 1 is asleep (a foreign thread on the host).
    gate.wake();
    assert_eq!(*executor.platform().notified.lock().unwrap(), vec![1]);
}

#[test]
fn many_tasks_across_harts_all_complete() {
    let runtime = HostRuntime::new(4);
    let count = scaled(1_000);
    let done = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..count)
        .map(|_| {
            let done = done.clone();
            runtime.spawn(async move {
                for _ in 0..3 {
                    yield_now().await;
                }
                done.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    for handle in handles {
        runtime.block_on(handle);
    }
    assert_eq!(done.load(Ordering::SeqCst), count);
    let _ = Duration::ZERO;
}
