//! Device drivers: virtio devices found through the device tree, completed by their
//! interrupts (the UART console lives in `fs::console`).

pub mod virtio;
pub mod virtio_blk;

use virtio_drivers::transport::DeviceType;

/// Finds the virtio devices and starts the drivers coros has.
pub fn init() {
    let mut disks = alloc::vec::Vec::new();
    for (transport, kind, irq) in virtio::probe() {
        match kind {
            DeviceType::Block => disks.push((transport, irq)),
            other => log::debug!("no driver for virtio {other:?} (irq {irq})"),
        }
    }
    virtio_blk::init(disks);
}
