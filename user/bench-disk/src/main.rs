//! Disk benchmarks on ext4 over virtio-blk, the same static binary on coros and on Linux.
//!
//! It mounts `/dev/vda` (a fresh ext4 image the host made with mke2fs) on `/mnt` itself
//! and runs, in this order:
//!
//! 1. `disk-seq-write`: a `file_mib` MiB file written with 1 MiB `write`s, then `fsync`
//!    (timed together); ns per MiB.
//! 2. unmount + mount (both kernels then drop the disk's cached blocks: Linux on the last
//!    close of the block device, coros on unmount), `disk-seq-read`: the file read back
//!    with 1 MiB `read`s, each 4 KiB block's first word checked; ns per MiB.
//! 3. unmount + mount, `disk-rand-read-4k`: `reads` `pread`s of 4 KiB at 4 KiB-aligned
//!    offsets of the file drawn by a fixed xorshift sequence (the same on both kernels),
//!    each checked; ns per read.
//! 4. `disk-create`: `files` files of 100 bytes created in one directory (`open`
//!    O_CREAT|O_EXCL, `write`, `close`), then `sync` (timed together); ns per file.
//! 5. unmount + mount, `disk-delete`: every one of them `unlink`ed, then `sync`; ns per file.
//!
//! Each figure is `bench NAME: ops=N ns=T` (as `bench-syscalls` prints them), wall time
//! of `CLOCK_MONOTONIC`. For each phase also: `NAME-requests` (disk requests completed
//! during it: coros' `vda_requests` in `/proc/coros/counters`, Linux's reads + writes +
//! flushes of `/proc/diskstats`) and `NAME-inflight-mean`/`-max`, from a thread that
//! samples the requests in flight every millisecond (coros' `vda_in_flight`, Linux's
//! `/sys/block/vda/inflight`); these are `count=` figures. The sampler costs both
//! kernels the same few system calls per millisecond.
//!
//! Arguments: `file_mib=N` (256), `files=N` (10000), `reads=N` (2000).

use std::io::{Read, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const MIB: usize = 1 << 20;
const BLOCK: usize = 4096;
const DEVICE: &str = "/dev/vda";
const MOUNT_POINT: &str = "/mnt";
const BIG_FILE: &str = "/mnt/big";
const DIRECTORY: &str = "/mnt/many";

/// `CLOCK_MONOTONIC` in nanoseconds.
fn now() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes the timespec we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn fail(what: &str, error: impl std::fmt::Display) -> ! {
    println!("bench-disk: {what} failed: {error}");
    std::process::exit(1);
}

fn c_string(text: &str) -> std::ffi::CString {
    std::ffi::CString::new(text).expect("no NUL in paths")
}

fn mount() {
    let (device, point, kind) = (c_string(DEVICE), c_string(MOUNT_POINT), c_string("ext4"));
    // SAFETY: valid NUL-terminated strings; no data argument.
    let result = unsafe { libc::mount(device.as_ptr(), point.as_ptr(), kind.as_ptr(), 0, std::ptr::null()) };
    if result != 0 {
        fail("mount /dev/vda", std::io::Error::last_os_error());
    }
}

fn unmount() {
    let point = c_string(MOUNT_POINT);
    // SAFETY: a valid NUL-terminated path.
    if unsafe { libc::umount(point.as_ptr()) } != 0 {
        fail("umount /mnt", std::io::Error::last_os_error());
    }
}

/// Unmount and mount again: the next phase starts with nothing of the disk cached.
fn remount() {
    unmount();
    mount();
}

fn sync() {
    // SAFETY: no arguments.
    unsafe { libc::sync() };
}

/// Which kernel's disk statistics to read.
#[derive(Clone, Copy, PartialEq)]
enum Source {
    /// `/proc/coros/counters`.
    Coros,
    /// `/sys/block/vda/inflight` and `/proc/diskstats`.
    Linux,
}

fn read_text(path: &str) -> Option<String> {
    let mut text = String::new();
    std::fs::File::open(path).ok()?.read_to_string(&mut text).ok()?;
    Some(text)
}

fn coros_counter(name: &str) -> Option<u64> {
    let text = read_text("/proc/coros/counters")?;
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(' ')?;
        (key == name).then(|| value.trim().parse().ok()).flatten()
    })
}

impl Source {
    fn detect() -> Source {
        if std::path::Path::new("/proc/coros/counters").exists() { Source::Coros } else { Source::Linux }
    }

    /// Requests the disk holds now.
    fn in_flight(self) -> Option<u64> {
        match self {
            Source::Coros => coros_counter("vda_in_flight"),
            Source::Linux => {
                let text = read_text("/sys/block/vda/inflight")?;
                Some(text.split_whitespace().filter_map(|word| word.parse::<u64>().ok()).sum())
            }
        }
    }

    /// Requests completed since boot.
    fn requests(self) -> Option<u64> {
        match self {
            Source::Coros => coros_counter("vda_requests"),
            Source::Linux => {
                let text = read_text("/proc/diskstats")?;
                let line = text.lines().find(|line| line.split_whitespace().nth(2) == Some("vda"))?;
                let fields: Vec<u64> = line.split_whitespace().skip(3).filter_map(|word| word.parse().ok()).collect();
                // reads completed (0), writes completed (4), flushes completed (15).
                Some(fields.first()? + fields.get(4)? + fields.get(15).copied().unwrap_or(0))
            }
        }
    }
}

/// Samples the requests in flight every millisecond on a thread of its own.
struct Sampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<(u64, u64, u64)>,
}

