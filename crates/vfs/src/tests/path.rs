//! Path resolution: absolute and relative paths, `.` and `..` (at the root, under a
//! chroot, across mounts), slashes, symlinks and loops, name limits, `resolve_parent`,
//! mounts and `Location::path`.

use std::sync::Arc;

use abi::Errno;

use super::{fixture, test_clock, Fixture};
use crate::consts::{MNT_DETACH, NAME_MAX, PATH_MAX};
use crate::{DeviceRegistry, FileType, Inode, LastComponent, OpenFlags, TmpFs};

fn tree() -> Fixture {
    let f = fixture();
    f.mkdir("/a").unwrap();
    f.mkdir("/a/b").unwrap();
    f.mkdir("/a/b/c").unwrap();
    f.write_file("/a/f", b"file");
    f
}

fn ino(f: &Fixture, path: &str) -> u64 {
    f.lresolve(path).unwrap().inode().ino()
}

#[test]
fn absolute_and_relative_paths() {
    let f = tree();
    let b = f.resolve("/a/b").unwrap();
    assert_eq!(f.vfs.resolve(&f.root, &f.root, b"a/b", true).unwrap().inode().ino(), b.inode().ino());
    let a = f.resolve("/a").unwrap();
    assert_eq!(f.vfs.resolve(&f.root, &a, b"b", true).unwrap().inode().ino(), b.inode().ino());
    // An absolute path ignores the start directory.
    assert_eq!(f.vfs.resolve(&f.root, &b, b"/a", true).unwrap().inode().ino(), a.inode().ino());
    assert_eq!(f.resolve("/").unwrap().inode().ino(), f.root.inode().ino());
}

#[test]
fn dot_dotdot_and_slashes() {
    let f = tree();
    let b = ino(&f, "/a/b");
    assert_eq!(ino(&f, "/a/./b/../b/."), b);
    assert_eq!(ino(&f, "//a///b//"), b);
    assert_eq!(ino(&f, "/a/b/c/.."), b);
    assert_eq!(ino(&f, "/a/b/c/../../b"), b);
    // `..` at the root is the root.
    assert_eq!(ino(&f, "/.."), f.root.inode().ino());
    assert_eq!(ino(&f, "/../../.."), f.root.inode().ino());
    assert_eq!(ino(&f, "/../a/../../a/b"), b);
    assert_eq!(f.vfs.resolve(&f.root, &f.root, b"..", true).unwrap().inode().ino(), f.root.inode().ino());
    assert_eq!(ino(&f, "."), f.root.inode().ino());
}

#[test]
fn not_found_and_not_a_directory() {
    let f = tree();
    assert_eq!(f.resolve("").unwrap_err(), Errno::ENOENT);
    assert_eq!(f.resolve("/nope").unwrap_err(), Errno::ENOENT);
    assert_eq!(f.resolve("/a/nope/c").unwrap_err(), Errno::ENOENT);
    assert_eq!(f.resolve("/a/f/x").unwrap_err(), Errno::ENOTDIR);
    // A trailing slash, `.` or `..` after a file: not a directory.
    assert_eq!(f.resolve("/a/f/").unwrap_err(), Errno::ENOTDIR);
    assert_eq!(f.resolve("/a/f//").unwrap_err(), Errno::ENOTDIR);
    assert_eq!(f.resolve("/a/f/.").unwrap_err(), Errno::ENOTDIR);
    assert_eq!(f.resolve("/a/f/..").unwrap_err(), Errno::ENOTDIR);
    assert!(f.resolve("/a/b/").is_ok());
    assert_eq!(f.resolve("/a/f").unwrap().inode().kind(), FileType::Regular);
}

