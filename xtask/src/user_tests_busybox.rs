//! User-level tests: busybox workloads (shell scripting and applets), each run on Linux 6.12 and on coros with the same initramfs; outputs must match.

use crate::user_tests::UserTest;

/// The tests of this group.
pub const BUSYBOX_TESTS: &[UserTest] = &[];
