//! xtask: the host-side tooling of coros, run as `cargo xtask <command>` (the Makefile is
//! a thin wrapper over it).
//!
//! Why a Rust program instead of shell scripts: the test harness has real logic (a test
//! table, timeouts, parallel QEMU runs, output checks) that deserves unit tests, and one
//! binary keeps `make run`, `make test` and CI doing exactly the same thing.
//!
//! Commands: `prereqs`, `build`, `run`, `demo`, `debug`, `miri`, `test`, `test-linux`,
//! `run-linux`, `initramfs` (see `--help`).

mod bench;
mod bench_disk;
mod bench_results;
mod bench_suite;
mod bench_svg;
mod debian;
mod disk_tests;
mod harness;
mod initramfs;
mod kernel_build;
mod linux_modules;
mod prereqs;
mod qemu;
mod qemu_tests;
mod run_disk;
mod shell;
mod test_results;
mod user_build;
mod user_harness;
mod user_tests;
mod user_tests_abi;
mod user_tests_busybox;
mod user_tests_dynamic;
mod user_tests_smp;

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
    /// Run host tests, miri tests, QEMU tests and user-level (oracle) tests; the last
    /// line is `N passed, M failed` (`, K skipped` when something was skipped).
    Test(TestArgs),
    /// Run the user-level tests on Debian's Linux (the oracle) and show their outputs.
    TestLinux {
        /// Only tests whose name contains this.
        #[arg(long)]
        filter: Option<String>,
    },
    /// Boot Debian's Linux with the test initramfs on this terminal (a shell; Ctrl-A X quits).
    RunLinux(BootArgs),
    /// Fetch busybox, build the user programs and write target/initramfs.cpio.
    Initramfs,
    /// Benchmarks: the executor on the host (vs tokio, async-executor) and in the guest.
    Bench {
        /// One repetition with small counts (a smoke test of the harness).
        #[arg(long)]
        quick: bool,
        /// Only the coros-vs-Linux suite (table, bench/results/*.json and *.svg).
        #[arg(long)]
        syscalls_only: bool,
        /// Skip the concurrency sweep at -smp 4 (part of full runs otherwise).
        #[arg(long)]
        no_smp4: bool,
        /// Only the disk benchmark (ext4 on virtio-blk, coros vs Linux).
        #[arg(long, conflicts_with = "syscalls_only")]
        disk_only: bool,
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
        Task::Run(args) => boot(&args, false, true),
        Task::RunLinux(args) => run_linux(&args),
        Task::Initramfs => {
            prereqs::ensure(Need::Base, false)?;
            user_harness::prepare_initramfs()?;
            Ok(ExitCode::SUCCESS)
        }
        Task::TestLinux { filter } => {
            prereqs::ensure(Need::Base, false)?;
            let counts = user_harness::test_linux(filter.as_deref())?;
            println!("{} passed, {} failed", counts.passed, counts.failed);
            Ok(exit_code(counts.failed == 0))
        }
        Task::Demo { smp } => boot(
            &BootArgs {
                smp,
                append: "demo".into(),
            },
            false,
            false,
        ),
        Task::Debug(args) => boot(&args, true, true),
        Task::Miri { filter } => Ok(exit_code(harness::run(&harness::Options {
            filter,
            jobs: 1,
            layers: vec![Layer::Miri],
            host_timeout: Duration::ZERO,
            miri_timeout: Duration::from_secs(1800),
        }))),
        Task::Bench { quick, syscalls_only, no_smp4, disk_only } => {
            prereqs::ensure(Need::Base, false)?;
            Ok(exit_code(bench::run(&bench::Options { quick, syscalls_only, no_smp4, disk_only })?))
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

/// Builds the kernel and boots it attached to our stdio (with the test initramfs when
/// `with_initramfs`); QEMU's exit status is ours.
fn boot(args: &BootArgs, wait_for_gdb: bool, with_initramfs: bool) -> Result<ExitCode> {
    let need = if wait_for_gdb {
        Need::WithDebugger
    } else {
        Need::Base
    };
    prereqs::ensure(need, false)?;
    let kernel = kernel_build::build_kernel()?;
    // The test initramfs goes along (coros ignores it until it runs user space); without
    // it (no mirror reachable, say) the kernel still boots.
    let initramfs = match with_initramfs.then(user_harness::prepare_initramfs) {
        None => None,
        Some(Ok(path)) => Some(path),
        Some(Err(error)) => {
            println!("warning: booting without an initramfs: {error:#}");
            None
        }
    };
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
    let disk = match run_disk::prepare() {
        Ok(path) => Some(path),
        Err(error) => {
            println!("warning: booting without the run disk: {error:#}");
            None
        }
    };
    if disk.is_some() {
        println!("/dev/vda holds ext4 with Debian's dash, coreutils, lua5.4, sqlite3, python3.13:");
        println!("    mount -t ext4 /dev/vda /mnt && chroot /mnt /bin/dash");
    }
    let boot = Boot {
        kernel: &kernel,
        smp: args.smp,
        append: &args.append,
        console,
        wait_for_gdb,
        initrd: initramfs.as_deref(),
    };
    let mut command = boot.command();
    if let Some(disk) = &disk {
        qemu::add_drives(&mut command, &[qemu::Drive { path: disk.clone(), read_only: false }]);
    }
    if console == Console::Headless {
        command.stdin(std::process::Stdio::null());
    }
    let status = shell::run(&mut command)?;
    let code = status.code().unwrap_or(1);
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}

/// Boots Debian's Linux with the test initramfs attached to our stdio: /init starts a
/// shell unless `--append` names a test (`coros_test=NAME`).
fn run_linux(args: &BootArgs) -> Result<ExitCode> {
    prereqs::ensure(Need::Base, false)?;
    let image = user_harness::prepare_linux()?;
    let initramfs = user_harness::prepare_initramfs()?;
    let console = Console::detect();
    if console == Console::Terminal {
        println!("(Ctrl-A X quits QEMU; `poweroff -f` in the shell powers off)");
    }
    let append = format!("console=ttyS0 rdinit=/init {}", args.append);
    let boot = Boot {
        kernel: &image,
        smp: args.smp,
        append: append.trim_end(),
        console,
        wait_for_gdb: false,
        initrd: Some(&initramfs),
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
