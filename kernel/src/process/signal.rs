//! Signals: posting them, delivering them on the way back to user mode, and returning
//! from handlers.
//!
//! Posting sets a pending bit (per thread or per process) and kicks a thread that does
//! not block the signal, so a system call it is blocked in gives up (ERESTARTSYS).
//! Delivery happens in the thread's own task, right before it enters user mode again:
//! a handler gets Linux's riscv64 `rt_sigframe` on the user stack and returns through a
//! `rt_sigreturn` trampoline page the kernel maps in every process; default actions
//! terminate, stop or ignore.

use alloc::sync::Arc;
use core::mem::size_of;

use abi::signal::{
    Disposition, RtSigFrame, SigAction, SigInfo, SigSet, Signal, UContext, SA_NODEFER, SA_ONSTACK, SA_RESETHAND,
    SA_RESTART, SS_DISABLE, SS_ONSTACK,
};
use abi::{DefaultAction, Errno, WaitStatus};
use arch::user::{reg, UserContext};

use super::uaccess::UserMemory;
use super::{Process, ProcessState, Thread};

/// User address of the page holding `li a7, 139; ecall` (rt_sigreturn), mapped
/// read+execute in every process between the stack (top 8 MiB) and the mmap area
/// (which starts 128 MiB below the top), where Linux puts its vDSO. Low addresses stay
/// unmapped, so a null-ish pointer faults as on Linux.
pub const SIGRETURN_TRAMPOLINE: usize = 0x40_0000_0000 - (16 << 20);
/// The trampoline's two instructions.
pub const TRAMPOLINE_CODE: [u32; 2] = [0x08b0_0893, 0x0000_0073];

/// The siginfo of pending signals: one per standard signal (later instances merge),
/// every instance of a real-time signal, in order, as Linux queues them.
#[derive(Default)]
pub struct Queued(alloc::collections::BTreeMap<u32, alloc::collections::VecDeque<SigInfo>>);

impl Queued {
    /// Records `info` for `signal`, which is then pending in `set`.
    pub fn push(&mut self, set: &mut SigSet, signal: Signal, info: SigInfo) {
        let queue = self.0.entry(signal.number()).or_default();
        if signal.is_realtime() || queue.is_empty() {
            queue.push_back(info);
        }
        set.insert(signal);
    }

    /// Takes the oldest instance of `signal`; the signal stays pending in `set` while
    /// more instances are queued.
    pub fn pop(&mut self, set: &mut SigSet, signal: Signal) -> SigInfo {
        let queue = self.0.entry(signal.number()).or_default();
        let info = queue.pop_front().unwrap_or_else(|| SigInfo::kernel(signal));
        if queue.is_empty() {
            self.0.remove(&signal.number());
            set.remove(signal);
        }
        info
    }

    /// Forgets every instance of `signal`.
    pub fn discard(&mut self, set: &mut SigSet, signal: Signal) {
        self.0.remove(&signal.number());
        set.remove(signal);
    }
}

/// Whether `signal` would do nothing if delivered to `process` now. Like Linux, a
/// signal blocked by `blocked` is never "ignored": it is queued, since its
/// disposition may change before it is unblocked.
fn is_ignored(process: &Process, signal: Signal, blocked: bool) -> bool {
    let action = process.inner.lock().actions[signal.number() as usize - 1];
    !blocked && action.ignores(signal)
}

/// Posts `signal` to a process: one of its threads that does not block it will take it.
pub fn send_to_process(process: &Arc<Process>, signal: Signal, info: SigInfo) {
    if process.exited.load(core::sync::atomic::Ordering::Acquire) {
        return;
    }
    prepare(process, signal);
    let threads = process.threads();
    let blocked = !threads.is_empty() && threads.iter().all(|thread| thread.inner.lock().mask.contains(signal));
    if is_ignored(process, signal, blocked) && signal != Signal::SIGKILL {
        return;
    }
    {
        let mut inner = process.inner.lock();
        let inner = &mut *inner;
        inner.pending_info.push(&mut inner.pending, signal, info);
    }
    let target = threads.iter().find(|thread| !thread.inner.lock().mask.contains(signal)).or(threads.first());
    // Every thread may have to look (whichever unblocks it first takes it).
    for thread in &threads {
        thread.signal_hint.store(true, core::sync::atomic::Ordering::Release);
    }
    if signal == Signal::SIGKILL {
        threads.iter().for_each(|thread| thread.kick());
    } else if let Some(thread) = target {
        thread.kick();
    }
}

