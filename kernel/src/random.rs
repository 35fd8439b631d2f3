//! Random bytes for getrandom(2), /dev/urandom and AT_RANDOM.
//!
//! QEMU `virt` gives the kernel no entropy device unless virtio-rng is attached, so this
//! is a xoshiro256** generator seeded from the wall clock and the cycle counter at
//! boot, stirred with the time of every request. Good enough for hash seeds and stack
//! canaries in tests; not a cryptographic source (stated in the docs).

use ksync::SpinLock;

static STATE: SpinLock<[u64; 4]> = SpinLock::new([0x9e37_79b9_7f4a_7c15, 0xbf58_476d_1ce4_e5b9, 0x94d0_49bb_1331_11eb, 1]);

fn splitmix(seed: &mut u64) -> u64 {
    *seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *seed;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Seeds the generator (call once at boot).
pub fn init(seed: u64) {
    let mut seed = seed ^ arch::timer::ticks().rotate_left(32);
    let mut state = STATE.lock();
    for word in state.iter_mut() {
        *word = splitmix(&mut seed);
    }
}

fn next(state: &mut [u64; 4]) -> u64 {
    let result = state[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
    let t = state[1] << 17;
    state[2] ^= state[0];
    state[3] ^= state[1];
    state[1] ^= state[2];
    state[0] ^= state[3];
    state[2] ^= t;
    state[3] = state[3].rotate_left(45);
    result
}

/// Fills `buffer` with random bytes.
pub fn fill(buffer: &mut [u8]) {
    let mut state = STATE.lock();
    state[0] ^= arch::timer::ticks();
    for chunk in buffer.chunks_mut(8) {
        let bytes = next(&mut state).to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
}
