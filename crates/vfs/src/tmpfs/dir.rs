//! The entries of a tmpfs directory, with stable `getdents` offsets.
//!
//! Names map to inodes in a `BTreeMap`; each entry also gets a *cookie*, a number that
//! never repeats within the directory, which is its `d_off` position. Reading from an
//! offset continues at the first cookie at or above it, so entries added or removed while
//! a program walks the directory (as `rm -r` does) never make it skip or repeat others.
//! Offsets 0 and 1 are `.` and `..`.

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;

use super::node::TmpInode;

/// First cookie of a real entry (0 is `.`, 1 is `..`).
pub(super) const FIRST_COOKIE: u64 = 2;

struct Slot {
    inode: Arc<TmpInode>,
    cookie: u64,
}

/// A directory's entries and its parent.
pub(super) struct Dir {
    entries: BTreeMap<Vec<u8>, Slot>,
    by_cookie: BTreeMap<u64, Vec<u8>>,
    next_cookie: u64,
    /// The parent directory (the root points to itself).
    pub(super) parent: Weak<TmpInode>,
}

impl Dir {
    pub(super) fn new(parent: Weak<TmpInode>) -> Self {
        Self { entries: BTreeMap::new(), by_cookie: BTreeMap::new(), next_cookie: FIRST_COOKIE, parent }
    }

    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(super) fn get(&self, name: &[u8]) -> Option<&Arc<TmpInode>> {
        self.entries.get(name).map(|slot| &slot.inode)
    }

    /// Adds `name` (replacing an entry of that name, which gets a new position).
    pub(super) fn insert(&mut self, name: &[u8], inode: Arc<TmpInode>) {
        self.remove(name);
        let cookie = self.next_cookie;
        self.next_cookie += 1;
        self.by_cookie.insert(cookie, name.to_vec());
        self.entries.insert(name.to_vec(), Slot { inode, cookie });
    }

    /// Points the existing entry `name` at `inode`, keeping its position; returns the old.
    pub(super) fn replace(&mut self, name: &[u8], inode: Arc<TmpInode>) -> Option<Arc<TmpInode>> {
        self.entries.get_mut(name).map(|slot| core::mem::replace(&mut slot.inode, inode))
    }

    pub(super) fn remove(&mut self, name: &[u8]) -> Option<Arc<TmpInode>> {
        let slot = self.entries.remove(name)?;
        self.by_cookie.remove(&slot.cookie);
        Some(slot.inode)
    }

    /// The first entry at position `offset` or later: (its cookie, name, inode).
    pub(super) fn entry_from(&self, offset: u64) -> Option<(u64, &[u8], &Arc<TmpInode>)> {
        let (&cookie, name) = self.by_cookie.range(offset.max(FIRST_COOKIE)..).next()?;
        let slot = &self.entries[name];
        Some((cookie, name, &slot.inode))
    }
}
