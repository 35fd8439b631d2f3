//! abi-memory: memory system calls — brk, mmap (anonymous and file, private and shared,
//! MAP_FIXED, MAP_FIXED_NOREPLACE), munmap, mprotect, mremap, madvise, msync, fork
//! copy-on-write, faults in children, /proc/self/maps.
//!
//! Every line is a stable fact (never an address); the exit status is 0 whatever the
//! checks show.

#[path = "../../abi-common/abi_common.rs"]
mod common;

use common::*;
use std::ptr::{null_mut, read_volatile, write_volatile};

const PAGE: usize = 4096;
const DIR: &str = "/tmp/abi-memory";

fn map(len: usize, prot: i32, flags: i32) -> *mut u8 {
    // SAFETY: an anonymous mapping touches no existing memory.
    unsafe { libc::mmap(null_mut(), len, prot, flags | libc::MAP_ANONYMOUS, -1, 0) as *mut u8 }
}

fn rw_private(len: usize) -> *mut u8 {
    map(len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE)
}

fn mmap_result(ptr: *mut libc::c_void) -> String {
    if ptr == libc::MAP_FAILED {
        errno_name(errno())
    } else {
        "ok".into()
    }
}

fn return_err() -> String {
    errno_name(errno())
}

fn main() {
    scratch_dir(DIR);
    // SAFETY (whole program): accesses stay inside mappings made here; the deliberate bad
    // accesses happen in children, whose death is the checked result.
    unsafe {
        // --- brk ---
        let start = libc::syscall(libc::SYS_brk, 0) as usize;
        check("brk(0) non-zero", start != 0);
        let grown = libc::syscall(libc::SYS_brk, start + 64 * 1024) as usize;
        check("brk grow by 64 KiB", grown == start + 64 * 1024);
        check("new heap zeroed and writable", {
            let p = (start + 1000) as *mut u8;
            let zero = read_volatile(p) == 0;
            write_volatile(p, 9);
            zero && read_volatile(p) == 9
        });
        check(
            "brk(0) after grow",
            libc::syscall(libc::SYS_brk, 0) as usize == grown,
        );
        let shrunk = libc::syscall(libc::SYS_brk, start) as usize;
        check("brk shrink", shrunk == start);
        check(
            "access above shrunk brk in child",
            in_child(|| {
                write_volatile((start + 32 * 1024) as *mut u8, 1);
                0
            }),
        );
        check("brk regrow is zeroed", {
            libc::syscall(libc::SYS_brk, start + 64 * 1024);
            let zero = read_volatile((start + 1000) as *const u8) == 0;
            libc::syscall(libc::SYS_brk, start);
            zero
        });
        check(
            "brk too low returns current",
            libc::syscall(libc::SYS_brk, 0x1000) as usize == start,
        );

        // --- anonymous mappings ---
        let p = rw_private(4 * PAGE);
        check("mmap anonymous private", mmap_result(p.cast()));
        check(
            "anonymous memory is zeroed",
            (0..4 * PAGE).all(|i| read_volatile(p.add(i)) == 0),
        );
        write_volatile(p, 1);
        write_volatile(p.add(4 * PAGE - 1), 2);
        check(
            "write and read back",
            read_volatile(p) == 1 && read_volatile(p.add(4 * PAGE - 1)) == 2,
        );
        check("page aligned", p as usize % PAGE == 0);
        check(
            "mmap len 0",
            mmap_result(libc::mmap(
                null_mut(),
                0,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )),
        );
        check(
            "mmap no PRIVATE/SHARED",
            mmap_result(libc::mmap(
                null_mut(),
                PAGE,
                libc::PROT_READ,
                libc::MAP_ANONYMOUS,
                -1,
                0,
            )),
        );
        check(
            "mmap PRIVATE|SHARED",
            mmap_result(libc::mmap(
                null_mut(),
                PAGE,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )),
        );
        check(
            "mmap bad fd",
            mmap_result(libc::mmap(
                null_mut(),
                PAGE,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                999,
                0,
            )),
        );
        check(
            "mmap MAP_FIXED unaligned",
            mmap_result(libc::mmap(
                p.add(1).cast(),
                PAGE,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )),
        );
        check(
            "mmap huge length",
            mmap_result(libc::mmap(
                null_mut(),
                usize::MAX - PAGE,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )),
        );
        check("mmap 1 GiB MAP_NORESERVE", {
            let big = map(
                1 << 30,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_NORESERVE,
            );
            let result = mmap_result(big.cast());
            if big as *mut libc::c_void != libc::MAP_FAILED {
                write_volatile(big.add(512 << 20), 5);
                libc::munmap(big.cast(), 1 << 30);
            }
            result
        });

        // --- fork: private copy-on-write, shared stays shared ---
        let shared = map(PAGE, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED);
        check("mmap anonymous shared", mmap_result(shared.cast()));
        write_volatile(p, 10);
        check(
            "child writes",
            in_child(|| {
                let saw = read_volatile(p);
                write_volatile(p, 11);
                write_volatile(shared, 42);
                saw as i32
            }),
        );
        check("private write by child not visible", read_volatile(p) == 10);
        check("shared write by child visible", read_volatile(shared) == 42);
        check("parent write after fork not visible to child", {
            let fds = pipe(0);
            let pid = spawn(|| {
                let mut b = [0u8; 1];
                libc::read(fds[0], b.as_mut_ptr().cast(), 1);
                read_volatile(p) as i32
            });
            write_volatile(p, 77);
            libc::write(fds[1], b"x".as_ptr().cast(), 1);
            let text = wait_text(pid);
            libc::close(fds[0]);
            libc::close(fds[1]);
            text
        });
        check("shared mapping survives parent+child writes", {
            let pid = spawn(|| {
                for i in 0..100u8 {
                    write_volatile(shared.add(100 + i as usize), i);
                }
                0
            });
            wait_text(pid);
            (0..100u8).all(|i| read_volatile(shared.add(100 + i as usize)) == i)
        });

        // --- MAP_FIXED, MAP_FIXED_NOREPLACE ---
        let q = rw_private(3 * PAGE);
        for i in 0..3 {
            write_volatile(q.add(i * PAGE), 0xa0 + i as u8);
        }
        let middle = libc::mmap(
            q.add(PAGE).cast(),
            PAGE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
            -1,
            0,
        );
        check(
            "MAP_FIXED over middle page",
            format!(
                "{} at requested address {}",
                mmap_result(middle),
                middle == q.add(PAGE).cast()
            ),
        );
        check("MAP_FIXED page zeroed", read_volatile(q.add(PAGE)) == 0);
        check(
            "neighbours untouched",
            read_volatile(q) == 0xa0 && read_volatile(q.add(2 * PAGE)) == 0xa2,
        );
        check(
            "MAP_FIXED_NOREPLACE over mapping",
            mmap_result(libc::mmap(
                q.add(PAGE).cast(),
                PAGE,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
                -1,
                0,
            )),
        );

        // --- munmap ---
        check(
            "munmap middle page",
            ok(libc::munmap(q.add(PAGE).cast(), PAGE) as i64),
        );
        check(
            "access unmapped page in child",
            in_child(|| {
                write_volatile(q.add(PAGE), 1);
                0
            }),
        );
        check(
            "neighbours still mapped",
            read_volatile(q) == 0xa0 && read_volatile(q.add(2 * PAGE)) == 0xa2,
        );
        let hole = libc::mmap(
            q.add(PAGE).cast(),
            PAGE,
            libc::PROT_READ,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
            -1,
            0,
        );
        check(
            "MAP_FIXED_NOREPLACE into the hole",
            format!(
                "{} at requested address {}",
                mmap_result(hole),
                hole == q.add(PAGE).cast()
            ),
        );
        check(
            "munmap unaligned",
            err(libc::munmap(q.add(1).cast(), PAGE) as i64),
        );
        check("munmap length 0", err(libc::munmap(q.cast(), 0) as i64));
        check(
            "munmap whole range",
            ok(libc::munmap(q.cast(), 3 * PAGE) as i64),
        );
        check(
            "munmap already unmapped",
            ok(libc::munmap(q.cast(), 3 * PAGE) as i64),
        );
        check(
            "read unmapped in child",
            in_child(|| read_volatile(q) as i32),
        );

        // --- mprotect ---
        let r = rw_private(2 * PAGE);
        write_volatile(r, 5);
        check(
            "mprotect PROT_READ",
            ok(libc::mprotect(r.cast(), PAGE, libc::PROT_READ) as i64),
        );
        check("read after PROT_READ", read_volatile(r));
        check(
            "write after PROT_READ in child",
            in_child(|| {
                write_volatile(r, 6);
                0
            }),
        );
        check("second page still writable", {
            write_volatile(r.add(PAGE), 7);
            read_volatile(r.add(PAGE)) == 7
        });
        check(
            "mprotect PROT_NONE",
            ok(libc::mprotect(r.cast(), PAGE, libc::PROT_NONE) as i64),
        );
        check(
            "read after PROT_NONE in child",
            in_child(|| read_volatile(r) as i32),
        );
        check(
            "mprotect back to RW",
            ok(libc::mprotect(r.cast(), PAGE, libc::PROT_READ | libc::PROT_WRITE) as i64),
        );
        check("contents kept across mprotect", {
            let kept = read_volatile(r) == 5;
            write_volatile(r, 8);
            kept && read_volatile(r) == 8
        });
        check(
            "mprotect unaligned",
            err(libc::mprotect(r.add(1).cast(), PAGE, libc::PROT_READ) as i64),
        );
        check(
            "mprotect bad prot",
            err(libc::mprotect(r.cast(), PAGE, 0x100) as i64),
        );
        libc::munmap(r.cast(), 2 * PAGE);
        check(
            "mprotect unmapped",
            err(libc::mprotect(r.cast(), PAGE, libc::PROT_READ) as i64),
        );
        check(
            "mmap PROT_NONE then touch in child",
            in_child(|| {
                let none = map(PAGE, libc::PROT_NONE, libc::MAP_PRIVATE);
                read_volatile(none) as i32
            }),
        );

        // --- mremap ---
        let m = rw_private(2 * PAGE);
        for i in 0..2 * PAGE {
            write_volatile(m.add(i), (i % 251) as u8);
        }
        let grown = libc::mremap(m.cast(), 2 * PAGE, 16 * PAGE, libc::MREMAP_MAYMOVE) as *mut u8;
        check("mremap grow MAYMOVE", mmap_result(grown.cast()));
        check(
            "mremap keeps contents",
            (0..2 * PAGE).all(|i| read_volatile(grown.add(i)) == (i % 251) as u8),
        );
        check("mremap new part zeroed and writable", {
            let zero = read_volatile(grown.add(10 * PAGE)) == 0;
            write_volatile(grown.add(15 * PAGE), 3);
            zero && read_volatile(grown.add(15 * PAGE)) == 3
        });
        let shrunk = libc::mremap(grown.cast(), 16 * PAGE, PAGE, 0) as *mut u8;
        check(
            "mremap shrink in place",
            format!(
                "{} same address {}",
                mmap_result(shrunk.cast()),
                shrunk == grown
            ),
        );
        check(
            "tail gone after shrink (child)",
            in_child(|| read_volatile(grown.add(2 * PAGE)) as i32),
        );
        let blocker = libc::mmap(
            grown.add(PAGE).cast(),
            PAGE,
            libc::PROT_READ,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
            -1,
            0,
        );
        check("blocker mapped after it", blocker == grown.add(PAGE).cast());
        check(
            "mremap grow without MAYMOVE when blocked",
            mmap_result(libc::mremap(grown.cast(), PAGE, 4 * PAGE, 0)),
        );
        check(
            "mremap bad flags",
            mmap_result(libc::mremap(grown.cast(), PAGE, 2 * PAGE, 0x100)),
        );
        check(
            "mremap unaligned",
            mmap_result(libc::mremap(
                grown.add(1).cast(),
                PAGE,
                2 * PAGE,
                libc::MREMAP_MAYMOVE,
            )),
        );
        check(
            "mremap unmapped",
            mmap_result(libc::mremap(q.cast(), PAGE, 2 * PAGE, libc::MREMAP_MAYMOVE)),
        );

        // --- madvise ---
        let d = rw_private(2 * PAGE);
        write_volatile(d, 9);
        check(
            "madvise NORMAL",
            ok(libc::madvise(d.cast(), 2 * PAGE, libc::MADV_NORMAL) as i64),
        );
        check(
            "madvise WILLNEED",
            ok(libc::madvise(d.cast(), 2 * PAGE, libc::MADV_WILLNEED) as i64),
        );
        check(
            "madvise DONTNEED",
            ok(libc::madvise(d.cast(), 2 * PAGE, libc::MADV_DONTNEED) as i64),
        );
        check(
            "private anon reads zero after DONTNEED",
            read_volatile(d) == 0,
        );
        check(
            "madvise bad advice",
            err(libc::madvise(d.cast(), PAGE, 999) as i64),
        );
        check(
            "madvise unaligned",
            err(libc::madvise(d.add(1).cast(), PAGE, libc::MADV_NORMAL) as i64),
        );

        // --- file mappings ---
        let path = c(&format!("{DIR}/data"));
        let fd = libc::open(path.as_ptr(), libc::O_RDWR | libc::O_CREAT, 0o644);
        let content: Vec<u8> = (0..2 * PAGE).map(|i| (i % 13) as u8 + b'a').collect();
        write_all(fd, &content);
        let f = libc::mmap(
            null_mut(),
            2 * PAGE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            fd,
            0,
        ) as *mut u8;
        check("mmap file shared", mmap_result(f.cast()));
        // The checks that use the mapping only run when it exists.
        if f as *mut libc::c_void != libc::MAP_FAILED {
            check(
                "file mapping shows contents",
                (0..2 * PAGE).all(|i| read_volatile(f.add(i)) == content[i]),
            );
            write_volatile(f.add(5), b'Z');
            check(
                "msync",
                ok(libc::msync(f.cast(), 2 * PAGE, libc::MS_SYNC) as i64),
            );
            check("shared file write visible to read()", {
                let mut b = [0u8; 1];
                libc::pread(fd, b.as_mut_ptr().cast(), 1, 5);
                b[0] == b'Z'
            });
            check("write() visible in shared mapping", {
                libc::pwrite(fd, b"Q".as_ptr().cast(), 1, 7);
                read_volatile(f.add(7)) == b'Q'
            });
            let fp = libc::mmap(
                null_mut(),
                PAGE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE,
                fd,
                PAGE as i64,
            ) as *mut u8;
            check(
                "mmap file private at offset",
                format!(
                    "{} first byte matches {}",
                    mmap_result(fp.cast()),
                    fp as *mut libc::c_void != libc::MAP_FAILED
                        && read_volatile(fp) == content[PAGE]
                ),
            );
            if fp as *mut libc::c_void != libc::MAP_FAILED {
                write_volatile(fp, b'P');
                check("private file write not in file", {
                    let mut b = [0u8; 1];
                    libc::pread(fd, b.as_mut_ptr().cast(), 1, PAGE as i64);
                    b[0] == content[PAGE]
                });
            }
            check(
                "mmap file unaligned offset",
                mmap_result(libc::mmap(
                    null_mut(),
                    PAGE,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE,
                    fd,
                    100,
                )),
            );
            check(
                "access past EOF page in child",
                in_child(|| {
                    let beyond = libc::mmap(
                        null_mut(),
                        4 * PAGE,
                        libc::PROT_READ,
                        libc::MAP_SHARED,
                        fd,
                        0,
                    ) as *mut u8;
                    if beyond as *mut libc::c_void == libc::MAP_FAILED {
                        return 100 + errno();
                    }
                    read_volatile(beyond.add(3 * PAGE)) as i32
                }),
            );
            check("tail of last page reads zero", {
                libc::ftruncate(fd, (PAGE + 100) as i64);
                let t = libc::mmap(
                    null_mut(),
                    2 * PAGE,
                    libc::PROT_READ,
                    libc::MAP_SHARED,
                    fd,
                    0,
                ) as *mut u8;
                if t as *mut libc::c_void == libc::MAP_FAILED {
                    return_err()
                } else {
                    let zero = (PAGE + 100..2 * PAGE).all(|i| read_volatile(t.add(i)) == 0);
                    libc::munmap(t.cast(), 2 * PAGE);
                    zero.to_string()
                }
            });
        }
        let ro = libc::open(path.as_ptr(), libc::O_RDONLY);
        check(
            "mmap O_RDONLY fd PROT_WRITE MAP_SHARED",
            mmap_result(libc::mmap(
                null_mut(),
                PAGE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                ro,
                0,
            )),
        );
        check(
            "mmap O_RDONLY fd PROT_WRITE MAP_PRIVATE",
            mmap_result(libc::mmap(
                null_mut(),
                PAGE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE,
                ro,
                0,
            )),
        );
        let dirfd = libc::open(c(DIR).as_ptr(), libc::O_RDONLY);
        check(
            "mmap a directory",
            mmap_result(libc::mmap(
                null_mut(),
                PAGE,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                dirfd,
                0,
            )),
        );
        let fds = pipe(0);
        check(
            "mmap a pipe",
            mmap_result(libc::mmap(
                null_mut(),
                PAGE,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                fds[0],
                0,
            )),
        );
        libc::close(fds[0]);
        libc::close(fds[1]);
        libc::close(dirfd);
        libc::close(ro);
        if f as *mut libc::c_void != libc::MAP_FAILED {
            check("mapping survives close", {
                libc::close(fd);
                read_volatile(f.add(5)) == b'Z'
            });
            check("mapping survives unlink", {
                libc::unlink(path.as_ptr());
                read_volatile(f.add(7)) == b'Q'
            });
            check("shared file mapping across fork", {
                let pid = spawn(|| {
                    write_volatile(f.add(9), b'C');
                    0
                });
                wait_text(pid);
                read_volatile(f.add(9)) == b'C'
            });
        } else {
            libc::close(fd);
        }

        // --- bigger workloads ---
        check("16 MiB touched page by page", {
            let big = rw_private(16 << 20);
            for i in (0..16 << 20).step_by(PAGE) {
                write_volatile(big.add(i), (i / PAGE) as u8);
            }
            let good = (0..16 << 20)
                .step_by(PAGE)
                .all(|i| read_volatile(big.add(i)) == (i / PAGE) as u8);
            libc::munmap(big.cast(), 16 << 20);
            good
        });
        check("heap: 10000 boxes", {
            let boxes: Vec<Box<[u64; 16]>> = (0..10_000u64).map(|i| Box::new([i; 16])).collect();
            boxes.iter().enumerate().all(|(i, b)| b[15] == i as u64)
        });
        check(
            "1 MiB of stack in child",
            in_child(|| {
                fn deep(n: u32) -> u32 {
                    let pad = [n as u8; 1024];
                    std::hint::black_box(&pad);
                    if n == 0 {
                        0
                    } else {
                        deep(n - 1) + pad[7] as u32 % 2
                    }
                }
                (deep(1000) > 0) as i32
            }),
        );

        // --- /proc/self/maps ---
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
        check(
            "/proc/self/maps has [stack]",
            maps.lines().any(|l| l.ends_with("[stack]")),
        );
        check(
            "/proc/self/maps has [heap]",
            maps.lines().any(|l| l.ends_with("[heap]")),
        );
        check(
            "/proc/self/maps has the executable",
            maps.lines().any(|l| l.ends_with("/usr/bin/abi-memory")),
        );
        check(
            "/proc/self/maps has a shared mapping",
            maps.lines().any(|l| {
                l.split_whitespace()
                    .nth(1)
                    .is_some_and(|perms| perms.ends_with('s'))
            }),
        );
    }
    let _ = std::fs::remove_dir_all(DIR);
    check("done", "ok");
}
