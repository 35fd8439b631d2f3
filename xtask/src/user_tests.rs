//! The table of user-level (oracle) tests, and how their outputs are compared.
//!
//! Each [`UserTest`] is a shell command that the initramfs' `/init` runs. The same
//! initramfs boots Debian's Linux 6.12 (the reference) and coros, each with the kernel
//! command line [`append`]`(NAME)` = `console=ttyS0 rdinit=/init quiet coros_test=NAME`.
//!
//! The /init protocol (see `initramfs::INIT`):
//! * The test name reaches /init as the environment variable `coros_test`: Linux passes
//!   every unknown `key=value` word of its command line (one without a `.` in the key)
//!   to init's environment, and plain `key` words as arguments. When the variable is
//!   absent, /init reads `/proc/cmdline` instead. coros must do one of the two.
//! * /init prints `coros-init: up` first (a shell builtin: only `execve` of the script
//!   through `#!/bin/busybox sh` and `write` to fd 1 are needed), mounts proc, sysfs,
//!   devtmpfs and tmpfs where it can, then prints `=== begin NAME ===`, runs
//!   `/etc/coros-tests/NAME` with `env -i HOME=/root TERM=linux PATH=...` and stdin from
//!   /dev/null, prints `=== end NAME: exit STATUS ===` and runs `poweroff -f`.
//! * The test passes when both kernels print the same lines between the markers
//!   (carriage returns removed) and the same exit status, and Linux's status is the one
//!   the table expects. Output outside the markers (boot logs) is never compared.

use std::time::Duration;

use crate::initramfs::TEST_VARIABLE;

/// One user-level test.
#[derive(Debug, Clone, Copy)]
pub struct UserTest {
    pub name: &'static str,
    /// The shell script /init runs (with `/bin/sh`).
    pub command: &'static str,
    /// The exit status the command has on Linux.
    pub exit_status: i32,
    /// Each boot (Linux's, coros') is killed, and fails, after this long.
    pub timeout: Duration,
    /// Known gaps of coros: output lines starting with one of these prefixes are left
    /// out of the comparison (on both sides), with the reason shown in the result line.
    /// Everything else must still match, so the rest of the test keeps guarding.
    pub known_gaps: &'static [&'static str],
    /// Why those lines differ (which issue will close the gap).
    pub gap_reason: &'static str,
    /// Harts both kernels boot with; 0: [`user_test_smp`] (one, unless overridden).
    pub harts: usize,
}

impl UserTest {
    /// `section` without the lines this test's known gaps cover.
    pub fn without_gaps(&self, section: &Section) -> Section {
        let body = section
            .body
            .lines()
            .filter(|line| !self.known_gaps.iter().any(|prefix| line.starts_with(prefix)))
            .map(|line| format!("{line}\n"))
            .collect();
        Section { body, status: section.status }
    }
}

/// Harts for user-level test boots (both kernels), unless `COROS_TEST_SMP` says otherwise.
pub const USER_TEST_SMP: usize = 1;

/// The harts user-level and disk tests boot with: `COROS_TEST_SMP=N` overrides
/// [`USER_TEST_SMP`] (for chasing multi-hart bugs with the whole test set).
pub fn user_test_smp() -> usize {
    std::env::var("COROS_TEST_SMP").ok().and_then(|value| value.parse().ok()).filter(|&n| (1..=8).contains(&n)).unwrap_or(USER_TEST_SMP)
}

