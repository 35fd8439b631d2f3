//! Checks of the on-disk superblock made before rsext4 sees the device.
//!
//! rsext4 validates what it parses, but a mount must never panic on a hostile image, and
//! "not ext4 at all" (`EINVAL`) must be told apart from "ext4, but damaged" (`EUCLEAN`,
//! Linux's `EFSCORRUPTED`). So the fields every later computation divides by or indexes
//! with are checked here first, with the superblock checksum when `metadata_csum` is on.
//! The figures `statfs` needs and rsext4 does not report (reserved and overhead blocks)
//! are taken from here as well.

use abi::Errno;

use crate::device::BlockDevice;

/// Byte offset of the primary superblock.
const SUPERBLOCK_OFFSET: u64 = 1024;
/// Size of the superblock.
const SUPERBLOCK_SIZE: usize = 1024;
/// `s_magic`.
const EXT4_MAGIC: u16 = 0xEF53;
/// `s_feature_incompat`: the checksum seed is stored in the superblock.
const INCOMPAT_CSUM_SEED: u32 = 0x2000;
/// `s_feature_incompat`: the journal needs recovery.
const INCOMPAT_RECOVER: u32 = 0x4;
/// `s_feature_incompat`: the descriptor table is scattered over meta groups.
const INCOMPAT_META_BG: u32 = 0x10;
/// `s_feature_incompat`: 64-bit block numbers.
const INCOMPAT_64BIT: u32 = 0x80;
/// `s_feature_ro_compat`: metadata checksums.
const RO_COMPAT_METADATA_CSUM: u32 = 0x400;

/// What the adapter keeps from the superblock.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SuperblockInfo {
    /// File-system block size in bytes.
    pub block_size: u32,
    /// Blocks reserved for the super-user (`s_r_blocks_count`).
    pub reserved_blocks: u64,
    /// Metadata overhead in blocks (`s_overhead_clusters`; 0 if mke2fs did not record it).
    pub overhead_blocks: u64,
    /// Where the group descriptors are, for [`crate::padding`].
    pub groups: GroupGeometry,
    /// Seed of metadata checksums (`None` without metadata_csum).
    pub checksum_seed: Option<u32>,
}

/// The layout of the group descriptor table.
#[derive(Clone, Copy, Debug)]
pub(crate) struct GroupGeometry {
    /// Number of block groups.
    pub count: u32,
    /// Bytes per group descriptor.
    pub descriptor_size: u32,
    /// First block of the table (the block after the primary superblock).
    pub table_block: u64,
    /// Inodes per group.
    pub inodes_per_group: u32,
    /// Bytes per on-disk inode.
    pub inode_size: u32,
    /// Whether the journal needs recovery (then the root inode check waits for replay).
    pub needs_recovery: bool,
    /// Whether `meta_bg` scatters the table (then [`crate::padding`] does nothing).
    pub meta_bg: bool,
}

pub(crate) fn u16_at(bytes: &[u8], offset: usize) -> u16 {
    u16::from_le_bytes([bytes[offset], bytes[offset + 1]])
}

pub(crate) fn u32_at(bytes: &[u8], offset: usize) -> u32 {
    u32::from_le_bytes([bytes[offset], bytes[offset + 1], bytes[offset + 2], bytes[offset + 3]])
}

/// Reads `length` bytes at byte `offset` of `device`, whatever its sector size.
pub(crate) fn read_bytes<D: BlockDevice>(device: &D, offset: u64, length: usize) -> Result<alloc::vec::Vec<u8>, Errno> {
    let sector = device.block_size() as u64;
    let first = offset / sector;
    let last = (offset + length as u64).div_ceil(sector);
    if last > device.blocks() {
        return Err(Errno::EINVAL);
    }
    let mut buffer = alloc::vec![0u8; ((last - first) * sector) as usize];
    device.read(first, &mut buffer).map_err(|_| Errno::EIO)?;
    let start = (offset - first * sector) as usize;
    Ok(buffer[start..start + length].to_vec())
}

/// CRC32C (Castagnoli) as ext4 uses it: seed in, no final inversion.
pub(crate) fn crc32c(mut crc: u32, data: &[u8]) -> u32 {
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0x82F6_3B78 } else { crc >> 1 };
        }
    }
    crc
}

