//! Processes and threads: what a user program is to the kernel.
//!
//! A [`Thread`] is one async task ([`run::user_loop`]) plus its saved registers; it has
//! no kernel stack. A [`Process`] groups threads that share an address space, file
//! table, signal handlers, credentials and a place in the process tree. The tree and
//! the id tables live here; creating processes (clone/fork, execve), running them,
//! signals and waiting are in the submodules.

pub mod exec;
pub mod file_pages;
pub mod run;
pub mod signal;
pub mod uaccess;

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::future::Future;
use core::pin::Pin;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};
use core::task::{Context, Poll, Waker};

use abi::signal::{SigAction, SigInfo, SigSet, Signal, StackT};
use abi::WaitStatus;
use ksync::{SpinLock, WaitQueue};
use mm::user::AddressSpace;
use vfs::{FdTable, Location};

use crate::memory::KernelFrames;

/// Process and thread ids (they share one number space, like Linux).
pub type Pid = u32;

/// A user address space over the kernel's frames.
pub type UserSpace = AddressSpace<KernelFrames>;

/// Where a process is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcessState {
    /// Threads are running (or blocked).
    Running,
    /// Stopped by SIGSTOP/SIGTSTP/...; `reported` once wait saw it.
    Stopped { signal: u32, reported: bool },
    /// All threads exited; waiting for the parent to reap it.
    Zombie(WaitStatus),
}

/// The parts of a process that change, under one lock.
pub struct ProcessInner {
    /// The parent (init's parent is itself: None).
    pub parent: Weak<Process>,
    /// Children, including zombies not yet reaped.
    pub children: Vec<Arc<Process>>,
    /// Process group id.
    pub pgid: Pid,
    /// Session id.
    pub sid: Pid,
    /// Life state.
    pub state: ProcessState,
    /// A SIGCONT arrived since the last wait report.
    pub continued: bool,
    /// The live threads.
    pub threads: Vec<Weak<Thread>>,
    /// Working directory.
    pub cwd: Location,
    /// Root directory (chroot).
    pub root: Location,
    /// File-creation mask.
    pub umask: u32,
    /// Path of the executable (for /proc/PID/exe).
    pub exe: Vec<u8>,
    /// Command line as NUL-separated argv (for /proc/PID/cmdline).
    pub cmdline: Vec<u8>,
    /// Environment as NUL-separated strings (for /proc/PID/environ).
    pub environ: Vec<u8>,
    /// The command name: the last component of the path given to execve (Linux's
    /// `comm`, at most 15 bytes; for /proc/PID/stat, status, comm).
    pub comm: Vec<u8>,
    /// Nice value (-20..=19; getpriority/setpriority).
    pub nice: i32,
    /// How many times the process has called execve (a /proc/PID/environ opened before
    /// an exec reads nothing after it, as on Linux, whose handle pins the old memory).
    pub exec_count: u64,
    /// Signal dispositions, index = signal number - 1.
    pub actions: [SigAction; 64],
    /// Signals pending for the process as a whole.
    pub pending: SigSet,
    /// Queued siginfo of pending process-wide signals.
    pub pending_info: signal::Queued,
    /// The exit status once exit_group or a fatal signal decided it.
    pub exit_status: Option<WaitStatus>,
    /// CPU time used by exited children (user, system), in nanoseconds.
    pub children_time: (u64, u64),
    /// CPU time of this process's threads that have exited (user, system).
    pub exited_threads_time: (u64, u64),
    /// Resource limits (RLIMIT_*), (soft, hard).
    pub limits: [(u64, u64); 16],
    /// Whether the process has called execve since fork (for setpgid's EACCES).
    pub did_exec: bool,
    /// The parent is blocked in vfork until this process execs or exits.
    pub vfork_parent_waiting: bool,
    /// POSIX timers (timer_create), by id.
    pub posix_timers: BTreeMap<i32, PosixTimer>,
    /// ITIMER_REAL: the task that sends SIGALRM (dropping it disarms the timer), its
    /// next expiry (monotonic ns) and its interval (ns, 0 = one shot).
    pub real_timer: Option<(executor::JoinHandle<()>, u64, u64)>,
}

/// A POSIX timer (timer_create): what it sends, and while armed the task that sends it.
pub struct PosixTimer {
    /// The clock it measures (CLOCK_REALTIME / MONOTONIC / BOOTTIME).
    pub clock: u32,
    /// The signal to send (`None`: SIGEV_NONE).
    pub signal: Option<Signal>,
    /// `sigev_value`, delivered in `si_value`.
    pub value: u64,
    /// SIGEV_THREAD_ID: the thread that gets the signal.
    pub thread: Option<Pid>,
    /// While armed: the task, the next expiry (monotonic ns) and the interval (ns).
    pub armed: Option<(executor::JoinHandle<()>, u64, u64)>,
}

