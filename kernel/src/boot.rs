//! Bringing the machine up, in order: heap → device tree → console → command line →
//! frames → kernel page table → executor and timers → other harts → the first task.

use core::sync::atomic::{AtomicUsize, Ordering};

use alloc::string::String;
use arch::layout::{hart_stacks, phys_to_virt, HART_STACK_SIZE, MAX_HARTS};
use cmdline::Action;
use devicetree::Machine;
use spin::Once;

use crate::{memory, runtime, trap};

/// The machine description, read once by the boot hart.
static MACHINE: Once<Machine> = Once::new();
/// The command line, kept for the lifetime of the kernel.
static BOOTARGS: Once<String> = Once::new();
/// Harts that reached their executor loop.
static HARTS_ONLINE: AtomicUsize = AtomicUsize::new(0);

/// The machine description.
pub fn machine() -> &'static Machine {
    MACHINE.get().expect("boot parsed the device tree")
}

/// Number of harts running their executor loop.
pub fn harts_online() -> usize {
    HARTS_ONLINE.load(Ordering::SeqCst)
}

pub fn boot_hart(hart_id: usize, device_tree_pa: usize) -> ! {
    memory::init_early_heap();
    runtime::mark_hart_stacks();
    assert_eq!(hart_stacks().1 - hart_stacks().0, MAX_HARTS * HART_STACK_SIZE, "linker script stack area");

    // SAFETY: OpenSBI passes the physical address of the device tree in a1; the boot
    // page table maps the first 2 GiB of RAM at phys_to_virt, where QEMU puts it.
    let size = unsafe { devicetree::blob_size(phys_to_virt(device_tree_pa) as *const u8) }
        .unwrap_or_else(|| panic!("no device tree at {device_tree_pa:#x} (bad magic)"));
    // SAFETY: the header just said the blob is `size` bytes long.
    let blob = unsafe { core::slice::from_raw_parts(phys_to_virt(device_tree_pa) as *const u8, size) };
    let machine = devicetree::parse(blob).unwrap_or_else(|error| panic!("{error}"));
    let machine = MACHINE.call_once(|| machine);

    if let Some(uart) = machine.uart {
        // SAFETY: the boot page table maps the MMIO gigabyte at phys_to_virt, and the
        // device tree says a 16550 lives there.
        unsafe { arch::console::init(phys_to_virt(uart.base)) };
    }
    if let Some(plic) = machine.plic {
        // SAFETY: as above, for the PLIC the device tree names.
        unsafe { arch::plic::init(phys_to_virt(plic.base)) };
    }
    if let Some(finisher) = machine.finisher {
        // SAFETY: as above, for the sifive,test0 finisher.
        unsafe { arch::power::init(phys_to_virt(finisher.base)) };
    }
    arch::timer::init(machine.timebase_frequency, machine.sstc);

    let bootargs = BOOTARGS.call_once(|| machine.bootargs.clone());
    let cmdline = cmdline::parse(bootargs);
    crate::console::init_logging(cmdline.log_level.unwrap_or(log::LevelFilter::Info));
    println!(
        "coros {} booting on hart {hart_id}: {} hart(s), {} MiB RAM, timer {} Hz{}",
        env!("CARGO_PKG_VERSION"),
        machine.harts.len(),
        machine.memory.iter().map(|(_, size)| size).sum::<usize>() >> 20,
        machine.timebase_frequency,
        if machine.sstc { " (Sstc)" } else { " (SBI timer)" }
    );
    println!("command line: {bootargs:?}");
    if let Some(rtc) = machine.rtc {
        // SAFETY: the boot page table maps the MMIO gigabyte; the device tree names the RTC.
        let nanos = unsafe { arch::rtc::read_nanos(phys_to_virt(rtc.base)) };
        println!("wall clock: {}", timer::UtcDateTime::from_unix_seconds(nanos / 1_000_000_000));
    }
    for warning in &cmdline.warnings {
        println!("warning: {warning}");
    }
    for device in machine.missing_devices() {
        println!("warning: the device tree has no {device}");
    }
    if let Some(&hart) = machine.harts.iter().find(|&&hart| hart >= MAX_HARTS) {
        println!("warning: hart {hart} and above are not used (coros supports hart ids below {MAX_HARTS})");
    }

    memory::init_frames(machine, (device_tree_pa, device_tree_pa + size));
    memory::use_frames_for_file_data();
    memory::build_kernel_page_table(machine);
    memory::activate_kernel_page_table();
    log::info!("kernel page table active (W^X); identity map of RAM removed");

    let hart_slots = machine.hart_slots().min(MAX_HARTS);
    runtime::init(hart_slots);
    trap::init_hart();

    let rtc_nanos = machine.rtc.map(|rtc| {
        // SAFETY: the kernel page table maps the RTC the device tree names.
        unsafe { arch::rtc::read_nanos(phys_to_virt(rtc.base)) }
    });
    crate::time::init(rtc_nanos);
    crate::random::init(rtc_nanos.unwrap_or(0));
    let initrd = machine.initrd.map(|(start, end)| {
        // SAFETY: the initramfs lies in RAM (reserved from the frame allocator), which
        // the kernel page table maps at phys_to_virt; nothing writes to it.
        unsafe { core::slice::from_raw_parts(phys_to_virt(start) as *const u8, end - start) }
    });
    crate::fs::init(initrd);
    crate::drivers::init();
    crate::fs::init_disks();
    crate::fs::console::enable_input();

    arch::boot::announce_ready();
    for &other in machine.harts.iter().filter(|&&other| other != hart_id && other < MAX_HARTS) {
        // test=boot-race: send one hart to the boot entry, as a confused firmware might.
        let race = cmdline.action == Action::Test("boot-race") && other == machine.harts.iter().copied().find(|&h| h != hart_id).unwrap_or(usize::MAX);
        let started = if race { arch::boot::start_hart_at_boot_entry(other) } else { arch::boot::start_hart(other) };
        if let Err(error) = started {
            // SBI_ERR_ALREADY_AVAILABLE (-6): it is already running (it joined by itself).
            if error as isize != -6 {
                println!("warning: hart {other} did not start (SBI error {})", error as isize);
            }
        }
    }

    // The first task: what the command line asked for. It runs once the loop starts.
    let action = cmdline.action;
    let init = InitRequest {
        path: cmdline.rdinit.or(cmdline.init),
        explicit: cmdline.rdinit.is_some() || cmdline.init.is_some(),
        env: cmdline.init_env.clone(),
        args: cmdline.init_args.clone(),
        root: cmdline.root,
        root_read_only: cmdline.init_args.contains(&"ro"),
    };
    runtime::spawn(async move { crate::boot::run_action(action, init).await }).detach();
    enter_loop(hart_id)
}