/// Posts `signal` to one thread (tkill, faults).
pub fn send_to_thread(thread: &Arc<Thread>, signal: Signal, info: SigInfo) {
    let process = &thread.process;
    prepare(process, signal);
    let blocked = thread.inner.lock().mask.contains(signal);
    if is_ignored(process, signal, blocked) && signal != Signal::SIGKILL && !signal.is_synchronous() {
        return;
    }
    {
        let mut inner = thread.inner.lock();
        let inner = &mut *inner;
        inner.pending_info.push(&mut inner.pending, signal, info);
    }
    thread.kick();
}

/// Side effects of posting, before queueing: SIGCONT resumes a stopped process and
/// drops pending stop signals; a stop signal drops a pending SIGCONT; SIGKILL resumes
/// a stopped process so it can die.
fn prepare(process: &Arc<Process>, signal: Signal) {
    let mut inner = process.inner.lock();
    if signal == Signal::SIGCONT || signal == Signal::SIGKILL {
        for stop in SigSet::STOP.iter() {
            let inner = &mut *inner;
            inner.pending_info.discard(&mut inner.pending, stop);
        }
        if let ProcessState::Stopped { .. } = inner.state {
            inner.state = ProcessState::Running;
            inner.continued = signal == Signal::SIGCONT;
            let parent = inner.parent.upgrade();
            drop(inner);
            process.child_events.wake_all();
            if let Some(parent) = parent {
                parent.child_events.wake_all();
            }
        }
    } else if SigSet::STOP.contains(signal) {
        let inner = &mut *inner;
        inner.pending_info.discard(&mut inner.pending, Signal::SIGCONT);
    }
}

/// Whether `thread` has something to act on before it may block again: an unblocked
/// pending signal, or an order to exit.
pub fn has_deliverable(thread: &Thread) -> bool {
    if thread.exiting.load(core::sync::atomic::Ordering::Acquire) {
        return true;
    }
    let (mask, own) = {
        let inner = thread.inner.lock();
        (inner.mask, inner.pending)
    };
    let shared = thread.process.inner.lock().pending;
    !own.union(shared).difference(mask).is_empty()
}

/// Takes the next signal to deliver to `thread` (its own first, synchronous first).
fn take_next(thread: &Thread) -> Option<(Signal, SigInfo)> {
    let mut inner = thread.inner.lock();
    let mask = inner.mask;
    if let Some(signal) = inner.pending.difference(mask).next_to_deliver() {
        let inner = &mut *inner;
        let info = inner.pending_info.pop(&mut inner.pending, signal);
        return Some((signal, info));
    }
    drop(inner);
    let mut process = thread.process.inner.lock();
    let signal = process.pending.difference(mask).next_to_deliver()?;
    let process = &mut *process;
    let info = process.pending_info.pop(&mut process.pending, signal);
    Some((signal, info))
}

/// What the thread's loop does after delivery.
pub enum Delivery {
    /// Return to user mode.
    Resume,
    /// The thread must exit (the process is dying).
    Exit,
    /// A stop signal: wait for SIGCONT (with [`stop`]), then deliver again.
    Stop(Signal),
}

/// A system call that was interrupted and may be restarted: its errno and its original
/// first argument (restarting re-executes the `ecall` with the same registers).
#[derive(Clone, Copy)]
pub struct Interrupted {
    /// ERESTARTSYS, ERESTARTNOINTR or ERESTARTNOHAND.
    pub errno: Errno,
    /// The system call's original `a0`.
    pub original_a0: usize,
}

fn restart_syscall(context: &mut UserContext, interrupted: Interrupted) {
    context.sepc -= 4;
    context.registers[reg::A0] = interrupted.original_a0;
}