/// A process.
pub struct Process {
    /// Process id (= the id of its first thread).
    pub pid: Pid,
    /// Mutable state.
    pub inner: SpinLock<ProcessInner>,
    /// The address space (replaced by execve; shared with CLONE_VM children until then).
    pub space: SpinLock<Arc<SpinLock<UserSpace>>>,
    /// `satp` of the current address space (so the return to user mode compares one
    /// word instead of taking the space's locks).
    pub satp: core::sync::atomic::AtomicUsize,
    /// The file-descriptor table (shared with CLONE_FILES children).
    pub files: SpinLock<Arc<SpinLock<FdTable>>>,
    /// Woken when a child changes state (wait4/waitid wait here).
    pub child_events: WaitQueue,
    /// Woken when a vfork child execs or exits.
    pub vfork_done: WaitQueue,
    /// Set once every thread has exited.
    pub exited: AtomicBool,
    /// The parent's pid, readable without the lock (getppid is the null system call
    /// of benchmarks); kept equal to `inner.parent`'s pid.
    pub parent_pid: AtomicU32,
}

/// Parts of a thread that change.
pub struct ThreadInner {
    /// Blocked signals.
    pub mask: SigSet,
    /// Signals pending for this thread only.
    pub pending: SigSet,
    /// Their siginfo.
    pub pending_info: signal::Queued,
    /// CLONE_CHILD_CLEARTID / set_tid_address: zeroed and futex-woken at exit.
    pub clear_child_tid: usize,
    /// set_robust_list head.
    pub robust_list: usize,
    /// sigaltstack.
    pub alt_stack: StackT,
    /// Mask to restore after rt_sigsuspend's handler returns.
    pub saved_mask: Option<SigSet>,
    /// The waker of this thread's task (to interrupt a blocked system call).
    pub waker: Option<Waker>,
}

/// A thread.
pub struct Thread {
    /// Thread id.
    pub tid: Pid,
    /// Its process.
    pub process: Arc<Process>,
    /// Mutable state.
    pub inner: SpinLock<ThreadInner>,
    /// Set when the thread must exit (exit_group by another thread, fatal signal).
    pub exiting: AtomicBool,
    /// Exit code for `exit` of this thread alone.
    pub exit_code: AtomicI32,
    /// A signal may be pending for this thread or its process (set when one is posted,
    /// cleared when delivery finds none): lets the return to user mode skip the signal
    /// locks entirely in the common case.
    pub signal_hint: AtomicBool,
    /// The thread's own name (prctl PR_SET_NAME by a thread other than the main one);
    /// `None`: the process's `comm`.
    pub name: SpinLock<Option<Vec<u8>>>,
    /// Nanoseconds spent in user mode.
    pub user_nanos: core::sync::atomic::AtomicU64,
    /// Nanoseconds spent handling its system calls and faults.
    pub system_nanos: core::sync::atomic::AtomicU64,
    /// This thread took permissions away from (or moved) mappings of its address space
    /// at this TLB epoch: before it returns to user mode, every other hart running the
    /// same space must have flushed (0: nothing to wait for). See `run::shoot_down`.
    pub shootdown_epoch: core::sync::atomic::AtomicU64,
    /// The hart running this thread in user mode, plus one (0: not in user mode), so a
    /// signal or an exit posted from another hart can interrupt it with an IPI.
    pub in_user_on: core::sync::atomic::AtomicUsize,
    /// Bumped by every [`Thread::kick`]: the user loop compares it around entering user
    /// mode, to notice a kick that missed `in_user_on`.
    pub kicks: core::sync::atomic::AtomicU64,
}

impl Thread {
    /// The thread's name (/proc/PID/task/TID/comm).
    pub fn name(&self) -> Vec<u8> {
        self.name.lock().clone().unwrap_or_else(|| self.process.inner.lock().comm.clone())
    }

    /// (user, system) CPU nanoseconds of this thread.
    pub fn cpu_time(&self) -> (u64, u64) {
        (self.user_nanos.load(Ordering::Relaxed), self.system_nanos.load(Ordering::Relaxed))
    }
}

impl Process {
    /// (user, system) CPU nanoseconds of all threads, live and exited.
    pub fn cpu_time(&self) -> (u64, u64) {
        let (mut user, mut system) = self.inner.lock().exited_threads_time;
        for thread in self.threads() {
            let (u, s) = thread.cpu_time();
            user += u;
            system += s;
        }
        (user, system)
    }
}

static NEXT_PID: AtomicU32 = AtomicU32::new(1);
static PROCESSES: SpinLock<BTreeMap<Pid, Weak<Process>>> = SpinLock::new(BTreeMap::new());
static THREADS: SpinLock<BTreeMap<Pid, Weak<Thread>>> = SpinLock::new(BTreeMap::new());

/// A new process or thread id.
pub fn allocate_pid() -> Pid {
    NEXT_PID.fetch_add(1, Ordering::Relaxed)
}

/// The process with id `pid`, if it exists (zombies included).
pub fn find_process(pid: Pid) -> Option<Arc<Process>> {
    PROCESSES.lock().get(&pid).and_then(Weak::upgrade)
}

