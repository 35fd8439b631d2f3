//! Works around an rsext4 0.9.2 bug: when a directory grows, the extent-tree blocks
//! allocated for it are not added to its `i_blocks`, so e2fsck reports "i_blocks is N,
//! should be M" for directories whose extent tree needed a block of its own (large
//! directories whose blocks are not contiguous). File data paths count them correctly.
//!
//! After rsext4 has unmounted (every block home, journal empty, no caches left), the
//! directories that gained entries during the mount get `i_blocks` recomputed from their
//! extent trees and their inode checksum renewed, directly on the device.

use alloc::vec::Vec;

use abi::Errno;

use crate::device::BlockDevice;
use crate::inode_check::InodeChecker;
use crate::superblock::{read_bytes, u16_at, u32_at};

/// `eh_magic` of an extent-tree node.
const EXTENT_MAGIC: u16 = 0xF30A;
/// `i_flags`: extents.
const EXTENTS_FLAG: u32 = 0x8_0000;
/// `i_flags`: `i_blocks` counts file-system blocks, not sectors.
const HUGE_FILE_FLAG: u32 = 0x4_0000;
/// Deepest extent tree ext4 allows.
const MAX_DEPTH: u16 = 5;

/// Counts (data blocks, tree blocks) below the extent node `node`.
fn count_node<D: BlockDevice>(device: &D, block_size: u32, node: &[u8], depth_left: u16) -> Result<(u64, u64), Errno> {
    if node.len() < 12 || u16_at(node, 0) != EXTENT_MAGIC {
        return Err(Errno::EUCLEAN);
    }
    let entries = usize::from(u16_at(node, 2));
    let depth = u16_at(node, 6);
    if depth > depth_left || 12 + entries * 12 > node.len() {
        return Err(Errno::EUCLEAN);
    }
    let (mut data, mut tree) = (0u64, 0u64);
    for entry in node[12..12 + entries * 12].chunks_exact(12) {
        if depth == 0 {
            let length = u16_at(entry, 4);
            data += u64::from(if length > 32768 { length - 32768 } else { length });
        } else {
            let child = u64::from(u32_at(entry, 4)) | u64::from(u16_at(entry, 8)) << 32;
            let block = read_bytes(device, child.checked_mul(u64::from(block_size)).ok_or(Errno::EUCLEAN)?, block_size as usize)?;
            let (child_data, child_tree) = count_node(device, block_size, &block, depth - 1)?;
            data += child_data;
            tree += child_tree + 1;
        }
    }
    Ok((data, tree))
}

/// Recomputes `i_blocks` of each directory in `directories` from its extent tree.
pub(crate) fn fix_directory_blocks<D: BlockDevice>(
    device: &D,
    checker: &InodeChecker,
    block_size: u32,
    directories: &[u32],
) -> Result<(), Errno> {
    let sector = device.block_size() as u64;
    let inode_size = checker.inode_size() as usize;
    let mut fixed = false;
    for &ino in directories {
        let Some(offset) = checker.location(ino) else { continue };
        // Read and write whole sectors around the inode.
        let first = offset / sector * sector;
        let span = (offset + inode_size as u64).div_ceil(sector) * sector - first;
        let mut sectors = read_bytes(device, first, span as usize)?;
        let start = (offset - first) as usize;
        let raw = &mut sectors[start..start + inode_size];
        let (mode, links, flags) = (u16_at(raw, 0), u16_at(raw, 0x1A), u32_at(raw, 0x20));
        if mode & 0xF000 != 0x4000 || links == 0 || flags & EXTENTS_FLAG == 0 || flags & HUGE_FILE_FLAG != 0 {
            continue;
        }
        let Ok((data, tree)) = count_node(device, block_size, &raw[0x28..0x28 + 60], MAX_DEPTH) else { continue };
        let expected = (data + tree) * u64::from(block_size / 512);
        let current = u64::from(u32_at(raw, 0x1C)) | u64::from(u16_at(raw, 0x74)) << 32;
        if expected == current || expected >> 48 != 0 {
            continue;
        }
        raw[0x1C..0x20].copy_from_slice(&(expected as u32).to_le_bytes());
        raw[0x74..0x76].copy_from_slice(&((expected >> 32) as u16).to_le_bytes());
        checker.set_checksum(ino, raw);
        device.write(first / sector, &sectors)?;
        fixed = true;
    }
    if fixed {
        device.flush()?;
    }
    Ok(())
}

/// Sorted, deduplicated copy of `directories`.
pub(crate) fn sorted(directories: &alloc::collections::BTreeSet<u32>) -> Vec<u32> {
    directories.iter().copied().collect()
}