impl Sampler {
    fn start(source: Source) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let (mut samples, mut sum, mut max) = (0u64, 0u64, 0u64);
            let pause = libc::timespec { tv_sec: 0, tv_nsec: 1_000_000 };
            while !flag.load(Ordering::Relaxed) {
                if let Some(now) = source.in_flight() {
                    samples += 1;
                    sum += now;
                    max = max.max(now);
                }
                // SAFETY: a valid timespec.
                unsafe { libc::nanosleep(&pause, std::ptr::null_mut()) };
            }
            (samples, sum, max)
        });
        Sampler { stop, thread }
    }

    /// (samples, sum of the samples, largest sample).
    fn finish(self) -> (u64, u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or((0, 0, 0))
    }
}

/// Times `body` as phase `name` of `ops` operations and prints its figures.
fn phase(name: &str, ops: u64, source: Source, body: impl FnOnce()) {
    let requests_before = source.requests();
    let sampler = Sampler::start(source);
    let start = now();
    body();
    let elapsed = now() - start;
    let (samples, sum, max) = sampler.finish();
    let requests_after = source.requests();
    println!("bench {name}: ops={ops} ns={elapsed}");
    if let (Some(before), Some(after)) = (requests_before, requests_after) {
        println!("bench {name}-requests: ops=1 count={}", after.saturating_sub(before));
    }
    if samples > 0 {
        println!("bench {name}-inflight-mean: ops={samples} count={sum}");
        println!("bench {name}-inflight-max: ops=1 count={max}");
    }
}

/// The first word of 4 KiB block `block` of the big file (the rest of a MiB is a fixed
/// pattern): what the read phases check.
fn block_word(block: u64) -> u64 {
    block.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x00C0_5D15_CBE4_C4A5
}

fn argument(name: &str, default: u64) -> u64 {
    std::env::args()
        .find_map(|arg| arg.strip_prefix(&format!("{name}=")).and_then(|value| value.parse().ok()))
        .unwrap_or(default)
}

fn main() {
    let file_mib = argument("file_mib", 256);
    let files = argument("files", 10_000);
    let reads = argument("reads", 2_000);
    let source = Source::detect();
    mount();
    println!("bench-disk: {file_mib} MiB file, {files} files, {reads} random reads; kernel statistics from {}",
        if source == Source::Coros { "/proc/coros/counters" } else { "/proc/diskstats and /sys/block/vda/inflight" });

    let mut buffer: Vec<u8> = (0..MIB).map(|i| (i * 7 + 3) as u8).collect();
    phase("disk-seq-write", file_mib, source, || {
        let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).open(BIG_FILE).unwrap_or_else(|e| fail("create /mnt/big", e));
        for mib in 0..file_mib {
            for index in 0..MIB / BLOCK {
                let block = mib * (MIB / BLOCK) as u64 + index as u64;
                buffer[index * BLOCK..index * BLOCK + 8].copy_from_slice(&block_word(block).to_le_bytes());
            }
            file.write_all(&buffer).unwrap_or_else(|e| fail("write /mnt/big", e));
        }
        file.sync_all().unwrap_or_else(|e| fail("fsync /mnt/big", e));
    });

    remount();
    phase("disk-seq-read", file_mib, source, || {
        let mut file = std::fs::File::open(BIG_FILE).unwrap_or_else(|e| fail("open /mnt/big", e));
        for mib in 0..file_mib {
            file.read_exact(&mut buffer).unwrap_or_else(|e| fail("read /mnt/big", e));
            for index in 0..MIB / BLOCK {
                let block = mib * (MIB / BLOCK) as u64 + index as u64;
                if buffer[index * BLOCK..index * BLOCK + 8] != block_word(block).to_le_bytes() {
                    fail("checking /mnt/big", format!("block {block} holds other data"));
                }
            }
        }
    });

    remount();
    let blocks = file_mib * (MIB / BLOCK) as u64;
    phase("disk-rand-read-4k", reads, source, || {
        let file = std::fs::File::open(BIG_FILE).unwrap_or_else(|e| fail("open /mnt/big", e));
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut page = [0u8; BLOCK];
        for _ in 0..reads {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let block = state % blocks;
            file.read_exact_at(&mut page, block * BLOCK as u64).unwrap_or_else(|e| fail("pread /mnt/big", e));
            if page[..8] != block_word(block).to_le_bytes() {
                fail("checking /mnt/big", format!("block {block} holds other data"));
            }
        }
    });

    std::fs::create_dir(DIRECTORY).unwrap_or_else(|e| fail("mkdir /mnt/many", e));
    let content = [b'x'; 100];
    phase("disk-create", files, source, || {
        for index in 0..files {
            let path = format!("{DIRECTORY}/f{index:05}");
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o644)
                .open(&path)
                .unwrap_or_else(|e| fail(&format!("create {path}"), e));
            file.write_all(&content).unwrap_or_else(|e| fail(&format!("write {path}"), e));
        }
        sync();
    });

    remount();
    phase("disk-delete", files, source, || {
        for index in 0..files {
            let path = format!("{DIRECTORY}/f{index:05}");
            std::fs::remove_file(&path).unwrap_or_else(|e| fail(&format!("unlink {path}"), e));
        }
        sync();
    });
    let left = std::fs::read_dir(DIRECTORY).map(|dir| dir.count()).unwrap_or(usize::MAX);
    if left != 0 {
        fail("deleting", format!("{left} entries left in /mnt/many"));
    }
    unmount();
    if source == Source::Coros {
        if let Some(max) = coros_counter("vda_max_in_flight") {
            println!("bench-disk: coros vda_max_in_flight since boot: {max}");
        }
    }
    println!("bench done");
}
