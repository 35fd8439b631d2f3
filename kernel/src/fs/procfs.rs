//! A small procfs: what busybox ps/top/free/mount and glibc read.
//!
//! Files are generated when read: `/proc/meminfo`, `cpuinfo`, `uptime`, `mounts`,
//! `cmdline`, `version`, `self` (a symlink to the reader's pid) and per process
//! `stat`, `status`, `cmdline`, `comm`, `maps` and `exe`.
//!
//! `/proc/coros/counters` is coros' own (Linux has no such file): traps, system calls,
//! page-table (`satp`) switches and interrupts since boot, one `name value` per line,
//! read by `user/bench-syscalls` before and after each workload to report them per
//! operation. Per virtio-blk disk it also has `vdX_requests`, `vdX_in_flight` (now),
//! `vdX_max_in_flight` (since boot) and `vdX_flushes`, which `user/bench-disk` reads.
//!
//! `MemFree` counts free frames *and* the free bytes inside the kernel heap: the heap
//! takes a reserve of frames at boot, so counting frames alone would hide every kernel
//! allocation served from that reserve (thread state, boxed futures) and make the
//! per-thread memory figure of `make bench` a lie.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::task::{Context, Poll};

use abi::{Errno, Result};
use vfs::{DirEntry, FileType, Inode, Metadata, Timestamp};

use crate::process::{find_process, Process, ProcessState};

const PROC_DEV: u64 = 0x15;

fn metadata(ino: u64, kind: FileType, perm: u32, size: u64) -> Metadata {
    let now = crate::fs::now();
    let time = Timestamp { sec: now.0, nsec: now.1 };
    Metadata {
        dev: PROC_DEV,
        ino,
        kind,
        perm,
        nlink: if kind == FileType::Directory { 2 } else { 1 },
        uid: 0,
        gid: 0,
        size,
        blocks: 0,
        blksize: 1024,
        rdev: 0,
        atime: time,
        mtime: time,
        ctime: time,
    }
}

