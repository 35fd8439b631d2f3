//! ioctl(2) request numbers: the terminal and file requests (asm-generic/ioctls.h) and the
//! `_IOC` encoding (asm-generic/ioctl.h) that newer requests use.
//!
//! The old terminal requests (0x54xx) predate `_IOC` and carry no size or direction, so a
//! driver must know what each one copies; the [`crate::termios`] module has those
//! structures. The kernel reads the request as a 32-bit `unsigned int`.

/// `_IOC` direction: no data.
pub const IOC_NONE: u32 = 0;
/// `_IOC` direction: user space writes, the kernel reads.
pub const IOC_WRITE: u32 = 1;
/// `_IOC` direction: the kernel writes, user space reads.
pub const IOC_READ: u32 = 2;

const IOC_NRBITS: u32 = 8;
const IOC_TYPEBITS: u32 = 8;
const IOC_SIZEBITS: u32 = 14;
const IOC_NRSHIFT: u32 = 0;
const IOC_TYPESHIFT: u32 = IOC_NRSHIFT + IOC_NRBITS;
const IOC_SIZESHIFT: u32 = IOC_TYPESHIFT + IOC_TYPEBITS;
const IOC_DIRSHIFT: u32 = IOC_SIZESHIFT + IOC_SIZEBITS;

/// `_IOC(dir, type, nr, size)`.
pub const fn ioc(direction: u32, kind: u8, number: u8, size: usize) -> u32 {
    (direction << IOC_DIRSHIFT)
        | ((kind as u32) << IOC_TYPESHIFT)
        | ((number as u32) << IOC_NRSHIFT)
        | ((size as u32 & ((1 << IOC_SIZEBITS) - 1)) << IOC_SIZESHIFT)
}

/// `_IO(type, nr)`: no argument data.
pub const fn io(kind: u8, number: u8) -> u32 {
    ioc(IOC_NONE, kind, number, 0)
}

/// `_IOR(type, nr, T)`: the kernel writes `size` bytes to the argument.
pub const fn ior(kind: u8, number: u8, size: usize) -> u32 {
    ioc(IOC_READ, kind, number, size)
}

/// `_IOW(type, nr, T)`: the kernel reads `size` bytes from the argument.
pub const fn iow(kind: u8, number: u8, size: usize) -> u32 {
    ioc(IOC_WRITE, kind, number, size)
}

/// `_IOWR(type, nr, T)`: both.
pub const fn iowr(kind: u8, number: u8, size: usize) -> u32 {
    ioc(IOC_READ | IOC_WRITE, kind, number, size)
}

/// `_IOC_DIR(request)`.
pub const fn ioc_direction(request: u32) -> u32 {
    request >> IOC_DIRSHIFT
}

/// `_IOC_TYPE(request)`.
pub const fn ioc_type(request: u32) -> u8 {
    (request >> IOC_TYPESHIFT) as u8
}

/// `_IOC_NR(request)`.
pub const fn ioc_number(request: u32) -> u8 {
    (request >> IOC_NRSHIFT) as u8
}

/// `_IOC_SIZE(request)`.
pub const fn ioc_size(request: u32) -> usize {
    ((request >> IOC_SIZESHIFT) & ((1 << IOC_SIZEBITS) - 1)) as usize
}