/// Reads and checks the primary superblock: `EINVAL` if the device does not hold ext2/3/4
/// (or uses a block size rsext4 cannot handle), `EUCLEAN` if it does but the superblock is
/// inconsistent, `EIO` if it cannot be read.
pub(crate) fn check<D: BlockDevice>(device: &D) -> Result<SuperblockInfo, Errno> {
    let sector = device.block_size();
    if !sector.is_power_of_two() || !(512..=4096).contains(&sector) {
        return Err(Errno::EINVAL);
    }
    let sb = read_bytes(device, SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE)?;
    if u16_at(&sb, 0x38) != EXT4_MAGIC {
        return Err(Errno::EINVAL);
    }
    let ro_compat = u32_at(&sb, 0x64);
    if ro_compat & RO_COMPAT_METADATA_CSUM != 0 && crc32c(!0, &sb[..0x3FC]) != u32_at(&sb, 0x3FC) {
        return Err(Errno::EUCLEAN);
    }
    let log_block_size = u32_at(&sb, 0x18);
    if log_block_size > 2 {
        // Linux allows up to 64 KiB blocks; rsext4 stops at 4 KiB.
        return Err(if log_block_size <= 6 { Errno::EINVAL } else { Errno::EUCLEAN });
    }
    let block_size = 1024u32 << log_block_size;
    if block_size < sector as u32 {
        return Err(Errno::EINVAL);
    }
    let incompat = u32_at(&sb, 0x60);
    let wide = incompat & INCOMPAT_64BIT != 0;
    let high = |offset: usize| if wide { u64::from(u32_at(&sb, offset)) << 32 } else { 0 };
    let blocks = u64::from(u32_at(&sb, 0x04)) | high(0x150);
    let reserved_blocks = u64::from(u32_at(&sb, 0x08)) | high(0x154);
    let free_blocks = u64::from(u32_at(&sb, 0x0C)) | high(0x158);
    let inodes = u32_at(&sb, 0x00);
    let free_inodes = u32_at(&sb, 0x10);
    let first_data_block = u32_at(&sb, 0x14);
    let blocks_per_group = u32_at(&sb, 0x20);
    let inodes_per_group = u32_at(&sb, 0x28);
    let revision = u32_at(&sb, 0x4C);
    let inode_size = if revision == 0 { 128 } else { u32::from(u16_at(&sb, 0x58)) };
    let descriptor_size = if wide { u32::from(u16_at(&sb, 0xFE)) } else { 32 };
    let bits_per_block = block_size * 8;
    let consistent = blocks > u64::from(first_data_block)
        && first_data_block == u32::from(block_size == 1024)
        && (1..=bits_per_block).contains(&blocks_per_group)
        && (1..=bits_per_block).contains(&inodes_per_group)
        && inode_size.is_power_of_two()
        && (128..=block_size).contains(&inode_size)
        && (!wide || (descriptor_size.is_power_of_two() && (32..=1024).contains(&descriptor_size)))
        && reserved_blocks <= blocks
        && free_blocks <= blocks
        && free_inodes <= inodes;
    if !consistent {
        return Err(Errno::EUCLEAN);
    }
    let groups = (blocks - u64::from(first_data_block)).div_ceil(u64::from(blocks_per_group));
    if groups.checked_mul(u64::from(inodes_per_group)) != Some(u64::from(inodes)) {
        return Err(Errno::EUCLEAN);
    }
    // The device must hold every block the superblock claims.
    let device_bytes = device.blocks().saturating_mul(sector as u64);
    if blocks.checked_mul(u64::from(block_size)).is_none_or(|bytes| bytes > device_bytes) {
        return Err(Errno::EINVAL);
    }
    let overhead_blocks = u64::from(u32_at(&sb, 0x248)).min(blocks);
    let groups = GroupGeometry {
        count: u32::try_from(groups).map_err(|_| Errno::EUCLEAN)?,
        descriptor_size,
        table_block: u64::from(first_data_block) + 1,
        inodes_per_group,
        inode_size,
        needs_recovery: incompat & INCOMPAT_RECOVER != 0,
        meta_bg: incompat & INCOMPAT_META_BG != 0,
    };
    // s_checksum_seed with the csum_seed feature, else crc32c of s_uuid.
    let checksum_seed = (ro_compat & RO_COMPAT_METADATA_CSUM != 0).then(|| {
        if incompat & INCOMPAT_CSUM_SEED != 0 {
            u32_at(&sb, 0x270)
        } else {
            crc32c(!0, &sb[0x68..0x78])
        }
    });
    Ok(SuperblockInfo { block_size, reserved_blocks, overhead_blocks, groups, checksum_seed })
}

/// Checks that the root inode (2) is an allocated directory.
///
/// rsext4 *recreates* a root directory it finds missing on a read-write mount, silently
/// cutting the old tree off; Linux refuses such a mount (`EFSCORRUPTED`), and so does
/// this check. It reads the inode from its home location, so it is skipped when the
/// journal still needs replaying (which may rewrite that block).
pub(crate) fn check_root_inode<D: BlockDevice>(device: &D, info: &SuperblockInfo) -> Result<(), Errno> {
    let groups = &info.groups;
    if groups.needs_recovery || groups.meta_bg {
        return Ok(());
    }
    let block_size = u64::from(info.block_size);
    let descriptor = read_bytes(device, groups.table_block * block_size, groups.descriptor_size as usize)?;
    let high = if groups.descriptor_size >= 64 { u64::from(u32_at(&descriptor, 0x28)) << 32 } else { 0 };
    let inode_table = u64::from(u32_at(&descriptor, 0x08)) | high;
    let offset = inode_table
        .checked_mul(block_size)
        .and_then(|start| start.checked_add(u64::from(groups.inode_size)))
        .ok_or(Errno::EUCLEAN)?;
    let inode = read_bytes(device, offset, 128).map_err(|errno| if errno == Errno::EINVAL { Errno::EUCLEAN } else { errno })?;
    let mode = u16_at(&inode, 0x00);
    let links = u16_at(&inode, 0x1A);
    if mode & 0xF000 != 0x4000 || links == 0 {
        return Err(Errno::EUCLEAN);
    }
    Ok(())
}
