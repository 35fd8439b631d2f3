//! Works around an rsext4 0.9.2 bug: when it first allocates an inode in a group whose
//! inode bitmap was never initialised (`INODE_UNINIT`), it zeroes the whole bitmap block,
//! where Linux (`ext4_init_inode_bitmap`) sets the bits past `inodes_per_group` — the
//! padding e2fsck checks ("Padding at end of inode bitmap is not set").
//!
//! The groups with `INODE_UNINIT` are noted at mount; after rsext4 has written everything
//! back (sync, unmount) the ones it has initialised since get their padding bits set,
//! directly on the device. The padding is outside the bitmap checksum, which covers only
//! `inodes_per_group / 8` bytes, so no checksum changes. rsext4 may later write its cached
//! copy (without padding) back again, so the noted groups are checked at every sync.

use alloc::vec::Vec;

use abi::Errno;

use crate::device::BlockDevice;
use crate::superblock::{read_bytes, u16_at, u32_at, GroupGeometry};

/// `bg_flags`: the inode bitmap is not initialised.
const INODE_UNINIT: u16 = 0x1;

/// The descriptor table as raw bytes (`None` with `meta_bg`).
fn descriptor_table<D: BlockDevice>(device: &D, geometry: &GroupGeometry, block_size: u32) -> Result<Option<Vec<u8>>, Errno> {
    if geometry.meta_bg {
        return Ok(None);
    }
    let length = geometry.count as usize * geometry.descriptor_size as usize;
    read_bytes(device, geometry.table_block * u64::from(block_size), length).map(Some)
}

/// Groups whose inode bitmap is uninitialised now.
pub(crate) fn uninitialised_groups<D: BlockDevice>(device: &D, geometry: &GroupGeometry, block_size: u32) -> Result<Vec<u32>, Errno> {
    let Some(table) = descriptor_table(device, geometry, block_size)? else { return Ok(Vec::new()) };
    let size = geometry.descriptor_size as usize;
    Ok((0..geometry.count).filter(|&group| u16_at(&table, group as usize * size + 0x12) & INODE_UNINIT != 0).collect())
}

/// Sets the padding bits of the inode bitmaps of the `watched` groups that are
/// initialised now.
pub(crate) fn fix_inode_bitmap_padding<D: BlockDevice>(
    device: &D,
    geometry: &GroupGeometry,
    block_size: u32,
    watched: &[u32],
) -> Result<(), Errno> {
    let bits = block_size * 8;
    if watched.is_empty() || geometry.inodes_per_group >= bits {
        return Ok(());
    }
    let Some(table) = descriptor_table(device, geometry, block_size)? else { return Ok(()) };
    let size = geometry.descriptor_size as usize;
    let sector = device.block_size() as u64;
    let mut fixed = false;
    for &group in watched {
        let descriptor = &table[group as usize * size..(group as usize + 1) * size];
        if u16_at(descriptor, 0x12) & INODE_UNINIT != 0 {
            continue;
        }
        let high = if size >= 64 { u64::from(u32_at(descriptor, 0x24)) << 32 } else { 0 };
        let bitmap_block = u64::from(u32_at(descriptor, 0x04)) | high;
        let offset = bitmap_block * u64::from(block_size);
        if offset % sector != 0 || (offset + u64::from(block_size)) / sector > device.blocks() {
            continue; // Not a valid location; leave it to e2fsck.
        }
        let mut bitmap = read_bytes(device, offset, block_size as usize)?;
        let mut changed = false;
        for bit in geometry.inodes_per_group..bits {
            let (byte, mask) = ((bit / 8) as usize, 1u8 << (bit % 8));
            if bitmap[byte] & mask == 0 {
                bitmap[byte] |= mask;
                changed = true;
            }
        }
        if changed {
            device.write(offset / sector, &bitmap)?;
            fixed = true;
        }
    }
    if fixed {
        device.flush()?;
    }
    Ok(())
}
