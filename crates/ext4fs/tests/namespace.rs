//! Name-space operations (create, mkdir, symlink, link, unlink, rmdir, rename) and
//! attributes, each checked afterwards on the unmounted image with `e2fsck -fn` and
//! `debugfs`.

mod common;

use abi::Errno;
use common::*;
use vfs::consts::{RENAME_EXCHANGE, RENAME_NOREPLACE};
use vfs::{FileType, SetTime, Timestamp};

#[test]
fn create_link_rename_unlink() {
    let Some(tools) = Tools::find() else { return };
    let temp = TempDir::new("ns");
    let image = temp.join("image");
    tools.mkfs(&image, "32M", &[], None);
    let fs = mount(&image, false);
    let root = fs.root().unwrap();

    let docs = root.create(b"docs", FileType::Directory, 0o750, 0).unwrap();
    let archive = root.create(b"archive", FileType::Directory, 0o755, 0).unwrap();
    assert_eq!(root.metadata().nlink, 5); // ., .., lost+found, docs, archive
    let note = create_file(&docs, "note.txt", b"first version\n");
    assert_eq!(root.create(b"docs", FileType::Regular, 0o644, 0).unwrap_err(), Errno::EEXIST);
    assert_eq!(docs.create(b".", FileType::Regular, 0o644, 0).unwrap_err(), Errno::EEXIST);
    // Every kind of creation over an existing name, in a directory that stays as it was.
    for kind in [FileType::Regular, FileType::Directory, FileType::Fifo] {
        assert_eq!(root.create(b"docs", kind, 0o644, 0).unwrap_err(), Errno::EEXIST, "{kind:?}");
    }
    assert_eq!(root.symlink(b"docs", b"target").unwrap_err(), Errno::EEXIST);
    assert_eq!(docs.create(b"a/b", FileType::Regular, 0o644, 0).unwrap_err(), Errno::EINVAL);
    assert_eq!(docs.create(&[b'n'; 256], FileType::Regular, 0o644, 0).unwrap_err(), Errno::ENAMETOOLONG);
    assert!(docs.create(&[b'n'; 255], FileType::Regular, 0o644, 0).is_ok());
    docs.unlink(&[b'n'; 255]).unwrap();

    // Symbolic links: fast (in the inode) and long (in a block).
    let short = docs.symlink(b"short", b"note.txt").unwrap();
    assert_eq!(short.kind(), FileType::Symlink);
    assert_eq!(short.metadata().size, 8);
    let long_target = "../".repeat(30) + "far/away/target";
    docs.symlink(b"long", long_target.as_bytes()).unwrap();
    assert_eq!(docs.lookup(b"long").unwrap().readlink().unwrap(), long_target.as_bytes());
    assert_eq!(docs.symlink(b"empty", b"").unwrap_err(), Errno::ENOENT);

    // Hard links.
    root.link(b"note-link", &note).unwrap();
    assert_eq!(note.metadata().nlink, 2);
    assert_eq!(root.link(b"dir-link", &docs).unwrap_err(), Errno::EPERM);
    assert_eq!(root.link(b"note-link", &note).unwrap_err(), Errno::EEXIST);

    // Rename across directories, replacing, NOREPLACE, EXCHANGE.
    docs.rename(b"note.txt", &archive, b"moved.txt", 0).unwrap();
    assert_eq!(docs.lookup(b"note.txt").unwrap_err(), Errno::ENOENT);
    assert_eq!(archive.lookup(b"moved.txt").unwrap().ino(), note.ino());
    let other = create_file(&archive, "other.txt", b"other\n");
    assert_eq!(archive.rename(b"moved.txt", &archive, b"other.txt", RENAME_NOREPLACE).unwrap_err(), Errno::EEXIST);
    let replaced = create_file(&root, "victim", b"to be replaced\n");
    archive.rename(b"other.txt", &root, b"victim", 0).unwrap();
    assert_eq!(root.lookup(b"victim").unwrap().ino(), other.ino());
    assert_eq!(replaced.metadata().nlink, 0);
    drop(replaced);
    let a = create_file(&root, "a", b"A");
    let b = create_file(&archive, "b", b"B");
    root.rename(b"a", &archive, b"b", RENAME_EXCHANGE).unwrap();
    assert_eq!(root.lookup(b"a").unwrap().ino(), b.ino());
    assert_eq!(archive.lookup(b"b").unwrap().ino(), a.ino());
    assert_eq!(root.rename(b"missing", &archive, b"x", 0).unwrap_err(), Errno::ENOENT);
    // Directories: moving a directory updates `..` and both link counts.
    let sub = docs.create(b"sub", FileType::Directory, 0o700, 0).unwrap();
    create_file(&sub, "deep", b"deep\n");
    docs.rename(b"sub", &archive, b"sub", 0).unwrap();
    assert_eq!(sub.lookup(b"..").unwrap().ino(), archive.ino());
    assert_eq!(docs.metadata().nlink, 2);
    assert_eq!(archive.metadata().nlink, 3);
    assert_eq!(root.rename(b"archive", &sub, b"loop", 0).unwrap_err(), Errno::EINVAL);
    assert_eq!(archive.rename(b"sub", &root, b"victim", 0).unwrap_err(), Errno::ENOTDIR);
    assert_eq!(root.rename(b"victim", &archive, b"sub", 0).unwrap_err(), Errno::EISDIR);
    assert_eq!(root.rename(b"docs", &archive, b"sub", 0).unwrap_err(), Errno::ENOTEMPTY);

    // rmdir and unlink.
    assert_eq!(root.rmdir(b"archive").unwrap_err(), Errno::ENOTEMPTY);
    assert_eq!(root.rmdir(b"victim").unwrap_err(), Errno::ENOTDIR);
    assert_eq!(root.unlink(b"docs").unwrap_err(), Errno::EISDIR);
    let empty = root.create(b"empty", FileType::Directory, 0o755, 0).unwrap();
    root.rmdir(b"empty").unwrap();
    assert_eq!(empty.lookup(b"x").unwrap_err(), Errno::ENOENT);
    assert_eq!(empty.create(b"x", FileType::Regular, 0o644, 0).unwrap_err(), Errno::ENOENT);
    drop(empty);
    // An unlinked file stays readable and writable while a handle is alive.
    let open = create_file(&root, "open-unlinked", &pattern(9, 50_000));
    let handle = |inode: &std::sync::Arc<dyn vfs::Inode>| vfs::downcast_ref::<ext4fs::Ext4Inode<parking_lot::RawMutex, FileDevice>>(inode.as_ref()).unwrap().is_unlinked();
    assert!(!handle(&open));
    root.unlink(b"open-unlinked").unwrap();
    assert!(handle(&open), "the kernel's page cache tells unlinked files by this");
    assert_eq!(open.metadata().nlink, 0);
    assert_eq!(read_all(&*open), pattern(9, 50_000));
    write_all(&*open, 50_000, b"more");
    assert_eq!(root.link(b"relinked", &open).unwrap_err(), Errno::ENOENT);
    drop(open);

    // Special files.
    let fifo = root.create(b"fifo", FileType::Fifo, 0o600, 0).unwrap();
    assert_eq!(fifo.kind(), FileType::Fifo);
    let device = root.create(b"null", FileType::CharDevice, 0o666, vfs::makedev(1, 3)).unwrap();
    assert_eq!(device.metadata().rdev, vfs::makedev(1, 3));
    assert_eq!(device.open(vfs::OpenFlags::RDONLY).unwrap_err(), Errno::ENXIO);

    fs.unmount().unwrap();
    assert_eq!(root.lookup(b"docs").unwrap_err(), Errno::EIO);
    tools.fsck_clean(&image);
    assert_eq!(tools.debugfs(&image, "cat /archive/b"), b"A");
    assert_eq!(tools.debugfs(&image, "cat /a"), b"B");
    assert_eq!(tools.debugfs(&image, "cat /victim"), b"other\n");
    assert_eq!(tools.debugfs(&image, "cat /note-link"), b"first version\n");
    assert_eq!(tools.debugfs(&image, "cat /archive/sub/deep"), b"deep\n");
    let stat = tools.debugfs_text(&image, "stat /note-link");
    assert!(stat.contains("Links: 2"), "{stat}");
    let stat = tools.debugfs_text(&image, "stat /docs/short");
    assert!(stat.contains("Fast link dest: \"note.txt\""), "{stat}");
    let stat = tools.debugfs_text(&image, "stat /docs/long");
    assert!(stat.contains("Type: symlink") && stat.contains(&format!("Size: {}", long_target.len())), "{stat}");
    let listing = tools.debugfs_text(&image, "ls -l /");
    assert!(!listing.contains("open-unlinked") && !listing.contains("empty"), "{listing}");
    let stat = tools.debugfs_text(&image, "stat /null");
    assert!(stat.contains("Type: character special") && stat.contains("Device major/minor number: 01:03"), "{stat}");
    assert!(tools.debugfs_text(&image, "stat /fifo").contains("Type: FIFO"));

    // The image mounts again and shows the same tree.
    let fs = mount(&image, true);
    let root = fs.root().unwrap();
    assert_eq!(names(&*root), ["a", "archive", "docs", "fifo", "lost+found", "note-link", "null", "victim"]);
    assert_eq!(read_all(&*walk(&root, "archive/moved.txt").unwrap()), b"first version\n");
}

