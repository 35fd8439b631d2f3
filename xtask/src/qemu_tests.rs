//! The table of QEMU integration tests, and how one run is judged.
//!
//! Why a table: adding a test is adding one entry (usually one `self_test!` line for a
//! kernel self-test `test=NAME`). Each entry boots the kernel with a command line, for
//! every listed hart count, and passes when the serial output contains the expected
//! lines in order, QEMU exits with the expected status before the timeout, and the
//! optional check function accepts the output.

use std::time::Duration;

use crate::qemu::{Captured, Ending};

/// A further check of a run's serial output: `Err` says what is wrong.
pub type OutputCheck = fn(&str) -> Result<(), String>;

/// One QEMU integration test.
#[derive(Debug, Clone, Copy)]
pub struct QemuTest {
    pub name: &'static str,
    /// The kernel command line.
    pub append: &'static str,
    /// The test runs once for each of these hart counts (`-smp`).
    pub smp: &'static [usize],
    /// Substrings that must appear in the serial output, in this order.
    pub expect: &'static [&'static str],
    /// QEMU's expected exit status (the kernel's power-off code; 101 after a panic).
    pub exit_code: i32,
    /// The run is killed, and fails, after this long.
    pub timeout: Duration,
    /// A further check of the serial output.
    pub check: Option<OutputCheck>,
}

/// QEMU's exit status after a kernel panic.
pub const PANIC_EXIT_CODE: i32 = 101;

/// A kernel self-test: `test=NAME` must print `test NAME ... ok` and power off cleanly.
macro_rules! self_test {
    ($name:literal) => {
        QemuTest {
            name: $name,
            append: concat!("test=", $name),
            smp: &[1, 4],
            expect: &[concat!("test ", $name, " ... ok")],
            exit_code: 0,
            timeout: Duration::from_secs(60),
            check: None,
        }
    };
}

/// Every QEMU test, in the order they are started.
pub const QEMU_TESTS: &[QemuTest] = &[
    QemuTest {
        name: "demo",
        append: "demo",
        smp: &[1, 4],
        expect: &["start task 1", "start task 2", "end task 1", "end task 2"],
        exit_code: 0,
        timeout: Duration::from_secs(30),
        check: Some(check_demo_timing),
    },
    QemuTest {
        name: "panic",
        append: "test=panic",
        smp: &[1],
        expect: &["panicked at", "deliberate panic", "scause=", "backtrace", "#0 "],
        exit_code: PANIC_EXIT_CODE,
        timeout: Duration::from_secs(30),
        check: None,
    },
    QemuTest {
        name: "kernel-fault",
        append: "test=fault",
        smp: &[1, 4],
        expect: &["panicked at", "load page fault", "stval=0x10", "backtrace", "#0 "],
        exit_code: PANIC_EXIT_CODE,
        timeout: Duration::from_secs(30),
        check: None,
    },
    QemuTest {
        name: "unknown-test",
        append: "test=no-such-test",
        smp: &[1],
        expect: &["error: unknown test `no-such-test`"],
        exit_code: 2,
        timeout: Duration::from_secs(30),
        check: None,
    },
    QemuTest {
        name: "bad-cmdline",
        append: "log=nonsense bogus=1 demo",
        smp: &[1],
        expect: &["warning: unknown log level `nonsense`", "warning: unknown option `bogus=1` is passed to init's environment", "end task 2"],
        exit_code: 0,
        timeout: Duration::from_secs(30),
        check: None,
    },
    self_test!("executor-spawn-join"),
    self_test!("executor-wake-count"),
    self_test!("executor-smp-steal"),
    self_test!("timer-sleep-order"),
    self_test!("timer-timeout"),
    self_test!("timer-no-idle-tick"),
    self_test!("page-table-wx"),
    self_test!("rtc"),
    QemuTest {
        name: "boot-race",
        append: "test=boot-race",
        smp: &[4],
        expect: &["boot-race: 4 of 4 harts online", "test boot-race ... ok"],
        exit_code: 0,
        timeout: Duration::from_secs(60),
        check: Some(check_single_boot),
    },
];

