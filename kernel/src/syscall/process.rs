//! Process system calls: exit, wait, clone/fork, execve, ids, groups and sessions,
//! resource limits and usage.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;
use core::task::Poll;

use abi::process::{self as p, CloneArgs, Rlimit, Rusage};
use abi::{Errno, Result, WaitStatus};
use arch::user::UserContext;

use super::interruptible;
use crate::process::uaccess::UserMemory;
use crate::process::{Process, ProcessState, Thread};

fn memory(thread: &Thread) -> UserMemory {
    UserMemory(thread.process.space())
}

pub fn exit(thread: &Arc<Thread>, code: i32) -> Result<usize> {
    thread.exit_code.store((code & 0xff) << 8, Ordering::Relaxed);
    // The status word of a lone thread's exit; if it is the last thread, the process
    // exits with it.
    if thread.process.threads().len() <= 1 {
        crate::process::run::exit_group(thread, WaitStatus::exited(code & 0xff));
    }
    thread.exiting.store(true, Ordering::Release);
    Ok(0)
}

pub fn exit_group(thread: &Arc<Thread>, code: i32) -> Result<usize> {
    crate::process::run::exit_group(thread, WaitStatus::exited(code & 0xff));
    Ok(0)
}

/// Which children a wait selects.
#[derive(Clone, Copy)]
enum Selector {
    Any,
    Pid(u32),
    Group(u32),
}

impl Selector {
    fn matches(self, child: &Process) -> bool {
        match self {
            Selector::Any => true,
            Selector::Pid(pid) => child.pid == pid,
            Selector::Group(pgid) => child.inner.lock().pgid == pgid,
        }
    }
}

/// One wait: returns (pid, status) of a child that changed state, 0 with WNOHANG when
/// none has yet, ECHILD when there is no such child. `reap` false keeps a zombie
/// (WNOWAIT).
async fn wait_for_child(thread: &Arc<Thread>, selector: Selector, options: u32, reap: bool) -> Result<(u32, WaitStatus)> {
    let process = thread.process.clone();
    interruptible(core::future::poll_fn(|cx| {
        process.child_events.register(cx.waker());
        let children: Vec<Arc<Process>> = process.inner.lock().children.clone();
        let mut any = false;
        for child in children.iter().filter(|child| selector.matches(child)) {
            any = true;
            let mut inner = child.inner.lock();
            match inner.state {
                ProcessState::Zombie(status) if options & p::WEXITED != 0 => {
                    drop(inner);
                    if reap {
                        let mut parent = process.inner.lock();
                        parent.children.retain(|other| other.pid != child.pid);
                        drop(parent);
                        crate::process::unregister_process(child.pid);
                    }
                    return Poll::Ready(Ok((child.pid, status)));
                }
                ProcessState::Stopped { signal, reported: false } if options & p::WUNTRACED != 0 => {
                    if reap {
                        inner.state = ProcessState::Stopped { signal, reported: true };
                    }
                    return Poll::Ready(Ok((child.pid, WaitStatus::stopped(signal))));
                }
                _ if inner.continued && options & p::WCONTINUED != 0 => {
                    if reap {
                        inner.continued = false;
                    }
                    return Poll::Ready(Ok((child.pid, WaitStatus::continued())));
                }
                _ => {}
            }
        }
        if !any {
            return Poll::Ready(Err(Errno::ECHILD));
        }
        if options & p::WNOHANG != 0 {
            return Poll::Ready(Ok((0, WaitStatus(0))));
        }
        Poll::Pending
    }))
    .await
}

/// Makes the user output buffers (address, length; 0 = none) of a call with side
/// effects ready for its copies (see `UserMemory::prepare_write`).
async fn prepare_outputs(thread: &Thread, outputs: &[(usize, usize)]) {
    for &(address, len) in outputs.iter().filter(|(address, _)| *address != 0) {
        memory(thread).prepare_write(address, len).await;
    }
}

pub async fn wait4(thread: &Arc<Thread>, pid: i32, status: usize, options: u32, rusage: usize) -> Result<usize> {
    if options & !(p::WNOHANG | p::WUNTRACED | p::WCONTINUED | p::__WALL | p::__WCLONE | p::__WNOTHREAD) != 0 {
        return Err(Errno::EINVAL);
    }
    let selector = match pid {
        -1 => Selector::Any,
        0 => Selector::Group(thread.process.inner.lock().pgid),
        pid if pid < -1 => Selector::Group(pid.unsigned_abs()),
        pid => Selector::Pid(pid as u32),
    };
    // A child reaped cannot be reaped again: wait for file pages of the outputs first.
    prepare_outputs(thread, &[(status, 4), (rusage, core::mem::size_of::<Rusage>())]).await;
    let (child, wait_status) = wait_for_child(thread, selector, options | p::WEXITED, true).await?;
    if child != 0 {
        if status != 0 {
            memory(thread).write(status, &wait_status.0)?;
        }
        if rusage != 0 {
            memory(thread).write(rusage, &Rusage::default())?;
        }
    }
    Ok(child as usize)
}

