//! The concurrency sweep: N pairs of processes doing pipe ping-pong at once, N = 1, 2,
//! 4 ... 32, so N round trips are in flight. The figure is nanoseconds per round trip
//! over all pairs (elapsed time / total round trips): flat means the kernel's cost per
//! operation does not grow with the number of waiting tasks; falling (on several harts)
//! means the pairs run in parallel.
//!
//! Every process is forked and waiting before the clock starts (a `ready` pipe, then
//! one `go` byte each); the clock stops when every pair has written its `done` byte,
//! so forks, exits and reaping are outside the measurement.

use crate::report::{self, Counters, Unit, Window};

/// The numbers of pairs.
pub const PAIRS: [usize; 6] = [1, 2, 4, 8, 16, 32];

fn make_pipe() -> [i32; 2] {
    let mut fds = [0i32; 2];
    // SAFETY: an array of two ints.
    report::check(unsafe { libc::pipe(fds.as_mut_ptr()) } as _, "pipe");
    fds
}

fn read_bytes(fd: i32, count: usize) {
    let mut buffer = [0u8; 64];
    let mut got = 0;
    while got < count {
        let want = (count - got).min(buffer.len());
        // SAFETY: a valid buffer of at least `want` bytes.
        let n = unsafe { libc::read(fd, buffer.as_mut_ptr().cast(), want) };
        report::check(n as _, "read");
        if n == 0 {
            eprintln!("unexpected end of a pipe");
            std::process::exit(1);
        }
        got += n as usize;
    }
}

fn write_bytes(fd: i32, count: usize) {
    let buffer = [0u8; 64];
    assert!(count <= buffer.len());
    // SAFETY: a valid buffer; count <= PIPE_BUF, so the write is atomic and whole.
    report::check(unsafe { libc::write(fd, buffer.as_ptr().cast(), count) } as _, "write");
}

/// One side of a pair: `rounds` times send on `out` then receive on `input` (the
/// leader), or the other way round.
fn ping_pong(rounds: usize, input: i32, out: i32, leader: bool) {
    let mut byte = [0u8; 1];
    for _ in 0..rounds {
        // SAFETY: valid fds and one-byte buffers.
        unsafe {
            if leader {
                libc::write(out, byte.as_ptr().cast(), 1);
                libc::read(input, byte.as_mut_ptr().cast(), 1);
            } else {
                libc::read(input, byte.as_mut_ptr().cast(), 1);
                libc::write(out, byte.as_ptr().cast(), 1);
            }
        }
    }
}

/// Runs `pairs` pairs doing `rounds` round trips each; returns (elapsed ns, counters).
fn run_pairs(pairs: usize, rounds: usize, overhead: &Counters) -> (u64, Option<Counters>) {
    let (ready, go, done) = (make_pipe(), make_pipe(), make_pipe());
    let mut leaders = Vec::new();
    for _ in 0..pairs {
        // SAFETY: the child runs only this function's pair code, then _exits.
        let leader = unsafe { libc::fork() };
        report::check(leader as _, "fork");
        if leader == 0 {
            let (ping, pong) = (make_pipe(), make_pipe());
            // SAFETY: as above.
            let partner = unsafe { libc::fork() };
            report::check(partner as _, "fork");
            write_bytes(ready[1], 1);
            read_bytes(go[0], 1);
            if partner == 0 {
                ping_pong(rounds, ping[0], pong[1], false);
            } else {
                ping_pong(rounds, pong[0], ping[1], true);
                write_bytes(done[1], 1);
                // SAFETY: reaping our partner.
                unsafe { libc::waitpid(partner, std::ptr::null_mut(), 0) };
            }
            // SAFETY: leaving the child without running destructors.
            unsafe { libc::_exit(0) };
        }
        leaders.push(leader);
    }
    read_bytes(ready[0], 2 * pairs);
    let window = Window::open();
    let start = report::now();
    let mut left = 2 * pairs;
    while left > 0 {
        let now = left.min(64);
        write_bytes(go[1], now);
        left -= now;
    }
    read_bytes(done[0], pairs);
    let elapsed = report::now() - start;
    let counters = window.close(overhead);
    for leader in leaders {
        // SAFETY: reaping our children.
        unsafe { libc::waitpid(leader, std::ptr::null_mut(), 0) };
    }
    for fd in ready.iter().chain(&go).chain(&done) {
        // SAFETY: closing our own fds.
        unsafe { libc::close(*fd) };
    }
    (elapsed, counters)
}

/// The whole sweep: `round_trips` in all per step, split among the pairs. Names get
/// `suffix` (e.g. `-smp4`) so runs on several harts stay apart from the 1-hart ones.
pub fn run(round_trips: usize, suffix: &str, overhead: &Counters) {
    run_pairs(1, 10, overhead); // warm-up: pages of the code paths, pipe buffers
    for pairs in PAIRS {
        let rounds = (round_trips / pairs).max(1);
        let (elapsed, counters) = run_pairs(pairs, rounds, overhead);
        let name = format!("pipe-pairs-{pairs}{suffix}");
        report::print(&name, (rounds * pairs) as u64, Unit::Nanoseconds, elapsed, counters);
    }
}