#[test]
fn name_and_path_length_limits() {
    let f = tree();
    let longest = "x".repeat(NAME_MAX);
    let too_long = "x".repeat(NAME_MAX + 1);
    assert_eq!(f.resolve(&format!("/{longest}")).unwrap_err(), Errno::ENOENT);
    assert_eq!(f.resolve(&format!("/{too_long}")).unwrap_err(), Errno::ENAMETOOLONG);
    assert_eq!(f.resolve(&format!("/a/{too_long}/b")).unwrap_err(), Errno::ENAMETOOLONG);
    f.write_file(&format!("/{longest}"), b"");
    assert!(f.resolve(&format!("/{longest}")).is_ok());
    assert_eq!(f.mkdir(&format!("/{too_long}")).unwrap_err(), Errno::ENAMETOOLONG);
    // PATH_MAX counts the NUL: 4095 bytes are fine, 4096 are not.
    let mut path = String::from("/a");
    while path.len() < PATH_MAX - 1 {
        path.push_str(if PATH_MAX - 1 - path.len() >= 2 { "/." } else { "/" });
    }
    assert_eq!(path.len(), PATH_MAX - 1);
    assert!(f.resolve(&path).is_ok());
    path.push('/');
    assert_eq!(path.len(), PATH_MAX);
    assert_eq!(f.resolve(&path).unwrap_err(), Errno::ENAMETOOLONG);
}

#[test]
fn symlinks_relative_absolute_and_final() {
    let f = tree();
    f.symlink("b", "/a/rel").unwrap();
    f.symlink("/a/b/c", "/a/abs").unwrap();
    f.symlink("../f", "/a/b/up").unwrap();
    f.symlink("rel", "/a/chain").unwrap();
    assert_eq!(ino(&f, "/a/rel/c/.."), ino(&f, "/a/b"));
    assert_eq!(f.resolve("/a/rel").unwrap().inode().ino(), ino(&f, "/a/b"));
    assert_eq!(f.resolve("/a/abs").unwrap().inode().ino(), ino(&f, "/a/b/c"));
    assert_eq!(f.resolve("/a/b/up").unwrap().inode().ino(), ino(&f, "/a/f"));
    assert_eq!(f.resolve("/a/chain/c").unwrap().inode().ino(), ino(&f, "/a/b/c"));
    // Not following the final component returns the link itself...
    assert_eq!(f.lresolve("/a/rel").unwrap().inode().kind(), FileType::Symlink);
    // ...unless a trailing slash demands a directory.
    assert_eq!(f.lresolve("/a/rel/").unwrap().inode().ino(), ino(&f, "/a/b"));
    assert_eq!(f.lresolve("/a/b/up/").unwrap_err(), Errno::ENOTDIR);
    // `..` after a symlink is relative to where the link pointed, not to the link.
    assert_eq!(ino(&f, "/a/abs/.."), ino(&f, "/a/b"));
    // Dangling links.
    f.symlink("/nowhere", "/dangling").unwrap();
    assert_eq!(f.resolve("/dangling").unwrap_err(), Errno::ENOENT);
    assert_eq!(f.lresolve("/dangling").unwrap().inode().kind(), FileType::Symlink);
    assert_eq!(f.vfs.readlink(&f.root, &f.root, b"/dangling").unwrap(), b"/nowhere");
    assert_eq!(f.vfs.readlink(&f.root, &f.root, b"/a").unwrap_err(), Errno::EINVAL);
    assert_eq!(f.symlink("", "/empty").unwrap_err(), Errno::ENOENT);
}

#[test]
fn symlink_loops_and_the_limit_of_forty() {
    let f = tree();
    f.symlink("loop", "/loop").unwrap();
    f.symlink("/y", "/x").unwrap();
    f.symlink("x", "/y").unwrap();
    assert_eq!(f.resolve("/loop").unwrap_err(), Errno::ELOOP);
    assert_eq!(f.resolve("/x/anything").unwrap_err(), Errno::ELOOP);
    assert_eq!(f.lresolve("/x").unwrap().inode().kind(), FileType::Symlink);
    // A chain of exactly 40 links resolves; 41 do not.
    f.symlink("/a/b", "/l0").unwrap();
    for index in 1..=40 {
        f.symlink(&format!("l{}", index - 1), &format!("/l{index}")).unwrap();
    }
    assert_eq!(f.resolve("/l39").unwrap().inode().ino(), ino(&f, "/a/b"));
    assert_eq!(f.resolve("/l40").unwrap_err(), Errno::ELOOP);
    assert_eq!(f.resolve("/l39/c").unwrap().inode().ino(), ino(&f, "/a/b/c"));
    assert_eq!(f.resolve("/l40/c").unwrap_err(), Errno::ELOOP);
}

