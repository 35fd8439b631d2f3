//! Time system calls: clocks, sleeps (timer futures), times, interval timers.

use alloc::sync::Arc;
use core::time::Duration;

use abi::time as t;
use abi::{Errno, Result, Timespec, Timeval, Tms};

use super::interruptible;
use crate::process::uaccess::UserMemory;
use crate::process::Thread;

fn memory(thread: &Thread) -> UserMemory {
    UserMemory(thread.process.space())
}

fn clock_nanos(thread: &Thread, clock: u32) -> Result<u64> {
    match clock {
        t::CLOCK_REALTIME | t::CLOCK_REALTIME_COARSE | t::CLOCK_TAI => Ok(crate::time::wall_clock_nanos()),
        t::CLOCK_MONOTONIC | t::CLOCK_MONOTONIC_RAW | t::CLOCK_MONOTONIC_COARSE | t::CLOCK_BOOTTIME => {
            Ok(crate::time::monotonic_nanos())
        }
        t::CLOCK_PROCESS_CPUTIME_ID => {
            let (user, system) = thread.process.cpu_time();
            Ok(user + system)
        }
        t::CLOCK_THREAD_CPUTIME_ID => {
            let (user, system) = thread.cpu_time();
            Ok(user + system)
        }
        _ => Err(Errno::EINVAL),
    }
}

fn timespec(nanos: u64) -> Timespec {
    Timespec { tv_sec: (nanos / 1_000_000_000) as i64, tv_nsec: (nanos % 1_000_000_000) as i64 }
}

pub fn clock_gettime(thread: &Thread, clock: u32, buffer: usize) -> Result<usize> {
    let nanos = clock_nanos(thread, clock)?;
    memory(thread).write(buffer, &timespec(nanos))?;
    Ok(0)
}

/// clock_settime: only CLOCK_REALTIME can be set (it moves the wall-clock offset).
pub fn clock_settime(thread: &Thread, clock: u32, value: usize) -> Result<usize> {
    let value: Timespec = memory(thread).read(value)?;
    if clock != t::CLOCK_REALTIME {
        clock_nanos(thread, clock)?; // EINVAL for unknown clocks
        return Err(Errno::EINVAL);
    }
    let nanos = value.to_duration()?.as_nanos().min(u64::MAX as u128) as u64;
    crate::time::set_wall_clock(nanos);
    Ok(0)
}

pub fn clock_getres(thread: &Thread, clock: u32, buffer: usize) -> Result<usize> {
    clock_nanos(thread, clock)?;
    if buffer != 0 {
        let resolution = 1_000_000_000 / arch::timer::ticks_per_second();
        memory(thread).write(buffer, &timespec(resolution.max(1)))?;
    }
    Ok(0)
}

pub fn gettimeofday(thread: &Thread, buffer: usize) -> Result<usize> {
    if buffer != 0 {
        let nanos = crate::time::wall_clock_nanos();
        let value = Timeval { tv_sec: (nanos / 1_000_000_000) as i64, tv_usec: ((nanos / 1000) % 1_000_000) as i64 };
        memory(thread).write(buffer, &value)?;
    }
    Ok(0)
}

/// Sleeps until `deadline` (monotonic nanoseconds); on a signal, reports the time left.
async fn sleep_until(thread: &Thread, deadline: u64, remaining: usize) -> Result<usize> {
    let result = interruptible(async {
        crate::runtime::timers().sleep_until(timer::Instant::from_nanos(deadline)).await;
        Ok(0)
    })
    .await;
    if result.is_err() {
        if remaining != 0 {
            let left = deadline.saturating_sub(crate::time::monotonic_nanos());
            memory(thread).write(remaining, &timespec(left))?;
        }
        return Err(Errno::ERESTART_RESTARTBLOCK.min_errno_for_sleep());
    }
    result
}

trait SleepErrno {
    fn min_errno_for_sleep(self) -> Errno;
}

impl SleepErrno for Errno {
    /// An interrupted sleep returns EINTR to a handler (never restarted with the old
    /// duration: the remaining time was written out instead).
    fn min_errno_for_sleep(self) -> Errno {
        Errno::ERESTARTNOHAND
    }
}

pub async fn nanosleep(thread: &Arc<Thread>, request: usize, remaining: usize) -> Result<usize> {
    let request: Timespec = memory(thread).read(request)?;
    let duration = request.to_duration()?;
    let deadline = crate::time::monotonic_nanos().saturating_add(duration.as_nanos().min(u64::MAX as u128) as u64);
    sleep_until(thread, deadline, remaining).await
}

pub async fn clock_nanosleep(thread: &Arc<Thread>, clock: u32, flags: u32, request: usize, remaining: usize) -> Result<usize> {
    let request: Timespec = memory(thread).read(request)?;
    let duration = request.to_duration()?;
    let nanos = duration.as_nanos().min(u64::MAX as u128) as u64;
    let now = clock_nanos(thread, clock)?;
    if matches!(clock, t::CLOCK_PROCESS_CPUTIME_ID | t::CLOCK_THREAD_CPUTIME_ID) {
        return Err(Errno::EINVAL);
    }
    let relative = if flags & t::TIMER_ABSTIME != 0 { nanos.saturating_sub(now) } else { nanos };
    let deadline = crate::time::monotonic_nanos().saturating_add(relative);
    let remaining = if flags & t::TIMER_ABSTIME != 0 { 0 } else { remaining };
    sleep_until(thread, deadline, remaining).await
}

