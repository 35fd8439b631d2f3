//! Inode timestamps with nanoseconds: times the file system takes from its clock (create,
//! write, chmod), times set with `set_times` (utimensat), dates past 2038 and before
//! 1970 (ext4's epoch bits), Linux's clamping, and 128-byte inodes (whole seconds) — read
//! back through `metadata`, after a remount, and by the host's `debugfs`.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};

use common::*;
use ext4fs::MountConfig;
use vfs::{FileType, SetTime, Timestamp};

/// First reading of [`ticking_clock`], in nanoseconds since the epoch (2023-11-14).
const CLOCK_START: u64 = 1_700_000_000_000_000_001;
/// How far [`ticking_clock`] advances per reading: odd nanoseconds, so every reading has
/// a different sub-second part.
const CLOCK_STEP: u64 = 1_000_003_333;
static CLOCK_READINGS: AtomicU64 = AtomicU64::new(0);

/// A wall clock that advances by [`CLOCK_STEP`] at every reading (only the
/// `clock_readings_of_the_file_system` test uses it).
fn ticking_clock() -> (i64, u32) {
    let nanos = CLOCK_START + CLOCK_READINGS.fetch_add(1, Ordering::Relaxed) * CLOCK_STEP;
    ((nanos / 1_000_000_000) as i64, (nanos % 1_000_000_000) as u32)
}

fn nanos(time: Timestamp) -> u64 {
    time.sec as u64 * 1_000_000_000 + u64::from(time.nsec)
}

/// Whether `time` is one of the readings of [`ticking_clock`].
fn is_clock_reading(time: Timestamp) -> bool {
    let nanos = nanos(time);
    nanos >= CLOCK_START && (nanos - CLOCK_START).is_multiple_of(CLOCK_STEP)
}

/// `debugfs` prints `NAME: 0xSECONDS:EXTRA -- date`; this is that text for `time`.
fn debugfs_time(name: &str, time: Timestamp) -> String {
    let epoch = ((time.sec - i64::from(time.sec as i32)) >> 32) as u32 & 3;
    format!("{name}: 0x{:08x}:{:08x}", time.sec as u32, (time.nsec << 2) | epoch)
}

#[test]
fn clock_readings_of_the_file_system() {
    let Some(tools) = Tools::find() else { return };
    let temp = TempDir::new("times-clock");
    let image = temp.join("image");
    tools.mkfs(&image, "16M", &[], None);
    let config = MountConfig { clock: ticking_clock, ..config(false) };
    let fs = Fs::mount(FileDevice::open(&image, false), config).expect("mount");
    let root = fs.root().unwrap();

    let file = root.create(b"file", FileType::Regular, 0o644, 0).unwrap();
    let created = file.metadata();
    for time in [created.atime, created.mtime, created.ctime] {
        assert!(is_clock_reading(time), "{time:?} is no reading of the clock");
        assert_ne!(time.nsec, 0);
    }
    // The directory's mtime and ctime move with the new entry.
    let root_times = root.metadata();
    assert!(is_clock_reading(root_times.mtime) && nanos(root_times.mtime) >= nanos(created.mtime));

    write_all(&*file, 0, b"contents");
    let written = file.metadata();
    assert!(is_clock_reading(written.mtime), "{:?}", written.mtime);
    assert!(nanos(written.mtime) > nanos(created.mtime), "write moves mtime: {:?} -> {:?}", created.mtime, written.mtime);
    assert!(nanos(written.ctime) > nanos(created.ctime));

    file.set_mode(0o600).unwrap();
    let changed = file.metadata();
    assert!(is_clock_reading(changed.ctime) && nanos(changed.ctime) > nanos(written.ctime));
    assert_eq!(changed.mtime, written.mtime, "chmod leaves mtime");

    // utimensat(UTIME_NOW) takes the clock's nanoseconds as well.
    file.set_times(SetTime::Now, SetTime::Omit).unwrap();
    let touched = file.metadata();
    assert!(is_clock_reading(touched.atime) && nanos(touched.atime) > nanos(changed.ctime));
    assert_eq!(touched.mtime, written.mtime);

    fs.unmount().unwrap();
    tools.fsck_clean(&image);
    let stat = tools.debugfs_text(&image, "stat /file");
    assert!(stat.contains(&debugfs_time("atime", touched.atime)), "{stat}");
    assert!(stat.contains(&debugfs_time("mtime", touched.mtime)), "{stat}");
    assert!(stat.contains(&debugfs_time("ctime", touched.ctime)), "{stat}");
    assert!(stat.contains(&debugfs_time("crtime", created.mtime)), "creation time: {stat}");

    // The same times come back after mounting again.
    let fs = mount(&image, true);
    let again = walk(&fs.root().unwrap(), "file").unwrap().metadata();
    assert_eq!((again.atime, again.mtime, again.ctime), (touched.atime, touched.mtime, touched.ctime));
}

