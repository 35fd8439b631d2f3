//! Starting QEMU: the one place that knows the `qemu-system-riscv64` command line, and
//! the captured runner that the test harness uses (output collected, hard timeout).
//!
//! Why one place: `run`, `demo`, `debug` and every QEMU test must boot the kernel the
//! same way (machine, firmware, memory, cmdline), differing only in how the console is
//! attached. Tests never touch a terminal: the serial port goes to a pipe, stdin is
//! /dev/null, and a run that outlives its timeout is killed and reaped (no orphans).

use std::io::{IsTerminal, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use wait_timeout::ChildExt;

use crate::shell;

pub const QEMU: &str = "qemu-system-riscv64";
/// Guest memory for every run.
pub const MEMORY: &str = "256M";
/// The gdb stub port QEMU's `-s` opens.
pub const GDB_PORT: u16 = 1234;

/// How the guest console is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Console {
    /// `-nographic`: serial and monitor multiplexed on our terminal (Ctrl-A X quits).
    Terminal,
    /// `-display none -serial stdio -monitor none`: serial only, no terminal needed.
    Headless,
}

impl Console {
    /// A terminal console when stdin and stdout are terminals, else headless.
    pub fn detect() -> Console {
        if std::io::stdin().is_terminal() && shell::stdout_is_terminal() {
            Console::Terminal
        } else {
            Console::Headless
        }
    }
}

/// One way of booting the kernel.
#[derive(Debug, Clone)]
pub struct Boot<'a> {
    pub kernel: &'a Path,
    pub smp: usize,
    /// The kernel command line; omitted from QEMU's arguments when empty.
    pub append: &'a str,
    pub console: Console,
    /// Start halted with a gdb stub on [`GDB_PORT`] (`-s -S`).
    pub wait_for_gdb: bool,
    /// An initramfs (`-initrd`), e.g. `target/initramfs.cpio`.
    pub initrd: Option<&'a Path>,
}

impl Boot<'_> {
    /// The QEMU command for this boot (stdio not yet configured).
    pub fn command(&self) -> Command {
        // Run from the repository root so the kernel path can be shown relative to it.
        let root = shell::repo_root();
        let kernel = self.kernel.strip_prefix(&root).unwrap_or(self.kernel);
        let mut command = Command::new(QEMU);
        command
            .current_dir(&root)
            .args(["-machine", "virt", "-bios", "default", "-m", MEMORY])
            .arg("-smp")
            .arg(self.smp.to_string())
            .arg("-kernel")
            .arg(kernel);
        if let Some(initrd) = self.initrd {
            command
                .arg("-initrd")
                .arg(initrd.strip_prefix(&root).unwrap_or(initrd));
        }
        if !self.append.is_empty() {
            command.args(["-append", self.append]);
        }
        match self.console {
            Console::Terminal => command.arg("-nographic"),
            Console::Headless => {
                command.args(["-display", "none", "-serial", "stdio", "-monitor", "none"])
            }
        };
        if self.wait_for_gdb {
            command.args(["-s", "-S"]);
        }
        command
    }

    /// Boots with the console on our own stdio and waits; returns QEMU's exit code
    /// (128 + signal number when it was killed by a signal).
    pub fn run_attached(&self) -> Result<i32> {
        let mut command = self.command();
        if self.console == Console::Headless {
            command.stdin(Stdio::null());
        }
        let status = shell::run(&mut command)?;
        Ok(status
            .code()
            .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
    }
}

/// How a captured run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// QEMU exited with this status.
    Exited(i32),
    /// QEMU was killed by a signal we did not send.
    Signaled(i32),
    /// The run outlived its timeout and we killed it.
    TimedOut,
}

/// The result of a captured run.
#[derive(Debug, Clone)]
pub struct Captured {
    /// The guest's serial output.
    pub stdout: String,
    /// QEMU's own messages.
    pub stderr: String,
    pub ending: Ending,
    pub elapsed: Duration,
}

/// Runs a QEMU command headless with its output captured, killing it after `timeout`.
/// The command is not echoed (the harness prints its own line per test).
pub fn run_captured(mut command: Command, timeout: Duration) -> Result<Captured> {
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start `{}`", shell::render(&command)))?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let ending = wait_or_kill(&mut child, timeout)?;
    let elapsed = started.elapsed();
    Ok(Captured {
        stdout: collect(stdout),
        stderr: collect(stderr),
        ending,
        elapsed,
    })
}

