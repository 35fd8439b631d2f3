//! tmpfs operations and their errnos against Linux: creation, removal, hard links and
//! link counts, every rename case, directory reading with stable offsets, sparse files,
//! attributes and times, and the trait's default errnos.

use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use abi::Errno;

use super::{fixture, names, test_clock, Fixture};
use crate::consts::{RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT};
use crate::{
    read_dir_all, DeviceRegistry, DirEntry, Events, FileType, Inode, Metadata, OpenFlags, SetTime, Timestamp, TmpFs,
};

fn rename(f: &Fixture, old: &str, new: &str, flags: u32) -> abi::Result<()> {
    f.vfs.rename(&f.root, &f.root, old.as_bytes(), &f.root, new.as_bytes(), flags)
}

fn rmdir(f: &Fixture, path: &str) -> abi::Result<()> {
    f.vfs.rmdir(&f.root, &f.root, path.as_bytes())
}

fn unlink(f: &Fixture, path: &str) -> abi::Result<()> {
    f.vfs.unlink(&f.root, &f.root, path.as_bytes())
}

fn link(f: &Fixture, old: &str, new: &str) -> abi::Result<()> {
    f.vfs.link(&f.root, &f.root, old.as_bytes(), &f.root, new.as_bytes(), false)
}

#[test]
fn mkdir_rmdir_unlink_errnos() {
    let f = fixture();
    f.mkdir("/d").unwrap();
    assert_eq!(f.mkdir("/d").unwrap_err(), Errno::EEXIST);
    assert_eq!(f.mkdir("/").unwrap_err(), Errno::EEXIST);
    assert_eq!(f.mkdir("/d/.").unwrap_err(), Errno::EEXIST);
    assert_eq!(f.mkdir("/d/..").unwrap_err(), Errno::EEXIST);
    assert_eq!(f.mkdir("/missing/x").unwrap_err(), Errno::ENOENT);
    f.mkdir("/e/").unwrap(); // mkdir accepts a trailing slash
    f.write_file("/d/file", b"x");
    assert_eq!(f.mkdir("/d/file").unwrap_err(), Errno::EEXIST);
    assert_eq!(f.mkdir("/d/file/x").unwrap_err(), Errno::ENOTDIR);
    assert_eq!(rmdir(&f, "/d").unwrap_err(), Errno::ENOTEMPTY);
    assert_eq!(rmdir(&f, "/d/file").unwrap_err(), Errno::ENOTDIR);
    assert_eq!(rmdir(&f, "/d/.").unwrap_err(), Errno::EINVAL);
    assert_eq!(rmdir(&f, "/d/..").unwrap_err(), Errno::ENOTEMPTY);
    assert_eq!(rmdir(&f, "/").unwrap_err(), Errno::EBUSY);
    assert_eq!(rmdir(&f, "/nope").unwrap_err(), Errno::ENOENT);
    assert_eq!(unlink(&f, "/d").unwrap_err(), Errno::EISDIR);
    assert_eq!(unlink(&f, "/d/.").unwrap_err(), Errno::EISDIR);
    assert_eq!(unlink(&f, "/d/file/").unwrap_err(), Errno::ENOTDIR);
    assert_eq!(unlink(&f, "/d/nope").unwrap_err(), Errno::ENOENT);
    unlink(&f, "/d/file").unwrap();
    assert_eq!(f.resolve("/d/file").unwrap_err(), Errno::ENOENT);
    rmdir(&f, "/d").unwrap();
    rmdir(&f, "/e/").unwrap();
    assert!(names(&**f.root.inode()).is_empty());
}

