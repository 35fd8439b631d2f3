//! The life of a user thread: one async task that enters user mode, takes the trap
//! back and handles it, until the thread exits. Also exit and reaping.
//!
//! ```text
//! loop {
//!     deliver pending signals          (may build a handler frame, stop, or exit)
//!     enter user mode                  (arch::user::enter returns on the next trap)
//!     system call  → syscall::dispatch(..).await   (may be Pending: the hart runs others)
//!     timer        → wake due sleepers; yield if the time slice is used up and others wait
//!     page fault   → mm fault handling, or SIGSEGV
//! }
//! ```

use alloc::sync::Arc;
use core::future::Future;
use core::sync::atomic::Ordering;
use core::time::Duration;

use abi::signal::{SigInfo, Signal, BUS_ADRERR, ILL_ILLOPC, SEGV_ACCERR, SEGV_MAPERR};
use abi::{Errno, WaitStatus};
use arch::trap::TrapCause;
use arch::user::UserContext;
use mm::user::{Access, Fault};
use mm::VirtAddr;

use super::signal::{self, Delivery, Interrupted};
use super::{Process, ProcessState, Thread, WithCurrent};

/// How long user code runs before yielding to other runnable tasks on its hart.
pub const TIME_SLICE: Duration = Duration::from_millis(10);

/// The address space this hart has installed (its `satp`), to skip needless switches.
static INSTALLED_SATP: [core::sync::atomic::AtomicUsize; arch::layout::MAX_HARTS] =
    [const { core::sync::atomic::AtomicUsize::new(0) }; arch::layout::MAX_HARTS];

/// The address space behind [`INSTALLED_SATP`], held by the hart: its root table also
/// maps the kernel half this hart runs on, so it must not be freed (and its frame
/// reused) while installed here, even after its process exited or exec'd on another
/// hart. The hart lets go when it installs another table or goes idle.
static INSTALLED_SPACE: [ksync::SpinLock<Option<Arc<ksync::SpinLock<super::UserSpace>>>>; arch::layout::MAX_HARTS] =
    [const { ksync::SpinLock::new(None) }; arch::layout::MAX_HARTS];

/// Page-table switches so far (for benchmarks).
pub static PAGE_TABLE_SWITCHES: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

fn install_address_space(thread: &Thread) {
    let satp = thread.process.satp.load(Ordering::Acquire);
    let hart = arch::hart::id();
    let epoch = TLB_EPOCH.load(Ordering::Acquire);
    if INSTALLED_SATP[hart].load(Ordering::Relaxed) != satp {
        PAGE_TABLE_SWITCHES.fetch_add(1, Ordering::Relaxed);
        // The table comes from the space itself, which this hart then holds.
        let space = thread.process.space();
        let satp = space.lock().satp();
        INSTALLED_SATP[hart].store(satp, Ordering::Relaxed);
        HART_EPOCH[hart].store(epoch, Ordering::Relaxed);
        // SAFETY: every user page table shares the kernel's upper half, so the kernel
        // stays mapped across the switch; switching also flushes the TLB. The table
        // stays alive while installed (held just below).
        unsafe { arch::paging::activate(satp) };
        // The previous space is dropped (perhaps freed) only now, with its table no
        // longer installed.
        let previous = INSTALLED_SPACE[hart].lock().replace(space);
        drop(previous);
    } else if HART_EPOCH[hart].load(Ordering::Relaxed) != epoch {
        HART_EPOCH[hart].store(epoch, Ordering::Relaxed);
        // The same page table as before, but some hart took permissions away or freed
        // frames since this hart last flushed: its cached translations may be stale (a
        // process that forked on another hart, a freed table whose frame came back as
        // another process's root).
        // SAFETY: sfence.vma only drops cached translations.
        unsafe { arch::paging::flush_tlb() };
    }
}

/// Called by an idle hart: if the address space it has installed belongs to no process
/// any more (exited, or replaced by execve), switch to the kernel's table and free it.
pub fn release_dead_address_space(hart: usize) {
    let dead = INSTALLED_SPACE[hart].lock().as_ref().is_some_and(|space| Arc::strong_count(space) == 1);
    if dead {
        crate::memory::activate_kernel_page_table();
        INSTALLED_SATP[hart].store(0, Ordering::Relaxed);
        let space = INSTALLED_SPACE[hart].lock().take();
        drop(space);
    }
}