#[test]
fn chroot_confines_dotdot_and_absolute_symlinks() {
    let f = tree();
    f.mkdir("/jail").unwrap();
    f.mkdir("/jail/etc").unwrap();
    f.symlink("/etc", "/jail/etc-link").unwrap();
    let jail = f.resolve("/jail").unwrap();
    let resolve = |path: &str| f.vfs.resolve(&jail, &jail, path.as_bytes(), true);
    assert_eq!(resolve("/..").unwrap().inode().ino(), jail.inode().ino());
    assert_eq!(resolve("../../..").unwrap().inode().ino(), jail.inode().ino());
    assert_eq!(resolve("/etc-link").unwrap().inode().ino(), ino(&f, "/jail/etc"));
    assert_eq!(resolve("/a").unwrap_err(), Errno::ENOENT);
    assert_eq!(String::from_utf8(resolve("/etc").unwrap().path_from(&jail).unwrap()).unwrap(), "/etc");
    // A cwd outside the chroot is "unreachable" from it.
    let outside = f.resolve("/a/b").unwrap();
    assert_eq!(String::from_utf8(outside.path_from(&jail).unwrap()).unwrap(), "(unreachable)/a/b");
}

#[test]
fn resolve_parent_splits_the_last_component() {
    let f = tree();
    let parent = f.vfs.resolve_parent(&f.root, &f.root, b"/a/b/new").unwrap();
    assert_eq!(parent.dir.inode().ino(), ino(&f, "/a/b"));
    assert_eq!(parent.name, b"new");
    assert_eq!(parent.last(), LastComponent::Normal);
    assert!(!parent.trailing_slash);
    let parent = f.vfs.resolve_parent(&f.root, &f.root, b"plain").unwrap();
    assert_eq!(parent.dir.inode().ino(), f.root.inode().ino());
    let parent = f.vfs.resolve_parent(&f.root, &f.root, b"/a/b//").unwrap();
    assert_eq!((parent.name.as_slice(), parent.trailing_slash), (&b"b"[..], true));
    assert_eq!(f.vfs.resolve_parent(&f.root, &f.root, b"///").unwrap().last(), LastComponent::Root);
    assert_eq!(f.vfs.resolve_parent(&f.root, &f.root, b"/a/.").unwrap().last(), LastComponent::Dot);
    assert_eq!(f.vfs.resolve_parent(&f.root, &f.root, b"a/..").unwrap().last(), LastComponent::DotDot);
    assert_eq!(f.vfs.resolve_parent(&f.root, &f.root, b"/a/f/x").unwrap_err(), Errno::ENOTDIR);
    assert_eq!(f.vfs.resolve_parent(&f.root, &f.root, b"/nope/x").unwrap_err(), Errno::ENOENT);
    assert_eq!(f.vfs.resolve_parent(&f.root, &f.root, b"").unwrap_err(), Errno::ENOENT);
    // Symlinks in the directory part are followed; the last component is not resolved.
    f.symlink("/a/b", "/lb").unwrap();
    let parent = f.vfs.resolve_parent(&f.root, &f.root, b"/lb/c").unwrap();
    assert_eq!(parent.dir.inode().ino(), ino(&f, "/a/b"));
}

fn second_fs() -> Arc<dyn Inode> {
    TmpFs::new(0x20, test_clock, Arc::new(DeviceRegistry::new())).root()
}