pub fn secondary_hart(hart_id: usize) -> ! {
    memory::activate_kernel_page_table();
    trap::init_hart();
    log::debug!("hart {hart_id} online");
    enter_loop(hart_id)
}

fn enter_loop(hart_id: usize) -> ! {
    HARTS_ONLINE.fetch_add(1, Ordering::SeqCst);
    arch::interrupts::enable();
    runtime::run_hart(hart_id)
}

/// Waits (asynchronously) until every hart of the machine is in its loop.
pub async fn all_harts_online() {
    let expected = machine().harts.iter().filter(|&&hart| hart < MAX_HARTS).count();
    while harts_online() < expected {
        runtime::sleep(core::time::Duration::from_millis(1)).await;
    }
}

/// Which first user program to start, from the command line.
pub struct InitRequest {
    /// `rdinit=` or `init=`; `/init` when neither is given.
    pub path: Option<&'static str>,
    /// Whether the command line named it (then a missing file is an error).
    pub explicit: bool,
    /// Unknown `key=value` words (init's environment).
    pub env: alloc::vec::Vec<&'static str>,
    /// Unknown words (init's arguments).
    pub args: alloc::vec::Vec<&'static str>,
    /// `root=`: the disk whose ext4 file system becomes `/`.
    pub root: Option<&'static str>,
    /// `ro` on the command line.
    pub root_read_only: bool,
}

/// Starts init as Linux does: argv = [path, args...], envp = HOME=/ TERM=linux + the
/// command line's unknown `key=value` words. Returns false if there is no such file.
fn start_init(init: &InitRequest) -> bool {
    let path = init.path.unwrap_or("/init");
    let mut argv: alloc::vec::Vec<&[u8]> = alloc::vec![path.as_bytes()];
    argv.extend(init.args.iter().map(|arg| arg.as_bytes()));
    let mut envp: alloc::vec::Vec<&[u8]> = alloc::vec![b"HOME=/".as_slice(), b"TERM=linux".as_slice()];
    envp.extend(init.env.iter().map(|env| env.as_bytes()));
    match crate::process::exec::spawn_init(path.as_bytes(), &argv, &envp) {
        Ok(()) => true,
        Err(abi::Errno::ENOENT) if !init.explicit => false,
        Err(error) => {
            println!("error: cannot run init `{path}`: {error}");
            arch::power::power_off(1)
        }
    }
}

/// What the command line asked for, as the first kernel task.
pub async fn run_action(action: Action<'static>, init: InitRequest) {
    all_harts_online().await;
    let code = match action {
        Action::Default => {
            if let Some(root) = init.root {
                match crate::fs::mount_root(root, init.root_read_only).await {
                    Ok(()) => println!("root: ext4 on {root}{}", if init.root_read_only { " (read-only)" } else { "" }),
                    Err(error) => println!("error: cannot mount root {root}: {error} (staying on the initramfs)"),
                }
            }
            if start_init(&init) {
                return; // init runs; powering off is its business (reboot(2))
            }
            println!("no /init in the initramfs: running the seed demo");
            crate::demo::run().await;
            0
        }
        Action::Demo => {
            crate::demo::run().await;
            0
        }
        Action::Test(name) => crate::selftest::run(name).await,
        Action::Bench(name) => crate::bench::run(name).await,
    };
    arch::power::power_off(code)
}
