//! File system calls: open/close/read/write and friends, paths, directories, stat,
//! pipes, ioctl on the terminal, poll/select.
//!
//! Data moves through a kernel buffer: user memory is read or written only through
//! `UserMemory` (EFAULT on a bad pointer), and a read that must wait (pipe, terminal)
//! is a future parked on the file's wait queue.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::future::Future;
use core::task::Poll;

use abi::fs as f;
use abi::{Errno, Iovec, PollFd, Result, Stat, StatFs, Statx, StatxTimestamp, Termios, WinSize};
use vfs::{Events, FileType, Location, Metadata, OpenFile, OpenFlags};

use super::interruptible;
use crate::fs::file_systems;
use crate::process::uaccess::UserMemory;
use crate::process::Thread;

/// Largest chunk a single read/write moves through the kernel buffer.
const IO_CHUNK: usize = 64 * 1024;
/// Linux caps one read/write at this many bytes.
const MAX_RW_COUNT: usize = 0x7fff_f000;

fn memory(thread: &Thread) -> UserMemory {
    UserMemory(thread.process.space())
}

fn file(thread: &Thread, fd: i32) -> Result<Arc<OpenFile>> {
    thread.process.files().lock().get(fd)
}

/// (root, starting directory) for a path relative to `dirfd`.
fn start(thread: &Thread, dirfd: i32, path: &[u8]) -> Result<(Location, Location)> {
    let (root, cwd) = {
        let inner = thread.process.inner.lock();
        (inner.root.clone(), inner.cwd.clone())
    };
    if path.first() == Some(&b'/') || dirfd == f::AT_FDCWD {
        return Ok((root, cwd));
    }
    let directory = file(thread, dirfd)?;
    let location = directory.location().cloned().ok_or(Errno::ENOTDIR)?;
    if location.inode().kind() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    Ok((root, location))
}

/// Resolves `path` relative to `dirfd`; an empty path with AT_EMPTY_PATH means `dirfd`.
fn resolve_at(thread: &Thread, dirfd: i32, path: &[u8], flags: u32) -> Result<Location> {
    if path.is_empty() {
        if flags & f::AT_EMPTY_PATH != 0 {
            if dirfd == f::AT_FDCWD {
                return Ok(thread.process.inner.lock().cwd.clone());
            }
            return file(thread, dirfd)?.location().cloned().ok_or(Errno::EBADF);
        }
        return Err(Errno::ENOENT);
    }
    let (root, start) = start(thread, dirfd, path)?;
    file_systems().vfs.resolve(&root, &start, path, flags & f::AT_SYMLINK_NOFOLLOW == 0)
}

/// EROFS if `location` is on a read-only mount.
fn check_writable(location: &Location) -> Result<()> {
    if location.mount().is_read_only() { Err(Errno::EROFS) } else { Ok(()) }
}

/// EROFS if the directory that would hold `path` is on a read-only mount.
fn check_parent_writable(thread: &Thread, dirfd: i32, path: &[u8]) -> Result<()> {
    let (root, start) = start(thread, dirfd, path)?;
    let parent = file_systems().vfs.resolve_parent(&root, &start, path)?;
    check_writable(&parent.dir)
}

fn read_path(thread: &Thread, address: usize) -> Result<Vec<u8>> {
    memory(thread).read_path(address)
}

/// Converts VFS metadata to Linux's `struct stat`.
pub fn to_stat(metadata: &Metadata) -> Stat {
    Stat {
        st_dev: metadata.dev,
        st_ino: metadata.ino,
        st_mode: metadata.kind.mode_bits() | metadata.perm,
        st_nlink: metadata.nlink,
        st_uid: metadata.uid,
        st_gid: metadata.gid,
        st_rdev: metadata.rdev,
        st_size: metadata.size as i64,
        st_blksize: metadata.blksize as i32,
        st_blocks: metadata.blocks as i64,
        st_atime: metadata.atime.sec,
        st_atime_nsec: metadata.atime.nsec as u64,
        st_mtime: metadata.mtime.sec,
        st_mtime_nsec: metadata.mtime.nsec as u64,
        st_ctime: metadata.ctime.sec,
        st_ctime_nsec: metadata.ctime.nsec as u64,
        ..Stat::default()
    }
}

pub fn getcwd(thread: &Thread, buffer: usize, size: usize) -> Result<usize> {
    let (cwd, root) = {
        let inner = thread.process.inner.lock();
        (inner.cwd.clone(), inner.root.clone())
    };
    let mut path = cwd.path_from(&root)?;
    path.push(0);
    if path.len() > size {
        return Err(Errno::ERANGE);
    }
    memory(thread).write_bytes(buffer, &path)?;
    Ok(path.len())
}

pub fn dup(thread: &Thread, fd: i32) -> Result<usize> {
    thread.process.files().lock().dup(fd).map(|fd| fd as usize)
}

pub fn dup3(thread: &Thread, old: i32, new: i32, flags: u32) -> Result<usize> {
    if flags & !f::O_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    let (fd, replaced) = thread.process.files().lock().dup3(old, new, flags & f::O_CLOEXEC != 0)?;
    drop(replaced);
    Ok(fd as usize)
}

pub fn fcntl(thread: &Thread, fd: i32, command: u32, argument: usize) -> Result<usize> {
    let files = thread.process.files();
    match command {
        f::F_DUPFD | f::F_DUPFD_CLOEXEC => {
            let file = files.lock().get(fd)?;
            let minimum = i32::try_from(argument).map_err(|_| Errno::EINVAL)?;
            let new = files.lock().insert_from(minimum, file, command == f::F_DUPFD_CLOEXEC)?;
            Ok(new as usize)
        }
        f::F_GETFD => Ok(files.lock().close_on_exec_flag(fd)? as usize),
        f::F_SETFD => {
            files.lock().set_close_on_exec(fd, argument as u32 & f::FD_CLOEXEC != 0)?;
            Ok(0)
        }
        f::F_GETFL => Ok(files.lock().get(fd)?.flags().0 as usize),
        f::F_SETFL => {
            files.lock().get(fd)?.set_status_flags(OpenFlags(argument as u32));
            Ok(0)
        }
        f::F_GETPIPE_SZ | f::F_SETPIPE_SZ => {
            let file = files.lock().get(fd)?;
            if vfs::downcast_ref::<vfs::PipeEnd>(file.io().as_ref()).is_none() {
                return Err(Errno::EBADF);
            }
            // The pipe buffer is fixed at 64 KiB; F_SETPIPE_SZ reports what it has.
            Ok(65536)
        }
        f::F_GETLK | f::F_SETLK | f::F_SETLKW => {
            files.lock().get(fd)?;
            Ok(0)
        }
        _ => {
            files.lock().get(fd)?;
            Err(Errno::EINVAL)
        }
    }
}

