//! `open` semantics and open files: creation flags, symlink handling, directories, I/O
//! with offsets and `O_APPEND`, seeking, positional I/O, `getdents`, device nodes, FIFOs.

use std::sync::Arc;
use std::task::Poll;

use abi::Errno;

use super::{fixture, ready, Fixture, Task};
use crate::consts::{SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET};
use crate::{makedev, open_pipe, register_memory_devices, DirEntry, Events, FileType, OpenFlags};

const RDONLY: OpenFlags = OpenFlags::RDONLY;
const WRONLY: OpenFlags = OpenFlags::WRONLY;
const RDWR: OpenFlags = OpenFlags::RDWR;
const CREAT: OpenFlags = OpenFlags::CREAT;

fn assert_send<T: Send>(_: &T) {}

#[test]
fn create_exclusive_and_missing() {
    let f = fixture();
    assert_eq!(f.open("/f", RDONLY).unwrap_err(), Errno::ENOENT);
    let file = f.open("/f", WRONLY | CREAT).unwrap();
    assert_eq!(file.metadata().kind, FileType::Regular);
    assert_eq!(file.metadata().perm, 0o644);
    assert_eq!(f.open("/f", WRONLY | CREAT | OpenFlags::EXCL).unwrap_err(), Errno::EEXIST);
    assert!(f.open("/f", WRONLY | CREAT).is_ok());
    assert_eq!(f.open("/nodir/f", WRONLY | CREAT).unwrap_err(), Errno::ENOENT);
    assert_eq!(f.open("/f/x", WRONLY | CREAT).unwrap_err(), Errno::ENOTDIR);
    assert_eq!(f.open("/new/", WRONLY | CREAT).unwrap_err(), Errno::EISDIR);
    assert_eq!(f.open("/", RDONLY | CREAT).unwrap_err(), Errno::EISDIR);
    assert_eq!(f.open("/f", RDONLY | CREAT | OpenFlags::DIRECTORY).unwrap_err(), Errno::EINVAL);
    assert_eq!(f.open("/f", RDONLY | OpenFlags::TMPFILE).unwrap_err(), Errno::EOPNOTSUPP);
}

#[test]
fn create_through_symlinks() {
    let f = fixture();
    f.mkdir("/d").unwrap();
    f.symlink("/d/target", "/dangling").unwrap();
    // O_CREAT follows a dangling link and creates its target...
    f.open("/dangling", WRONLY | CREAT).unwrap();
    assert_eq!(f.kind("/d/target").unwrap(), FileType::Regular);
    // ...but not with O_EXCL (EEXIST) or O_NOFOLLOW (ELOOP).
    f.symlink("/d/other", "/dangling2").unwrap();
    assert_eq!(f.open("/dangling2", WRONLY | CREAT | OpenFlags::EXCL).unwrap_err(), Errno::EEXIST);
    assert_eq!(f.open("/dangling2", WRONLY | CREAT | OpenFlags::NOFOLLOW).unwrap_err(), Errno::ELOOP);
    assert_eq!(f.resolve("/d/other").unwrap_err(), Errno::ENOENT);
    // Plain opens: follow unless O_NOFOLLOW; O_PATH|O_NOFOLLOW gets the link itself.
    f.write_file("/d/target", b"via link");
    assert_eq!(f.read_file("/dangling"), b"via link");
    assert_eq!(f.open("/dangling", RDONLY | OpenFlags::NOFOLLOW).unwrap_err(), Errno::ELOOP);
    let path = f.open("/dangling", OpenFlags::PATH | OpenFlags::NOFOLLOW).unwrap();
    assert_eq!(path.metadata().kind, FileType::Symlink);
    // A symlink loop under O_CREAT.
    f.symlink("/loop", "/loop").unwrap();
    assert_eq!(f.open("/loop", WRONLY | CREAT).unwrap_err(), Errno::ELOOP);
}

