//! Reading the machine description OpenSBI hands the kernel (a flattened device tree).
//!
//! The `fdt` crate does the parsing; this crate turns the tree into a [`Machine`]: the
//! RAM, the harts, the timer frequency, the devices coros drives and the command line
//! and initramfs chosen by the boot loader. It is plain code over a byte slice, so it
//! is tested on the host against device trees dumped from QEMU itself
//! (`qemu-system-riscv64 -machine virt,dumpdtb=...`). A missing device is not a
//! failure here: it is `None`, and the kernel says clearly what is missing.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;

/// An MMIO device: register block and (PLIC) interrupt number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Device {
    /// Physical address of the registers.
    pub base: usize,
    /// Size of the register block.
    pub size: usize,
    /// PLIC interrupt source, if the node has one.
    pub irq: Option<u32>,
}

/// The machine, as far as coros cares.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Machine {
    /// RAM regions (physical start, size).
    pub memory: Vec<(usize, usize)>,
    /// Hart ids of the CPUs, ascending.
    pub harts: Vec<usize>,
    /// Frequency of the `time` counter.
    pub timebase_frequency: u64,
    /// Whether every hart implements Sstc (the supervisor writes `stimecmp` itself).
    pub sstc: bool,
    /// The console UART (ns16550a).
    pub uart: Option<Device>,
    /// The platform-level interrupt controller.
    pub plic: Option<Device>,
    /// The Goldfish real-time clock.
    pub rtc: Option<Device>,
    /// The sifive,test0 finisher (power off with an exit status).
    pub finisher: Option<Device>,
    /// virtio-mmio transports, in ascending address order (Linux's slot order).
    pub virtio_mmio: Vec<Device>,
    /// `/chosen/bootargs`.
    pub bootargs: String,
    /// The initramfs (physical start, end), if the boot loader passed one.
    pub initrd: Option<(usize, usize)>,
}

/// Why a device tree could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The blob is not a valid flattened device tree.
    Invalid(String),
    /// The tree has no memory node with a usable region.
    NoMemory,
    /// The tree lists no CPU.
    NoHarts,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Invalid(why) => write!(f, "invalid device tree: {why}"),
            Error::NoMemory => f.write_str("the device tree describes no memory"),
            Error::NoHarts => f.write_str("the device tree describes no CPU"),
        }
    }
}

/// The total size the header of the blob at `header` claims (to build a slice).
///
/// # Safety
/// `header` must point to at least 8 readable bytes.
pub unsafe fn blob_size(header: *const u8) -> Option<usize> {
    // SAFETY: the caller guarantees 8 readable bytes.
    let bytes = unsafe { core::slice::from_raw_parts(header, 8) };
    let magic = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    (magic == 0xd00d_feed).then(|| u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize)
}

fn device(node: fdt::node::FdtNode<'_, '_>) -> Option<Device> {
    let region = node.reg()?.next()?;
    let irq = node.interrupts().and_then(|mut irqs| irqs.next()).map(|irq| irq as u32);
    Some(Device { base: region.starting_address as usize, size: region.size.unwrap_or(0), irq })
}

fn be_number(bytes: &[u8]) -> Option<usize> {
    match bytes.len() {
        4 => Some(u32::from_be_bytes(bytes.try_into().ok()?) as usize),
        8 => Some(u64::from_be_bytes(bytes.try_into().ok()?) as usize),
        _ => None,
    }
}

/// Reads the machine description from a device-tree blob.
pub fn parse(blob: &[u8]) -> Result<Machine, Error> {
    let tree = fdt::Fdt::new(blob).map_err(|error| Error::Invalid(alloc::format!("{error:?}")))?;
    let memory: Vec<_> = tree
        .memory()
        .regions()
        .filter_map(|region| Some((region.starting_address as usize, region.size?)))
        .filter(|&(_, size)| size > 0)
        .collect();
    if memory.is_empty() {
        return Err(Error::NoMemory);
    }
    let mut harts: Vec<usize> = tree.cpus().map(|cpu| cpu.ids().first()).collect();
    if harts.is_empty() {
        return Err(Error::NoHarts);
    }
    harts.sort_unstable();
    let timebase_frequency = tree.cpus().next().map(|cpu| cpu.timebase_frequency() as u64).unwrap_or(10_000_000);
    let sstc = tree.cpus().all(|cpu| {
        cpu.property("riscv,isa")
            .and_then(|isa| isa.as_str())
            .is_some_and(|isa| isa.split('_').skip(1).any(|extension| extension == "sstc"))
    });
    let mut virtio_mmio: Vec<Device> = tree
        .all_nodes()
        .filter(|node| node.compatible().is_some_and(|c| c.all().any(|c| c == "virtio,mmio")))
        .filter_map(device)
        .collect();
    virtio_mmio.sort_by_key(|device| device.base);
    let chosen = tree.chosen();
    let bootargs = chosen.bootargs().unwrap_or("").into();
    let chosen_node = tree.find_node("/chosen");
    let chosen_number = |name: &str| chosen_node.and_then(|node| node.property(name)).and_then(|p| be_number(p.value));
    let initrd = match (chosen_number("linux,initrd-start"), chosen_number("linux,initrd-end")) {
        (Some(start), Some(end)) if end > start => Some((start, end)),
        _ => None,
    };
    Ok(Machine {
        memory,
        harts,
        timebase_frequency,
        sstc,
        uart: tree.find_compatible(&["ns16550a", "ns16550"]).and_then(device),
        plic: tree.find_compatible(&["riscv,plic0", "sifive,plic-1.0.0"]).and_then(device),
        rtc: tree.find_compatible(&["google,goldfish-rtc"]).and_then(device),
        finisher: tree.find_compatible(&["sifive,test0", "sifive,test1"]).and_then(device),
        virtio_mmio,
        bootargs,
        initrd,
    })
}