pub fn ioctl(thread: &Thread, fd: i32, command: u32, argument: usize) -> Result<usize> {
    use abi::ioctl as io;
    let file = file(thread, fd)?;
    let memory = memory(thread);
    if command == io::FIONBIO {
        let on: i32 = memory.read(argument)?;
        let flags = file.flags();
        let flags = if on != 0 { flags | OpenFlags::NONBLOCK } else { flags.without(OpenFlags::NONBLOCK) };
        file.set_status_flags(flags);
        return Ok(0);
    }
    if command == io::FIOCLEX || command == io::FIONCLEX {
        thread.process.files().lock().set_close_on_exec(fd, command == io::FIOCLEX)?;
        return Ok(0);
    }
    if let Some(disk) = vfs::downcast_ref::<crate::fs::blockdev::DiskNode>(file.io().as_ref()) {
        let (value, len) = disk.ioctl_value(command)?;
        memory.write_bytes(argument, &value.to_ne_bytes()[..len])?;
        return Ok(0);
    }
    let Some(console) = vfs::downcast_ref::<crate::fs::console::Console>(file.io().as_ref()) else {
        if command == io::FIONREAD {
            if let Some(pipe) = vfs::downcast_ref::<vfs::PipeEnd>(file.io().as_ref()) {
                memory.write(argument, &(pipe.pipe().buffered() as i32))?;
                return Ok(0);
            }
        }
        return file.ioctl(command, argument);
    };
    match command {
        io::TCGETS => {
            let termios = console.state.lock().termios;
            memory.write(argument, &termios)?;
            Ok(0)
        }
        io::TCSETS | io::TCSETSW | io::TCSETSF => {
            let termios: Termios = memory.read(argument)?;
            console.set_termios(termios, command == io::TCSETSF);
            Ok(0)
        }
        io::TIOCGWINSZ => {
            let window = console.state.lock().window;
            memory.write(argument, &window)?;
            Ok(0)
        }
        io::TIOCSWINSZ => {
            let window: WinSize = memory.read(argument)?;
            console.state.lock().window = window;
            Ok(0)
        }
        io::TIOCGPGRP => {
            let foreground = console.state.lock().foreground;
            memory.write(argument, &foreground)?;
            Ok(0)
        }
        io::TIOCSPGRP => {
            let pgid: u32 = memory.read(argument)?;
            let exists = crate::process::all_processes().iter().any(|p| p.inner.lock().pgid == pgid);
            if !exists {
                return Err(Errno::ESRCH);
            }
            console.state.lock().foreground = pgid;
            Ok(0)
        }
        io::TIOCGSID => {
            let session = console.state.lock().session;
            memory.write(argument, &session)?;
            Ok(0)
        }
        io::TIOCSCTTY => {
            let sid = thread.process.inner.lock().sid;
            let mut state = console.state.lock();
            state.session = sid;
            state.foreground = thread.process.inner.lock().pgid;
            Ok(0)
        }
        io::TIOCNOTTY | io::TCFLSH | io::TCXONC | io::TCSBRK => Ok(0),
        io::FIONREAD => {
            memory.write(argument, &(console.available() as i32))?;
            Ok(0)
        }
        _ => Err(Errno::ENOTTY),
    }
}

pub fn mknodat(thread: &Thread, dirfd: i32, path: usize, mode: u32, device: u64) -> Result<usize> {
    let path = read_path(thread, path)?;
    let (root, start) = start(thread, dirfd, &path)?;
    let kind = match mode & f::S_IFMT {
        0 | f::S_IFREG => FileType::Regular,
        f::S_IFCHR => FileType::CharDevice,
        f::S_IFBLK => FileType::BlockDevice,
        f::S_IFIFO => FileType::Fifo,
        f::S_IFSOCK => FileType::Socket,
        f::S_IFDIR => return Err(Errno::EPERM),
        _ => return Err(Errno::EINVAL),
    };
    check_parent_writable(thread, dirfd, &path)?;
    let umask = thread.process.inner.lock().umask;
    file_systems().vfs.mknod(&root, &start, &path, kind, mode & 0o7777 & !umask, device)?;
    Ok(0)
}

pub fn mkdirat(thread: &Thread, dirfd: i32, path: usize, mode: u32) -> Result<usize> {
    let path = read_path(thread, path)?;
    let (root, start) = start(thread, dirfd, &path)?;
    check_parent_writable(thread, dirfd, &path)?;
    let umask = thread.process.inner.lock().umask;
    file_systems().vfs.mkdir(&root, &start, &path, mode & 0o7777 & !umask)?;
    Ok(0)
}

pub fn unlinkat(thread: &Thread, dirfd: i32, path: usize, flags: u32) -> Result<usize> {
    if flags & !f::AT_REMOVEDIR != 0 {
        return Err(Errno::EINVAL);
    }
    let path = read_path(thread, path)?;
    let (root, start) = start(thread, dirfd, &path)?;
    check_parent_writable(thread, dirfd, &path)?;
    if flags & f::AT_REMOVEDIR != 0 {
        file_systems().vfs.rmdir(&root, &start, &path)?;
    } else {
        file_systems().vfs.unlink(&root, &start, &path)?;
    }
    Ok(0)
}

pub fn symlinkat(thread: &Thread, target: usize, dirfd: i32, path: usize) -> Result<usize> {
    let target = read_path(thread, target)?;
    let path = read_path(thread, path)?;
    let (root, start) = start(thread, dirfd, &path)?;
    check_parent_writable(thread, dirfd, &path)?;
    file_systems().vfs.symlink(&root, &start, &target, &path)?;
    Ok(0)
}

