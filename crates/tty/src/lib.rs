//! The line discipline between the console UART and the programs reading the terminal.
//!
//! It is what makes a serial line feel like a terminal: in canonical mode a reader gets
//! whole lines, edited with erase (DEL/^H), word erase (^W) and kill (^U); input is
//! echoed; ^C, ^\ and ^Z become signals for the foreground process group; ^D ends the
//! input. In raw mode (an editor, `read -n1`) bytes pass through as they come. The
//! behaviour follows Linux's n_tty for the options busybox and shells use; the
//! settings come from the termios the programs set (the kernel translates the termios
//! flags into [`Settings`], so this crate needs no ABI types and is tested on the host).
#![cfg_attr(not(test), no_std)]

extern crate alloc;

use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// The termios options the line discipline acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// ICANON: line editing; readers get whole lines.
    pub canonical: bool,
    /// ECHO: echo input characters.
    pub echo: bool,
    /// ECHOE: erase echoes as backspace-space-backspace.
    pub echo_erase: bool,
    /// ECHOK: echo a newline after the kill character (with ECHOKE: erase the line).
    pub echo_kill: bool,
    /// ECHONL: echo newline even without ECHO.
    pub echo_newline: bool,
    /// ECHOCTL: echo control characters as `^X`.
    pub echo_control: bool,
    /// ISIG: INTR, QUIT and SUSP generate signals.
    pub signals: bool,
    /// ICRNL: carriage return becomes newline on input.
    pub cr_to_nl: bool,
    /// INLCR: newline becomes carriage return on input.
    pub nl_to_cr: bool,
    /// IGNCR: ignore carriage return on input.
    pub ignore_cr: bool,
    /// OPOST + ONLCR: newline becomes CR LF on output.
    pub output_nl_to_crnl: bool,
    /// The control characters.
    pub chars: ControlChars,
}

/// The special characters (`c_cc`); `0` disables one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ControlChars {
    /// VINTR (^C): SIGINT.
    pub interrupt: u8,
    /// VQUIT (^\): SIGQUIT.
    pub quit: u8,
    /// VERASE (DEL): erase one character.
    pub erase: u8,
    /// VKILL (^U): erase the line.
    pub kill: u8,
    /// VEOF (^D): end of input.
    pub end_of_file: u8,
    /// VSUSP (^Z): SIGTSTP.
    pub suspend: u8,
    /// VWERASE (^W): erase a word.
    pub word_erase: u8,
    /// VMIN: bytes a raw-mode read waits for.
    pub min: u8,
}

impl Default for Settings {
    /// What a Linux console starts with (`stty sane`).
    fn default() -> Self {
        Self {
            canonical: true,
            echo: true,
            echo_erase: true,
            echo_kill: true,
            echo_newline: false,
            echo_control: true,
            signals: true,
            cr_to_nl: true,
            nl_to_cr: false,
            ignore_cr: false,
            output_nl_to_crnl: true,
            chars: ControlChars {
                interrupt: 0x03,
                quit: 0x1c,
                erase: 0x7f,
                kill: 0x15,
                end_of_file: 0x04,
                suspend: 0x1a,
                word_erase: 0x17,
                min: 1,
            },
        }
    }
}

/// A signal the input asks for, to be sent to the foreground process group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT (^C).
    Interrupt,
    /// SIGQUIT (^\).
    Quit,
    /// SIGTSTP (^Z).
    Suspend,
}

/// What receiving a byte produced.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Received {
    /// Bytes to echo to the terminal (already output-processed).
    pub echo: Vec<u8>,
    /// A signal for the foreground process group.
    pub signal: Option<Signal>,
    /// Readers may now make progress (wake them).
    pub readable: bool,
}

/// What a read got.
#[derive(Debug, PartialEq, Eq)]
pub enum Read {
    /// This many bytes were copied.
    Data(usize),
    /// End of input (^D at the start of a line): the read returns 0.
    EndOfFile,
    /// Nothing yet: wait for input.
    Empty,
}

/// One terminal's input state.
#[derive(Debug, Default)]
pub struct LineDiscipline {
    settings: Settings,
    /// The line being edited (canonical mode).
    editing: Vec<u8>,
    /// Completed input readers may take; `None` marks an end-of-file.
    ready: VecDeque<Option<u8>>,
}

fn is_word_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

impl LineDiscipline {
    /// A line discipline with Linux's default console settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Changes the settings. Leaving canonical mode hands the partial line to readers;
    /// `flush` discards pending input (TCSETSF).
    pub fn set_settings(&mut self, settings: Settings, flush: bool) {
        if flush {
            self.editing.clear();
            self.ready.clear();
        } else if self.settings.canonical && !settings.canonical {
            self.ready.extend(self.editing.drain(..).map(Some));
        }
        self.settings = settings;
    }

    /// Bytes readers can take now (FIONREAD).
    pub fn available(&self) -> usize {
        self.ready.iter().take_while(|byte| byte.is_some()).count()
    }

