//! Shared test fixture: images made by the host's `mke2fs` in a temporary directory, a
//! file-backed `BlockDevice`, and the host's `e2fsck -fn` and `debugfs` as the oracle.
//!
//! If `mke2fs` is missing, [`Tools::find`] returns `None` and each test prints why it is
//! skipped (the e2fsprogs binaries are expected in /usr/sbin or /sbin or on `PATH`).
#![allow(dead_code)]

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use abi::Errno;
use ext4fs::{BlockDevice, Ext4Fs, MountConfig};
use vfs::{DeviceRegistry, FileType, Inode};

/// The file system type every test mounts.
pub type Fs = Ext4Fs<parking_lot::RawMutex, FileDevice>;

/// A disk image file as a block device with `sector`-byte sectors.
pub struct FileDevice {
    file: File,
    sector: usize,
    sectors: u64,
    read_only: bool,
    /// When set, every read and write fails with `EIO`.
    pub fail: Arc<AtomicBool>,
    /// Number of writes so far.
    pub writes: Arc<AtomicU64>,
}

impl FileDevice {
    pub fn open(path: &Path, read_only: bool) -> Self {
        Self::with_sector(path, read_only, 512)
    }

    pub fn with_sector(path: &Path, read_only: bool, sector: usize) -> Self {
        let file = File::options().read(true).write(!read_only).open(path).expect("open image");
        let sectors = file.metadata().unwrap().len() / sector as u64;
        Self { file, sector, sectors, read_only, fail: Arc::default(), writes: Arc::default() }
    }

    fn range(&self, block: u64, length: usize) -> Result<u64, Errno> {
        if self.fail.load(Ordering::Relaxed) || !length.is_multiple_of(self.sector) {
            return Err(Errno::EIO);
        }
        let end = block.checked_add((length / self.sector) as u64).ok_or(Errno::EIO)?;
        if end > self.sectors {
            return Err(Errno::EIO);
        }
        Ok(block * self.sector as u64)
    }
}

impl BlockDevice for FileDevice {
    fn block_size(&self) -> usize {
        self.sector
    }
    fn blocks(&self) -> u64 {
        self.sectors
    }
    fn read(&self, block: u64, buf: &mut [u8]) -> Result<(), Errno> {
        let at = self.range(block, buf.len())?;
        self.file.read_exact_at(buf, at).map_err(|_| Errno::EIO)
    }
    fn write(&self, block: u64, buf: &[u8]) -> Result<(), Errno> {
        if self.read_only {
            return Err(Errno::EROFS);
        }
        let at = self.range(block, buf.len())?;
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.file.write_all_at(buf, at).map_err(|_| Errno::EIO)
    }
    fn flush(&self) -> Result<(), Errno> {
        if self.fail.load(Ordering::Relaxed) {
            return Err(Errno::EIO);
        }
        Ok(())
    }
    fn read_only(&self) -> bool {
        self.read_only
    }
}

/// A fixed wall clock with nanoseconds, so timestamps can be checked exactly.
pub fn clock() -> (i64, u32) {
    (1_700_000_000, 123_456_789)
}

pub fn config(read_only: bool) -> MountConfig {
    MountConfig { read_only, dev: 0x0801, clock, devices: Arc::new(DeviceRegistry::default()) }
}

/// The e2fsprogs binaries.
pub struct Tools {
    pub mke2fs: PathBuf,
    pub e2fsck: PathBuf,
    pub debugfs: PathBuf,
}

fn find_tool(name: &str) -> Option<PathBuf> {
    for dir in ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
        let path = Path::new(dir).join(name);
        if path.exists() {
            return Some(path);
        }
    }
    let output = Command::new("which").arg(name).output().ok()?;
    output.status.success().then(|| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()))
}