pub fn linkat(thread: &Thread, old_dirfd: i32, old: usize, new_dirfd: i32, new: usize, flags: u32) -> Result<usize> {
    if flags & !(f::AT_SYMLINK_FOLLOW | f::AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let old = read_path(thread, old)?;
    let new = read_path(thread, new)?;
    let (root, old_start) = start(thread, old_dirfd, &old)?;
    let (_, new_start) = start(thread, new_dirfd, &new)?;
    check_parent_writable(thread, new_dirfd, &new)?;
    file_systems().vfs.link(&root, &old_start, &old, &new_start, &new, flags & f::AT_SYMLINK_FOLLOW != 0)?;
    Ok(0)
}

pub fn renameat2(thread: &Thread, old_dirfd: i32, old: usize, new_dirfd: i32, new: usize, flags: u32) -> Result<usize> {
    let old = read_path(thread, old)?;
    let new = read_path(thread, new)?;
    let (root, old_start) = start(thread, old_dirfd, &old)?;
    let (_, new_start) = start(thread, new_dirfd, &new)?;
    check_parent_writable(thread, old_dirfd, &old)?;
    check_parent_writable(thread, new_dirfd, &new)?;
    file_systems().vfs.rename(&root, &old_start, &old, &new_start, &new, flags)?;
    Ok(0)
}

pub fn mount(thread: &Thread, source: usize, target: usize, fs_type: usize, flags: u64, data: usize) -> Result<usize> {
    let target = read_path(thread, target)?;
    let memory = memory(thread);
    let location = resolve_at(thread, f::AT_FDCWD, &target, 0)?;
    if flags & f::MS_REMOUNT != 0 {
        if !location.is_mount_root() {
            return Err(Errno::EINVAL);
        }
        location.mount().set_read_only(flags & f::MS_RDONLY != 0);
        return Ok(0);
    }
    let source = if source == 0 { Vec::new() } else { memory.read_cstring(source, 4095)? };
    if flags & f::MS_BIND != 0 {
        let from = resolve_at(thread, f::AT_FDCWD, &source, 0)?;
        if (from.inode().kind() == FileType::Directory) != (location.inode().kind() == FileType::Directory) {
            return Err(Errno::ENOTDIR);
        }
        let (source_name, fs_type) = (String::from(from.mount().source()), String::from(from.mount().fs_type()));
        let mount = file_systems().vfs.mount(&location, from.inode().clone(), &source_name, &fs_type)?;
        mount.set_read_only(flags & f::MS_RDONLY != 0);
        return Ok(0);
    }
    let fs_type = if fs_type == 0 { Vec::new() } else { memory.read_cstring(fs_type, 255)? };
    let options = if data == 0 { Vec::new() } else { memory.read_cstring(data, 4095)? };
    if location.inode().kind() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    let root: Arc<dyn vfs::Inode> = match fs_type.as_slice() {
        b"tmpfs" | b"ramfs" => {
            let fs = crate::fs::new_tmpfs();
            for option in options.split(|&byte| byte == b',') {
                if let Some(size) = option.strip_prefix(b"size=") {
                    fs.set_size_limit(Some(parse_size(size)?));
                }
            }
            fs.root()
        }
        b"devtmpfs" => crate::fs::new_devtmpfs()?.root(),
        b"proc" => crate::fs::procfs::new_procfs(),
        b"sysfs" => crate::fs::new_sysfs()?.root(),
        b"ext4" => {
            let device = resolve_at(thread, f::AT_FDCWD, &source, 0)?;
            if device.inode().kind() != FileType::BlockDevice {
                return Err(Errno::ENOTBLK);
            }
            let disk = crate::fs::blockdev::disk_by_rdev(device.inode().metadata().rdev).ok_or(Errno::ENXIO)?;
            let name = core::str::from_utf8(&source).unwrap_or("none");
            crate::fs::ext4::mount(disk, name, flags & f::MS_RDONLY != 0)?
        }
        _ => return Err(Errno::ENODEV),
    };
    for option in options.split(|&byte| byte == b',') {
        if let Some(mode) = option.strip_prefix(b"mode=") {
            let mode = core::str::from_utf8(mode).ok().and_then(|m| u32::from_str_radix(m, 8).ok()).ok_or(Errno::EINVAL)?;
            root.set_mode(mode & 0o7777)?;
        }
    }
    let source = if source.is_empty() { fs_type.clone() } else { source };
    let source = core::str::from_utf8(&source).unwrap_or("none");
    let fs_type = core::str::from_utf8(&fs_type).unwrap_or("none");
    let mount = file_systems().vfs.mount(&location, root, source, fs_type)?;
    mount.set_read_only(flags & f::MS_RDONLY != 0);
    Ok(0)
}

/// A tmpfs `size=` value: bytes with an optional k/m/g suffix, or a percentage of RAM.
fn parse_size(text: &[u8]) -> Result<u64> {
    let text = core::str::from_utf8(text).map_err(|_| Errno::EINVAL)?;
    let (number, multiplier) = match text.as_bytes().last() {
        Some(b'k' | b'K') => (&text[..text.len() - 1], 1u64 << 10),
        Some(b'm' | b'M') => (&text[..text.len() - 1], 1 << 20),
        Some(b'g' | b'G') => (&text[..text.len() - 1], 1 << 30),
        Some(b'%') => {
            let percent: u64 = text[..text.len() - 1].parse().map_err(|_| Errno::EINVAL)?;
            let (_, total) = crate::memory::frame_usage();
            return Ok(total as u64 * 4096 * percent / 100);
        }
        _ => (text, 1),
    };
    number.parse::<u64>().map_err(|_| Errno::EINVAL)?.checked_mul(multiplier).ok_or(Errno::EINVAL)
}

pub fn umount2(thread: &Thread, target: usize, flags: u32) -> Result<usize> {
    let target = read_path(thread, target)?;
    let location = resolve_at(thread, f::AT_FDCWD, &target, 0)?;
    let ext4_dev = (location.is_mount_root() && location.mount().fs_type() == "ext4").then(|| location.inode().metadata().dev);
    if ext4_dev.is_some() && !crate::coroutine::on_stack() {
        return Err(Errno::ERESTART_ON_STACK);
    }
    file_systems().vfs.umount(&location, flags)?;
    if let Some(dev) = ext4_dev {
        crate::fs::ext4::unmount(dev)?;
    }
    Ok(0)
}

fn statfs_of(location: &Location) -> Result<StatFs> {
    if location.mount().fs_type() == "ext4" {
        if let Some(result) = crate::fs::ext4::statfs(location.mount().root().metadata().dev) {
            return result;
        }
    }
    Ok(memory_statfs(location))
}

fn memory_statfs(location: &Location) -> StatFs {
    const TMPFS_MAGIC: i64 = 0x0102_1994;
    const PROC_SUPER_MAGIC: i64 = 0x9fa0;
    let (free, total) = crate::memory::frame_usage();
    let magic = if location.mount().fs_type() == "proc" { PROC_SUPER_MAGIC } else { TMPFS_MAGIC };
    // A tmpfs reports its size= limit (Linux's default: half of RAM) and what is used.
    let (blocks, available) = match vfs::tmpfs_usage(location.mount().root()) {
        Some((used, limit)) if limit != usize::MAX => (limit as u64, limit.saturating_sub(used) as u64),
        Some((used, _)) => (total as u64 / 2, (total as u64 / 2).saturating_sub(used as u64).min(free as u64)),
        None => (total as u64 / 2, free as u64 / 2),
    };
    StatFs {
        f_type: magic,
        f_bsize: 4096,
        f_blocks: blocks,
        f_bfree: available,
        f_bavail: available,
        f_files: free as u64,
        f_ffree: free as u64,
        f_fsid: [0, location.mount().id() as i32],
        f_namelen: 255,
        f_frsize: 4096,
        f_flags: 0x20, // ST_RELATIME
        f_spare: [0; 4],
    }
}

pub fn statfs(thread: &Thread, path: usize, buffer: usize) -> Result<usize> {
    let path = read_path(thread, path)?;
    let location = resolve_at(thread, f::AT_FDCWD, &path, 0)?;
    memory(thread).write(buffer, &statfs_of(&location)?)?;
    Ok(0)
}

pub fn fstatfs(thread: &Thread, fd: i32, buffer: usize) -> Result<usize> {
    let file = file(thread, fd)?;
    let location = file.location().cloned().ok_or(Errno::EINVAL)?;
    memory(thread).write(buffer, &statfs_of(&location)?)?;
    Ok(0)
}

pub fn truncate(thread: &Thread, path: usize, length: i64) -> Result<usize> {
    let path = read_path(thread, path)?;
    if length < 0 {
        return Err(Errno::EINVAL);
    }
    let location = resolve_at(thread, f::AT_FDCWD, &path, 0)?;
    match location.inode().kind() {
        FileType::Directory => return Err(Errno::EISDIR),
        FileType::Regular => {}
        _ => return Err(Errno::EINVAL),
    }
    check_writable(&location)?;
    crate::process::file_pages::truncate(location.inode().as_ref(), length as u64)?;
    Ok(0)
}

pub fn ftruncate(thread: &Thread, fd: i32, length: i64) -> Result<usize> {
    let file = file(thread, fd)?;
    let before = file.io().metadata();
    file.truncate(length)?;
    if (length as u64) < before.size && before.kind == FileType::Regular {
        crate::process::file_pages::unmap_past_end(before.dev, before.ino, length as u64);
    }
    Ok(0)
}

pub fn faccessat(thread: &Thread, dirfd: i32, path: usize, mode: u32, flags: u32) -> Result<usize> {
    if mode & !7 != 0 {
        return Err(Errno::EINVAL);
    }
    let path = read_path(thread, path)?;
    let location = resolve_at(thread, dirfd, &path, flags)?;
    // Root may do anything, except execute a file with no execute bit at all.
    let metadata = location.inode().metadata();
    if mode & 1 != 0 && metadata.kind != FileType::Directory && metadata.perm & 0o111 == 0 {
        return Err(Errno::EACCES);
    }
    Ok(0)
}

/// `location` if it is a directory, else ENOTDIR (chdir, fchdir, chroot).
fn directory(location: Location) -> Result<Location> {
    if location.inode().kind() == FileType::Directory { Ok(location) } else { Err(Errno::ENOTDIR) }
}

pub fn chdir(thread: &Thread, path: usize) -> Result<usize> {
    let path = read_path(thread, path)?;
    thread.process.inner.lock().cwd = directory(resolve_at(thread, f::AT_FDCWD, &path, 0)?)?;
    Ok(0)
}

pub fn fchdir(thread: &Thread, fd: i32) -> Result<usize> {
    let location = file(thread, fd)?.location().cloned().ok_or(Errno::ENOTDIR)?;
    thread.process.inner.lock().cwd = directory(location)?;
    Ok(0)
}

pub fn chroot(thread: &Thread, path: usize) -> Result<usize> {
    let path = read_path(thread, path)?;
    thread.process.inner.lock().root = directory(resolve_at(thread, f::AT_FDCWD, &path, 0)?)?;
    Ok(0)
}

pub fn fchmod(thread: &Thread, fd: i32, mode: u32) -> Result<usize> {
    file(thread, fd)?.inode().set_mode(mode & 0o7777)?;
    Ok(0)
}

pub fn fchmodat(thread: &Thread, dirfd: i32, path: usize, mode: u32) -> Result<usize> {
    let path = read_path(thread, path)?;
    let location = resolve_at(thread, dirfd, &path, 0)?;
    check_writable(&location)?;
    location.inode().set_mode(mode & 0o7777)?;
    Ok(0)
}

fn owner(id: u32) -> Option<u32> {
    (id != u32::MAX).then_some(id)
}

pub fn fchownat(thread: &Thread, dirfd: i32, path: usize, uid: u32, gid: u32, flags: u32) -> Result<usize> {
    let path = read_path(thread, path)?;
    let location = resolve_at(thread, dirfd, &path, flags)?;
    check_writable(&location)?;
    location.inode().set_owner(owner(uid), owner(gid))?;
    Ok(0)
}

pub fn fchown(thread: &Thread, fd: i32, uid: u32, gid: u32) -> Result<usize> {
    file(thread, fd)?.inode().set_owner(owner(uid), owner(gid))?;
    Ok(0)
}

/// openat: immediate, except opening a FIFO, which waits for the other end (as on
/// Linux) and so returns a future.
pub fn openat<'a>(thread: &'a Arc<Thread>, dirfd: i32, path: usize, flags: u32, mode: u32) -> super::Dispatch<'a> {
    match open_now(thread, dirfd, path, flags, mode) {
        Ok(Opened::Done(fd)) => super::Dispatch::Done(Ok(fd)),
        Ok(Opened::Fifo(location, flags)) => super::wait(async move {
            let (root, _) = {
                let inner = thread.process.inner.lock();
                (inner.root.clone(), inner.cwd.clone())
            };
            let path = location.path_from(&root)?;
            let file = interruptible(file_systems().vfs.open(&root, &root, &path, flags, 0)).await?;
            let fd = thread.process.files().lock().insert(file, flags.contains(OpenFlags::CLOEXEC))?;
            Ok(fd as usize)
        }),
        Err(error) => super::Dispatch::Done(Err(error)),
    }
}