/// The thread with id `tid`.
pub fn find_thread(tid: Pid) -> Option<Arc<Thread>> {
    THREADS.lock().get(&tid).and_then(Weak::upgrade)
}

/// Every process (snapshot).
pub fn all_processes() -> Vec<Arc<Process>> {
    PROCESSES.lock().values().filter_map(Weak::upgrade).collect()
}

/// Number of live threads (for sysinfo / benchmarks).
pub fn thread_count() -> usize {
    THREADS.lock().len()
}

pub(crate) fn register_process(process: &Arc<Process>) {
    PROCESSES.lock().insert(process.pid, Arc::downgrade(process));
}

pub(crate) fn register_thread(thread: &Arc<Thread>) {
    THREADS.lock().insert(thread.tid, Arc::downgrade(thread));
}

pub(crate) fn unregister_thread(tid: Pid) {
    THREADS.lock().remove(&tid);
}

pub(crate) fn unregister_process(pid: Pid) {
    PROCESSES.lock().remove(&pid);
}

impl Process {
    /// The current address space.
    pub fn space(&self) -> Arc<SpinLock<UserSpace>> {
        self.space.lock().clone()
    }

    /// The current file table.
    pub fn files(&self) -> Arc<SpinLock<FdTable>> {
        self.files.lock().clone()
    }

    /// Parent's pid (0 for init).
    pub fn ppid(&self) -> Pid {
        self.parent_pid.load(Ordering::Relaxed)
    }

    /// Makes `parent` this process's parent (fork, reparenting to init).
    pub fn set_parent(&self, inner: &mut ProcessInner, parent: &Arc<Process>) {
        inner.parent = Arc::downgrade(parent);
        self.parent_pid.store(parent.pid, Ordering::Relaxed);
    }

    /// Live threads.
    pub fn threads(&self) -> Vec<Arc<Thread>> {
        self.inner.lock().threads.iter().filter_map(Weak::upgrade).collect()
    }
}

impl Thread {
    /// Wakes the thread's task if it is blocked (to notice a signal or an exit).
    pub fn kick(&self) {
        self.signal_hint.store(true, Ordering::SeqCst);
        self.kicks.fetch_add(1, Ordering::SeqCst);
        let waker = self.inner.lock().waker.clone();
        if let Some(waker) = waker {
            waker.wake();
        }
        // Running user code on another hart: interrupt it (its trap back delivers).
        // The user loop publishes `in_user_on` before it re-reads `kicks`, and both
        // sides are SeqCst, so one of them sees the other.
        let on = self.in_user_on.load(Ordering::SeqCst);
        if on != 0 && on - 1 != arch::hart::id() {
            arch::hart::send_ipi(on - 1);
        }
    }
}

// ---- the current thread -------------------------------------------------------------

static CURRENT: [SpinLock<Option<Arc<Thread>>>; arch::layout::MAX_HARTS] =
    [const { SpinLock::new(None) }; arch::layout::MAX_HARTS];

/// The thread whose task this hart is polling, if any.
pub fn current() -> Option<Arc<Thread>> {
    CURRENT[arch::hart::id()].lock().clone()
}

/// Whether the current thread has an unblocked signal pending or must exit (a blocked
/// system call then gives up with ERESTARTSYS/EINTR).
pub fn current_has_pending_signal() -> bool {
    current().is_some_and(|thread| signal::has_deliverable(&thread))
}

/// Polls a thread's future with the thread installed as "current" on this hart and its
/// waker recorded (so signals can interrupt what it waits for).
pub struct WithCurrent<F> {
    thread: Arc<Thread>,
    future: F,
}

impl<F> WithCurrent<F> {
    /// Wraps `future`, the body of `thread`'s task.
    pub fn new(thread: Arc<Thread>, future: F) -> Self {
        Self { thread, future }
    }
}

impl<F: Future> Future for WithCurrent<F> {
    type Output = F::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is structurally pinned: it is never moved out of `self`.
        let this = unsafe { self.get_unchecked_mut() };
        {
            let mut inner = this.thread.inner.lock();
            if !inner.waker.as_ref().is_some_and(|waker| waker.will_wake(cx.waker())) {
                inner.waker = Some(cx.waker().clone());
            }
        }
        let hart = arch::hart::id();
        let previous = CURRENT[hart].lock().replace(this.thread.clone());
        // SAFETY: as above.
        let result = unsafe { Pin::new_unchecked(&mut this.future) }.poll(cx);
        *CURRENT[arch::hart::id()].lock() = previous;
        result
    }
}

/// Sends `signal` to every process in process group `pgid`.
pub fn signal_group(pgid: Pid, signal: Signal) -> usize {
    let members: Vec<_> = all_processes().into_iter().filter(|p| p.inner.lock().pgid == pgid).collect();
    for process in &members {
        signal::send_to_process(process, signal, SigInfo::kernel(signal));
    }
    members.len()
}
