//! Counting passed and failed tests: the [`Tally`] every test layer reports, and the
//! parser for the `test result: ok. N passed; M failed; ...` lines libtest prints once
//! per test binary (unit tests, integration tests and doc-tests alike).
//!
//! Why parse text: `cargo test` has no stable machine-readable output, but this summary
//! line has been stable for years and is all the harness needs for its `N passed,
//! M failed` line.

use std::ops::AddAssign;

/// Passed and failed counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
}

impl Tally {
    pub fn passed(count: usize) -> Tally {
        Tally {
            passed: count,
            failed: 0,
        }
    }

    pub fn failed(count: usize) -> Tally {
        Tally {
            passed: 0,
            failed: count,
        }
    }
}

impl AddAssign for Tally {
    fn add_assign(&mut self, other: Tally) {
        self.passed += other.passed;
        self.failed += other.failed;
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} passed, {} failed", self.passed, self.failed)
    }
}

/// Parses one libtest summary line, e.g.
/// `test result: FAILED. 3 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; ...`.
pub fn parse_test_result(line: &str) -> Option<Tally> {
    let (_, rest) = line.split_once("test result: ")?;
    let (_, counts) = rest.split_once(". ")?;
    let (mut passed, mut failed) = (None, None);
    for part in counts.split(';') {
        let part = part.trim();
        if let Some(count) = part.strip_suffix(" passed") {
            passed = count.parse().ok();
        } else if let Some(count) = part.strip_suffix(" failed") {
            failed = count.parse().ok();
        }
    }
    Some(Tally {
        passed: passed?,
        failed: failed?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Adds up every summary line in `output`, as the harness does while streaming.
    fn sum_test_results(output: &str) -> Tally {
        let mut total = Tally::default();
        for tally in output.lines().filter_map(parse_test_result) {
            total += tally;
        }
        total
    }

    #[test]
    fn parses_ok_and_failed_lines() {
        assert_eq!(
            parse_test_result(
                "test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; \
                 finished in 0.02s"
            ),
            Some(Tally {
                passed: 12,
                failed: 0
            })
        );
        assert_eq!(
            parse_test_result(
                "test result: FAILED. 3 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out"
            ),
            Some(Tally {
                passed: 3,
                failed: 2
            })
        );
    }

    #[test]
    fn ignores_other_lines() {
        assert_eq!(parse_test_result("test foo::bar ... ok"), None);
        assert_eq!(parse_test_result("running 3 tests"), None);
        assert_eq!(parse_test_result("test result: garbage"), None);
    }

    #[test]
    fn sums_a_whole_cargo_test_run() {
        let output = "\
     Running unittests src/lib.rs (target/debug/deps/timer-0123)

running 2 tests
test a ... ok
test b ... FAILED

test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

     Running unittests src/main.rs (target/debug/deps/xtask-4567)

running 5 tests
test result: ok. 5 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s

   Doc-tests timer

running 0 tests

test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s
";
        assert_eq!(
            sum_test_results(output),
            Tally {
                passed: 6,
                failed: 1
            }
        );
        assert_eq!(sum_test_results(output).to_string(), "6 passed, 1 failed");
    }
}
