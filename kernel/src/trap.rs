//! What the kernel does with a trap: interrupts only wake, exceptions in the kernel
//! are bugs and panic with the faulting address.

use arch::trap::{exception_name, KernelTrapFrame, TrapCause};

/// Handles a trap taken in supervisor mode (interrupts are masked meanwhile).
pub fn handle_kernel_trap(cause: TrapCause, frame: &mut KernelTrapFrame) {
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
