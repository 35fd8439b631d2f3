//! newc parsing and initramfs unpacking, with archives built by a small writer: every
//! entry type, hard links, concatenated archives, symlinked directories, replacement of
//! existing entries, and malformed input (every truncation, garbage) never panicking.

use std::sync::Arc;

use abi::Errno;

use super::{fixture, names, test_clock};
use crate::cpio::{unpack, unpack_into, CpioErrorKind, CpioReader};
use crate::{major, minor, DeviceRegistry, FileType, Inode, Timestamp, TmpFs};

/// Builds newc archives the way `gen_init_cpio` does.
#[derive(Default)]
struct Writer {
    bytes: Vec<u8>,
    next_ino: u32,
}

struct Entry<'a> {
    name: &'a str,
    mode: u32,
    data: &'a [u8],
    nlink: u32,
    ino: Option<u32>,
    rdev: (u32, u32),
    uid: u32,
    gid: u32,
    mtime: u32,
}

fn entry<'a>(name: &'a str, mode: u32, data: &'a [u8]) -> Entry<'a> {
    Entry { name, mode, data, nlink: 1, ino: None, rdev: (0, 0), uid: 0, gid: 0, mtime: 1_700_000_000 }
}

impl Writer {
    fn add(&mut self, entry: Entry<'_>) -> &mut Self {
        self.next_ino += 1;
        let ino = entry.ino.unwrap_or(self.next_ino);
        let fields = [
            ino,
            entry.mode,
            entry.uid,
            entry.gid,
            entry.nlink,
            entry.mtime,
            entry.data.len() as u32,
            3,
            1,
            entry.rdev.0,
            entry.rdev.1,
            entry.name.len() as u32 + 1,
            0,
        ];
        self.bytes.extend_from_slice(b"070701");
        for field in fields {
            self.bytes.extend_from_slice(format!("{field:08X}").as_bytes());
        }
        self.bytes.extend_from_slice(entry.name.as_bytes());
        self.bytes.push(0);
        self.pad();
        self.bytes.extend_from_slice(entry.data);
        self.pad();
        self
    }

    fn pad(&mut self) {
        while !self.bytes.len().is_multiple_of(4) {
            self.bytes.push(0);
        }
    }

    fn finish(&mut self) -> Vec<u8> {
        self.add(entry("TRAILER!!!", 0, b""));
        std::mem::take(&mut self.bytes)
    }
}

fn sample_archive() -> Vec<u8> {
    let mut writer = Writer::default();
    writer
        .add(Entry { uid: 0, mtime: 42, ..entry(".", 0o040755, b"") })
        .add(entry("bin", 0o040755, b""))
        .add(Entry { uid: 1000, gid: 100, mtime: 1234, ..entry("bin/busybox", 0o100755, b"\x7fELF fake busybox") })
        .add(entry("bin/sh", 0o120777, b"busybox"))
        .add(entry("./etc/deep/nested/file", 0o100600, b"made parents")) // no directory entries for its parents
        .add(Entry { rdev: (5, 1), ..entry("dev/console", 0o020600, b"") })
        .add(Entry { rdev: (8, 0), ..entry("dev/sda", 0o060660, b"") })
        .add(entry("run/fifo", 0o010644, b""))
        .add(entry("run/socket", 0o140755, b""))
        .add(Entry { nlink: 2, ino: Some(500), ..entry("usr/a", 0o100644, b"") })
        .add(Entry { nlink: 2, ino: Some(500), ..entry("usr/b", 0o100644, b"linked data") })
        .add(entry("/absolute", 0o100644, b"leading slash"))
        .add(Entry { mtime: 77, ..entry("late", 0o040700, b"") })
        .add(entry("late/child", 0o100644, b""));
    writer.finish()
}

fn new_root() -> Arc<dyn Inode> {
    TmpFs::new(1, test_clock, Arc::new(DeviceRegistry::new())).root()
}

fn lookup(root: &Arc<dyn Inode>, path: &str) -> Arc<dyn Inode> {
    path.split('/').fold(root.clone(), |dir, name| dir.lookup(name.as_bytes()).unwrap())
}

fn contents(inode: &Arc<dyn Inode>) -> Vec<u8> {
    let mut buf = vec![0u8; inode.metadata().size as usize];
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let std::task::Poll::Ready(Ok(count)) = inode.poll_read_at(&mut cx, 0, &mut buf) else { panic!() };
    assert_eq!(count, buf.len());
    buf
}

