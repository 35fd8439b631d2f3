//! Futexes: a wait is a future parked on the futex's queue, woken by FUTEX_WAKE.
//!
//! Like Linux, a futex is keyed by (address space, user address) when it is private
//! (FUTEX_PRIVATE_FLAG, or a word in private memory) and by the physical address of the
//! word when it lives in shared memory, so processes mapping the same page meet on the
//! same queue.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::task::{Poll, Waker};

use abi::process as p;
use abi::{Errno, Result};
use ksync::SpinLock;

use super::interruptible;
use crate::process::uaccess::UserMemory;
use crate::process::{Process, Thread};

/// A parked waiter: its bitset, its waker, and whether it has been woken.
struct Waiter {
    bitset: u32,
    waker: Waker,
    woken: Arc<core::sync::atomic::AtomicBool>,
}

/// Key: (address space identity, user address), or (0, physical address) for a word
/// in shared memory.
type Key = (usize, usize);

static FUTEXES: SpinLock<BTreeMap<Key, Vec<Waiter>>> = SpinLock::new(BTreeMap::new());

fn key(process: &Process, address: usize) -> Key {
    (Arc::as_ptr(&process.space()) as usize, address)
}

/// The key of a futex operation: private flag → per address space; otherwise the
/// physical address if the word is in shared memory.
fn key_for(process: &Process, address: usize, op: u32) -> Result<Key> {
    if op & p::FUTEX_PRIVATE_FLAG != 0 {
        return Ok(key(process, address));
    }
    let space = process.space();
    let physical = space.lock().shared_physical_address(mm::VirtAddr(address))?;
    Ok(match physical {
        Some(physical) => (0, physical.0),
        None => key(process, address),
    })
}

/// Wakes up to `count` waiters of the futex at `address` (used at thread exit too).
pub fn wake_address(process: &Process, address: usize, count: usize) -> usize {
    // Linux wakes the clear_child_tid word as a shared futex.
    let key = key_for(process, address, 0).unwrap_or_else(|_| key(process, address));
    wake(key, count, u32::MAX)
}

fn wake(key: Key, count: usize, bitset: u32) -> usize {
    let mut woken = Vec::new();
    {
        let mut futexes = FUTEXES.lock();
        if let Some(waiters) = futexes.get_mut(&key) {
            let mut index = 0;
            while index < waiters.len() && woken.len() < count {
                if waiters[index].bitset & bitset != 0 {
                    let waiter = waiters.remove(index);
                    waiter.woken.store(true, core::sync::atomic::Ordering::Release);
                    woken.push(waiter.waker);
                } else {
                    index += 1;
                }
            }
            if waiters.is_empty() {
                futexes.remove(&key);
            }
        }
    }
    let total = woken.len();
    woken.into_iter().for_each(Waker::wake);
    total
}

fn requeue(from: Key, to: Key, wake_count: usize, requeue_count: usize) -> usize {
    let woken = wake(from, wake_count, u32::MAX);
    let mut futexes = FUTEXES.lock();
    let Some(mut waiters) = futexes.remove(&from) else { return woken };
    let moved: Vec<Waiter> = waiters.drain(..requeue_count.min(waiters.len())).collect();
    let moved_count = moved.len();
    if !waiters.is_empty() {
        futexes.insert(from, waiters);
    }
    futexes.entry(to).or_default().extend(moved);
    woken + moved_count
}

async fn wait(thread: &Thread, address: usize, op: u32, expected: u32, timeout: Option<timer::Instant>, bitset: u32) -> Result<usize> {
    if bitset == 0 {
        return Err(Errno::EINVAL);
    }
    let key = key_for(&thread.process, address, op)?;
    let memory = UserMemory(thread.process.space());
    let woken = Arc::new(core::sync::atomic::AtomicBool::new(false));
    let mut registered = false;
    let mut sleep = timeout.map(|deadline| crate::runtime::timers().sleep_until(deadline));
    let result = interruptible(core::future::poll_fn(|cx| {
        if woken.load(core::sync::atomic::Ordering::Acquire) {
            return Poll::Ready(Ok(0));
        }
        if !registered {
            // Check the value and enqueue under the table lock, so a FUTEX_WAKE that
            // follows the user's store cannot slip in between.
            let mut futexes = FUTEXES.lock();
            let value: u32 = match memory.read(address) {
                Ok(value) => value,
                Err(error) => return Poll::Ready(Err(error)),
            };
            if value != expected {
                return Poll::Ready(Err(Errno::EAGAIN));
            }
            futexes.entry(key).or_default().push(Waiter { bitset, waker: cx.waker().clone(), woken: woken.clone() });
            registered = true;
        }
        if let Some(sleep) = sleep.as_mut() {
            if core::future::Future::poll(core::pin::Pin::new(sleep), cx).is_ready() {
                return Poll::Ready(Err(Errno::ETIMEDOUT));
            }
        }
        Poll::Pending
    }))
    .await;
    if registered && !woken.load(core::sync::atomic::Ordering::Acquire) {
        // Timed out or interrupted: leave the queue.
        let mut futexes = FUTEXES.lock();
        if let Some(waiters) = futexes.get_mut(&key) {
            waiters.retain(|waiter| !Arc::ptr_eq(&waiter.woken, &woken));
            if waiters.is_empty() {
                futexes.remove(&key);
            }
        }
    }
    result
}

pub async fn futex(thread: &Arc<Thread>, address: usize, op: u32, value: u32, timeout: usize, address2: usize, value3: u32) -> Result<usize> {
    if !address.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    let command = op & !(p::FUTEX_PRIVATE_FLAG | p::FUTEX_CLOCK_REALTIME);
    let memory = UserMemory(thread.process.space());
    let read_timeout = |absolute: bool| -> Result<Option<timer::Instant>> {
        if timeout == 0 {
            return Ok(None);
        }
        let timespec: abi::Timespec = memory.read(timeout)?;
        let nanos = timespec.to_duration()?.as_nanos().min(u64::MAX as u128) as u64;
        let now = crate::time::monotonic_nanos();
        let relative = if absolute {
            let clock_now =
                if op & p::FUTEX_CLOCK_REALTIME != 0 { crate::time::wall_clock_nanos() } else { now };
            nanos.saturating_sub(clock_now)
        } else {
            nanos
        };
        Ok(Some(timer::Instant::from_nanos(now.saturating_add(relative))))
    };
    match command {
        p::FUTEX_WAIT => wait(thread, address, op, value, read_timeout(false)?, u32::MAX).await,
        p::FUTEX_WAIT_BITSET => wait(thread, address, op, value, read_timeout(true)?, value3).await,
        p::FUTEX_WAKE => Ok(wake(key_for(&thread.process, address, op)?, value as usize, u32::MAX)),
        p::FUTEX_WAKE_BITSET => {
            if value3 == 0 {
                return Err(Errno::EINVAL);
            }
            Ok(wake(key_for(&thread.process, address, op)?, value as usize, value3))
        }
        p::FUTEX_REQUEUE | p::FUTEX_CMP_REQUEUE => {
            if command == p::FUTEX_CMP_REQUEUE {
                let current: u32 = memory.read(address)?;
                if current != value3 {
                    return Err(Errno::EAGAIN);
                }
            }
            let requeue_count = timeout; // the fourth argument is val2 for requeue
            Ok(requeue(key_for(&thread.process, address, op)?, key_for(&thread.process, address2, op)?, value as usize, requeue_count))
        }
        _ => {
            log::debug!("futex op {op:#x} not supported");
            Err(Errno::ENOSYS)
        }
    }
}