#[test]
fn directory_link_counts() {
    let f = fixture();
    assert_eq!(f.nlink("/"), 2);
    f.mkdir("/a").unwrap();
    f.mkdir("/b").unwrap();
    assert_eq!(f.nlink("/"), 4);
    f.mkdir("/a/x").unwrap();
    f.mkdir("/a/y").unwrap();
    f.write_file("/a/file", b"");
    assert_eq!(f.nlink("/a"), 4);
    assert_eq!(f.nlink("/a/x"), 2);
    // Moving a directory moves its ".." link.
    rename(&f, "/a/x", "/b/x", 0).unwrap();
    assert_eq!((f.nlink("/a"), f.nlink("/b")), (3, 3));
    // Moving a file changes no directory's count.
    rename(&f, "/a/file", "/b/file", 0).unwrap();
    assert_eq!((f.nlink("/a"), f.nlink("/b")), (3, 3));
    let removed = f.resolve("/a/y").unwrap();
    rmdir(&f, "/a/y").unwrap();
    assert_eq!(f.nlink("/a"), 2);
    assert_eq!(removed.inode().metadata().nlink, 0);
    // `..` of a moved directory is its new parent.
    assert_eq!(f.resolve("/b/x/..").unwrap().inode().ino(), f.resolve("/b").unwrap().inode().ino());
}

#[test]
fn hard_links() {
    let f = fixture();
    f.mkdir("/d").unwrap();
    f.write_file("/f", b"shared");
    link(&f, "/f", "/d/g").unwrap();
    assert_eq!(f.nlink("/f"), 2);
    assert_eq!(f.resolve("/f").unwrap().inode().ino(), f.resolve("/d/g").unwrap().inode().ino());
    assert_eq!(f.read_file("/d/g"), b"shared");
    assert_eq!(link(&f, "/f", "/d/g").unwrap_err(), Errno::EEXIST);
    assert_eq!(link(&f, "/d", "/d2").unwrap_err(), Errno::EPERM);
    assert_eq!(link(&f, "/nope", "/x").unwrap_err(), Errno::ENOENT);
    assert_eq!(link(&f, "/f", "/d/.").unwrap_err(), Errno::EEXIST);
    assert_eq!(link(&f, "/f", "/new/").unwrap_err(), Errno::ENOENT);
    assert_eq!(link(&f, "/f", "/d/g/").unwrap_err(), Errno::EEXIST);
    unlink(&f, "/f").unwrap();
    assert_eq!(f.nlink("/d/g"), 1);
    assert_eq!(f.read_file("/d/g"), b"shared");
    // A symlink is linked itself, not its target (linkat without AT_SYMLINK_FOLLOW).
    f.symlink("/d/g", "/s").unwrap();
    link(&f, "/s", "/s2").unwrap();
    assert_eq!(f.kind("/s2").unwrap(), FileType::Symlink);
    f.vfs.link(&f.root, &f.root, b"/s", &f.root, b"/s3", true).unwrap();
    assert_eq!(f.kind("/s3").unwrap(), FileType::Regular);
    assert_eq!(f.nlink("/d/g"), 2);
    // Linking an unlinked (but still open) file fails.
    let detached = f.resolve("/d/g").unwrap();
    unlink(&f, "/d/g").unwrap();
    unlink(&f, "/s3").unwrap();
    assert_eq!(f.resolve("/d").unwrap().inode().link(b"again", detached.inode()).unwrap_err(), Errno::ENOENT);
}