    /// Whether a read would not wait.
    pub fn is_readable(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Processes one input byte from the terminal.
    pub fn receive(&mut self, byte: u8) -> Received {
        let settings = self.settings;
        let mut received = Received::default();
        let byte = match byte {
            b'\r' if settings.ignore_cr => return received,
            b'\r' if settings.cr_to_nl => b'\n',
            b'\n' if settings.nl_to_cr => b'\r',
            other => other,
        };
        let chars = settings.chars;
        if settings.signals && byte != 0 {
            let signal = if byte == chars.interrupt {
                Some(Signal::Interrupt)
            } else if byte == chars.quit {
                Some(Signal::Quit)
            } else if byte == chars.suspend {
                Some(Signal::Suspend)
            } else {
                None
            };
            if let Some(signal) = signal {
                // Like Linux: the pending input is flushed and the character echoed.
                self.editing.clear();
                self.ready.clear();
                if settings.echo {
                    self.echo_char(byte, &mut received.echo);
                    received.echo.extend_from_slice(if settings.output_nl_to_crnl { b"\r\n" } else { b"\n" });
                }
                received.signal = Some(signal);
                return received;
            }
        }
        if !settings.canonical {
            self.ready.push_back(Some(byte));
            if settings.echo {
                self.echo_char(byte, &mut received.echo);
            }
            received.readable = true;
            return received;
        }
        if byte == chars.erase || byte == 0x08 {
            if let Some(erased) = self.editing.pop() {
                self.echo_erase(erased, &mut received.echo);
            }
        } else if byte == chars.word_erase && chars.word_erase != 0 {
            while self.editing.last().is_some_and(|&b| b == b' ') {
                let erased = self.editing.pop().unwrap();
                self.echo_erase(erased, &mut received.echo);
            }
            while self.editing.last().is_some_and(|&b| is_word_char(b)) {
                let erased = self.editing.pop().unwrap();
                self.echo_erase(erased, &mut received.echo);
            }
        } else if byte == chars.kill && chars.kill != 0 {
            while let Some(erased) = self.editing.pop() {
                if settings.echo && settings.echo_kill {
                    self.echo_erase(erased, &mut received.echo);
                }
            }
        } else if byte == chars.end_of_file && chars.end_of_file != 0 {
            // ^D: hand over the line as it is; on an empty line that is end-of-file.
            if self.editing.is_empty() {
                self.ready.push_back(None);
            } else {
                self.ready.extend(self.editing.drain(..).map(Some));
            }
            received.readable = true;
        } else if byte == b'\n' {
            self.editing.push(b'\n');
            self.ready.extend(self.editing.drain(..).map(Some));
            if settings.echo || settings.echo_newline {
                received.echo.extend_from_slice(if settings.output_nl_to_crnl { b"\r\n" } else { b"\n" });
            }
            received.readable = true;
        } else {
            self.editing.push(byte);
            if settings.echo {
                self.echo_char(byte, &mut received.echo);
            }
        }
        received
    }

    fn echo_char(&self, byte: u8, echo: &mut Vec<u8>) {
        if self.settings.echo_control && byte < 0x20 && byte != b'\t' && byte != b'\n' {
            echo.extend_from_slice(&[b'^', byte + 0x40]);
        } else if byte == b'\n' && self.settings.output_nl_to_crnl {
            echo.extend_from_slice(b"\r\n");
        } else {
            echo.push(byte);
        }
    }

    fn echo_erase(&self, erased: u8, echo: &mut Vec<u8>) {
        if !(self.settings.echo && self.settings.echo_erase) {
            return;
        }
        let width = if self.settings.echo_control && erased < 0x20 && erased != b'\t' { 2 } else { 1 };
        for _ in 0..width {
            echo.extend_from_slice(b"\x08 \x08");
        }
    }

    /// Takes input for a reader. Canonical mode returns at most one line; an
    /// end-of-file mark is consumed by the read that meets it first.
    pub fn read(&mut self, buffer: &mut [u8]) -> Read {
        if buffer.is_empty() {
            return Read::Data(0);
        }
        match self.ready.front() {
            None => return Read::Empty,
            Some(None) => {
                self.ready.pop_front();
                return Read::EndOfFile;
            }
            Some(Some(_)) => {}
        }
        let mut copied = 0;
        while copied < buffer.len() {
            match self.ready.front() {
                Some(Some(byte)) => {
                    buffer[copied] = *byte;
                    copied += 1;
                    self.ready.pop_front();
                    if self.settings.canonical && *buffer.get(copied - 1).unwrap() == b'\n' {
                        break;
                    }
                }
                _ => break,
            }
        }
        Read::Data(copied)
    }

    /// Output processing (OPOST/ONLCR): what to send to the terminal for `bytes`.
    pub fn process_output(&self, bytes: &[u8], out: &mut Vec<u8>) {
        if !self.settings.output_nl_to_crnl {
            out.extend_from_slice(bytes);
            return;
        }
        for &byte in bytes {
            if byte == b'\n' {
                out.push(b'\r');
            }
            out.push(byte);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(line: &mut LineDiscipline, input: &[u8]) -> Vec<u8> {
        input.iter().flat_map(|&byte| line.receive(byte).echo).collect()
    }

    fn read_all(line: &mut LineDiscipline) -> Vec<u8> {
        let mut buffer = [0u8; 64];
        match line.read(&mut buffer) {
            Read::Data(n) => buffer[..n].to_vec(),
            other => panic!("expected data, got {other:?}"),
        }
    }

    #[test]
    fn canonical_mode_delivers_whole_lines_with_echo() {
        let mut line = LineDiscipline::new();
        let echo = feed(&mut line, b"ls -l");
        assert_eq!(echo, b"ls -l");
        assert!(!line.is_readable(), "no line yet");
        assert_eq!(line.read(&mut [0; 8]), Read::Empty);
        let received = line.receive(b'\r');
        assert!(received.readable);
        assert_eq!(received.echo, b"\r\n", "CR becomes NL, echoed as CR LF");
        assert_eq!(read_all(&mut line), b"ls -l\n");
    }

    #[test]
    fn a_read_returns_at_most_one_line() {
        let mut line = LineDiscipline::new();
        feed(&mut line, b"one\ntwo\n");
        assert_eq!(read_all(&mut line), b"one\n");
        assert_eq!(read_all(&mut line), b"two\n");
        let mut small = [0u8; 2];
        feed(&mut line, b"abc\n");
        assert_eq!(line.read(&mut small), Read::Data(2));
        assert_eq!(&small, b"ab");
        assert_eq!(read_all(&mut line), b"c\n");
    }

    #[test]
    fn erase_word_erase_and_kill() {
        let mut line = LineDiscipline::new();
        let echo = feed(&mut line, b"abx\x7f");
        assert!(echo.ends_with(b"\x08 \x08"));
        feed(&mut line, b"c dir_1  \x17");
        feed(&mut line, b"\n");
        assert_eq!(read_all(&mut line), b"abc \n");
        feed(&mut line, b"garbage\x15ok\n");
        assert_eq!(read_all(&mut line), b"ok\n");
    }

    #[test]
    fn control_d_is_end_of_file_only_on_an_empty_line() {
        let mut line = LineDiscipline::new();
        feed(&mut line, b"partial\x04");
        assert_eq!(read_all(&mut line), b"partial", "^D hands over the line without a newline");
        feed(&mut line, b"\x04");
        assert_eq!(line.read(&mut [0; 8]), Read::EndOfFile);
        assert_eq!(line.read(&mut [0; 8]), Read::Empty, "the end-of-file mark is consumed once");
    }

    #[test]
    fn control_c_signals_flushes_and_echoes() {
        let mut line = LineDiscipline::new();
        feed(&mut line, b"sleep 100");
        let received = line.receive(0x03);
        assert_eq!(received.signal, Some(Signal::Interrupt));
        assert_eq!(received.echo, b"^C\r\n");
        feed(&mut line, b"\n");
        assert_eq!(read_all(&mut line), b"\n", "the partial line was discarded");
        assert_eq!(line.receive(0x1c).signal, Some(Signal::Quit));
        assert_eq!(line.receive(0x1a).signal, Some(Signal::Suspend));
        let mut no_signals = Settings::default();
        no_signals.signals = false;
        line.set_settings(no_signals, true);
        assert_eq!(line.receive(0x03).signal, None);
    }

    #[test]
    fn raw_mode_passes_bytes_through_at_once() {
        let mut line = LineDiscipline::new();
        let mut raw = Settings::default();
        raw.canonical = false;
        raw.echo = false;
        raw.cr_to_nl = false;
        feed(&mut line, b"ab");
        line.set_settings(raw, false);
        assert_eq!(read_all(&mut line), b"ab", "the partial line is handed over when leaving canonical mode");
        let received = line.receive(b'\r');
        assert!(received.readable);
        assert!(received.echo.is_empty());
        feed(&mut line, b"\x7fq");
        assert_eq!(read_all(&mut line), b"\r\x7fq", "no editing in raw mode");
    }

    #[test]
    fn output_turns_newlines_into_crlf_unless_disabled() {
        let mut line = LineDiscipline::new();
        let mut out = Vec::new();
        line.process_output(b"a\nb\n", &mut out);
        assert_eq!(out, b"a\r\nb\r\n");
        let mut raw = *line.settings();
        raw.output_nl_to_crnl = false;
        line.set_settings(raw, false);
        out.clear();
        line.process_output(b"a\n", &mut out);
        assert_eq!(out, b"a\n");
    }

    #[test]
    fn control_characters_echo_as_caret_notation() {
        let mut line = LineDiscipline::new();
        assert_eq!(feed(&mut line, b"\x01"), b"^A");
        let echo = feed(&mut line, b"\x7f");
        assert_eq!(echo, b"\x08 \x08\x08 \x08", "a ^A takes two columns to erase");
        assert_eq!(line.available(), 0);
    }
}