enum Opened {
    Done(usize),
    Fifo(Location, OpenFlags),
}

fn open_now(thread: &Thread, dirfd: i32, path: usize, flags: u32, mode: u32) -> Result<Opened> {
    let path = read_path(thread, path)?;
    let flags = OpenFlags(flags);
    let (root, start) = start(thread, dirfd, &path)?;
    let vfs = &file_systems().vfs;
    // Whether this call created the file: then O_TRUNC has nothing to do (Linux skips it).
    let mut created = false;
    let location = if flags.contains(OpenFlags::CREAT) {
        let mut parent = vfs.resolve_parent(&root, &start, &path)?;
        let mut hops = 0;
        loop {
            match parent.dir.inode().lookup(&parent.name) {
                Ok(_) if flags.contains(OpenFlags::EXCL) => return Err(Errno::EEXIST),
                // O_CREAT through a dangling symlink creates its target, as on Linux.
                Ok(found) if found.kind() == FileType::Symlink && !flags.contains(OpenFlags::NOFOLLOW) => {
                    match vfs.resolve(&root, &parent.dir, &parent.name, true) {
                        Ok(location) => break location,
                        Err(Errno::ENOENT) => {
                            hops += 1;
                            if hops > 40 {
                                return Err(Errno::ELOOP);
                            }
                            let target = found.readlink()?;
                            parent = vfs.resolve_parent(&root, &parent.dir, &target)?;
                        }
                        Err(error) => return Err(error),
                    }
                }
                Ok(_) => break vfs.resolve(&root, &parent.dir, &parent.name, !flags.contains(OpenFlags::NOFOLLOW))?,
                Err(Errno::ENOENT) => {
                    check_writable(&parent.dir)?;
                    if parent.trailing_slash || parent.name.is_empty() || parent.name == b"." || parent.name == b".." {
                        return Err(Errno::EISDIR);
                    }
                    let umask = thread.process.inner.lock().umask;
                    let inode = match parent.dir.inode().create(&parent.name, FileType::Regular, mode & 0o7777 & !umask, 0) {
                        Ok(inode) => inode,
                        // Another process created it between the lookup and here: without
                        // O_EXCL that is the file to open, as on Linux (look again).
                        Err(Errno::EEXIST) if !flags.contains(OpenFlags::EXCL) && hops < 40 => {
                            hops += 1;
                            continue;
                        }
                        Err(error) => return Err(error),
                    };
                    created = true;
                    // With its name, for /proc/PID/maps and fd links.
                    break parent.dir.created_child(inode, &parent.name);
                }
                Err(error) => return Err(error),
            }
        }
    } else {
        vfs.resolve(&root, &start, &path, !flags.contains(OpenFlags::NOFOLLOW))?
    };
    let inode = location.inode().clone();
    let kind = inode.kind();
    if kind == FileType::Symlink {
        return Err(Errno::ELOOP);
    }
    if kind == FileType::Fifo {
        return Ok(Opened::Fifo(location, flags));
    }
    if flags.contains(OpenFlags::DIRECTORY) && kind != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    if kind == FileType::Directory && flags.writable() {
        return Err(Errno::EISDIR);
    }
    if (flags.writable() || flags.contains(OpenFlags::TRUNC)) && matches!(kind, FileType::Regular | FileType::Directory) {
        check_writable(&location)?;
    }
    if flags.contains(OpenFlags::TRUNC) && kind == FileType::Regular && flags.writable() && !created {
        crate::process::file_pages::truncate(inode.as_ref(), 0)?;
    }
    let io = inode.open(flags)?.unwrap_or_else(|| inode.clone());
    let file = OpenFile::new(inode, io, Some(location), flags);
    let fd = thread.process.files().lock().insert(file, flags.contains(OpenFlags::CLOEXEC))?;
    Ok(Opened::Done(fd as usize))
}

pub fn close(thread: &Thread, fd: i32) -> Result<usize> {
    let file = thread.process.files().lock().remove(fd)?;
    drop(file);
    Ok(0)
}

pub fn pipe2(thread: &Thread, fds: usize, flags: u32) -> Result<usize> {
    if flags & !(f::O_CLOEXEC | f::O_NONBLOCK | f::O_DIRECT) != 0 {
        return Err(Errno::EINVAL);
    }
    let (read_end, write_end) = vfs::open_pipe(OpenFlags(flags & f::O_NONBLOCK));
    install_pair(thread, read_end, write_end, flags & f::O_CLOEXEC != 0, fds)
}

/// Installs two new files as the lowest free fds and stores them at `fds` (pipe2,
/// socketpair); on any failure neither stays installed.
fn install_pair(thread: &Thread, first: Arc<OpenFile>, second: Arc<OpenFile>, cloexec: bool, fds: usize) -> Result<usize> {
    let files = thread.process.files();
    let first_fd = files.lock().insert(first, cloexec)?;
    let second_fd = match files.lock().insert(second, cloexec) {
        Ok(fd) => fd,
        Err(error) => {
            let _ = files.lock().remove(first_fd);
            return Err(error);
        }
    };
    if let Err(error) = memory(thread).write(fds, &[first_fd, second_fd]) {
        let _ = files.lock().remove(first_fd);
        let _ = files.lock().remove(second_fd);
        return Err(error);
    }
    Ok(0)
}

fn d_type(kind: FileType) -> u8 {
    match kind {
        FileType::Regular => f::DT_REG,
        FileType::Directory => f::DT_DIR,
        FileType::Symlink => f::DT_LNK,
        FileType::CharDevice => f::DT_CHR,
        FileType::BlockDevice => f::DT_BLK,
        FileType::Fifo => f::DT_FIFO,
        FileType::Socket => f::DT_SOCK,
    }
}

pub fn getdents64(thread: &Thread, fd: i32, buffer: usize, count: usize) -> Result<usize> {
    let file = file(thread, fd)?;
    if file.inode().kind() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    let mut out = vec![0u8; count.min(IO_CHUNK)];
    let mut used = 0;
    let mut too_small = false;
    file.read_dir(&mut |entry| {
        match f::write_dirent64(&mut out[used..], entry.ino, entry.next_offset as i64, d_type(entry.kind), &entry.name) {
            Some(length) => {
                used += length;
                true
            }
            None => {
                too_small = used == 0;
                false
            }
        }
    })?;
    if too_small {
        return Err(Errno::EINVAL);
    }
    memory(thread).write_bytes(buffer, &out[..used])?;
    Ok(used)
}

