//! abi-mmap-file: file-backed mmap against Linux — pages shared between processes that
//! map the same file, copy-on-write of private file mappings across fork, private
//! mappings seeing the file until they write, MAP_FIXED over a file mapping, mprotect
//! and partial munmap of file mappings, SIGBUS past the end of the file, msync and
//! mmap errors, mremap of a file mapping, /dev/zero, and the /proc/self/maps line of a
//! file mapping (permissions, offset, path); truncation under a shared mapping whose
//! pages are present (SIGBUS past the new end, the last page's tail zeroed).
//!
//! The files live in `/tmp/abi-mmap-file`, or in the directory given as the first
//! argument (the disk tests run it on ext4 too: the output must not depend on the file
//! system, so paths are printed relative to that directory). `--msync-crash FILE` is a
//! separate mode for the ext4 crash test (see [`msync_crash`]).
//!
//! Every line is a stable fact (never an address, device or inode number); the exit
//! status is 0 whatever the checks show.

#[path = "../../abi-common/abi_common.rs"]
mod common;

use common::*;
use std::ptr::{null_mut, read_volatile, write_volatile};

const PAGE: usize = 4096;
const DEFAULT_DIR: &str = "/tmp/abi-mmap-file";
const RW: i32 = libc::PROT_READ | libc::PROT_WRITE;

fn map_fd(len: usize, prot: i32, flags: i32, fd: i32, offset: usize) -> *mut u8 {
    // SAFETY: a new mapping chosen by the kernel touches no existing memory.
    unsafe { libc::mmap(null_mut(), len, prot, flags, fd, offset as i64) as *mut u8 }
}

fn failed(p: *mut u8) -> bool {
    p as *mut libc::c_void == libc::MAP_FAILED
}

fn result(p: *mut u8) -> String {
    if failed(p) {
        errno_name(errno())
    } else {
        "ok".into()
    }
}

/// A file of `pages` pages in `dir` whose byte `i` is `'a' + i % 23`.
fn make_file(dir: &str, name: &str, pages: usize) -> (i32, Vec<u8>) {
    let path = c(&format!("{dir}/{name}"));
    // SAFETY: plain system calls on a path we own.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDWR | libc::O_CREAT | libc::O_TRUNC, 0o644) };
    let content: Vec<u8> = (0..pages * PAGE).map(|i| b'a' + (i % 23) as u8).collect();
    write_all(fd, &content);
    (fd, content)
}

fn pread_byte(fd: i32, offset: usize) -> u8 {
    let mut byte = [0u8; 1];
    // SAFETY: reads one byte into a local buffer.
    unsafe { libc::pread(fd, byte.as_mut_ptr().cast(), 1, offset as i64) };
    byte[0]
}

/// The pattern the msync crash test stores through its mapping: page `page`, byte `i`.
fn crash_pattern(page: usize, i: usize) -> u8 {
    (i * 7 + page * 13) as u8 ^ 0x5a
}

