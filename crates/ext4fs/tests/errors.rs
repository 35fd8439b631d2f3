//! Failure paths: a full disk (ENOSPC, short writes, nothing corrupted), read-only mounts
//! (EROFS), a device without ext4 (EINVAL), device errors (EIO), and corrupted images
//! (an error, never a panic).

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use abi::Errno;
use common::*;
use vfs::{FileType, Inode, SetTime};

#[test]
fn full_disk_gives_enospc_and_keeps_earlier_files() {
    let Some(tools) = Tools::find() else { return };
    let temp = TempDir::new("full");
    let image = temp.join("image");
    tools.mkfs(&image, "8M", &[], None);
    let fs = mount(&image, false);
    let root = fs.root().unwrap();
    let keep = pattern(1, 300_000);
    create_file(&root, "keep", &keep);
    let dir = root.create(b"dir", FileType::Directory, 0o755, 0).unwrap();
    create_file(&dir, "small", b"small file\n");
    fs.sync().unwrap();

    // One big write: it ends short, with what fitted written.
    let filler = root.create(b"filler", FileType::Regular, 0o644, 0).unwrap();
    let data = pattern(2, 16 << 20);
    let written = write_at(&*filler, 0, &data).expect("a write that fills the disk is short, not failed");
    assert!(written > 1 << 20 && written < data.len(), "wrote {written}");
    assert_eq!(write_at(&*filler, written as u64, &data[written..]), Err(Errno::ENOSPC));
    assert_eq!(filler.metadata().size, written as u64);
    // More files until inodes or blocks run out: ENOSPC, never another error.
    let mut created = 0;
    let error = loop {
        match root.create(format!("extra-{created}").as_bytes(), FileType::Regular, 0o644, 0) {
            Ok(file) => match write_at(&*file, 0, &[7u8; 4096]) {
                Ok(_) => created += 1,
                Err(error) => break error,
            },
            Err(error) => break error,
        }
    };
    assert_eq!(error, Errno::ENOSPC);
    let statfs = fs.statfs().unwrap();
    assert!(statfs.f_bavail < 16, "{statfs:?}");
    // Freeing space makes room again.
    root.unlink(b"filler").unwrap();
    drop(filler);
    let again = create_file(&root, "again", &pattern(3, 1 << 20));
    if std::env::var("DEBUG_FULL").is_ok() {
        fs.sync().unwrap();
        std::fs::copy(&image, "/tmp/full-debug.img").unwrap();
    }
    assert_eq!(read_all(&*again), pattern(3, 1 << 20));
    assert_eq!(read_all(&*walk(&root, "keep").unwrap()), keep);
    fs.unmount().unwrap();
    tools.fsck_clean(&image);
    assert_eq!(tools.debugfs(&image, "cat /keep"), keep);
    assert_eq!(tools.debugfs(&image, "cat /dir/small"), b"small file\n");
}

#[test]
fn read_only_mount_refuses_changes() {
    let Some(tools) = Tools::find() else { return };
    let temp = TempDir::new("ro");
    let tree = temp.join("tree");
    std::fs::create_dir_all(tree.join("dir")).unwrap();
    std::fs::write(tree.join("file"), b"read me").unwrap();
    let image = temp.join("image");
    tools.mkfs(&image, "8M", &[], Some(&tree));
    let before = std::fs::read(&image).unwrap();
    // A read-only mount of a writable device, and any mount of a read-only device.
    for device_read_only in [false, true] {
        let fs = Fs::mount(FileDevice::open(&image, device_read_only), config(true)).unwrap();
        assert!(fs.read_only());
        let root = fs.root().unwrap();
        let file = root.lookup(b"file").unwrap();
        assert_eq!(read_all(&*file), b"read me");
        assert_eq!(write_at(&*file, 0, b"x"), Err(Errno::EROFS));
        assert_eq!(append(&*file, b"x"), Err(Errno::EROFS));
        assert_eq!(file.truncate(0), Err(Errno::EROFS));
        assert_eq!(file.set_mode(0o600), Err(Errno::EROFS));
        assert_eq!(file.set_owner(Some(1), None), Err(Errno::EROFS));
        assert_eq!(file.set_times(SetTime::Now, SetTime::Now), Err(Errno::EROFS));
        assert_eq!(root.create(b"new", FileType::Regular, 0o644, 0).unwrap_err(), Errno::EROFS);
        assert_eq!(root.symlink(b"new", b"file").unwrap_err(), Errno::EROFS);
        assert_eq!(root.link(b"new", &file).unwrap_err(), Errno::EROFS);
        assert_eq!(root.unlink(b"file").unwrap_err(), Errno::EROFS);
        assert_eq!(root.rmdir(b"dir").unwrap_err(), Errno::EROFS);
        assert_eq!(root.rename(b"file", &root, b"moved", 0).unwrap_err(), Errno::EROFS);
        assert_eq!(fs.statfs().unwrap().f_flags & 1, 1);
        fs.unmount().unwrap();
    }
    assert!(std::fs::read(&image).unwrap() == before, "a read-only mount wrote to the image");
    // A read-write mount of a read-only device.
    assert_eq!(Fs::mount(FileDevice::open(&image, true), config(false)).err(), Some(Errno::EROFS));
}

