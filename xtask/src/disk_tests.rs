//! The disk layer of `xtask test`: boots with disk images the host prepared and checks
//! the images on the host afterwards (what the guest wrote must be there after power-off).
//!
//! Each test makes its images under `target/disk-tests/NAME/`, boots coros with them
//! attached as virtio-blk disks, expects the guest's verdict on the serial line, and
//! then inspects the images (raw bytes; for ext4, `e2fsck -fn` and `debugfs`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::qemu::{self, Boot, Console, Drive, Ending};
use crate::shell;

/// One disk test.
pub struct DiskTest {
    pub name: &'static str,
    pub run: fn(&Path, &Path) -> Result<(), String>,
}

/// Every disk test.
pub const DISK_TESTS: &[DiskTest] = &[
    DiskTest { name: "virtio-blk", run: virtio_blk },
    DiskTest { name: "ext4-rw", run: ext4_rw },
    DiskTest { name: "ext4-bad-input", run: ext4_bad_input },
    DiskTest { name: "ext4-programs", run: ext4_programs },
    DiskTest { name: "ext4-mmap", run: ext4_mmap },
];

/// Guest scripts the initramfs carries for these tests (`coros_test=NAME`), and the
/// program inputs of `ext4-programs` (files in the same directory, fed on stdin).
pub const INITRAMFS_SCRIPTS: &[(&str, &str)] = &[
    ("disk-ext4-rw", EXT4_RW_SCRIPT),
    ("disk-ext4-bad", EXT4_BAD_SCRIPT),
    ("disk-ext4-programs", EXT4_PROGRAMS_SCRIPT),
    ("disk-oracle.py", ORACLE_PYTHON),
    ("disk-oracle.lua", ORACLE_LUA),
    ("disk-oracle.sql", ORACLE_SQL),
    ("disk-ext4-mmap", EXT4_MMAP_SCRIPT),
    ("disk-ext4-msync-crash", EXT4_MSYNC_CRASH_SCRIPT),
];

/// File mappings on ext4: abi-mmap-file (shared pages between processes, private
/// copy-on-write, write() seen by mappings, truncation and SIGBUS, msync) run on the
/// ext4 disk must print what it prints on tmpfs (which the user-test layer compares
/// with Linux); then a file stored through a shared mapping and left dirty at exit is
/// written back by the unmount (checked on the host).
const EXT4_MMAP_SCRIPT: &str = r#"set -e
mount -t ext4 /dev/vda /mnt
/usr/bin/abi-mmap-file /mnt/mmap > /tmp/on-ext4
umount /mnt
mount -t ext4 /dev/vda /mnt
/usr/bin/abi-mmap-file /tmp/mmap > /tmp/on-tmpfs
cat /tmp/on-ext4
if cmp -s /tmp/on-tmpfs /tmp/on-ext4; then echo "ext4 output = tmpfs output"; else diff /tmp/on-tmpfs /tmp/on-ext4 || true; fi
/usr/bin/abi-mmap-file --msync-crash /mnt/dirty > /tmp/crash.out &
i=0; while ! grep -q 'msync done' /tmp/crash.out && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
kill $!
wait $! || true
cat /tmp/crash.out
umount /mnt
echo done
"#;

/// The power-cut half of the mmap test: the host kills the machine at `msync done`.
const EXT4_MSYNC_CRASH_SCRIPT: &str = r#"mount -t ext4 /dev/vda /mnt
exec /usr/bin/abi-mmap-file --msync-crash /mnt/synced
"#;