pub fn lseek(thread: &Thread, fd: i32, offset: i64, whence: u32) -> Result<usize> {
    Ok(file(thread, fd)?.seek(offset, whence)? as usize)
}

/// Reads from `file` into user memory at `buffer`; one wait at most (like Linux, a
/// read returns what is there once something is).
async fn read_into_user(thread: &Thread, file: &Arc<OpenFile>, buffer: usize, count: usize, offset: Option<i64>) -> Result<usize> {
    if !file.flags().readable() {
        return Err(Errno::EBADF);
    }
    if file.inode().kind() == FileType::Directory {
        return Err(Errno::EISDIR);
    }
    let count = count.min(MAX_RW_COUNT);
    let memory = memory(thread);
    let mut total = 0;
    while total < count {
        let chunk = (count - total).min(IO_CHUNK);
        // Data taken from a pipe or terminal cannot be put back if the copy below had to
        // stop for a file page of the buffer: wait for such pages first.
        memory.prepare_write(buffer + total, chunk).await;
        let mut kernel = vec![0u8; chunk];
        let read = match offset {
            Some(offset) => interruptible(file.pread(&mut kernel, offset + total as i64)).await,
            None if total == 0 => interruptible(file.read(&mut kernel)).await,
            None => {
                // Later chunks only take what is available without waiting.
                let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
                match file.poll_read(&mut cx, &mut kernel) {
                    Poll::Ready(result) => result,
                    Poll::Pending => break,
                }
            }
        };
        let read = match read {
            Ok(read) => read,
            Err(error) if total > 0 && error != Errno::EFAULT => break,
            Err(error) => return Err(error),
        };
        memory.write_bytes(buffer + total, &kernel[..read])?;
        total += read;
        if read < chunk || !file.inode().is_seekable() && offset.is_none() {
            break;
        }
    }
    Ok(total)
}

/// Writes user memory at `buffer` to `file`; EPIPE also raises SIGPIPE.
async fn write_from_user(thread: &Arc<Thread>, file: &Arc<OpenFile>, buffer: usize, count: usize, offset: Option<i64>) -> Result<usize> {
    if !file.flags().writable() {
        return Err(Errno::EBADF);
    }
    let count = count.min(MAX_RW_COUNT);
    let memory = memory(thread);
    let mut total = 0;
    while total < count {
        let chunk = (count - total).min(IO_CHUNK);
        let kernel = match memory.read_bytes(buffer + total, chunk) {
            Ok(kernel) => kernel,
            Err(error) if total == 0 => return Err(error),
            Err(_) => break,
        };
        let written = match offset {
            Some(offset) => interruptible(file.pwrite(&kernel, offset + total as i64)).await,
            None => interruptible(file.write(&kernel)).await,
        };
        match written {
            Ok(written) => {
                total += written;
                if written < chunk {
                    break;
                }
            }
            Err(Errno::EPIPE) => {
                crate::process::signal::send_to_thread(
                    thread,
                    abi::signal::Signal::SIGPIPE,
                    abi::signal::SigInfo::kill(abi::signal::Signal::SIGPIPE, abi::signal::SI_USER, thread.process.pid as i32, 0),
                );
                if total == 0 {
                    return Err(Errno::EPIPE);
                }
                break;
            }
            Err(error) if total == 0 => return Err(error),
            Err(_) => break,
        }
    }
    Ok(total)
}

/// Small reads and writes are first tried without waiting and without allocating:
/// most complete at once (regular files, /dev/null, a pipe with data), and only the
/// ones that must wait become a boxed future.
const SMALL_IO: usize = 512;

/// The open file of a small read or write tried at once: `None` when the call is
/// too large for the fast path; EBADF when the file is not open for that access.
fn small_io_file(thread: &Thread, fd: i32, count: usize, readable: bool) -> Option<Result<Arc<OpenFile>>> {
    if count > SMALL_IO {
        return None;
    }
    let file = match file(thread, fd) {
        Ok(file) => file,
        Err(error) => return Some(Err(error)),
    };
    let allowed = if readable { file.flags().readable() } else { file.flags().writable() };
    Some(if allowed { Ok(file) } else { Err(Errno::EBADF) })
}

/// A read that completes at once, or `None` if it has to wait (or is large).
pub fn read_now(thread: &Thread, fd: i32, buffer: usize, count: usize) -> Option<Result<usize>> {
    let file = match small_io_file(thread, fd, count, true)? {
        Ok(file) => file,
        Err(error) => return Some(Err(error)),
    };
    if file.inode().kind() == FileType::Directory {
        return Some(Err(Errno::EISDIR));
    }
    // What is read cannot be put back: if the buffer needs a file page first, the
    // asynchronous path waits for it before reading.
    if !memory(thread).ready_for_write(buffer, count) {
        return None;
    }
    with_stack_buffer(count, |kernel| {
        let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
        match file.poll_read(&mut cx, kernel) {
            Poll::Ready(Ok(read)) => Some(memory(thread).write_bytes(buffer, &kernel[..read]).map(|()| read)),
            Poll::Ready(Err(Errno::EAGAIN)) if !file.flags().contains(OpenFlags::NONBLOCK) => None,
            Poll::Ready(result) => Some(result),
            Poll::Pending => None,
        }
    })
}

/// Runs `body` on a zeroed stack buffer of `count` (≤ SMALL_IO) bytes; a 1-byte call
/// does not pay for zeroing 512 bytes.
fn with_stack_buffer<R>(count: usize, body: impl FnOnce(&mut [u8]) -> R) -> R {
    if count <= 64 {
        body(&mut [0u8; 64][..count])
    } else {
        body(&mut [0u8; SMALL_IO][..count])
    }
}

/// A write that completes at once, or `None` if it has to wait (or is large).
pub fn write_now(thread: &Thread, fd: i32, buffer: usize, count: usize) -> Option<Result<usize>> {
    let file = match small_io_file(thread, fd, count, false)? {
        Ok(file) => file,
        Err(error) => return Some(Err(error)),
    };
    with_stack_buffer(count, |kernel| {
        if let Err(error) = memory(thread).read_into(buffer, kernel) {
            return Some(Err(error));
        }
        let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
        match file.poll_write(&mut cx, kernel) {
            // EPIPE raises SIGPIPE: the async path does that.
            Poll::Ready(Err(Errno::EPIPE)) | Poll::Pending => None,
            Poll::Ready(Err(Errno::EAGAIN)) if !file.flags().contains(OpenFlags::NONBLOCK) => None,
            Poll::Ready(result) => Some(result),
        }
    })
}

pub async fn read(thread: &Arc<Thread>, fd: i32, buffer: usize, count: usize) -> Result<usize> {
    let file = file(thread, fd)?;
    read_into_user(thread, &file, buffer, count, None).await
}

pub async fn write(thread: &Arc<Thread>, fd: i32, buffer: usize, count: usize) -> Result<usize> {
    let file = file(thread, fd)?;
    write_from_user(thread, &file, buffer, count, None).await
}

pub async fn pread(thread: &Arc<Thread>, fd: i32, buffer: usize, count: usize, offset: i64) -> Result<usize> {
    let file = file(thread, fd)?;
    if offset < 0 {
        return Err(Errno::EINVAL);
    }
    if !file.inode().is_seekable() {
        return Err(Errno::ESPIPE);
    }
    read_into_user(thread, &file, buffer, count, Some(offset)).await
}

pub async fn pwrite(thread: &Arc<Thread>, fd: i32, buffer: usize, count: usize, offset: i64) -> Result<usize> {
    let file = file(thread, fd)?;
    if offset < 0 {
        return Err(Errno::EINVAL);
    }
    if !file.inode().is_seekable() {
        return Err(Errno::ESPIPE);
    }
    write_from_user(thread, &file, buffer, count, Some(offset)).await
}