impl Tools {
    /// The tools, or `None` (after printing why the test is skipped).
    pub fn find() -> Option<Tools> {
        let found = (|| Some(Tools { mke2fs: find_tool("mke2fs")?, e2fsck: find_tool("e2fsck")?, debugfs: find_tool("debugfs")? }))();
        if found.is_none() {
            eprintln!("SKIPPED: mke2fs/e2fsck/debugfs (e2fsprogs) not found");
        }
        found
    }
}

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "ext4fs-test-{}-{}-{}",
            tag,
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Tools {
    /// Makes an ext4 image of `size` (mke2fs syntax, e.g. "64M") with extra `options`,
    /// filled from `tree` if given.
    pub fn mkfs(&self, image: &Path, size: &str, options: &[&str], tree: Option<&Path>) {
        let mut command = Command::new(&self.mke2fs);
        command.args(["-q", "-F", "-t", "ext4"]).args(options);
        if let Some(tree) = tree {
            command.arg("-d").arg(tree);
        }
        command.arg(image).arg(size);
        let output = command.output().expect("run mke2fs");
        assert!(output.status.success(), "mke2fs failed: {}", String::from_utf8_lossy(&output.stderr));
    }

    /// Runs `e2fsck -fn` and panics with its report unless it finds nothing to fix and
    /// the journal needs no recovery (the file system was left clean).
    pub fn fsck_clean(&self, image: &Path) {
        let output = Command::new(&self.e2fsck).arg("-fn").arg(image).output().expect("run e2fsck");
        let report = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        // e2fsck also asks to "optimize" extent trees that could have fewer index levels
        // or blocks (it asks that of Linux-written files too; `-E no_optimize_extents`
        // turns it off). That is no error; every other question is.
        let questions: Vec<&str> = report.lines().filter(|line| line.contains('?')).collect();
        let only_optimizations = questions
            .iter()
            .all(|line| line.contains("could be narrower") || line.contains("could be shallower"));
        assert!(
            (output.status.success() || (output.status.code() == Some(4) && !questions.is_empty() && only_optimizations))
                && !report.contains("recovery"),
            "e2fsck -fn found problems (exit {:?}):\n{}\n{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The output of `debugfs -R command image`.
    pub fn debugfs(&self, image: &Path, command: &str) -> Vec<u8> {
        let output = Command::new(&self.debugfs).arg("-R").arg(command).arg(image).output().expect("run debugfs");
        output.stdout
    }

    pub fn debugfs_text(&self, image: &Path, command: &str) -> String {
        String::from_utf8_lossy(&self.debugfs(image, command)).into_owned()
    }
}

pub fn mount(image: &Path, read_only: bool) -> Arc<Fs> {
    Fs::mount(FileDevice::open(image, read_only), config(read_only)).expect("mount")
}

fn context() -> Context<'static> {
    Context::from_waker(Waker::noop())
}

pub fn read_at(inode: &dyn Inode, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
    match inode.poll_read_at(&mut context(), offset, buf) {
        Poll::Ready(result) => result,
        Poll::Pending => panic!("ext4 reads are synchronous"),
    }
}

pub fn write_at(inode: &dyn Inode, offset: u64, buf: &[u8]) -> Result<usize, Errno> {
    match inode.poll_write_at(&mut context(), offset, buf) {
        Poll::Ready(result) => result,
        Poll::Pending => panic!("ext4 writes are synchronous"),
    }
}

pub fn append(inode: &dyn Inode, buf: &[u8]) -> Result<(usize, u64), Errno> {
    match inode.poll_append(&mut context(), buf) {
        Poll::Ready(result) => result,
        Poll::Pending => panic!("ext4 appends are synchronous"),
    }
}

/// Writes all of `data` at `offset` (asserting no short write).
pub fn write_all(inode: &dyn Inode, offset: u64, data: &[u8]) {
    assert_eq!(write_at(inode, offset, data), Ok(data.len()));
}

/// Reads the whole file.
pub fn read_all(inode: &dyn Inode) -> Vec<u8> {
    let size = inode.metadata().size as usize;
    let mut data = vec![0u8; size];
    let mut done = 0;
    while done < size {
        let count = read_at(inode, done as u64, &mut data[done..]).expect("read");
        assert!(count > 0, "early end of file at {done} of {size}");
        done += count;
    }
    data
}

pub fn create_file(dir: &Arc<dyn Inode>, name: &str, data: &[u8]) -> Arc<dyn Inode> {
    let file = dir.create(name.as_bytes(), FileType::Regular, 0o644, 0).expect("create");
    if !data.is_empty() {
        write_all(&*file, 0, data);
    }
    file
}

/// Resolves a `/`-separated path from `root` (no symlink following).
pub fn walk(root: &Arc<dyn Inode>, path: &str) -> Result<Arc<dyn Inode>, Errno> {
    let mut node = root.clone();
    for part in path.split('/').filter(|part| !part.is_empty()) {
        node = node.lookup(part.as_bytes())?;
    }
    Ok(node)
}

/// The names in a directory (without `.` and `..`), sorted.
pub fn names(dir: &dyn Inode) -> Vec<String> {
    let mut names: Vec<String> = vfs::read_dir_all(dir, 0)
        .expect("read_dir")
        .into_iter()
        .map(|entry| String::from_utf8(entry.name).unwrap())
        .filter(|name| name != "." && name != "..")
        .collect();
    names.sort();
    names
}

/// A deterministic pseudo-random byte pattern.
pub fn pattern(seed: u64, length: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// FNV-1a, as a cheap checksum.
pub fn checksum(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3))
}

/// A disk image held in memory (loaded from and saved to an image file), so that
/// benchmarks measure the file system, not the host's file calls.
/// Clones share the same memory.
#[derive(Clone)]
pub struct RamDevice {
    data: Arc<parking_lot::Mutex<Vec<u8>>>,
    sector: usize,
    /// Number of sector reads and writes so far.
    pub reads: Arc<AtomicU64>,
    pub writes: Arc<AtomicU64>,
}

impl RamDevice {
    pub fn load(path: &Path) -> Self {
        let data = std::fs::read(path).expect("read image");
        Self { data: Arc::new(parking_lot::Mutex::new(data)), sector: 512, reads: Arc::default(), writes: Arc::default() }
    }

    pub fn save(&self, path: &Path) {
        std::fs::write(path, &*self.data.lock()).expect("write image");
    }

    fn range(&self, block: u64, length: usize) -> Result<std::ops::Range<usize>, Errno> {
        let start = (block as usize).checked_mul(self.sector).ok_or(Errno::EIO)?;
        let end = start.checked_add(length).ok_or(Errno::EIO)?;
        if !length.is_multiple_of(self.sector) || end > self.data.lock().len() {
            return Err(Errno::EIO);
        }
        Ok(start..end)
    }
}

impl BlockDevice for RamDevice {
    fn block_size(&self) -> usize {
        self.sector
    }
    fn blocks(&self) -> u64 {
        (self.data.lock().len() / self.sector) as u64
    }
    fn read(&self, block: u64, buf: &mut [u8]) -> Result<(), Errno> {
        let range = self.range(block, buf.len())?;
        self.reads.fetch_add(1, Ordering::Relaxed);
        buf.copy_from_slice(&self.data.lock()[range]);
        Ok(())
    }
    fn write(&self, block: u64, buf: &[u8]) -> Result<(), Errno> {
        let range = self.range(block, buf.len())?;
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.data.lock()[range].copy_from_slice(buf);
        Ok(())
    }
    fn flush(&self) -> Result<(), Errno> {
        Ok(())
    }
    fn read_only(&self) -> bool {
        false
    }
}