#[test]
fn directories_and_truncation() {
    let f = fixture();
    f.mkdir("/d").unwrap();
    f.write_file("/f", b"contents");
    assert_eq!(f.open("/f", RDONLY | OpenFlags::DIRECTORY).unwrap_err(), Errno::ENOTDIR);
    assert_eq!(f.open("/d", WRONLY).unwrap_err(), Errno::EISDIR);
    assert_eq!(f.open("/d", RDWR).unwrap_err(), Errno::EISDIR);
    assert_eq!(f.open("/d", WRONLY | CREAT).unwrap_err(), Errno::EISDIR);
    let dir = f.open("/d/", RDONLY | OpenFlags::DIRECTORY).unwrap();
    assert_eq!(ready(dir.read(&mut [0; 8])).unwrap_err(), Errno::EISDIR);
    let file = f.open("/f", RDWR).unwrap();
    assert_eq!(file.metadata().size, 8);
    f.open("/f", WRONLY | OpenFlags::TRUNC).unwrap();
    assert_eq!(file.metadata().size, 0);
    // O_PATH files do no I/O.
    let path = f.open("/f", OpenFlags::PATH | RDWR).unwrap();
    assert_eq!(ready(path.read(&mut [0; 1])).unwrap_err(), Errno::EBADF);
    assert_eq!(ready(path.write(b"x")).unwrap_err(), Errno::EBADF);
    assert_eq!(path.read_dir(&mut |_| true).unwrap_err(), Errno::EBADF);
    let mut task = Task::new(std::future::poll_fn(|cx| path.poll_ready(cx, Events::IN)));
    assert_eq!(task.poll(), Poll::Ready(Events::NVAL));
}

#[test]
fn read_write_offsets_and_append() {
    let f = fixture();
    let file = f.open("/f", RDWR | CREAT).unwrap();
    assert_eq!(ready(file.write(b"hello world")).unwrap(), 11);
    assert_eq!(file.offset(), 11);
    assert_eq!(file.seek(0, SEEK_SET).unwrap(), 0);
    let mut buf = [0u8; 5];
    assert_eq!(ready(file.read(&mut buf)).unwrap(), 5);
    assert_eq!(&buf, b"hello");
    assert_eq!(ready(file.read(&mut buf)).unwrap(), 5);
    assert_eq!(&buf, b" worl");
    assert_eq!(ready(file.read(&mut buf)).unwrap(), 1);
    assert_eq!(ready(file.read(&mut buf)).unwrap(), 0);
    // Access modes.
    let read_only = f.open("/f", RDONLY).unwrap();
    assert_eq!(ready(read_only.write(b"x")).unwrap_err(), Errno::EBADF);
    let write_only = f.open("/f", WRONLY).unwrap();
    assert_eq!(ready(write_only.read(&mut buf)).unwrap_err(), Errno::EBADF);
    // O_APPEND always writes at the end, whatever the offset.
    let appender = f.open("/f", WRONLY | OpenFlags::APPEND).unwrap();
    appender.seek(0, SEEK_SET).unwrap();
    ready(appender.write(b"!")).unwrap();
    assert_eq!(appender.offset(), 12);
    ready(write_only.write(b"J")).unwrap();
    assert_eq!(f.read_file("/f"), b"Jello world!");
    // fcntl(F_SETFL) changes status flags only.
    appender.set_status_flags(OpenFlags::NONBLOCK | RDWR);
    assert_eq!(appender.flags().access_mode(), WRONLY.access_mode());
    assert!(appender.flags().contains(OpenFlags::NONBLOCK));
    assert!(!appender.flags().contains(OpenFlags::APPEND));
    assert!(appender.flags().contains(OpenFlags::LARGEFILE));
    assert!(!f.open("/f", RDONLY | OpenFlags::CLOEXEC).unwrap().flags().contains(OpenFlags::CLOEXEC));
    // ftruncate needs a writable file.
    assert_eq!(read_only.truncate(1).unwrap_err(), Errno::EINVAL);
    assert_eq!(write_only.truncate(-1).unwrap_err(), Errno::EINVAL);
    write_only.truncate(5).unwrap();
    assert_eq!(f.read_file("/f"), b"Jello");
    // The futures can move between harts.
    let read = read_only.read(&mut buf);
    assert_send(&read);
    drop(read);
    let open = f.vfs.open(&f.root, &f.root, b"/f", RDONLY, 0);
    assert_send(&open);
}