#[test]
fn reader_yields_entries() {
    let archive = sample_archive();
    let entries: Vec<_> = CpioReader::new(&archive).collect::<Result<_, _>>().unwrap();
    assert_eq!(entries.len(), 14);
    assert_eq!(entries[0].name, b".");
    assert_eq!(entries[2].name, b"bin/busybox");
    assert_eq!(entries[2].data, b"\x7fELF fake busybox");
    assert_eq!((entries[2].uid, entries[2].gid, entries[2].mtime, entries[2].mode), (1000, 100, 1234, 0o100755));
    assert_eq!((entries[5].rdev_major, entries[5].rdev_minor), (5, 1));
    assert_eq!(entries[0].offset, 0);
    assert!(entries.windows(2).all(|pair| pair[0].offset < pair[1].offset && pair[1].offset % 4 == 0));
    assert_eq!(CpioReader::new(b"").count(), 0);
}

#[test]
fn unpack_creates_every_kind_with_attributes() {
    let root = new_root();
    let stats = unpack_into(&sample_archive(), root.clone()).unwrap();
    assert_eq!(
        (stats.directories, stats.files, stats.symlinks, stats.nodes, stats.hard_links),
        (3, 5, 1, 4, 1)
    );
    assert_eq!(names(&*root), ["absolute", "bin", "dev", "etc", "late", "run", "usr"]);
    let busybox = lookup(&root, "bin/busybox");
    let meta = busybox.metadata();
    assert_eq!((meta.kind, meta.perm, meta.uid, meta.gid), (FileType::Regular, 0o755, 1000, 100));
    assert_eq!(meta.mtime, Timestamp::new(1234, 0));
    assert_eq!(contents(&busybox), b"\x7fELF fake busybox");
    assert_eq!(lookup(&root, "bin/sh").readlink().unwrap(), b"busybox");
    assert_eq!(contents(&lookup(&root, "etc/deep/nested/file")), b"made parents");
    assert_eq!(lookup(&root, "etc/deep").metadata().perm, 0o755);
    let console = lookup(&root, "dev/console").metadata();
    assert_eq!((console.kind, major(console.rdev), minor(console.rdev), console.perm), (FileType::CharDevice, 5, 1, 0o600));
    assert_eq!(lookup(&root, "dev/sda").kind(), FileType::BlockDevice);
    assert_eq!(lookup(&root, "run/fifo").kind(), FileType::Fifo);
    assert_eq!(lookup(&root, "run/socket").kind(), FileType::Socket);
    let (a, b) = (lookup(&root, "usr/a"), lookup(&root, "usr/b"));
    assert_eq!(a.ino(), b.ino());
    assert_eq!(a.metadata().nlink, 2);
    assert_eq!(contents(&a), b"linked data");
    assert_eq!(contents(&lookup(&root, "absolute")), b"leading slash");
    // Directory times are applied after their contents were created.
    assert_eq!(root.metadata().mtime, Timestamp::new(42, 0));
    let late = lookup(&root, "late").metadata();
    assert_eq!((late.mtime, late.perm), (Timestamp::new(77, 0), 0o700));
}

#[test]
fn concatenated_archives_and_padding() {
    let mut first = Writer::default();
    first.add(entry("one", 0o100644, b"1"));
    let mut archive = first.finish();
    archive.extend_from_slice(&[0u8; 512]);
    let mut second = Writer::default();
    second.add(entry("two", 0o100644, b"22")).add(entry("one", 0o100644, b"replaced"));
    archive.extend(second.finish());
    archive.extend_from_slice(&[0u8; 3]);
    let root = new_root();
    unpack_into(&archive, root.clone()).unwrap();
    assert_eq!(contents(&lookup(&root, "two")), b"22");
    assert_eq!(contents(&lookup(&root, "one")), b"replaced");
}

#[test]
fn symlinked_directories_are_followed_and_types_replaced() {
    let mut writer = Writer::default();
    writer
        .add(entry("usr/bin", 0o040755, b""))
        .add(entry("bin", 0o120777, b"usr/bin"))
        .add(entry("bin/true", 0o100755, b"t"))
        .add(entry("thing", 0o040755, b""))
        .add(entry("thing", 0o100644, b"now a file"))
        .add(entry("other", 0o100644, b"file first"))
        .add(entry("other", 0o040755, b""))
        .add(entry("other/x", 0o100644, b""));
    let f = fixture();
    unpack(&writer.finish(), &f.vfs, &f.root).unwrap();
    assert_eq!(f.read_file("/usr/bin/true"), b"t");
    assert_eq!(f.kind("/bin").unwrap(), FileType::Symlink);
    assert_eq!(f.read_file("/thing"), b"now a file");
    assert_eq!(f.kind("/other/x").unwrap(), FileType::Regular);
}

