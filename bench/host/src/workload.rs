//! The three workloads, written once and run unchanged on every executor.
//!
//! A [`Contender`] is one executor under test; it only supplies its own primitives (how
//! to spawn, how to yield) and drives a workload body from this file to completion on
//! the calling thread. Keeping the bodies shared means the executors run exactly the
//! same future code, so a difference in time is a difference in the executor.

use std::future::Future;
use std::time::Duration;

use crate::channel::{Receiver, Sender};

/// One benchmark workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// One task yielding N times: one wake + one poll per operation.
    Yield,
    /// A driver task spawning a trivial task and awaiting its handle, N times.
    SpawnJoin,
    /// Two tasks passing a value back and forth over one-slot channels, N round trips
    /// (two wakes + two polls per operation).
    PingPong,
}

impl Workload {
    /// Every workload, in report order.
    pub const ALL: [Workload; 3] = [Workload::Yield, Workload::SpawnJoin, Workload::PingPong];

    /// Short name used in the table and the JSON.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Yield => "yield",
            Workload::SpawnJoin => "spawn+join",
            Workload::PingPong => "ping-pong",
        }
    }

    /// What one operation is.
    pub fn operation(self) -> &'static str {
        match self {
            Workload::Yield => "wake+poll (yield_now)",
            Workload::SpawnJoin => "spawn trivial task + await its handle",
            Workload::PingPong => "round trip between two tasks",
        }
    }
}

/// One executor under test, driven on the calling thread.
pub trait Contender {
    /// Name used in the table and the JSON.
    fn name(&self) -> &'static str;

    /// Runs `operations` operations of `workload` to completion and returns the
    /// wall-clock time it took. Panics if the workload's result is wrong.
    fn run(&mut self, workload: Workload, operations: u64) -> Duration;
}

/// Yields `operations` times through `yield_now`; returns the number of yields.
pub async fn yield_many<Y>(operations: u64, yield_now: impl Fn() -> Y) -> u64
where
    Y: Future<Output = ()>,
{
    let mut count = 0;
    for _ in 0..operations {
        yield_now().await;
        count += 1;
    }
    count
}

/// Output of the trivial task that [`spawn_join_many`] spawns.
pub const TRIVIAL_OUTPUT: u64 = 1;

/// The trivial task: completes on its first poll.
pub async fn trivial() -> u64 {
    TRIVIAL_OUTPUT
}

/// `operations` times, spawns a [`trivial`] task through `spawn_trivial` and awaits its
/// handle; returns the sum of the outputs (`operations * TRIVIAL_OUTPUT`).
pub async fn spawn_join_many<H>(operations: u64, spawn_trivial: impl Fn() -> H) -> u64
where
    H: Future<Output = u64>,
{
    let mut sum = 0;
    for _ in 0..operations {
        sum += spawn_trivial().await;
    }
    sum
}

/// The initiating side of ping-pong: sends `1..=round_trips`, expecting each back
/// incremented; returns the last value received (`round_trips + 1`).
pub async fn ping(round_trips: u64, to_peer: Sender, mut from_peer: Receiver) -> u64 {
    let mut last = 0;
    for value in 1..=round_trips {
        to_peer.send(value);
        last = from_peer.recv().await;
        assert_eq!(last, value + 1, "ping-pong: wrong reply");
    }
    last
}

/// The answering side of ping-pong: replies to each of `round_trips` values with the
/// value plus one; returns how many it answered.
pub async fn pong(round_trips: u64, to_peer: Sender, mut from_peer: Receiver) -> u64 {
    for _ in 0..round_trips {
        let value = from_peer.recv().await;
        to_peer.send(value + 1);
    }
    round_trips
}

/// Checks a workload's result (all contenders must compute the same thing).
pub fn check(workload: Workload, operations: u64, result: u64) {
    let expected = match workload {
        Workload::Yield => operations,
        Workload::SpawnJoin => operations * TRIVIAL_OUTPUT,
        // ping's last reply plus pong's count.
        Workload::PingPong => (operations + 1) + operations,
    };
    assert_eq!(result, expected, "{}: wrong result", workload.name());
}
