//! External interrupts: the PLIC routes device interrupts here; each source has one
//! handler, which only records what the device did and wakes the waiting task.

use arch::layout::MAX_HARTS;
use ksync::SpinLock;

/// The most PLIC sources coros tracks (QEMU virt has 96).
const MAX_SOURCES: usize = 128;

static HANDLERS: SpinLock<[Option<fn(u32)>; MAX_SOURCES]> = SpinLock::new([None; MAX_SOURCES]);

/// Installs `handler` (called with the source number) for source `irq` and routes the source to every hart.
pub fn register(irq: u32, handler: fn(u32)) {
    let Some(slot) = HANDLERS.lock().get_mut(irq as usize).map(|slot| slot.replace(handler)) else {
        log::warn!("irq {irq} is beyond the {MAX_SOURCES} sources coros tracks");
        return;
    };
    if slot.is_some() {
        log::warn!("irq {irq}: handler replaced");
    }
    arch::plic::enable(irq, (0..MAX_HARTS).filter(|&hart| crate::boot::machine().harts.contains(&hart)));
}

/// Handles a supervisor external interrupt on this hart: claim, dispatch, complete.
pub fn handle_external() {
    let hart = arch::hart::id();
    while let Some(irq) = arch::plic::claim(hart) {
        let handler = HANDLERS.lock().get(irq as usize).copied().flatten();
        match handler {
            Some(handler) => handler(irq),
            None => log::warn!("spurious external interrupt {irq}"),
        }
        arch::plic::complete(hart, irq);
    }
}
