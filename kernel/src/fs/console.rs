//! The console terminal: the UART behind a line discipline, as `/dev/console`.
//!
//! Input arrives by interrupt: the UART handler feeds each byte to the line discipline
//! (`crates/tty`), echoes, turns ^C/^\/^Z into signals for the foreground process
//! group and wakes blocked readers. Output goes through the discipline's output
//! processing (LF → CR LF) to the UART. Reads are futures parked on a wait queue.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::task::{Context, Poll};

use abi::termios::{self as t, Termios, WinSize};
use abi::{Errno, Result};
use ksync::{SpinLock, WaitQueue};
use spin::Once;
use tty::{LineDiscipline, Read, Settings};
use vfs::{Events, FileType, Inode, Metadata, Timestamp};

/// Linux's device number of /dev/console (5, 1).
pub const CONSOLE_MAJOR: u32 = 5;
/// Minor number of /dev/console.
pub const CONSOLE_MINOR: u32 = 1;

/// Terminal state beyond the line discipline.
pub struct TerminalState {
    /// The termios as user space last set it (TCGETS returns it unchanged).
    pub termios: Termios,
    /// Window size (TIOCGWINSZ); QEMU's serial console has none, so 24x80.
    pub window: WinSize,
    /// Foreground process group (TIOCGPGRP / TIOCSPGRP); 0 = none yet.
    pub foreground: u32,
    /// Session that owns the terminal; 0 = none.
    pub session: u32,
}

/// The console device.
pub struct Console {
    line: SpinLock<LineDiscipline>,
    /// Everything else about the terminal.
    pub state: SpinLock<TerminalState>,
    readers: WaitQueue,
}

static CONSOLE: Once<Arc<Console>> = Once::new();

/// The console (created on first use).
pub fn console() -> &'static Arc<Console> {
    CONSOLE.call_once(|| {
        Arc::new(Console {
            line: SpinLock::new(LineDiscipline::new()),
            state: SpinLock::new(TerminalState {
                termios: default_termios(),
                window: WinSize { ws_row: 24, ws_col: 80, ws_xpixel: 0, ws_ypixel: 0 },
                foreground: 0,
                session: 0,
            }),
            readers: WaitQueue::new(),
        })
    })
}

/// What a Linux console starts with.
fn default_termios() -> Termios {
    let mut c_cc = [0u8; t::NCCS];
    c_cc[t::VINTR] = 0x03;
    c_cc[t::VQUIT] = 0x1c;
    c_cc[t::VERASE] = 0x7f;
    c_cc[t::VKILL] = 0x15;
    c_cc[t::VEOF] = 0x04;
    c_cc[t::VMIN] = 1;
    c_cc[t::VSTART] = 0x11;
    c_cc[t::VSTOP] = 0x13;
    c_cc[t::VSUSP] = 0x1a;
    c_cc[t::VREPRINT] = 0x12;
    c_cc[t::VDISCARD] = 0x0f;
    c_cc[t::VWERASE] = 0x17;
    c_cc[t::VLNEXT] = 0x16;
    Termios {
        c_iflag: t::ICRNL | t::IXON,
        c_oflag: t::OPOST | t::ONLCR,
        c_cflag: t::B38400 | t::CS8 | t::CREAD | t::HUPCL,
        c_lflag: t::ISIG | t::ICANON | t::ECHO | t::ECHOE | t::ECHOK | t::ECHOCTL | t::ECHOKE | t::IEXTEN,
        c_line: 0,
        c_cc,
    }
}

/// The line-discipline settings a termios asks for.
fn settings_for(termios: &Termios) -> Settings {
    let l = termios.c_lflag;
    let i = termios.c_iflag;
    let mut settings = Settings::default();
    settings.canonical = l & t::ICANON != 0;
    settings.echo = l & t::ECHO != 0;
    settings.echo_erase = l & t::ECHOE != 0;
    settings.echo_kill = l & t::ECHOK != 0;
    settings.echo_newline = l & t::ECHONL != 0;
    settings.echo_control = l & t::ECHOCTL != 0;
    settings.signals = l & t::ISIG != 0;
    settings.cr_to_nl = i & t::ICRNL != 0;
    settings.nl_to_cr = i & t::INLCR != 0;
    settings.ignore_cr = i & t::IGNCR != 0;
    settings.output_nl_to_crnl = termios.c_oflag & t::OPOST != 0 && termios.c_oflag & t::ONLCR != 0;
    let cc = &termios.c_cc;
    settings.chars.interrupt = cc[t::VINTR];
    settings.chars.quit = cc[t::VQUIT];
    settings.chars.erase = cc[t::VERASE];
    settings.chars.kill = cc[t::VKILL];
    settings.chars.end_of_file = cc[t::VEOF];
    settings.chars.suspend = cc[t::VSUSP];
    settings.chars.word_erase = cc[t::VWERASE];
    settings.chars.min = cc[t::VMIN];
    settings
}

