//! The test initramfs: a newc cpio archive written here (no external `cpio`), booted
//! with QEMU `-initrd` by coros and by Debian's Linux alike.
//!
//! Why our own writer: both kernels must get byte-identical archives, so everything is
//! fixed — entries sorted by path (parents before children), inode numbers counted in
//! that order, one mtime ([`MTIME`]), owner root. The newc format is simple: per entry a
//! 110-byte header (`070701` and thirteen 8-digit hex fields), the NUL-terminated name
//! padded to 4 bytes, the data padded to 4 bytes; the archive ends with `TRAILER!!!`.
//!
//! Contents: `/bin/busybox` (Debian's busybox-static) and a symlink per applet (the list
//! is read from the binary's own applet-name table, see [`applets_in_binary`]; busybox
//! cannot run on the host), `/dev` with console/null/tty/zero nodes (so Linux has a
//! console before devtmpfs), `/etc/passwd`, `/etc/group`, the `/init` script ([`INIT`]),
//! one script per user-level test under `/etc/coros-tests/`, the project's user
//! programs in `/usr/bin/`, and dynamically linked Debian programs with their shared
//! libraries under their Debian paths ([`DEBIAN_FILES`]; `/lib` is a symlink to
//! `usr/lib`, Debian's merged /usr, so the interpreter path
//! `/lib/ld-linux-riscv64-lp64d.so.1` resolves). Only the files the tests need are taken
//! (the archive is loaded into guest RAM, then unpacked into tmpfs: it counts twice).

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::shell;

/// Every entry's modification time: 2025-01-01 00:00:00 UTC.
pub const MTIME: u32 = 1_735_689_600;
/// Where the test scripts live in the archive (one file per test, named after it).
pub const TESTS_DIR: &str = "etc/coros-tests";
/// The line `/init` prints first; seeing it means the kernel ran `/init`.
pub const INIT_UP_LINE: &str = "coros-init: up";
/// The kernel command-line word (and environment variable) naming the test to run.
pub const TEST_VARIABLE: &str = "coros_test";

/// What one archive entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Directory,
    File(Vec<u8>),
    Symlink(String),
    /// A character device (major, minor).
    CharDevice(u32, u32),
}

/// One entry: the node and its permission bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub node: Node,
    pub permissions: u32,
}

impl Entry {
    fn mode(&self) -> u32 {
        let kind = match self.node {
            Node::Directory => 0o040000,
            Node::File(_) => 0o100000,
            Node::Symlink(_) => 0o120000,
            Node::CharDevice(..) => 0o020000,
        };
        kind | (self.permissions & 0o7777)
    }

    fn data(&self) -> &[u8] {
        match &self.node {
            Node::File(bytes) => bytes,
            Node::Symlink(target) => target.as_bytes(),
            Node::Directory | Node::CharDevice(..) => &[],
        }
    }
}

/// An archive being assembled: paths (no leading `/`) to entries, kept sorted.
#[derive(Debug, Default, Clone)]
pub struct Archive {
    entries: BTreeMap<String, Entry>,
}

impl Archive {
    pub fn new() -> Archive {
        Archive::default()
    }

    /// Adds (or replaces) `path`, creating missing parent directories (mode 0755).
    pub fn add(&mut self, path: &str, node: Node, permissions: u32) {
        let path = path.trim_start_matches('/').trim_end_matches('/');
        assert!(!path.is_empty() && !path.split('/').any(|part| part.is_empty() || part == ".."));
        let mut parent = String::new();
        let parts: Vec<&str> = path.split('/').collect();
        for part in &parts[..parts.len() - 1] {
            if !parent.is_empty() {
                parent.push('/');
            }
            parent.push_str(part);
            self.entries.entry(parent.clone()).or_insert(Entry {
                node: Node::Directory,
                permissions: 0o755,
            });
        }
        self.entries
            .insert(path.to_string(), Entry { node, permissions });
    }

    pub fn directory(&mut self, path: &str, permissions: u32) {
        self.add(path, Node::Directory, permissions);
    }

    pub fn file(&mut self, path: &str, bytes: impl Into<Vec<u8>>, permissions: u32) {
        self.add(path, Node::File(bytes.into()), permissions);
    }

