//! abi-files: file and directory system calls — open flags, read/write families, lseek,
//! stat, truncate, getdents64, mkdir/rmdir/unlink/rename/link/symlink, cwd, dup, fcntl,
//! umask, access, utimensat — normal behaviour and error paths (errno names).
//!
//! Works under a scratch directory in /tmp (a tmpfs on both kernels). Every line is a
//! stable fact; the exit status is 0 whatever the checks show.

#[path = "../../abi-common/abi_common.rs"]
mod common;

use common::*;
use std::ffi::CStr;

const DIR: &str = "/tmp/abi-files";

fn p(name: &str) -> std::ffi::CString {
    c(&format!("{DIR}/{name}"))
}

fn open(path: &str, flags: i32, mode: u32) -> i32 {
    // SAFETY: a live C string.
    unsafe { libc::open(p(path).as_ptr(), flags, mode) }
}

fn fstat(fd: i32) -> Option<libc::stat> {
    // SAFETY: a zeroed stat is a valid buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is live.
    (unsafe { libc::fstat(fd, &mut st) } == 0).then_some(st)
}

fn lstat(path: &str) -> Option<libc::stat> {
    // SAFETY: a zeroed stat is a valid buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` and the path are live.
    (unsafe {
        libc::fstatat(
            libc::AT_FDCWD,
            p(path).as_ptr(),
            &mut st,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    } == 0)
        .then_some(st)
}

fn kind(mode: u32) -> &'static str {
    match mode & libc::S_IFMT {
        libc::S_IFREG => "regular",
        libc::S_IFDIR => "directory",
        libc::S_IFLNK => "symlink",
        libc::S_IFIFO => "fifo",
        libc::S_IFCHR => "char device",
        libc::S_IFBLK => "block device",
        libc::S_IFSOCK => "socket",
        _ => "unknown",
    }
}

fn read_str(fd: i32, len: usize) -> String {
    let mut buffer = vec![0u8; len];
    // SAFETY: `buffer` is live with `len` bytes.
    let got = unsafe { libc::read(fd, buffer.as_mut_ptr().cast(), len) };
    if got < 0 {
        return errno_name(errno());
    }
    format!("{:?}", String::from_utf8_lossy(&buffer[..got as usize]))
}

fn write_str(fd: i32, text: &str) -> String {
    // SAFETY: `text` is live.
    val(unsafe { libc::write(fd, text.as_ptr().cast(), text.len()) } as i64)
}

fn size_of(path: &str) -> String {
    lstat(path).map_or_else(|| errno_name(errno()), |st| st.st_size.to_string())
}

/// The sorted names (with a `/` after directories) of a directory, read with getdents64.
fn dir_names(path: &str) -> String {
    // SAFETY: a live C string.
    let fd = unsafe { libc::open(p(path).as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY) };
    if fd < 0 {
        return errno_name(errno());
    }
    let mut names = Vec::new();
    let mut buffer = vec![0u8; 256]; // small: forces several calls
    loop {
        // SAFETY: `buffer` is live.
        let got =
            unsafe { libc::syscall(libc::SYS_getdents64, fd, buffer.as_mut_ptr(), buffer.len()) };
        if got < 0 {
            names.push(errno_name(errno()));
            break;
        }
        if got == 0 {
            break;
        }
        let mut offset = 0usize;
        while offset < got as usize {
            let record = &buffer[offset..];
            let reclen = u16::from_ne_bytes([record[16], record[17]]) as usize;
            let dtype = record[18];
            // SAFETY: d_name is NUL-terminated within the record.
            let name = unsafe { CStr::from_ptr(record[19..].as_ptr().cast()) };
            let mut name = name.to_string_lossy().into_owned();
            if dtype == libc::DT_DIR {
                name.push('/');
            } else if dtype == libc::DT_LNK {
                name.push('@');
            }
            names.push(name);
            offset += reclen;
        }
    }
    // SAFETY: our fd.
    unsafe { libc::close(fd) };
    names.sort();
    names.join(" ")
}