#[test]
fn seek_rules() {
    let f = fixture();
    f.write_file("/f", b"0123456789");
    let file = f.open("/f", RDONLY).unwrap();
    assert_eq!(file.seek(3, SEEK_SET).unwrap(), 3);
    assert_eq!(file.seek(2, SEEK_CUR).unwrap(), 5);
    assert_eq!(file.seek(-1, SEEK_CUR).unwrap(), 4);
    assert_eq!(file.seek(-2, SEEK_END).unwrap(), 8);
    assert_eq!(file.seek(100, SEEK_END).unwrap(), 110);
    assert_eq!(file.seek(-1, SEEK_SET).unwrap_err(), Errno::EINVAL);
    assert_eq!(file.seek(-11, SEEK_END).unwrap_err(), Errno::EINVAL);
    assert_eq!(file.seek(0, 99).unwrap_err(), Errno::EINVAL);
    assert_eq!(file.seek(i64::MAX, SEEK_END).unwrap_err(), Errno::EINVAL);
    assert_eq!(file.offset(), 110, "failed seeks leave the offset");
    assert_eq!(file.seek(4, SEEK_DATA).unwrap(), 4);
    assert_eq!(file.seek(4, SEEK_HOLE).unwrap(), 10);
    assert_eq!(file.seek(10, SEEK_DATA).unwrap_err(), Errno::ENXIO);
    let dir = f.open("/", RDONLY).unwrap();
    assert_eq!(dir.seek(0, SEEK_END).unwrap_err(), Errno::EINVAL);
    assert_eq!(dir.seek(0, SEEK_SET).unwrap(), 0);
    let (reader, _writer) = open_pipe(OpenFlags::RDONLY);
    assert_eq!(reader.seek(0, SEEK_SET).unwrap_err(), Errno::ESPIPE);
    assert_eq!(ready(reader.pread(&mut [0; 1], 0)).unwrap_err(), Errno::ESPIPE);
    assert_eq!(ready(reader.pread(&mut [0; 1], -1)).unwrap_err(), Errno::EINVAL);
}

#[test]
fn positional_io_keeps_the_offset() {
    let f = fixture();
    let file = f.open("/f", RDWR | CREAT).unwrap();
    ready(file.write(b"abcdef")).unwrap();
    file.seek(1, SEEK_SET).unwrap();
    let mut buf = [0u8; 3];
    assert_eq!(ready(file.pread(&mut buf, 3)).unwrap(), 3);
    assert_eq!(&buf, b"def");
    assert_eq!(ready(file.pwrite(b"XY", 10)).unwrap(), 2);
    assert_eq!(file.offset(), 1);
    assert_eq!(file.metadata().size, 12);
    assert_eq!(ready(file.pread(&mut buf, 6)).unwrap(), 3);
    assert_eq!(&buf, b"\0\0\0");
    assert_eq!(ready(file.pread(&mut buf, -5)).unwrap_err(), Errno::EINVAL);
    // With O_APPEND, Linux's pwrite appends anyway.
    let appender = f.open("/f", WRONLY | OpenFlags::APPEND).unwrap();
    ready(appender.pwrite(b"Z", 0)).unwrap();
    assert_eq!(f.read_file("/f"), b"abcdef\0\0\0\0XYZ");
    let read_only = f.open("/f", RDONLY).unwrap();
    assert_eq!(ready(read_only.pwrite(b"x", 0)).unwrap_err(), Errno::EBADF);
}