#[test]
fn not_ext4_is_einval() {
    let temp = TempDir::new("zeros");
    let image = temp.join("zeros");
    std::fs::write(&image, vec![0u8; 4 << 20]).unwrap();
    assert_eq!(Fs::mount(FileDevice::open(&image, false), config(false)).err(), Some(Errno::EINVAL));
    std::fs::write(&image, vec![0u8; 1000]).unwrap();
    assert_eq!(Fs::mount(FileDevice::open(&image, false), config(false)).err(), Some(Errno::EINVAL));
    std::fs::write(&image, pattern(5, 1 << 20)).unwrap();
    assert_eq!(Fs::mount(FileDevice::open(&image, false), config(false)).err(), Some(Errno::EINVAL));
}

#[test]
fn device_errors_are_eio() {
    let Some(tools) = Tools::find() else { return };
    let temp = TempDir::new("eio");
    let image = temp.join("image");
    tools.mkfs(&image, "8M", &[], None);
    let device = FileDevice::open(&image, false);
    let fail = device.fail.clone();
    fail.store(true, Ordering::Relaxed);
    assert_eq!(Fs::mount(FileDevice::open(&image, false), config(false)).err(), None);
    assert_eq!(Fs::mount(device, config(false)).err(), Some(Errno::EIO));

    let device = FileDevice::open(&image, false);
    let fail = device.fail.clone();
    let fs = Fs::mount(device, config(false)).unwrap();
    let root = fs.root().unwrap();
    create_file(&root, "before", b"written before the failure");
    fs.sync().unwrap();
    fail.store(true, Ordering::Relaxed);
    // Whatever is not cached fails with EIO; nothing panics.
    let results = [
        root.create(b"new-dir", FileType::Directory, 0o755, 0).err(),
        fs.sync().err(),
        fs.unmount().err(),
    ];
    assert!(results.contains(&Some(Errno::EIO)), "{results:?}");
    assert!(results.iter().flatten().all(|errno| [Errno::EIO, Errno::EROFS].contains(errno)), "{results:?}");
}

/// Mounts `image` and walks the whole tree reading every file, returning the first error.
fn mount_and_walk(image: &std::path::Path) -> Result<usize, Errno> {
    let fs = Fs::mount(FileDevice::open(image, false), config(false))?;
    let root = fs.root()?;
    let mut visited = 0;
    let mut stack: Vec<Arc<dyn Inode>> = vec![root];
    while let Some(dir) = stack.pop() {
        let entries = vfs::read_dir_all(&*dir, 0)?;
        for entry in entries {
            if entry.name == b"." || entry.name == b".." {
                continue;
            }
            let child = dir.lookup(&entry.name)?;
            visited += 1;
            let _ = child.metadata();
            match child.kind() {
                FileType::Directory => stack.push(child),
                FileType::Regular => {
                    let mut buf = vec![0u8; 65536];
                    let mut offset = 0;
                    loop {
                        let count = read_at(&*child, offset, &mut buf)?;
                        if count == 0 {
                            break;
                        }
                        offset += count as u64;
                    }
                }
                FileType::Symlink => {
                    child.readlink()?;
                }
                _ => {}
            }
        }
    }
    // A change and an unmount on top, which must fail cleanly or succeed.
    fs.root()?.create(b"after-corruption", FileType::Regular, 0o644, 0)?;
    fs.unmount()?;
    Ok(visited)
}

