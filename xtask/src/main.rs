//! xtask: the host-side tooling of coros, run as `cargo xtask <command>` (the Makefile is
//! a thin wrapper over it).
//!
//! Why a Rust program instead of shell scripts: the test harness has real logic (a test
//! table, timeouts, parallel QEMU runs, output checks) that deserves unit tests, and one
//! binary keeps `make run`, `make test` and CI doing exactly the same thing.
//!
//! Commands: `prereqs`, `build`, `run`, `demo`, `debug`, `miri`, `test` (see `--help`).

mod bench;
mod harness;
mod kernel_build;
mod prereqs;
mod qemu;
mod qemu_tests;
mod shell;
mod test_results;

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};

use harness::Layer;
use prereqs::Need;
use qemu::{Boot, Console};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Build, run and test the coros kernel")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Check the Rust targets and Debian packages, installing what can be installed.
    Prereqs,
    /// Build the kernel into target/kernel.elf.
    Build,
    /// Build and boot the kernel on this terminal (Ctrl-A X quits QEMU).
    Run(BootArgs),
    /// Build and boot the seed demo (`demo` on the command line), output streamed.
    Demo {
        /// Number of harts.
        #[arg(long, default_value_t = 4, value_parser = parse_count)]
        smp: usize,
    },
    /// Boot halted with a gdb stub on :1234 and print the gdb command to attach.
    Debug(BootArgs),
    /// Run only the miri layer of the tests.
    Miri {
        /// Only tests whose name contains this.
        #[arg(long)]
        filter: Option<String>,
    },
    /// Run host tests, miri tests and QEMU tests; the last line is `N passed, M failed`.
    Test(TestArgs),
    /// Benchmarks: the executor on the host (vs tokio, async-executor) and in the guest.
    Bench {
        /// One repetition with small counts (a smoke test of the harness).
        #[arg(long)]
        quick: bool,
    },
}

#[derive(Args)]
struct BootArgs {
    /// Number of harts.
    #[arg(long, default_value_t = 4, value_parser = parse_count)]
    smp: usize,
    /// Kernel command line, e.g. "log=debug test=rtc".
    #[arg(long, default_value = "", allow_hyphen_values = true)]
    append: String,
}

#[derive(Args)]
struct TestArgs {
    /// Only tests whose name contains this (QEMU tests are named `NAME [smp=N]`).
    #[arg(long)]
    filter: Option<String>,
    /// QEMU tests run at the same time.
    #[arg(long, default_value_t = 2, value_parser = parse_count)]
    jobs: usize,
    /// Run only these layers (repeat or separate with commas); default: all.
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Layer>,
    /// Seconds the host `cargo test` run (build included) may take before it is killed.
    #[arg(long, default_value_t = 600)]
    host_timeout: u64,
    /// Seconds the miri run may take before it is killed.
    #[arg(long, default_value_t = 1800)]
    miri_timeout: u64,
}

/// A count of at least one.
fn parse_count(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(count) if count >= 1 => Ok(count),
        _ => Err(format!("`{text}` is not a number of at least 1")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match execute(cli.command) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn execute(task: Task) -> Result<ExitCode> {
    match task {
        Task::Prereqs => {
            prereqs::ensure(Need::WithDebugger, true)?;
            Ok(ExitCode::SUCCESS)
        }
        Task::Build => {
            prereqs::ensure(Need::Base, false)?;
            let kernel = kernel_build::build_kernel()?;
            println!("kernel: {}", kernel.display());
            Ok(ExitCode::SUCCESS)
        }
        Task::Run(args) => boot(&args, false),
        Task::Demo { smp } => boot(
            &BootArgs {
                smp,
                append: "demo".into(),
            },
            false,
        ),
        Task::Debug(args) => boot(&args, true),
        Task::Miri { filter } => Ok(exit_code(harness::run(&harness::Options {
            filter,
            jobs: 1,
            layers: vec![Layer::Miri],
            host_timeout: Duration::ZERO,
            miri_timeout: Duration::from_secs(1800),
        }))),
        Task::Bench { quick } => {
            prereqs::ensure(Need::Base, false)?;
            Ok(exit_code(bench::run(&bench::Options { quick })?))
        }
        Task::Test(args) => Ok(exit_code(harness::run(&harness::Options {
            filter: args.filter,
            jobs: args.jobs,
            layers: args.only,
            host_timeout: Duration::from_secs(args.host_timeout),
            miri_timeout: Duration::from_secs(args.miri_timeout),
        }))),
    }
}

/// Builds the kernel and boots it attached to our stdio; QEMU's exit status is ours.
fn boot(args: &BootArgs, wait_for_gdb: bool) -> Result<ExitCode> {
    let need = if wait_for_gdb {
        Need::WithDebugger
    } else {
        Need::Base
    };
    prereqs::ensure(need, false)?;
    let kernel = kernel_build::build_kernel()?;
    let console = Console::detect();
    if wait_for_gdb {
        let shown = kernel.strip_prefix(shell::repo_root()).unwrap_or(&kernel);
        println!("QEMU waits for gdb; in another terminal at the repository root run:");
        println!(
            "    gdb-multiarch {} -ex 'target remote :{}'",
            shown.display(),
            qemu::GDB_PORT
        );
    }
    if console == Console::Terminal {
        println!("(Ctrl-A X quits QEMU, Ctrl-A C toggles its monitor)");
    }
    let boot = Boot {
        kernel: &kernel,
        smp: args.smp,
        append: &args.append,
        console,
        wait_for_gdb,
    };
    let code = boot.run_attached()?;
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}

fn exit_code(passed: bool) -> ExitCode {
    if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
