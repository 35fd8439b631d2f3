//! The kernel console: `print!`/`println!`, timestamped lines and the `log` backend.
//!
//! Output goes to the UART under one lock, so lines from different harts never
//! interleave. Every log line carries the guest's monotonic time, like Linux's
//! `[    0.123456]` prefix.

use core::fmt::{self, Write};

use ksync::SpinLock;

static CONSOLE: SpinLock<Console> = SpinLock::new(Console);

struct Console;

impl Write for Console {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        arch::console::write_bytes(text.as_bytes());
        Ok(())
    }
}

/// Writes formatted text to the console.
pub fn print(args: fmt::Arguments<'_>) {
    let _ = CONSOLE.lock().write_fmt(args);
}

/// Writes bytes exactly as given (for the terminal, which did its own processing).
pub fn print_raw(bytes: &[u8]) {
    let _console = CONSOLE.lock();
    arch::console::write_raw(bytes);
}

/// Writes formatted text for the panic handler: takes the console lock if it can
/// within a short while, and writes anyway otherwise (the holder may be this very hart).
pub fn print_for_panic(args: fmt::Arguments<'_>) {
    for _ in 0..1_000_000 {
        if let Some(mut console) = CONSOLE.try_lock() {
            let _ = console.write_fmt(args);
            return;
        }
        core::hint::spin_loop();
    }
    let _ = Console.write_fmt(args);
}

/// The `[seconds.micros]` prefix of a line at guest time `nanos`.
pub struct Timestamp(pub u64);

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{:>4}.{:06}]", self.0 / 1_000_000_000, (self.0 / 1_000) % 1_000_000)
    }
}

/// Prints like `println!`.
macro_rules! println {
    () => { $crate::console::print(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::console::print(format_args!("{}\n", format_args!($($arg)*))) };
}

/// Prints a line prefixed by the current guest time.
macro_rules! println_timed {
    ($($arg:tt)*) => {
        $crate::console::print(format_args!(
            "{} {}\n",
            $crate::console::Timestamp(arch::timer::nanos()),
            format_args!($($arg)*)
        ))
    };
}

struct Logger;

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            print(format_args!(
                "{} {:<5} hart{}: {}\n",
                Timestamp(arch::timer::nanos()),
                record.level(),
                arch::hart::id(),
                record.args()
            ));
        }
    }

    fn flush(&self) {}
}

static LOGGER: Logger = Logger;

/// Installs the logger at `level`.
pub fn init_logging(level: log::LevelFilter) {
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level);
}
