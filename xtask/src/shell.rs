//! Running external commands the same way everywhere: every command xtask starts is
//! echoed first (`$ cargo build ...`, dimmed on a terminal) so a log shows exactly what
//! ran, and the repository paths every subcommand needs are computed here once.
//!
//! Why: xtask is a thin driver over cargo, rustup, apt-get and QEMU; when something goes
//! wrong the user should be able to copy the printed command and rerun it by hand.

use std::ffi::OsStr;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::{Command, ExitStatus};

use anyhow::{Context, Result};

/// The workspace root (the directory holding the top-level `Cargo.toml`).
pub fn repo_root() -> PathBuf {
    let xtask_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    xtask_dir
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// Cargo's target directory: `$CARGO_TARGET_DIR` when set, else `<root>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => repo_root().join(dir),
        None => repo_root().join("target"),
    }
}

/// A `cargo` command for the toolchain that runs xtask (`$CARGO`, set by `cargo run`),
/// started at the workspace root.
pub fn cargo() -> Command {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(program);
    command.current_dir(repo_root());
    command
}

/// Whether our standard output is a terminal (decides colours and QEMU's console mode).
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// Prints `$ program args...` (with any environment variables the command sets), dimmed
/// when standard output is a terminal.
pub fn echo(command: &Command) {
    let line = render(command);
    let mut out = std::io::stdout().lock();
    if stdout_is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        let _ = writeln!(out, "\x1b[2m$ {line}\x1b[0m");
    } else {
        let _ = writeln!(out, "$ {line}");
    }
    let _ = out.flush();
}

/// Renders a command as a shell line a user could paste.
pub fn render(command: &Command) -> String {
    let mut words: Vec<String> = Vec::new();
    for (key, value) in command.get_envs() {
        if let Some(value) = value {
            words.push(format!("{}={}", key.to_string_lossy(), quote(value)));
        }
    }
    let program = command.get_program().to_string_lossy();
    // `$CARGO` is an absolute path into the toolchain; `cargo` reads better.
    let program = match program.rsplit('/').next() {
        Some("cargo") => "cargo".to_string(),
        _ => program.into_owned(),
    };
    words.push(program);
    words.extend(command.get_args().map(quote));
    words.join(" ")
}

/// Quotes a word for a POSIX shell when it needs it.
fn quote(word: &OsStr) -> String {
    let word = word.to_string_lossy();
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.into_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Echoes and runs a command with inherited stdio, returning its exit status.
pub fn run(command: &mut Command) -> Result<ExitStatus> {
    echo(command);
    command
        .status()
        .with_context(|| format!("could not start `{}`", render(command)))
}

/// Echoes and runs a command; an unsuccessful exit is an error.
pub fn run_checked(command: &mut Command) -> Result<()> {
    let status = run(command)?;
    anyhow::ensure!(status.success(), "`{}` failed ({status})", render(command));
    Ok(())
}

/// Kills (SIGKILL) the process `root` and all its descendants, found through `/proc`.
/// For commands such as `cargo test` whose children would otherwise outlive them.
pub fn kill_tree(root: u32) {
    let mut tree = vec![root];
    let parents = process_parents();
    let mut index = 0;
    while index < tree.len() {
        let parent = tree[index];
        tree.extend(
            parents
                .iter()
                .filter(|(_, ppid)| *ppid == parent)
                .map(|(pid, _)| *pid),
        );
        index += 1;
    }
    let _ = Command::new("kill")
        .arg("-KILL")
        .args(tree.iter().map(u32::to_string))
        .status();
}

/// (pid, parent pid) of every process, from `/proc/<pid>/stat`.
fn process_parents() -> Vec<(u32, u32)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| {
            let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // `pid (comm) state ppid ...`; comm may contain spaces and parentheses.
            let after_comm = &stat[stat.rfind(')')? + 1..];
            let ppid = after_comm.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kill_tree_kills_grandchildren() {
        // sh starts a sleeping grandchild and waits; killing the tree ends both.
        let mut child = Command::new("sh")
            .args(["-c", "sleep 30 & echo $!; wait"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
        let grandchild: u32 = line.trim().parse().unwrap();
        kill_tree(child.id());
        child.wait().unwrap();
        // Once the sleeper is gone (killed and reaped by init), its /proc entry vanishes.
        let gone = (0..100).any(|_| {
            let stat = std::fs::read_to_string(format!("/proc/{grandchild}/stat"));
            let dead = stat.map_or(true, |stat| stat.contains(") Z "));
            if !dead {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            dead
        });
        assert!(gone, "grandchild {grandchild} survived");
    }

    #[test]
    fn render_quotes_only_what_needs_it() {
        let mut command = Command::new("qemu-system-riscv64");
        command.args(["-smp", "4", "-append", "log=info demo", "-kernel", "a'b"]);
        assert_eq!(
            render(&command),
            r"qemu-system-riscv64 -smp 4 -append 'log=info demo' -kernel 'a'\''b'"
        );
    }

    #[test]
    fn render_shows_environment_and_short_cargo() {
        let mut command = Command::new("/home/u/.rustup/toolchains/x/bin/cargo");
        command
            .env("MIRIFLAGS", "-Zmiri-disable-isolation")
            .arg("test");
        assert_eq!(
            render(&command),
            "MIRIFLAGS=-Zmiri-disable-isolation cargo test"
        );
    }
}