    pub fn symlink(&mut self, path: &str, target: &str) {
        self.add(path, Node::Symlink(target.to_string()), 0o777);
    }

    pub fn char_device(&mut self, path: &str, major: u32, minor: u32, permissions: u32) {
        self.add(path, Node::CharDevice(major, minor), permissions);
    }

    pub fn contains(&self, path: &str) -> bool {
        self.entries.contains_key(path.trim_start_matches('/'))
    }

    /// The newc bytes: sorted entries, then the trailer.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (index, (path, entry)) in self.entries.iter().enumerate() {
            let (rdev_major, rdev_minor) = match entry.node {
                Node::CharDevice(major, minor) => (major, minor),
                _ => (0, 0),
            };
            let links = if entry.node == Node::Directory { 2 } else { 1 };
            let header = Header {
                inode: index as u32 + 1,
                mode: entry.mode(),
                links,
                mtime: MTIME,
                rdev_major,
                rdev_minor,
            };
            write_entry(&mut out, &header, path, entry.data());
        }
        let trailer = Header {
            inode: 0,
            mode: 0,
            links: 1,
            mtime: 0,
            rdev_major: 0,
            rdev_minor: 0,
        };
        write_entry(&mut out, &trailer, "TRAILER!!!", &[]);
        out
    }
}

/// The header fields that vary (owner, device and check fields are 0).
struct Header {
    inode: u32,
    mode: u32,
    links: u32,
    mtime: u32,
    rdev_major: u32,
    rdev_minor: u32,
}