/// Byte ranges of the image's metadata, read with debugfs.
fn metadata_offsets(tools: &Tools, image: &std::path::Path) -> Vec<(&'static str, u64)> {
    let stats = tools.debugfs_text(image, "stats");
    let block_size: u64 = stats
        .lines()
        .find_map(|line| line.strip_prefix("Block size:"))
        .and_then(|value| value.trim().parse().ok())
        .expect("block size");
    let field = |text: &str, key: &str| -> u64 {
        let start = text.find(key).unwrap_or_else(|| panic!("{key} in {text}")) + key.len();
        let digits: String = text[start..].trim_start().chars().take_while(|c| c.is_ascii_digit()).collect();
        digits.parse().unwrap()
    };
    let inode_table = field(&stats, "inode table at ");
    let root_block = {
        let blocks = tools.debugfs_text(image, "blocks /");
        blocks.split_whitespace().next().unwrap().parse::<u64>().unwrap()
    };
    let sub_block = {
        let blocks = tools.debugfs_text(image, "blocks /dir");
        blocks.split_whitespace().next().unwrap().parse::<u64>().unwrap()
    };
    let descriptors = if block_size == 1024 { 2 * 1024 } else { block_size };
    let inode_size = field(&stats, "Inode size:");
    let big_inode = field(&tools.debugfs_text(image, "stat /big"), "Inode:");
    vec![
        ("superblock", 1024),
        ("group descriptors", descriptors),
        ("inode table", inode_table * block_size),
        ("root inode", inode_table * block_size + inode_size),
        ("file inode", inode_table * block_size + (big_inode - 1) * inode_size),
        ("root directory block", root_block * block_size),
        ("directory block", sub_block * block_size),
    ]
}

#[test]
fn corrupted_images_give_errors_not_panics() {
    let Some(tools) = Tools::find() else { return };
    let temp = TempDir::new("corrupt");
    let tree = temp.join("tree");
    std::fs::create_dir_all(tree.join("dir/sub")).unwrap();
    for index in 0..40 {
        std::fs::write(tree.join(format!("dir/file-{index}")), pattern(index, 5000 + index as usize * 100)).unwrap();
    }
    std::fs::write(tree.join("big"), pattern(99, 300_000)).unwrap();
    std::os::unix::fs::symlink("dir/file-1", tree.join("link")).unwrap();
    let pristine = temp.join("pristine");
    tools.mkfs(&pristine, "8M", &[], Some(&tree));
    let good = std::fs::read(&pristine).unwrap();
    assert_eq!(mount_and_walk(&pristine), Ok(45)); // 40 files, dir, sub, big, link, lost+found

    let image = temp.join("image");
    let mut outcomes = Vec::new();
    for (what, base) in metadata_offsets(&tools, &pristine) {
        // Several damage patterns per structure: a zeroed block, all-ones at the start,
        // flipped bytes spread over the first 256 bytes, and single flipped fields (for
        // the superblock these keep its magic number, so it still claims to be ext4).
        for variant in 0..7u64 {
            let mut bytes = good.clone();
            let base = base as usize;
            let magic = if what == "superblock" { 0x38..0x3A } else { 0..0 };
            match variant {
                0 => bytes[base..base + 1024].fill(0),
                1 => bytes[base..base + 64].fill(0xff),
                2 | 3 => {
                    for (index, byte) in pattern(variant, 256).into_iter().enumerate() {
                        if index % 7 == 0 && !magic.contains(&index) {
                            bytes[base + index] ^= byte | 1;
                        }
                    }
                }
                _ if what == "superblock" => {
                    let index = [0x04, 0x20, 0x58][variant as usize - 4];
                    bytes[base + index] ^= 0x5a;
                }
                _ => {
                    let index = [0x04, 0x0C, 0x1A][variant as usize - 4];
                    bytes[base + index] ^= 0x5a;
                }
            }
            std::fs::write(&image, &bytes).unwrap();
            let outcome = mount_and_walk(&image);
            outcomes.push(format!("{what} #{variant}: {outcome:?}"));
            if let Err(errno) = outcome {
                assert!(
                    [Errno::EUCLEAN, Errno::EINVAL, Errno::EIO, Errno::ENOENT, Errno::ENOTDIR, Errno::EROFS, Errno::EFBIG]
                        .contains(&errno),
                    "{what} #{variant}: unexpected {errno:?}"
                );
            }
        }
    }
    eprintln!("{}", outcomes.join("\n"));
    // Checksummed metadata (metadata_csum is on by default) must be caught: a superblock
    // without its magic is "not ext4", a damaged one is corrupt; so are damaged group
    // descriptors, the root inode and directory blocks.
    let outcome = |what: &str| outcomes.iter().filter(move |outcome| outcome.starts_with(what)).cloned().collect::<Vec<_>>();
    assert!(outcome("superblock #0")[0].contains("Err(EINVAL)"), "{outcomes:?}");
    for what in [
        "superblock #2",
        "superblock #4",
        "superblock #5",
        "superblock #6",
        "group descriptors",
        "root inode",
        "file inode",
        "root directory",
        "directory block",
    ] {
        assert!(outcome(what).iter().all(|outcome| outcome.contains("Err(EUCLEAN)")), "{what}: {outcomes:?}");
    }
    assert!(outcome("inode table #0")[0].contains("Err(EUCLEAN)"), "the root inode is zeroed: {outcomes:?}");
}
