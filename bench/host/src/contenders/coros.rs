//! The coros executor as a contender: `executor::host::LocalRuntime`, one hart run by
//! the calling thread (the same shape as tokio's `current_thread`).
//!
//! Tasks spawn other tasks through the runtime, and coros only spawns `'static`
//! futures, so the runtime lives in a `static` that the workload futures can name.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use executor::host::LocalRuntime;

use crate::channel::channel;
use crate::workload::{self, Contender, Workload};

static RUNTIME: LazyLock<LocalRuntime> = LazyLock::new(LocalRuntime::new);

/// The coros `LocalRuntime`.
pub struct Coros;

impl Coros {
    /// The contender (the runtime itself is created on first use).
    pub fn new() -> Self {
        LazyLock::force(&RUNTIME);
        Self
    }
}

impl Contender for Coros {
    fn name(&self) -> &'static str {
        "coros"
    }

    fn run(&mut self, workload: Workload, operations: u64) -> Duration {
        let start = Instant::now();
        let result = match workload {
            Workload::Yield => {
                RUNTIME.block_on(workload::yield_many(operations, executor::yield_now))
            }
            Workload::SpawnJoin => RUNTIME.block_on(workload::spawn_join_many(operations, || {
                RUNTIME.executor().spawn(workload::trivial())
            })),
            Workload::PingPong => RUNTIME.block_on(async move {
                let (to_pong, from_ping) = channel();
                let (to_ping, from_pong) = channel();
                let ponger = RUNTIME
                    .executor()
                    .spawn(workload::pong(operations, to_ping, from_ping));
                let last = workload::ping(operations, to_pong, from_pong).await;
                last + ponger.await
            }),
        };
        let elapsed = start.elapsed();
        workload::check(workload, operations, result);
        elapsed
    }
}