fn write_entry(out: &mut Vec<u8>, header: &Header, name: &str, data: &[u8]) {
    let size = u32::try_from(data.len()).expect("cpio newc entries are below 4 GiB");
    let name_size = name.len() as u32 + 1;
    let fields = [
        header.inode,
        header.mode,
        0, // uid
        0, // gid
        header.links,
        header.mtime,
        size,
        0, // devmajor
        0, // devminor
        header.rdev_major,
        header.rdev_minor,
        name_size,
        0, // check
    ];
    out.extend_from_slice(b"070701");
    for field in fields {
        out.extend_from_slice(format!("{field:08X}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
    out.extend_from_slice(data);
    pad4(out);
}

fn pad4(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

// ---- busybox ---------------------------------------------------------------------------

/// Applets the tests rely on; used when the binary's table cannot be read, and checked
/// against it when it can.
pub const NEEDED_APPLETS: &[&str] = &[
    "sh",
    "ls",
    "cat",
    "echo",
    "mkdir",
    "rm",
    "mv",
    "cp",
    "ln",
    "find",
    "grep",
    "sed",
    "awk",
    "sort",
    "uniq",
    "wc",
    "cut",
    "tr",
    "head",
    "tail",
    "tar",
    "gzip",
    "gunzip",
    "md5sum",
    "sha256sum",
    "dd",
    "ps",
    "kill",
    "sleep",
    "date",
    "df",
    "du",
    "mount",
    "umount",
    "true",
    "false",
    "test",
    "[",
    "env",
    "printf",
    "uname",
    "id",
    "touch",
    "chmod",
    "stat",
    "readlink",
    "basename",
    "dirname",
    "seq",
    "xargs",
    "yes",
    "poweroff",
    "reboot",
    "halt",
    "init",
];

/// Reads busybox's applet names from its binary: busybox keeps them sorted in one
/// NUL-separated string (`applet_names[]`) that starts with `[`, `[[` and ends with an
/// empty name. `None` when no such table is found.
pub fn applets_in_binary(binary: &[u8]) -> Option<Vec<String>> {
    let start = find(binary, b"[\0[[\0")?;
    let mut names = Vec::new();
    for name in binary[start..].split(|&byte| byte == 0) {
        if name.is_empty() {
            break;
        }
        let plausible = name.len() < 32
            && name
                .iter()
                .all(|&byte| byte.is_ascii_alphanumeric() || b"[_-.".contains(&byte));
        if !plausible {
            return None;
        }
        names.push(String::from_utf8_lossy(name).into_owned());
    }
    let sorted = names.windows(2).all(|pair| pair[0] < pair[1]);
    (sorted && names.len() >= 10).then_some(names)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

// ---- /init -------------------------------------------------------------------------------

/// The `/init` script. See the module docs of `user_tests` for the protocol.
pub const INIT: &str = r#"#!/bin/busybox sh
# /init of the coros test initramfs (written by `cargo xtask`, xtask/src/initramfs.rs).
# The same archive boots coros and Debian's Linux.
#
#   coros_test=NAME on the kernel command line: Linux hands such unknown `key=value`
#   words to init as environment variables; when the variable is absent, /proc/cmdline
#   is read instead. /init runs /etc/coros-tests/NAME with a fixed environment and
#   stdin from /dev/null, between the lines
#       === begin NAME ===
#       === end NAME: exit STATUS ===
#   and powers off (`poweroff -f`). Without coros_test: a shell on the console.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
echo "coros-init: up"
mount -t proc proc /proc 2>/dev/null || echo "coros-init: no procfs"
mount -t sysfs sysfs /sys 2>/dev/null || echo "coros-init: no sysfs"
mount -t devtmpfs devtmpfs /dev 2>/dev/null || echo "coros-init: no devtmpfs (static /dev)"
mount -t tmpfs tmpfs /tmp 2>/dev/null || echo "coros-init: no tmpfs on /tmp"
name="${coros_test-}"
if [ -z "$name" ] && [ -r /proc/cmdline ]; then
    read -r cmdline < /proc/cmdline
    for word in $cmdline; do
        case "$word" in
            coros_test=*) name="${word#coros_test=}" ;;
        esac
    done
fi
cd /root
if [ -n "$name" ]; then
    echo "=== begin $name ==="
    if [ -f "/etc/coros-tests/$name" ]; then
        env -i HOME=/root TERM=linux PATH="$PATH" /bin/sh "/etc/coros-tests/$name" < /dev/null
        status=$?
    else
        echo "coros-init: no test named '$name' in /etc/coros-tests"
        status=127
    fi
    echo "=== end $name: exit $status ==="
    poweroff -f
    echo "coros-init: poweroff -f returned"
    exit 1
fi
echo "coros-init: no coros_test= on the command line: shell on the console (poweroff -f quits)"
if [ -b /dev/vda ]; then
    echo "coros-init: a disk is attached: mount -t ext4 /dev/vda /mnt && chroot /mnt /bin/dash"
fi
sh
poweroff -f
"#;

// ---- assembling the archive ------------------------------------------------------------------

/// Multiarch library directory of Debian riscv64.
const LIB: &str = "usr/lib/riscv64-linux-gnu";

/// Files taken from Debian packages: (package, paths inside it). A path ending in `/`
/// takes a directory's files, one containing `.so.` also the versioned files it names
/// (`libcap.so.2` is a symlink to `libcap.so.2.75`); symlinks are kept as symlinks. Each
/// program's `NEEDED` libraries are listed with it (checked by `readelf -d`).
pub const DEBIAN_FILES: &[(&str, &[&str])] = &[
    (
        "libc6",
        &[
            "usr/lib/ld-linux-riscv64-lp64d.so.1",
            "usr/lib/riscv64-linux-gnu/ld-linux-riscv64-lp64d.so.1",
            "usr/lib/riscv64-linux-gnu/libc.so.6",
            "usr/lib/riscv64-linux-gnu/libm.so.6",
        ],
    ),
    ("dash", &["usr/bin/dash"]),
    (
        "coreutils",
        &[
            "usr/bin/ls",
            "usr/bin/sort",
            "usr/bin/sha256sum",
            "usr/bin/cat",
            "usr/bin/wc",
            "usr/bin/seq",
            "usr/bin/date",
            "usr/bin/touch",
            "usr/bin/mkdir",
            "usr/bin/head",
            "usr/bin/tr",
            "usr/bin/env",
        ],
    ),
    // ls: libselinux.so.1 (which needs libpcre2-8.so.0) and libcap.so.2.
    ("libselinux1", &["usr/lib/riscv64-linux-gnu/libselinux.so.1"]),
    ("libpcre2-8-0", &["usr/lib/riscv64-linux-gnu/libpcre2-8.so.0"]),
    ("libcap2", &["usr/lib/riscv64-linux-gnu/libcap.so.2"]),
    // sha256sum: libcrypto.so.3 (which needs libz.so.1 and libzstd.so.1).
    ("libssl3t64", &["usr/lib/riscv64-linux-gnu/libcrypto.so.3"]),
    ("libzstd1", &["usr/lib/riscv64-linux-gnu/libzstd.so.1"]),
    // lua5.4 and sqlite3: libreadline.so.8 (needs libtinfo.so.6); sqlite3 also
    // libsqlite3.so.0 and libz.so.1.
    ("lua5.4", &["usr/bin/lua5.4"]),
    ("sqlite3", &["usr/bin/sqlite3"]),
    ("libsqlite3-0", &["usr/lib/riscv64-linux-gnu/libsqlite3.so.0"]),
    ("libreadline8t64", &["usr/lib/riscv64-linux-gnu/libreadline.so.8"]),
    ("libtinfo6", &["usr/lib/riscv64-linux-gnu/libtinfo.so.6"]),
    ("zlib1g", &["usr/lib/riscv64-linux-gnu/libz.so.1"]),
];

/// What goes into the test initramfs.
pub struct Contents<'a> {
    /// The unpacked busybox-static package.
    pub busybox_root: &'a Path,
    /// Unpacked Debian packages and the files to take from each ([`DEBIAN_FILES`]).
    pub debian: &'a [(PathBuf, &'a [&'a str])],
    /// The project's user programs (installed as `/usr/bin/<file name>`).
    pub programs: &'a [PathBuf],
    /// (test name, shell command) of every user-level test.
    pub tests: &'a [(&'a str, &'a str)],
}

/// Where the archive is left.
pub fn initramfs_path() -> PathBuf {
    shell::target_dir().join("initramfs.cpio")
}

/// Assembles the archive.
pub fn assemble(contents: &Contents) -> Result<Archive> {
    let mut archive = Archive::new();
    for dir in ["dev", "proc", "sys", "mnt", "etc", "bin", "usr/bin", "root"] {
        archive.directory(dir, 0o755);
    }
    archive.directory("root", 0o700);
    archive.directory("tmp", 0o1777);
    archive.symlink("sbin", "bin");
    archive.symlink("usr/sbin", "../bin");
    archive.char_device("dev/console", 5, 1, 0o600);
    archive.char_device("dev/tty", 5, 0, 0o666);
    archive.char_device("dev/null", 1, 3, 0o666);
    archive.char_device("dev/zero", 1, 5, 0o666);
    archive.file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0o644);
    archive.file("etc/group", "root:x:0:\n", 0o644);
    archive.file("init", INIT, 0o755);

    let busybox_path = ["usr/bin/busybox", "bin/busybox"]
        .iter()
        .map(|path| contents.busybox_root.join(path))
        .find(|path| path.is_file())
        .with_context(|| format!("no busybox binary in {}", contents.busybox_root.display()))?;
    let busybox = std::fs::read(&busybox_path)?;
    let applets = match applets_in_binary(&busybox) {
        Some(applets) => {
            let missing: Vec<&&str> = NEEDED_APPLETS
                .iter()
                .filter(|needed| !applets.iter().any(|a| a == *needed))
                .collect();
            if !missing.is_empty() {
                println!("initramfs: warning: this busybox lacks the applets {missing:?}");
            }
            applets
        }
        None => {
            println!("initramfs: warning: busybox's applet table not found; linking the needed applets only");
            NEEDED_APPLETS.iter().map(|name| name.to_string()).collect()
        }
    };
    archive.file("bin/busybox", busybox, 0o755);
    for applet in applets.iter().filter(|applet| *applet != "busybox") {
        archive.symlink(&format!("bin/{applet}"), "busybox");
    }

    archive.symlink("lib", "usr/lib");
    archive.directory(LIB, 0o755);
    for (root, prefixes) in contents.debian {
        add_debian_files(&mut archive, root, prefixes)?;
    }

    for program in contents.programs {
        let name = program
            .file_name()
            .and_then(|name| name.to_str())
            .with_context(|| format!("bad program path {}", program.display()))?;
        if archive.contains(&format!("usr/bin/{name}")) {
            bail!("user program {name} is listed twice");
        }
        let bytes = std::fs::read(program)
            .with_context(|| format!("could not read {}", program.display()))?;
        archive.file(&format!("usr/bin/{name}"), bytes, 0o755);
    }
    archive.directory(TESTS_DIR, 0o755);
    for (name, command) in contents.tests {
        archive.file(
            &format!("{TESTS_DIR}/{name}"),
            format!("{command}\n"),
            0o644,
        );
    }
    Ok(archive)
}

/// Adds the files (and symlinks) under `root` whose paths start with one of
/// `prefixes`, at the same paths; symlink chains stay as they are. A prefix that
/// matches nothing is an error (a package changed its layout).
fn add_debian_files(archive: &mut Archive, root: &Path, prefixes: &[&str]) -> Result<()> {
    let mut found = vec![false; prefixes.len()];
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .with_context(|| format!("could not read {}", dir.display()))?
            .collect::<std::io::Result<_>>()?;
        entries.sort_by_key(|entry| entry.file_name());
        for entry in entries {
            let path = entry.path();
            let relative = path.strip_prefix(root)?.to_string_lossy().into_owned();
            let kind = entry.file_type()?;
            if kind.is_dir() {
                if prefixes.iter().any(|prefix| prefix.starts_with(&format!("{relative}/")) || relative.starts_with(prefix.trim_end_matches('/'))) {
                    pending.push(path);
                }
                continue;
            }
            let matches = |prefix: &&str| {
                relative == *prefix
                    || (prefix.ends_with('/') || prefix.contains(".so.")) && relative.starts_with(prefix)
            };
            let Some(index) = prefixes.iter().position(matches) else {
                continue;
            };
            found[index] = true;
            if kind.is_symlink() {
                let target = std::fs::read_link(&path)?;
                archive.symlink(&relative, &target.to_string_lossy());
            } else {
                let bytes = std::fs::read(&path).with_context(|| format!("could not read {}", path.display()))?;
                let executable = std::fs::metadata(&path)?.permissions().mode() & 0o111 != 0;
                archive.file(&relative, bytes, if executable { 0o755 } else { 0o644 });
            }
        }
    }
    if let Some(index) = found.iter().position(|found| !found) {
        bail!("{} has no {}", root.display(), prefixes[index]);
    }
    Ok(())
}

/// Writes the archive to `path` (e.g. [`initramfs_path`]; only when its bytes changed)
/// and returns the path.
pub fn write(archive: &Archive, path: &Path) -> Result<PathBuf> {
    let bytes = archive.to_bytes();
    if std::fs::read(path).ok().as_deref() != Some(&bytes[..]) {
        std::fs::write(path, &bytes)
            .with_context(|| format!("could not write {}", path.display()))?;
    }
    Ok(path.to_path_buf())
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// One parsed newc entry: (name, mode, rdev major, rdev minor, mtime, data).
    pub type Parsed = (String, u32, u32, u32, u32, Vec<u8>);

    /// A newc reader, independent of the writer, for the round trip.
    pub fn parse_newc(mut bytes: &[u8]) -> Vec<Parsed> {
        let mut entries = Vec::new();
        let total = bytes.len();
        loop {
            let offset = total - bytes.len();
            assert_eq!(offset % 4, 0, "entries start 4-aligned");
            assert_eq!(&bytes[..6], b"070701", "magic at {offset}");
            let field = |index: usize| {
                let text = std::str::from_utf8(&bytes[6 + index * 8..6 + index * 8 + 8]).unwrap();
                u32::from_str_radix(text, 16).unwrap()
            };
            let (mode, mtime, size, rmajor, rminor, namesize) = (
                field(1),
                field(5),
                field(6) as usize,
                field(9),
                field(10),
                field(11) as usize,
            );
            let name = std::str::from_utf8(&bytes[110..110 + namesize - 1])
                .unwrap()
                .to_string();
            assert_eq!(bytes[110 + namesize - 1], 0, "name is NUL-terminated");
            let data_start = (110 + namesize).next_multiple_of(4);
            let data = bytes[data_start..data_start + size].to_vec();
            bytes = &bytes[(data_start + size).next_multiple_of(4).min(bytes.len())..];
            if name == "TRAILER!!!" {
                assert!(bytes.is_empty());
                return entries;
            }
            entries.push((name, mode, rmajor, rminor, mtime, data));
        }
    }

    #[test]
    fn newc_round_trip() {
        let mut archive = Archive::new();
        archive.file("/usr/bin/hello", b"abcde".to_vec(), 0o755);
        archive.symlink("bin/sh", "busybox");
        archive.char_device("dev/console", 5, 1, 0o600);
        archive.file("a", "", 0o644);
        archive.directory("tmp", 0o1777);
        let bytes = archive.to_bytes();
        let parsed = parse_newc(&bytes);
        let names: Vec<&str> = parsed.iter().map(|entry| entry.0.as_str()).collect();
        assert_eq!(
            names,
            [
                "a",
                "bin",
                "bin/sh",
                "dev",
                "dev/console",
                "tmp",
                "usr",
                "usr/bin",
                "usr/bin/hello"
            ]
        );
        let get = |name: &str| parsed.iter().find(|entry| entry.0 == name).unwrap();
        assert_eq!(get("usr/bin/hello").1, 0o100755);
        assert_eq!(get("usr/bin/hello").5, b"abcde");
        assert_eq!(get("bin/sh").1, 0o120777);
        assert_eq!(get("bin/sh").5, b"busybox");
        assert_eq!(get("dev/console").1, 0o020600);
        assert_eq!((get("dev/console").2, get("dev/console").3), (5, 1));
        assert_eq!(get("tmp").1, 0o041777);
        assert_eq!(get("usr").1, 0o040755, "parents are created");
        assert!(parsed.iter().all(|entry| entry.4 == MTIME));
        // Deterministic: the same contents added in another order give the same bytes.
        let mut again = Archive::new();
        again.directory("tmp", 0o1777);
        again.file("a", "", 0o644);
        again.char_device("dev/console", 5, 1, 0o600);
        again.symlink("bin/sh", "busybox");
        again.file("usr/bin/hello", b"abcde".to_vec(), 0o755);
        assert_eq!(again.to_bytes(), bytes);
    }

    #[test]
    fn header_layout_is_exact() {
        let mut archive = Archive::new();
        archive.file("x", b"12345".to_vec(), 0o644);
        let bytes = archive.to_bytes();
        let header = std::str::from_utf8(&bytes[..110]).unwrap();
        assert_eq!(
            header,
            "070701\
             00000001000081A4000000000000000000000001\
             6774858000000005\
             00000000000000000000000000000000\
             0000000200000000"
        );
        // name "x\0" padded to 112, data 5 bytes padded to 120, then the trailer.
        assert_eq!(&bytes[110..112], b"x\0");
        assert_eq!(&bytes[112..117], b"12345");
        assert_eq!(&bytes[117..120], [0, 0, 0]);
        assert_eq!(&bytes[120..126], b"070701");
        assert_eq!(bytes.len() % 4, 0);
    }

    #[test]
    fn applet_table_is_read_from_the_binary() {
        let mut binary = b"\x7fELF junk\0more\0".to_vec();
        binary.extend_from_slice(
            b"[\0[[\0ash\0cat\0echo\0ls\0mkdir\0poweroff\0sh\0test\0true\0\0/var/log",
        );
        let applets = applets_in_binary(&binary).unwrap();
        assert_eq!(
            applets,
            ["[", "[[", "ash", "cat", "echo", "ls", "mkdir", "poweroff", "sh", "test", "true"]
        );
        assert_eq!(applets_in_binary(b"no table here"), None);
        let unsorted = b"[\0[[\0z\0a\0b\0c\0d\0e\0f\0g\0h\0\0".to_vec();
        assert_eq!(applets_in_binary(&unsorted), None);
    }

    #[test]
    fn init_script_follows_the_protocol() {
        assert!(INIT.starts_with("#!/bin/busybox sh\n"));
        assert!(INIT.contains(&format!("echo \"{INIT_UP_LINE}\"")));
        assert!(INIT.contains("echo \"=== begin $name ===\""));
        assert!(INIT.contains("echo \"=== end $name: exit $status ===\""));
        assert!(INIT.contains(&format!("{TEST_VARIABLE}=*)")));
        assert!(INIT.contains(&format!("${{{TEST_VARIABLE}-}}")));
        assert!(INIT.contains(&format!("/{TESTS_DIR}/$name")));
    }
}
