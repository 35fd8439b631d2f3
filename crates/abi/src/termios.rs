//! Terminal attributes: the kernel's `struct termios` (TCGETS/TCSETS*), `struct termios2`,
//! `struct winsize`, the mode bits and control-character indices, and the settings a Linux
//! terminal starts with (include/uapi/asm-generic/{termbits,termbits-common,termios}.h,
//! `tty_std_termios` in drivers/tty/tty_io.c).
//!
//! The kernel's `struct termios` is 36 bytes with 19 control characters; glibc's
//! user-visible `struct termios` is larger (32 characters plus two speeds, 60 bytes) and
//! glibc converts in `tcgetattr`/`tcsetattr`, so only this layout crosses the system call.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// Number of control characters in the kernel's `struct termios`.
pub const NCCS: usize = 19;

// c_cc indices.
/// Interrupt (^C): SIGINT.
pub const VINTR: usize = 0;
/// Quit (^\): SIGQUIT.
pub const VQUIT: usize = 1;
/// Erase a character (DEL).
pub const VERASE: usize = 2;
/// Erase the line (^U).
pub const VKILL: usize = 3;
/// End of file (^D).
pub const VEOF: usize = 4;
/// Non-canonical read timeout, in tenths of a second.
pub const VTIME: usize = 5;
/// Non-canonical read minimum byte count.
pub const VMIN: usize = 6;
/// Switch character (unused on Linux).
pub const VSWTC: usize = 7;
/// Restart output (^Q).
pub const VSTART: usize = 8;
/// Stop output (^S).
pub const VSTOP: usize = 9;
/// Suspend (^Z): SIGTSTP.
pub const VSUSP: usize = 10;
/// Additional end of line.
pub const VEOL: usize = 11;
/// Reprint the line (^R).
pub const VREPRINT: usize = 12;
/// Discard output (^O).
pub const VDISCARD: usize = 13;
/// Erase a word (^W).
pub const VWERASE: usize = 14;
/// Quote the next character (^V).
pub const VLNEXT: usize = 15;
/// Second additional end of line.
pub const VEOL2: usize = 16;

// c_iflag bits.
/// Ignore break.
pub const IGNBRK: u32 = 0x001;
/// Break sends SIGINT.
pub const BRKINT: u32 = 0x002;
/// Ignore parity errors.
pub const IGNPAR: u32 = 0x004;
/// Mark parity errors.
pub const PARMRK: u32 = 0x008;
/// Input parity check.
pub const INPCK: u32 = 0x010;
/// Strip the eighth bit.
pub const ISTRIP: u32 = 0x020;
/// Map NL to CR on input.
pub const INLCR: u32 = 0x040;
/// Ignore CR on input.
pub const IGNCR: u32 = 0x080;
/// Map CR to NL on input.
pub const ICRNL: u32 = 0x100;
/// Map upper case to lower case on input.
pub const IUCLC: u32 = 0x0200;
/// XON/XOFF flow control on output (^S/^Q).
pub const IXON: u32 = 0x0400;
/// Any character restarts stopped output.
pub const IXANY: u32 = 0x800;
/// XON/XOFF flow control on input.
pub const IXOFF: u32 = 0x1000;
/// Ring the bell when the input queue is full.
pub const IMAXBEL: u32 = 0x2000;
/// Input is UTF-8 (for character erase).
pub const IUTF8: u32 = 0x4000;

// c_oflag bits.
/// Post-process output.
pub const OPOST: u32 = 0x01;
/// Map lower case to upper case on output.
pub const OLCUC: u32 = 0x02;
/// Map NL to CR-NL on output.
pub const ONLCR: u32 = 0x04;
/// Map CR to NL on output.
pub const OCRNL: u32 = 0x08;
/// No CR output at column 0.
pub const ONOCR: u32 = 0x10;
/// NL performs CR.
pub const ONLRET: u32 = 0x20;
/// Use fill characters for delays.
pub const OFILL: u32 = 0x40;
/// The fill character is DEL.
pub const OFDEL: u32 = 0x80;
/// Newline delay mask.
pub const NLDLY: u32 = 0x00100;
/// Carriage-return delay mask.
pub const CRDLY: u32 = 0x00600;
/// Tab delay mask.
pub const TABDLY: u32 = 0x01800;
/// Expand tabs to spaces.
pub const XTABS: u32 = 0x01800;
/// Backspace delay mask.
pub const BSDLY: u32 = 0x02000;
/// Vertical-tab delay mask.
pub const VTDLY: u32 = 0x04000;
/// Form-feed delay mask.
pub const FFDLY: u32 = 0x08000;

