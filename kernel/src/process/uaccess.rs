//! Reading and writing user memory from system calls.
//!
//! Every access goes through the process's address space: its page table is walked in
//! software, missing pages are faulted in (lazy allocation, copy-on-write), and an
//! address the process may not access gives `EFAULT`. The kernel never dereferences a
//! user pointer, so no user input can make it fault.

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use abi::{Errno, Result};
use ksync::SpinLock;
use mm::VirtAddr;
use zerocopy::{FromBytes, Immutable, IntoBytes};

use super::UserSpace;

/// Linux's PATH_MAX.
pub const PATH_MAX: usize = 4096;
/// Most argv/envp entries execve accepts.
const MAX_ARGUMENTS: usize = 0x7fff_ffff / 8;

/// User memory of one address space.
#[derive(Clone)]
pub struct UserMemory(pub Arc<SpinLock<UserSpace>>);

impl UserMemory {
    /// Copies `len` bytes from user address `va`.
    pub fn read_bytes(&self, va: usize, len: usize) -> Result<Vec<u8>> {
        let mut buffer = vec![0u8; len];
        self.read_into(va, &mut buffer)?;
        Ok(buffer)
    }

    /// Copies user memory at `va` into `buffer`.
    pub fn read_into(&self, va: usize, buffer: &mut [u8]) -> Result<()> {
        if buffer.is_empty() {
            return Ok(());
        }
        self.access(|space| space.read(VirtAddr(va), buffer))
    }

    /// Copies `data` to user address `va`.
    pub fn write_bytes(&self, va: usize, data: &[u8]) -> Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        self.access(|space| space.write(VirtAddr(va), data))
    }

    /// Makes `[va, va + len)` writable by the kernel's copies without waiting: file
    /// pages still being read from a disk are awaited here (asynchronously, no lock
    /// held). Called before a side effect that a failed copy could not undo (data taken
    /// from a pipe), so the copy after it does not stop for a file page. Other faults
    /// are left to that copy, which reports them as before.
    pub async fn prepare_write(&self, va: usize, len: usize) {
        // Only disk file systems have file pages that are not ready at once.
        if !crate::fs::disk_file_systems_mounted() {
            return;
        }
        loop {
            let request = {
                let mut space = self.0.lock();
                let result = space.fault_in(VirtAddr(va), len, mm::user::Access::Write);
                crate::process::run::flush_tlb_if_needed(&mut space);
                match result {
                    Err(Errno::ERESTART_ON_STACK) => space.take_pending_wait().and_then(|va| space.file_page_request(va)),
                    _ => return,
                }
            };
            let Some((file, index)) = request else { return };
            let Ok(pa) = super::file_pages::wait_file_page(file, index).await else { return };
            // The page stays in its file's cache; the retry maps it from there.
            mm::PhysFrames::release(&mut crate::memory::KernelFrames, pa);
        }
    }

    /// Whether a copy to `[va, va + len)` can go ahead without waiting for a file page
    /// (faulting the range in): false tells a synchronous fast path with side effects
    /// to take the asynchronous path, which waits first ([`UserMemory::prepare_write`]).
    pub fn ready_for_write(&self, va: usize, len: usize) -> bool {
        if !crate::fs::disk_file_systems_mounted() {
            return true;
        }
        let mut space = self.0.lock();
        let result = space.fault_in(VirtAddr(va), len, mm::user::Access::Write);
        crate::process::run::flush_tlb_if_needed(&mut space);
        if result == Err(Errno::ERESTART_ON_STACK) {
            space.take_pending_wait();
            return false;
        }
        true
    }

    /// Runs `operation` on the space. When it stops at a file page that is still being
    /// read from a disk (`ERESTART_ON_STACK`) and this call runs on a coroutine stack,
    /// waits for the page without the space's lock and tries again; off a stack the
    /// error makes the system call run again on one.
    fn access<T>(&self, mut operation: impl FnMut(&mut UserSpace) -> Result<T>) -> Result<T> {
        loop {
            let (result, request) = {
                let mut space = self.0.lock();
                let result = operation(&mut space);
                crate::process::run::flush_tlb_if_needed(&mut space);
                let request = match result {
                    Err(Errno::ERESTART_ON_STACK) => space.take_pending_wait().and_then(|va| space.file_page_request(va)),
                    _ => None,
                };
                (result, request)
            };
            match (result, request) {
                (Err(Errno::ERESTART_ON_STACK), Some((file, index))) if crate::coroutine::on_stack() => {
                    let page = crate::coroutine::block_on(super::file_pages::wait_file_page(file, index)).ok_or(Errno::EIO)?;
                    let Ok(pa) = page else { return Err(Errno::EFAULT) };
                    // The page stays in its file's cache; the retry maps it from there.
                    mm::PhysFrames::release(&mut crate::memory::KernelFrames, pa);
                }
                (Err(Errno::ERESTART_ON_STACK), None) => return Err(Errno::EFAULT),
                (result, _) => return result,
            }
        }
    }

    /// Reads a plain-data value.
    pub fn read<T: FromBytes + IntoBytes>(&self, va: usize) -> Result<T> {
        let mut value = T::new_zeroed();
        self.read_into(va, value.as_mut_bytes())?;
        Ok(value)
    }

    /// Writes a plain-data value.
    pub fn write<T: IntoBytes + Immutable>(&self, va: usize, value: &T) -> Result<()> {
        self.write_bytes(va, value.as_bytes())
    }

    /// Reads a NUL-terminated string of at most `max` bytes (without the NUL):
    /// ENAMETOOLONG if longer.
    pub fn read_cstring(&self, va: usize, max: usize) -> Result<Vec<u8>> {
        let bytes = self.access(|space| space.read_cstring(VirtAddr(va), max + 1))?;
        if bytes.len() > max {
            return Err(Errno::ENAMETOOLONG);
        }
        Ok(bytes)
    }

    /// Reads a path argument (EFAULT, ENAMETOOLONG; an empty path is the caller's
    /// business: most calls give ENOENT).
    pub fn read_path(&self, va: usize) -> Result<Vec<u8>> {
        self.read_cstring(va, PATH_MAX - 1)
    }

    /// Reads a NULL-terminated array of string pointers (argv, envp); a NULL array is
    /// empty, like Linux.
    pub fn read_string_array(&self, va: usize, total_limit: usize) -> Result<Vec<Vec<u8>>> {
        let mut strings = Vec::new();
        if va == 0 {
            return Ok(strings);
        }
        let mut total = 0;
        for index in 0..MAX_ARGUMENTS {
            let pointer: u64 = self.read(va + index * 8)?;
            if pointer == 0 {
                return Ok(strings);
            }
            let string = self.read_cstring(pointer as usize, 32 * 4096).map_err(|error| {
                if error == Errno::ENAMETOOLONG { Errno::E2BIG } else { error }
            })?;
            total += string.len() + 1 + 8;
            if total > total_limit {
                return Err(Errno::E2BIG);
            }
            strings.push(string);
        }
        Err(Errno::E2BIG)
    }
}
