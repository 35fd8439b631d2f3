//! `FdTable`: a process's file descriptors, each an `Arc<OpenFile>` plus its close-on-exec
//! flag.
//!
//! It follows Linux's rules: new descriptors take the lowest free number; the table is
//! capped by a limit (`RLIMIT_NOFILE`, `EMFILE`); `dup2` onto itself is a no-op check while
//! `dup3` onto itself is `EINVAL`; `fork` copies the table (sharing the open files);
//! `execve` closes the close-on-exec ones. The table is plain data: the kernel wraps it in
//! a lock and shares it between threads (`CLONE_FILES`).

use alloc::sync::Arc;
use alloc::vec::Vec;

use abi::{Errno, Result};

use crate::file::OpenFile;

/// Linux's default soft `RLIMIT_NOFILE`.
pub const DEFAULT_MAX_FDS: usize = 1024;

#[derive(Clone)]
struct Slot {
    file: Arc<OpenFile>,
    close_on_exec: bool,
}

/// A descriptor table.
#[derive(Clone)]
pub struct FdTable {
    slots: Vec<Option<Slot>>,
    max: usize,
}

impl Default for FdTable {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_FDS)
    }
}

fn index(fd: i32) -> Result<usize> {
    usize::try_from(fd).map_err(|_| Errno::EBADF)
}

impl FdTable {
    /// An empty table allowing descriptors below `max`.
    pub fn new(max: usize) -> Self {
        Self { slots: Vec::new(), max: max.min(i32::MAX as usize) }
    }

    /// The limit (`RLIMIT_NOFILE`).
    pub fn max(&self) -> usize {
        self.max
    }

    /// Changes the limit; descriptors already above it stay open, as on Linux.
    pub fn set_max(&mut self, max: usize) {
        self.max = max.min(i32::MAX as usize);
    }

    /// Installs `file` at the lowest free descriptor (`EMFILE` if none below the limit).
    pub fn insert(&mut self, file: Arc<OpenFile>, close_on_exec: bool) -> Result<i32> {
        self.insert_from(0, file, close_on_exec)
    }

    /// Installs `file` at the lowest free descriptor `>= min` (`fcntl(F_DUPFD)`): `EINVAL`
    /// if `min` is beyond the limit, `EMFILE` if nothing is free.
    pub fn insert_from(&mut self, min: i32, file: Arc<OpenFile>, close_on_exec: bool) -> Result<i32> {
        let min = usize::try_from(min).map_err(|_| Errno::EINVAL)?;
        if min >= self.max {
            return Err(Errno::EINVAL);
        }
        let free = (min..self.max).find(|&fd| self.slots.get(fd).is_none_or(Option::is_none)).ok_or(Errno::EMFILE)?;
        if free >= self.slots.len() {
            self.slots.resize(free + 1, None);
        }
        self.slots[free] = Some(Slot { file, close_on_exec });
        Ok(free as i32)
    }

    /// Installs `file` at exactly `fd`, returning the file it replaces (to be closed by
    /// the caller, outside any lock). `EBADF` if `fd` is negative or beyond the limit.
    pub fn insert_at(&mut self, fd: i32, file: Arc<OpenFile>, close_on_exec: bool) -> Result<Option<Arc<OpenFile>>> {
        let slot = index(fd)?;
        if slot >= self.max {
            return Err(Errno::EBADF);
        }
        if slot >= self.slots.len() {
            self.slots.resize(slot + 1, None);
        }
        let old = self.slots[slot].replace(Slot { file, close_on_exec });
        Ok(old.map(|old| old.file))
    }

    fn slot(&self, fd: i32) -> Result<&Slot> {
        self.slots.get(index(fd)?).and_then(Option::as_ref).ok_or(Errno::EBADF)
    }

    /// The file at `fd` (`EBADF`).
    pub fn get(&self, fd: i32) -> Result<Arc<OpenFile>> {
        Ok(self.slot(fd)?.file.clone())
    }

    /// Whether `fd` is close-on-exec (`F_GETFD`).
    pub fn close_on_exec_flag(&self, fd: i32) -> Result<bool> {
        Ok(self.slot(fd)?.close_on_exec)
    }

    /// Sets the close-on-exec flag (`F_SETFD`).
    pub fn set_close_on_exec(&mut self, fd: i32, close_on_exec: bool) -> Result<()> {
        let slot = self.slots.get_mut(index(fd)?).and_then(Option::as_mut).ok_or(Errno::EBADF)?;
        slot.close_on_exec = close_on_exec;
        Ok(())
    }

    /// Closes `fd`, returning its file (`EBADF`).
    pub fn remove(&mut self, fd: i32) -> Result<Arc<OpenFile>> {
        let slot = self.slots.get_mut(index(fd)?).and_then(Option::take).ok_or(Errno::EBADF)?;
        while matches!(self.slots.last(), Some(None)) {
            self.slots.pop();
        }
        Ok(slot.file)
    }

    /// `dup(old)`: the lowest free descriptor, without close-on-exec.
    pub fn dup(&mut self, old: i32) -> Result<i32> {
        let file = self.get(old)?;
        self.insert(file, false)
    }

    /// `dup2(old, new)`: `new` if `old == new` and `old` is open; otherwise `new` becomes a
    /// copy of `old` (closing what was there). Returns `new` and the replaced file.
    pub fn dup2(&mut self, old: i32, new: i32) -> Result<(i32, Option<Arc<OpenFile>>)> {
        let file = self.get(old)?;
        if old == new {
            return Ok((new, None));
        }
        let replaced = self.insert_at(new, file, false)?;
        Ok((new, replaced))
    }

    /// `dup3(old, new, flags)`: like `dup2` but `EINVAL` when `old == new`.
    pub fn dup3(&mut self, old: i32, new: i32, close_on_exec: bool) -> Result<(i32, Option<Arc<OpenFile>>)> {
        if old == new {
            return Err(Errno::EINVAL);
        }
        let file = self.get(old)?;
        let replaced = self.insert_at(new, file, close_on_exec)?;
        Ok((new, replaced))
    }

    /// The table a forked child starts with: the same open files, same flags.
    pub fn clone_for_fork(&self) -> FdTable {
        self.clone()
    }

    /// Closes every close-on-exec descriptor (at `execve`); returns the closed files.
    pub fn close_on_exec(&mut self) -> Vec<Arc<OpenFile>> {
        let mut closed = Vec::new();
        for slot in &mut self.slots {
            if slot.as_ref().is_some_and(|slot| slot.close_on_exec) {
                closed.extend(slot.take().map(|slot| slot.file));
            }
        }
        while matches!(self.slots.last(), Some(None)) {
            self.slots.pop();
        }
        closed
    }

    /// Open descriptors in increasing order (for `/proc/self/fd`).
    pub fn iter(&self) -> impl Iterator<Item = (i32, &Arc<OpenFile>)> {
        self.slots.iter().enumerate().filter_map(|(fd, slot)| slot.as_ref().map(|slot| (fd as i32, &slot.file)))
    }

    /// How many descriptors are open.
    pub fn len(&self) -> usize {
        self.slots.iter().filter(|slot| slot.is_some()).count()
    }

    /// Whether no descriptor is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
