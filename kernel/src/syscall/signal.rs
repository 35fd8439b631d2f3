//! Signal system calls: kill/tkill/tgkill, sigaction, sigprocmask, sigsuspend,
//! sigtimedwait, sigpending, sigaltstack.

use alloc::sync::Arc;
use core::task::Poll;

use abi::signal::{SigAction, SigInfo, SigSet, Signal, StackT, SA_UAPI_FLAGS, SIG_BLOCK, SIG_SETMASK, SIG_UNBLOCK, SI_TKILL, SI_USER, SS_DISABLE, SS_ONSTACK, MINSIGSTKSZ};
use abi::{Errno, Result};
use arch::user::{reg, UserContext};

use super::interruptible;
use crate::process::signal::{send_to_process, send_to_thread};
use crate::process::uaccess::UserMemory;
use crate::process::{all_processes, find_process, find_thread, Thread};

fn memory(thread: &Thread) -> UserMemory {
    UserMemory(thread.process.space())
}

/// Signal 0 checks that the target exists; otherwise a valid signal number.
fn signal_number(number: u32) -> Result<Option<Signal>> {
    if number == 0 {
        return Ok(None);
    }
    Signal::new(number).map(Some).ok_or(Errno::EINVAL)
}

pub fn kill(thread: &Arc<Thread>, pid: i32, number: u32) -> Result<usize> {
    let signal = signal_number(number)?;
    let info = |signal: Signal| SigInfo::kill(signal, SI_USER, thread.process.pid as i32, 0);
    let targets: alloc::vec::Vec<_> = match pid {
        pid if pid > 0 => find_process(pid as u32).into_iter().collect(),
        0 => {
            let pgid = thread.process.inner.lock().pgid;
            all_processes().into_iter().filter(|p| p.inner.lock().pgid == pgid).collect()
        }
        -1 => all_processes().into_iter().filter(|p| p.pid != 1 && p.pid != thread.process.pid).collect(),
        pid => {
            let pgid = pid.unsigned_abs();
            all_processes().into_iter().filter(|p| p.inner.lock().pgid == pgid).collect()
        }
    };
    // A zombie still exists (kill(pid, 0) succeeds); posting to it does nothing.
    if targets.is_empty() {
        return Err(Errno::ESRCH);
    }
    if let Some(signal) = signal {
        for target in &targets {
            send_to_process(target, signal, info(signal));
        }
    }
    Ok(0)
}

fn signal_thread(thread: &Arc<Thread>, tgid: Option<i32>, tid: i32, number: u32) -> Result<usize> {
    if tid <= 0 || tgid.is_some_and(|tgid| tgid <= 0) {
        return Err(Errno::EINVAL);
    }
    let signal = signal_number(number)?;
    let target = find_thread(tid as u32).ok_or(Errno::ESRCH)?;
    if tgid.is_some_and(|tgid| target.process.pid != tgid as u32) {
        return Err(Errno::ESRCH);
    }
    if let Some(signal) = signal {
        send_to_thread(&target, signal, SigInfo::kill(signal, SI_TKILL, thread.process.pid as i32, 0));
    }
    Ok(0)
}

pub fn tkill(thread: &Arc<Thread>, tid: i32, number: u32) -> Result<usize> {
    signal_thread(thread, None, tid, number)
}

pub fn tgkill(thread: &Arc<Thread>, tgid: i32, tid: i32, number: u32) -> Result<usize> {
    signal_thread(thread, Some(tgid), tid, number)
}

/// rt_sigqueueinfo / rt_tgsigqueueinfo: a signal with the caller's siginfo (sigqueue).
pub fn rt_sigqueueinfo(thread: &Arc<Thread>, tgid: i32, tid: Option<i32>, number: u32, info: usize) -> Result<usize> {
    let signal = signal_number(number)?;
    let mut siginfo: SigInfo = memory(thread).read(info)?;
    let target_pid = tgid as u32;
    // Only the kernel may claim si_code >= 0 (or SI_TKILL) for another process.
    if (siginfo.si_code >= 0 || siginfo.si_code == SI_TKILL) && target_pid != thread.process.pid {
        return Err(Errno::EPERM);
    }
    let Some(signal) = signal else {
        return find_process(target_pid).map(|_| 0).ok_or(Errno::ESRCH);
    };
    siginfo.si_signo = signal.number() as i32;
    match tid {
        Some(tid) => {
            let target = find_thread(tid as u32).filter(|t| t.process.pid == target_pid).ok_or(Errno::ESRCH)?;
            send_to_thread(&target, signal, siginfo);
        }
        None => {
            let process = find_process(target_pid).ok_or(Errno::ESRCH)?;
            send_to_process(&process, signal, siginfo);
        }
    }
    Ok(0)
}

pub fn rt_sigaction(thread: &Thread, number: u32, new: usize, old: usize, size: usize) -> Result<usize> {
    if size != SigSet::SIZE {
        return Err(Errno::EINVAL);
    }
    let signal = Signal::new(number).ok_or(Errno::EINVAL)?;
    let memory = memory(thread);
    let new_action: Option<SigAction> = if new != 0 { Some(memory.read(new)?) } else { None };
    if new_action.is_some() && !signal.is_catchable() {
        return Err(Errno::EINVAL);
    }
    let previous = {
        let mut inner = thread.process.inner.lock();
        let index = number as usize - 1;
        let previous = inner.actions[index];
        if let Some(mut action) = new_action {
            action.sa_flags &= SA_UAPI_FLAGS;
            action.sa_mask = action.sa_mask.blockable();
            inner.actions[index] = action;
            // Setting SIG_IGN (or a default that ignores) discards pending instances.
            if action.ignores(signal) {
                let inner = &mut *inner;
                inner.pending_info.discard(&mut inner.pending, signal);
            }
        }
        previous
    };
    if old != 0 {
        memory.write(old, &previous)?;
    }
    Ok(0)
}

