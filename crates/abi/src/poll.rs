//! Readiness ABI: `struct pollfd` and `POLL*` bits for ppoll(2), `fd_set` for pselect6(2),
//! pselect6's packed sigmask argument, and `struct epoll_event` with the `EPOLL*` constants.
//!
//! riscv64 has no `poll`/`select`/`epoll_wait` system calls; libc implements them with
//! `ppoll`, `pselect6` and `epoll_pwait`. Note that `struct epoll_event` is 16 bytes here:
//! only x86_64 packs it to 12 (include/uapi/linux/eventpoll.h, `EPOLL_PACKED`).

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

// Event bits (asm-generic/poll.h). `events`/`revents` are 16-bit in `pollfd`.
/// Data to read.
pub const POLLIN: i16 = 0x0001;
/// Urgent/priority data to read.
pub const POLLPRI: i16 = 0x0002;
/// Writing will not block.
pub const POLLOUT: i16 = 0x0004;
/// Error condition (always reported, never requested).
pub const POLLERR: i16 = 0x0008;
/// Hang-up (always reported).
pub const POLLHUP: i16 = 0x0010;
/// The descriptor is not open (always reported).
pub const POLLNVAL: i16 = 0x0020;
/// Normal data to read.
pub const POLLRDNORM: i16 = 0x0040;
/// Priority band data to read.
pub const POLLRDBAND: i16 = 0x0080;
/// Normal data may be written.
pub const POLLWRNORM: i16 = 0x0100;
/// Priority data may be written.
pub const POLLWRBAND: i16 = 0x0200;
/// Unused message bit.
pub const POLLMSG: i16 = 0x0400;
/// Unused.
pub const POLLREMOVE: i16 = 0x1000;
/// The peer closed its writing end (stream sockets).
pub const POLLRDHUP: i16 = 0x2000;

/// `struct pollfd` (8 bytes).
#[repr(C)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct PollFd {
    /// The descriptor; negative entries are skipped and get `revents = 0`.
    pub fd: i32,
    /// Requested events.
    pub events: i16,
    /// Returned events.
    pub revents: i16,
}

/// The highest descriptor count select/pselect6 handle (`__FD_SETSIZE`).
pub const FD_SETSIZE: usize = 1024;
/// Bits per `fd_set` word (`unsigned long`).
pub const NFDBITS: usize = 64;

/// `fd_set` (128 bytes): a bit per descriptor, 64 per word, descriptor `fd` at bit
/// `fd % 64` of word `fd / 64`.
///
/// pselect6 copies only the first `ceil(nfds / 64)` words of each set (and writes only
/// those back), so a caller's buffer may be shorter than 128 bytes; see
/// [`FdSet::bytes_for`].
#[repr(C)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct FdSet {
    /// The bit words.
    pub fds_bits: [u64; FD_SETSIZE / NFDBITS],
}

impl FdSet {
    /// An empty set.
    pub const EMPTY: FdSet = FdSet {
        fds_bits: [0; FD_SETSIZE / NFDBITS],
    };

    /// How many bytes of user memory a set covering `nfds` descriptors occupies, as Linux
    /// copies it: whole 64-bit words.
    pub const fn bytes_for(nfds: usize) -> usize {
        nfds.div_ceil(NFDBITS) * (NFDBITS / 8)
    }

    /// Whether `fd` is in the set (`FD_ISSET`). Out-of-range descriptors are not.
    pub const fn contains(&self, fd: usize) -> bool {
        fd < FD_SETSIZE && self.fds_bits[fd / NFDBITS] & (1 << (fd % NFDBITS)) != 0
    }

    /// Adds `fd` (`FD_SET`); ignores out-of-range descriptors.
    pub fn insert(&mut self, fd: usize) {
        if fd < FD_SETSIZE {
            self.fds_bits[fd / NFDBITS] |= 1 << (fd % NFDBITS);
        }
    }

    /// Removes `fd` (`FD_CLR`).
    pub fn remove(&mut self, fd: usize) {
        if fd < FD_SETSIZE {
            self.fds_bits[fd / NFDBITS] &= !(1 << (fd % NFDBITS));
        }
    }

    /// Empties the set (`FD_ZERO`).
    pub fn clear(&mut self) {
        self.fds_bits = [0; FD_SETSIZE / NFDBITS];
    }

    /// Number of descriptors in the set.
    pub fn count(&self) -> usize {
        self.fds_bits
            .iter()
            .map(|word| word.count_ones() as usize)
            .sum()
    }

    /// The descriptors below `nfds` in the set, lowest first.
    pub fn iter(&self, nfds: usize) -> impl Iterator<Item = usize> + '_ {
        (0..nfds.min(FD_SETSIZE)).filter(|&fd| self.contains(fd))
    }
}

