//! tokio as a contender: a `current_thread` runtime (no I/O or time driver) run by the
//! calling thread.
//!
//! Each workload is spawned as a task and the thread blocks on its handle, so the
//! workload runs as a scheduled task exactly as it does on the other executors (not as
//! the `block_on` future, which tokio polls on a separate path).

use std::time::{Duration, Instant};

use tokio::runtime::{Builder, Runtime};

use crate::channel::channel;
use crate::workload::{self, Contender, Workload};

/// A tokio `current_thread` runtime.
pub struct Tokio {
    runtime: Runtime,
}

impl Tokio {
    /// A new `current_thread` runtime.
    pub fn new() -> Self {
        let runtime = Builder::new_current_thread()
            .build()
            .expect("building a tokio current_thread runtime");
        Self { runtime }
    }
}

impl Contender for Tokio {
    fn name(&self) -> &'static str {
        "tokio"
    }

    fn run(&mut self, workload: Workload, operations: u64) -> Duration {
        let runtime = &self.runtime;
        let start = Instant::now();
        let task = match workload {
            Workload::Yield => {
                runtime.spawn(workload::yield_many(operations, tokio::task::yield_now))
            }
            Workload::SpawnJoin => runtime.spawn(workload::spawn_join_many(operations, || {
                let handle = tokio::spawn(workload::trivial());
                async move { handle.await.expect("the trivial task panicked") }
            })),
            Workload::PingPong => runtime.spawn(async move {
                let (to_pong, from_ping) = channel();
                let (to_ping, from_pong) = channel();
                let ponger = tokio::spawn(workload::pong(operations, to_ping, from_ping));
                let last = workload::ping(operations, to_pong, from_pong).await;
                last + ponger.await.expect("the pong task panicked")
            }),
        };
        let result = runtime.block_on(task).expect("the workload task panicked");
        let elapsed = start.elapsed();
        workload::check(workload, operations, result);
        elapsed
    }
}