/// Bumped whenever user mappings lose permissions or frames are released; a hart
/// re-entering the page table it already has flushes its TLB if this moved.
static TLB_EPOCH: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);
static HART_EPOCH: [core::sync::atomic::AtomicU64; arch::layout::MAX_HARTS] =
    [const { core::sync::atomic::AtomicU64::new(0) }; arch::layout::MAX_HARTS];

/// A user mapping lost permissions or a user frame was released (see [`TLB_EPOCH`]);
/// returns the new epoch: a hart whose last flush read it (or a later one) holds no
/// translation removed before the call.
pub fn note_user_mapping_change() -> u64 {
    TLB_EPOCH.fetch_add(1, Ordering::SeqCst) + 1
}

/// Per hart: the TLB epoch it last flushed at while it runs user code; `u64::MAX`
/// while it runs the kernel (which never reaches user memory through the MMU, and
/// flushes before entering user mode again if the epoch moved).
static USER_EPOCH: [core::sync::atomic::AtomicU64; arch::layout::MAX_HARTS] =
    [const { core::sync::atomic::AtomicU64::new(u64::MAX) }; arch::layout::MAX_HARTS];

/// Per hart: an IPI was sent to make it flush, and it has not entered user mode since.
static NUDGED: [core::sync::atomic::AtomicBool; arch::layout::MAX_HARTS] =
    [const { core::sync::atomic::AtomicBool::new(false) }; arch::layout::MAX_HARTS];

/// The oldest epoch a hart running user code flushed at: a frame released at an epoch
/// up to this one is out of every hart's TLB and may be reused (see
/// `mm::RefCountedFrames::release_after`).
pub fn safe_epoch() -> u64 {
    USER_EPOCH.iter().map(|epoch| epoch.load(Ordering::SeqCst)).min().unwrap_or(u64::MAX)
}

/// Sends an IPI to every hart still running user code with a TLB older than `epoch`
/// (once per stay in user mode): its trap back into the kernel flushes on the way out
/// again, so quarantined frames become free without anyone waiting for it.
pub fn nudge_harts_older_than(epoch: u64) {
    let this = arch::hart::id();
    for (hart, user_epoch) in USER_EPOCH.iter().enumerate() {
        if hart != this && user_epoch.load(Ordering::SeqCst) < epoch && !NUDGED[hart].swap(true, Ordering::SeqCst) {
            arch::hart::send_ipi(hart);
        }
    }
}

/// Records that this hart is about to enter user mode with the TLB it flushed at its
/// `HART_EPOCH`. The caller issues a SeqCst fence after it (with whatever else it
/// publishes), before it reads what others publish and before user code runs.
#[inline(always)]
fn entering_user_mode(hart: usize) {
    USER_EPOCH[hart].store(HART_EPOCH[hart].load(Ordering::Relaxed), Ordering::Relaxed);
    if NUDGED[hart].load(Ordering::Relaxed) {
        NUDGED[hart].store(false, Ordering::Relaxed);
    }
}

/// Records that this hart is back in the kernel; frees what the quarantine may now let
/// go, and wakes shootdowns waiting for this hart.
#[inline(always)]
fn left_user_mode(hart: usize) {
    USER_EPOCH[hart].store(u64::MAX, Ordering::Relaxed);
    // Orders the store before the loads: a shootdown that registered before them is
    // seen here, one that registers after them sees the store.
    core::sync::atomic::fence(Ordering::SeqCst);
    if crate::memory::frames_quarantined() {
        crate::memory::reclaim_quarantined_frames();
    }
    if SHOOTDOWNS_WAITING.load(Ordering::Relaxed) != 0 {
        LEFT_USER_MODE.wake_all();
    }
}

/// Flushes this hart's TLB if `space` changed mappings since the last flush. Called
/// by whoever changed them (memory calls, faults, copy-on-write in user copies) while
/// this hart has the space installed.
pub fn flush_tlb_if_needed(space: &mut super::UserSpace) {
    if space.take_tlb_flush() {
        let epoch = note_user_mapping_change();
        // SAFETY: sfence.vma only drops cached translations.
        unsafe { arch::paging::flush_tlb() };
        // Other harts may run this space's threads with the old translations: the
        // current thread waits for them before it returns to user mode.
        if let Some(thread) = super::current() {
            if thread.process.satp.load(Ordering::Relaxed) == space.satp() {
                thread.shootdown_epoch.fetch_max(epoch, Ordering::SeqCst);
            }
        }
    }
}

