//! The seed demo: two kernel tasks that sleep on the real timer.
//!
//! Task 1 sleeps 200 ms, task 2 sleeps 500 ms; both start at once, so the lines come
//! out as start 1, start 2, end 1, end 2, each stamped with the guest time. On several
//! harts an idle hart may steal task 2 before task 1 printed, so task 2 is spawned
//! once task 1 has announced its start (an event, not a timing assumption).

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::Poll;
use core::time::Duration;

use ksync::WaitQueue;

use crate::runtime::{sleep, spawn};

/// "Task 1 has printed its first line".
#[derive(Default)]
struct Started {
    done: AtomicBool,
    waiters: WaitQueue,
}

async fn task(number: u32, nap: Duration, started: Option<Arc<Started>>) {
    println_timed!("start task {number}");
    if let Some(started) = started {
        started.done.store(true, Ordering::Release);
        started.waiters.wake_all();
    }
    sleep(nap).await;
    println_timed!("end task {number}");
}

/// Runs both tasks and waits for them.
pub async fn run() {
    let started = Arc::new(Started::default());
    let first = spawn(task(1, Duration::from_millis(200), Some(started.clone())));
    core::future::poll_fn(|cx| {
        started.waiters.register(cx.waker());
        if started.done.load(Ordering::Acquire) { Poll::Ready(()) } else { Poll::Pending }
    })
    .await;
    let second = spawn(task(2, Duration::from_millis(500), None));
    first.await;
    second.await;
}