// c_cflag bits.
/// Baud-rate mask.
pub const CBAUD: u32 = 0x0000_100f;
/// Hang up.
pub const B0: u32 = 0x0000_0000;
/// 9600 baud.
pub const B9600: u32 = 0x0000_000d;
/// 19200 baud.
pub const B19200: u32 = 0x0000_000e;
/// 38400 baud, the default of a new terminal.
pub const B38400: u32 = 0x0000_000f;
/// Extended rates follow.
pub const CBAUDEX: u32 = 0x0000_1000;
/// Use `c_ispeed`/`c_ospeed` of `termios2`.
pub const BOTHER: u32 = 0x0000_1000;
/// 57600 baud.
pub const B57600: u32 = 0x0000_1001;
/// 115200 baud.
pub const B115200: u32 = 0x0000_1002;
/// Character-size mask.
pub const CSIZE: u32 = 0x0000_0030;
/// 5-bit characters.
pub const CS5: u32 = 0x0000_0000;
/// 6-bit characters.
pub const CS6: u32 = 0x0000_0010;
/// 7-bit characters.
pub const CS7: u32 = 0x0000_0020;
/// 8-bit characters.
pub const CS8: u32 = 0x0000_0030;
/// Two stop bits.
pub const CSTOPB: u32 = 0x0000_0040;
/// Enable the receiver.
pub const CREAD: u32 = 0x0000_0080;
/// Parity generation and checking.
pub const PARENB: u32 = 0x0000_0100;
/// Odd parity.
pub const PARODD: u32 = 0x0000_0200;
/// Hang up on last close.
pub const HUPCL: u32 = 0x0000_0400;
/// Ignore modem control lines.
pub const CLOCAL: u32 = 0x0000_0800;
/// Input baud-rate mask (`CBAUD << IBSHIFT`).
pub const CIBAUD: u32 = 0x100f_0000;
/// Shift from `CBAUD` to `CIBAUD`.
pub const IBSHIFT: u32 = 16;
/// Mark or space parity.
pub const CMSPAR: u32 = 0x4000_0000;
/// RTS/CTS flow control.
pub const CRTSCTS: u32 = 0x8000_0000;

// c_lflag bits.
/// Generate signals for INTR, QUIT, SUSP.
pub const ISIG: u32 = 0x00001;
/// Canonical (line-by-line) input.
pub const ICANON: u32 = 0x00002;
/// Upper-case terminal (obsolete).
pub const XCASE: u32 = 0x00004;
/// Echo input.
pub const ECHO: u32 = 0x00008;
/// ERASE erases the previous character visually.
pub const ECHOE: u32 = 0x00010;
/// KILL is followed by a newline.
pub const ECHOK: u32 = 0x00020;
/// Echo NL even without ECHO.
pub const ECHONL: u32 = 0x00040;
/// Do not flush the queues on INTR/QUIT/SUSP.
pub const NOFLSH: u32 = 0x00080;
/// Background writes raise SIGTTOU.
pub const TOSTOP: u32 = 0x00100;
/// Echo control characters as `^X`.
pub const ECHOCTL: u32 = 0x00200;
/// Print erased characters (hard-copy terminals).
pub const ECHOPRT: u32 = 0x00400;
/// KILL erases the line visually.
pub const ECHOKE: u32 = 0x00800;
/// Output is being flushed.
pub const FLUSHO: u32 = 0x01000;
/// Retype pending input at the next read.
pub const PENDIN: u32 = 0x04000;
/// Implementation-defined input processing (WERASE, LNEXT, ...).
pub const IEXTEN: u32 = 0x08000;
/// External processing (pty packet mode).
pub const EXTPROC: u32 = 0x10000;