fn main() {
    // SAFETY (whole program): the libc calls get live buffers and C strings of the right
    // types, or deliberately bad pointers that the kernel must reject with EFAULT.
    unsafe {
        check("umask initial", format!("{:03o}", libc::umask(0o022)));
        scratch_dir(DIR);

        // --- open flags ---
        let fd = open("f", libc::O_CREAT | libc::O_EXCL | libc::O_RDWR, 0o644);
        check("open O_CREAT|O_EXCL new", ok(fd as i64));
        check(
            "open O_CREAT|O_EXCL existing",
            err(open("f", libc::O_CREAT | libc::O_EXCL | libc::O_RDWR, 0o644) as i64),
        );
        check(
            "open missing",
            err(open("missing", libc::O_RDONLY, 0) as i64),
        );
        check(
            "open missing/x",
            err(open("missing/x", libc::O_RDONLY, 0) as i64),
        );
        check("open file/x", err(open("f/x", libc::O_RDONLY, 0) as i64));
        check(
            "open file O_DIRECTORY",
            err(open("f", libc::O_RDONLY | libc::O_DIRECTORY, 0) as i64),
        );
        check("open dir O_WRONLY", err(open("", libc::O_WRONLY, 0) as i64));
        check(
            "open dir O_RDWR",
            err(libc::open(c(DIR).as_ptr(), libc::O_RDWR) as i64),
        );
        check(
            "open dir O_RDONLY",
            ok({
                let d = libc::open(c(DIR).as_ptr(), libc::O_RDONLY);
                close_keep(d);
                d as i64
            }),
        );
        libc::symlink(c("f").as_ptr(), p("link").as_ptr());
        check(
            "open O_NOFOLLOW symlink",
            err(open("link", libc::O_RDONLY | libc::O_NOFOLLOW, 0) as i64),
        );
        libc::symlink(c("loop2").as_ptr(), p("loop1").as_ptr());
        libc::symlink(c("loop1").as_ptr(), p("loop2").as_ptr());
        check(
            "open symlink loop",
            err(open("loop1", libc::O_RDONLY, 0) as i64),
        );
        check("open dangling symlink", {
            libc::symlink(c("nowhere").as_ptr(), p("dangling").as_ptr());
            err(open("dangling", libc::O_RDONLY, 0) as i64)
        });
        check("open dangling symlink O_CREAT", {
            let g = open("dangling", libc::O_RDWR | libc::O_CREAT, 0o644);
            close_keep(g);
            format!(
                "{} nowhere exists: {}",
                ok(g as i64),
                lstat("nowhere").is_some()
            )
        });
        let long = "n".repeat(300);
        check(
            "open 300-byte name",
            err(open(&long, libc::O_RDONLY, 0) as i64),
        );
        check(
            "open bad path pointer",
            err(libc::open(0x10 as *const libc::c_char, libc::O_RDONLY) as i64),
        );
        check(
            "open empty path",
            err(libc::open(c("").as_ptr(), libc::O_RDONLY) as i64),
        );
        check("openat relative to dir fd", {
            let d = libc::open(c(DIR).as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY);
            let g = libc::openat(d, c("f").as_ptr(), libc::O_RDONLY);
            let same = fstat(g).map(|st| st.st_ino) == fstat(fd).map(|st| st.st_ino);
            close_keep(g);
            close_keep(d);
            format!("{} same inode: {same}", ok(g as i64))
        });
        check(
            "openat relative to file fd",
            err(libc::openat(fd, c("x").as_ptr(), libc::O_RDONLY) as i64),
        );
        check(
            "openat bad dirfd",
            err(libc::openat(999, c("x").as_ptr(), libc::O_RDONLY) as i64),
        );
        check(
            "openat absolute ignores bad dirfd",
            ok({
                let g = libc::openat(999, p("f").as_ptr(), libc::O_RDONLY);
                close_keep(g);
                g as i64
            }),
        );

        // --- read, write, lseek ---
        check("write 10", write_str(fd, "0123456789"));
        check("lseek SEEK_CUR 0", val(libc::lseek(fd, 0, libc::SEEK_CUR)));
        check("lseek SEEK_SET 2", val(libc::lseek(fd, 2, libc::SEEK_SET)));
        check("read 4", read_str(fd, 4));
        check(
            "lseek SEEK_END -3",
            val(libc::lseek(fd, -3, libc::SEEK_END)),
        );
        check("read to EOF", read_str(fd, 100));
        check("read at EOF", read_str(fd, 100));
        check(
            "lseek SEEK_SET -1",
            err(libc::lseek(fd, -1, libc::SEEK_SET)),
        );
        check(
            "lseek SEEK_CUR -100",
            err(libc::lseek(fd, -100, libc::SEEK_CUR)),
        );
        check("lseek whence 7", err(libc::lseek(fd, 0, 7)));
        check("lseek past end", val(libc::lseek(fd, 1000, libc::SEEK_SET)));
        check("size after lseek past end", size_of("f"));
        let mut buffer = [0u8; 8];
        check("pread 3 at 5", {
            let got = libc::pread(fd, buffer.as_mut_ptr().cast(), 3, 5);
            format!(
                "{} {:?}",
                val(got as i64),
                String::from_utf8_lossy(&buffer[..got.max(0) as usize])
            )
        });
        check(
            "offset unchanged by pread",
            val(libc::lseek(fd, 0, libc::SEEK_CUR)),
        );
        check(
            "pread past EOF",
            val(libc::pread(fd, buffer.as_mut_ptr().cast(), 3, 50) as i64),
        );
        check(
            "pread negative offset",
            err(libc::pread(fd, buffer.as_mut_ptr().cast(), 3, -1) as i64),
        );
        check(
            "pwrite 2 at 20",
            val(libc::pwrite(fd, b"XY".as_ptr().cast(), 2, 20) as i64),
        );
        check("size after pwrite", size_of("f"));
        check("hole reads as zeros", {
            let mut hole = [0xffu8; 10];
            let got = libc::pread(fd, hole.as_mut_ptr().cast(), 10, 10);
            format!("{} {}", val(got as i64), hole.iter().all(|&b| b == 0))
        });
        libc::lseek(fd, 0, libc::SEEK_SET);
        let parts: [&[u8]; 3] = [b"ab", b"", b"cdef"];
        let iov: Vec<libc::iovec> = parts
            .iter()
            .map(|part| libc::iovec {
                iov_base: part.as_ptr() as *mut _,
                iov_len: part.len(),
            })
            .collect();
        check(
            "writev 3 iovecs",
            val(libc::writev(fd, iov.as_ptr(), 3) as i64),
        );
        libc::lseek(fd, 0, libc::SEEK_SET);
        let (mut a, mut b) = ([0u8; 3], [0u8; 5]);
        let iov = [
            libc::iovec {
                iov_base: a.as_mut_ptr().cast(),
                iov_len: 3,
            },
            libc::iovec {
                iov_base: b.as_mut_ptr().cast(),
                iov_len: 5,
            },
        ];
        check("readv 2 iovecs", {
            let got = libc::readv(fd, iov.as_ptr(), 2);
            format!(
                "{} {:?} {:?}",
                val(got as i64),
                String::from_utf8_lossy(&a),
                String::from_utf8_lossy(&b)
            )
        });
        check(
            "readv iovcnt -1",
            err(libc::readv(fd, iov.as_ptr(), -1) as i64),
        );
        check("preadv at 1", {
            let got = libc::preadv(fd, iov.as_ptr(), 1, 1);
            format!("{} {:?}", val(got as i64), String::from_utf8_lossy(&a))
        });
        check(
            "pwritev at 0",
            val(libc::pwritev(
                fd,
                [libc::iovec {
                    iov_base: b"AB".as_ptr() as *mut _,
                    iov_len: 2,
                }]
                .as_ptr(),
                1,
                0,
            ) as i64),
        );
        check("pread after pwritev", {
            let got = libc::pread(fd, buffer.as_mut_ptr().cast(), 4, 0);
            format!(
                "{} {:?}",
                val(got as i64),
                String::from_utf8_lossy(&buffer[..got.max(0) as usize])
            )
        });
        check(
            "read bad buffer",
            err({
                libc::lseek(fd, 0, libc::SEEK_SET);
                libc::read(fd, 0x10 as *mut libc::c_void, 4) as i64
            }),
        );
        check(
            "write bad buffer",
            err(libc::write(fd, 0x10 as *const libc::c_void, 4) as i64),
        );
        check(
            "read 0 bytes",
            val(libc::read(fd, buffer.as_mut_ptr().cast(), 0) as i64),
        );

        // --- O_APPEND, O_TRUNC, access modes ---
        let ap = open("f", libc::O_WRONLY | libc::O_APPEND, 0);
        libc::lseek(ap, 0, libc::SEEK_SET);
        check("O_APPEND write", write_str(ap, "Z"));
        check(
            "O_APPEND offset at end",
            val(libc::lseek(ap, 0, libc::SEEK_CUR)),
        );
        check("size after O_APPEND write", size_of("f"));
        check("read from O_WRONLY fd", read_str(ap, 1));
        libc::close(ap);
        let ro = open("f", libc::O_RDONLY, 0);
        check("write to O_RDONLY fd", write_str(ro, "x"));
        check("ftruncate O_RDONLY fd", err(libc::ftruncate(ro, 0) as i64));
        libc::close(ro);
        let tr = open("f", libc::O_WRONLY | libc::O_TRUNC, 0);
        check("size after O_TRUNC", size_of("f"));
        libc::close(tr);

        // --- stat family ---
        let st = fstat(fd).unwrap();
        check("fstat type", kind(st.st_mode));
        check("fstat perms", format!("{:o}", st.st_mode & 0o7777));
        check("fstat nlink", st.st_nlink);
        check("fstat size", st.st_size);
        check("fstat uid gid", format!("{} {}", st.st_uid, st.st_gid));
        check("ftruncate 100", ok(libc::ftruncate(fd, 100) as i64));
        check("size after ftruncate", size_of("f"));
        check(
            "truncate path 5",
            ok(libc::truncate(p("f").as_ptr(), 5) as i64),
        );
        check("size after truncate", size_of("f"));
        check("ftruncate -1", err(libc::ftruncate(fd, -1) as i64));
        check(
            "truncate missing",
            err(libc::truncate(p("missing").as_ptr(), 0) as i64),
        );
        check(
            "truncate dir",
            err(libc::truncate(c(DIR).as_ptr(), 0) as i64),
        );
        check("fstat dir type", kind(lstat("").unwrap().st_mode));
        check(
            "lstat symlink",
            lstat("link").map_or_else(
                || errno_name(errno()),
                |st| format!("{} size {}", kind(st.st_mode), st.st_size),
            ),
        );
        check("stat follows symlink", {
            let mut st2: libc::stat = std::mem::zeroed();
            let r = libc::stat(p("link").as_ptr(), &mut st2);
            format!("{} {}", ok(r as i64), kind(st2.st_mode))
        });
        check(
            "stat missing",
            err({
                let mut st2: libc::stat = std::mem::zeroed();
                libc::stat(p("missing").as_ptr(), &mut st2) as i64
            }),
        );
        check(
            "stat bad buffer",
            err(libc::stat(p("f").as_ptr(), 0x10 as *mut libc::stat) as i64),
        );
        check(
            "fstat bad fd",
            err({
                let mut st2: libc::stat = std::mem::zeroed();
                libc::fstat(999, &mut st2) as i64
            }),
        );
        check("fstatat AT_EMPTY_PATH", {
            let mut st2: libc::stat = std::mem::zeroed();
            let r = libc::fstatat(fd, c("").as_ptr(), &mut st2, libc::AT_EMPTY_PATH);
            format!(
                "{} {} size {}",
                ok(r as i64),
                kind(st2.st_mode),
                st2.st_size
            )
        });
        check(
            "fstatat empty path without flag",
            err({
                let mut st2: libc::stat = std::mem::zeroed();
                libc::fstatat(fd, c("").as_ptr(), &mut st2, 0) as i64
            }),
        );
        check(
            "fstatat bad flags",
            err({
                let mut st2: libc::stat = std::mem::zeroed();
                libc::fstatat(libc::AT_FDCWD, p("f").as_ptr(), &mut st2, 0x4000_0000) as i64
            }),
        );
        check("statx", {
            let mut sx: libc::statx = std::mem::zeroed();
            let r = libc::statx(
                libc::AT_FDCWD,
                p("f").as_ptr(),
                0,
                libc::STATX_BASIC_STATS,
                &mut sx,
            );
            format!(
                "{} basic mask: {} {} size {} nlink {} perms {:o}",
                ok(r as i64),
                sx.stx_mask & libc::STATX_BASIC_STATS == libc::STATX_BASIC_STATS,
                kind(sx.stx_mode as u32),
                sx.stx_size,
                sx.stx_nlink,
                sx.stx_mode & 0o7777
            )
        });
        check("statx symlink nofollow", {
            let mut sx: libc::statx = std::mem::zeroed();
            let r = libc::statx(
                libc::AT_FDCWD,
                p("link").as_ptr(),
                libc::AT_SYMLINK_NOFOLLOW,
                libc::STATX_BASIC_STATS,
                &mut sx,
            );
            format!("{} {}", ok(r as i64), kind(sx.stx_mode as u32))
        });
        check(
            "statx missing",
            err({
                let mut sx: libc::statx = std::mem::zeroed();
                libc::statx(
                    libc::AT_FDCWD,
                    p("missing").as_ptr(),
                    0,
                    libc::STATX_BASIC_STATS,
                    &mut sx,
                ) as i64
            }),
        );
        check("stat /dev/null", {
            let mut st2: libc::stat = std::mem::zeroed();
            let r = libc::stat(c("/dev/null").as_ptr(), &mut st2);
            format!(
                "{} {} rdev {}:{}",
                ok(r as i64),
                kind(st2.st_mode),
                libc::major(st2.st_rdev),
                libc::minor(st2.st_rdev)
            )
        });

        // --- directories ---
        check("mkdir d", ok(libc::mkdir(p("d").as_ptr(), 0o755) as i64));
        check(
            "mkdir d again",
            err(libc::mkdir(p("d").as_ptr(), 0o755) as i64),
        );
        check(
            "mkdir over file",
            err(libc::mkdir(p("f").as_ptr(), 0o755) as i64),
        );
        check(
            "mkdir missing parent",
            err(libc::mkdir(p("nope/d").as_ptr(), 0o755) as i64),
        );
        for name in ["d/c", "d/a", "d/b"] {
            libc::close(open(name, libc::O_CREAT | libc::O_WRONLY, 0o644));
        }
        libc::mkdir(p("d/z").as_ptr(), 0o755);
        libc::symlink(c("a").as_ptr(), p("d/s").as_ptr());
        check("getdents64 names", dir_names("d"));
        check("getdents64 empty dir", dir_names("d/z"));
        check(
            "dir nlink with 1 subdir",
            lstat("d").map_or(0, |st| st.st_nlink),
        );
        check(
            "getdents64 on file",
            err(libc::syscall(
                libc::SYS_getdents64,
                fd,
                buffer.as_mut_ptr(),
                buffer.len(),
            )),
        );
        check(
            "getdents64 bad fd",
            err(libc::syscall(
                libc::SYS_getdents64,
                999,
                buffer.as_mut_ptr(),
                buffer.len(),
            )),
        );
        check(
            "getdents64 tiny buffer",
            err({
                let d = open("d", libc::O_RDONLY | libc::O_DIRECTORY, 0);
                let r = libc::syscall(libc::SYS_getdents64, d, buffer.as_mut_ptr(), 8);
                close_keep(d);
                r
            }),
        );
        check(
            "read on dir fd",
            err({
                let d = open("d", libc::O_RDONLY | libc::O_DIRECTORY, 0);
                let r = libc::read(d, buffer.as_mut_ptr().cast(), 8);
                close_keep(d);
                r as i64
            }),
        );
        check("rmdir non-empty", err(libc::rmdir(p("d").as_ptr()) as i64));
        check("rmdir file", err(libc::rmdir(p("f").as_ptr()) as i64));
        check(
            "rmdir missing",
            err(libc::rmdir(p("missing").as_ptr()) as i64),
        );
        check("rmdir dot", err(libc::rmdir(p("d/z/.").as_ptr()) as i64));
        check("unlink dir", err(libc::unlink(p("d").as_ptr()) as i64));
        check(
            "unlink missing",
            err(libc::unlink(p("missing").as_ptr()) as i64),
        );
        check(
            "unlinkat AT_REMOVEDIR empty dir",
            ok(libc::unlinkat(libc::AT_FDCWD, p("d/z").as_ptr(), libc::AT_REMOVEDIR) as i64),
        );
        check(
            "unlinkat AT_REMOVEDIR on file",
            err(libc::unlinkat(libc::AT_FDCWD, p("d/a").as_ptr(), libc::AT_REMOVEDIR) as i64),
        );
        check("getdents64 after removals", dir_names("d"));

        // --- rename ---
        libc::close(open("r1", libc::O_CREAT | libc::O_WRONLY, 0o644));
        let r2 = open("r2", libc::O_CREAT | libc::O_WRONLY, 0o644);
        write_str(r2, "second");
        libc::close(r2);
        check(
            "rename over existing file",
            ok(libc::rename(p("r2").as_ptr(), p("r1").as_ptr()) as i64),
        );
        check(
            "old name after rename",
            err(libc::access(p("r2").as_ptr(), libc::F_OK) as i64),
        );
        check("new name size after rename", size_of("r1"));
        check(
            "rename missing",
            err(libc::rename(p("missing").as_ptr(), p("x").as_ptr()) as i64),
        );
        libc::mkdir(p("d/sub").as_ptr(), 0o755);
        check(
            "rename dir into own subdir",
            err(libc::rename(p("d").as_ptr(), p("d/sub/d").as_ptr()) as i64),
        );
        libc::mkdir(p("e").as_ptr(), 0o755);
        check(
            "rename dir over non-empty dir",
            err(libc::rename(p("e").as_ptr(), p("d").as_ptr()) as i64),
        );
        check(
            "rename file over dir",
            err(libc::rename(p("r1").as_ptr(), p("e").as_ptr()) as i64),
        );
        check(
            "rename dir over file",
            err(libc::rename(p("e").as_ptr(), p("r1").as_ptr()) as i64),
        );
        libc::mkdir(p("empty").as_ptr(), 0o755);
        check(
            "rename dir over empty dir",
            ok(libc::rename(p("e").as_ptr(), p("empty").as_ptr()) as i64),
        );
        check(
            "rename to itself",
            ok(libc::rename(p("r1").as_ptr(), p("r1").as_ptr()) as i64),
        );
        check(
            "renameat2 RENAME_NOREPLACE existing",
            err(libc::syscall(
                libc::SYS_renameat2,
                libc::AT_FDCWD,
                p("r1").as_ptr(),
                libc::AT_FDCWD,
                p("f").as_ptr(),
                libc::RENAME_NOREPLACE,
            )),
        );
        check(
            "rename across dirs",
            ok(libc::rename(p("r1").as_ptr(), p("d/r1").as_ptr()) as i64),
        );
        check("getdents64 after renames", dir_names(""));

        // --- link, symlink, readlink ---
        check(
            "link",
            ok(libc::link(p("f").as_ptr(), p("hard").as_ptr()) as i64),
        );
        check("nlink after link", lstat("f").map_or(0, |st| st.st_nlink));
        check(
            "same inode",
            lstat("f").map(|st| st.st_ino) == lstat("hard").map(|st| st.st_ino),
        );
        check(
            "link to existing name",
            err(libc::link(p("f").as_ptr(), p("hard").as_ptr()) as i64),
        );
        check(
            "link dir",
            err(libc::link(p("d").as_ptr(), p("dlink").as_ptr()) as i64),
        );
        check(
            "link missing",
            err(libc::link(p("missing").as_ptr(), p("x").as_ptr()) as i64),
        );
        check("unlink hard", ok(libc::unlink(p("hard").as_ptr()) as i64));
        check("nlink after unlink", lstat("f").map_or(0, |st| st.st_nlink));
        check(
            "symlink existing name",
            err(libc::symlink(c("x").as_ptr(), p("f").as_ptr()) as i64),
        );
        let mut target = [0u8; 64];
        check("readlink", {
            let n = libc::readlink(p("link").as_ptr(), target.as_mut_ptr().cast(), 64);
            format!(
                "{} {:?}",
                val(n as i64),
                String::from_utf8_lossy(&target[..n.max(0) as usize])
            )
        });
        check("readlink truncates", {
            libc::symlink(c("abcdefgh").as_ptr(), p("long").as_ptr());
            let n = libc::readlink(p("long").as_ptr(), target.as_mut_ptr().cast(), 3);
            format!(
                "{} {:?}",
                val(n as i64),
                String::from_utf8_lossy(&target[..n.max(0) as usize])
            )
        });
        check(
            "readlink regular file",
            err(libc::readlink(p("f").as_ptr(), target.as_mut_ptr().cast(), 64) as i64),
        );
        check(
            "readlink missing",
            err(libc::readlink(p("missing").as_ptr(), target.as_mut_ptr().cast(), 64) as i64),
        );
        check(
            "readlink bufsiz 0",
            err(libc::readlink(p("link").as_ptr(), target.as_mut_ptr().cast(), 0) as i64),
        );
        check("unlink symlink keeps target", {
            let r = libc::unlink(p("link").as_ptr());
            format!("{} {}", ok(r as i64), lstat("f").is_some())
        });
        check("symlink to dir then path through it", {
            libc::symlink(c("d").as_ptr(), p("dl").as_ptr());
            let g = open("dl/a", libc::O_RDONLY, 0);
            close_keep(g);
            ok(g as i64)
        });

        // --- cwd ---
        let mut cwd = [0u8; 256];
        check("chdir", ok(libc::chdir(p("d").as_ptr()) as i64));
        check("getcwd", {
            let r = libc::getcwd(cwd.as_mut_ptr().cast(), cwd.len());
            if r.is_null() {
                errno_name(errno())
            } else {
                CStr::from_ptr(r).to_string_lossy().into_owned()
            }
        });
        check(
            "relative open after chdir",
            ok({
                let g = libc::open(c("a").as_ptr(), libc::O_RDONLY);
                close_keep(g);
                g as i64
            }),
        );
        check("chdir ..", ok(libc::chdir(c("..").as_ptr()) as i64));
        check("getcwd after ..", {
            let r = libc::getcwd(cwd.as_mut_ptr().cast(), cwd.len());
            if r.is_null() {
                errno_name(errno())
            } else {
                CStr::from_ptr(r).to_string_lossy().into_owned()
            }
        });
        check(
            "getcwd syscall size 1",
            err(libc::syscall(libc::SYS_getcwd, cwd.as_mut_ptr(), 1)),
        );
        check(
            "getcwd syscall returns length",
            val(libc::syscall(libc::SYS_getcwd, cwd.as_mut_ptr(), cwd.len())),
        );
        check("chdir to file", err(libc::chdir(p("f").as_ptr()) as i64));
        check(
            "chdir missing",
            err(libc::chdir(p("missing").as_ptr()) as i64),
        );
        let dfd = open("d", libc::O_RDONLY | libc::O_DIRECTORY, 0);
        libc::chdir(c("/").as_ptr());
        check("fchdir", ok(libc::fchdir(dfd) as i64));
        check("getcwd after fchdir", {
            let r = libc::getcwd(cwd.as_mut_ptr().cast(), cwd.len());
            if r.is_null() {
                errno_name(errno())
            } else {
                CStr::from_ptr(r).to_string_lossy().into_owned()
            }
        });
        check("fchdir to file fd", err(libc::fchdir(fd) as i64));
        check("fchdir bad fd", err(libc::fchdir(999) as i64));
        libc::close(dfd);
        libc::chdir(c("/").as_ptr());

        // --- dup family ---
        let base = libc::dup(fd);
        check("dup", ok(base as i64));
        libc::close(base);
        check("dup reuses lowest free fd", libc::dup(fd) == base);
        check("dup shares offset", {
            libc::lseek(fd, 3, libc::SEEK_SET);
            libc::lseek(base, 0, libc::SEEK_CUR) == 3
        });
        check("dup2 to 100", val(libc::dup2(fd, 100) as i64));
        check("dup2 same fd", libc::dup2(fd, fd) == fd);
        check("dup2 bad old fd", err(libc::dup2(999, 101) as i64));
        check("dup3 same fd", err(libc::dup3(fd, fd, 0) as i64));
        check("dup3 bad flags", err(libc::dup3(fd, 102, 0x1234) as i64));
        check("dup3 O_CLOEXEC", {
            let r = libc::dup3(fd, 102, libc::O_CLOEXEC);
            format!(
                "{} FD_CLOEXEC {}",
                val(r as i64),
                libc::fcntl(102, libc::F_GETFD) == libc::FD_CLOEXEC
            )
        });
        check("dup bad fd", err(libc::dup(999) as i64));
        check("close 100", ok(libc::close(100) as i64));
        check("close 100 again", err(libc::close(100) as i64));

        // --- fcntl ---
        check("F_GETFD new fd", val(libc::fcntl(fd, libc::F_GETFD) as i64));
        check(
            "F_SETFD FD_CLOEXEC",
            ok(libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) as i64),
        );
        check(
            "F_GETFD after set",
            val(libc::fcntl(fd, libc::F_GETFD) as i64),
        );
        libc::fcntl(fd, libc::F_SETFD, 0);
        let fl = libc::fcntl(fd, libc::F_GETFL);
        check(
            "F_GETFL access mode O_RDWR",
            fl & libc::O_ACCMODE == libc::O_RDWR,
        );
        check("F_GETFL O_APPEND before", fl & libc::O_APPEND != 0);
        check(
            "F_SETFL O_APPEND|O_NONBLOCK",
            ok(libc::fcntl(fd, libc::F_SETFL, libc::O_APPEND | libc::O_NONBLOCK) as i64),
        );
        let fl = libc::fcntl(fd, libc::F_GETFL);
        check(
            "F_GETFL after set",
            format!(
                "append {} nonblock {} rdwr {}",
                fl & libc::O_APPEND != 0,
                fl & libc::O_NONBLOCK != 0,
                fl & libc::O_ACCMODE == libc::O_RDWR
            ),
        );
        check(
            "F_SETFL cannot change access mode",
            libc::fcntl(fd, libc::F_SETFL, libc::O_RDONLY) == 0
                && libc::fcntl(fd, libc::F_GETFL) & libc::O_ACCMODE == libc::O_RDWR,
        );
        check("F_DUPFD 50", val(libc::fcntl(fd, libc::F_DUPFD, 50) as i64));
        check(
            "F_DUPFD 50 again",
            val(libc::fcntl(fd, libc::F_DUPFD, 50) as i64),
        );
        check("F_DUPFD_CLOEXEC 60", {
            let r = libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 60);
            format!(
                "{} cloexec {}",
                val(r as i64),
                libc::fcntl(r, libc::F_GETFD)
            )
        });
        check(
            "F_DUPFD negative",
            err(libc::fcntl(fd, libc::F_DUPFD, -1) as i64),
        );
        check(
            "F_GETFL bad fd",
            err(libc::fcntl(999, libc::F_GETFL) as i64),
        );
        check("fcntl bad cmd", err(libc::fcntl(fd, 9999) as i64));

        // --- umask, access, chmod ---
        check(
            "umask set 027 returns",
            format!("{:03o}", libc::umask(0o027)),
        );
        libc::close(open("masked", libc::O_CREAT | libc::O_WRONLY, 0o666));
        libc::mkdir(p("maskeddir").as_ptr(), 0o777);
        check(
            "file mode under umask 027",
            format!("{:o}", lstat("masked").map_or(0, |st| st.st_mode & 0o7777)),
        );
        check(
            "dir mode under umask 027",
            format!(
                "{:o}",
                lstat("maskeddir").map_or(0, |st| st.st_mode & 0o7777)
            ),
        );
        check(
            "umask restore returns",
            format!("{:03o}", libc::umask(0o022)),
        );
        check(
            "access F_OK",
            ok(libc::access(p("masked").as_ptr(), libc::F_OK) as i64),
        );
        check(
            "access R_OK|W_OK as root",
            ok(libc::access(p("masked").as_ptr(), libc::R_OK | libc::W_OK) as i64),
        );
        check(
            "access X_OK no x bit as root",
            err(libc::access(p("masked").as_ptr(), libc::X_OK) as i64),
        );
        check(
            "access X_OK dir",
            ok(libc::access(p("maskeddir").as_ptr(), libc::X_OK) as i64),
        );
        check(
            "access missing",
            err(libc::access(p("missing").as_ptr(), libc::F_OK) as i64),
        );
        check(
            "access bad mode",
            err(libc::access(p("masked").as_ptr(), 0o100) as i64),
        );
        check(
            "faccessat dirfd",
            ok({
                let d = libc::open(c(DIR).as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY);
                let r = libc::faccessat(d, c("masked").as_ptr(), libc::R_OK, 0);
                close_keep(d);
                r as i64
            }),
        );
        check(
            "chmod 4755",
            ok(libc::chmod(p("masked").as_ptr(), 0o4755) as i64),
        );
        check(
            "mode after chmod",
            format!("{:o}", lstat("masked").map_or(0, |st| st.st_mode & 0o7777)),
        );
        check(
            "access X_OK after chmod",
            ok(libc::access(p("masked").as_ptr(), libc::X_OK) as i64),
        );
        check("fchmod 600", ok(libc::fchmod(fd, 0o600) as i64));
        check(
            "mode after fchmod",
            format!("{:o}", fstat(fd).map_or(0, |st| st.st_mode & 0o7777)),
        );
        check(
            "chmod missing",
            err(libc::chmod(p("missing").as_ptr(), 0o600) as i64),
        );

        // --- utimensat ---
        let times = [
            libc::timespec {
                tv_sec: 1_000_000_000,
                tv_nsec: 5,
            },
            libc::timespec {
                tv_sec: 1_234_567_890,
                tv_nsec: 123_456_789,
            },
        ];
        check(
            "utimensat set",
            ok(libc::utimensat(libc::AT_FDCWD, p("f").as_ptr(), times.as_ptr(), 0) as i64),
        );
        check(
            "times after utimensat",
            lstat("f").map_or_else(
                || errno_name(errno()),
                |st| {
                    format!(
                        "atime {}.{:09} mtime {}.{:09}",
                        st.st_atime, st.st_atime_nsec, st.st_mtime, st.st_mtime_nsec
                    )
                },
            ),
        );
        let omit = [
            libc::timespec {
                tv_sec: 0,
                tv_nsec: libc::UTIME_OMIT,
            },
            libc::timespec {
                tv_sec: 42,
                tv_nsec: 0,
            },
        ];
        check(
            "utimensat UTIME_OMIT atime",
            ok(libc::utimensat(libc::AT_FDCWD, p("f").as_ptr(), omit.as_ptr(), 0) as i64),
        );
        check(
            "times after UTIME_OMIT",
            lstat("f").map_or_else(
                || errno_name(errno()),
                |st| format!("atime {} mtime {}", st.st_atime, st.st_mtime),
            ),
        );
        check("utimensat NULL sets now", {
            let r = libc::utimensat(libc::AT_FDCWD, p("f").as_ptr(), std::ptr::null(), 0);
            format!(
                "{} after 2020: {}",
                ok(r as i64),
                lstat("f").is_some_and(|st| st.st_mtime > 1_577_836_800)
            )
        });
        check("futimens", ok(libc::futimens(fd, times.as_ptr()) as i64));
        check(
            "mtime after futimens",
            fstat(fd).map_or(0, |st| st.st_mtime),
        );
        let bad = [libc::timespec {
            tv_sec: 0,
            tv_nsec: 2_000_000_000,
        }; 2];
        check(
            "utimensat bad nsec",
            err(libc::utimensat(libc::AT_FDCWD, p("f").as_ptr(), bad.as_ptr(), 0) as i64),
        );
        check(
            "utimensat missing",
            err(libc::utimensat(libc::AT_FDCWD, p("missing").as_ptr(), times.as_ptr(), 0) as i64),
        );
        check("write changes mtime", {
            libc::utimensat(libc::AT_FDCWD, p("f").as_ptr(), times.as_ptr(), 0);
            libc::pwrite(fd, b"q".as_ptr().cast(), 1, 0);
            fstat(fd).is_some_and(|st| st.st_mtime > 1_577_836_800)
        });

        // --- bad fds, pipes ---
        check(
            "read bad fd",
            err(libc::read(-1, buffer.as_mut_ptr().cast(), 1) as i64),
        );
        check(
            "write bad fd",
            err(libc::write(999, buffer.as_ptr().cast(), 1) as i64),
        );
        check("lseek bad fd", err(libc::lseek(999, 0, libc::SEEK_SET)));
        check("close bad fd", err(libc::close(999) as i64));
        let fds = pipe(0);
        check("lseek on pipe", err(libc::lseek(fds[0], 0, libc::SEEK_CUR)));
        check(
            "pread on pipe",
            err(libc::pread(fds[0], buffer.as_mut_ptr().cast(), 1, 0) as i64),
        );
        check(
            "pwrite on pipe",
            err(libc::pwrite(fds[1], buffer.as_ptr().cast(), 1, 0) as i64),
        );
        check(
            "fstat pipe type",
            fstat(fds[0]).map_or_else(|| errno_name(errno()), |st| kind(st.st_mode).to_string()),
        );
        libc::close(fds[0]);
        libc::close(fds[1]);
        check("fstat /dev/null fd type", {
            let n = libc::open(c("/dev/null").as_ptr(), libc::O_RDWR);
            let k = fstat(n).map_or("error", |st| kind(st.st_mode));
            close_keep(n);
            k
        });
        check("read /dev/null", {
            let n = libc::open(c("/dev/null").as_ptr(), libc::O_RDWR);
            let r = read_str(n, 10);
            close_keep(n);
            r
        });
        check("read /dev/zero", {
            let n = libc::open(c("/dev/zero").as_ptr(), libc::O_RDONLY);
            let mut z = [1u8; 16];
            let r = libc::read(n, z.as_mut_ptr().cast(), 16);
            close_keep(n);
            format!("{} zeros {}", val(r as i64), z.iter().all(|&b| b == 0))
        });

        libc::close(fd);
        check(
            "cleanup",
            match std::fs::remove_dir_all(DIR) {
                Ok(()) => "ok".to_string(),
                Err(e) => errno_name(e.raw_os_error().unwrap_or(0)),
            },
        );
        check("done", "ok");
    }
}