/// Tasks waiting in [`shoot_down`] (so leaving user mode wakes them only when needed).
static SHOOTDOWNS_WAITING: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);
/// Woken when a hart leaves user mode while a shootdown waits.
static LEFT_USER_MODE: ksync::WaitQueue = ksync::WaitQueue::new();

/// The harts (a bit mask) running user code of the page table `satp` with a TLB older
/// than `epoch`.
fn harts_lagging(satp: usize, epoch: u64) -> u64 {
    (0..arch::layout::MAX_HARTS)
        .filter(|&hart| INSTALLED_SATP[hart].load(Ordering::SeqCst) == satp && USER_EPOCH[hart].load(Ordering::SeqCst) < epoch)
        .fold(0, |mask, hart| mask | 1 << hart)
}

/// A TLB shootdown without spinning: if `thread` took permissions away from its
/// address space (mprotect, munmap, copy-on-write at fork, a copy-on-write break), the
/// other harts running that space in user mode get an IPI, and the thread's task
/// sleeps until each has left user mode (its trap back flushes before it enters
/// again). Linux's `flush_tlb_mm` waits for the same acknowledgement, spinning.
async fn shoot_down(thread: &Thread) {
    let epoch = thread.shootdown_epoch.swap(0, Ordering::SeqCst);
    if epoch == 0 {
        return;
    }
    let satp = thread.process.satp.load(Ordering::Acquire);
    let lagging = harts_lagging(satp, epoch);
    if lagging == 0 {
        return;
    }
    SHOOTDOWNS.fetch_add(1, Ordering::Relaxed);
    for hart in (0..arch::layout::MAX_HARTS).filter(|hart| lagging & 1 << hart != 0) {
        arch::hart::send_ipi(hart);
    }
    SHOOTDOWNS_WAITING.fetch_add(1, Ordering::SeqCst);
    core::future::poll_fn(|cx| {
        LEFT_USER_MODE.register(cx.waker());
        if harts_lagging(satp, epoch) == 0 {
            core::task::Poll::Ready(())
        } else {
            core::task::Poll::Pending
        }
    })
    .await;
    SHOOTDOWNS_WAITING.fetch_sub(1, Ordering::SeqCst);
}

/// TLB shootdowns that had to wait for another hart (for /proc/coros/counters).
pub static SHOOTDOWNS: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// Spawns the task of `thread`, which starts in user mode with `context`.
pub fn spawn_thread(thread: Arc<Thread>, context: UserContext) {
    super::register_thread(&thread);
    let task = WithCurrent::new(thread.clone(), user_loop(thread, context));
    static LOGGED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);
    if !LOGGED.swap(true, Ordering::Relaxed) {
        log::debug!(
            "a user thread costs {} bytes of task state (its whole kernel context, no stack) + {} bytes of Thread",
            core::mem::size_of_val(&task),
            core::mem::size_of::<Thread>()
        );
    }
    crate::runtime::spawn(task).detach();
}

