//! User address spaces: areas, lazy allocation, copy-on-write, and checked access to
//! user memory. See [`AddressSpace`].

mod access;
mod area;
mod fault;
mod layout;
mod space;
#[cfg(test)]
mod tests;

pub use area::{
    Access, Area, AreaKind, FileBacking, MapFlags, Prot, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_GROWSDOWN,
    MAP_NORESERVE, MAP_POPULATE, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_STACK, PROT_EXEC, PROT_READ,
    PROT_WRITE,
};
pub use fault::{Fault, FilePages};
pub use layout::{MMAP_BASE, MMAP_GAP, MMAP_MIN_ADDR, STACK_TOP, USER_END};
pub use space::AddressSpace;