#[test]
fn rename_replacement_rules() {
    let f = fixture();
    for dir in ["/d1", "/d2", "/full", "/full/inner"] {
        f.mkdir(dir).unwrap();
    }
    f.write_file("/f1", b"one");
    f.write_file("/f2", b"two");
    // File over file: the old target loses a link.
    let replaced = f.resolve("/f2").unwrap();
    rename(&f, "/f1", "/f2", 0).unwrap();
    assert_eq!(f.read_file("/f2"), b"one");
    assert_eq!(f.resolve("/f1").unwrap_err(), Errno::ENOENT);
    assert_eq!(replaced.inode().metadata().nlink, 0);
    // Directory over an empty directory.
    let root_links = f.nlink("/");
    rename(&f, "/d1", "/d2", 0).unwrap();
    assert_eq!(f.resolve("/d1").unwrap_err(), Errno::ENOENT);
    assert_eq!(f.nlink("/"), root_links - 1);
    f.mkdir("/d1").unwrap();
    assert_eq!(rename(&f, "/d1", "/full", 0).unwrap_err(), Errno::ENOTEMPTY);
    assert_eq!(rename(&f, "/d1", "/f2", 0).unwrap_err(), Errno::ENOTDIR);
    assert_eq!(rename(&f, "/f2", "/d1", 0).unwrap_err(), Errno::EISDIR);
    // Into itself or below itself.
    assert_eq!(rename(&f, "/full", "/full/inner/x", 0).unwrap_err(), Errno::EINVAL);
    assert_eq!(rename(&f, "/full", "/full/x", 0).unwrap_err(), Errno::EINVAL);
    // Onto an ancestor of itself.
    assert_eq!(rename(&f, "/full/inner", "/full", 0).unwrap_err(), Errno::ENOTEMPTY);
    // Same inode (itself, or another hard link): nothing happens.
    rename(&f, "/f2", "/f2", 0).unwrap();
    link(&f, "/f2", "/f3").unwrap();
    rename(&f, "/f2", "/f3", 0).unwrap();
    assert!(f.resolve("/f2").is_ok() && f.resolve("/f3").is_ok());
    assert_eq!(rename(&f, "/missing", "/x", 0).unwrap_err(), Errno::ENOENT);
    assert_eq!(rename(&f, "/f2", "/missing/x", 0).unwrap_err(), Errno::ENOENT);
    assert_eq!(rename(&f, "/f2/", "/x", 0).unwrap_err(), Errno::ENOTDIR);
    assert_eq!(rename(&f, "/f2", "/x/", 0).unwrap_err(), Errno::ENOTDIR);
    assert_eq!(rename(&f, "/.", "/x", 0).unwrap_err(), Errno::EBUSY);
    assert_eq!(rename(&f, "/f2", "/d1/..", 0).unwrap_err(), Errno::EBUSY);
    assert_eq!(rename(&f, "/f2", "/d1/..", RENAME_NOREPLACE).unwrap_err(), Errno::EEXIST);
    assert_eq!(rename(&f, "/", "/x", 0).unwrap_err(), Errno::EBUSY);
    // A directory with a trailing slash moves fine.
    rename(&f, "/d1/", "/d3/", 0).unwrap();
    assert_eq!(f.kind("/d3").unwrap(), FileType::Directory);
}

#[test]
fn rename_flags() {
    let f = fixture();
    f.mkdir("/dir").unwrap();
    f.mkdir("/dir/sub").unwrap();
    f.mkdir("/other").unwrap();
    f.write_file("/file", b"f");
    f.write_file("/file2", b"g");
    assert_eq!(rename(&f, "/file", "/file2", RENAME_NOREPLACE).unwrap_err(), Errno::EEXIST);
    rename(&f, "/file", "/fresh", RENAME_NOREPLACE).unwrap();
    assert_eq!(rename(&f, "/fresh", "/file", RENAME_EXCHANGE | RENAME_NOREPLACE).unwrap_err(), Errno::EINVAL);
    assert_eq!(rename(&f, "/fresh", "/file", RENAME_WHITEOUT).unwrap_err(), Errno::EINVAL);
    assert_eq!(rename(&f, "/fresh", "/file", 0x80).unwrap_err(), Errno::EINVAL);
    assert_eq!(rename(&f, "/fresh", "/missing", RENAME_EXCHANGE).unwrap_err(), Errno::ENOENT);
    // Exchange a file in / with a directory in /other: both move, counts follow.
    f.mkdir("/other/d").unwrap();
    let (root_links, other_links) = (f.nlink("/"), f.nlink("/other"));
    rename(&f, "/fresh", "/other/d", RENAME_EXCHANGE).unwrap();
    assert_eq!(f.kind("/fresh").unwrap(), FileType::Directory);
    assert_eq!(f.read_file("/other/d"), b"f");
    assert_eq!((f.nlink("/"), f.nlink("/other")), (root_links + 1, other_links - 1));
    assert_eq!(f.resolve("/fresh/..").unwrap().inode().ino(), f.root.inode().ino());
    // Exchange cannot put a directory below itself.
    assert_eq!(rename(&f, "/dir", "/dir/sub", RENAME_EXCHANGE).unwrap_err(), Errno::EINVAL);
    assert_eq!(rename(&f, "/dir/sub", "/dir", RENAME_EXCHANGE).unwrap_err(), Errno::EINVAL);
    // Same-directory exchange.
    rename(&f, "/file2", "/dir", RENAME_EXCHANGE).unwrap();
    assert_eq!(f.kind("/file2").unwrap(), FileType::Directory);
    assert_eq!(f.read_file("/dir"), b"g");
    assert!(f.resolve("/file2/sub").is_ok());
}

