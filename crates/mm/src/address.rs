//! Physical and virtual address types, so the two are never mixed up.

use core::fmt;

/// Size of a base page (4 KiB).
pub const PAGE_SIZE: usize = 4096;

/// A physical address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PhysAddr(pub usize);

/// A virtual address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct VirtAddr(pub usize);

macro_rules! address_methods {
    ($type:ident, $name:literal) => {
        impl $type {
            /// The raw address.
            pub const fn as_usize(self) -> usize {
                self.0
            }
            /// Rounded down to a multiple of `align` (a power of two).
            pub const fn align_down(self, align: usize) -> Self {
                Self(self.0 & !(align - 1))
            }
            /// Rounded up to a multiple of `align` (a power of two).
            pub const fn align_up(self, align: usize) -> Self {
                Self((self.0 + align - 1) & !(align - 1))
            }
            /// Whether the address is a multiple of `align` (a power of two).
            pub const fn is_aligned(self, align: usize) -> bool {
                self.0 & (align - 1) == 0
            }
            /// Offset by `bytes`.
            pub const fn add(self, bytes: usize) -> Self {
                Self(self.0 + bytes)
            }
        }
        impl fmt::Debug for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($name, "({:#x})"), self.0)
            }
        }
    };
}

address_methods!(PhysAddr, "PhysAddr");
address_methods!(VirtAddr, "VirtAddr");
