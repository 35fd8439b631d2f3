//! The seed demo: two kernel tasks that sleep on the real timer.
//!
//! Task 1 sleeps 200 ms, task 2 sleeps 500 ms; both start at once, so the lines come
//! out as start 1, start 2, end 1, end 2, each stamped with the guest time.

use core::time::Duration;

use crate::runtime::{sleep, spawn};

async fn task(number: u32, nap: Duration) {
    println_timed!("start task {number}");
    sleep(nap).await;
    println_timed!("end task {number}");
}

/// Runs both tasks and waits for them.
pub async fn run() {
    let first = spawn(task(1, Duration::from_millis(200)));
    let second = spawn(task(2, Duration::from_millis(500)));
    first.await;
    second.await;
}