impl Machine {
    /// Names of the devices coros expects on QEMU `virt` that this tree lacks.
    pub fn missing_devices(&self) -> Vec<&'static str> {
        [
            (self.uart.is_none(), "ns16550a UART (console)"),
            (self.plic.is_none(), "PLIC interrupt controller"),
            (self.rtc.is_none(), "goldfish RTC (wall clock)"),
            (self.finisher.is_none(), "sifive,test0 finisher (exit status)"),
        ]
        .into_iter()
        .filter_map(|(missing, name)| missing.then_some(name))
        .collect()
    }

    /// One past the highest hart id.
    pub fn hart_slots(&self) -> usize {
        self.harts.last().map_or(0, |last| last + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMP4: &[u8] = include_bytes!("../tests/fixtures/virt-smp4.dtb");
    const SMP1: &[u8] = include_bytes!("../tests/fixtures/virt-smp1.dtb");

    #[test]
    fn reads_qemu_virt_with_four_harts() {
        let machine = parse(SMP4).unwrap();
        assert_eq!(machine.memory, vec![(0x8000_0000, 256 << 20)]);
        assert_eq!(machine.harts, vec![0, 1, 2, 3]);
        assert_eq!(machine.hart_slots(), 4);
        assert_eq!(machine.timebase_frequency, 10_000_000);
        assert!(machine.sstc);
        assert_eq!(machine.uart, Some(Device { base: 0x1000_0000, size: 0x100, irq: Some(10) }));
        assert_eq!(machine.rtc.unwrap().base, 0x10_1000);
        assert_eq!(machine.finisher.unwrap().base, 0x10_0000);
        assert_eq!(machine.plic.unwrap().base, 0xc00_0000);
        assert_eq!(machine.virtio_mmio.len(), 8);
        assert_eq!(machine.virtio_mmio[0], Device { base: 0x1000_1000, size: 0x1000, irq: Some(1) });
        assert_eq!(machine.virtio_mmio[7].base, 0x1000_8000);
        assert_eq!(machine.bootargs, "log=debug demo");
        assert_eq!(machine.initrd, Some((0x8820_0000, 0x8820_0002)));
        assert!(machine.missing_devices().is_empty());
    }

    #[test]
    fn reads_qemu_virt_with_one_hart_and_no_bootargs() {
        let machine = parse(SMP1).unwrap();
        assert_eq!(machine.memory, vec![(0x8000_0000, 128 << 20)]);
        assert_eq!(machine.harts, vec![0]);
        assert_eq!(machine.bootargs, "");
        assert_eq!(machine.initrd, None);
    }

    #[test]
    fn rejects_garbage() {
        assert!(matches!(parse(&[0u8; 64]), Err(Error::Invalid(_))));
        let mut truncated = SMP4.to_vec();
        truncated.truncate(100);
        assert!(parse(&truncated).is_err());
    }

    #[test]
    fn blob_size_reads_the_header() {
        // SAFETY: the fixture has more than 8 bytes.
        assert_eq!(unsafe { blob_size(SMP4.as_ptr()) }, Some(SMP4.len()));
        // SAFETY: 8 readable bytes.
        assert_eq!(unsafe { blob_size([0u8; 8].as_ptr()) }, None);
    }

    #[test]
    fn missing_devices_are_named() {
        let machine = Machine { uart: None, ..parse(SMP1).unwrap() };
        assert_eq!(machine.missing_devices(), vec!["ns16550a UART (console)"]);
    }
}