pub async fn waitid(thread: &Arc<Thread>, id_type: u32, id: i32, info: usize, options: u32, rusage: usize) -> Result<usize> {
    if options & (p::WEXITED | p::WSTOPPED | p::WCONTINUED) == 0 {
        return Err(Errno::EINVAL);
    }
    let selector = match id_type {
        p::P_ALL => Selector::Any,
        p::P_PID if id > 0 => Selector::Pid(id as u32),
        p::P_PGID if id > 0 => Selector::Group(id as u32),
        p::P_PGID if id == 0 => Selector::Group(thread.process.inner.lock().pgid),
        _ => return Err(Errno::EINVAL),
    };
    let wait_options = options | if options & p::WSTOPPED != 0 { p::WUNTRACED } else { 0 };
    prepare_outputs(thread, &[(info, core::mem::size_of::<abi::signal::SigInfo>()), (rusage, core::mem::size_of::<Rusage>())]).await;
    let (child, status) = wait_for_child(thread, selector, wait_options, options & p::WNOWAIT == 0).await?;
    if info != 0 {
        let siginfo = if child == 0 {
            abi::signal::SigInfo::new(0, 0)
        } else {
            let (code, value) = if status.is_exited() {
                (abi::signal::CLD_EXITED, status.exit_status())
            } else if status.is_signaled() {
                (if status.core_dumped() { abi::signal::CLD_DUMPED } else { abi::signal::CLD_KILLED }, status.term_signal())
            } else if status.is_stopped() {
                (abi::signal::CLD_STOPPED, status.stop_signal())
            } else {
                (abi::signal::CLD_CONTINUED, abi::signal::Signal::SIGCONT.number() as i32)
            };
            abi::signal::SigInfo::child(code, child as i32, 0, value, 0, 0)
        };
        memory(thread).write(info, &siginfo)?;
    }
    if rusage != 0 {
        memory(thread).write(rusage, &Rusage::default())?;
    }
    Ok(0)
}

pub fn set_tid_address(thread: &Thread, address: usize) -> Result<usize> {
    thread.inner.lock().clear_child_tid = address;
    Ok(thread.tid as usize)
}

pub fn set_robust_list(thread: &Thread, head: usize, length: usize) -> Result<usize> {
    if length != core::mem::size_of::<abi::RobustListHead>() {
        return Err(Errno::EINVAL);
    }
    thread.inner.lock().robust_list = head;
    Ok(0)
}

pub async fn clone(
    thread: &Arc<Thread>,
    context: UserContext,
    flags: u64,
    stack: usize,
    parent_tid: usize,
    tls: usize,
    child_tid: usize,
) -> Result<usize> {
    let args = CloneArgs::from_clone(flags, stack as u64, parent_tid as u64, tls as u64, child_tid as u64);
    crate::process::exec::clone(thread, &context, args).await
}

pub async fn clone3(thread: &Arc<Thread>, context: UserContext, args: usize, size: usize) -> Result<usize> {
    if !(64..=4096).contains(&size) {
        return Err(Errno::EINVAL);
    }
    let args: CloneArgs = memory(thread).read(args)?;
    if args.exit_signal > 64 || args.set_tid != 0 || args.cgroup != 0 {
        return Err(Errno::EINVAL);
    }
    crate::process::exec::clone(thread, &context, args).await
}

pub fn execve(thread: &Arc<Thread>, context: &mut UserContext, path: usize, argv: usize, envp: usize) -> Result<usize> {
    let memory = memory(thread);
    let path = memory.read_path(path)?;
    let limit = loader::arg_limit_for_stack_rlimit(8 << 20);
    let argv = memory.read_string_array(argv, limit)?;
    let envp = memory.read_string_array(envp, limit)?;
    let new_context = crate::process::exec::execve(thread, &path, argv, envp)?;
    *context = new_context;
    // execve's return value is the new program's a0: 0.
    Ok(0)
}

pub fn getresuid(thread: &Thread, real: usize, effective: usize, saved: usize) -> Result<usize> {
    let memory = memory(thread);
    for pointer in [real, effective, saved] {
        memory.write(pointer, &0u32)?;
    }
    Ok(0)
}

fn target(thread: &Thread, pid: u32) -> Result<Arc<Process>> {
    if pid == 0 {
        return Ok(thread.process.clone());
    }
    crate::process::find_process(pid).ok_or(Errno::ESRCH)
}