/// `--msync-crash FILE`: makes FILE three pages long, maps it shared, stores
/// [`crash_pattern`] into pages 0 and 2, `msync(MS_SYNC)`s them, prints `msync done`,
/// then stores into page 1 without msync and waits forever. The disk test kills the
/// machine at the line and checks on the host that pages 0 and 2 are on the disk.
fn msync_crash(path: &str) -> ! {
    // SAFETY: plain system calls; the stores stay inside the three-page mapping.
    unsafe {
        let fd = libc::open(c(path).as_ptr(), libc::O_RDWR | libc::O_CREAT | libc::O_TRUNC, 0o644);
        write_all(fd, &[b'.'; 3 * PAGE]);
        libc::fsync(fd);
        let m = map_fd(3 * PAGE, RW, libc::MAP_SHARED, fd, 0);
        check("msync-crash mapping", result(m));
        for page in [0, 2] {
            for i in 0..PAGE {
                write_volatile(m.add(page * PAGE + i), crash_pattern(page, i));
            }
        }
        check("msync MS_SYNC", ok(libc::msync(m.cast(), 3 * PAGE, libc::MS_SYNC) as i64));
        check("msync done", "ok");
        write_volatile(m.add(PAGE), b'U');
        loop {
            libc::pause();
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 3 && args[1] == "--msync-crash" {
        msync_crash(&args[2]);
    }
    let dir = args.get(1).cloned().unwrap_or_else(|| DEFAULT_DIR.to_string());
    let dir = dir.as_str();
    scratch_dir(dir);
    // SAFETY (whole program): accesses stay inside mappings made here; deliberate bad
    // accesses happen in children, whose death is the checked result.
    unsafe {
        // --- two processes mapping the same file share its pages ---
        let (fd, content) = make_file(dir, "shared", 2);
        let [to_parent_read, to_parent_write] = pipe(0);
        let [to_child_read, to_child_write] = pipe(0);
        let child = spawn(|| {
            let m = map_fd(2 * PAGE, RW, libc::MAP_SHARED, fd, 0);
            if failed(m) {
                return 1;
            }
            write_volatile(m.add(PAGE + 10), b'#');
            write_all(to_parent_write, b"w");
            let mut byte = [0u8; 1];
            libc::read(to_child_read, byte.as_mut_ptr().cast(), 1);
            // The parent wrote through its own mapping meanwhile.
            (read_volatile(m.add(20)) == b'%') as i32 + 10
        });
        let m = map_fd(2 * PAGE, RW, libc::MAP_SHARED, fd, 0);
        check("parent maps the file", result(m));
        let mut byte = [0u8; 1];
        libc::read(to_parent_read, byte.as_mut_ptr().cast(), 1);
        check("child's store seen in parent's own mapping", read_volatile(m.add(PAGE + 10)) == b'#');
        check("child's store seen by read()", pread_byte(fd, PAGE + 10) == b'#');
        write_volatile(m.add(20), b'%');
        write_all(to_child_write, b"go");
        check("parent's store seen in child's mapping", wait_text(child));
        for fd in [to_parent_read, to_parent_write, to_child_read, to_child_write] {
            libc::close(fd);
        }
        check("write() beyond the page seen", {
            libc::pwrite(fd, b"!".as_ptr().cast(), 1, (PAGE + 11) as i64);
            read_volatile(m.add(PAGE + 11)) == b'!'
        });
        libc::munmap(m.cast(), 2 * PAGE);

        // --- private mappings: see the file until written, copy-on-write across fork ---
        let p = map_fd(2 * PAGE, RW, libc::MAP_PRIVATE, fd, 0);
        check("private mapping", result(p));
        check("private reads the file", read_volatile(p.add(5)) == content[5]);
        libc::pwrite(fd, b"Z".as_ptr().cast(), 1, 6);
        check("unwritten private page sees a later write()", read_volatile(p.add(6)) == b'Z');
        write_volatile(p.add(7), b'P');
        check("private store not in the file", pread_byte(fd, 7) == content[7]);
        libc::pwrite(fd, b"Y".as_ptr().cast(), 1, 8);
        check("written private page no longer sees the file", read_volatile(p.add(8)) == content[8]);
        let before = read_volatile(p.add(PAGE + 1));
        let child = spawn(|| {
            let own = read_volatile(p.add(PAGE + 1)) == before;
            write_volatile(p.add(PAGE + 1), b'C');
            (own && read_volatile(p.add(PAGE + 1)) == b'C') as i32 + 20
        });
        check("child's private copy", wait_text(child));
        check("parent's private page unchanged by child", read_volatile(p.add(PAGE + 1)) == before);
        check("file unchanged by child's private store", pread_byte(fd, PAGE + 1) == before);
        let child = spawn(|| (read_volatile(p.add(7)) == b'P') as i32 + 30);
        check("child inherits the private copy", wait_text(child));

        // --- MAP_FIXED over a file mapping, mprotect, partial munmap ---
        let anon = libc::mmap(p.cast(), PAGE, RW, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED, -1, 0) as *mut u8;
        check("MAP_FIXED anonymous over file page", anon == p);
        check("replaced page reads zero", read_volatile(p.add(7)) == 0);
        check("the other file page stays", read_volatile(p.add(PAGE + 2)) == content[PAGE + 2]);
        libc::munmap(p.cast(), 2 * PAGE);

        let (fd3, content3) = make_file(dir, "three", 3);
        let s = map_fd(3 * PAGE, RW, libc::MAP_SHARED, fd3, 0);
        check("mprotect file mapping read-only", ok(libc::mprotect(s.add(PAGE).cast(), PAGE, libc::PROT_READ) as i64));
        check("store to read-only file page in child", in_child(|| {
            write_volatile(s.add(PAGE), b'x');
            0
        }));
        check("read-only page still reads", read_volatile(s.add(PAGE + 3)) == content3[PAGE + 3]);
        check("mprotect back to read-write", ok(libc::mprotect(s.add(PAGE).cast(), PAGE, RW) as i64));
        write_volatile(s.add(PAGE + 4), b'@');
        check("store after mprotect reaches the file", pread_byte(fd3, PAGE + 4) == b'@');
        check("munmap the middle page", ok(libc::munmap(s.add(PAGE).cast(), PAGE) as i64));
        check("first page after partial munmap", read_volatile(s.add(1)) == content3[1]);
        check("last page keeps its offset", read_volatile(s.add(2 * PAGE + 1)) == content3[2 * PAGE + 1]);
        check("unmapped middle in child", in_child(|| read_volatile(s.add(PAGE)) as i32));
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
        let path = format!("{dir}/three");
        let lines: Vec<String> = maps
            .lines()
            .filter(|line| line.ends_with(&path))
            .map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                format!("{} {} {}", fields[1], fields[2], fields[5].replacen(dir, "DIR", 1))
            })
            .collect();
        check("/proc/self/maps lines of the file", lines.join(" | "));
        libc::munmap(s.cast(), 3 * PAGE);

        // --- the end of the file ---
        libc::ftruncate(fd3, (PAGE + 100) as i64);
        let t = map_fd(3 * PAGE, RW, libc::MAP_SHARED, fd3, 0);
        check("bytes past EOF in the last page read zero", (PAGE + 100..2 * PAGE).all(|i| read_volatile(t.add(i)) == 0));
        write_volatile(t.add(PAGE + 200), b'E');
        check("store past EOF leaves the size", {
            let mut stat: libc::stat = std::mem::zeroed();
            libc::fstat(fd3, &mut stat);
            stat.st_size
        });
        check("page past EOF in child", in_child(|| read_volatile(t.add(2 * PAGE)) as i32));
        libc::munmap(t.cast(), 3 * PAGE);
        let u = map_fd(2 * PAGE, libc::PROT_READ, libc::MAP_PRIVATE, fd3, 0);
        libc::ftruncate(fd3, 100);
        check("untouched page after shrinking in child", in_child(|| read_volatile(u.add(PAGE)) as i32));
        check("first page still there", read_volatile(u.add(1)) == content3[1]);
        libc::munmap(u.cast(), 2 * PAGE);
        let far = map_fd(PAGE, libc::PROT_READ, libc::MAP_SHARED, fd3, 16 * PAGE);
        check("mmap at an offset past EOF", result(far));
        check("touching it in child", in_child(|| read_volatile(far) as i32));

        // --- truncation under a shared mapping whose pages are all present ---
        let (fd4, content4) = make_file(dir, "shrink", 3);
        let v = map_fd(3 * PAGE, RW, libc::MAP_SHARED, fd4, 0);
        for page in 0..3 {
            read_volatile(v.add(page * PAGE));
        }
        write_volatile(v.add(2 * PAGE + 1), b'T');
        libc::ftruncate(fd4, (PAGE + 10) as i64);
        check("present page past the new end in child", in_child(|| read_volatile(v.add(2 * PAGE)) as i32));
        check("stored page past the new end in child", in_child(|| read_volatile(v.add(2 * PAGE + 1)) as i32));
        check("tail of the last page zeroed", read_volatile(v.add(PAGE + 10)) == 0 && read_volatile(v.add(2 * PAGE - 1)) == 0);
        check("head of the last page kept", read_volatile(v.add(PAGE + 9)) == content4[PAGE + 9]);
        libc::ftruncate(fd4, (3 * PAGE) as i64);
        check("page regrown by ftruncate reads zero", read_volatile(v.add(2 * PAGE + 1)) == 0);
        write_volatile(v.add(2 * PAGE + 2), b'G');
        check("store to the regrown page seen by read()", pread_byte(fd4, 2 * PAGE + 2) == b'G');
        libc::munmap(v.cast(), 3 * PAGE);
        libc::close(fd4);

        // --- msync, mremap, errors ---
        let g = map_fd(PAGE, RW, libc::MAP_SHARED, fd, 0);
        check("msync MS_ASYNC", ok(libc::msync(g.cast(), PAGE, libc::MS_ASYNC) as i64));
        check("msync MS_ASYNC|MS_SYNC", err(libc::msync(g.cast(), PAGE, libc::MS_ASYNC | libc::MS_SYNC) as i64));
        check("msync bad flag", err(libc::msync(g.cast(), PAGE, 8) as i64));
        check("msync unaligned", err(libc::msync(g.add(1).cast(), PAGE, libc::MS_SYNC) as i64));
        let grown = libc::mremap(g.cast(), PAGE, 2 * PAGE, libc::MREMAP_MAYMOVE) as *mut u8;
        check("mremap grows a file mapping", result(grown));
        if !failed(grown) {
            check("grown part maps the file", read_volatile(grown.add(PAGE + 10)) == b'#');
            check("msync over a hole", {
                libc::munmap(grown.add(PAGE).cast(), PAGE);
                err(libc::msync(grown.cast(), 2 * PAGE, libc::MS_SYNC) as i64)
            });
            libc::munmap(grown.cast(), PAGE);
        }
        let wo = libc::open(c(&format!("{dir}/shared")).as_ptr(), libc::O_WRONLY);
        check("mmap O_WRONLY fd", result(map_fd(PAGE, libc::PROT_READ, libc::MAP_SHARED, wo, 0)));
        check(
            "MAP_SHARED_VALIDATE unknown flag",
            result(map_fd(PAGE, libc::PROT_READ, libc::MAP_SHARED_VALIDATE | 0x40, fd, 0)),
        );
        check("MAP_SHARED_VALIDATE", result(map_fd(PAGE, libc::PROT_READ, libc::MAP_SHARED_VALIDATE, fd, 0)));
        check("mmap neither shared nor private", result(map_fd(PAGE, libc::PROT_READ, 0, fd, 0)));
        let null = libc::open(c("/dev/null").as_ptr(), libc::O_RDWR);
        check("mmap /dev/null", result(map_fd(PAGE, libc::PROT_READ, libc::MAP_PRIVATE, null, 0)));
        let zero = libc::open(c("/dev/zero").as_ptr(), libc::O_RDWR);
        let z = map_fd(2 * PAGE, RW, libc::MAP_PRIVATE, zero, 0);
        check("mmap /dev/zero private", result(z));
        if !failed(z) {
            write_volatile(z.add(PAGE), 3);
            check("/dev/zero mapping is zero and writable", read_volatile(z) == 0 && read_volatile(z.add(PAGE)) == 3);
        }
        let zs = map_fd(PAGE, RW, libc::MAP_SHARED, zero, 0);
        check("mmap /dev/zero shared", result(zs));
        if !failed(zs) {
            let child = spawn(|| {
                write_volatile(zs, 77);
                0
            });
            wait_text(child);
            check("/dev/zero shared mapping shared with child", read_volatile(zs) == 77);
        }
        for fd in [fd, fd3, wo, null, zero] {
            libc::close(fd);
        }
    }
    let _ = std::fs::remove_dir_all(dir);
    check("done", "ok");
}