#[test]
fn bad_entries_are_reported_with_offsets() {
    let mut writer = Writer::default();
    writer.add(entry("ok", 0o100644, b"")).add(entry("../escape", 0o100644, b""));
    let archive = writer.finish();
    let error = unpack_into(&archive, new_root()).unwrap_err();
    assert_eq!(error.kind, CpioErrorKind::BadName("has a .. component"));
    assert_eq!(error.offset, 116, "the second header: 110 + \"ok\\0\" padded to 4");
    let mut writer = Writer::default();
    writer.add(entry("weird", 0o170644, b""));
    assert_eq!(unpack_into(&writer.finish(), new_root()).unwrap_err().kind, CpioErrorKind::BadFileType(0o170644));
    // A file where a directory is needed.
    let mut writer = Writer::default();
    writer.add(entry("f", 0o100644, b"")).add(entry("f/g", 0o100644, b""));
    assert_eq!(unpack_into(&writer.finish(), new_root()).unwrap_err().kind, CpioErrorKind::Fs(Errno::ENOTDIR));
    // The message says where and why.
    assert!(error.to_string().contains("at byte 116"));
}

#[test]
fn malformed_headers() {
    let archive = sample_archive();
    let mut bad_magic = archive.clone();
    bad_magic[5] = b'7';
    assert_eq!(CpioReader::new(&bad_magic).next().unwrap().unwrap_err().kind, CpioErrorKind::BadMagic);
    let mut bad_hex = archive.clone();
    bad_hex[6 + 8] = b'G'; // the mode field
    assert_eq!(CpioReader::new(&bad_hex).next().unwrap().unwrap_err().kind, CpioErrorKind::BadHexField("mode"));
    let mut no_nul = archive.clone();
    no_nul[110 + 1] = b'x'; // the NUL after "."
    assert!(matches!(CpioReader::new(&no_nul).next().unwrap().unwrap_err().kind, CpioErrorKind::BadName(_)));
    let mut huge_file = archive.clone();
    huge_file[6 + 6 * 8..6 + 7 * 8].copy_from_slice(b"FFFFFFFF");
    assert_eq!(CpioReader::new(&huge_file).next().unwrap().unwrap_err().kind, CpioErrorKind::Truncated("data"));
    let mut zero_name = archive.clone();
    zero_name[6 + 11 * 8..6 + 12 * 8].copy_from_slice(b"00000000");
    assert!(matches!(CpioReader::new(&zero_name).next().unwrap().unwrap_err().kind, CpioErrorKind::BadName(_)));
    // Garbage after the trailer is an error, zeros are not.
    let mut trailing = archive.clone();
    trailing.extend_from_slice(b"\0\0\0\0junk");
    assert!(unpack_into(&trailing, new_root()).is_err());
}

#[test]
fn every_truncation_is_an_error_never_a_panic() {
    let archive = sample_archive();
    for length in 1..archive.len() {
        let result = unpack_into(&archive[..length], new_root());
        // Cutting only the final alignment padding of the trailer leaves a whole archive.
        let trailer_complete = length >= archive.len() - 3 && archive[length..].iter().all(|&byte| byte == 0);
        assert_eq!(result.is_ok(), trailer_complete, "length {length}: {result:?}");
        if let Err(error) = result {
            assert!(error.offset <= length, "length {length}: {error}");
        }
    }
}

#[test]
fn garbage_never_panics() {
    let archive = sample_archive();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..400 {
        let mut mutated = archive.clone();
        for _ in 0..1 + round % 8 {
            let position = next() as usize % mutated.len();
            mutated[position] = match next() % 4 {
                0 => b'F',
                1 => 0,
                2 => b'/',
                _ => next() as u8,
            };
        }
        let _ = unpack_into(&mutated, new_root());
    }
    for length in [0usize, 1, 5, 109, 110, 200] {
        let noise: Vec<u8> = (0..length).map(|_| next() as u8).collect();
        let result = unpack_into(&noise, new_root());
        assert!(length == 0 || result.is_err());
    }
}
