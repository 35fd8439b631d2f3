//! System calls that fit no family: uname, sysinfo, getrandom, reboot, prctl, getcpu.

use abi::process::{self as p, Sysinfo, Utsname};
use abi::{Errno, Result};

use crate::process::uaccess::UserMemory;
use crate::process::Thread;

fn memory(thread: &Thread) -> UserMemory {
    UserMemory(thread.process.space())
}

pub fn uname(thread: &Thread, buffer: usize) -> Result<usize> {
    let name = Utsname::new("Linux", "(none)", "6.12.0-coros", concat!("#1 SMP coros ", env!("CARGO_PKG_VERSION")), "riscv64", "(none)");
    memory(thread).write(buffer, &name)?;
    Ok(0)
}

pub fn sysinfo(thread: &Thread, buffer: usize) -> Result<usize> {
    let (free, total) = crate::memory::frame_usage();
    let info = Sysinfo {
        uptime: (crate::time::monotonic_nanos() / 1_000_000_000) as i64,
        totalram: (total * mm::PAGE_SIZE) as u64,
        freeram: (free * mm::PAGE_SIZE) as u64,
        procs: crate::process::thread_count() as u16,
        mem_unit: 1,
        ..Sysinfo::default()
    };
    memory(thread).write(buffer, &info)?;
    Ok(0)
}

pub fn getrandom(thread: &Thread, buffer: usize, length: usize, flags: u32) -> Result<usize> {
    const GRND_NONBLOCK: u32 = 1;
    const GRND_RANDOM: u32 = 2;
    const GRND_INSECURE: u32 = 4;
    if flags & !(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) != 0 {
        return Err(Errno::EINVAL);
    }
    let length = length.min(1 << 25);
    let mut bytes = alloc::vec![0u8; length];
    crate::random::fill(&mut bytes);
    memory(thread).write_bytes(buffer, &bytes)?;
    Ok(length)
}

/// Before power-off: every ext4 file system unmounted cleanly, every disk written back.
fn shut_down_disks() -> Result<()> {
    if !crate::fs::disk_file_systems_mounted() && crate::fs::blockdev::disks().is_empty() {
        return Ok(());
    }
    if !crate::coroutine::on_stack() {
        return Err(Errno::ERESTART_ON_STACK);
    }
    crate::fs::ext4::unmount_all();
    if let Some(Err(error)) = crate::coroutine::block_on(crate::fs::blockdev::sync_all()) {
        println!("warning: writing back the disks failed: {error}");
    }
    Ok(())
}

pub fn reboot(_thread: &Thread, magic: u32, magic2: u32, command: u32) -> Result<usize> {
    if magic != p::LINUX_REBOOT_MAGIC1 || !p::is_reboot_magic2(magic2) {
        return Err(Errno::EINVAL);
    }
    match command {
        p::LINUX_REBOOT_CMD_POWER_OFF | p::LINUX_REBOOT_CMD_HALT => {
            shut_down_disks()?;
            println!("reboot: Power down");
            arch::power::power_off(0)
        }
        p::LINUX_REBOOT_CMD_RESTART | p::LINUX_REBOOT_CMD_RESTART2 => {
            shut_down_disks()?;
            println!("reboot: Restarting system (powering off: QEMU -no-reboot semantics)");
            arch::power::power_off(0)
        }
        p::LINUX_REBOOT_CMD_CAD_ON | p::LINUX_REBOOT_CMD_CAD_OFF => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

pub fn prctl(thread: &Thread, option: u32, argument: usize) -> Result<usize> {
    match option {
        p::PR_SET_NAME => {
            // The name is at most 15 bytes plus NUL; longer names are cut, as on Linux.
            let mut name = memory(thread).read_bytes(argument, 16).or_else(|_| memory(thread).read_cstring(argument, 15))?;
            if let Some(end) = name.iter().position(|&byte| byte == 0) {
                name.truncate(end);
            }
            name.truncate(15);
            // The main thread's name is the process's comm; other threads have their own.
            if thread.tid == thread.process.pid {
                thread.process.inner.lock().comm = name;
            } else {
                *thread.name.lock() = Some(name);
            }
            Ok(0)
        }
        p::PR_GET_NAME => {
            let mut name = thread.name();
            name.resize(16, 0);
            memory(thread).write_bytes(argument, &name)?;
            Ok(0)
        }
        p::PR_SET_PDEATHSIG | p::PR_SET_DUMPABLE | p::PR_GET_DUMPABLE => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

pub fn getcpu(thread: &Thread, cpu: usize, node: usize) -> Result<usize> {
    let memory = memory(thread);
    if cpu != 0 {
        memory.write(cpu, &(arch::hart::id() as u32))?;
    }
    if node != 0 {
        memory.write(node, &0u32)?;
    }
    Ok(0)
}
