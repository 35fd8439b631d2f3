//! Host throughput figures (ignored by default; run with
//! `cargo test -p ext4fs --release --test perf -- --ignored --nocapture`):
//! 64 MiB sequential write and read in 1 MiB calls, and creating and deleting 10,000
//! small files. The image is a file in the temporary directory (page cache, no fsync).

mod common;

use std::time::Instant;

use common::*;
use vfs::FileType;

#[test]
#[ignore]
fn throughput() {
    let Some(tools) = Tools::find() else { return };
    let temp = TempDir::new("perf");
    let image = temp.join("image");
    tools.mkfs(&image, "256M", &[], None);
    let fs = mount(&image, false);
    let root = fs.root().unwrap();
    let file = root.create(b"seq", FileType::Regular, 0o644, 0).unwrap();
    let chunk = pattern(1, 1 << 20);
    let started = Instant::now();
    for index in 0..64u64 {
        write_all(&*file, index << 20, &chunk);
    }
    fs.sync().unwrap();
    let write = started.elapsed();
    let started = Instant::now();
    let mut buf = vec![0u8; 1 << 20];
    for index in 0..64u64 {
        assert_eq!(read_at(&*file, index << 20, &mut buf), Ok(1 << 20));
    }
    let read = started.elapsed();
    eprintln!(
        "64 MiB sequential: write+sync {:.0} MiB/s ({write:?}), read {:.0} MiB/s ({read:?})",
        64.0 / write.as_secs_f64(),
        64.0 / read.as_secs_f64()
    );
    let dir = root.create(b"small", FileType::Directory, 0o755, 0).unwrap();
    let started = Instant::now();
    for index in 0..10_000 {
        let file = dir.create(format!("file-{index}").as_bytes(), FileType::Regular, 0o644, 0).unwrap();
        write_all(&*file, 0, b"small file contents\n");
    }
    let create = started.elapsed();
    let started = Instant::now();
    for index in 0..10_000 {
        dir.unlink(format!("file-{index}").as_bytes()).unwrap();
    }
    let delete = started.elapsed();
    eprintln!("10,000 small files: create+write {create:?}, delete {delete:?}");
    fs.unmount().unwrap();
    tools.fsck_clean(&image);
}
