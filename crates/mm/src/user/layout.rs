//! Where things go in a user address space (Sv39, the layout of Linux riscv64).
//!
//! Linux gives a riscv64 Sv39 process the lower 256 GiB (`TASK_SIZE`), puts the stack
//! at the top and `mmap_base` a gap below it: the stack limit rounded up to at least
//! 128 MiB (`MIN_GAP`); with the default 8 MiB stack limit that is 128 MiB. Without
//! address-space randomisation that is exactly where coros puts them, so maps printed
//! by the same program under both kernels look alike.

use crate::sv39::USER_HALF_END;
use crate::VirtAddr;

/// End of user space (Linux `TASK_SIZE` for Sv39): everything below is user's.
pub const USER_END: VirtAddr = USER_HALF_END;

/// Top of the initial stack (Linux `STACK_TOP`, without randomisation).
pub const STACK_TOP: VirtAddr = USER_END;

/// The gap between the stack top and `mmap_base` (Linux's minimum gap, 128 MiB).
pub const MMAP_GAP: usize = 128 << 20;

/// Below this address `mmap` places mappings top-down unless a hint says otherwise.
pub const MMAP_BASE: VirtAddr = VirtAddr(STACK_TOP.0 - MMAP_GAP);

/// The lowest address `mmap` chooses by itself (Linux's usual `mmap_min_addr`).
/// `MAP_FIXED` may go lower, as it may for root under Linux.
pub const MMAP_MIN_ADDR: VirtAddr = VirtAddr(0x1_0000);