pub fn times(thread: &Thread, buffer: usize) -> Result<usize> {
    let ticks = |nanos: u64| (nanos / 10_000_000) as i64;
    if buffer != 0 {
        let (user, system) = thread.process.cpu_time();
        let (child_user, child_system) = thread.process.inner.lock().children_time;
        let tms = Tms {
            tms_utime: ticks(user),
            tms_stime: ticks(system),
            tms_cutime: ticks(child_user),
            tms_cstime: ticks(child_system),
        };
        memory(thread).write(buffer, &tms)?;
    }
    Ok(ticks(crate::time::monotonic_nanos()) as usize)
}

fn to_timeval(nanos: u64) -> Timeval {
    Timeval { tv_sec: (nanos / 1_000_000_000) as i64, tv_usec: ((nanos / 1000) % 1_000_000) as i64 }
}

fn from_timeval(value: Timeval) -> Result<u64> {
    if value.tv_sec < 0 || !(0..1_000_000).contains(&value.tv_usec) {
        return Err(Errno::EINVAL);
    }
    Ok(value.tv_sec as u64 * 1_000_000_000 + value.tv_usec as u64 * 1000)
}

/// The ITIMER_REAL task: sleeps to each expiry and sends SIGALRM to the process.
async fn real_timer(process: alloc::sync::Weak<crate::process::Process>, mut deadline: u64, interval: u64) {
    loop {
        crate::runtime::timers().sleep_until(timer::Instant::from_nanos(deadline)).await;
        let Some(process) = process.upgrade() else { return };
        let signal = abi::signal::Signal::SIGALRM;
        crate::process::signal::send_to_process(&process, signal, abi::signal::SigInfo::kernel(signal));
        if interval == 0 {
            process.inner.lock().real_timer = None;
            return;
        }
        deadline += interval;
        let mut inner = process.inner.lock();
        if let Some(timer) = inner.real_timer.as_mut() {
            timer.1 = deadline;
        }
        drop(inner);
    }
}

pub fn setitimer(thread: &Thread, which: u32, new: usize, old: usize) -> Result<usize> {
    if which > t::ITIMER_PROF {
        return Err(Errno::EINVAL);
    }
    let memory = memory(thread);
    let new_value: Option<abi::Itimerval> = if new != 0 { Some(memory.read(new)?) } else { None };
    let now = crate::time::monotonic_nanos();
    let previous = if which == t::ITIMER_REAL {
        let mut inner = thread.process.inner.lock();
        let previous = inner.real_timer.as_ref().map(|(_, deadline, interval)| (deadline.saturating_sub(now), *interval));
        if let Some(value) = new_value {
            let first = from_timeval(value.it_value)?;
            let interval = from_timeval(value.it_interval)?;
            let old_timer = inner.real_timer.take();
            if first != 0 {
                let deadline = now + first;
                let task = crate::runtime::spawn(real_timer(alloc::sync::Arc::downgrade(&thread.process), deadline, interval));
                inner.real_timer = Some((task, deadline, interval));
            }
            drop(inner);
            drop(old_timer); // cancels the previous timer's task
        }
        previous
    } else {
        if new_value.is_some_and(|value| value.it_value.tv_sec != 0 || value.it_value.tv_usec != 0) {
            log::warn!("setitimer: ITIMER_VIRTUAL/ITIMER_PROF are not implemented");
            return Err(Errno::ENOSYS);
        }
        None
    };
    if old != 0 {
        let (left, interval) = previous.unwrap_or((0, 0));
        memory.write(old, &abi::Itimerval { it_interval: to_timeval(interval), it_value: to_timeval(left) })?;
    }
    let _ = Duration::ZERO;
    Ok(0)
}

pub fn getitimer(thread: &Thread, which: u32, old: usize) -> Result<usize> {
    setitimer(thread, which, 0, old)
}

// ---- POSIX timers --------------------------------------------------------------------

const SIGEV_SIGNAL: i32 = 0;
const SIGEV_NONE: i32 = 1;
const SIGEV_THREAD_ID: i32 = 4;

/// `struct sigevent` as the kernel reads it (64 bytes).
#[repr(C)]
#[derive(Clone, Copy, zerocopy::FromBytes, zerocopy::IntoBytes, zerocopy::Immutable, zerocopy::KnownLayout)]
struct SigEvent {
    value: u64,
    signo: i32,
    notify: i32,
    thread_id: i32,
    _pad: [i32; 11],
}

fn to_timespec(nanos: u64) -> Timespec {
    timespec(nanos)
}