/// Debian's dynamically linked programs started from the ext4 run disk (`make run`'s),
/// on coros and on Linux (the oracle; the first line loads Linux's disk modules from the
/// disk initramfs, see `linux_modules`). Every line of output must be the same on both
/// kernels, so the scripts print nothing that may legitimately differ (times, inode
/// numbers, block counts, hash-randomised orders: `PYTHONHASHSEED=0`, sorted listings).
const EXT4_PROGRAMS_SCRIPT: &str = r#"set -e
[ -f /usr/lib/modules/coros-disk/load ] && . /usr/lib/modules/coros-disk/load
mount -t ext4 /dev/vda /mnt
mount -t proc proc /mnt/proc
chroot /mnt /bin/dash -c 'for i in 3 1 2; do echo "line $i"; done | /usr/bin/sort | /usr/bin/tr a-z A-Z'
chroot /mnt /usr/bin/sha256sum /root/hello.lua | cut -c1-16
chroot /mnt /usr/bin/lua5.4 -e 'local t = {} for i = 1, 100 do t[i] = i * i end print(#t, t[100], string.format("%.3f", math.pi))'
chroot /mnt /usr/bin/lua5.4 /root/hello.lua
chroot /mnt /usr/bin/sqlite3 /tmp/test.db 'create table t(x integer, y text); begin; with recursive c(n) as (select 1 union all select n+1 from c where n < 1000) insert into t select n, printf("row%d", n) from c; commit; create index ty on t(y); select count(*), sum(x), max(y) from t; select x from t where y = "row777";'
chroot /mnt /usr/bin/python3.13 -c 'import json, re, collections; print(json.dumps({"a": [1, 2]}), re.sub("b+", "x", "abbbc"), collections.Counter("hello").most_common(1))'
chroot /mnt /usr/bin/python3.13 /root/hello.py | cut -d. -f1
ls -l /mnt/tmp/test.db | awk '{ print ($5 > 10000) }'
echo "-- lua"
chroot /mnt /usr/bin/lua5.4 - < /etc/coros-tests/disk-oracle.lua
echo "-- sqlite3"
chroot /mnt /usr/bin/sqlite3 /tmp/oracle.db < /etc/coros-tests/disk-oracle.sql
echo "-- python"
chroot /mnt /usr/bin/env -i PYTHONHASHSEED=0 /usr/bin/python3.13 - < /etc/coros-tests/disk-oracle.py
echo "-- coreutils"
chroot /mnt /bin/dash -c 'cd /tmp && /usr/bin/seq 1 2000 > nums && /usr/bin/sort -rn nums | /usr/bin/head -3 && /usr/bin/wc -l < nums && /usr/bin/sha256sum nums | /usr/bin/cut -c1-16 && /usr/bin/cat nums nums | /usr/bin/sort -n | /usr/bin/uniq -c | /usr/bin/sort -k1,1n -k2,2n | /usr/bin/tail -1'
umount /mnt/proc
umount /mnt
"#;

