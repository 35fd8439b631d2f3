//! Local interrupt masking, the one hardware hook the kernel's locks need.
//!
//! On the kernel target (`target_os = "none"`) the architecture crate defines two
//! `#[no_mangle]` functions, `coros_interrupts_save_disable` and
//! `coros_interrupts_restore`; the linker binds them here. On the host both are no-ops,
//! which is right for tests: there are no interrupt handlers, only threads.

/// What [`save_and_disable`] returns: whether interrupts were enabled before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "pass the saved state to `restore`"]
pub struct SavedState(bool);

#[cfg(target_os = "none")]
extern "Rust" {
    fn coros_interrupts_save_disable() -> bool;
    fn coros_interrupts_restore(were_enabled: bool);
}

/// Masks interrupts on the current hart and returns the previous state.
#[inline]
pub fn save_and_disable() -> SavedState {
    #[cfg(target_os = "none")]
    {
        // SAFETY: the architecture crate defines this function with exactly this
        // signature; it only clears the supervisor interrupt-enable bit.
        SavedState(unsafe { coros_interrupts_save_disable() })
    }
    #[cfg(not(target_os = "none"))]
    {
        SavedState(false)
    }
}

/// Restores the interrupt state saved by [`save_and_disable`].
#[inline]
pub fn restore(state: SavedState) {
    #[cfg(target_os = "none")]
    {
        // SAFETY: defined by the architecture crate; re-enables interrupts only if
        // they were enabled when `state` was saved.
        unsafe { coros_interrupts_restore(state.0) }
    }
    #[cfg(not(target_os = "none"))]
    {
        let _ = state;
    }
}

/// Runs `f` with interrupts masked on the current hart.
#[inline]
pub fn without<R>(f: impl FnOnce() -> R) -> R {
    let saved = save_and_disable();
    let result = f();
    restore(saved);
    result
}