#[test]
fn rename_across_file_systems_is_exdev() {
    let f = fixture();
    f.write_file("/f", b"");
    let other = TmpFs::new(0x30, test_clock, Arc::new(DeviceRegistry::new())).root();
    let root = f.root.inode();
    assert_eq!(root.rename(b"f", &other, b"f", 0).unwrap_err(), Errno::EXDEV);
    assert_eq!(other.link(b"f", f.resolve("/f").unwrap().inode()).unwrap_err(), Errno::EXDEV);
}

#[test]
fn read_dir_lists_dot_dotdot_and_survives_removals() {
    let f = fixture();
    f.mkdir("/d").unwrap();
    for index in 0..10 {
        f.write_file(&format!("/d/f{index}"), b"");
    }
    f.mkdir("/d/sub").unwrap();
    let dir = f.resolve("/d").unwrap();
    let entries = read_dir_all(&**dir.inode(), 0).unwrap();
    assert_eq!(entries.len(), 13);
    assert_eq!(entries[0].name, b".");
    assert_eq!(entries[0].ino, dir.inode().ino());
    assert_eq!(entries[1].name, b"..");
    assert_eq!(entries[1].ino, f.root.inode().ino());
    let sub = entries.iter().find(|entry| entry.name == b"sub").unwrap();
    assert_eq!(sub.kind, FileType::Directory);
    assert_eq!(sub.ino, f.resolve("/d/sub").unwrap().inode().ino());
    // Read half, delete everything already seen and some not yet seen, continue: nothing
    // is repeated, nothing still present is skipped.
    let mut first_half: Vec<DirEntry> = Vec::new();
    dir.inode()
        .read_dir(0, &mut |entry| {
            first_half.push(entry.clone());
            first_half.len() < 6
        })
        .unwrap();
    assert_eq!(first_half.len(), 6);
    let resume = first_half.last().unwrap().next_offset;
    for entry in &first_half[2..] {
        unlink(&f, &format!("/d/{}", String::from_utf8_lossy(&entry.name))).unwrap();
    }
    let later: Vec<DirEntry> = read_dir_all(&**dir.inode(), resume).unwrap();
    let removed_later = later[0].name.clone();
    unlink(&f, &format!("/d/{}", String::from_utf8_lossy(&removed_later))).unwrap();
    let rest = read_dir_all(&**dir.inode(), resume).unwrap();
    assert_eq!(rest.len(), later.len() - 1);
    assert!(rest.iter().all(|entry| !first_half.contains(entry) && entry.name != removed_later));
    assert_eq!(names(&**dir.inode()).len(), 13 - 2 - 4 - 1);
    // Reading past the end gives nothing; a file is not a directory.
    assert!(read_dir_all(&**dir.inode(), u64::MAX).unwrap().is_empty());
    assert_eq!(read_dir_all(&**f.resolve("/d/f9").unwrap().inode(), 0).unwrap_err(), Errno::ENOTDIR);
}

