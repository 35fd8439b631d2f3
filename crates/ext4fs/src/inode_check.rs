//! Verification of on-disk inode checksums, which rsext4 0.9.2 does not do when it reads
//! an inode (Linux does: a mismatch is `EFSBADCRC`; here `EUCLEAN`, like other corruption).
//!
//! When `metadata_csum` is on, an inode's home copy is checked the first time the adapter
//! meets the inode (lookup, and the children of unlink, rmdir and rename). The home copy may
//! be older than rsext4's cached one while a journal transaction is not yet checkpointed,
//! but every copy rsext4 writes carries its own checksum, so an old copy still verifies;
//! only damage does not. Inodes allocated during this mount are not checked (their home
//! slot may not have been written yet): see `State::allocated`. The inode-table locations come from the descriptor table, read
//! once at mount (they never move: this crate does not resize).

use alloc::vec::Vec;

use abi::Errno;

use crate::device::BlockDevice;
use crate::superblock::{crc32c, read_bytes, u16_at, u32_at, SuperblockInfo};

/// What checking an inode needs.
pub(crate) struct InodeChecker {
    /// crc32c of the file-system UUID (or `s_checksum_seed`); `None` without metadata_csum
    /// (or with meta_bg, whose scattered descriptor table this crate does not read, and
    /// then `inode_tables` is empty).
    seed: Option<u32>,
    /// Inode table block of each group.
    inode_tables: Vec<u64>,
    inode_size: u32,
    inodes_per_group: u32,
    block_size: u32,
}

impl InodeChecker {
    pub(crate) fn new<D: BlockDevice>(device: &D, info: &SuperblockInfo) -> Result<Self, Errno> {
        let groups = &info.groups;
        let mut checker = InodeChecker {
            seed: None,
            inode_tables: Vec::new(),
            inode_size: groups.inode_size,
            inodes_per_group: groups.inodes_per_group,
            block_size: info.block_size,
        };
        if groups.meta_bg {
            return Ok(checker);
        }
        let size = groups.descriptor_size as usize;
        let table = read_bytes(device, groups.table_block * u64::from(info.block_size), groups.count as usize * size)
            .map_err(|errno| if errno == Errno::EINVAL { Errno::EUCLEAN } else { errno })?;
        checker.inode_tables = table
            .chunks_exact(size)
            .map(|descriptor| {
                let high = if size >= 64 { u64::from(u32_at(descriptor, 0x28)) << 32 } else { 0 };
                u64::from(u32_at(descriptor, 0x08)) | high
            })
            .collect();
        checker.seed = info.checksum_seed;
        Ok(checker)
    }

    /// Byte offset of inode `ino`'s home copy (`None` if unknown: meta_bg or a bad number).
    pub(crate) fn location(&self, ino: u32) -> Option<u64> {
        let index = ino.checked_sub(1)?;
        let table = *self.inode_tables.get((index / self.inodes_per_group) as usize)?;
        table
            .checked_mul(u64::from(self.block_size))?
            .checked_add(u64::from(index % self.inodes_per_group) * u64::from(self.inode_size))
    }

    /// Bytes per on-disk inode.
    pub(crate) fn inode_size(&self) -> u32 {
        self.inode_size
    }

    /// Stores the checksum of inode `ino` into `raw` (nothing without metadata_csum).
    pub(crate) fn set_checksum(&self, ino: u32, raw: &mut [u8]) {
        let Some(seed) = self.seed else { return };
        let extra = self.inode_size > 128 && u32::from(u16_at(raw, 0x80)) + 128 >= 0x84;
        raw[0x7C..0x7E].fill(0);
        if extra {
            raw[0x82..0x84].fill(0);
        }
        let crc = self.checksum(seed, ino, raw);
        raw[0x7C..0x7E].copy_from_slice(&(crc as u16).to_le_bytes());
        if extra {
            raw[0x82..0x84].copy_from_slice(&((crc >> 16) as u16).to_le_bytes());
        }
    }

    fn checksum(&self, seed: u32, ino: u32, raw: &[u8]) -> u32 {
        let generation = u32_at(raw, 0x64);
        let mut crc = crc32c(seed, &ino.to_le_bytes());
        crc = crc32c(crc, &generation.to_le_bytes());
        crc32c(crc, raw)
    }

    /// Checks the home copy of inode `ino` (`EUCLEAN` on a mismatch).
    pub(crate) fn verify<D: BlockDevice>(&self, device: &D, ino: u32) -> Result<(), Errno> {
        let Some(seed) = self.seed else { return Ok(()) };
        let offset = self.location(ino).ok_or(Errno::EUCLEAN)?;
        let mut raw = read_bytes(device, offset, self.inode_size as usize)
            .map_err(|errno| if errno == Errno::EINVAL { Errno::EUCLEAN } else { errno })?;
        if raw.iter().all(|&byte| byte == 0) {
            // Never written home (e.g. lost+found recreated by rsext4 at mount, still in the
            // journal): nothing to check; rsext4's own copy decides.
            return Ok(());
        }
        // Linux (ext4_inode_csum): crc32c over ino, generation and the inode with its
        // checksum fields zeroed; the high half only if i_extra_isize covers it.
        let stored_low = u32::from(u16_at(&raw, 0x7C));
        let extra = self.inode_size > 128 && u32::from(u16_at(&raw, 0x80)) + 128 >= 0x84;
        let stored_high = if extra { u32::from(u16_at(&raw, 0x82)) } else { 0 };
        raw[0x7C..0x7E].fill(0);
        if extra {
            raw[0x82..0x84].fill(0);
        }
        let crc = self.checksum(seed, ino, &raw);
        let matches = if extra { crc == (stored_high << 16 | stored_low) } else { crc & 0xFFFF == stored_low };
        if matches {
            Ok(())
        } else {
            Err(Errno::EUCLEAN)
        }
    }
}