fn read_iovecs(thread: &Thread, iov: usize, count: usize) -> Result<Vec<Iovec>> {
    if count > 1024 {
        return Err(Errno::EINVAL);
    }
    let memory = memory(thread);
    (0..count).map(|index| memory.read::<Iovec>(iov + index * core::mem::size_of::<Iovec>())).collect()
}

/// Reads into each user buffer of `vectors` in turn (at `offset` onwards if given);
/// stops at the first short read, like Linux.
async fn read_vectors(thread: &Thread, file: &Arc<OpenFile>, vectors: Vec<Iovec>, offset: Option<i64>) -> Result<usize> {
    let mut total = 0;
    for vector in vectors {
        if vector.iov_len == 0 {
            continue;
        }
        let at = offset.map(|offset| offset + total as i64);
        match read_into_user(thread, file, vector.iov_base as usize, vector.iov_len as usize, at).await {
            Ok(read) => {
                total += read;
                if read < vector.iov_len as usize {
                    break;
                }
            }
            Err(error) if total == 0 => return Err(error),
            Err(_) => break,
        }
    }
    Ok(total)
}

/// Copies the user buffers of `vectors` into one kernel buffer (one write, atomic on a
/// pipe and one line on the terminal, as Linux does for small writes).
fn gather(thread: &Thread, vectors: &[Iovec]) -> Result<Vec<u8>> {
    let memory = memory(thread);
    let mut gathered = Vec::new();
    for vector in vectors {
        let len = vector.iov_len as usize;
        if gathered.len() + len > MAX_RW_COUNT {
            return Err(Errno::EINVAL);
        }
        gathered.extend_from_slice(&memory.read_bytes(vector.iov_base as usize, len)?);
    }
    Ok(gathered)
}

pub async fn readv(thread: &Arc<Thread>, fd: i32, iov: usize, count: usize) -> Result<usize> {
    let file = file(thread, fd)?;
    let vectors = read_iovecs(thread, iov, count)?;
    read_vectors(thread, &file, vectors, None).await
}

pub async fn writev(thread: &Arc<Thread>, fd: i32, iov: usize, count: usize) -> Result<usize> {
    let file = file(thread, fd)?;
    let vectors = read_iovecs(thread, iov, count)?;
    let gathered = gather(thread, &vectors)?;
    if !file.flags().writable() {
        return Err(Errno::EBADF);
    }
    if gathered.is_empty() {
        return Ok(0);
    }
    match interruptible(file.write(&gathered)).await {
        Err(Errno::EPIPE) => {
            crate::process::signal::send_to_thread(
                thread,
                abi::signal::Signal::SIGPIPE,
                abi::signal::SigInfo::kill(abi::signal::Signal::SIGPIPE, abi::signal::SI_USER, thread.process.pid as i32, 0),
            );
            Err(Errno::EPIPE)
        }
        other => other,
    }
}

pub async fn preadv(thread: &Arc<Thread>, fd: i32, iov: usize, count: usize, offset: i64) -> Result<usize> {
    let file = file(thread, fd)?;
    if offset < 0 {
        return Err(Errno::EINVAL);
    }
    if !file.inode().is_seekable() {
        return Err(Errno::ESPIPE);
    }
    let vectors = read_iovecs(thread, iov, count)?;
    read_vectors(thread, &file, vectors, Some(offset)).await
}

pub async fn pwritev(thread: &Arc<Thread>, fd: i32, iov: usize, count: usize, offset: i64) -> Result<usize> {
    let file = file(thread, fd)?;
    if offset < 0 {
        return Err(Errno::EINVAL);
    }
    if !file.inode().is_seekable() {
        return Err(Errno::ESPIPE);
    }
    let vectors = read_iovecs(thread, iov, count)?;
    let gathered = gather(thread, &vectors)?;
    if !file.flags().writable() {
        return Err(Errno::EBADF);
    }
    interruptible(file.pwrite(&gathered, offset)).await
}

pub async fn sendfile(thread: &Arc<Thread>, out_fd: i32, in_fd: i32, offset_pointer: usize, count: usize) -> Result<usize> {
    let input = file(thread, in_fd)?;
    let output = file(thread, out_fd)?;
    if !input.flags().readable() || !output.flags().writable() {
        return Err(Errno::EBADF);
    }
    let memory = memory(thread);
    let explicit: Option<i64> = if offset_pointer != 0 { Some(memory.read(offset_pointer)?) } else { None };
    let seekable = input.inode().is_seekable();
    // From a seekable file, read at an offset and advance only by what was written, so
    // a failed write consumes nothing (Linux splices: the data stays in the file).
    let mut offset = explicit.or(seekable.then(|| input.offset() as i64));
    let mut total = 0;
    let count = count.min(MAX_RW_COUNT);
    let mut failure = None;
    while total < count {
        let mut kernel = vec![0u8; (count - total).min(IO_CHUNK)];
        let read = match offset {
            Some(at) => interruptible(input.pread(&mut kernel, at)).await,
            None => interruptible(input.read(&mut kernel)).await,
        };
        let read = match read {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) => {
                failure = Some(error);
                break;
            }
        };
        match interruptible(output.write(&kernel[..read])).await {
            Ok(written) => {
                total += written;
                if let Some(at) = offset.as_mut() {
                    *at += written as i64;
                }
                if written < read {
                    break;
                }
            }
            Err(error) => {
                failure = Some(error);
                break;
            }
        }
    }
    if let Some(at) = offset {
        if explicit.is_some() {
            memory.write(offset_pointer, &at)?;
        } else {
            input.seek(at, f::SEEK_SET)?;
        }
    }
    match failure {
        Some(error) if total == 0 => {
            if error == Errno::EPIPE {
                crate::process::signal::send_to_thread(
                    thread,
                    abi::signal::Signal::SIGPIPE,
                    abi::signal::SigInfo::kill(abi::signal::Signal::SIGPIPE, abi::signal::SI_USER, thread.process.pid as i32, 0),
                );
            }
            Err(error)
        }
        _ => Ok(total),
    }
}

/// Waits until one of `polls` is ready or `timeout` passes; fills in `revents`.
async fn poll_files(thread: &Thread, polls: &mut [PollFd], timeout: Option<core::time::Duration>) -> Result<usize> {
    let files: Vec<Option<Arc<OpenFile>>> =
        polls.iter().map(|poll| if poll.fd < 0 { None } else { file(thread, poll.fd).ok() }).collect();
    let mut sleep = timeout.map(crate::runtime::sleep);
    let ready = interruptible(core::future::poll_fn(|cx| {
        let mut ready = 0;
        for (poll, file) in polls.iter_mut().zip(&files) {
            poll.revents = 0;
            if poll.fd < 0 {
                continue;
            }
            let Some(file) = file else {
                poll.revents = Events::NVAL.0 as i16;
                ready += 1;
                continue;
            };
            let wanted = Events(poll.events as u16 | Events::ERR.0 | Events::HUP.0);
            if let Poll::Ready(events) = file.poll_ready(cx, wanted) {
                let events = events.0 & wanted.0;
                if events != 0 {
                    poll.revents = events as i16;
                    ready += 1;
                }
            }
        }
        if ready > 0 {
            return Poll::Ready(Ok(ready));
        }
        if let Some(sleep) = sleep.as_mut() {
            if core::pin::Pin::new(sleep).poll(cx).is_ready() {
                return Poll::Ready(Ok(0));
            }
        }
        Poll::Pending
    }))
    .await;
    match ready {
        Err(Errno::ERESTARTSYS) => Err(Errno::ERESTARTNOHAND),
        other => other,
    }
}

fn read_timeout(thread: &Thread, timespec: usize) -> Result<Option<core::time::Duration>> {
    if timespec == 0 {
        return Ok(None);
    }
    let timespec: abi::Timespec = memory(thread).read(timespec)?;
    timespec.to_duration().map(Some)
}