/// Lua 5.4 on the ext4 disk: arithmetic, strings, sorting, and file I/O under /tmp.
const ORACLE_LUA: &str = r#"local t = {}
for i = 1, 1000 do t[i] = (i * 7919) % 1009 end
table.sort(t)
print(t[1], t[500], t[1000], #t)
local s = 0
for i = 1, 100000 do s = s + i % 7 end
print(s, string.format("%.10f", math.sqrt(2)), math.maxinteger, 7 // 2, 7 / 2, 2 ^ 10)
print(("coros"):rep(3, "-"):upper(), ("hello world"):gsub("o", "0"))
local f = assert(io.open("/tmp/lua.txt", "w"))
for i = 1, 5000 do f:write(i, " ", i * i, "\n") end
f:close()
local n, sum = 0, 0
for line in io.lines("/tmp/lua.txt") do
  local _, b = line:match("(%d+) (%d+)")
  n = n + 1
  sum = sum + tonumber(b)
end
local g = assert(io.open("/tmp/lua.txt", "r"))
print(n, sum, g:seek("end"), g:seek("set", 10), g:read(5))
g:close()
print(os.rename("/tmp/lua.txt", "/tmp/lua2.txt"), io.open("/tmp/lua.txt") == nil)
print(os.remove("/tmp/lua2.txt"), select(2, os.remove("/tmp/lua2.txt")))
local keys = {}
for k in pairs({ a = 1, b = 2, c = 3 }) do keys[#keys + 1] = k end
table.sort(keys)
print(table.concat(keys, ","))
"#;

/// sqlite3 on the ext4 disk: a 5,000-row table with an index, updates, deletes,
/// an integrity check and a VACUUM (which rewrites the database file).
const ORACLE_SQL: &str = r#"create table t(id integer primary key, name text, v real);
with recursive c(n) as (select 1 union all select n + 1 from c where n < 5000) insert into t(name, v) select printf('n%05d', n), n * 0.5 from c;
create index tn on t(name);
select count(*), sum(v), min(name), max(name) from t;
select group_concat(name, ',') from (select name from t where id % 1000 = 0 order by id);
begin;
update t set v = v * 2 where id % 2 = 0;
delete from t where id > 4000;
commit;
select count(*), total(v) from t;
select group_concat(name, ',') from (select name from t order by v desc, id limit 5);
select name from t where name between 'n00100' and 'n00103' order by name;
pragma integrity_check;
vacuum;
select count(*), sum(length(name)) from t;
"#;

/// Python 3.13 on the ext4 disk: computation, then files: 200 files written and read
/// back, a 1 MiB file with seek and truncate, rename, symlink, stat, removal.
const ORACLE_PYTHON: &str = r#"import base64, bisect, collections, datetime, hashlib, heapq, json, math, os, random, re, struct
print(sum(i * i for i in range(100000)), math.factorial(30), math.comb(40, 20))
random.seed(1)
numbers = [random.randrange(1000000) for _ in range(10000)]
print(heapq.nsmallest(3, numbers), sorted(numbers)[5000], bisect.bisect(sorted(numbers), 500000))
print(datetime.date(2025, 1, 1) + datetime.timedelta(days=1000), base64.b64encode(b"coros on ext4").decode())
print(hashlib.sha256(b"coros" * 1000).hexdigest())
words = re.findall(r"[a-z]+", "the quick brown fox jumps over the lazy dog the end")
print(collections.Counter(words).most_common(3), sorted(set(words))[:4])
print(json.dumps({"b": [1, 2.5, None], "a": "x"}, sort_keys=True))
base = "/tmp/pydir"
os.makedirs(base, exist_ok=True)
for i in range(200):
    with open(f"{base}/f{i:03}", "wb") as f:
        f.write(bytes([i % 256]) * (i * 37))
digest, total = hashlib.sha256(), 0
for name in sorted(os.listdir(base)):
    with open(os.path.join(base, name), "rb") as f:
        data = f.read()
    total += len(data)
    digest.update(data)
print(len(os.listdir(base)), total, digest.hexdigest()[:16])
with open(f"{base}/big", "wb") as f:
    for i in range(256):
        f.write(struct.pack("<I", i) * 1024)
with open(f"{base}/big", "r+b") as f:
    f.seek(4096 * 100)
    print(struct.unpack("<I", f.read(4))[0], f.tell())
    f.truncate(4096 * 10)
print(os.path.getsize(f"{base}/big"))
with open(f"{base}/big", "rb") as f:
    print(hashlib.md5(f.read()).hexdigest())
os.rename(f"{base}/f001", f"{base}/renamed")
os.symlink("renamed", f"{base}/link")
with open(f"{base}/link", "rb") as f:
    print(os.readlink(f"{base}/link"), os.path.exists(f"{base}/f001"), f.read())
st = os.stat(f"{base}/f010")
print(st.st_size, oct(st.st_mode), st.st_nlink, os.stat(base).st_nlink)
try:
    os.rmdir(base)
except OSError as error:
    print(type(error).__name__, error.errno)
for name in os.listdir(base):
    os.unlink(os.path.join(base, name))
os.rmdir(base)
print(os.path.exists(base))
"#;

/// On `vda` (ext4 made by the host with `hello.txt`, `tree/` of 3,000 files, `keep.bin`):
/// reads, then every kind of change, a 64 MiB file with its checksum, a sparse file,
/// 1,000 creates and 500 deletes, concurrent writers, sync, unmount, read-only remount.
const EXT4_RW_SCRIPT: &str = r#"set -e
mount -t ext4 /dev/vda /mnt
echo "mounted: $(grep ' /mnt ' /proc/mounts | cut -d' ' -f1-3)"
cat /mnt/hello.txt
echo "tree entries: $(ls /mnt/tree | wc -l)"
echo "keep.bin: $(sha256sum < /mnt/keep.bin | cut -c1-16)"
echo new file > /mnt/new.txt
mkdir -p /mnt/a/b/c
ln -s ../../new.txt /mnt/a/b/rel-link
ln -s /this/is/a/rather/long/symbolic/link/target/that/needs/a/block/of/its/own/to/be/stored /mnt/long-link
ln /mnt/new.txt /mnt/hard.txt
mv /mnt/hard.txt /mnt/a/b/moved.txt
chmod 640 /mnt/a/b/moved.txt
touch -d @1000000000 /mnt/a/b/c
dd if=/dev/urandom of=/mnt/big bs=64k count=1024 2>/dev/null
sha256sum /mnt/big | cut -c1-64 > /mnt/big.sha
dd if=/dev/zero of=/mnt/sparse bs=1 count=1 seek=104857600 2>/dev/null
mkdir /mnt/many
i=0; while [ $i -lt 1000 ]; do echo $i > /mnt/many/f$i; i=$((i+1)); done
i=0; while [ $i -lt 1000 ]; do rm /mnt/many/f$i; i=$((i+2)); done
rm /mnt/tree/file-1*
for w in 1 2 3 4; do (j=0; while [ $j -lt 50 ]; do echo "writer $w line $j" >> /mnt/shared.log; echo $j > /mnt/w$w; j=$((j+1)); done) & done
wait
cp /usr/bin/data-pipe /mnt/data-pipe && /mnt/data-pipe
echo "shared.log lines: $(wc -l < /mnt/shared.log)"
echo "many: $(ls /mnt/many | wc -l)  tree: $(ls /mnt/tree | wc -l)"
df -k /mnt | tail -1 | awk '{ print "df: total", ($2 > 100000), "used", ($3 > 60000) }'
stat -c '%s %b' /mnt/sparse
sync
umount /mnt
mount -t ext4 -o ro /dev/vda /mnt
echo "after remount: $(cat /mnt/a/b/moved.txt) $(readlink /mnt/a/b/rel-link) $(cat /mnt/a/b/rel-link)"
[ "$(sha256sum /mnt/big | cut -c1-64)" = "$(cat /mnt/big.sha)" ] && echo "big: checksum ok"
touch /mnt/x 2>&1 | sed 's/^touch: //'
umount /mnt
echo done
"#;

/// Bad input: a disk without ext4, a corrupted one, a read-only one, and a full one.
const EXT4_BAD_SCRIPT: &str = r#"mount -t ext4 /dev/vda /mnt 2>&1 | sed 's/^mount: //'
mount -t ext4 /dev/vdb /mnt 2>&1 | sed 's/^mount: //'
mount -t ext4 /dev/nonexistent /mnt 2>&1 | sed 's/^mount: //'
mount -t ext4 /dev/vdc /mnt && echo "vdc mounted: $(grep ' /mnt ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1)"
touch /mnt/x 2>&1 | sed 's/^touch: //'
umount /mnt
mount -t ext4 /dev/vdd /mnt || exit 1
dd if=/dev/urandom of=/mnt/first bs=64k count=16 2>/dev/null
sha256sum /mnt/first | cut -c1-64 > /mnt/first.sha
dd if=/dev/zero of=/mnt/fill bs=64k 2>&1 | grep -o 'No space left on device' | head -1
sync
[ "$(sha256sum /mnt/first | cut -c1-64)" = "$(cat /mnt/first.sha)" ] && echo "first: intact"
rm /mnt/fill
echo after > /mnt/after.txt && cat /mnt/after.txt
umount /mnt
echo done
"#;

/// Where a test keeps its images.
fn work_dir(name: &str) -> Result<PathBuf> {
    let dir = shell::repo_root().join("target/disk-tests").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// An image of `sectors` sectors, each holding its own number as 64 little-endian words.
fn pattern_image(path: &Path, sectors: u64) -> Result<()> {
    let mut data = Vec::with_capacity(sectors as usize * 512);
    for sector in 0..sectors {
        for _ in 0..64 {
            data.extend_from_slice(&sector.to_le_bytes());
        }
    }
    std::fs::write(path, data).with_context(|| format!("writing {}", path.display()))
}

/// Boots `kernel` with `append` and `drives`; the serial output, if QEMU powered off
/// with status 0 within `timeout`.
pub fn boot_with_drives(kernel: &Path, initrd: Option<&Path>, append: &str, drives: &[Drive], smp: usize, timeout: Duration) -> Result<String, String> {
    let boot = Boot { kernel, smp, append, console: Console::Headless, wait_for_gdb: false, initrd };
    let mut command = boot.command();
    qemu::add_drives(&mut command, drives);
    let line = shell::render(&command);
    let run = qemu::run_captured(command, timeout).map_err(|error| format!("{error:#}"))?;
    match run.ending {
        Ending::Exited(0) => Ok(run.stdout),
        ending => Err(format!("{ending:?} after {:.1} s\n    $ {line}\n{}", run.elapsed.as_secs_f64(), tail(&run.stdout, 30))),
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].iter().map(|line| format!("    | {}\n", line.trim_end())).collect()
}

/// Runs the tests matching `filter`; (passed, failed).
pub fn run_layer(filter: Option<&str>, kernel: &Path, initramfs: &Path) -> (usize, usize) {
    let (mut passed, mut failed) = (0, 0);
    for test in DISK_TESTS.iter().filter(|test| filter.is_none_or(|filter| test.name.contains(filter))) {
        let started = std::time::Instant::now();
        match (test.run)(kernel, initramfs) {
            Ok(()) => {
                passed += 1;
                println!("disk {} ... ok ({:.1} s)", test.name, started.elapsed().as_secs_f64());
            }
            Err(reason) => {
                failed += 1;
                println!("disk {} ... FAILED: {reason}", test.name);
            }
        }
    }
    (passed, failed)
}

/// How many disk tests match `filter`.
pub fn selected(filter: Option<&str>) -> usize {
    DISK_TESTS.iter().filter(|test| filter.is_none_or(|filter| test.name.contains(filter))).count()
}

/// The driver, cache and coroutine self-test (`kernel/src/selftest_disk.rs`), then the
/// rewritten sectors checked in the image on the host.
fn virtio_blk(kernel: &Path, _initramfs: &Path) -> Result<(), String> {
    let dir = work_dir("virtio-blk").map_err(|error| format!("{error:#}"))?;
    let sectors = 16 * 2048; // 16 MiB
    let (vda, vdb) = (dir.join("vda.img"), dir.join("vdb.img"));
    pattern_image(&vda, sectors).map_err(|error| format!("{error:#}"))?;
    pattern_image(&vdb, sectors / 2).map_err(|error| format!("{error:#}"))?;
    let drives = [Drive { path: vda.clone(), read_only: false }, Drive { path: vdb.clone(), read_only: true }];
    for smp in [1, 4] {
        pattern_image(&vda, sectors).map_err(|error| format!("{error:#}"))?;
        let output = boot_with_drives(kernel, None, "test=virtio-blk", &drives, smp, Duration::from_secs(90))?;
        if !output.contains("test virtio-blk ... ok") {
            return Err(format!("smp={smp}: no verdict\n{}", tail(&output, 30)));
        }
        let image = std::fs::read(&vda).map_err(|error| error.to_string())?;
        for sector in 0..sectors {
            let block = sector / 8;
            let rewritten = (64..64 + 256).contains(&block);
            let expected = if rewritten { !sector } else { sector };
            let offset = sector as usize * 512;
            let word = u64::from_le_bytes(image[offset..offset + 8].try_into().unwrap());
            if word != expected {
                return Err(format!("smp={smp}: sector {sector} holds {word:#x} on the host, expected {expected:#x}"));
            }
        }
        let untouched = std::fs::read(&vdb).map_err(|error| error.to_string())?;
        if untouched[8 * 512..8 * 512 + 8] != 8u64.to_le_bytes() {
            return Err("the read-only disk was changed".into());
        }
    }
    Ok(())
}

fn error(error: impl std::fmt::Display) -> String {
    error.to_string()
}

/// Runs a host command; its stdout, or an error with its output.
fn host(program: &str, args: &[&str]) -> Result<String, String> {
    let output = std::process::Command::new(program).args(args).output().map_err(|e| format!("{program}: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(format!("`{program} {}` failed ({}):\n{stdout}{}", args.join(" "), output.status, String::from_utf8_lossy(&output.stderr)));
    }
    Ok(stdout)
}

fn mke2fs() -> &'static str {
    if Path::new("/usr/sbin/mke2fs").exists() { "/usr/sbin/mke2fs" } else { "mke2fs" }
}

/// An ext4 image of `mib` MiB made with the host's `mke2fs -d` from `tree`.
fn ext4_image(path: &Path, mib: u64, tree: Option<&Path>) -> Result<(), String> {
    let file = std::fs::File::create(path).map_err(error)?;
    file.set_len(mib << 20).map_err(error)?;
    let mut args = vec!["-q", "-F", "-t", "ext4", "-b", "4096", "-E", "root_owner=0:0"];
    let tree_arg;
    if let Some(tree) = tree {
        tree_arg = tree.display().to_string();
        args.extend(["-d", tree_arg.as_str()]);
    }
    let image = path.display().to_string();
    args.push(&image);
    host(mke2fs(), &args).map(drop)
}

/// `e2fsck -fn` finds nothing wrong with `image`.
fn fsck_clean(image: &Path) -> Result<(), String> {
    host("/usr/sbin/e2fsck", &["-fn", &image.display().to_string()]).map(drop).map_err(|report| format!("e2fsck found errors:\n{report}"))
}

fn debugfs(image: &Path, request: &str) -> Result<String, String> {
    host("/usr/sbin/debugfs", &["-R", request, &image.display().to_string()])
}

/// The lines of `output` between the test's begin and end markers, and its status.
fn section(output: &str, name: &str) -> Result<String, String> {
    let begin = format!("=== begin {name} ===");
    let start = output.find(&begin).ok_or_else(|| format!("no `{begin}`:\n{}", tail(output, 30)))? + begin.len();
    let end_marker = format!("=== end {name}: exit 0 ===");
    let end = output[start..].find(&end_marker).ok_or_else(|| format!("the script did not exit 0:\n{}", tail(output, 40)))?;
    Ok(output[start..start + end].lines().map(|line| line.trim_end_matches('\r')).filter(|line| !line.is_empty()).map(|line| format!("{line}\n")).collect())
}

fn expect_lines(got: &str, expected: &[&str]) -> Result<(), String> {
    let lines: Vec<&str> = got.lines().collect();
    if lines != expected {
        return Err(format!("guest output differs:\n--- expected\n{}\n--- got\n{got}", expected.join("\n")));
    }
    Ok(())
}

fn ext4_rw(kernel: &Path, initramfs: &Path) -> Result<(), String> {
    let dir = work_dir("ext4-rw").map_err(|e| format!("{e:#}"))?;
    let tree = dir.join("tree");
    std::fs::create_dir_all(tree.join("tree")).map_err(error)?;
    std::fs::write(tree.join("hello.txt"), "hello from the host\n").map_err(error)?;
    for index in 0..3000 {
        std::fs::write(tree.join("tree").join(format!("file-{index}")), format!("{index}\n")).map_err(error)?;
    }
    let keep: Vec<u8> = (0..3 << 20).map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    std::fs::write(tree.join("keep.bin"), &keep).map_err(error)?;
    let image = dir.join("vda.img");
    ext4_image(&image, 256, Some(&tree))?;
    let keep_sum = host("sha256sum", &[&tree.join("keep.bin").display().to_string()])?;
    let drives = [Drive { path: image.clone(), read_only: false }];
    let append = "console=ttyS0 rdinit=/init quiet coros_test=disk-ext4-rw";
    // Four harts: the writers and the disk interrupts spread over them.
    let output = boot_with_drives(kernel, Some(initramfs), append, &drives, 4, Duration::from_secs(240))?;
    let got = section(&output, "disk-ext4-rw")?;
    let removed = (0..3000).filter(|i| i.to_string().starts_with('1')).count();
    let expected = [
        "mounted: /dev/vda /mnt ext4".to_string(),
        "hello from the host".into(),
        "tree entries: 3000".into(),
        format!("keep.bin: {}", &keep_sum[..16]),
        "pipe into an untouched .data page: 10 bytes 0123456789".into(),
        "wait4 into an untouched .data page: reaped true, exit status 3".into(),
        "shared.log lines: 200".into(),
        format!("many: 500  tree: {}", 3000 - removed),
        "df: total 1 used 1".into(),
        "104857601 8".into(),
        "after remount: new file ../../new.txt new file".into(),
        "big: checksum ok".into(),
        "/mnt/x: Read-only file system".into(),
        "done".into(),
    ];
    expect_lines(&got, &expected.iter().map(String::as_str).collect::<Vec<_>>())?;
    // The host's view of what the guest wrote.
    fsck_clean(&image)?;
    let checks: &[(&str, &str)] = &[
        ("cat /a/b/moved.txt", "new file\n"),
        ("cat /new.txt", "new file\n"),
        ("cat /many/f999", "999\n"),
        ("cat /w3", "49\n"),
    ];
    for (request, want) in checks {
        let got = debugfs(&image, request)?;
        if got != *want {
            return Err(format!("debugfs `{request}`: {got:?}, expected {want:?}"));
        }
    }
    let stat = debugfs(&image, "stat /a/b/moved.txt")?;
    for want in ["Mode:  0640", "Links: 2"] {
        if !stat.contains(want) {
            return Err(format!("debugfs stat /a/b/moved.txt lacks `{want}`:\n{stat}"));
        }
    }
    let dir_stat = debugfs(&image, "stat /a/b/c")?;
    if !dir_stat.contains("mtime: 0x3b9aca00:00000000") {
        return Err(format!("/a/b/c: mtime not 1000000000.000000000:\n{dir_stat}"));
    }
    // Times the kernel's clock stamped carry nanoseconds (the clock counts in 100 ns, so
    // a zero `_extra` field would mean they were dropped).
    let new_stat = debugfs(&image, "stat /new.txt")?;
    for field in ["mtime", "ctime", "crtime"] {
        let extra = new_stat.lines().find_map(|line| line.trim().strip_prefix(&format!("{field}: 0x"))).and_then(|rest| rest.get(9..17));
        if extra.is_none_or(|extra| extra == "00000000") {
            return Err(format!("/new.txt: {field} without nanoseconds:\n{new_stat}"));
        }
    }
    let link = debugfs(&image, "stat /long-link")?;
    if !link.contains("/this/is/a/rather/long") && !debugfs(&image, "cat /long-link").unwrap_or_default().contains("/this/is") {
        return Err(format!("/long-link target not found:\n{link}"));
    }
    let big = dir.join("big.out");
    debugfs(&image, &format!("dump /big {}", big.display()))?;
    let host_sum = host("sha256sum", &[&big.display().to_string()])?;
    let guest_sum = debugfs(&image, "cat /big.sha")?;
    if host_sum[..64] != guest_sum.trim()[..] {
        return Err(format!("/big: host checksum {} != guest {}", &host_sum[..64], guest_sum.trim()));
    }
    if std::fs::metadata(&big).map_err(error)?.len() != 64 << 20 {
        return Err("/big is not 64 MiB on the host".into());
    }
    Ok(())
}

fn ext4_bad_input(kernel: &Path, initramfs: &Path) -> Result<(), String> {
    let dir = work_dir("ext4-bad-input").map_err(|e| format!("{e:#}"))?;
    let zeros = dir.join("zeros.img");
    std::fs::File::create(&zeros).and_then(|file| file.set_len(16 << 20)).map_err(error)?;
    let corrupt = dir.join("corrupt.img");
    ext4_image(&corrupt, 32, None)?;
    {
        // Scribble over the group descriptor table (block 1) and the superblock's
        // checksum-covered fields.
        use std::io::{Seek, SeekFrom, Write};
        let mut file = std::fs::OpenOptions::new().write(true).open(&corrupt).map_err(error)?;
        file.seek(SeekFrom::Start(4096)).map_err(error)?;
        file.write_all(&[0xA5; 256]).map_err(error)?;
        file.seek(SeekFrom::Start(1024 + 0x60)).map_err(error)?;
        file.write_all(&[0xFF; 8]).map_err(error)?;
    }
    let read_only = dir.join("ro.img");
    ext4_image(&read_only, 32, None)?;
    let small = dir.join("small.img");
    ext4_image(&small, 16, None)?;
    let drives = [
        Drive { path: zeros, read_only: false },
        Drive { path: corrupt, read_only: false },
        Drive { path: read_only.clone(), read_only: true },
        Drive { path: small.clone(), read_only: false },
    ];
    let append = "console=ttyS0 rdinit=/init quiet coros_test=disk-ext4-bad";
    let output = boot_with_drives(kernel, Some(initramfs), append, &drives, 1, Duration::from_secs(180))?;
    let got = section(&output, "disk-ext4-bad")?;
    expect_lines(
        &got,
        &[
            "mounting /dev/vda on /mnt failed: Invalid argument",
            "mounting /dev/vdb on /mnt failed: Structure needs cleaning",
            "mounting /dev/nonexistent on /mnt failed: No such file or directory",
            "vdc mounted: ro",
            "/mnt/x: Read-only file system",
            "No space left on device",
            "first: intact",
            "after",
            "done",
        ],
    )?;
    fsck_clean(&small)?;
    fsck_clean(&read_only)?;
    if debugfs(&small, "cat /after.txt")? != "after\n" {
        return Err("the full disk lost the file written after freeing space".into());
    }
    Ok(())
}

/// Debian's dash, coreutils, lua5.4, sqlite3 and python3.13 from the run disk, on coros
/// and on Debian's Linux 6.12 (the oracle), each booted with the disk initramfs and its
/// own copy of the same image: every output line must be the same on both, the lines
/// of the first part must also be the expected ones, and both images must pass
/// `e2fsck -fn` afterwards with the databases on them.
fn ext4_programs(kernel: &Path, _initramfs: &Path) -> Result<(), String> {
    let dir = work_dir("ext4-programs").map_err(|e| format!("{e:#}"))?;
    let source = crate::run_disk::prepare().map_err(|e| format!("{e:#}"))?;
    let linux = crate::debian::linux_kernel().map_err(|e| format!("Debian's Linux kernel: {e:#}"))?;
    let initramfs = crate::user_harness::prepare_disk_initramfs(&linux).map_err(|e| format!("{e:#}"))?;
    let append = "console=ttyS0 rdinit=/init quiet coros_test=disk-ext4-programs";
    let mut outputs = Vec::new();
    for (which, image_path) in [("coros", kernel), ("linux", linux.image.as_path())] {
        let image = dir.join(format!("vda-{which}.img"));
        std::fs::copy(&source, &image).map_err(error)?;
        let drives = [Drive { path: image.clone(), read_only: false }];
        let output = boot_with_drives(image_path, Some(&initramfs), append, &drives, 1, Duration::from_secs(300)).map_err(|e| format!("{which}: {e}"))?;
        std::fs::write(dir.join(format!("{which}.log")), &output).map_err(error)?;
        let got = section(&output, "disk-ext4-programs").map_err(|e| format!("{which}: {e}"))?;
        fsck_clean(&image).map_err(|e| format!("{which}: {e}"))?;
        for database in ["/tmp/test.db", "/tmp/oracle.db"] {
            let stat = debugfs(&image, &format!("stat {database}"))?;
            if !stat.contains("Size: ") {
                return Err(format!("{which}: {database} is not on the disk:\n{stat}"));
            }
        }
        outputs.push(got);
    }
    let lua_sum = host("sha256sum", &[&std::fs::canonicalize(shell::repo_root().join("target/run-disk-tree/root/hello.lua")).map_err(error)?.display().to_string()])?;
    let expected = [
        "LINE 1".to_string(),
        "LINE 2".into(),
        "LINE 3".into(),
        lua_sum[..16].to_string(),
        "100\t10000\t3.142".into(),
        "HELLO FROM LUA ON EXT4".into(),
        "1000|500500|row999".into(),
        "777".into(),
        "{\"a\": [1, 2]} axc [('l', 2)]".into(),
        "hello from python 3".into(),
        "1".into(),
    ];
    let coros_lines: Vec<&str> = outputs[0].lines().collect();
    let first_part: Vec<&str> = coros_lines.iter().copied().take_while(|line| *line != "-- lua").collect();
    expect_lines(&first_part.join("\n"), &expected.iter().map(String::as_str).collect::<Vec<_>>())?;
    compare_with_linux(&outputs[0], &outputs[1])
}

/// Every line of coros' output equals Linux's; else the first difference, both outputs.
pub fn compare_with_linux(coros: &str, linux: &str) -> Result<(), String> {
    let (ours, theirs): (Vec<&str>, Vec<&str>) = (coros.lines().collect(), linux.lines().collect());
    for index in 0..ours.len().max(theirs.len()) {
        let (a, b) = (ours.get(index), theirs.get(index));
        if a != b {
            return Err(format!(
                "line {} differs: coros {:?}, Linux {:?}\n--- coros\n{coros}--- Linux\n{linux}",
                index + 1,
                a.copied().unwrap_or("(no line)"),
                b.copied().unwrap_or("(no line)")
            ));
        }
    }
    for marker in ["-- lua", "-- sqlite3", "-- python", "-- coreutils"] {
        let at = ours.iter().position(|line| *line == marker).ok_or_else(|| format!("no `{marker}` section"))?;
        if ours.get(at + 1).is_none_or(|line| line.starts_with("-- ")) {
            return Err(format!("the `{marker}` section is empty"));
        }
    }
    Ok(())
}

/// The bytes `abi-mmap-file --msync-crash` stores into page `page` (0 or 2).
fn crash_page(page: usize) -> Vec<u8> {
    (0..4096).map(|i: usize| (i * 7 + page * 13) as u8 ^ 0x5a).collect()
}

/// Shared file mappings on ext4 (see [`EXT4_MMAP_SCRIPT`]), then a power cut right
/// after `msync(MS_SYNC)`: the synced pages must be on the disk (after the host's
/// journal replay), the image clean.
fn ext4_mmap(kernel: &Path, initramfs: &Path) -> Result<(), String> {
    let dir = work_dir("ext4-mmap").map_err(|e| format!("{e:#}"))?;
    let image = dir.join("vda.img");
    ext4_image(&image, 64, None)?;
    let drives = [Drive { path: image.clone(), read_only: false }];
    let append = "console=ttyS0 rdinit=/init quiet coros_test=disk-ext4-mmap";
    let output = boot_with_drives(kernel, Some(initramfs), append, &drives, 1, Duration::from_secs(240))?;
    let got = section(&output, "disk-ext4-mmap")?;
    let wanted = [
        "child's store seen in parent's own mapping: true",
        "child's store seen by read(): true",
        "write() beyond the page seen: true",
        "unwritten private page sees a later write(): true",
        "store after mprotect reaches the file: true",
        "present page past the new end in child: killed by SIGBUS",
        "stored page past the new end in child: killed by SIGBUS",
        "tail of the last page zeroed: true",
        "store to the regrown page seen by read(): true",
        "ext4 output = tmpfs output",
        "msync MS_SYNC: ok",
        "msync done: ok",
        "done",
    ];
    for line in wanted {
        if !got.lines().any(|got| got == line) {
            return Err(format!("guest output lacks `{line}`:\n{got}"));
        }
    }
    if got.lines().any(|line| line.ends_with(": false")) {
        return Err(format!("a check failed on ext4:\n{got}"));
    }
    fsck_clean(&image)?;
    // The process stored into page 1 after its msync and was killed: the unmount wrote
    // that page back too.
    let dirty = dir.join("dirty.out");
    debugfs(&image, &format!("dump /dirty {}", dirty.display()))?;
    let bytes = std::fs::read(&dirty).map_err(error)?;
    let mut page1 = vec![b'.'; 4096];
    page1[0] = b'U';
    if bytes.len() != 3 * 4096 || bytes[..4096] != crash_page(0)[..] || bytes[4096..8192] != page1[..] || bytes[8192..] != crash_page(2)[..] {
        return Err(format!("/dirty on the host: {} bytes, not the stored pages", bytes.len()));
    }

    // Power cut after msync.
    let boot = Boot {
        kernel,
        smp: 1,
        append: "console=ttyS0 rdinit=/init quiet coros_test=disk-ext4-msync-crash",
        console: Console::Headless,
        wait_for_gdb: false,
        initrd: Some(initramfs),
    };
    let mut command = boot.command();
    qemu::add_drives(&mut command, &drives);
    let (run, seen) = qemu::run_until(command, "msync done: ok", Duration::from_secs(120)).map_err(|e| format!("{e:#}"))?;
    if !seen {
        return Err(format!("no `msync done` ({:?}):\n{}", run.ending, tail(&run.stdout, 30)));
    }
    // Replay the journal on a copy, as the next mount would, then check it.
    let replayed = dir.join("replayed.img");
    std::fs::copy(&image, &replayed).map_err(error)?;
    let replay = std::process::Command::new("/usr/sbin/e2fsck").args(["-fy", &replayed.display().to_string()]).output().map_err(error)?;
    if !matches!(replay.status.code(), Some(0 | 1)) {
        return Err(format!("e2fsck -fy after the power cut: {}\n{}", replay.status, String::from_utf8_lossy(&replay.stdout)));
    }
    fsck_clean(&replayed)?;
    let synced = dir.join("synced.out");
    debugfs(&replayed, &format!("dump /synced {}", synced.display()))?;
    let bytes = std::fs::read(&synced).map_err(error)?;
    if bytes.len() != 3 * 4096 || bytes[..4096] != crash_page(0)[..] || bytes[8192..] != crash_page(2)[..] {
        return Err(format!("/synced after the power cut: {} bytes, the msync'ed pages are not there", bytes.len()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparison_finds_the_first_difference() {
        let linux = "a\n-- lua\n1\n-- sqlite3\n2\n-- python\n3\n-- coreutils\n4\n";
        assert_eq!(compare_with_linux(linux, linux), Ok(()));
        let error = compare_with_linux(&linux.replace("\n3\n", "\nx\n"), linux).unwrap_err();
        assert!(error.starts_with("line 7 differs: coros \"x\", Linux \"3\""), "{error}");
        let error = compare_with_linux("a\n", "a\nb\n").unwrap_err();
        assert!(error.starts_with("line 2 differs: coros \"(no line)\", Linux \"b\""), "{error}");
        let empty = "-- lua\n-- sqlite3\n2\n-- python\n3\n-- coreutils\n4\n";
        assert_eq!(compare_with_linux(empty, empty), Err("the `-- lua` section is empty".into()));
    }
}
