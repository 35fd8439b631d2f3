//! User-level tests: the project's Linux-ABI test programs (user/), one group per system-call family, each run on Linux 6.12 and on coros with the same initramfs; outputs must match.
//!
//! Each program (`user/abi-*`) prints one `check: value` line per check — normal behaviour
//! and error paths by errno name — and exits 0; Linux's output is the specification.

use std::time::Duration;

use crate::user_tests::UserTest;

/// The timeout of an ordinary ABI program (both kernels finish in seconds).
const TIMEOUT: Duration = Duration::from_secs(60);
/// The stress program forks hundreds of processes: give a slow kernel more room.
const STRESS_TIMEOUT: Duration = Duration::from_secs(120);

/// The tests of this group.
pub const ABI_TESTS: &[UserTest] = &[
    UserTest {
        name: "abi-files",
        command: "/usr/bin/abi-files",
        exit_status: 0,
        timeout: TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: 0,
    },
    UserTest {
        name: "abi-process",
        command: "/usr/bin/abi-process",
        exit_status: 0,
        timeout: TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: 0,
    },
    UserTest {
        name: "abi-signals",
        command: "/usr/bin/abi-signals",
        exit_status: 0,
        timeout: TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: 0,
    },
    UserTest {
        name: "abi-memory",
        command: "/usr/bin/abi-memory",
        exit_status: 0,
        timeout: TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: 0,
    },
    UserTest {
        name: "abi-mmap-file",
        command: "/usr/bin/abi-mmap-file",
        exit_status: 0,
        timeout: TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: 0,
    },
    UserTest {
        name: "abi-time",
        command: "/usr/bin/abi-time",
        exit_status: 0,
        timeout: TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: 0,
    },
    UserTest {
        name: "abi-threads",
        command: "/usr/bin/abi-threads",
        exit_status: 0,
        timeout: TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: 0,
    },
    UserTest {
        name: "abi-pipes-poll",
        command: "/usr/bin/abi-pipes-poll",
        exit_status: 0,
        timeout: TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: 0,
    },
    UserTest {
        name: "abi-stress",
        command: "/usr/bin/abi-stress",
        exit_status: 0,
        timeout: STRESS_TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: 0,
    },
];