fn with_temporary_mask(thread: &Thread, mask_pointer: usize, size: usize) -> Result<Option<abi::signal::SigSet>> {
    if mask_pointer == 0 {
        return Ok(None);
    }
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    let mask: abi::signal::SigSet = memory(thread).read(mask_pointer)?;
    let mut inner = thread.inner.lock();
    let old = inner.mask;
    inner.mask = mask.blockable();
    Ok(Some(old))
}

pub async fn ppoll(thread: &Arc<Thread>, fds: usize, count: usize, timeout: usize, mask: usize, mask_size: usize) -> Result<usize> {
    if count > 4096 {
        return Err(Errno::EINVAL);
    }
    let memory = memory(thread);
    let mut polls: Vec<PollFd> =
        (0..count).map(|index| memory.read(fds + index * core::mem::size_of::<PollFd>())).collect::<Result<_>>()?;
    let timeout = read_timeout(thread, timeout)?;
    let old_mask = with_temporary_mask(thread, mask, mask_size)?;
    let result = poll_files(thread, &mut polls, timeout).await;
    if let Some(old) = old_mask {
        thread.inner.lock().mask = old;
    }
    let ready = result?;
    for (index, poll) in polls.iter().enumerate() {
        memory.write(fds + index * core::mem::size_of::<PollFd>() + 6, &poll.revents)?;
    }
    Ok(ready)
}

pub async fn pselect6(thread: &Arc<Thread>, count: i32, read: usize, write: usize, except: usize, timeout: usize, sigmask: usize) -> Result<usize> {
    if !(0..=1024).contains(&count) {
        return Err(Errno::EINVAL);
    }
    let memory = memory(thread);
    let words = (count as usize).div_ceil(64);
    let load = |pointer: usize| -> Result<Vec<u64>> {
        if pointer == 0 {
            return Ok(vec![0; words]);
        }
        (0..words).map(|index| memory.read::<u64>(pointer + index * 8)).collect()
    };
    let (read_set, write_set, except_set) = (load(read)?, load(write)?, load(except)?);
    let mut polls = Vec::new();
    for fd in 0..count as usize {
        let bit = |set: &[u64]| set[fd / 64] & (1 << (fd % 64)) != 0;
        let mut events = 0u16;
        if bit(&read_set) {
            events |= Events::IN.0;
        }
        if bit(&write_set) {
            events |= Events::OUT.0;
        }
        if bit(&except_set) {
            events |= Events::PRI.0;
        }
        if events != 0 {
            if file(thread, fd as i32).is_err() {
                return Err(Errno::EBADF);
            }
            polls.push(PollFd { fd: fd as i32, events: events as i16, revents: 0 });
        }
    }
    let timeout_pointer = timeout;
    let timeout = read_timeout(thread, timeout)?;
    let started = crate::time::monotonic_nanos();
    // pselect6's sixth argument points to {sigset pointer, size}.
    let (mask_pointer, mask_size) = if sigmask != 0 {
        let pair: [u64; 2] = memory.read(sigmask)?;
        (pair[0] as usize, pair[1] as usize)
    } else {
        (0, 0)
    };
    let old_mask = with_temporary_mask(thread, mask_pointer, mask_size)?;
    let result = poll_files(thread, &mut polls, timeout).await;
    if let Some(old) = old_mask {
        thread.inner.lock().mask = old;
    }
    result?;
    let (mut r, mut w, mut e) = (vec![0u64; words], vec![0u64; words], vec![0u64; words]);
    let mut ready = 0;
    for poll in &polls {
        let fd = poll.fd as usize;
        let revents = poll.revents as u16;
        let mut mark = |set: &mut Vec<u64>, hit: bool| {
            if hit {
                set[fd / 64] |= 1 << (fd % 64);
                ready += 1;
            }
        };
        mark(&mut r, poll.events as u16 & Events::IN.0 != 0 && revents & (Events::IN.0 | Events::HUP.0 | Events::ERR.0) != 0);
        mark(&mut w, poll.events as u16 & Events::OUT.0 != 0 && revents & (Events::OUT.0 | Events::ERR.0) != 0);
        mark(&mut e, poll.events as u16 & Events::PRI.0 != 0 && revents & Events::PRI.0 != 0);
    }
    let store = |pointer: usize, set: &[u64]| -> Result<()> {
        if pointer != 0 {
            for (index, word) in set.iter().enumerate() {
                memory.write(pointer + index * 8, word)?;
            }
        }
        Ok(())
    };
    store(read, &r)?;
    store(write, &w)?;
    store(except, &e)?;
    if let (Some(timeout), true) = (timeout, timeout_pointer != 0) {
        // Like Linux's select, report the time that was left.
        let spent = crate::time::monotonic_nanos() - started;
        let left = (timeout.as_nanos() as u64).saturating_sub(spent);
        let left = abi::Timespec { tv_sec: (left / 1_000_000_000) as i64, tv_nsec: (left % 1_000_000_000) as i64 };
        memory.write(timeout_pointer, &left)?;
    }
    Ok(ready)
}

pub fn readlinkat(thread: &Thread, dirfd: i32, path: usize, buffer: usize, size: usize) -> Result<usize> {
    if size == 0 || size > i32::MAX as usize {
        return Err(Errno::EINVAL);
    }
    let path = read_path(thread, path)?;
    let location = resolve_at(thread, dirfd, &path, f::AT_SYMLINK_NOFOLLOW)?;
    let target = location.inode().readlink()?;
    let length = target.len().min(size);
    memory(thread).write_bytes(buffer, &target[..length])?;
    Ok(length)
}

/// The metadata `path` (relative to `dirfd`) names; with AT_EMPTY_PATH and an empty
/// path, the open file `dirfd` itself (a pipe has no path: glibc's fstat comes here).
fn metadata_at(thread: &Thread, dirfd: i32, path: &[u8], flags: u32) -> Result<Metadata> {
    if path.is_empty() && flags & f::AT_EMPTY_PATH != 0 && dirfd != f::AT_FDCWD {
        return Ok(file(thread, dirfd)?.metadata());
    }
    Ok(resolve_at(thread, dirfd, path, flags)?.inode().metadata())
}

pub fn newfstatat(thread: &Thread, dirfd: i32, path: usize, buffer: usize, flags: u32) -> Result<usize> {
    if flags & !(f::AT_SYMLINK_NOFOLLOW | f::AT_EMPTY_PATH | f::AT_NO_AUTOMOUNT) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = read_path(thread, path)?;
    let metadata = metadata_at(thread, dirfd, &path, flags)?;
    memory(thread).write(buffer, &to_stat(&metadata))?;
    Ok(0)
}

pub fn fstat(thread: &Thread, fd: i32, buffer: usize) -> Result<usize> {
    let metadata = file(thread, fd)?.metadata();
    memory(thread).write(buffer, &to_stat(&metadata))?;
    Ok(0)
}

pub fn statx(thread: &Thread, dirfd: i32, path: usize, flags: u32, _mask: u32, buffer: usize) -> Result<usize> {
    let path = read_path(thread, path)?;
    let m = metadata_at(thread, dirfd, &path, flags)?;
    let time = |t: vfs::Timestamp| StatxTimestamp { tv_sec: t.sec, tv_nsec: t.nsec, __reserved: 0 };
    let statx = Statx {
        stx_mask: f::STATX_BASIC_STATS,
        stx_blksize: m.blksize,
        stx_nlink: m.nlink,
        stx_uid: m.uid,
        stx_gid: m.gid,
        stx_mode: (m.kind.mode_bits() | m.perm) as u16,
        stx_ino: m.ino,
        stx_size: m.size,
        stx_blocks: m.blocks,
        stx_atime: time(m.atime),
        stx_btime: time(m.ctime),
        stx_ctime: time(m.ctime),
        stx_mtime: time(m.mtime),
        stx_rdev_major: vfs::major(m.rdev),
        stx_rdev_minor: vfs::minor(m.rdev),
        stx_dev_major: vfs::major(m.dev),
        stx_dev_minor: vfs::minor(m.dev),
        ..Statx::default()
    };
    memory(thread).write(buffer, &statx)?;
    Ok(0)
}