/// Whether coros is required to run user space. While false, a coros boot in which
/// `/init` never prints its first line is a skip (`coros has no user space yet`), not a
/// failure; set it to true once coros runs `/init`, so a regression cannot hide as a skip.
pub const REQUIRE_COROS_USER_SPACE: bool = true;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Every user-level test, in the order they are started.
pub const USER_TESTS: &[UserTest] = &[
    UserTest {
        name: "shell-builtins",
        command: "echo hello from busybox sh\n\
                  echo $((6 * 7))\n\
                  x=abc; echo ${#x} ${x#a}\n\
                  for i in 1 2 3; do printf '%s.' $i; done; echo\n\
                  [ -d /etc ] && echo etc is a directory",
        exit_status: 0,
        timeout: DEFAULT_TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: 0,
    },
    UserTest {
        name: "busybox-applets",
        command: "ls -1 /\n\
                  cat /etc/passwd\n\
                  uname -s -m\n\
                  mkdir -p /tmp/t/a && echo data > /tmp/t/a/f && cat /tmp/t/a/f && wc -c /tmp/t/a/f\n\
                  ln -s a /tmp/t/link && readlink /tmp/t/link && ls /tmp/t/link\n\
                  seq 1 10 | sort -rn | head -n 3 | tr '\\n' ' '; echo\n\
                  echo 'b a c' | tr ' ' '\\n' | sort | uniq | xargs echo\n\
                  echo hello world | sed 's/world/coros/' | awk '{ print NF, $2 }'\n\
                  printf 'x\\ny\\n' | md5sum\n\
                  rm -r /tmp/t && ls /tmp",
        exit_status: 0,
        timeout: DEFAULT_TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: 0,
    },
    UserTest {
        name: "exit-status",
        command: "sh -c 'exit 3'; echo \"child exit $?\"\n\
                  false || echo \"false gave $?\"\n\
                  (exit 7)",
        exit_status: 7,
        timeout: DEFAULT_TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: 0,
    },
    UserTest {
        name: "coros-hello",
        command: "coros-hello one 'two words' three",
        exit_status: 0,
        timeout: DEFAULT_TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: 0,
    },
    UserTest {
        name: "syscall-smoke",
        command: "syscall-smoke",
        exit_status: 0,
        timeout: DEFAULT_TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: 0,
    },
    UserTest {
        name: "elf-layouts",
        // (The loader's shared_page.elf fixture is not run: its segments share one
        // page with different permissions; Linux maps the second over the first and the
        // program dies of SIGSEGV, coros merges them. The loader tests cover it.)
        command: "/usr/bin/static_pie.elf; echo \"static-pie exit $?\"\n\
                  /usr/bin/data_bss.elf; echo \"unaligned data exit $?\"",
        exit_status: 0,
        timeout: DEFAULT_TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: 0,
    },
];

/// The kernel command line of a user-level test (the same for both kernels).
pub fn append(name: &str) -> String {
    format!("console=ttyS0 rdinit=/init quiet {TEST_VARIABLE}={name}")
}

/// The line /init prints before running the test.
pub fn begin_marker(name: &str) -> String {
    format!("=== begin {name} ===")
}

/// What a test printed between the markers, and its exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The lines between the markers, each ending in `\n`, carriage returns removed.
    pub body: String,
    pub status: i32,
}

/// Finds the `=== begin NAME ===` … `=== end NAME: exit N ===` section of `output`.
pub fn extract_section(output: &str, name: &str) -> Result<Section, String> {
    let begin = begin_marker(name);
    let end_prefix = format!("=== end {name}: exit ");
    let mut lines = output.split('\n').map(|line| line.trim_end_matches('\r'));
    if !lines.by_ref().any(|line| line == begin) {
        return Err(format!("`{begin}` not in the output"));
    }
    let mut body = String::new();
    for line in lines {
        if let Some(rest) = line.strip_prefix(&end_prefix) {
            let status = rest
                .strip_suffix(" ===")
                .and_then(|status| status.parse::<i32>().ok())
                .ok_or_else(|| format!("malformed end marker `{line}`"))?;
            return Ok(Section { body, status });
        }
        body.push_str(line);
        body.push('\n');
    }
    Err(format!(
        "`{begin}` printed, but no `{end_prefix}N ===` after it"
    ))
}

/// Judges Linux's run of `test` on its own: the section is there with the expected status.
pub fn check_reference(test: &UserTest, output: &str) -> Result<Section, String> {
    let section = extract_section(output, test.name)?;
    if section.status != test.exit_status {
        return Err(format!(
            "exit status {} on Linux, the table expects {}",
            section.status, test.exit_status
        ));
    }
    Ok(section)
}

/// Compares coros' section with Linux's: `Err` holds a readable difference.
pub fn compare(reference: &Section, coros: &Section) -> Result<(), String> {
    if reference == coros {
        return Ok(());
    }
    let mut text = String::new();
    if reference.status != coros.status {
        text.push_str(&format!(
            "exit status {} on coros, {} on Linux\n",
            coros.status, reference.status
        ));
    }
    if reference.body != coros.body {
        text.push_str("output differs (- Linux, + coros):\n");
        text.push_str(&line_diff(&reference.body, &coros.body));
    }
    Err(text)
}