#[test]
fn inode_numbers_devices_and_times() {
    let f = fixture();
    f.mkdir("/a").unwrap();
    f.write_file("/a/f", b"x");
    f.symlink("a", "/s").unwrap();
    let inos: Vec<u64> = ["/", "/a", "/a/f", "/s"].iter().map(|path| f.lresolve(path).unwrap().inode().ino()).collect();
    let mut unique = inos.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 4);
    assert!(inos.iter().all(|&ino| ino > 0));
    assert!(["/", "/a", "/a/f"].iter().all(|path| f.resolve(path).unwrap().inode().metadata().dev == 0x10));
    let dir_before = f.resolve("/a").unwrap().inode().metadata();
    let file = f.resolve("/a/f").unwrap();
    let before = file.inode().metadata();
    f.write_file("/a/f", b"changed");
    let after = file.inode().metadata();
    assert!(after.mtime > before.mtime && after.ctime > before.ctime);
    f.write_file("/a/g", b"");
    let dir_after = f.resolve("/a").unwrap().inode().metadata();
    assert!(dir_after.mtime > dir_before.mtime);
    let link = f.lresolve("/s").unwrap().inode().metadata();
    assert_eq!((link.kind, link.size, link.perm), (FileType::Symlink, 1, 0o777));
    assert_eq!(link.mode(), 0o120777);
}

#[test]
fn attributes() {
    let f = fixture();
    f.write_file("/f", b"");
    let inode = f.resolve("/f").unwrap().inode().clone();
    assert_eq!(inode.metadata().perm, 0o644);
    inode.set_mode(0o104755).unwrap();
    assert_eq!(inode.metadata().perm, 0o4755);
    assert_eq!(inode.metadata().mode(), 0o104755);
    let ctime = inode.metadata().ctime;
    inode.set_owner(Some(1000), None).unwrap();
    let meta = inode.metadata();
    assert_eq!((meta.uid, meta.gid), (1000, 0));
    assert_eq!(meta.perm, 0o755, "chown clears set-user-ID");
    assert!(meta.ctime > ctime);
    inode.set_owner(None, Some(50)).unwrap();
    assert_eq!((inode.metadata().uid, inode.metadata().gid), (1000, 50));
    let fixed = Timestamp::new(1234, 5678);
    inode.set_times(SetTime::At(fixed), SetTime::Omit).unwrap();
    let meta = inode.metadata();
    assert_eq!(meta.atime, fixed);
    assert_ne!(meta.mtime, fixed);
    inode.set_times(SetTime::Omit, SetTime::At(fixed)).unwrap();
    assert_eq!(inode.metadata().mtime, fixed);
    inode.set_times(SetTime::Now, SetTime::Omit).unwrap();
    assert!(inode.metadata().atime > fixed);
}

fn read_at(inode: &Arc<dyn Inode>, offset: u64, len: usize) -> Vec<u8> {
    let mut buf = vec![0xAA; len];
    let Poll::Ready(Ok(count)) = inode.poll_read_at(&mut Context::from_waker(Waker::noop()), offset, &mut buf) else {
        panic!("tmpfs reads complete at once");
    };
    buf.truncate(count);
    buf
}

fn write_at(inode: &Arc<dyn Inode>, offset: u64, data: &[u8]) -> abi::Result<usize> {
    match inode.poll_write_at(&mut Context::from_waker(Waker::noop()), offset, data) {
        Poll::Ready(result) => result,
        Poll::Pending => panic!("tmpfs writes complete at once"),
    }
}