#[test]
fn getdents_continues_from_the_file_offset() {
    let f = fixture();
    f.mkdir("/d").unwrap();
    for name in ["a", "b", "c", "d"] {
        f.write_file(&format!("/d/{name}"), b"");
    }
    let dir = f.open("/d", RDONLY | OpenFlags::DIRECTORY).unwrap();
    let mut seen: Vec<Vec<u8>> = Vec::new();
    // A "buffer" of three entries per call.
    loop {
        let mut batch: Vec<DirEntry> = Vec::new();
        dir.read_dir(&mut |entry| {
            if batch.len() == 3 {
                return false;
            }
            batch.push(entry.clone());
            true
        })
        .unwrap();
        if batch.is_empty() {
            break;
        }
        seen.extend(batch.into_iter().map(|entry| entry.name));
    }
    assert_eq!(seen, [&b"."[..], b"..", b"a", b"b", b"c", b"d"]);
    // Rewinding starts over.
    dir.seek(0, SEEK_SET).unwrap();
    let mut first = None;
    dir.read_dir(&mut |entry| {
        first = Some(entry.name.clone());
        false
    })
    .unwrap();
    assert_eq!(first.unwrap(), b".");
    assert_eq!(dir.offset(), 0, "an entry that did not fit is not consumed");
    let file = f.open("/d/a", RDONLY).unwrap();
    assert_eq!(file.read_dir(&mut |_| true).unwrap_err(), Errno::ENOTDIR);
}

fn fill_with_sevens(buf: &mut [u8]) {
    buf.fill(7);
}

fn with_devices() -> Fixture {
    let f = fixture();
    register_memory_devices(&f.devices, fill_with_sevens).unwrap();
    f.mkdir("/dev").unwrap();
    for (name, minor) in [("null", 3), ("zero", 5), ("full", 7), ("random", 8), ("urandom", 9)] {
        f.vfs
            .mknod(&f.root, &f.root, format!("/dev/{name}").as_bytes(), FileType::CharDevice, 0o666, makedev(1, minor))
            .unwrap();
    }
    f
}

#[test]
fn memory_devices_through_nodes() {
    let f = with_devices();
    let mut buf = [1u8; 16];
    let null = f.open("/dev/null", RDWR).unwrap();
    assert_eq!(ready(null.read(&mut buf)).unwrap(), 0);
    assert_eq!(ready(null.write(b"gone")).unwrap(), 4);
    // fstat shows the node, not the driver.
    let meta = null.metadata();
    assert_eq!((meta.kind, meta.rdev, meta.dev), (FileType::CharDevice, makedev(1, 3), 0x10));
    assert_eq!(meta.ino, f.resolve("/dev/null").unwrap().inode().ino());
    let zero = f.open("/dev/zero", RDWR).unwrap();
    assert_eq!(ready(zero.read(&mut buf)).unwrap(), 16);
    assert_eq!(buf, [0; 16]);
    assert_eq!(ready(zero.write(b"x")).unwrap(), 1);
    let full = f.open("/dev/full", RDWR).unwrap();
    assert_eq!(ready(full.write(b"x")).unwrap_err(), Errno::ENOSPC);
    assert_eq!(ready(full.read(&mut buf[..4])).unwrap(), 4);
    for path in ["/dev/random", "/dev/urandom"] {
        let random = f.open(path, RDONLY).unwrap();
        assert_eq!(ready(random.read(&mut buf)).unwrap(), 16);
        assert_eq!(buf, [7; 16]);
    }
    // A node with no registered driver is ENXIO; so is a socket node.
    f.vfs.mknod(&f.root, &f.root, b"/dev/nothing", FileType::CharDevice, 0o600, makedev(250, 0)).unwrap();
    assert_eq!(f.open("/dev/nothing", RDONLY).unwrap_err(), Errno::ENXIO);
    f.vfs.mknod(&f.root, &f.root, b"/dev/sock", FileType::Socket, 0o600, 0).unwrap();
    assert_eq!(f.open("/dev/sock", RDONLY).unwrap_err(), Errno::ENXIO);
    assert_eq!(f.vfs.mknod(&f.root, &f.root, b"/dev/d", FileType::Directory, 0o700, 0).unwrap_err(), Errno::EPERM);
    assert_eq!(f.vfs.mknod(&f.root, &f.root, b"/dev/null", FileType::Fifo, 0o600, 0).unwrap_err(), Errno::EEXIST);
    assert_eq!(f.devices.register(FileType::CharDevice, 1, 3, Arc::new(crate::NullDevice)).unwrap_err(), Errno::EBUSY);
    assert_eq!(f.devices.register(FileType::Regular, 1, 3, Arc::new(crate::NullDevice)).unwrap_err(), Errno::EINVAL);
}