/// The body of every user thread's task.
pub async fn user_loop(thread: Arc<Thread>, mut context: UserContext) {
    let mut interrupted: Option<Interrupted> = None;
    let mut slice_end = crate::runtime::now().saturating_add(TIME_SLICE);
    // A timer entry at the end of the slice, registered only while other tasks wait on
    // this hart: its interrupt brings the hart back from a user busy loop.
    let mut slice_timer: Option<timer::Sleep<'static>> = None;
    loop {
        let kicks = thread.kicks.load(Ordering::Relaxed);
        match signal::deliver(&thread, &mut context, &mut interrupted) {
            Delivery::Resume => {}
            Delivery::Exit => break,
            Delivery::Stop(stop_signal) => {
                // Rare: boxed so its state does not enlarge every thread's task.
                alloc::boxed::Box::pin(signal::stop(&thread, stop_signal)).await;
                continue;
            }
        }
        install_address_space(&thread);
        let hart = arch::hart::id();
        thread.in_user_on.store(hart + 1, Ordering::Relaxed);
        entering_user_mode(hart);
        // One fence for both protocols: kickers and frame releasers that miss what was
        // just published are seen below or have their effect seen by user code.
        core::sync::atomic::fence(Ordering::SeqCst);
        if thread.kicks.load(Ordering::Relaxed) != kicks {
            // Kicked since delivery looked (the kicker may have missed `in_user_on`).
            thread.in_user_on.store(0, Ordering::Relaxed);
            USER_EPOCH[hart].store(u64::MAX, Ordering::Relaxed);
            continue;
        }
        let entered = arch::timer::ticks();
        let cause = arch::user::enter(&mut context);
        let returned = arch::timer::ticks();
        thread.in_user_on.store(0, Ordering::Relaxed);
        left_user_mode(hart);
        thread.user_nanos.fetch_add(ticks_to_nanos(returned - entered), Ordering::Relaxed);
        match cause {
            TrapCause::Timer => {
                crate::trap::count_interrupt();
                crate::runtime::on_timer_interrupt();
                arch::interrupts::enable();
            }
            TrapCause::Software => {
                crate::trap::count_interrupt();
                arch::hart::clear_ipi();
                arch::interrupts::enable();
            }
            TrapCause::External => {
                crate::trap::count_interrupt();
                crate::irq::handle_external();
                arch::interrupts::enable();
            }
            TrapCause::OtherInterrupt(_) => {
                crate::trap::count_interrupt();
                arch::interrupts::enable();
            }
            TrapCause::Exception { code: 8, .. } => {
                arch::interrupts::enable();
                context.sepc += 4;
                let original_a0 = context.registers[arch::user::reg::A0];
                let result = crate::syscall::dispatch(&thread, &mut context).await;
                thread.system_nanos.fetch_add(ticks_to_nanos(arch::timer::ticks() - returned), Ordering::Relaxed);
                match result {
                    Err(errno)
                        if errno == Errno::ERESTARTSYS
                            || errno == Errno::ERESTARTNOINTR
                            || errno == Errno::ERESTARTNOHAND =>
                    {
                        context.set_return_value(Errno::EINTR.as_return_value() as usize);
                        interrupted = Some(Interrupted { errno, original_a0 });
                    }
                    Err(errno) => context.set_return_value(errno.as_return_value() as usize),
                    Ok(value) => context.set_return_value(value),
                }
            }
            TrapCause::Exception { code, stval } => {
                crate::trap::count_user_exception();
                arch::interrupts::enable();
                if let Some(wait) = handle_exception(&thread, &context, code, stval) {
                    // A file page being read in: rare, so its future is boxed.
                    alloc::boxed::Box::pin(wait_for_file_page(&thread, wait)).await;
                }
            }
        }
        // Other harts must drop what this thread's system call or fault took away.
        if thread.shootdown_epoch.load(Ordering::Relaxed) != 0 {
            // Rare: boxed so its state does not enlarge every thread's task.
            alloc::boxed::Box::pin(shoot_down(&thread)).await;
        }
        // Preemption: past the time slice, let other tasks of this hart run.
        if crate::runtime::now() >= slice_end {
            slice_timer = None;
            if others_waiting() {
                executor::yield_now().await;
            }
            slice_end = crate::runtime::now().saturating_add(TIME_SLICE);
        }
        if slice_timer.is_none() && others_waiting() {
            let mut sleep = crate::runtime::timers().sleep_until(slice_end);
            let _ = core::future::poll_fn(|cx| core::task::Poll::Ready(core::pin::Pin::new(&mut sleep).poll(cx))).await;
            slice_timer = Some(sleep);
        }
    }
    thread_exit(&thread);
}

fn ticks_to_nanos(ticks: u64) -> u64 {
    ticks * (1_000_000_000 / arch::timer::ticks_per_second().max(1))
}

/// Whether other tasks wait for this hart (then user code gets a time slice).
fn others_waiting() -> bool {
    crate::runtime::executor().queued(arch::hart::id()) > 0
}

/// A page fault waiting for a file page: the file, the page index, the address and access.
pub struct FilePageWait {
    file: Arc<dyn core::any::Any + Send + Sync>,
    index: u64,
    address: VirtAddr,
    access: Access,
}