#[test]
fn mounts_are_entered_and_dotdot_climbs_out() {
    let f = tree();
    f.mkdir("/mnt").unwrap();
    let point = f.resolve("/mnt").unwrap();
    let mount = f.vfs.mount(&point, second_fs(), "none", "tmpfs").unwrap();
    drop(point);
    let mounted = f.resolve("/mnt").unwrap();
    assert_eq!(mounted.inode().metadata().dev, 0x20);
    assert!(mounted.is_mount_root());
    assert_eq!(mounted.mount().id(), mount.id());
    f.mkdir("/mnt/sub").unwrap();
    f.write_file("/mnt/sub/file", b"inside");
    assert_eq!(f.read_file("/mnt/sub/file"), b"inside");
    assert_eq!(f.resolve("/mnt/sub").unwrap().inode().metadata().dev, 0x20);
    // `..` from the mounted root is the mount point's parent, in the parent mount.
    let up = f.resolve("/mnt/..").unwrap();
    assert_eq!(up.inode().ino(), f.root.inode().ino());
    assert_eq!(up.mount().id(), f.root.mount().id());
    assert_eq!(ino(&f, "/mnt/sub/../../a"), ino(&f, "/a"));
    let sub = f.resolve("/mnt/sub").unwrap();
    assert_eq!(f.vfs.resolve(&f.root, &sub, b"../../a/b", true).unwrap().inode().ino(), ino(&f, "/a/b"));
    // Paths through mounts rebuild correctly.
    assert_eq!(f.path_of("/mnt/sub/file"), "/mnt/sub/file");
    assert_eq!(f.path_of("/mnt"), "/mnt");
    // Mount points cannot be removed or renamed; links and renames do not cross mounts.
    assert_eq!(f.vfs.rmdir(&f.root, &f.root, b"/mnt").unwrap_err(), Errno::EBUSY);
    assert_eq!(f.vfs.rename(&f.root, &f.root, b"/mnt", &f.root, b"/mnt2", 0).unwrap_err(), Errno::EBUSY);
    assert_eq!(f.vfs.link(&f.root, &f.root, b"/a/f", &f.root, b"/mnt/f", false).unwrap_err(), Errno::EXDEV);
    assert_eq!(f.vfs.rename(&f.root, &f.root, b"/a/f", &f.root, b"/mnt/f", 0).unwrap_err(), Errno::EXDEV);
    assert_eq!(f.vfs.mounts().len(), 2);
}

#[test]
fn umount_rules() {
    let f = tree();
    f.mkdir("/mnt").unwrap();
    let point = f.resolve("/mnt").unwrap();
    f.vfs.mount(&point, second_fs(), "none", "tmpfs").unwrap();
    drop(point);
    // Not a mount root, the root mount, bad flags.
    assert_eq!(f.vfs.umount(&f.resolve("/a").unwrap(), 0).unwrap_err(), Errno::EINVAL);
    assert_eq!(f.vfs.umount(&f.root, 0).unwrap_err(), Errno::EBUSY);
    let target = f.resolve("/mnt").unwrap();
    assert_eq!(f.vfs.umount(&target, 0x100).unwrap_err(), Errno::EINVAL);
    // Busy while a location inside it (a cwd, an open file) is held.
    f.mkdir("/mnt/d").unwrap();
    let cwd = f.resolve("/mnt/d").unwrap();
    assert_eq!(f.vfs.umount(&target, 0).unwrap_err(), Errno::EBUSY);
    drop(cwd);
    let file = f.open("/mnt/d", OpenFlags::RDONLY | OpenFlags::DIRECTORY).unwrap();
    assert_eq!(f.vfs.umount(&target, 0).unwrap_err(), Errno::EBUSY);
    drop(file);
    // Busy while something is mounted inside it.
    let inner_point = f.resolve("/mnt/d").unwrap();
    f.vfs.mount(&inner_point, second_fs(), "none", "tmpfs").unwrap();
    drop(inner_point);
    assert_eq!(f.vfs.umount(&target, 0).unwrap_err(), Errno::EBUSY);
    let inner = f.resolve("/mnt/d").unwrap();
    f.vfs.umount(&inner, 0).unwrap();
    drop(inner);
    f.vfs.umount(&target, 0).unwrap();
    drop(target);
    // The underlying directory is visible again, and unmounting again is EINVAL.
    let mnt = f.resolve("/mnt").unwrap();
    assert_eq!(mnt.inode().metadata().dev, 0x10);
    assert!(f.resolve("/mnt/d").is_err());
    assert_eq!(f.vfs.umount(&mnt, 0).unwrap_err(), Errno::EINVAL);
    // Mounting on a non-directory is ENOTDIR.
    assert_eq!(f.vfs.mount(&f.resolve("/a/f").unwrap(), second_fs(), "none", "tmpfs").unwrap_err(), Errno::ENOTDIR);
}

