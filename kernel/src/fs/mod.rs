//! The kernel's file systems: a tmpfs root filled from the initramfs, device nodes,
//! and the open-file plumbing system calls use.
//!
//! Like Linux, the boot loader's initramfs (a newc cpio archive, QEMU `-initrd`) is
//! unpacked into a tmpfs that becomes `/`; devices are found by (major, minor) number
//! through the device registry, so `/dev/console` from the archive and a devtmpfs
//! mounted later reach the same console.

pub mod blockdev;
pub mod console;
pub mod eventpoll;
pub mod ext4;
pub mod procfs;

use alloc::sync::Arc;

use abi::Result;
use spin::Once;
use vfs::{DeviceRegistry, FileType, Location, TmpFs, Vfs};

/// The file-system state shared by all processes.
pub struct FileSystems {
    /// Mounts and path resolution.
    pub vfs: Vfs,
    /// Character and block devices by number (drivers register here).
    #[allow(dead_code)]
    pub devices: Arc<DeviceRegistry>,
}

static FILE_SYSTEMS: Once<FileSystems> = Once::new();
static NEXT_DEV: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0x10);

/// The file systems (after [`init`]).
pub fn file_systems() -> &'static FileSystems {
    FILE_SYSTEMS.get().expect("fs::init ran")
}

/// Wall-clock time for file timestamps.
pub fn now() -> (i64, u32) {
    let nanos = crate::time::wall_clock_nanos();
    ((nanos / 1_000_000_000) as i64, (nanos % 1_000_000_000) as u32)
}

fn random_fill(buffer: &mut [u8]) {
    crate::random::fill(buffer);
}

/// A new, empty tmpfs (for `mount -t tmpfs` and the root).
pub fn new_tmpfs() -> Arc<TmpFs> {
    let dev = NEXT_DEV.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
    Arc::new(TmpFs::new(dev, now, file_systems_devices()))
}

static DEVICES: Once<Arc<DeviceRegistry>> = Once::new();

fn file_systems_devices() -> Arc<DeviceRegistry> {
    DEVICES.call_once(|| Arc::new(DeviceRegistry::new())).clone()
}

/// Device nodes a fresh devtmpfs holds: (name, kind, major, minor, permissions).
pub const DEVICE_NODES: &[(&str, FileType, u32, u32, u32)] = &[
    ("console", FileType::CharDevice, 5, 1, 0o600),
    ("tty", FileType::CharDevice, 5, 0, 0o666),
    ("null", FileType::CharDevice, 1, 3, 0o666),
    ("zero", FileType::CharDevice, 1, 5, 0o666),
    ("full", FileType::CharDevice, 1, 7, 0o666),
    ("random", FileType::CharDevice, 1, 8, 0o666),
    ("urandom", FileType::CharDevice, 1, 9, 0o666),
];

/// A new devtmpfs: a tmpfs with the standard device nodes.
pub fn new_devtmpfs() -> Result<Arc<TmpFs>> {
    let fs = new_tmpfs();
    for &(name, kind, major, minor, perm) in DEVICE_NODES {
        fs.root().create(name.as_bytes(), kind, perm, vfs::makedev(major, minor))?;
    }
    for disk in blockdev::disks() {
        fs.root().create(disk.name.as_bytes(), FileType::BlockDevice, 0o660, disk.rdev)?;
    }
    Ok(fs)
}

/// A minimal sysfs: the top-level directories programs look for (a tmpfs, read-only
/// content comes later with devices that publish attributes).
pub fn new_sysfs() -> Result<Arc<TmpFs>> {
    let fs = new_tmpfs();
    for name in ["kernel", "class", "devices", "fs", "block", "bus", "dev", "firmware", "module", "power"] {
        fs.root().create(name.as_bytes(), FileType::Directory, 0o755, 0)?;
    }
    Ok(fs)
}

/// Sets up the root file system from the initramfs (if any) and the devices.
pub fn init(initrd: Option<&[u8]>) {
    let devices = file_systems_devices();
    let console: Arc<dyn vfs::Inode> = console::console().clone();
    let _ = devices.register(FileType::CharDevice, console::CONSOLE_MAJOR, console::CONSOLE_MINOR, console.clone());
    let _ = devices.register(FileType::CharDevice, 5, 0, console);
    if let Err(error) = vfs::register_memory_devices(&devices, random_fill) {
        log::warn!("memory devices: {error:?}");
    }
    let root = new_tmpfs();
    let vfs = Vfs::new(root.root(), "rootfs", "rootfs");
    let root_location = vfs.root();
    match initrd {
        Some(archive) => match vfs::cpio::unpack(archive, &vfs, &root_location) {
            Ok(stats) => log::info!("initramfs: {} bytes unpacked into / ({stats:?})", archive.len()),
            Err(error) => println!("warning: initramfs is not a valid newc cpio archive: {error}"),
        },
        None => log::info!("no initramfs: / is an empty tmpfs"),
    }
    FILE_SYSTEMS.call_once(|| FileSystems { vfs, devices });
}

/// Disk-backed file systems mounted now.
static DISK_FILE_SYSTEMS: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

/// Counts a disk-backed file system in or out.
pub fn disk_file_system_mounted(mounted: bool) {
    if mounted {
        DISK_FILE_SYSTEMS.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
    } else {
        DISK_FILE_SYSTEMS.fetch_sub(1, core::sync::atomic::Ordering::Relaxed);
    }
}

/// The device registry (device nodes of every file system open through it).
pub fn devices() -> Arc<DeviceRegistry> {
    file_systems_devices()
}

/// Whether any disk-backed file system is mounted (then file-system calls run on
/// coroutine stacks).
pub fn disk_file_systems_mounted() -> bool {
    DISK_FILE_SYSTEMS.load(core::sync::atomic::Ordering::Relaxed) > 0
}

/// Sets up the disks the drivers found (after [`init`] and `drivers::init`).
pub fn init_disks() {
    blockdev::init(&file_systems_devices());
}

/// The root location (the top of what is mounted on the initial root: `root=`).
pub fn root() -> Location {
    let vfs = &file_systems().vfs;
    vfs.enter_mounts(vfs.root())
}

/// `root=/dev/vdX` (`ro`): mounts that disk's ext4 file system over the initramfs root,
/// as the root of every process started afterwards.
pub async fn mount_root(source: &str, read_only: bool) -> Result<()> {
    let name = source.strip_prefix("/dev/").unwrap_or(source);
    let disk = blockdev::disks().into_iter().find(|disk| disk.name == name).ok_or(abi::Errno::ENODEV)?;
    let root = crate::coroutine::OnStack::new(move || ext4::mount(disk, source, read_only)).await?;
    let vfs = &file_systems().vfs;
    let mount = vfs.mount(&vfs.root(), root, source, "ext4")?;
    mount.set_read_only(read_only);
    Ok(())
}
