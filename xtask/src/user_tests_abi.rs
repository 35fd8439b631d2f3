//! User-level tests: the project's Linux-ABI test programs (user/), one group per system-call family, each run on Linux 6.12 and on coros with the same initramfs; outputs must match.

use crate::user_tests::UserTest;

/// The tests of this group.
pub const ABI_TESTS: &[UserTest] = &[];
