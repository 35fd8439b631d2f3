//! async-executor as a contender: a `LocalExecutor` run on the calling thread with
//! `futures_lite::future::block_on(executor.run(...))`.
//!
//! The executor sits in an `Rc` so that workload tasks can hold a handle to it and
//! spawn further tasks.

use std::rc::Rc;
use std::time::{Duration, Instant};

use async_executor::LocalExecutor;
use futures_lite::future;

use crate::channel::channel;
use crate::workload::{self, Contender, Workload};

/// An async-executor `LocalExecutor`.
pub struct AsyncExecutor {
    executor: Rc<LocalExecutor<'static>>,
}

impl AsyncExecutor {
    /// A new, empty local executor.
    pub fn new() -> Self {
        Self {
            executor: Rc::new(LocalExecutor::new()),
        }
    }
}

impl Contender for AsyncExecutor {
    fn name(&self) -> &'static str {
        "async-executor"
    }

    fn run(&mut self, workload: Workload, operations: u64) -> Duration {
        let executor = &self.executor;
        let spawner = executor.clone();
        let start = Instant::now();
        let task = match workload {
            Workload::Yield => executor.spawn(workload::yield_many(operations, future::yield_now)),
            Workload::SpawnJoin => executor
                .spawn(workload::spawn_join_many(operations, move || {
                    spawner.spawn(workload::trivial())
                })),
            Workload::PingPong => executor.spawn(async move {
                let (to_pong, from_ping) = channel();
                let (to_ping, from_pong) = channel();
                let ponger = spawner.spawn(workload::pong(operations, to_ping, from_ping));
                let last = workload::ping(operations, to_pong, from_pong).await;
                last + ponger.await
            }),
        };
        let result = future::block_on(executor.run(task));
        let elapsed = start.elapsed();
        workload::check(workload, operations, result);
        elapsed
    }
}