#[test]
fn sparse_files_and_truncate() {
    let f = fixture();
    f.write_file("/f", b"");
    let inode = f.resolve("/f").unwrap().inode().clone();
    // A write far out allocates one page, and the hole reads as zeros.
    assert_eq!(write_at(&inode, 1 << 30, b"end").unwrap(), 3);
    let meta = inode.metadata();
    assert_eq!(meta.size, (1 << 30) + 3);
    assert_eq!(meta.blocks, 8);
    assert_eq!(read_at(&inode, 4096 * 100, 8), vec![0; 8]);
    assert_eq!(read_at(&inode, (1 << 30) - 2, 10), b"\0\0end");
    assert_eq!(read_at(&inode, (1 << 30) + 3, 10), b"");
    // Writes spanning pages.
    let data: Vec<u8> = (0..10_000u32).map(|value| value as u8).collect();
    write_at(&inode, 4000, &data).unwrap();
    assert_eq!(read_at(&inode, 4000, 10_000), data);
    // Shrinking then growing exposes zeros, not the old bytes.
    inode.truncate(4100).unwrap();
    assert_eq!(inode.metadata().size, 4100);
    inode.truncate(9000).unwrap();
    let reread = read_at(&inode, 4000, 5000);
    assert_eq!(&reread[..100], &data[..100]);
    assert!(reread[100..].iter().all(|&byte| byte == 0));
    assert_eq!(inode.metadata().blocks, 16);
    inode.truncate(0).unwrap();
    assert_eq!((inode.metadata().size, inode.metadata().blocks), (0, 0));
    // Limits.
    assert_eq!(write_at(&inode, crate::MAX_FILE_SIZE, b"x").unwrap_err(), Errno::EFBIG);
    assert_eq!(inode.truncate(crate::MAX_FILE_SIZE + 1).unwrap_err(), Errno::EFBIG);
    // Directories and links have no data.
    let dir = f.root.inode().clone();
    assert_eq!(dir.truncate(0).unwrap_err(), Errno::EISDIR);
    let mut buf = [0u8; 4];
    let poll = dir.poll_read_at(&mut Context::from_waker(Waker::noop()), 0, &mut buf);
    assert_eq!(poll, Poll::Ready(Err(Errno::EISDIR)));
}

#[test]
fn create_through_inodes() {
    let f = fixture();
    let root = f.root.inode().clone();
    let dir = root.create(b"d", FileType::Directory, 0o700, 0).unwrap();
    assert_eq!(root.create(b"d", FileType::Regular, 0o644, 0).unwrap_err(), Errno::EEXIST);
    assert_eq!(root.create(b".", FileType::Regular, 0o644, 0).unwrap_err(), Errno::EEXIST);
    assert_eq!(root.create(b"", FileType::Regular, 0o644, 0).unwrap_err(), Errno::ENOENT);
    assert_eq!(root.create(b"l", FileType::Symlink, 0o777, 0).unwrap_err(), Errno::EINVAL);
    let node = dir.create(b"tty", FileType::CharDevice, 0o620, crate::makedev(5, 0)).unwrap();
    let meta = node.metadata();
    assert_eq!((meta.kind, crate::major(meta.rdev), crate::minor(meta.rdev), meta.perm), (FileType::CharDevice, 5, 0, 0o620));
    let file = dir.create(b"f", FileType::Regular, 0o644, 0).unwrap();
    assert_eq!(file.metadata().rdev, 0);
    assert_eq!(file.lookup(b"x").unwrap_err(), Errno::ENOTDIR);
    assert_eq!(file.create(b"x", FileType::Regular, 0, 0).unwrap_err(), Errno::ENOTDIR);
    assert_eq!(file.readlink().unwrap_err(), Errno::EINVAL);
    assert_eq!(dir.lookup(b"..").unwrap().ino(), root.ino());
    assert_eq!(root.lookup(b"..").unwrap().ino(), root.ino());
    assert_eq!(dir.lookup(b".").unwrap().ino(), dir.ino());
    // A removed directory refuses new entries.
    dir.unlink(b"tty").unwrap();
    dir.unlink(b"f").unwrap();
    root.rmdir(b"d").unwrap();
    assert_eq!(dir.create(b"late", FileType::Regular, 0o644, 0).unwrap_err(), Errno::ENOENT);
    assert_eq!(dir.lookup(b"late").unwrap_err(), Errno::ENOENT);
}

/// An inode that implements only `metadata`, to check the trait's defaults.
struct Bare;

impl Inode for Bare {
    fn metadata(&self) -> Metadata {
        Metadata {
            dev: 0,
            ino: 9,
            kind: FileType::Socket,
            perm: 0,
            nlink: 1,
            uid: 0,
            gid: 0,
            size: 0,
            blocks: 0,
            blksize: 0,
            rdev: 0,
            atime: Timestamp::default(),
            mtime: Timestamp::default(),
            ctime: Timestamp::default(),
        }
    }
}