/// A small line diff (longest common subsequence): ` ` same, `-` only in `old`, `+`
/// only in `new`.
pub fn line_diff(old: &str, new: &str) -> String {
    let old: Vec<&str> = old.lines().collect();
    let new: Vec<&str> = new.lines().collect();
    // Outputs are small; cap the table so a runaway output cannot eat the machine.
    if old.len() * new.len() > 4_000_000 {
        return format!(
            "({} lines vs {} lines: too long to diff)\n",
            old.len(),
            new.len()
        );
    }
    let mut common = vec![vec![0u32; new.len() + 1]; old.len() + 1];
    for i in (0..old.len()).rev() {
        for j in (0..new.len()).rev() {
            common[i][j] = if old[i] == new[j] {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < old.len() || j < new.len() {
        if i < old.len() && j < new.len() && old[i] == new[j] {
            out.push_str(&format!("  {}\n", old[i]));
            i += 1;
            j += 1;
        } else if i < old.len() && (j == new.len() || common[i + 1][j] >= common[i][j + 1]) {
            out.push_str(&format!("- {}\n", old[i]));
            i += 1;
        } else {
            out.push_str(&format!("+ {}\n", new[j]));
            j += 1;
        }
    }
    out
}

/// Every user-level test: the basic table above, the Linux-ABI programs of `user/`
/// (one group per system-call family), the busybox workloads, Debian's dynamically
/// linked programs and the four-hart group.
pub fn all() -> impl Iterator<Item = &'static UserTest> {
    USER_TESTS
        .iter()
        .chain(crate::user_tests_abi::ABI_TESTS)
        .chain(crate::user_tests_busybox::BUSYBOX_TESTS)
        .chain(crate::user_tests_dynamic::DYNAMIC_TESTS)
        .chain(crate::user_tests_smp::SMP_TESTS)
}

/// The tests whose name contains `filter`.
pub fn select(filter: Option<&str>) -> Vec<&'static UserTest> {
    all().filter(|test| filter.is_none_or(|filter| test.name.contains(filter))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINUX: &str = "\
[    0.000000] Linux version 6.12\r\n\
coros-init: up\r\n\
=== begin demo ===\r\n\
hello\r\n\
\r\n\
world\r\n\
=== end demo: exit 3 ===\r\n\
[    1.2] reboot: Power down\r\n";

    #[test]
    fn section_between_markers() {
        let section = extract_section(LINUX, "demo").unwrap();
        assert_eq!(section.body, "hello\n\nworld\n");
        assert_eq!(section.status, 3);
        // Same text with plain newlines (coros) gives the same section.
        assert_eq!(
            extract_section(&LINUX.replace('\r', ""), "demo").unwrap(),
            section
        );
    }

    #[test]
    fn missing_or_broken_markers() {
        assert_eq!(
            extract_section("boot\n", "demo").unwrap_err(),
            "`=== begin demo ===` not in the output"
        );
        let cut = "=== begin demo ===\nhello\n";
        assert!(extract_section(cut, "demo")
            .unwrap_err()
            .contains("no `=== end demo: exit N ===`"));
        let bad = "=== begin demo ===\n=== end demo: exit x ===\n";
        assert!(extract_section(bad, "demo")
            .unwrap_err()
            .contains("malformed"));
        // Another test's markers do not count.
        assert!(
            extract_section("=== begin demo2 ===\n=== end demo2: exit 0 ===\n", "demo").is_err()
        );
        let empty =
            extract_section("=== begin demo ===\n=== end demo: exit 0 ===\n", "demo").unwrap();
        assert_eq!(
            empty,
            Section {
                body: String::new(),
                status: 0
            }
        );
    }

    #[test]
    fn reference_status_is_checked() {
        let test = UserTest {
            name: "demo",
            command: "",
            exit_status: 0,
            timeout: DEFAULT_TIMEOUT,
            known_gaps: &[],
            gap_reason: "",
            harts: 0,
        };
        assert!(check_reference(&test, LINUX)
            .unwrap_err()
            .contains("exit status 3 on Linux"));
        let test = UserTest {
            exit_status: 3,
            ..test
        };
        assert!(check_reference(&test, LINUX).is_ok());
    }

    #[test]
    fn comparison_shows_a_diff() {
        let linux = Section {
            body: "a\nb\nc\n".into(),
            status: 0,
        };
        assert_eq!(compare(&linux, &linux.clone()), Ok(()));
        let coros = Section {
            body: "a\nB\nc\nd\n".into(),
            status: 1,
        };
        let error = compare(&linux, &coros).unwrap_err();
        assert!(
            error.starts_with("exit status 1 on coros, 0 on Linux\n"),
            "{error}"
        );
        assert!(error.ends_with("  a\n- b\n+ B\n  c\n+ d\n"), "{error}");
    }

    #[test]
    fn table_is_sane() {
        let mut names: Vec<&str> = all().map(|test| test.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all().count(), "names are unique");
        for test in all() {
            let plain = test
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            assert!(
                plain,
                "{}: a name must be a plain word (it goes on the command line)",
                test.name
            );
        }
        assert_eq!(append("x"), "console=ttyS0 rdinit=/init quiet coros_test=x");
        assert_eq!(select(Some("smoke")).len(), 1);
    }
}