/// Runs a QEMU command headless like [`run_captured`], but kills it as soon as the
/// guest's serial output contains `marker` (a power cut at a moment the guest chose).
/// Returns the run and whether the marker was seen (then the ending is `Signaled(9)`).
pub fn run_until(mut command: Command, marker: &str, timeout: Duration) -> Result<(Captured, bool)> {
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start `{}`", shell::render(&command)))?;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let reader = child.stdout.take().map(|mut pipe| {
        let seen = seen.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(count @ 1..) = pipe.read(&mut chunk) {
                seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).extend_from_slice(&chunk[..count]);
            }
        })
    });
    let stderr = drain(child.stderr.take());
    let contains_marker = || String::from_utf8_lossy(&seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner())).contains(marker);
    let (ending, marked) = loop {
        if contains_marker() {
            let _ = child.kill();
            let status = child.wait().context("reaping the killed QEMU")?;
            break (Ending::Signaled(status.signal().unwrap_or(9)), true);
        }
        if let Some(status) = child.try_wait().context("waiting for QEMU")? {
            let ending = match status.code() {
                Some(code) => Ending::Exited(code),
                None => Ending::Signaled(status.signal().unwrap_or(0)),
            };
            break (ending, false);
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            child.wait().context("reaping the killed QEMU")?;
            break (Ending::TimedOut, false);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if let Some(reader) = reader {
        let _ = reader.join();
    }
    let stdout = String::from_utf8_lossy(&seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner())).into_owned();
    Ok((Captured { stdout, stderr: collect(stderr), ending, elapsed: started.elapsed() }, marked || contains_marker()))
}

fn wait_or_kill(child: &mut Child, timeout: Duration) -> Result<Ending> {
    if let Some(status) = child.wait_timeout(timeout).context("waiting for QEMU")? {
        return Ok(match status.code() {
            Some(code) => Ending::Exited(code),
            None => Ending::Signaled(status.signal().unwrap_or(0)),
        });
    }
    // Still running: kill it and reap it so no QEMU outlives the harness.
    let _ = child.kill();
    child.wait().context("reaping the killed QEMU")?;
    Ok(Ending::TimedOut)
}

/// Reads a pipe to its end on a thread (so a chatty guest never blocks on a full pipe).
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> Option<JoinHandle<Vec<u8>>> {
    pipe.map(|mut pipe| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    })
}

fn collect(reader: Option<JoinHandle<Vec<u8>>>) -> String {
    let bytes = reader
        .and_then(|handle| handle.join().ok())
        .unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headless_test_command_line() {
        let boot = Boot {
            kernel: Path::new("target/kernel.elf"),
            smp: 4,
            append: "test=rtc",
            console: Console::Headless,
            wait_for_gdb: false,
            initrd: None,
        };
        assert_eq!(
            shell::render(&boot.command()),
            "qemu-system-riscv64 -machine virt -bios default -m 256M -smp 4 \
             -kernel target/kernel.elf -append test=rtc -display none -serial stdio -monitor none"
        );
    }

    #[test]
    fn debug_command_line_without_append() {
        let boot = Boot {
            kernel: Path::new("k.elf"),
            smp: 1,
            append: "",
            console: Console::Terminal,
            wait_for_gdb: true,
            initrd: Some(Path::new("target/initramfs.cpio")),
        };
        assert_eq!(
            shell::render(&boot.command()),
            "qemu-system-riscv64 -machine virt -bios default -m 256M -smp 1 -kernel k.elf \
             -initrd target/initramfs.cpio -nographic -s -S"
        );
    }

    #[test]
    fn captured_run_collects_output_and_exit_code() {
        let mut command = Command::new("sh");
        command.args(["-c", "echo serial; echo oops >&2; exit 3"]);
        let run = run_captured(command, Duration::from_secs(10)).unwrap();
        assert_eq!(run.stdout, "serial\n");
        assert_eq!(run.stderr, "oops\n");
        assert_eq!(run.ending, Ending::Exited(3));
    }

    #[test]
    fn captured_run_is_killed_at_its_timeout() {
        let mut command = Command::new("sh");
        // `exec` so the shell itself is the sleeping process we kill.
        command.args(["-c", "echo before; exec sleep 30"]);
        let run = run_captured(command, Duration::from_millis(300)).unwrap();
        assert_eq!(run.ending, Ending::TimedOut);
        assert_eq!(run.stdout, "before\n");
        assert!(run.elapsed < Duration::from_secs(10));
    }
}

/// A disk image attached as a virtio-blk device (`/dev/vdX` in attachment order).
#[derive(Debug, Clone)]
pub struct Drive {
    pub path: std::path::PathBuf,
    pub read_only: bool,
}

/// Attaches `drives` to a QEMU command, as virtio-blk devices on virtio-mmio (modern
/// transport). QEMU fills the virtio-mmio slots from the highest address down, and the
/// guest names disks in ascending address order (as Linux does), so the drives are
/// given in reverse to make the first one `vda`.
pub fn add_drives(command: &mut Command, drives: &[Drive]) {
    command.args(["-global", "virtio-mmio.force-legacy=false"]);
    for (index, drive) in drives.iter().enumerate().rev() {
        let mut spec = format!("file={},if=none,format=raw,id=disk{index}", drive.path.display());
        if drive.read_only {
            spec.push_str(",readonly=on");
        }
        command.arg("-drive").arg(spec);
        command.arg("-device").arg(format!("virtio-blk-device,drive=disk{index}"));
    }
}