/// What a procfs node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Node {
    Root,
    SelfLink,
    Global(&'static str),
    ProcessDir(u32),
    ProcessFile(u32, &'static str),
    ProcessExe(u32),
    ProcessCwd(u32),
    FdDir(u32),
    FdLink(u32, i32),
    SysDir(&'static str),
    SysFile(&'static str),
    /// /proc/PID/environ as of the process's `exec_count` when it was looked up.
    Environ(u32, u64),
    /// /proc/thread-self: a symlink to `PID/task/TID`.
    ThreadSelf,
    /// /proc/PID/task.
    TaskDir(u32),
    /// /proc/PID/task/TID.
    Task(u32, u32),
    /// /proc/PID/task/TID/comm.
    TaskComm(u32, u32),
    /// /proc/coros: coros' own files.
    CorosDir,
    /// /proc/coros/NAME.
    CorosFile(&'static str),
}

const GLOBAL_FILES: &[&str] = &["meminfo", "cpuinfo", "uptime", "mounts", "cmdline", "version", "loadavg", "stat", "filesystems"];
const PROCESS_FILES: &[&str] = &["stat", "status", "cmdline", "comm", "maps", "environ"];
/// /proc/sys: directories and files (path below /proc/sys).
const SYS_DIRS: &[&str] = &["kernel"];
const SYS_FILES: &[&str] = &["kernel/ostype", "kernel/osrelease", "kernel/hostname", "kernel/pid_max", "kernel/version"];
/// /proc/coros: files Linux lacks.
const COROS_FILES: &[&str] = &["counters"];

struct ProcNode(Node);

fn ino_of(node: Node) -> u64 {
    match node {
        Node::Root => 1,
        Node::SelfLink => 2,
        Node::Global(name) => 16 + GLOBAL_FILES.iter().position(|n| *n == name).unwrap_or(0) as u64,
        Node::ProcessDir(pid) => (pid as u64) << 8,
        Node::ProcessFile(pid, name) => ((pid as u64) << 8) | (1 + PROCESS_FILES.iter().position(|n| *n == name).unwrap_or(0) as u64),
        Node::ProcessExe(pid) => ((pid as u64) << 8) | 0x80,
        Node::ProcessCwd(pid) => ((pid as u64) << 8) | 0x81,
        Node::FdDir(pid) => ((pid as u64) << 8) | 0x82,
        Node::FdLink(pid, fd) => (1 << 40) | ((pid as u64) << 16) | fd as u64,
        Node::SysDir(name) => 64 + SYS_DIRS.iter().position(|n| *n == name).unwrap_or(0) as u64,
        Node::SysFile(name) => 96 + SYS_FILES.iter().position(|n| *n == name).unwrap_or(0) as u64,
        Node::Environ(pid, _) => ((pid as u64) << 8) | 0x83,
        Node::ThreadSelf => 3,
        Node::TaskDir(pid) => ((pid as u64) << 8) | 0x84,
        Node::Task(_, tid) => (2 << 40) | ((tid as u64) << 8),
        Node::TaskComm(_, tid) => (2 << 40) | ((tid as u64) << 8) | 1,
        Node::CorosDir => 4,
        Node::CorosFile(name) => 128 + COROS_FILES.iter().position(|n| *n == name).unwrap_or(0) as u64,
    }
}

/// A new procfs instance (its root directory).
pub fn new_procfs() -> Arc<dyn Inode> {
    Arc::new(ProcNode(Node::Root))
}

fn state_letter(process: &Process) -> char {
    let state = process.inner.lock().state;
    match state {
        ProcessState::Running => {
            let reading = crate::process::current().is_some_and(|thread| Arc::ptr_eq(&thread.process, &process_arc(process)));
            if reading { 'R' } else { 'S' }
        }
        ProcessState::Stopped { .. } => 'T',
        ProcessState::Zombie(_) => 'Z',
    }
}

fn process_arc(process: &Process) -> Arc<Process> {
    find_process(process.pid).expect("a process being described exists")
}

fn command_name(process: &Process) -> String {
    String::from_utf8_lossy(&process.inner.lock().comm).into_owned()
}

fn generate(node: Node) -> Result<Vec<u8>> {
    let text = match node {
        Node::Global("meminfo") => {
            let (free_frames, total) = crate::memory::frame_usage();
            let (heap_used, heap_size) = crate::memory::heap_usage();
            let kib = |frames: usize| frames * 4;
            let free = (kib(free_frames) + heap_size.saturating_sub(heap_used) / 1024).min(kib(total));
            format!(
                "MemTotal:       {:8} kB\nMemFree:        {:8} kB\nMemAvailable:   {:8} kB\nBuffers:               0 kB\nCached:                0 kB\nSwapCached:            0 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\nShmem:                 0 kB\n",
                kib(total),
                free,
                free
            )
        }
        Node::Global("cpuinfo") => {
            let mut text = String::new();
            for hart in &crate::boot::machine().harts {
                text += &format!("processor\t: {hart}\nhart\t\t: {hart}\nisa\t\t: rv64imafdc\nmmu\t\t: sv39\n\n");
            }
            text
        }
        Node::Global("uptime") => {
            let nanos = crate::time::monotonic_nanos();
            format!("{}.{:02} 0.00\n", nanos / 1_000_000_000, (nanos / 10_000_000) % 100)
        }
        Node::Global("mounts") => {
            let mut text = String::new();
            for mount in crate::fs::file_systems().vfs.mounts() {
                let point = match mount.mount_point() {
                    Some(location) => String::from_utf8_lossy(&location.path().unwrap_or_default()).into_owned(),
                    None => String::from("/"),
                };
                let mode = if mount.is_read_only() { "ro" } else { "rw" };
                text += &format!("{} {} {} {mode} 0 0\n", mount.source(), point, mount.fs_type());
            }
            text
        }
        Node::Global("cmdline") => format!("{}\n", crate::boot::machine().bootargs),
        Node::Global("version") => format!("Linux version 6.12.0-coros (coros {}) #1 SMP\n", env!("CARGO_PKG_VERSION")),
        Node::Global("loadavg") => format!("0.00 0.00 0.00 1/{} {}\n", crate::process::thread_count(), 1),
        Node::Global("stat") => String::from("cpu  0 0 0 0 0 0 0 0 0 0\n"),
        Node::Global("filesystems") => String::from("nodev\ttmpfs\nnodev\tdevtmpfs\nnodev\tproc\nnodev\tsysfs\n\text4\n"),
        Node::CorosFile("counters") => {
            use core::sync::atomic::Ordering::Relaxed;
            let mut text = format!(
                "traps {}\nsyscalls {}\nsatp_switches {}\ninterrupts {}\ntlb_shootdowns {}\n",
                crate::trap::traps(),
                crate::syscall::SYSCALLS.load(Relaxed),
                crate::process::run::PAGE_TABLE_SWITCHES.load(Relaxed),
                crate::trap::INTERRUPTS.load(Relaxed),
                crate::process::run::SHOOTDOWNS.load(Relaxed)
            );
            // Per disk: requests completed, in flight now, the most in flight at once
            // since boot, FLUSH requests (`user/bench-disk` samples `_in_flight`).
            for disk in crate::drivers::virtio_blk::disks() {
                text += &format!(
                    "{0}_requests {1}\n{0}_in_flight {2}\n{0}_max_in_flight {3}\n{0}_flushes {4}\n",
                    disk.name,
                    disk.completed.load(Relaxed),
                    disk.in_flight_now(),
                    disk.max_in_flight.load(Relaxed),
                    disk.flushes.load(Relaxed)
                );
            }
            text
        }
        Node::SysFile("kernel/ostype") => String::from("Linux\n"),
        Node::SysFile("kernel/osrelease") => String::from("6.12.0-coros\n"),
        Node::SysFile("kernel/hostname") => String::from("(none)\n"),
        Node::SysFile("kernel/pid_max") => String::from("4194304\n"),
        Node::SysFile("kernel/version") => format!("#1 SMP coros {}\n", env!("CARGO_PKG_VERSION")),
        Node::ProcessFile(pid, name) => {
            let process = find_process(pid).ok_or(Errno::ESRCH)?;
            let comm = command_name(&process);
            let resident = process.space().lock().resident_pages();
            let threads = process.threads().len();
            let (ppid, pgid, sid, nice) = {
                let inner = process.inner.lock();
                (inner.parent.upgrade().map_or(0, |p| p.pid), inner.pgid, inner.sid, inner.nice)
            };
            match name {
                "stat" => format!(
                    "{pid} ({comm}) {} {ppid} {pgid} {sid} 0 -1 0 0 0 0 0 0 0 0 0 {} {nice} {} 0 0 {} {} 0 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
                    state_letter(&process),
                    20 + nice,
                    threads.max(1),
                    resident * 4096,
                    resident
                ),
                "status" => format!(
                    "Name:\t{comm}\nState:\t{}\nTgid:\t{pid}\nPid:\t{pid}\nPPid:\t{ppid}\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nVmRSS:\t{} kB\nThreads:\t{}\n",
                    state_letter(&process),
                    resident * 4,
                    threads
                ),
                "cmdline" => return Ok(process.inner.lock().cmdline.clone()),

                "comm" => format!("{comm}\n"),
                "maps" => {
                    let space = process.space();
                    let space = space.lock();
                    let mut text = String::new();
                    for area in space.areas() {
                        text += &crate::process::file_pages::maps_line(area);
                    }
                    text
                }
                _ => return Err(Errno::ENOENT),
            }
        }
        Node::TaskComm(_, tid) => {
            let thread = crate::process::find_thread(tid).ok_or(Errno::ESRCH)?;
            let mut name = thread.name();
            name.push(b'\n');
            return Ok(name);
        }
        Node::Environ(pid, exec_count) => {
            let process = find_process(pid).ok_or(Errno::ESRCH)?;
            let inner = process.inner.lock();
            return Ok(if inner.exec_count == exec_count { inner.environ.clone() } else { Vec::new() });
        }
        _ => return Err(Errno::EINVAL),
    };
    Ok(text.into_bytes())
}

impl Inode for ProcNode {
    fn metadata(&self) -> Metadata {
        let ino = ino_of(self.0);
        match self.0 {
            Node::Root
            | Node::ProcessDir(_)
            | Node::FdDir(_)
            | Node::SysDir(_)
            | Node::TaskDir(_)
            | Node::Task(..)
            | Node::CorosDir => {
                metadata(ino, FileType::Directory, 0o555, 0)
            }
            Node::SelfLink | Node::ThreadSelf | Node::ProcessExe(_) | Node::ProcessCwd(_) | Node::FdLink(..) => {
                metadata(ino, FileType::Symlink, 0o777, 0)
            }
            _ => metadata(ino, FileType::Regular, 0o444, 0),
        }
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>> {
        let node = match self.0 {
            Node::Root => {
                if name == b"self" {
                    Node::SelfLink
                } else if name == b"thread-self" {
                    Node::ThreadSelf
                } else if name == b"sys" {
                    Node::SysDir("")
                } else if name == b"coros" {
                    Node::CorosDir
                } else if let Some(global) = GLOBAL_FILES.iter().find(|n| n.as_bytes() == name) {
                    Node::Global(global)
                } else {
                    let pid: u32 = core::str::from_utf8(name).ok().and_then(|s| s.parse().ok()).ok_or(Errno::ENOENT)?;
                    find_process(pid).ok_or(Errno::ENOENT)?;
                    Node::ProcessDir(pid)
                }
            }
            Node::ProcessDir(pid) => {
                if name == b"exe" {
                    Node::ProcessExe(pid)
                } else if name == b"cwd" {
                    Node::ProcessCwd(pid)
                } else if name == b"fd" {
                    Node::FdDir(pid)
                } else if name == b"task" {
                    Node::TaskDir(pid)
                } else if name == b"environ" {
                    let exec_count = find_process(pid).ok_or(Errno::ENOENT)?.inner.lock().exec_count;
                    Node::Environ(pid, exec_count)
                } else {
                    let file = PROCESS_FILES.iter().find(|n| n.as_bytes() == name).ok_or(Errno::ENOENT)?;
                    Node::ProcessFile(pid, file)
                }
            }
            Node::TaskDir(pid) => {
                let tid: u32 = core::str::from_utf8(name).ok().and_then(|s| s.parse().ok()).ok_or(Errno::ENOENT)?;
                let thread = crate::process::find_thread(tid).ok_or(Errno::ENOENT)?;
                if thread.process.pid != pid {
                    return Err(Errno::ENOENT);
                }
                Node::Task(pid, tid)
            }
            Node::CorosDir => {
                let file = COROS_FILES.iter().find(|n| n.as_bytes() == name).ok_or(Errno::ENOENT)?;
                Node::CorosFile(file)
            }
            Node::Task(pid, tid) => match name {
                b"comm" => Node::TaskComm(pid, tid),
                _ => return Err(Errno::ENOENT),
            },
            Node::FdDir(pid) => {
                let fd: i32 = core::str::from_utf8(name).ok().and_then(|s| s.parse().ok()).ok_or(Errno::ENOENT)?;
                let process = find_process(pid).ok_or(Errno::ENOENT)?;
                process.files().lock().get(fd).map_err(|_| Errno::ENOENT)?;
                Node::FdLink(pid, fd)
            }
            Node::SysDir(dir) => {
                let name = core::str::from_utf8(name).map_err(|_| Errno::ENOENT)?;
                let full = if dir.is_empty() { String::from(name) } else { format!("{dir}/{name}") };
                if let Some(sub) = SYS_DIRS.iter().find(|d| **d == full) {
                    Node::SysDir(sub)
                } else if let Some(file) = SYS_FILES.iter().find(|f| **f == full) {
                    Node::SysFile(file)
                } else {
                    return Err(Errno::ENOENT);
                }
            }
            _ => return Err(Errno::ENOTDIR),
        };
        Ok(Arc::new(ProcNode(node)))
    }

    fn read_dir(&self, offset: u64, emit: &mut dyn FnMut(&DirEntry) -> bool) -> Result<()> {
        let mut entries: Vec<(Vec<u8>, u64, FileType)> = Vec::new();
        entries.push((b".".to_vec(), ino_of(self.0), FileType::Directory));
        entries.push((b"..".to_vec(), 1, FileType::Directory));
        match self.0 {
            Node::Root => {
                entries.push((b"self".to_vec(), 2, FileType::Symlink));
                entries.push((b"thread-self".to_vec(), 3, FileType::Symlink));
                entries.push((b"coros".to_vec(), ino_of(Node::CorosDir), FileType::Directory));
                for name in GLOBAL_FILES {
                    entries.push((name.as_bytes().to_vec(), ino_of(Node::Global(name)), FileType::Regular));
                }
                for process in crate::process::all_processes() {
                    entries.push((format!("{}", process.pid).into_bytes(), ino_of(Node::ProcessDir(process.pid)), FileType::Directory));
                }
            }
            Node::ProcessDir(pid) => {
                for name in PROCESS_FILES {
                    entries.push((name.as_bytes().to_vec(), ino_of(Node::ProcessFile(pid, name)), FileType::Regular));
                }
                entries.push((b"exe".to_vec(), ino_of(Node::ProcessExe(pid)), FileType::Symlink));
                entries.push((b"cwd".to_vec(), ino_of(Node::ProcessCwd(pid)), FileType::Symlink));
                entries.push((b"fd".to_vec(), ino_of(Node::FdDir(pid)), FileType::Directory));
                entries.push((b"task".to_vec(), ino_of(Node::TaskDir(pid)), FileType::Directory));
            }
            Node::TaskDir(pid) => {
                let process = find_process(pid).ok_or(Errno::ENOENT)?;
                for thread in process.threads() {
                    entries.push((format!("{}", thread.tid).into_bytes(), ino_of(Node::Task(pid, thread.tid)), FileType::Directory));
                }
            }
            Node::CorosDir => {
                for name in COROS_FILES {
                    entries.push((name.as_bytes().to_vec(), ino_of(Node::CorosFile(name)), FileType::Regular));
                }
            }
            Node::Task(pid, tid) => {
                entries.push((b"comm".to_vec(), ino_of(Node::TaskComm(pid, tid)), FileType::Regular));
            }
            Node::FdDir(pid) => {
                let process = find_process(pid).ok_or(Errno::ENOENT)?;
                let fds: Vec<i32> = process.files().lock().iter().map(|(fd, _)| fd).collect();
                for fd in fds {
                    entries.push((format!("{fd}").into_bytes(), ino_of(Node::FdLink(pid, fd)), FileType::Symlink));
                }
            }
            Node::SysDir(dir) => {
                let prefix = if dir.is_empty() { String::new() } else { format!("{dir}/") };
                for sub in SYS_DIRS.iter().chain(SYS_FILES) {
                    if let Some(rest) = sub.strip_prefix(prefix.as_str()) {
                        if !rest.is_empty() && !rest.contains('/') {
                            let kind = if SYS_DIRS.contains(sub) { FileType::Directory } else { FileType::Regular };
                            entries.push((rest.as_bytes().to_vec(), 0, kind));
                        }
                    }
                }
            }
            _ => return Err(Errno::ENOTDIR),
        }
        for (index, (name, ino, kind)) in entries.into_iter().enumerate().skip(offset as usize) {
            if !emit(&DirEntry { name, ino, kind, next_offset: index as u64 + 1 }) {
                break;
            }
        }
        Ok(())
    }

    fn readlink(&self) -> Result<Vec<u8>> {
        match self.0 {
            Node::SelfLink => {
                let pid = crate::process::current().map(|thread| thread.process.pid).ok_or(Errno::ENOENT)?;
                Ok(format!("{pid}").into_bytes())
            }
            Node::ProcessExe(pid) => Ok(find_process(pid).ok_or(Errno::ENOENT)?.inner.lock().exe.clone()),
            Node::ThreadSelf => {
                let thread = crate::process::current().ok_or(Errno::ENOENT)?;
                Ok(format!("{}/task/{}", thread.process.pid, thread.tid).into_bytes())
            }
            Node::ProcessCwd(pid) => {
                let process = find_process(pid).ok_or(Errno::ENOENT)?;
                let (cwd, root) = {
                    let inner = process.inner.lock();
                    (inner.cwd.clone(), inner.root.clone())
                };
                cwd.path_from(&root)
            }
            Node::FdLink(pid, fd) => {
                let process = find_process(pid).ok_or(Errno::ENOENT)?;
                let file = process.files().lock().get(fd).map_err(|_| Errno::ENOENT)?;
                match file.location() {
                    Some(location) => location.path(),
                    None => {
                        let ino = file.metadata().ino;
                        let kind = if file.metadata().kind == FileType::Fifo { "pipe" } else { "anon_inode" };
                        Ok(format!("{kind}:[{ino}]").into_bytes())
                    }
                }
            }
            _ => Err(Errno::EINVAL),
        }
    }

    fn poll_read_at(&self, _cx: &mut Context<'_>, offset: u64, buf: &mut [u8]) -> Poll<Result<usize>> {
        let data = match generate(self.0) {
            Ok(data) => data,
            Err(error) => return Poll::Ready(Err(error)),
        };
        let start = (offset as usize).min(data.len());
        let count = buf.len().min(data.len() - start);
        buf[..count].copy_from_slice(&data[start..start + count]);
        Poll::Ready(Ok(count))
    }

    fn is_seekable(&self) -> bool {
        true
    }
}
