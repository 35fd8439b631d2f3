//! Timing, kernel counters and the one output format every workload uses.
//!
//! A figure is one line, `bench NAME: ops=N ns=T` (or `bytes=B` for memory), where the
//! value is the total over the N operations; `cargo xtask bench` divides. When the
//! kernel has `/proc/coros/counters` (coros does, Linux does not) the line also carries
//! the counters' growth over the measured operations: `traps=.. syscalls=..
//! switches=.. interrupts=..`. Reading the file costs a few system calls itself; that
//! cost is measured once ([`Counters::calibrate`]) and subtracted.

use std::io::Read;

/// `CLOCK_MONOTONIC` in nanoseconds.
pub fn now() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes the timespec we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Kernel event counts read from `/proc/coros/counters`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub traps: u64,
    pub syscalls: u64,
    pub switches: u64,
    pub interrupts: u64,
}

const COUNTERS_PATH: &str = "/proc/coros/counters";

impl Counters {
    /// The counters now, or `None` on a kernel without the file (Linux).
    pub fn read() -> Option<Counters> {
        let mut text = String::new();
        std::fs::File::open(COUNTERS_PATH).ok()?.read_to_string(&mut text).ok()?;
        let mut counters = Counters::default();
        for line in text.lines() {
            let mut words = line.split_whitespace();
            let (Some(name), Some(value)) = (words.next(), words.next().and_then(|v| v.parse().ok())) else { continue };
            match name {
                "traps" => counters.traps = value,
                "syscalls" => counters.syscalls = value,
                "satp_switches" => counters.switches = value,
                "interrupts" => counters.interrupts = value,
                _ => {}
            }
        }
        Some(counters)
    }

    /// What one reading itself adds between two readings (its system calls and traps).
    pub fn calibrate() -> Counters {
        let mut smallest: Option<Counters> = None;
        for _ in 0..5 {
            let (Some(first), Some(second)) = (Counters::read(), Counters::read()) else { return Counters::default() };
            let cost = second.minus(&first, &Counters::default());
            // The least of a few tries: an interrupt may land in one of them.
            smallest = Some(match smallest {
                Some(best) if best.traps <= cost.traps => best,
                _ => cost,
            });
        }
        smallest.unwrap_or_default()
    }

    /// `self - earlier - overhead`, never below zero.
    pub fn minus(&self, earlier: &Counters, overhead: &Counters) -> Counters {
        let sub = |a: u64, b: u64, c: u64| a.saturating_sub(b).saturating_sub(c);
        Counters {
            traps: sub(self.traps, earlier.traps, overhead.traps),
            syscalls: sub(self.syscalls, earlier.syscalls, overhead.syscalls),
            switches: sub(self.switches, earlier.switches, overhead.switches),
            interrupts: sub(self.interrupts, earlier.interrupts, overhead.interrupts),
        }
    }
}

/// Counts kernel events over one measured stretch.
pub struct Window {
    start: Option<Counters>,
}

impl Window {
    pub fn open() -> Window {
        Window { start: Counters::read() }
    }

    /// The counters' growth since [`Window::open`], minus the reading's own cost.
    pub fn close(self, overhead: &Counters) -> Option<Counters> {
        let end = Counters::read()?;
        Some(end.minus(&self.start?, overhead))
    }
}

/// The unit of a figure's value.
#[derive(Clone, Copy)]
pub enum Unit {
    /// Nanoseconds of `CLOCK_MONOTONIC` (instructions under `-icount shift=0`).
    Nanoseconds,
    /// Bytes of memory.
    Bytes,
}

/// Prints one figure: `total` is the value summed over `ops` operations.
pub fn print(name: &str, ops: u64, unit: Unit, total: u64, counters: Option<Counters>) {
    let key = match unit {
        Unit::Nanoseconds => "ns",
        Unit::Bytes => "bytes",
    };
    let mut line = format!("bench {name}: ops={ops} {key}={total}");
    if let Some(c) = counters {
        line += &format!(" traps={} syscalls={} switches={} interrupts={}", c.traps, c.syscalls, c.switches, c.interrupts);
    }
    println!("{line}");
}

/// Runs `body(ops / 10)` as a warm-up, then times `body(ops)` and prints the figure.
pub fn measure(name: &str, ops: u64, overhead: &Counters, mut body: impl FnMut(u64)) {
    body(ops.div_ceil(10).max(1));
    let window = Window::open();
    let start = now();
    body(ops);
    let elapsed = now() - start;
    print(name, ops, Unit::Nanoseconds, elapsed, window.close(overhead));
}

/// Exits with a message when a libc call failed.
pub fn check(result: libc::c_long, what: &str) {
    if result < 0 {
        eprintln!("{what} failed: {}", std::io::Error::last_os_error());
        std::process::exit(1);
    }
}