#[test]
fn trait_defaults_are_linux_errnos() {
    let bare: Arc<dyn Inode> = Arc::new(Bare);
    let mut cx = Context::from_waker(Waker::noop());
    assert_eq!(bare.lookup(b"x").unwrap_err(), Errno::ENOTDIR);
    assert_eq!(bare.create(b"x", FileType::Regular, 0, 0).unwrap_err(), Errno::ENOTDIR);
    assert_eq!(bare.unlink(b"x").unwrap_err(), Errno::ENOTDIR);
    assert_eq!(bare.rmdir(b"x").unwrap_err(), Errno::ENOTDIR);
    assert_eq!(bare.link(b"x", &bare).unwrap_err(), Errno::ENOTDIR);
    assert_eq!(bare.rename(b"x", &bare, b"y", 0).unwrap_err(), Errno::ENOTDIR);
    assert_eq!(bare.symlink(b"x", b"y").unwrap_err(), Errno::ENOTDIR);
    assert_eq!(bare.read_dir(0, &mut |_| true).unwrap_err(), Errno::ENOTDIR);
    assert_eq!(bare.readlink().unwrap_err(), Errno::EINVAL);
    assert_eq!(bare.truncate(0).unwrap_err(), Errno::EINVAL);
    assert_eq!(bare.set_mode(0).unwrap_err(), Errno::EPERM);
    assert_eq!(bare.set_owner(Some(0), None).unwrap_err(), Errno::EPERM);
    assert_eq!(bare.set_times(SetTime::Now, SetTime::Now).unwrap_err(), Errno::EPERM);
    assert_eq!(bare.ioctl(0x5401, 0).unwrap_err(), Errno::ENOTTY);
    assert_eq!(bare.poll_read_at(&mut cx, 0, &mut [0; 1]), Poll::Ready(Err(Errno::EINVAL)));
    assert_eq!(bare.poll_write_at(&mut cx, 0, &[0; 1]), Poll::Ready(Err(Errno::EINVAL)));
    assert_eq!(bare.poll_ready(&mut cx, Events::IN), Poll::Ready(Events::IN));
    assert!(bare.open(OpenFlags::RDONLY).unwrap().is_none());
    assert!(bare.is_seekable());
    assert_eq!((bare.ino(), bare.kind()), (9, FileType::Socket));
}

#[test]
fn concurrent_namespace_changes_keep_counts_consistent() {
    let f = Arc::new(fixture());
    for dir in ["/a", "/b", "/a/moving"] {
        f.mkdir(dir).unwrap();
    }
    let rounds = 2000;
    let mover = {
        let f = f.clone();
        std::thread::spawn(move || {
            for _ in 0..rounds {
                let _ = rename(&f, "/a/moving", "/b/moving", 0);
                let _ = rename(&f, "/b/moving", "/a/moving", 0);
                let _ = rename(&f, "/a", "/b/into-b", 0); // EINVAL or ENOTEMPTY or fine
                let _ = rename(&f, "/b/into-b", "/a", 0);
            }
        })
    };
    let creator = {
        let f = f.clone();
        std::thread::spawn(move || {
            for index in 0..rounds {
                let _ = f.mkdir(&format!("/b/d{index}"));
                let _ = f.open(&format!("/a/moving/f{index}"), OpenFlags::WRONLY | OpenFlags::CREAT);
                let _ = rmdir(&f, &format!("/b/d{index}"));
            }
        })
    };
    for _ in 0..rounds {
        let _ = f.resolve("/a/moving/..");
        let _ = f.resolve("/b/moving/f1");
        for dir in ["/", "/a", "/b"] {
            if let Ok(location) = f.resolve(dir) {
                let _ = read_dir_all(&**location.inode(), 0);
            }
        }
    }
    mover.join().unwrap();
    creator.join().unwrap();
    // Every directory's count is 2 plus its subdirectories.
    let mut pending = vec![f.root.inode().clone()];
    while let Some(dir) = pending.pop() {
        let subdirs: Vec<Arc<dyn Inode>> = read_dir_all(&*dir, 2)
            .unwrap()
            .into_iter()
            .filter(|entry| entry.kind == FileType::Directory)
            .map(|entry| dir.lookup(&entry.name).unwrap())
            .collect();
        assert_eq!(dir.metadata().nlink as usize, 2 + subdirs.len());
        for subdir in &subdirs {
            assert_eq!(subdir.lookup(b"..").unwrap().ino(), dir.ino(), "`..` is the containing directory");
        }
        pending.extend(subdirs);
    }
}

