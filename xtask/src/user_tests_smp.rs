//! User-level tests on four harts: processes and threads that run, fork, exec, exit and
//! unmap memory at the same time on different harts. Each is a regression test: a hart
//! used to keep running kernel code on the page table of a process that had exited on
//! another hart (its freed root table then came back as someone else's page), which
//! corrupted kernel memory after a few hundred forks; and a frame freed by one hart was
//! reused while another hart's TLB could still reach it. Outputs must match Linux 6.12
//! booted with the same four harts.

use std::time::Duration;

use crate::user_tests::UserTest;

const TIMEOUT: Duration = Duration::from_secs(180);

/// Harts these tests boot with (both kernels).
const HARTS: usize = 4;

/// The tests of this group.
pub const SMP_TESTS: &[UserTest] = &[
    UserTest {
        name: "smp-process-churn",
        command: r##"
cd /tmp || exit 1
work() {
    i=0; n=0
    while [ $i -lt 100 ]; do
        v=$(echo "$1.$i"); /bin/true; n=$((n + ${#v})); i=$((i + 1))
    done
    echo "worker $1: $n" > "w$1"
}
for k in 1 2 3 4 5 6; do work $k & done; wait
cat w1 w2 w3 w4 w5 w6
seq 1 10000 | sort -rn | sort -n | md5sum > a & seq 1 10000 | gzip -c | gunzip -c | md5sum > b &
yes abcdefgh | head -c 500000 | md5sum > c & wait
cat a b c
echo done
"##,
        exit_status: 0,
        timeout: TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: HARTS,
    },
    UserTest {
        name: "smp-abi-stress",
        command: "/usr/bin/abi-stress",
        exit_status: 0,
        timeout: TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: HARTS,
    },
    UserTest {
        name: "smp-abi-threads",
        command: "/usr/bin/abi-threads",
        exit_status: 0,
        timeout: TIMEOUT,
        known_gaps: &["threads counted in /proc/self/status"],
        gap_reason: "timing, not a gap: on several harts a thread joined just before may still be exiting on another hart (Linux then counts 5)",
        harts: HARTS,
    },
    UserTest {
        name: "smp-dynamic",
        command: r##"
cd /tmp || exit 1
for k in 1 2 3 4; do
    /usr/bin/lua5.4 -e "local s = 0 for i = 1, 30000 do s = s + i * $k end print('lua $k', s)" > "l$k" &
    echo "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000) SELECT $k, sum(x) * $k FROM c;" | /usr/bin/sqlite3 > "s$k" &
    /usr/bin/dash -c "i=0; while [ \$i -lt 40 ]; do /usr/bin/cat < /dev/null; i=\$((i + 1)); done; echo dash $k \$i" > "d$k" &
done
wait
cat l1 l2 l3 l4 s1 s2 s3 s4 d1 d2 d3 d4
"##,
        exit_status: 0,
        timeout: TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: HARTS,
    },
];
