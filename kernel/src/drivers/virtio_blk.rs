//! virtio-blk disks, driven by their interrupt: `block::BlockDevice` over the
//! `virtio-drivers` crate's non-blocking request API.
//!
//! `submit` puts the request into the virtqueue and records it in the disk's table of
//! requests in flight — both under the disk's lock, which the interrupt handler also
//! takes, so a completion can never find its request unrecorded — and returns. The
//! device's interrupt claims every finished request (`peek_used`), completes it with
//! `complete_*_blocks` and runs its completion, which wakes whoever waits. The request
//! owns its buffer, header and status byte until then, so a waiter that goes away
//! cannot free memory the device still writes. When the virtqueue is full, requests
//! wait in a software queue and are started as completions free slots.
//!
//! One exception to "no waiting loops": `virtio-drivers` 0.13 has no non-blocking flush,
//! so a flush waits until nothing else is in flight (asynchronously: it queues behind
//! the other requests) and then issues the crate's blocking `flush`, which spins on the
//! used ring for that one request.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use abi::Errno;
use block::{BlockDevice, Operation, Request};
use ksync::SpinLock;
use virtio_drivers::device::blk::{BlkReq, BlkResp, VirtIOBlk};
use virtio_drivers::transport::mmio::MmioTransport;

use super::virtio::KernelHal;

type Device = VirtIOBlk<KernelHal, MmioTransport<'static>>;

/// One request the device holds, with the memory it reads or writes.
struct InFlight {
    request: Request,
    header: Box<BlkReq>,
    status: Box<BlkResp>,
}

struct Inner {
    device: Device,
    in_flight: BTreeMap<u16, InFlight>,
    /// Waiting for a virtqueue slot (or, for a flush, for the queue to drain).
    waiting: VecDeque<Request>,
}

/// A virtio-blk disk (`/dev/vdX`).
pub struct VirtioDisk {
    pub name: String,
    pub irq: u32,
    sectors: u64,
    read_only: bool,
    inner: SpinLock<Inner>,
    /// Requests completed, and the most in flight at once (for benchmarks).
    pub completed: AtomicU64,
    pub max_in_flight: AtomicUsize,
    in_flight_now: AtomicUsize,
    /// FLUSH requests sent.
    pub flushes: AtomicU64,
}

type Done = (Request, Result<(), Errno>);

impl VirtioDisk {
    /// Requests the device holds right now.
    pub fn in_flight_now(&self) -> usize {
        self.in_flight_now.load(Ordering::Relaxed)
    }

    pub fn new(name: String, irq: u32, mut device: Device) -> Self {
        device.enable_interrupts();
        Self {
            name,
            irq,
            sectors: device.capacity(),
            read_only: device.readonly(),
            inner: SpinLock::new(Inner { device, in_flight: BTreeMap::new(), waiting: VecDeque::new() }),
            completed: AtomicU64::new(0),
            max_in_flight: AtomicUsize::new(0),
            in_flight_now: AtomicUsize::new(0),
            flushes: AtomicU64::new(0),
        }
    }

    /// Starts `request` if the device can take it; gives it back if the queue is full,
    /// or puts it in `done` if it failed at once.
    fn start(&self, inner: &mut Inner, mut request: Request, done: &mut Vec<Done>) -> Option<Request> {
        if request.operation == Operation::Flush {
            if !inner.in_flight.is_empty() {
                return Some(request);
            }
            // See the module documentation: the one blocking request.
            self.flushes.fetch_add(1, Ordering::Relaxed);
            let result = inner.device.flush().map_err(|_| Errno::EIO);
            done.push((request, result));
            return None;
        }
        if request.operation == Operation::Write && self.read_only {
            done.push((request, Err(Errno::EROFS)));
            return None;
        }
        let mut header = Box::new(BlkReq::default());
        let mut status = Box::new(BlkResp::default());
        // SAFETY: header, status and buffer are heap memory owned by the `InFlight`
        // entry recorded below (under the same lock the interrupt handler takes) until
        // the device returns them; nothing touches them in between.
        let started = unsafe {
            match request.operation {
                Operation::Read => inner.device.read_blocks_nb(request.sector as usize, &mut header, &mut request.buffer, &mut status),
                _ => inner.device.write_blocks_nb(request.sector as usize, &mut header, &request.buffer, &mut status),
            }
        };
        match started {
            Ok(token) => {
                inner.in_flight.insert(token, InFlight { request, header, status });
                let now = inner.in_flight.len();
                self.in_flight_now.store(now, Ordering::Relaxed);
                self.max_in_flight.fetch_max(now, Ordering::Relaxed);
                None
            }
            Err(virtio_drivers::Error::QueueFull) | Err(virtio_drivers::Error::NotReady) => Some(request),
            Err(error) => {
                log::warn!("{}: request at sector {} refused: {error}", self.name, request.sector);
                done.push((request, Err(Errno::EIO)));
                None
            }
        }
    }