/// The kernel announced its boot exactly once (no second hart booted it again).
fn check_single_boot(output: &str) -> Result<(), String> {
    match output.matches("booting on hart").count() {
        1 => Ok(()),
        count => Err(format!("the kernel booted {count} times")),
    }
}

/// Judges one captured run of `test`: `Err` carries every reason it failed.
pub fn evaluate(test: &QemuTest, run: &Captured) -> Result<(), String> {
    let mut reasons = Vec::new();
    match run.ending {
        Ending::TimedOut => reasons.push(format!("timed out after {} s", test.timeout.as_secs())),
        Ending::Signaled(signal) => reasons.push(format!("QEMU killed by signal {signal}")),
        Ending::Exited(code) if code != test.exit_code => {
            reasons.push(format!("exit status {code}, expected {}", test.exit_code))
        }
        Ending::Exited(_) => {}
    }
    if let Err(reason) = find_in_order(&run.stdout, test.expect) {
        reasons.push(reason);
    } else if let Some(check) = test.check {
        // The check assumes the expected lines are there; only run it when they are.
        if let Err(reason) = check(&run.stdout) {
            reasons.push(reason);
        }
    }
    if reasons.is_empty() {
        Ok(())
    } else {
        Err(reasons.join("; "))
    }
}

/// Checks that `expected` all occur in `output`, each after the end of the previous one.
pub fn find_in_order(output: &str, expected: &[&str]) -> Result<(), String> {
    let mut from = 0;
    for (index, wanted) in expected.iter().enumerate() {
        match output[from..].find(wanted) {
            Some(offset) => from += offset + wanted.len(),
            None if index > 0 && output.contains(wanted) => {
                return Err(format!(
                    "`{wanted}` appears, but not after `{}`",
                    expected[index - 1]
                ))
            }
            None => return Err(format!("`{wanted}` not in the output")),
        }
    }
    Ok(())
}

/// The seed demo's timing: task 1 sleeps 200 ms and task 2 500 ms, so in guest time
/// `end task 1 - start task 1` must lie in [200 ms, 300 ms), `end task 2 - start task 2`
/// in [500 ms, 600 ms), and the events must come as start 1, start 2, end 1, end 2
/// (the two starts may share a microsecond tick; the rest strictly increase).
pub fn check_demo_timing(output: &str) -> Result<(), String> {
    let start1 = timestamp_of(output, "start task 1")?;
    let start2 = timestamp_of(output, "start task 2")?;
    let end1 = timestamp_of(output, "end task 1")?;
    let end2 = timestamp_of(output, "end task 2")?;
    if !(start1 <= start2 && start2 < end1 && end1 < end2) {
        return Err(format!(
            "demo events out of order: start1={} start2={} end1={} end2={}",
            show(start1),
            show(start2),
            show(end1),
            show(end2)
        ));
    }
    let within = |what: &str, micros: u64, low_ms: u64| {
        if (low_ms * 1000..(low_ms + 100) * 1000).contains(&micros) {
            Ok(())
        } else {
            Err(format!(
                "{what} took {:.3} ms, expected [{low_ms}, {}) ms",
                micros as f64 / 1000.0,
                low_ms + 100
            ))
        }
    };
    within("task 1", end1 - start1, 200)?;
    within("task 2", end2 - start2, 500)
}

