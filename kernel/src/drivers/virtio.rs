//! virtio-mmio devices: probing the transports the device tree lists, and the memory
//! services (`Hal`) the `virtio-drivers` crate needs from the kernel.
//!
//! DMA memory is contiguous frames reached through the direct map; buffers handed to a
//! device are kernel heap or frame memory, whose physical address is their direct-map
//! address minus the offset (no IOMMU, no bounce buffers).

use core::ptr::NonNull;

use arch::layout::{phys_to_virt, virt_to_phys, PHYS_OFFSET};
use mm::{PhysAddr, PAGE_SIZE};
use virtio_drivers::transport::mmio::{MmioTransport, VirtIOHeader};
use virtio_drivers::transport::{DeviceType, Transport};
use virtio_drivers::{BufferDirection, Hal};

/// The kernel's services for `virtio-drivers`.
pub struct KernelHal;

// SAFETY: `dma_alloc` returns zeroed, contiguous, exclusively owned frames mapped at
// the returned virtual address; `share` returns the physical address of memory in the
// direct map (asserted), which is where all kernel heap and frame memory lives.
unsafe impl Hal for KernelHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (virtio_drivers::PhysAddr, NonNull<u8>) {
        let frames = crate::memory::alloc_contiguous_zeroed(pages).expect("out of memory for a virtio ring");
        let virt = NonNull::new(phys_to_virt(frames.0) as *mut u8).expect("direct-map addresses are not null");
        (frames.0 as virtio_drivers::PhysAddr, virt)
    }

    unsafe fn dma_dealloc(paddr: virtio_drivers::PhysAddr, _vaddr: NonNull<u8>, pages: usize) -> i32 {
        crate::memory::free_contiguous(PhysAddr(paddr as usize), pages);
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: virtio_drivers::PhysAddr, _size: usize) -> NonNull<u8> {
        NonNull::new(phys_to_virt(paddr as usize) as *mut u8).expect("direct-map addresses are not null")
    }

    unsafe fn share(buffer: NonNull<[u8]>, _direction: BufferDirection) -> virtio_drivers::PhysAddr {
        let virt = buffer.as_ptr() as *mut u8 as usize;
        assert!(virt >= PHYS_OFFSET, "a DMA buffer outside the direct map ({virt:#x})");
        virt_to_phys(virt) as virtio_drivers::PhysAddr
    }

    unsafe fn unshare(_paddr: virtio_drivers::PhysAddr, _buffer: NonNull<[u8]>, _direction: BufferDirection) {}
}

const _: () = assert!(PAGE_SIZE == virtio_drivers::PAGE_SIZE);

/// Every virtio-mmio transport of the machine with a device behind it, in slot order,
/// with its interrupt number.
pub fn probe() -> alloc::vec::Vec<(MmioTransport<'static>, DeviceType, u32)> {
    let mut found = alloc::vec::Vec::new();
    for device in &crate::boot::machine().virtio_mmio {
        let header = NonNull::new(phys_to_virt(device.base) as *mut VirtIOHeader).expect("not null");
        // SAFETY: the device tree names a virtio-mmio register block of `size` bytes at
        // `base`, which the kernel page table maps (device memory) at its direct-map
        // address; nothing else uses it.
        match unsafe { MmioTransport::new(header, device.size) } {
            Ok(transport) => {
                let kind = transport.device_type();
                log::debug!("virtio-mmio at {:#x}: {kind:?} (irq {:?})", device.base, device.irq);
                found.push((transport, kind, device.irq.unwrap_or(0)));
            }
            Err(virtio_drivers::transport::mmio::MmioError::InvalidDeviceID(_)) => {} // an empty slot
            Err(error) => log::warn!("virtio-mmio at {:#x}: {error}", device.base),
        }
    }
    found
}