/// Awaits the file page a fault needs (no lock held meanwhile), installs it, and lets
/// the instruction retry; a page that cannot be had is `SIGBUS` (or `SIGKILL` when out
/// of memory), as on Linux.
async fn wait_for_file_page(thread: &Arc<Thread>, wait: FilePageWait) {
    let result = super::file_pages::wait_file_page(wait.file.clone(), wait.index).await.and_then(|pa| {
        let space = thread.process.space();
        let mut space = space.lock();
        let result = space.install_file_page(wait.address, wait.access, &*wait.file, wait.index, pa);
        flush_tlb_if_needed(&mut space);
        result
    });
    if let Err(fault) = result {
        fault_signal(thread, fault, wait.address.0);
    }
}

/// Sends the signal for an unresolvable fault at `address`.
fn fault_signal(thread: &Arc<Thread>, fault: Fault, address: usize) {
    let (signal, si_code) = match fault {
        Fault::MapErr => (Signal::SIGSEGV, SEGV_MAPERR),
        Fault::AccErr => (Signal::SIGSEGV, SEGV_ACCERR),
        Fault::Bus | Fault::Wait => (Signal::SIGBUS, BUS_ADRERR),
        Fault::OutOfMemory => {
            log::warn!("pid {}: out of memory at {address:#x}: killed", thread.process.pid);
            (Signal::SIGKILL, 0)
        }
    };
    force_signal(thread, signal, si_code, address);
}

/// Delivers a fault signal: it cannot be blocked or ignored (if it is, the process dies).
fn force_signal(thread: &Arc<Thread>, signal: Signal, si_code: i32, address: usize) {
    {
        let mut inner = thread.inner.lock();
        inner.mask.remove(signal);
    }
    let action = thread.process.inner.lock().actions[signal.number() as usize - 1];
    if action.sa_handler == abi::signal::SIG_IGN {
        thread.process.inner.lock().actions[signal.number() as usize - 1] = Default::default();
    }
    signal::send_to_thread(thread, signal, SigInfo::fault(signal, si_code, address as u64));
}

/// Handles a user exception: resolves page faults, or sends the signal. Returns what a
/// fault must wait for when its file page is not ready.
fn handle_exception(thread: &Arc<Thread>, context: &UserContext, code: usize, stval: usize) -> Option<FilePageWait> {
    let access = match code {
        12 => Some(Access::Execute),
        13 => Some(Access::Read),
        15 => Some(Access::Write),
        _ => None,
    };
    let (signal, si_code, address) = match (access, code) {
        (Some(access), _) => {
            let space = thread.process.space();
            let mut space = space.lock();
            let result = space.handle_fault(VirtAddr(stval), access);
            flush_tlb_if_needed(&mut space);
            let request = if result == Err(Fault::Wait) { space.file_page_request(VirtAddr(stval)) } else { None };
            drop(space);
            match result {
                Ok(()) => return None,
                Err(Fault::Wait) => {
                    let (file, index) = request?;
                    return Some(FilePageWait { file, index, address: VirtAddr(stval), access });
                }
                Err(Fault::MapErr) => (Signal::SIGSEGV, SEGV_MAPERR, stval),
                Err(Fault::AccErr) => (Signal::SIGSEGV, SEGV_ACCERR, stval),
                Err(Fault::Bus) => (Signal::SIGBUS, BUS_ADRERR, stval),
                Err(Fault::OutOfMemory) => {
                    log::warn!("pid {}: out of memory at {stval:#x}: killed", thread.process.pid);
                    (Signal::SIGKILL, 0, stval)
                }
            }
        }
        (None, 2) => (Signal::SIGILL, ILL_ILLOPC, context.sepc),
        (None, 0 | 4 | 6) => (Signal::SIGBUS, BUS_ADRERR, stval),
        (None, 3) => (Signal::SIGTRAP, 1, context.sepc),
        _ => (Signal::SIGSEGV, SEGV_ACCERR, stval),
    };
    log::debug!(
        "pid {} tid {}: {} at pc {:#x}, address {address:#x} -> {:?}",
        thread.process.pid,
        thread.tid,
        arch::trap::exception_name(code),
        context.sepc,
        signal
    );
    // A fault signal cannot be blocked or ignored: if it is, the process dies of it.
    force_signal(thread, signal, si_code, address);
    None
}