/// fsync/fdatasync: a block device node or a file on a disk writes back its disk.
pub async fn fsync(thread: &Thread, fd: i32) -> Result<usize> {
    let file = file(thread, fd)?;
    if vfs::downcast_ref::<crate::fs::ext4::DiskInode>(file.io().as_ref()).is_some() {
        if !crate::coroutine::on_stack() {
            return Err(Errno::ERESTART_ON_STACK);
        }
        crate::fs::ext4::sync_all()?;
    }
    if let Some(disk) = crate::fs::blockdev::disk_of(file.io()) {
        disk.sync().await?;
    }
    Ok(0)
}

/// The fd check of syncfs (EBADF).
pub fn fsync_check(thread: &Thread, fd: i32) -> Result<()> {
    file(thread, fd).map(|_| ())
}

/// sync/syncfs: everything dirty goes to the disks.
pub async fn sync_all() -> Result<usize> {
    if crate::coroutine::on_stack() {
        crate::fs::ext4::sync_all()?;
    }
    crate::fs::blockdev::sync_all().await.map(|()| 0)
}

pub fn utimensat(thread: &Thread, dirfd: i32, path: usize, times: usize, flags: u32) -> Result<usize> {
    let location = if path == 0 {
        file(thread, dirfd)?.location().cloned().ok_or(Errno::EBADF)?
    } else {
        let path = read_path(thread, path)?;
        resolve_at(thread, dirfd, &path, flags)?
    };
    let convert = |timespec: abi::Timespec| -> Result<vfs::SetTime> {
        Ok(match timespec.tv_nsec {
            n if n == f::UTIME_NOW => vfs::SetTime::Now,
            n if n == f::UTIME_OMIT => vfs::SetTime::Omit,
            n if !(0..1_000_000_000).contains(&n) => return Err(Errno::EINVAL),
            n => vfs::SetTime::At(vfs::Timestamp { sec: timespec.tv_sec, nsec: n as u32 }),
        })
    };
    let (atime, mtime) = if times == 0 {
        (vfs::SetTime::Now, vfs::SetTime::Now)
    } else {
        let pair: [abi::Timespec; 2] = memory(thread).read(times)?;
        (convert(pair[0])?, convert(pair[1])?)
    };
    check_writable(&location)?;
    location.inode().set_times(atime, mtime)?;
    Ok(0)
}

pub fn umask(thread: &Thread, mask: u32) -> Result<usize> {
    let mut inner = thread.process.inner.lock();
    let old = inner.umask;
    inner.umask = mask & 0o777;
    Ok(old as usize)
}

// ---- eventfd and epoll ---------------------------------------------------------------

pub fn eventfd2(thread: &Thread, initial: u32, flags: u32) -> Result<usize> {
    const EFD_SEMAPHORE: u32 = 1;
    if flags & !(f::O_CLOEXEC | f::O_NONBLOCK | EFD_SEMAPHORE) != 0 {
        return Err(Errno::EINVAL);
    }
    let inode: Arc<dyn vfs::Inode> = crate::fs::eventpoll::EventFd::new(initial as u64, flags & EFD_SEMAPHORE != 0);
    let file = OpenFile::new(inode.clone(), inode, None, OpenFlags::RDWR | OpenFlags(flags & f::O_NONBLOCK));
    Ok(thread.process.files().lock().insert(file, flags & f::O_CLOEXEC != 0)? as usize)
}

pub fn epoll_create1(thread: &Thread, flags: u32) -> Result<usize> {
    if flags & !abi::poll::EPOLL_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    let inode: Arc<dyn vfs::Inode> = crate::fs::eventpoll::Epoll::new();
    let file = OpenFile::new(inode.clone(), inode, None, OpenFlags::RDWR);
    Ok(thread.process.files().lock().insert(file, flags & abi::poll::EPOLL_CLOEXEC != 0)? as usize)
}

fn epoll_of(thread: &Thread, epfd: i32) -> Result<(Arc<OpenFile>, ())> {
    let file = file(thread, epfd)?;
    if vfs::downcast_ref::<crate::fs::eventpoll::Epoll>(file.io().as_ref()).is_none() {
        return Err(Errno::EINVAL);
    }
    Ok((file, ()))
}

pub fn epoll_ctl(thread: &Thread, epfd: i32, op: u32, fd: i32, event: usize) -> Result<usize> {
    let (epoll_file, ()) = epoll_of(thread, epfd)?;
    let target = file(thread, fd)?;
    if fd == epfd {
        return Err(Errno::EINVAL);
    }
    if matches!(target.inode().kind(), FileType::Regular | FileType::Directory) && target.location().is_some() {
        return Err(Errno::EPERM); // files that cannot block are not pollable through epoll
    }
    let (events, data) = if op == abi::poll::EPOLL_CTL_DEL {
        (0, 0)
    } else {
        let event: abi::EpollEvent = memory(thread).read(event)?;
        (event.events, event.data)
    };
    let epoll = vfs::downcast_ref::<crate::fs::eventpoll::Epoll>(epoll_file.io().as_ref()).expect("checked above");
    epoll.control(op, fd, target, events, data)?;
    Ok(0)
}

pub async fn epoll_pwait(thread: &Arc<Thread>, epfd: i32, events: usize, max: i32, timeout_ms: i32, mask: usize, mask_size: usize) -> Result<usize> {
    if max <= 0 || max as usize > (i32::MAX as usize) / core::mem::size_of::<abi::EpollEvent>() {
        return Err(Errno::EINVAL);
    }
    let (epoll_file, ()) = epoll_of(thread, epfd)?;
    let epoll = vfs::downcast_arc::<crate::fs::eventpoll::Epoll>(epoll_file.io()).ok_or(Errno::EINVAL)?;
    let old_mask = with_temporary_mask(thread, mask, mask_size)?;
    let mut sleep = (timeout_ms >= 0).then(|| crate::runtime::sleep(core::time::Duration::from_millis(timeout_ms as u64)));
    let result = interruptible(core::future::poll_fn(|cx| {
        let ready = epoll.poll_events(cx, max as usize);
        if !ready.is_empty() {
            return Poll::Ready(Ok(ready));
        }
        if let Some(sleep) = sleep.as_mut() {
            if core::pin::Pin::new(sleep).poll(cx).is_ready() {
                return Poll::Ready(Ok(Vec::new()));
            }
        }
        Poll::Pending
    }))
    .await;
    if let Some(old) = old_mask {
        thread.inner.lock().mask = old;
    }
    let ready = match result {
        Err(Errno::ERESTARTSYS) => return Err(Errno::EINTR),
        other => other?,
    };
    let memory = memory(thread);
    for (index, event) in ready.iter().enumerate() {
        memory.write(events + index * core::mem::size_of::<abi::EpollEvent>(), event)?;
    }
    Ok(ready.len())
}

/// socketpair: AF_UNIX SOCK_STREAM only (two pipes, crossed).
pub fn socketpair(thread: &Thread, domain: u32, kind: u32, protocol: u32, fds: usize) -> Result<usize> {
    const AF_UNIX: u32 = 1;
    const SOCK_STREAM: u32 = 1;
    const SOCK_NONBLOCK: u32 = f::O_NONBLOCK;
    const SOCK_CLOEXEC: u32 = f::O_CLOEXEC;
    if domain != AF_UNIX {
        return Err(Errno::EAFNOSUPPORT);
    }
    if kind & !(SOCK_NONBLOCK | SOCK_CLOEXEC) != SOCK_STREAM || protocol != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let (a, b) = crate::fs::eventpoll::socket_pair();
    let flags = OpenFlags::RDWR | OpenFlags(kind & SOCK_NONBLOCK);
    let (a, b): (Arc<dyn vfs::Inode>, Arc<dyn vfs::Inode>) = (a, b);
    let (a, b) = (OpenFile::new(a.clone(), a, None, flags), OpenFile::new(b.clone(), b, None, flags));
    install_pair(thread, a, b, kind & SOCK_CLOEXEC != 0, fds)
}