#[test]
fn fifo_open_waits_for_the_other_side() {
    let f = fixture();
    f.vfs.mknod(&f.root, &f.root, b"/fifo", FileType::Fifo, 0o644, 0).unwrap();
    // Non-blocking: a reader opens at once, a writer without a reader is ENXIO.
    assert_eq!(f.open("/fifo", WRONLY | OpenFlags::NONBLOCK).unwrap_err(), Errno::ENXIO);
    let early_reader = f.open("/fifo", RDONLY | OpenFlags::NONBLOCK).unwrap();
    assert_eq!(ready(early_reader.read(&mut [0; 4])).unwrap(), 0, "no writer: end of file");
    drop(early_reader);
    // Blocking reader waits for a writer.
    let mut reader_open = Task::new(f.vfs.open(&f.root, &f.root, b"/fifo", RDONLY, 0));
    assert!(reader_open.poll().is_pending());
    assert!(reader_open.poll().is_pending());
    assert_eq!(reader_open.wakes(), 0);
    let writer = f.open("/fifo", WRONLY).unwrap();
    assert!(reader_open.wakes() > 0, "opening the writer wakes the waiting reader");
    let Poll::Ready(reader) = reader_open.poll() else { panic!("reader should open now") };
    let reader = reader.unwrap();
    assert_eq!(ready(writer.write(b"through the fifo")).unwrap(), 16);
    let mut buf = [0u8; 32];
    assert_eq!(ready(reader.read(&mut buf)).unwrap(), 16);
    assert_eq!(&buf[..16], b"through the fifo");
    // fstat shows the FIFO node; lseek is ESPIPE.
    assert_eq!(reader.metadata().ino, f.resolve("/fifo").unwrap().inode().ino());
    assert_eq!(reader.seek(0, SEEK_SET).unwrap_err(), Errno::ESPIPE);
    drop(writer);
    assert_eq!(ready(reader.read(&mut buf)).unwrap(), 0);
    // A blocking writer waits for a reader; O_RDWR never waits.
    let mut writer_open = Task::new(f.vfs.open(&f.root, &f.root, b"/fifo", WRONLY, 0));
    drop(reader);
    assert!(writer_open.poll().is_pending());
    let both = f.open("/fifo", RDWR).unwrap();
    assert!(writer_open.wakes() > 0);
    assert!(matches!(writer_open.poll(), Poll::Ready(Ok(_))));
    ready(both.write(b"x")).unwrap();
    assert_eq!(ready(both.read(&mut buf)).unwrap(), 1);
}

#[test]
fn opened_files_know_their_path() {
    let f = fixture();
    f.mkdir("/dir").unwrap();
    let file = f.open("/dir/new", WRONLY | CREAT).unwrap();
    assert_eq!(file.location().unwrap().path().unwrap(), b"/dir/new");
    let dir = f.open("/dir/.", RDONLY).unwrap();
    assert_eq!(dir.location().unwrap().path().unwrap(), b"/dir");
    let (reader, _) = open_pipe(OpenFlags::RDONLY);
    assert!(reader.location().is_none());
}