/// Ends the whole process with `status` (exit_group, fatal signals).
pub fn exit_group(thread: &Arc<Thread>, status: WaitStatus) {
    let process = &thread.process;
    {
        let mut inner = process.inner.lock();
        if inner.exit_status.is_none() {
            inner.exit_status = Some(status);
        }
    }
    for other in process.threads() {
        other.exiting.store(true, Ordering::Release);
        if other.tid != thread.tid {
            other.kick();
        }
    }
}

/// A thread's task ends: clear_child_tid, then the process ends if this was its last thread.
fn thread_exit(thread: &Arc<Thread>) {
    let clear_child_tid = core::mem::take(&mut thread.inner.lock().clear_child_tid);
    if clear_child_tid != 0 {
        let memory = super::uaccess::UserMemory(thread.process.space());
        if memory.write(clear_child_tid, &0u32).is_ok() {
            crate::syscall::futex::wake_address(&thread.process, clear_child_tid, 1);
        }
    }
    super::unregister_thread(thread.tid);
    let process = thread.process.clone();
    let (user, system) = thread.cpu_time();
    let last = {
        let mut inner = process.inner.lock();
        inner.exited_threads_time.0 += user;
        inner.exited_threads_time.1 += system;
        inner.threads.retain(|weak| weak.upgrade().is_some_and(|other| other.tid != thread.tid));
        inner.threads.is_empty()
    };
    thread.inner.lock().waker = None;
    if last {
        let status = process
            .inner
            .lock()
            .exit_status
            .unwrap_or(WaitStatus::exited(thread.exit_code.load(Ordering::Relaxed)));
        process_exit(&process, status);
    }
}

/// The last thread is gone: release resources, reparent children, tell the parent.
fn process_exit(process: &Arc<Process>, status: WaitStatus) {
    let files = process.files();
    let closed = core::mem::replace(&mut *files.lock(), vfs::FdTable::new(0));
    drop(closed);
    // Release the memory now unless another process shares it (a vfork/CLONE_VM
    // child must not tear down its parent's memory): the field and `space` are 2.
    let space = process.space();
    if Arc::strong_count(&space) <= 2 {
        space.lock().clear();
    }
    drop(space);
    process.exited.store(true, Ordering::Release);
    if process.pid == 1 {
        let code = if status.is_exited() { status.exit_status() } else { 128 + status.term_signal() };
        println!("init exited with status {code}{}", if status.is_signaled() { " (killed by a signal)" } else { "" });
        arch::power::power_off(code.clamp(0, 255) as u16);
    }
    let init = super::find_process(1);
    let (children, parent, vfork) = {
        let mut inner = process.inner.lock();
        inner.state = ProcessState::Zombie(status);
        (core::mem::take(&mut inner.children), inner.parent.upgrade(), core::mem::take(&mut inner.vfork_parent_waiting))
    };
    if let Some(init) = &init {
        let mut zombie_moved = false;
        for child in children {
            let mut child_inner = child.inner.lock();
            child.set_parent(&mut child_inner, init);
            zombie_moved |= matches!(child_inner.state, ProcessState::Zombie(_));
            drop(child_inner);
            init.inner.lock().children.push(child);
        }
        if zombie_moved {
            init.child_events.wake_all();
        }
    }
    if vfork {
        process.vfork_done.wake_all();
    }
    let Some(parent) = parent else { return };
    {
        let (user, system) = process.cpu_time();
        let children = process.inner.lock().children_time;
        let mut parent_inner = parent.inner.lock();
        parent_inner.children_time.0 += user + children.0;
        parent_inner.children_time.1 += system + children.1;
    }
    let (ignores_children, no_wait) = {
        let inner = parent.inner.lock();
        let action = inner.actions[Signal::SIGCHLD.number() as usize - 1];
        (action.sa_handler == abi::signal::SIG_IGN, action.sa_flags & abi::signal::SA_NOCLDWAIT != 0)
    };
    if ignores_children || no_wait {
        // Auto-reap, as Linux does when SIGCHLD is ignored.
        parent.inner.lock().children.retain(|child| child.pid != process.pid);
        super::unregister_process(process.pid);
    } else {
        let code = if status.is_exited() { abi::signal::CLD_EXITED } else { abi::signal::CLD_KILLED };
        let value = if status.is_exited() { status.exit_status() } else { status.term_signal() };
        signal::send_to_process(&parent, Signal::SIGCHLD, SigInfo::child(code, process.pid as i32, 0, value, 0, 0));
    }
    parent.child_events.wake_all();
}
