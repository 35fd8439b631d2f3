//! File data: large files written in odd-sized chunks, sparse files, truncate, append;
//! checked by reading back, by `debugfs cat` and by `e2fsck -fn`.

mod common;

use std::time::Instant;

use common::*;
use vfs::FileType;

/// Writes `total` bytes of pattern data in chunks of odd sizes, reads them back with a
/// different chunking, compares checksums, then checks the image.
fn large_file(total: usize, image_size: &str, check_with_debugfs: bool) {
    let Some(tools) = Tools::find() else { return };
    let temp = TempDir::new("large");
    let image = temp.join("image");
    tools.mkfs(&image, image_size, &[], None);
    let fs = mount(&image, false);
    let root = fs.root().unwrap();
    let file = root.create(b"large", FileType::Regular, 0o644, 0).unwrap();
    let data = pattern(7, total);
    let started = Instant::now();
    let sizes = [65_537, 4_095, 1_000_000, 3, 131_071, 777_777];
    let mut offset = 0;
    for size in sizes.iter().cycle() {
        if offset == total {
            break;
        }
        let end = (offset + size).min(total);
        write_all(&*file, offset as u64, &data[offset..end]);
        offset = end;
    }
    let wrote = started.elapsed();
    let started = Instant::now();
    let mut back = vec![0u8; total];
    let mut offset = 0;
    for size in [1_048_576, 12_345, 500_001].iter().cycle() {
        if offset == total {
            break;
        }
        let end = (offset + size).min(total);
        assert_eq!(read_at(&*file, offset as u64, &mut back[offset..end]), Ok(end - offset));
        offset = end;
    }
    let read = started.elapsed();
    assert_eq!(checksum(&back), checksum(&data));
    let metadata = file.metadata();
    assert_eq!(metadata.size, total as u64);
    assert!(metadata.blocks * 512 >= total as u64);
    fs.unmount().unwrap();
    eprintln!("{} MiB: write {:?}, read {:?}", total >> 20, wrote, read);
    tools.fsck_clean(&image);
    if check_with_debugfs {
        assert_eq!(checksum(&tools.debugfs(&image, "cat /large")), checksum(&data));
    }
}

#[test]
fn file_of_64_mib_in_odd_chunks() {
    large_file(64 << 20, "128M", true);
}

#[test]
fn sparse_file_and_truncate() {
    let Some(tools) = Tools::find() else { return };
    let temp = TempDir::new("sparse");
    let image = temp.join("image");
    tools.mkfs(&image, "64M", &["-b", "4096"], None);
    let fs = mount(&image, false);
    let root = fs.root().unwrap();
    let free_before = fs.statfs().unwrap().f_bfree;

    // A write at 100 MiB: size 100 MiB + 5, only a block or two allocated, holes are zeros.
    let sparse = root.create(b"sparse", FileType::Regular, 0o644, 0).unwrap();
    write_all(&*sparse, 100 << 20, b"tail!");
    write_all(&*sparse, 10, b"head");
    let metadata = sparse.metadata();
    assert_eq!(metadata.size, (100 << 20) + 5);
    assert!(metadata.blocks <= 4 * 8, "blocks {}", metadata.blocks); // a few 4 KiB blocks (and index)
    let mut buf = vec![0xffu8; 8192];
    assert_eq!(read_at(&*sparse, 50 << 20, &mut buf), Ok(8192));
    assert!(buf.iter().all(|&byte| byte == 0));
    assert_eq!(read_at(&*sparse, 0, &mut buf[..16]), Ok(16));
    assert_eq!(&buf[..16], b"\0\0\0\0\0\0\0\0\0\0head\0\0");
    let mut tail = [0u8; 10];
    assert_eq!(read_at(&*sparse, 100 << 20, &mut tail), Ok(5));
    assert_eq!(&tail[..5], b"tail!");

    // Truncate: growing adds a hole, shrinking frees blocks.
    let file = create_file(&root, "shrink", &pattern(3, 3 << 20));
    let used = free_before - fs.statfs().unwrap().f_bfree;
    assert!(used >= 768, "3 MiB should use 768 4-KiB blocks, used {used}");
    file.truncate(5000).unwrap();
    assert_eq!(file.metadata().size, 5000);
    assert_eq!(file.metadata().blocks, 16); // two 4 KiB blocks
    file.truncate(1 << 20).unwrap();
    assert_eq!(file.metadata().size, 1 << 20);
    assert_eq!(file.metadata().blocks, 16);
    let mut buf = vec![0xffu8; 4096];
    assert_eq!(read_at(&*file, 8192, &mut buf), Ok(4096));
    assert!(buf.iter().all(|&byte| byte == 0), "grown part reads as zeros");
    let mut head = vec![0u8; 5000];
    assert_eq!(read_at(&*file, 0, &mut head), Ok(5000));
    assert_eq!(head, pattern(3, 5000));
    // The bytes after the old end, inside the last kept block, read as zeros.
    assert_eq!(read_at(&*file, 5000, &mut buf[..100]), Ok(100));
    assert!(buf[..100].iter().all(|&byte| byte == 0));
    assert!(free_before - fs.statfs().unwrap().f_bfree < 16, "blocks were freed");
    assert_eq!(root.truncate(0).unwrap_err(), abi::Errno::EISDIR);

    // Append.
    let log = create_file(&root, "log", b"one\n");
    assert_eq!(append(&*log, b"two\n"), Ok((4, 8)));
    assert_eq!(append(&*log, b"three\n"), Ok((6, 14)));

    fs.unmount().unwrap();
    tools.fsck_clean(&image);
    let stat = tools.debugfs_text(&image, "stat /sparse");
    assert!(stat.contains(&format!("Size: {}", (100u64 << 20) + 5)), "{stat}");
    let contents = tools.debugfs(&image, "cat /sparse");
    assert_eq!(contents.len(), (100 << 20) + 5);
    assert_eq!(&contents[10..14], b"head");
    assert_eq!(&contents[100 << 20..], b"tail!");
    assert_eq!(tools.debugfs(&image, "cat /log"), b"one\ntwo\nthree\n");
    let shrunk = tools.debugfs(&image, "cat /shrink");
    assert_eq!(shrunk.len(), 1 << 20);
    assert_eq!(&shrunk[..5000], &pattern(3, 5000)[..]);
    assert!(shrunk[5000..].iter().all(|&byte| byte == 0));
}

#[test]
fn file_of_200_mib_in_odd_chunks() {
    // debugfs reads the 64 MiB file back; this one is checked by reading it through the
    // adapter and by e2fsck (a 200 MiB `debugfs cat` costs seconds).
    large_file(200 << 20, "256M", false);
}

#[test]
fn file_of_140_mib_on_a_1_gib_image() {
    // Crosses the 128 MiB extent-length limit on an image with 8 block groups (the
    // kernel's 256 MiB dd showed trouble past 128 MiB; this checks the crate alone).
    large_file(140 << 20, "1G", false);
}