fn show(micros: u64) -> String {
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

/// The guest time (µs) of the first line `[ seconds.micros] text`.
fn timestamp_of(output: &str, text: &str) -> Result<u64, String> {
    output
        .lines()
        .find_map(|line| {
            let (stamp, rest) = parse_stamped_line(line)?;
            (rest == text).then_some(stamp)
        })
        .ok_or_else(|| format!("no timestamped line `[ s.micros] {text}`"))
}

/// Splits `[  0.012345] text` into (12345 µs, "text").
pub fn parse_stamped_line(line: &str) -> Option<(u64, &str)> {
    let line = line.trim_end_matches(['\r', '\n']);
    let rest = line.strip_prefix('[')?;
    let (stamp, text) = rest.split_once(']')?;
    let (seconds, micros) = stamp.trim_start().split_once('.')?;
    if micros.len() != 6 || seconds.is_empty() {
        return None;
    }
    let seconds: u64 = seconds.parse().ok()?;
    let micros: u64 = micros.parse().ok()?;
    Some((
        seconds * 1_000_000 + micros,
        text.strip_prefix(' ').unwrap_or(text),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD_DEMO: &str = "\
OpenSBI v1.1\r\n\
[  0.012345] start task 1\r\n\
[  0.012400] start task 2\r\n\
[  0.212500] end task 1\r\n\
[  0.512600] end task 2\r\n";

    fn demo() -> &'static QemuTest {
        QEMU_TESTS.iter().find(|test| test.name == "demo").unwrap()
    }

    fn captured(stdout: &str, ending: Ending) -> Captured {
        Captured {
            stdout: stdout.to_string(),
            stderr: String::new(),
            ending,
            elapsed: Duration::from_millis(900),
        }
    }

    #[test]
    fn stamped_lines_parse() {
        assert_eq!(
            parse_stamped_line("[  0.012345] start task 1"),
            Some((12_345, "start task 1"))
        );
        assert_eq!(
            parse_stamped_line("[1234.000001] x\r"),
            Some((1_234_000_001, "x"))
        );
        assert_eq!(parse_stamped_line("[  0.01234] short"), None);
        assert_eq!(parse_stamped_line("no stamp"), None);
    }

    #[test]
    fn demo_check_accepts_good_output() {
        assert_eq!(check_demo_timing(GOOD_DEMO), Ok(()));
        assert_eq!(
            evaluate(demo(), &captured(GOOD_DEMO, Ending::Exited(0))),
            Ok(())
        );
    }

    #[test]
    fn demo_check_rejects_short_sleep() {
        let output = GOOD_DEMO.replace("0.212500", "0.112500");
        let error = check_demo_timing(&output).unwrap_err();
        assert!(error.contains("task 1 took 100.155 ms"), "{error}");
    }

    #[test]
    fn demo_check_rejects_long_sleep() {
        let output = GOOD_DEMO.replace("0.512600", "0.612400");
        let error = check_demo_timing(&output).unwrap_err();
        assert!(error.contains("task 2 took 600.000 ms"), "{error}");
    }

    #[test]
    fn demo_check_rejects_wrong_order() {
        let output = GOOD_DEMO.replace("0.012400] start task 2", "0.000001] start task 2");
        assert!(check_demo_timing(&output)
            .unwrap_err()
            .contains("out of order"));
    }

    #[test]
    fn demo_check_rejects_missing_stamp() {
        let output = GOOD_DEMO.replace("[  0.512600] end task 2", "end task 2");
        assert!(check_demo_timing(&output)
            .unwrap_err()
            .contains("end task 2"));
    }

    #[test]
    fn expected_lines_must_come_in_order() {
        let swapped = "[  0.1] end task 1\n[ 0.0] start task 1\nstart task 2\nend task 2\n";
        let error = evaluate(demo(), &captured(swapped, Ending::Exited(0))).unwrap_err();
        assert_eq!(error, "`end task 1` appears, but not after `start task 2`");
    }

    #[test]
    fn wrong_exit_status_and_timeout_are_failures() {
        let error = evaluate(demo(), &captured(GOOD_DEMO, Ending::Exited(101))).unwrap_err();
        assert_eq!(error, "exit status 101, expected 0");
        let error = evaluate(demo(), &captured("", Ending::TimedOut)).unwrap_err();
        assert_eq!(
            error,
            "timed out after 30 s; `start task 1` not in the output"
        );
    }

    #[test]
    fn self_tests_expect_their_ok_line() {
        let rtc = QEMU_TESTS.iter().find(|test| test.name == "rtc").unwrap();
        assert_eq!(rtc.append, "test=rtc");
        assert_eq!(rtc.expect, ["test rtc ... ok"]);
        assert_eq!(rtc.smp, [1, 4]);
        let run = captured("boot\ntest rtc ... ok\n", Ending::Exited(0));
        assert_eq!(evaluate(rtc, &run), Ok(()));
    }

    #[test]
    fn test_names_are_unique() {
        let mut names: Vec<&str> = QEMU_TESTS.iter().map(|test| test.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), QEMU_TESTS.len());
    }
}