    /// Starts waiting requests while the device takes them.
    fn start_waiting(&self, inner: &mut Inner, done: &mut Vec<Done>) {
        while let Some(request) = inner.waiting.pop_front() {
            if let Some(request) = self.start(inner, request, done) {
                inner.waiting.push_front(request);
                break;
            }
        }
    }

    /// The interrupt: completes every finished request.
    pub fn handle_interrupt(&self) {
        let mut done = Vec::new();
        {
            let mut inner = self.inner.lock();
            inner.device.ack_interrupt();
            while let Some(token) = inner.device.peek_used() {
                let Some(mut entry) = inner.in_flight.remove(&token) else {
                    log::error!("{}: completion of unknown request {token}", self.name);
                    break;
                };
                // SAFETY: the same header, buffer and status that started request `token`.
                let result = unsafe {
                    match entry.request.operation {
                        Operation::Read => inner.device.complete_read_blocks(token, &entry.header, &mut entry.request.buffer, &mut entry.status),
                        _ => inner.device.complete_write_blocks(token, &entry.header, &entry.request.buffer, &mut entry.status),
                    }
                };
                if let Err(error) = &result {
                    log::warn!("{}: {:?} at sector {}: {error}", self.name, entry.request.operation, entry.request.sector);
                }
                done.push((entry.request, result.map_err(|_| Errno::EIO)));
            }
            self.in_flight_now.store(inner.in_flight.len(), Ordering::Relaxed);
            self.start_waiting(&mut inner, &mut done);
        }
        self.finish(done);
    }

    fn finish(&self, done: Vec<Done>) {
        self.completed.fetch_add(done.len() as u64, Ordering::Relaxed);
        for (request, result) in done {
            (request.done)(result, request.buffer);
        }
    }
}

impl BlockDevice for VirtioDisk {
    fn sectors(&self) -> u64 {
        self.sectors
    }

    fn read_only(&self) -> bool {
        self.read_only
    }

    fn submit(&self, request: Request) {
        let mut done = Vec::new();
        {
            let mut inner = self.inner.lock();
            if inner.waiting.is_empty() {
                if let Some(request) = self.start(&mut inner, request, &mut done) {
                    inner.waiting.push_back(request);
                }
            } else {
                inner.waiting.push_back(request);
            }
        }
        self.finish(done);
    }
}

/// Every virtio-blk disk, in slot order (`vda`, `vdb`, ...).
static DISKS: SpinLock<Vec<Arc<VirtioDisk>>> = SpinLock::new(Vec::new());

/// The disks found at boot.
pub fn disks() -> Vec<Arc<VirtioDisk>> {
    DISKS.lock().clone()
}

fn interrupt(irq: u32) {
    let disk = DISKS.lock().iter().find(|disk| disk.irq == irq).cloned();
    if let Some(disk) = disk {
        disk.handle_interrupt();
    }
}

/// Linux's name of the `index`th virtio disk: vda ... vdz, vdaa ...
pub fn disk_name(index: usize) -> String {
    let mut name = String::from("vd");
    if index >= 26 {
        name.push((b'a' + (index / 26 - 1) as u8) as char);
    }
    name.push((b'a' + (index % 26) as u8) as char);
    name
}

/// Sets up the virtio-blk devices among `transports`, names them in slot order.
pub fn init(transports: Vec<(MmioTransport<'static>, u32)>) {
    for (transport, irq) in transports {
        let index = DISKS.lock().len();
        let name = disk_name(index);
        match VirtIOBlk::<KernelHal, _>::new(transport) {
            Ok(device) => {
                let disk = Arc::new(VirtioDisk::new(name, irq, device));
                log::info!(
                    "{}: virtio-blk, {} MiB{} (irq {irq})",
                    disk.name,
                    disk.sectors / 2048,
                    if disk.read_only { ", read-only" } else { "" }
                );
                DISKS.lock().push(disk);
                crate::irq::register(irq, interrupt);
            }
            Err(error) => log::warn!("virtio-blk at irq {irq}: {error}"),
        }
    }
}