pub fn setpgid(thread: &Thread, pid: u32, pgid: u32) -> Result<usize> {
    if (pgid as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    let process = target(thread, pid)?;
    let is_self = Arc::ptr_eq(&process, &thread.process);
    let is_child = process.inner.lock().parent.upgrade().is_some_and(|parent| Arc::ptr_eq(&parent, &thread.process));
    if !is_self && !is_child {
        return Err(Errno::ESRCH);
    }
    let own_sid = thread.process.inner.lock().sid;
    let mut inner = process.inner.lock();
    if is_child && inner.did_exec {
        return Err(Errno::EACCES);
    }
    if inner.sid != own_sid {
        return Err(Errno::EPERM);
    }
    if inner.sid == process.pid {
        return Err(Errno::EPERM); // a session leader cannot change its group
    }
    let pgid = if pgid == 0 { process.pid } else { pgid };
    if pgid != process.pid {
        let group_in_session = crate::process::all_processes()
            .iter()
            .any(|other| other.pid != process.pid && { let o = other.inner.try_lock(); o.is_some_and(|o| o.pgid == pgid && o.sid == own_sid) });
        if !group_in_session {
            return Err(Errno::EPERM);
        }
    }
    inner.pgid = pgid;
    Ok(0)
}

pub fn getpgid(thread: &Thread, pid: u32) -> Result<usize> {
    Ok(target(thread, pid)?.inner.lock().pgid as usize)
}

pub fn getsid(thread: &Thread, pid: u32) -> Result<usize> {
    Ok(target(thread, pid)?.inner.lock().sid as usize)
}

pub fn setsid(thread: &Thread) -> Result<usize> {
    let pid = thread.process.pid;
    let leads_a_group = crate::process::all_processes()
        .iter()
        .any(|other| other.pid != pid && other.inner.try_lock().is_some_and(|o| o.pgid == pid));
    let mut inner = thread.process.inner.lock();
    if inner.pgid == pid || leads_a_group {
        return Err(Errno::EPERM);
    }
    inner.sid = pid;
    inner.pgid = pid;
    Ok(pid as usize)
}

pub fn prlimit64(thread: &Thread, pid: u32, resource: u32, new: usize, old: usize) -> Result<usize> {
    if resource >= 16 {
        return Err(Errno::EINVAL);
    }
    let process = target(thread, pid)?;
    let memory = memory(thread);
    let new_limit: Option<Rlimit> = if new != 0 { Some(memory.read(new)?) } else { None };
    if let Some(limit) = new_limit {
        if limit.rlim_cur > limit.rlim_max {
            return Err(Errno::EINVAL);
        }
    }
    let previous = {
        let mut inner = process.inner.lock();
        let previous = inner.limits[resource as usize];
        if let Some(limit) = new_limit {
            inner.limits[resource as usize] = (limit.rlim_cur, limit.rlim_max);
        }
        previous
    };
    if let Some(limit) = new_limit {
        if resource == p::RLIMIT_NOFILE {
            process.files().lock().set_max(limit.rlim_cur.min(65536) as usize);
        }
    }
    if old != 0 {
        memory.write(old, &Rlimit { rlim_cur: previous.0, rlim_max: previous.1 })?;
    }
    Ok(0)
}

pub fn getrusage(thread: &Thread, who: i32, usage: usize) -> Result<usize> {
    if !matches!(who, -1..=1) {
        return Err(Errno::EINVAL);
    }
    let (user, system) = match who {
        -1 => thread.process.inner.lock().children_time,
        1 => thread.cpu_time(),
        _ => thread.process.cpu_time(),
    };
    let timeval = |nanos: u64| abi::Timeval { tv_sec: (nanos / 1_000_000_000) as i64, tv_usec: ((nanos / 1000) % 1_000_000) as i64 };
    let rusage = Rusage { ru_utime: timeval(user), ru_stime: timeval(system), ..Rusage::default() };
    memory(thread).write(usage, &rusage)?;
    Ok(0)
}

pub fn sched_getaffinity(thread: &Thread, size: usize, mask: usize) -> Result<usize> {
    if size < 8 || !size.is_multiple_of(8) {
        return Err(Errno::EINVAL);
    }
    let harts = crate::boot::harts_online().min(64);
    let bits: u64 = if harts == 64 { u64::MAX } else { (1u64 << harts) - 1 };
    memory(thread).write(mask, &bits)?;
    Ok(8)
}

/// The processes `which`/`who` of getpriority/setpriority name.
fn priority_targets(thread: &Thread, which: u32, who: u32) -> Result<Vec<Arc<Process>>> {
    const PRIO_PROCESS: u32 = 0;
    const PRIO_PGRP: u32 = 1;
    const PRIO_USER: u32 = 2;
    let targets: Vec<Arc<Process>> = match which {
        PRIO_PROCESS => target(thread, who).into_iter().collect(),
        PRIO_PGRP => {
            let pgid = if who == 0 { thread.process.inner.lock().pgid } else { who };
            crate::process::all_processes().into_iter().filter(|p| p.inner.lock().pgid == pgid).collect()
        }
        PRIO_USER => crate::process::all_processes(), // everyone is root
        _ => return Err(Errno::EINVAL),
    };
    if targets.is_empty() {
        return Err(Errno::ESRCH);
    }
    Ok(targets)
}

/// getpriority: the raw system call returns 20 - nice (1..=40), as on Linux.
pub fn getpriority(thread: &Thread, which: u32, who: u32) -> Result<usize> {
    let best = priority_targets(thread, which, who)?.iter().map(|p| p.inner.lock().nice).min().unwrap_or(0);
    Ok((20 - best) as usize)
}

pub fn setpriority(thread: &Thread, which: u32, who: u32, nice: i32) -> Result<usize> {
    let nice = nice.clamp(-20, 19);
    for process in priority_targets(thread, which, who)? {
        process.inner.lock().nice = nice;
    }
    Ok(0)
}
