//! Block devices as asynchronous request queues, and the block cache above them.
//!
//! A [`BlockDevice`] takes [`Request`]s and completes each one later — from the device's
//! interrupt in the kernel — by calling the request's completion with the buffer it
//! owned while the device used it. Ownership of the buffer moves into the request and
//! back out on completion, so a caller that stops waiting (a dropped future) can never
//! free memory the device still writes to. [`submit`] turns a request into a future.
//!
//! [`cache::BlockCache`] keeps 4 KiB blocks of one device: reads wait for the device only
//! on a miss (and start read-ahead when access is sequential), writes mark blocks dirty,
//! write-back sends dirty runs as few large requests, many in flight at once, and clean
//! blocks are evicted, least recently used first, when the cache is over its budget.
//! Everything here is plain Rust tested on the host with a RAM disk and under miri.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod cache;
pub mod ramdisk;

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use abi::Errno;
use ksync::SpinLock;

/// Bytes in a sector, the device's addressing unit.
pub const SECTOR_SIZE: usize = 512;

/// What a request asks the device to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Fill the buffer from the sectors starting at `sector`.
    Read,
    /// Write the buffer to the sectors starting at `sector`.
    Write,
    /// Make every completed write durable (the buffer is empty).
    Flush,
}

/// Called once when a request is done, with its outcome and its buffer back.
pub type Completion = Box<dyn FnOnce(Result<(), Errno>, Box<[u8]>) + Send>;

/// One device request. The device owns the buffer until it calls `done`.
pub struct Request {
    pub operation: Operation,
    pub sector: u64,
    /// A multiple of [`SECTOR_SIZE`] bytes (empty for a flush).
    pub buffer: Box<[u8]>,
    pub done: Completion,
}

/// A disk: takes requests and completes them asynchronously (possibly many at once,
/// in any order). `submit` never blocks: a device whose queue is full keeps the
/// request until a slot frees.
pub trait BlockDevice: Send + Sync {
    /// Capacity in sectors.
    fn sectors(&self) -> u64;
    /// Whether writes are refused (`EROFS`).
    fn read_only(&self) -> bool;
    /// Starts `request`; its completion runs later (maybe on another hart, maybe in an
    /// interrupt handler, maybe before `submit` returns).
    fn submit(&self, request: Request);
}

struct Slot {
    outcome: Option<(Result<(), Errno>, Box<[u8]>)>,
    waker: Option<Waker>,
}

/// A request in flight, as a future of its outcome and buffer.
pub struct Submitted {
    slot: Arc<SpinLock<Slot>>,
}

impl Future for Submitted {
    type Output = (Result<(), Errno>, Box<[u8]>);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = self.slot.lock();
        if let Some(outcome) = slot.outcome.take() {
            return Poll::Ready(outcome);
        }
        if !slot.waker.as_ref().is_some_and(|waker| waker.will_wake(cx.waker())) {
            slot.waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// Submits a request whose outcome is awaited. Dropping the future is safe: the buffer
/// stays with the device until it completes, and is freed then.
pub fn submit(device: &dyn BlockDevice, operation: Operation, sector: u64, buffer: Box<[u8]>) -> Submitted {
    let slot = Arc::new(SpinLock::new(Slot { outcome: None, waker: None }));
    let completion_slot = slot.clone();
    device.submit(Request {
        operation,
        sector,
        buffer,
        done: Box::new(move |result, buffer| {
            let waker = {
                let mut slot = completion_slot.lock();
                slot.outcome = Some((result, buffer));
                slot.waker.take()
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        }),
    });
    Submitted { slot }
}

/// A zeroed buffer of `len` bytes.
pub fn zeroed(len: usize) -> Box<[u8]> {
    alloc::vec![0u8; len].into_boxed_slice()
}