// Terminal requests.
/// Get the terminal attributes (`struct termios`, 36 bytes).
pub const TCGETS: u32 = 0x5401;
/// Set the terminal attributes now.
pub const TCSETS: u32 = 0x5402;
/// Set the attributes after output drains.
pub const TCSETSW: u32 = 0x5403;
/// Set the attributes after output drains, discarding pending input.
pub const TCSETSF: u32 = 0x5404;
/// Old `struct termio` get.
pub const TCGETA: u32 = 0x5405;
/// Old `struct termio` set.
pub const TCSETA: u32 = 0x5406;
/// Old `struct termio` set after drain.
pub const TCSETAW: u32 = 0x5407;
/// Old `struct termio` set after drain and flush.
pub const TCSETAF: u32 = 0x5408;
/// Send a break (arg 0) or drain output (arg != 0, tcdrain).
pub const TCSBRK: u32 = 0x5409;
/// Flow control (tcflow): `TCOOFF`, `TCOON`, `TCIOFF`, `TCION`.
pub const TCXONC: u32 = 0x540A;
/// Discard queued data (tcflush): `TCIFLUSH`, `TCOFLUSH`, `TCIOFLUSH`.
pub const TCFLSH: u32 = 0x540B;
/// Exclusive mode on.
pub const TIOCEXCL: u32 = 0x540C;
/// Exclusive mode off.
pub const TIOCNXCL: u32 = 0x540D;
/// Make this terminal the controlling terminal of the calling session leader.
pub const TIOCSCTTY: u32 = 0x540E;
/// Get the foreground process group (`pid_t`).
pub const TIOCGPGRP: u32 = 0x540F;
/// Set the foreground process group.
pub const TIOCSPGRP: u32 = 0x5410;
/// Bytes in the output queue.
pub const TIOCOUTQ: u32 = 0x5411;
/// Insert a byte into the input queue.
pub const TIOCSTI: u32 = 0x5412;
/// Get the window size (`struct winsize`).
pub const TIOCGWINSZ: u32 = 0x5413;
/// Set the window size (sends SIGWINCH to the foreground group on change).
pub const TIOCSWINSZ: u32 = 0x5414;
/// Get the modem lines.
pub const TIOCMGET: u32 = 0x5415;
/// Set modem bits.
pub const TIOCMBIS: u32 = 0x5416;
/// Clear modem bits.
pub const TIOCMBIC: u32 = 0x5417;
/// Set the modem lines.
pub const TIOCMSET: u32 = 0x5418;
/// Get `CLOCAL`.
pub const TIOCGSOFTCAR: u32 = 0x5419;
/// Set `CLOCAL`.
pub const TIOCSSOFTCAR: u32 = 0x541A;
/// Bytes available to read (`int`); works on pipes and sockets too.
pub const FIONREAD: u32 = 0x541B;
/// Same as `FIONREAD`.
pub const TIOCINQ: u32 = FIONREAD;
/// Linux console requests.
pub const TIOCLINUX: u32 = 0x541C;
/// Redirect console output.
pub const TIOCCONS: u32 = 0x541D;
/// Get serial port info.
pub const TIOCGSERIAL: u32 = 0x541E;
/// Set serial port info.
pub const TIOCSSERIAL: u32 = 0x541F;
/// Packet mode (pty).
pub const TIOCPKT: u32 = 0x5420;
/// Set or clear `O_NONBLOCK` (`int` argument).
pub const FIONBIO: u32 = 0x5421;
/// Give up the controlling terminal.
pub const TIOCNOTTY: u32 = 0x5422;
/// Set the line discipline.
pub const TIOCSETD: u32 = 0x5423;
/// Get the line discipline.
pub const TIOCGETD: u32 = 0x5424;
/// Send a break of the given duration (tcsendbreak).
pub const TCSBRKP: u32 = 0x5425;
/// Start a break.
pub const TIOCSBRK: u32 = 0x5427;
/// Stop a break.
pub const TIOCCBRK: u32 = 0x5428;
/// Get the session id of the terminal (`pid_t`).
pub const TIOCGSID: u32 = 0x5429;
/// Get `struct termios2` (with explicit speeds).
pub const TCGETS2: u32 = ior(b'T', 0x2A, 44);
/// Set `struct termios2`.
pub const TCSETS2: u32 = iow(b'T', 0x2B, 44);
/// Set `struct termios2` after drain.
pub const TCSETSW2: u32 = iow(b'T', 0x2C, 44);
/// Set `struct termios2` after drain and flush.
pub const TCSETSF2: u32 = iow(b'T', 0x2D, 44);
/// Get the pty number (`unsigned int`).
pub const TIOCGPTN: u32 = ior(b'T', 0x30, 4);
/// Lock/unlock the pty (`int`).
pub const TIOCSPTLCK: u32 = iow(b'T', 0x31, 4);
/// Get the device number of the real console behind /dev/console.
pub const TIOCGDEV: u32 = ior(b'T', 0x32, 4);
/// Send a signal to the pty's foreground group.
pub const TIOCSIG: u32 = iow(b'T', 0x36, 4);
/// Hang up the terminal.
pub const TIOCVHANGUP: u32 = 0x5437;
/// Get packet mode.
pub const TIOCGPKT: u32 = ior(b'T', 0x38, 4);
/// Get the pty lock state.
pub const TIOCGPTLCK: u32 = ior(b'T', 0x39, 4);
/// Get exclusive mode.
pub const TIOCGEXCL: u32 = ior(b'T', 0x40, 4);
/// Open the pty's peer.
pub const TIOCGPTPEER: u32 = io(b'T', 0x41);
/// Clear close-on-exec on the descriptor.
pub const FIONCLEX: u32 = 0x5450;
/// Set close-on-exec on the descriptor.
pub const FIOCLEX: u32 = 0x5451;
/// Set or clear `O_ASYNC`.
pub const FIOASYNC: u32 = 0x5452;

// Block devices.
/// Size of a block device in bytes (`u64`).
pub const BLKGETSIZE64: u32 = ior(0x12, 114, 8);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_requests() {
        assert_eq!(TCGETS, 0x5401);
        assert_eq!(TCSETSF, 0x5404);
        assert_eq!(TIOCSCTTY, 0x540E);
        assert_eq!(TIOCGPGRP, 0x540F);
        assert_eq!(TIOCSPGRP, 0x5410);
        assert_eq!(TIOCGWINSZ, 0x5413);
        assert_eq!(FIONREAD, 0x541B);
        assert_eq!(FIONBIO, 0x5421);
        assert_eq!(TIOCNOTTY, 0x5422);
        assert_eq!(TIOCGSID, 0x5429);
    }

    #[test]
    fn ioc_encoding() {
        assert_eq!(TCGETS2, 0x802C_542A);
        assert_eq!(TCSETS2, 0x402C_542B);
        assert_eq!(TIOCGPTN, 0x8004_5430);
        assert_eq!(TIOCSPTLCK, 0x4004_5431);
        assert_eq!(TIOCGPTPEER, 0x5441);
        assert_eq!(BLKGETSIZE64, 0x8008_1272);
        assert_eq!(ioc_direction(TCGETS2), IOC_READ);
        assert_eq!(ioc_type(TCGETS2), b'T');
        assert_eq!(ioc_number(TCGETS2), 0x2A);
        assert_eq!(ioc_size(TCGETS2), 44);
        assert_eq!(iowr(b'f', 1, 8) >> 30, 3);
    }
}