pub fn timer_create(thread: &Thread, clock: u32, event: usize, id_out: usize) -> Result<usize> {
    if !matches!(clock, t::CLOCK_REALTIME | t::CLOCK_MONOTONIC | t::CLOCK_BOOTTIME) {
        return Err(Errno::EINVAL);
    }
    let memory = memory(thread);
    let mut inner = thread.process.inner.lock();
    let id = (0..).find(|id| !inner.posix_timers.contains_key(id)).unwrap_or(0);
    let (signal, value, target) = if event == 0 {
        (Some(abi::signal::Signal::SIGALRM), id as u64, None)
    } else {
        drop(inner);
        let event: SigEvent = memory.read(event)?;
        inner = thread.process.inner.lock();
        match event.notify {
            SIGEV_NONE => (None, event.value, None),
            SIGEV_SIGNAL | SIGEV_THREAD_ID => {
                let signal = abi::signal::Signal::new(event.signo as u32).ok_or(Errno::EINVAL)?;
                let target = (event.notify == SIGEV_THREAD_ID).then_some(event.thread_id as u32);
                (Some(signal), event.value, target)
            }
            _ => return Err(Errno::EINVAL),
        }
    };
    inner.posix_timers.insert(id, crate::process::PosixTimer { clock, signal, value, thread: target, armed: None });
    drop(inner);
    if let Err(error) = memory.write(id_out, &id) {
        thread.process.inner.lock().posix_timers.remove(&id);
        return Err(error);
    }
    Ok(0)
}

/// The task of an armed POSIX timer.
async fn posix_timer(process: alloc::sync::Weak<crate::process::Process>, id: i32, mut deadline: u64, interval: u64) {
    loop {
        crate::runtime::timers().sleep_until(timer::Instant::from_nanos(deadline)).await;
        let Some(process) = process.upgrade() else { return };
        let (signal, value, target) = {
            let inner = process.inner.lock();
            let Some(timer) = inner.posix_timers.get(&id) else { return };
            (timer.signal, timer.value, timer.thread)
        };
        if let Some(signal) = signal {
            let info = abi::signal::SigInfo::timer(signal, id, 0, value);
            match target.and_then(crate::process::find_thread) {
                Some(thread) => crate::process::signal::send_to_thread(&thread, signal, info),
                None => crate::process::signal::send_to_process(&process, signal, info),
            }
        }
        let mut inner = process.inner.lock();
        let Some(timer) = inner.posix_timers.get_mut(&id) else { return };
        if interval == 0 {
            timer.armed = None; // drops this task's own handle: it ends here
            return;
        }
        deadline += interval;
        if let Some(armed) = timer.armed.as_mut() {
            armed.1 = deadline;
        }
    }
}

fn timer_state(thread: &Thread, id: i32) -> Result<abi::Itimerspec> {
    let inner = thread.process.inner.lock();
    let timer = inner.posix_timers.get(&id).ok_or(Errno::EINVAL)?;
    let now = crate::time::monotonic_nanos();
    Ok(match &timer.armed {
        Some((_, deadline, interval)) => abi::Itimerspec {
            it_interval: to_timespec(*interval),
            it_value: to_timespec(deadline.saturating_sub(now).max(1)),
        },
        None => abi::Itimerspec::default(),
    })
}

pub fn timer_settime(thread: &Thread, id: i32, flags: u32, new: usize, old: usize) -> Result<usize> {
    let memory = memory(thread);
    let value: abi::Itimerspec = memory.read(new)?;
    let first = value.it_value.to_duration()?.as_nanos() as u64;
    let interval = value.it_interval.to_duration()?.as_nanos() as u64;
    let previous = timer_state(thread, id)?;
    let clock = thread.process.inner.lock().posix_timers.get(&id).ok_or(Errno::EINVAL)?.clock;
    let now = crate::time::monotonic_nanos();
    let deadline = if flags & t::TIMER_ABSTIME != 0 {
        let clock_now = clock_nanos(thread, clock)?;
        now + first.saturating_sub(clock_now)
    } else {
        now + first
    };
    let old_task = {
        let mut inner = thread.process.inner.lock();
        let timer = inner.posix_timers.get_mut(&id).ok_or(Errno::EINVAL)?;
        let old_task = timer.armed.take();
        if first != 0 {
            let task = crate::runtime::spawn(posix_timer(alloc::sync::Arc::downgrade(&thread.process), id, deadline, interval));
            timer.armed = Some((task, deadline, interval));
        }
        old_task
    };
    drop(old_task); // cancels the previous arming
    if old != 0 {
        memory.write(old, &previous)?;
    }
    Ok(0)
}

pub fn timer_gettime(thread: &Thread, id: i32, out: usize) -> Result<usize> {
    let state = timer_state(thread, id)?;
    memory(thread).write(out, &state)?;
    Ok(0)
}

pub fn timer_getoverrun(thread: &Thread, id: i32) -> Result<usize> {
    timer_state(thread, id)?;
    Ok(0)
}

pub fn timer_delete(thread: &Thread, id: i32) -> Result<usize> {
    let timer = thread.process.inner.lock().posix_timers.remove(&id).ok_or(Errno::EINVAL)?;
    drop(timer); // cancels its task
    Ok(0)
}