#[test]
fn size_limit_gives_enospc_and_frees_pages_on_truncate_and_unlink() {
    use crate::{tmpfs_usage, TmpFs};
    let fs = TmpFs::new(7, || (0, 0), alloc::sync::Arc::new(crate::DeviceRegistry::default()));
    fs.set_size_limit(Some(3 * 4096));
    let root = fs.root();
    let file = root.create(b"f", FileType::Regular, 0o644, 0).unwrap();
    let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
    let data = [1u8; 4096];
    for page in 0..3u64 {
        assert_eq!(file.poll_write_at(&mut cx, page * 4096, &data), core::task::Poll::Ready(Ok(4096)));
    }
    assert_eq!(tmpfs_usage(&root), Some((3, 3)));
    assert_eq!(file.poll_write_at(&mut cx, 3 * 4096, &data), core::task::Poll::Ready(Err(Errno::ENOSPC)));
    file.truncate(4096).unwrap();
    assert_eq!(tmpfs_usage(&root), Some((1, 3)), "truncate returns pages to the budget");
    drop(file);
    root.unlink(b"f").unwrap();
    assert_eq!(tmpfs_usage(&root), Some((0, 3)), "a deleted file returns its pages");
}

#[test]
fn pages_for_mapping_are_the_pages_reads_and_writes_use() {
    use crate::{tmpfs_usage, TmpFs};
    let fs = TmpFs::new(7, || (0, 0), Arc::new(DeviceRegistry::default()));
    let root = fs.root();
    let file = root.create(b"f", FileType::Regular, 0o644, 0).unwrap();
    let mut cx = Context::from_waker(Waker::noop());
    assert!(file.has_pages());
    assert!(!root.has_pages());
    assert!(matches!(file.poll_page(&mut cx, 0), Poll::Ready(Err(Errno::ENXIO))), "an empty file has no page");
    assert_eq!(file.poll_write_at(&mut cx, 4096 + 100, b"hello"), Poll::Ready(Ok(5)));
    let Poll::Ready(Ok(page)) = file.poll_page(&mut cx, 1) else { panic!("page 1") };
    // SAFETY: the page is 4 KiB, kept alive by `page`.
    let bytes = |page: &crate::page::PageRef| unsafe { std::slice::from_raw_parts(page.as_ptr(), 4096).to_vec() };
    assert_eq!(&bytes(&page)[100..105], b"hello");
    // A later write shows through the reference: it is the same page.
    assert_eq!(file.poll_write_at(&mut cx, 4096 + 100, b"HE"), Poll::Ready(Ok(2)));
    assert_eq!(&bytes(&page)[100..105], b"HEllo");
    assert!(matches!(file.poll_page(&mut cx, 2), Poll::Ready(Err(Errno::ENXIO))), "past the last page");
    // The hole at page 0 gets a page (counted), still reading as zeros.
    let Poll::Ready(Ok(hole)) = file.poll_page(&mut cx, 0) else { panic!("page 0") };
    assert!(bytes(&hole).iter().all(|&byte| byte == 0));
    assert_eq!(tmpfs_usage(&root), Some((2, usize::MAX)));
    // Truncating and deleting the file leaves the mapped pages alive for their holders.
    file.truncate(0).unwrap();
    drop(file);
    root.unlink(b"f").unwrap();
    assert_eq!(&bytes(&page)[100..105], b"HEllo");
    let copy = page.clone();
    drop(page);
    assert_eq!(&bytes(&copy)[100..105], b"HEllo");
    drop((copy, hole));
}