pub fn rt_sigprocmask(thread: &Thread, how: u32, new: usize, old: usize, size: usize) -> Result<usize> {
    if size != SigSet::SIZE {
        return Err(Errno::EINVAL);
    }
    let memory = memory(thread);
    let current = thread.inner.lock().mask;
    if new != 0 {
        let set: SigSet = memory.read(new)?;
        let mask = match how {
            SIG_BLOCK => current.union(set),
            SIG_UNBLOCK => current.difference(set),
            SIG_SETMASK => set,
            _ => return Err(Errno::EINVAL),
        };
        thread.inner.lock().mask = mask.blockable();
        thread.signal_hint.store(true, core::sync::atomic::Ordering::Release);
    }
    if old != 0 {
        memory.write(old, &current)?;
    }
    Ok(0)
}

pub fn rt_sigpending(thread: &Thread, set: usize, size: usize) -> Result<usize> {
    if size > SigSet::SIZE {
        return Err(Errno::EINVAL);
    }
    let pending = thread.inner.lock().pending.union(thread.process.inner.lock().pending);
    let mask = thread.inner.lock().mask;
    memory(thread).write(set, &pending.intersection(mask))?;
    Ok(0)
}

pub async fn rt_sigsuspend(thread: &Arc<Thread>, mask: usize, size: usize) -> Result<usize> {
    if size != SigSet::SIZE {
        return Err(Errno::EINVAL);
    }
    let mask: SigSet = memory(thread).read(mask)?;
    {
        let mut inner = thread.inner.lock();
        inner.saved_mask = Some(inner.mask);
        inner.mask = mask.blockable();
    }
    thread.signal_hint.store(true, core::sync::atomic::Ordering::Release);
    // Sleeps until a signal is deliverable; the handler frame then restores the
    // saved mask when it returns (saved_mask goes into the frame's uc_sigmask).
    let result: Result<usize> = interruptible(core::future::pending()).await;
    match result {
        Err(_) => Err(Errno::ERESTARTNOHAND),
        Ok(_) => unreachable!(),
    }
}

pub async fn rt_sigtimedwait(thread: &Arc<Thread>, set: usize, info: usize, timeout: usize, size: usize) -> Result<usize> {
    if size != SigSet::SIZE {
        return Err(Errno::EINVAL);
    }
    let memory = memory(thread);
    let set: SigSet = memory.read(set)?;
    let set = set.blockable();
    let timeout = if timeout != 0 {
        let timespec: abi::Timespec = memory.read(timeout)?;
        Some(timespec.to_duration()?)
    } else {
        None
    };
    let mut sleep = timeout.map(crate::runtime::sleep);
    let take = |thread: &Thread| -> Option<(Signal, SigInfo)> {
        let mut inner = thread.inner.lock();
        if let Some(signal) = inner.pending.intersection(set).lowest() {
            let inner = &mut *inner;
            let info = inner.pending_info.pop(&mut inner.pending, signal);
            return Some((signal, info));
        }
        drop(inner);
        let mut process = thread.process.inner.lock();
        let signal = process.pending.intersection(set).lowest()?;
        let process = &mut *process;
        let info = process.pending_info.pop(&mut process.pending, signal);
        Some((signal, info))
    };
    let found = interruptible(core::future::poll_fn(|cx| {
        if let Some(found) = take(thread) {
            return Poll::Ready(Ok(Some(found)));
        }
        if let Some(sleep) = sleep.as_mut() {
            if core::future::Future::poll(core::pin::Pin::new(sleep), cx).is_ready() {
                return Poll::Ready(Ok(None));
            }
        }
        Poll::Pending
    }))
    .await;
    let found = match found {
        Err(_) => return Err(Errno::EINTR),
        Ok(found) => found,
    };
    let Some((signal, siginfo)) = found else { return Err(Errno::EAGAIN) };
    if info != 0 {
        memory.write(info, &siginfo)?;
    }
    Ok(signal.number() as usize)
}

pub fn sigaltstack(thread: &Thread, context: &UserContext, new: usize, old: usize) -> Result<usize> {
    let memory = memory(thread);
    let current = thread.inner.lock().alt_stack;
    let sp = context.registers[reg::SP] as u64;
    let on_stack = current.ss_flags & SS_DISABLE == 0 && sp > current.ss_sp && sp <= current.ss_sp + current.ss_size;
    if old != 0 {
        let mut report = current;
        if on_stack {
            report.ss_flags = SS_ONSTACK;
        }
        memory.write(old, &report)?;
    }
    if new != 0 {
        let stack: StackT = memory.read(new)?;
        if on_stack {
            return Err(Errno::EPERM);
        }
        let mode = stack.ss_flags & !abi::signal::SS_AUTODISARM;
        if mode != 0 && mode != SS_DISABLE {
            return Err(Errno::EINVAL);
        }
        if mode != SS_DISABLE && (stack.ss_size as usize) < MINSIGSTKSZ {
            return Err(Errno::ENOMEM);
        }
        thread.inner.lock().alt_stack = stack;
    }
    Ok(0)
}