impl Console {
    /// Sets the termios (TCSETS*); `flush` discards pending input (TCSETSF).
    pub fn set_termios(&self, termios: Termios, flush: bool) {
        self.line.lock().set_settings(settings_for(&termios), flush);
        self.state.lock().termios = termios;
        self.readers.wake_all();
    }

    /// Bytes a read would get now (FIONREAD).
    pub fn available(&self) -> usize {
        self.line.lock().available()
    }

    /// Writes bytes to the terminal with output processing.
    pub fn write_bytes(&self, bytes: &[u8]) {
        let mut out = Vec::with_capacity(bytes.len() + 8);
        self.line.lock().process_output(bytes, &mut out);
        crate::console::print_raw(&out);
    }

    /// The UART receive interrupt: feed every received byte to the line discipline.
    fn on_receive(&self) {
        while let Some(byte) = arch::console::read_byte() {
            let received = self.line.lock().receive(byte);
            if !received.echo.is_empty() {
                crate::console::print_raw(&received.echo);
            }
            if let Some(signal) = received.signal {
                let foreground = self.state.lock().foreground;
                let signal = match signal {
                    tty::Signal::Interrupt => abi::signal::Signal::SIGINT,
                    tty::Signal::Quit => abi::signal::Signal::SIGQUIT,
                    tty::Signal::Suspend => abi::signal::Signal::SIGTSTP,
                };
                if foreground != 0 {
                    crate::process::signal_group(foreground, signal);
                }
                self.readers.wake_all();
            }
            if received.readable {
                self.readers.wake_all();
            }
        }
    }
}

fn receive_interrupt(_irq: u32) {
    console().on_receive();
}

/// Turns on console input: the UART interrupt and its handler.
pub fn enable_input() {
    let Some(uart) = crate::boot::machine().uart else { return };
    let Some(irq) = uart.irq else {
        log::warn!("the console UART has no interrupt: no console input");
        return;
    };
    crate::irq::register(irq, receive_interrupt);
    arch::console::enable_receive_interrupt();
}

impl Inode for Console {
    fn metadata(&self) -> Metadata {
        Metadata {
            dev: 5,
            ino: 2,
            kind: FileType::CharDevice,
            perm: 0o620,
            nlink: 1,
            uid: 0,
            gid: 5,
            size: 0,
            blocks: 0,
            blksize: 1024,
            rdev: vfs::makedev(CONSOLE_MAJOR, CONSOLE_MINOR),
            atime: Timestamp::default(),
            mtime: Timestamp::default(),
            ctime: Timestamp::default(),
        }
    }

    fn poll_read_at(&self, cx: &mut Context<'_>, _offset: u64, buf: &mut [u8]) -> Poll<Result<usize>> {
        // Register first, then look: an interrupt between the two still wakes us.
        self.readers.register(cx.waker());
        if crate::process::current_has_pending_signal() {
            return Poll::Ready(Err(Errno::ERESTARTSYS));
        }
        match self.line.lock().read(buf) {
            Read::Data(count) => Poll::Ready(Ok(count)),
            Read::EndOfFile => Poll::Ready(Ok(0)),
            Read::Empty => Poll::Pending,
        }
    }

    fn poll_write_at(&self, _cx: &mut Context<'_>, _offset: u64, buf: &[u8]) -> Poll<Result<usize>> {
        self.write_bytes(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_ready(&self, cx: &mut Context<'_>, events: Events) -> Poll<Events> {
        self.readers.register(cx.waker());
        let mut ready = Events::OUT;
        if self.line.lock().is_readable() {
            ready |= Events::IN;
        }
        let ready = Events(ready.0 & (events.0 | Events::ERR.0 | Events::HUP.0));
        if ready.0 == 0 { Poll::Pending } else { Poll::Ready(ready) }
    }

    fn is_seekable(&self) -> bool {
        false
    }
}