/// Delivers pending signals to `thread` before it returns to user mode. Synchronous,
/// so its locals (a 128-byte siginfo among them) never live in a thread's task state.
pub fn deliver(thread: &Arc<Thread>, context: &mut UserContext, interrupted: &mut Option<Interrupted>) -> Delivery {
    use core::sync::atomic::Ordering;
    // Fast path: nothing was posted since the last look, and no call to restart.
    if interrupted.is_none()
        && !thread.signal_hint.load(Ordering::Acquire)
        && !thread.exiting.load(Ordering::Acquire)
    {
        return Delivery::Resume;
    }
    // Clear the hint before looking: a signal posted from now on sets it again.
    thread.signal_hint.store(false, Ordering::Release);
    loop {
        if thread.exiting.load(core::sync::atomic::Ordering::Acquire) {
            return Delivery::Exit;
        }
        let Some((signal, info)) = take_next(thread) else { break };
        let action = thread.process.inner.lock().actions[signal.number() as usize - 1];
        match action.disposition() {
            Disposition::Ignore => continue,
            Disposition::Default => match signal.default_action() {
                DefaultAction::Ignore | DefaultAction::Continue => continue,
                DefaultAction::Terminate => {
                    super::run::exit_group(thread, WaitStatus::signaled(signal.number(), false));
                    return Delivery::Exit;
                }
                DefaultAction::CoreDump => {
                    // No core file is written (RLIMIT_CORE is 0), so, as on Linux, the
                    // status does not claim one (WCOREDUMP clear).
                    super::run::exit_group(thread, WaitStatus::signaled(signal.number(), false));
                    return Delivery::Exit;
                }
                DefaultAction::Stop => {
                    thread.signal_hint.store(true, Ordering::Release);
                    return Delivery::Stop(signal);
                }
            },
            Disposition::Handler(handler) => {
                if let Some(interrupted) = interrupted.take() {
                    let restart = interrupted.errno == Errno::ERESTARTNOINTR
                        || (interrupted.errno == Errno::ERESTARTSYS && action.sa_flags & SA_RESTART != 0);
                    if restart {
                        restart_syscall(context, interrupted);
                    } else {
                        context.set_return_value(Errno::EINTR.as_return_value() as usize);
                    }
                }
                // More may be pending: look again on the next return to user mode.
                thread.signal_hint.store(true, Ordering::Release);
                if build_frame(thread, context, signal, info, &action, handler).is_err() {
                    // No room for the frame: like Linux, the process dies of SIGSEGV.
                    super::run::exit_group(thread, WaitStatus::signaled(Signal::SIGSEGV.number(), false));
                    return Delivery::Exit;
                }
                return Delivery::Resume;
            }
        }
    }
    if let Some(interrupted) = interrupted.take() {
        // No handler ran: the call restarts transparently (ERESTARTNOHAND and
        // ERESTARTSYS alike), as on Linux.
        restart_syscall(context, interrupted);
    }
    if let Some(mask) = thread.inner.lock().saved_mask.take() {
        // rt_sigsuspend without a handler (cannot happen: it returns only for one) —
        // restore the mask anyway.
        thread.inner.lock().mask = mask;
    }
    Delivery::Resume
}

/// Stops the process until SIGCONT or SIGKILL.
pub async fn stop(thread: &Arc<Thread>, signal: Signal) {
    let process = thread.process.clone();
    let parent = {
        let mut inner = process.inner.lock();
        inner.state = ProcessState::Stopped { signal: signal.number(), reported: false };
        inner.parent.upgrade()
    };
    if let Some(parent) = parent {
        let info = SigInfo::child(abi::signal::CLD_STOPPED, process.pid as i32, 0, signal.number() as i32, 0, 0);
        let no_stop_notice = parent.inner.lock().actions[Signal::SIGCHLD.number() as usize - 1].sa_flags
            & abi::signal::SA_NOCLDSTOP
            != 0;
        if !no_stop_notice {
            send_to_process(&parent, Signal::SIGCHLD, info);
        }
        parent.child_events.wake_all();
    }
    core::future::poll_fn(|cx| {
        process.child_events.register(cx.waker());
        let running = !matches!(process.inner.lock().state, ProcessState::Stopped { .. });
        if running || thread.exiting.load(core::sync::atomic::Ordering::Acquire) {
            core::task::Poll::Ready(())
        } else {
            core::task::Poll::Pending
        }
    })
    .await;
}