/// pselect6's sixth argument: a pointer to this pair rather than to a sigset (the kernel
/// needs two values and has only six argument registers). `ss` may be 0 for "no mask";
/// `ss_len` must then still be valid, and is otherwise `sizeof(sigset_t)` = 8.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct Pselect6Sigmask {
    /// User address of the sigset, or 0.
    pub ss: u64,
    /// Its size.
    pub ss_len: u64,
}

// epoll (include/uapi/linux/eventpoll.h).
/// epoll_ctl: add a descriptor.
pub const EPOLL_CTL_ADD: u32 = 1;
/// epoll_ctl: remove a descriptor.
pub const EPOLL_CTL_DEL: u32 = 2;
/// epoll_ctl: change a descriptor's events.
pub const EPOLL_CTL_MOD: u32 = 3;
/// epoll_create1 flag: close on exec (= `O_CLOEXEC`).
pub const EPOLL_CLOEXEC: u32 = crate::fs::O_CLOEXEC;
/// Readable.
pub const EPOLLIN: u32 = 0x0000_0001;
/// Priority data readable.
pub const EPOLLPRI: u32 = 0x0000_0002;
/// Writable.
pub const EPOLLOUT: u32 = 0x0000_0004;
/// Error.
pub const EPOLLERR: u32 = 0x0000_0008;
/// Hang-up.
pub const EPOLLHUP: u32 = 0x0000_0010;
/// Invalid descriptor.
pub const EPOLLNVAL: u32 = 0x0000_0020;
/// Normal data readable.
pub const EPOLLRDNORM: u32 = 0x0000_0040;
/// Priority band readable.
pub const EPOLLRDBAND: u32 = 0x0000_0080;
/// Normal data writable.
pub const EPOLLWRNORM: u32 = 0x0000_0100;
/// Priority band writable.
pub const EPOLLWRBAND: u32 = 0x0000_0200;
/// Message.
pub const EPOLLMSG: u32 = 0x0000_0400;
/// Peer closed its writing end.
pub const EPOLLRDHUP: u32 = 0x0000_2000;
/// Wake only one of several epoll instances waiting on the same file.
pub const EPOLLEXCLUSIVE: u32 = 1 << 28;
/// Keep the system awake while the event is pending.
pub const EPOLLWAKEUP: u32 = 1 << 29;
/// Disarm after one event.
pub const EPOLLONESHOT: u32 = 1 << 30;
/// Edge-triggered.
pub const EPOLLET: u32 = 1 << 31;

/// `struct epoll_event` on riscv64 (16 bytes, `data` 8-aligned; x86_64 packs it to 12).
#[repr(C)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct EpollEvent {
    /// `EPOLL*` bits.
    pub events: u32,
    /// Padding (absent on x86_64).
    pub _pad: u32,
    /// User data returned with the event.
    pub data: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn layouts_and_numbers() {
        assert_eq!(size_of::<PollFd>(), 8);
        assert_eq!(offset_of!(PollFd, events), 4);
        assert_eq!(offset_of!(PollFd, revents), 6);
        assert_eq!(size_of::<FdSet>(), 128);
        assert_eq!(size_of::<Pselect6Sigmask>(), 16);
        assert_eq!(size_of::<EpollEvent>(), 16);
        assert_eq!(offset_of!(EpollEvent, data), 8);
        assert_eq!(
            (POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL),
            (1, 2, 4, 8, 0x10, 0x20)
        );
        assert_eq!(POLLRDNORM, 0x40);
        assert_eq!(POLLWRNORM, 0x100);
        assert_eq!(POLLRDHUP, 0x2000);
        assert_eq!(EPOLLET, 0x8000_0000);
        assert_eq!(EPOLL_CLOEXEC, 0o2000000);
    }

    #[test]
    fn fd_set_helpers() {
        let mut set = FdSet::EMPTY;
        set.insert(0);
        set.insert(63);
        set.insert(64);
        set.insert(1023);
        set.insert(1024); // ignored
        assert_eq!(set.fds_bits[0], 1 | (1 << 63));
        assert_eq!(set.fds_bits[1], 1);
        assert_eq!(set.fds_bits[15], 1 << 63);
        assert!(set.contains(64) && !set.contains(65) && !set.contains(5000));
        assert_eq!(set.count(), 4);
        assert_eq!(set.iter(65).collect::<Vec<_>>(), [0, 63, 64]);
        set.remove(63);
        assert!(!set.contains(63));
        set.clear();
        assert_eq!(set, FdSet::EMPTY);
        assert_eq!(FdSet::bytes_for(0), 0);
        assert_eq!(FdSet::bytes_for(1), 8);
        assert_eq!(FdSet::bytes_for(64), 8);
        assert_eq!(FdSet::bytes_for(65), 16);
        assert_eq!(FdSet::bytes_for(1024), 128);
    }
}