// tcsetattr actions, tcflow and tcflush arguments.
/// tcsetattr: now.
pub const TCSANOW: u32 = 0;
/// tcsetattr: after output drains.
pub const TCSADRAIN: u32 = 1;
/// tcsetattr: after output drains, discarding input.
pub const TCSAFLUSH: u32 = 2;
/// TCXONC: suspend output.
pub const TCOOFF: u32 = 0;
/// TCXONC: restart output.
pub const TCOON: u32 = 1;
/// TCXONC: send STOP.
pub const TCIOFF: u32 = 2;
/// TCXONC: send START.
pub const TCION: u32 = 3;
/// TCFLSH: discard received data.
pub const TCIFLUSH: u32 = 0;
/// TCFLSH: discard unsent data.
pub const TCOFLUSH: u32 = 1;
/// TCFLSH: both.
pub const TCIOFLUSH: u32 = 2;

/// The default line discipline, `N_TTY`.
pub const N_TTY: u8 = 0;

/// Linux's initial control characters (`INIT_C_CC`): ^C ^\ DEL ^U ^D, VTIME 0, VMIN 1,
/// ^Q ^S ^Z, VEOL 0, ^R ^O ^W ^V, VEOL2 0.
pub const INIT_C_CC: [u8; NCCS] = [
    0x03, 0x1c, 0x7f, 0x15, 0x04, 0, 1, 0, 0x11, 0x13, 0x1a, 0, 0x12, 0x0f, 0x17, 0x16, 0, 0, 0,
];

/// The kernel's `struct termios` (36 bytes), as TCGETS/TCSETS copy it.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct Termios {
    /// Input modes.
    pub c_iflag: u32,
    /// Output modes.
    pub c_oflag: u32,
    /// Control modes.
    pub c_cflag: u32,
    /// Local modes.
    pub c_lflag: u32,
    /// Line discipline.
    pub c_line: u8,
    /// Control characters, indexed by `V*`.
    pub c_cc: [u8; NCCS],
}

impl Termios {
    /// What a new Linux terminal starts with (`tty_std_termios`): `ICRNL|IXON`,
    /// `OPOST|ONLCR`, `B38400|CS8|CREAD|HUPCL`,
    /// `ISIG|ICANON|ECHO|ECHOE|ECHOK|ECHOCTL|ECHOKE|IEXTEN`, [`INIT_C_CC`].
    pub const fn default_console() -> Termios {
        Termios {
            c_iflag: ICRNL | IXON,
            c_oflag: OPOST | ONLCR,
            c_cflag: B38400 | CS8 | CREAD | HUPCL,
            c_lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
            c_line: N_TTY,
            c_cc: INIT_C_CC,
        }
    }

    /// [`Termios::default_console`] with the control modes Linux's serial core gives a UART
    /// that is the boot console at 115200 baud (`uart_set_options`:
    /// `B115200|CS8|CREAD|HUPCL|CLOCAL`), which is what `stty` shows on QEMU's ttyS0.
    pub const fn serial_console() -> Termios {
        let mut termios = Termios::default_console();
        termios.c_cflag = B115200 | CS8 | CREAD | HUPCL | CLOCAL;
        termios
    }

    /// Whether input is line-by-line (`ICANON`).
    pub const fn is_canonical(&self) -> bool {
        self.c_lflag & ICANON != 0
    }

    /// Whether input is echoed (`ECHO`).
    pub const fn echoes(&self) -> bool {
        self.c_lflag & ECHO != 0
    }

    /// Whether INTR/QUIT/SUSP generate signals (`ISIG`).
    pub const fn generates_signals(&self) -> bool {
        self.c_lflag & ISIG != 0
    }
}

