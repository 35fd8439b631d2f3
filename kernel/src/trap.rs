//! What the kernel does with a trap: interrupts only wake, exceptions in the kernel
//! are bugs and panic with the faulting address.

use core::sync::atomic::{AtomicU64, Ordering};

use arch::trap::{exception_name, KernelTrapFrame, TrapCause};

/// Interrupts taken so far, in user mode and in the kernel, and exceptions other than
/// system calls taken from user mode (page faults, illegal instructions ...), for
/// `/proc/coros/counters`. Together with `syscall::SYSCALLS` they are every trap; the
/// system-call path itself counts nothing extra (relaxed: statistics).
pub static INTERRUPTS: AtomicU64 = AtomicU64::new(0);
pub static USER_EXCEPTIONS: AtomicU64 = AtomicU64::new(0);

/// Counts one interrupt.
#[inline(always)]
pub fn count_interrupt() {
    INTERRUPTS.fetch_add(1, Ordering::Relaxed);
}

/// Counts one exception from user mode that is not a system call.
#[inline(always)]
pub fn count_user_exception() {
    USER_EXCEPTIONS.fetch_add(1, Ordering::Relaxed);
}

/// Every trap so far: system calls, other user exceptions and interrupts.
pub fn traps() -> u64 {
    crate::syscall::SYSCALLS.load(Ordering::Relaxed) + USER_EXCEPTIONS.load(Ordering::Relaxed) + INTERRUPTS.load(Ordering::Relaxed)
}

/// Handles a trap taken in supervisor mode (interrupts are masked meanwhile).
pub fn handle_kernel_trap(cause: TrapCause, frame: &mut KernelTrapFrame) {
    crate::runtime::check_stack_depth();
    if !matches!(cause, TrapCause::Exception { .. }) {
        count_interrupt();
    }
    match cause {
        TrapCause::Timer => crate::runtime::on_timer_interrupt(),
        // An IPI only ends a `wfi`: the hart's loop then finds the queued work.
        TrapCause::Software => arch::hart::clear_ipi(),
        TrapCause::External => crate::irq::handle_external(),
        TrapCause::OtherInterrupt(_) => {
            log::warn!("unexpected interrupt {cause:?}");
        }
        TrapCause::Exception { code, stval } => panic!(
            "kernel trap: {} (scause={code}) at sepc={:#x}, stval={stval:#x} (memory: {:?} frames free/total, heap {:?} used/size, {} failed heap growths)",
            exception_name(code),
            frame.sepc,
            crate::memory::frame_usage(),
            crate::memory::heap_usage(),
            crate::memory::HEAP_GROWTH_FAILURES.load(core::sync::atomic::Ordering::Relaxed)
        ),
    }
}

/// Installs the trap handler on the current hart and unmasks the interrupt sources.
pub fn init_hart() {
    arch::trap::init_hart(handle_kernel_trap);
    arch::plic::init_hart(arch::hart::id());
    arch::interrupts::enable_sources();
}