fn build_frame(
    thread: &Arc<Thread>,
    context: &mut UserContext,
    signal: Signal,
    info: SigInfo,
    action: &SigAction,
    handler: u64,
) -> Result<(), Errno> {
    let memory = UserMemory(thread.process.space());
    let (old_mask, alt_stack) = {
        let inner = thread.inner.lock();
        (inner.saved_mask.unwrap_or(inner.mask), inner.alt_stack)
    };
    let user_sp = context.registers[reg::SP];
    let on_alt_stack = alt_stack.ss_flags & SS_DISABLE == 0
        && user_sp as u64 > alt_stack.ss_sp
        && (user_sp as u64) <= alt_stack.ss_sp + alt_stack.ss_size;
    let stack_top = if action.sa_flags & SA_ONSTACK != 0 && alt_stack.ss_flags & SS_DISABLE == 0 && !on_alt_stack {
        (alt_stack.ss_sp + alt_stack.ss_size) as usize
    } else {
        user_sp
    };
    let frame_address = (stack_top - size_of::<RtSigFrame>()) & !15;
    let mut frame = RtSigFrame { info, uc: UContext::default() };
    frame.uc.uc_stack = alt_stack;
    if on_alt_stack {
        frame.uc.uc_stack.ss_flags = SS_ONSTACK;
    }
    frame.uc.uc_sigmask = old_mask;
    let regs = &mut frame.uc.uc_mcontext.sc_regs.regs;
    regs[0] = context.sepc as u64;
    for (saved, &register) in regs.iter_mut().zip(&context.registers).skip(1) {
        *saved = register as u64;
    }
    if let Some(float) = &context.float {
        frame.uc.uc_mcontext.sc_fpregs.f = float.registers;
        frame.uc.uc_mcontext.sc_fpregs.fcsr = float.status as u32;
    }
    memory.write(frame_address, &frame)?;
    context.sepc = handler as usize;
    context.registers[reg::A0] = signal.number() as usize;
    context.registers[reg::A1] = frame_address;
    context.registers[reg::A1 + 1] = frame_address + core::mem::offset_of!(RtSigFrame, uc);
    context.registers[reg::SP] = frame_address;
    context.registers[reg::RA] = SIGRETURN_TRAMPOLINE;
    let mut inner = thread.inner.lock();
    inner.saved_mask = None;
    let mut mask = inner.mask.union(action.sa_mask);
    if action.sa_flags & SA_NODEFER == 0 {
        mask.insert(signal);
    }
    inner.mask = mask.blockable();
    drop(inner);
    if action.sa_flags & SA_RESETHAND != 0 {
        thread.process.inner.lock().actions[signal.number() as usize - 1] = SigAction::default();
    }
    Ok(())
}

/// rt_sigreturn: restores the registers and mask saved in the frame at the user stack
/// pointer. Returns the restored `a0` (the value the interrupted code had).
pub fn sigreturn(thread: &Arc<Thread>, context: &mut UserContext) -> Result<usize, Errno> {
    let memory = UserMemory(thread.process.space());
    let frame: RtSigFrame = memory.read(context.registers[reg::SP])?;
    let regs = &frame.uc.uc_mcontext.sc_regs.regs;
    context.sepc = regs[0] as usize;
    for (register, &saved) in context.registers.iter_mut().zip(regs).skip(1) {
        *register = saved as usize;
    }
    if let Some(float) = context.float.as_mut() {
        float.registers = frame.uc.uc_mcontext.sc_fpregs.f;
        float.status = frame.uc.uc_mcontext.sc_fpregs.fcsr as usize;
    }
    thread.inner.lock().mask = frame.uc.uc_sigmask.blockable();
    Ok(context.registers[reg::A0])
}