#[test]
fn set_times_round_trip_with_nanoseconds_and_epoch_bits() {
    let Some(tools) = Tools::find() else { return };
    let temp = TempDir::new("times-set");
    let image = temp.join("image");
    tools.mkfs(&image, "16M", &[], None);
    let fs = mount(&image, false);
    let root = fs.root().unwrap();
    let cases = [
        // (name, atime, mtime as set, mtime as stored)
        ("plain", Timestamp::new(1_000_000_000, 1), Timestamp::new(1_234_567_890, 999_999_999)),
        // After 2038: the epoch bits carry the seconds past 2^31.
        ("y2106", Timestamp::new(0x1_0000_0007, 500), Timestamp::new((1 << 33) + 12_345, 123_456_789)),
        // Before 1970.
        ("y1969", Timestamp::new(-1, 999_999_999), Timestamp::new(-1_000_000_000, 42)),
        // The last second ext4 can hold (2446-05-10).
        ("y2446", Timestamp::new(i64::from(i32::MIN), 7), Timestamp::new((1 << 34) - 1 + i64::from(i32::MIN), 8)),
    ];
    for (name, atime, mtime) in cases {
        let file = create_file(&root, name, b"x");
        file.set_times(SetTime::At(atime), SetTime::At(mtime)).unwrap();
        let metadata = file.metadata();
        assert_eq!((metadata.atime, metadata.mtime), (atime, mtime), "{name}");
    }
    // Out of range: clamped as Linux's timestamp_truncate does, nanoseconds kept.
    let file = create_file(&root, "clamped", b"x");
    file.set_times(SetTime::At(Timestamp::new(1 << 40, 5)), SetTime::At(Timestamp::new(-(1 << 40), 6))).unwrap();
    let clamped = file.metadata();
    assert_eq!(clamped.atime, Timestamp::new((1 << 34) - 1 + i64::from(i32::MIN), 5));
    assert_eq!(clamped.mtime, Timestamp::new(i64::from(i32::MIN), 6));
    fs.unmount().unwrap();
    tools.fsck_clean(&image);

    let fs = mount(&image, true);
    let root = fs.root().unwrap();
    for (name, atime, mtime) in cases {
        let metadata = walk(&root, name).unwrap().metadata();
        assert_eq!((metadata.atime, metadata.mtime), (atime, mtime), "{name} after remount");
        let stat = tools.debugfs_text(&image, &format!("stat /{name}"));
        assert!(stat.contains(&debugfs_time("atime", atime)), "{name}: {stat}");
        assert!(stat.contains(&debugfs_time("mtime", mtime)), "{name}: {stat}");
    }
}

#[test]
fn small_inodes_keep_whole_seconds() {
    let Some(tools) = Tools::find() else { return };
    let temp = TempDir::new("times-128");
    let image = temp.join("image");
    tools.mkfs(&image, "16M", &["-I", "128"], None);
    let fs = mount(&image, false);
    let root = fs.root().unwrap();
    let file = create_file(&root, "file", b"x");
    // The clock's nanoseconds have nowhere to go.
    assert_eq!(file.metadata().mtime, Timestamp::new(clock().0, 0));
    file.set_times(SetTime::At(Timestamp::new(1_000_000_000, 999)), SetTime::At(Timestamp::new(1 << 33, 5))).unwrap();
    let metadata = file.metadata();
    assert_eq!(metadata.atime, Timestamp::new(1_000_000_000, 0));
    assert_eq!(metadata.mtime, Timestamp::new(i64::from(i32::MAX), 0), "clamped to 2038");
    fs.unmount().unwrap();
    tools.fsck_clean(&image);
    let stat = tools.debugfs_text(&image, "stat /file");
    assert!(stat.contains(&format!("atime: 0x{:08x} ", 1_000_000_000u32)), "{stat}");
}
