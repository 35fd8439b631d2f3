//! What the kernel does with a trap: interrupts only wake, exceptions in the kernel
//! are bugs and panic with the faulting address.

use core::sync::atomic::{AtomicU64, Ordering};

use arch::trap::{exception_name, KernelTrapFrame, TrapCause};

/// Traps taken so far, from user mode (system calls, faults, interrupts) and in the
/// kernel (interrupts), for `/proc/coros/counters` (benchmarks).
pub static TRAPS: AtomicU64 = AtomicU64::new(0);
/// The interrupts among [`TRAPS`].
pub static INTERRUPTS: AtomicU64 = AtomicU64::new(0);

/// Counts one trap (relaxed: a statistic, one `amoadd` on the trap path).
#[inline(always)]
pub fn count_trap(cause: &TrapCause) {
    TRAPS.fetch_add(1, Ordering::Relaxed);
    if !matches!(cause, TrapCause::Exception { .. }) {
        INTERRUPTS.fetch_add(1, Ordering::Relaxed);
    }
}

/// Handles a trap taken in supervisor mode (interrupts are masked meanwhile).
pub fn handle_kernel_trap(cause: TrapCause, frame: &mut KernelTrapFrame) {
    count_trap(&cause);
    match cause {
        TrapCause::Timer => crate::runtime::on_timer_interrupt(),
        // An IPI only ends a `wfi`: the hart's loop then finds the queued work.
        TrapCause::Software => arch::hart::clear_ipi(),
        TrapCause::External => crate::irq::handle_external(),
        TrapCause::OtherInterrupt(_) => {
            log::warn!("unexpected interrupt {cause:?}");
        }
        TrapCause::Exception { code, stval } => panic!(
            "kernel trap: {} (scause={code}) at sepc={:#x}, stval={stval:#x}",
            exception_name(code),
            frame.sepc
        ),
    }
}

/// Installs the trap handler on the current hart and unmasks the interrupt sources.
pub fn init_hart() {
    arch::trap::init_hart(handle_kernel_trap);
    arch::plic::init_hart(arch::hart::id());
    arch::interrupts::enable_sources();
}