/// `struct termios2` (44 bytes): [`Termios`] plus explicit input/output speeds
/// (TCGETS2/TCSETS2).
#[repr(C)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct Termios2 {
    /// Input modes.
    pub c_iflag: u32,
    /// Output modes.
    pub c_oflag: u32,
    /// Control modes.
    pub c_cflag: u32,
    /// Local modes.
    pub c_lflag: u32,
    /// Line discipline.
    pub c_line: u8,
    /// Control characters.
    pub c_cc: [u8; NCCS],
    /// Input speed in baud.
    pub c_ispeed: u32,
    /// Output speed in baud.
    pub c_ospeed: u32,
}

/// `struct winsize` (8 bytes): TIOCGWINSZ/TIOCSWINSZ.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct WinSize {
    /// Rows.
    pub ws_row: u16,
    /// Columns.
    pub ws_col: u16,
    /// Width in pixels (unused).
    pub ws_xpixel: u16,
    /// Height in pixels (unused).
    pub ws_ypixel: u16,
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn layouts() {
        assert_eq!(size_of::<Termios>(), 36);
        assert_eq!(offset_of!(Termios, c_lflag), 12);
        assert_eq!(offset_of!(Termios, c_line), 16);
        assert_eq!(offset_of!(Termios, c_cc), 17);
        assert_eq!(size_of::<Termios2>(), 44);
        assert_eq!(offset_of!(Termios2, c_ispeed), 36);
        assert_eq!(offset_of!(Termios2, c_ospeed), 40);
        assert_eq!(size_of::<WinSize>(), 8);
        assert_eq!(offset_of!(WinSize, ws_col), 2);
    }

    #[test]
    fn bits_match_asm_generic() {
        assert_eq!((ICRNL, IXON, IUTF8), (0x100, 0x400, 0x4000));
        assert_eq!((OPOST, ONLCR), (1, 4));
        assert_eq!(
            (ISIG, ICANON, ECHO, ECHOE, ECHOK, ECHONL),
            (1, 2, 8, 0x10, 0x20, 0x40)
        );
        assert_eq!(
            (ECHOCTL, ECHOKE, IEXTEN, TOSTOP),
            (0x200, 0x800, 0x8000, 0x100)
        );
        assert_eq!((CS8, CREAD, HUPCL, CLOCAL), (0x30, 0x80, 0x400, 0x800));
        assert_eq!(
            (VINTR, VEOF, VMIN, VSUSP, VLNEXT, VEOL2),
            (0, 4, 6, 10, 15, 16)
        );
    }

    #[test]
    fn linux_default_terminal() {
        let termios = Termios::default_console();
        // tty_std_termios, bit for bit.
        assert_eq!(termios.c_iflag, 0x500);
        assert_eq!(termios.c_oflag, 0x5);
        assert_eq!(termios.c_cflag, 0x4bf);
        assert_eq!(termios.c_lflag, 0x8a3b);
        assert_eq!(termios.c_cc[VINTR], 3);
        assert_eq!(termios.c_cc[VQUIT], 0x1c);
        assert_eq!(termios.c_cc[VERASE], 0x7f);
        assert_eq!(termios.c_cc[VKILL], 0x15);
        assert_eq!(termios.c_cc[VEOF], 4);
        assert_eq!(termios.c_cc[VTIME], 0);
        assert_eq!(termios.c_cc[VMIN], 1);
        assert_eq!(termios.c_cc[VSTART], 0x11);
        assert_eq!(termios.c_cc[VSTOP], 0x13);
        assert_eq!(termios.c_cc[VSUSP], 0x1a);
        assert_eq!(termios.c_cc[VREPRINT], 0x12);
        assert_eq!(termios.c_cc[VDISCARD], 0x0f);
        assert_eq!(termios.c_cc[VWERASE], 0x17);
        assert_eq!(termios.c_cc[VLNEXT], 0x16);
        assert!(termios.is_canonical() && termios.echoes() && termios.generates_signals());
        assert_eq!(Termios::serial_console().c_cflag, 0x1cb2);
    }
}
