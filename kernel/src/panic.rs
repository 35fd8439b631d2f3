//! The panic handler: say where and why, show the trap registers and a backtrace,
//! then power off with a failure status the host can see (exit status 101).

use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::console::print_for_panic;

/// QEMU's exit status after a kernel panic.
pub const PANIC_EXIT_CODE: u16 = 101;

static PANICKING: AtomicBool = AtomicBool::new(false);

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    arch::interrupts::disable();
    if PANICKING.swap(true, Ordering::SeqCst) {
        // A panic while panicking (or on a second hart): stop at once.
        arch::power::power_off(PANIC_EXIT_CODE);
    }
    let hart = arch::hart::id();
    match info.location() {
        Some(location) => print_for_panic(format_args!(
            "\nkernel panicked at {}:{}:{} on hart {hart}:\n  {}\n",
            location.file(),
            location.line(),
            location.column(),
            info.message()
        )),
        None => print_for_panic(format_args!("\nkernel panicked on hart {hart}: {}\n", info.message())),
    }
    print_for_panic(format_args!(
        "  scause={:#x} stval={:#x} sepc={:#x}\nbacktrace (addr2line -e target/kernel.elf):\n",
        arch::csr::read_scause(),
        arch::csr::read_stval(),
        arch::csr::read_sepc()
    ));
    let mut depth = 0;
    arch::backtrace::walk(
        |address| {
            print_for_panic(format_args!("  #{depth:<2} {address:#x}\n"));
            depth += 1;
        },
        32,
    );
    arch::power::power_off(PANIC_EXIT_CODE)
}