#[test]
fn lazy_umount_and_stacked_mounts() {
    let f = tree();
    f.mkdir("/mnt").unwrap();
    let first = second_fs();
    first.create(b"first", FileType::Regular, 0o644, 0).unwrap();
    let second = second_fs();
    second.create(b"second", FileType::Regular, 0o644, 0).unwrap();
    f.vfs.mount(&f.resolve("/mnt").unwrap(), first, "one", "tmpfs").unwrap();
    f.vfs.mount(&f.resolve("/mnt").unwrap(), second, "two", "tmpfs").unwrap();
    assert!(f.resolve("/mnt/second").is_ok());
    assert!(f.resolve("/mnt/first").is_err());
    assert_eq!(ino(&f, "/mnt/.."), f.root.inode().ino());
    // A busy mount goes away with MNT_DETACH; the holder keeps using it.
    let cwd = f.resolve("/mnt").unwrap();
    let top = f.resolve("/mnt").unwrap();
    assert_eq!(f.vfs.umount(&top, 0).unwrap_err(), Errno::EBUSY);
    f.vfs.umount(&top, MNT_DETACH).unwrap();
    assert!(f.resolve("/mnt/first").is_ok());
    assert!(f.vfs.resolve(&f.root, &cwd, b"second", true).is_ok());
}

#[test]
fn location_paths() {
    let f = tree();
    assert_eq!(f.path_of("/"), "/");
    assert_eq!(f.path_of("/a/b/c"), "/a/b/c");
    assert_eq!(f.path_of("/a/f"), "/a/f");
    assert_eq!(f.path_of("/a/b/c/../.."), "/a");
    let file = f.resolve("/a/f").unwrap();
    let dir = f.resolve("/a/b").unwrap();
    // Renames are followed.
    f.vfs.rename(&f.root, &f.root, b"/a/f", &f.root, b"/a/g", 0).unwrap();
    f.vfs.rename(&f.root, &f.root, b"/a/b", &f.root, b"/bb", 0).unwrap();
    assert_eq!(String::from_utf8(file.path().unwrap()).unwrap(), "/a/g");
    assert_eq!(String::from_utf8(dir.path().unwrap()).unwrap(), "/bb");
    // A removed file is "(deleted)"; a removed directory has no path.
    f.vfs.unlink(&f.root, &f.root, b"/a/g").unwrap();
    assert_eq!(String::from_utf8(file.path().unwrap()).unwrap(), "/a/f (deleted)");
    f.vfs.rmdir(&f.root, &f.root, b"/bb/c").unwrap();
    f.vfs.rmdir(&f.root, &f.root, b"/bb").unwrap();
    assert_eq!(dir.path().unwrap_err(), Errno::ENOENT);
    // Nothing can be created in or looked up from a removed directory.
    assert_eq!(f.vfs.resolve(&f.root, &dir, b"x", true).unwrap_err(), Errno::ENOENT);
    assert_eq!(f.vfs.mkdir(&f.root, &dir, b"x", 0o755).unwrap_err(), Errno::ENOENT);
}

#[test]
fn a_created_child_is_what_resolving_its_name_gives() {
    let f = fixture();
    f.mkdir("/dir").unwrap();
    let dir = f.resolve("/dir").unwrap();
    let inode = dir.inode().create(b"new", FileType::Regular, 0o644, 0).unwrap();
    let child = dir.created_child(inode, b"new");
    let resolved = f.resolve("/dir/new").unwrap();
    assert!(child.is_same(&resolved));
    assert_eq!(String::from_utf8(child.path().unwrap()).unwrap(), "/dir/new");
}
