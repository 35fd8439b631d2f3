//! Host throughput figures (ignored by default; run with
//! `cargo test -p ext4fs --release --test perf -- --ignored --nocapture`):
//! 64 MiB sequential write and read in 1 MiB calls, and creating and deleting 10,000
//! small files (image file in the temporary directory: page cache, no fsync); and the
//! same 10,000 files on a RAM device timed per 1,000 operations, which shows whether an
//! operation's cost grows with the directory or the journal (`small_files`).

mod common;

use std::time::Instant;

use common::*;
use vfs::FileType;

/// The file system over the RAM device.
type Fs2 = ext4fs::Ext4Fs<parking_lot::RawMutex, RamDevice>;

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

/// Creating, writing and deleting 10,000 small files in one directory on a RAM device,
/// timed per 1,000 operations (to see whether the cost grows with the directory), then
/// unmounted and checked with `e2fsck -fn`.
#[test]
#[ignore]
fn small_files() {
    let Some(tools) = Tools::find() else { return };
    let temp = TempDir::new("perf-small");
    let image = temp.join("image");
    tools.mkfs(&image, "256M", &[], None);
    let device = RamDevice::load(&image);
    let fs = Fs2::mount(device.clone(), config(false)).expect("mount");
    let root = fs.root().unwrap();
    let dir = root.create(b"small", FileType::Directory, 0o755, 0).unwrap();
    const FILES: usize = 10_000;
    const BATCH: usize = 1_000;
    let report = |what: &str, batch: usize, elapsed: std::time::Duration| {
        eprintln!("{what} {:>5}..{:>5}: {:>7.1} µs/op", batch * BATCH, (batch + 1) * BATCH, elapsed.as_secs_f64() * 1e6 / BATCH as f64);
    };
    let mut total_create = std::time::Duration::ZERO;
    for batch in 0..FILES / BATCH {
        let started = Instant::now();
        for index in batch * BATCH..(batch + 1) * BATCH {
            let file = dir.create(format!("file-{index}").as_bytes(), FileType::Regular, 0o644, 0).unwrap();
            write_all(&*file, 0, b"small file contents\n");
        }
        let elapsed = started.elapsed();
        total_create += elapsed;
        report("create+write", batch, elapsed);
    }
    let started = Instant::now();
    fs.sync().unwrap();
    eprintln!("sync: {:?}", started.elapsed());
    let mut total_delete = std::time::Duration::ZERO;
    for batch in 0..FILES / BATCH {
        let started = Instant::now();
        for index in batch * BATCH..(batch + 1) * BATCH {
            dir.unlink(format!("file-{index}").as_bytes()).unwrap();
        }
        let elapsed = started.elapsed();
        total_delete += elapsed;
        report("delete", batch, elapsed);
    }
    eprintln!(
        "{FILES} small files: create+write {total_create:?} ({:.1} µs/op), delete {total_delete:?} ({:.1} µs/op); device reads {}, writes {}",
        total_create.as_secs_f64() * 1e6 / FILES as f64,
        total_delete.as_secs_f64() * 1e6 / FILES as f64,
        device.reads.load(std::sync::atomic::Ordering::Relaxed),
        device.writes.load(std::sync::atomic::Ordering::Relaxed),
    );
    assert!(names(&*dir).is_empty());
    fs.unmount().unwrap();
    device.save(&image);
    tools.fsck_clean(&image);
}