#[test]
fn attributes_visible_in_debugfs() {
    let Some(tools) = Tools::find() else { return };
    let temp = TempDir::new("attr");
    let image = temp.join("image");
    tools.mkfs(&image, "16M", &[], None);
    let fs = mount(&image, false);
    let root = fs.root().unwrap();
    let file = create_file(&root, "file", b"data");
    let metadata = file.metadata();
    assert_eq!(metadata.perm, 0o644);
    assert_eq!((metadata.uid, metadata.gid), (0, 0));
    assert_eq!(metadata.mtime.sec, clock().0);
    assert_eq!(metadata.blksize, 1024);
    assert_eq!(metadata.dev, 0x0801);
    file.set_mode(0o4751).unwrap();
    file.set_owner(Some(1234), None).unwrap();
    file.set_owner(None, Some(5678)).unwrap();
    file.set_times(SetTime::At(Timestamp::new(1_000_000_000, 42)), SetTime::At(Timestamp::new(1_111_111_111, 999_999_999)))
        .unwrap();
    let metadata = file.metadata();
    assert_eq!((metadata.uid, metadata.gid), (1234, 5678));
    assert_eq!(metadata.perm & 0o777, 0o751);
    assert_eq!(metadata.atime.sec, 1_000_000_000);
    assert_eq!(metadata.mtime.sec, 1_111_111_111);
    let dir = root.create(b"dir", FileType::Directory, 0o1777, 0).unwrap();
    assert_eq!(dir.metadata().perm, 0o1777);
    fs.unmount().unwrap();
    tools.fsck_clean(&image);
    let stat = tools.debugfs_text(&image, "stat /file");
    assert!(stat.contains("User:  1234   Group:  5678"), "{stat}");
    assert!(stat.contains("Mode:  0751") || stat.contains("Mode:  04751"), "{stat}");
    // Nanoseconds are stored: ext4 keeps nsec << 2 in the extra field.
    assert!(stat.contains(&format!("atime: 0x{:08x}:{:08x}", 1_000_000_000u32, 42u32 << 2)), "{stat}");
    assert!(stat.contains(&format!("mtime: 0x{:08x}:{:08x}", 1_111_111_111u32, 999_999_999u32 << 2)), "{stat}");
    assert!(stat.contains(&format!("ctime: 0x{:08x}:{:08x}", clock().0 as u32, clock().1 << 2)), "{stat}");
    assert!(tools.debugfs_text(&image, "stat /dir").contains("Mode:  01777"));
}
