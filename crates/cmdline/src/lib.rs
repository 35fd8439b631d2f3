//! Parsing the kernel command line (`-append "..."` in QEMU, `/chosen/bootargs` in the
//! device tree).
//!
//! One QEMU command line should boot both coros and Linux, so Linux's common options
//! are understood (`loglevel=`, `quiet`, `init=`, `rdinit=`, `root=`) or quietly
//! accepted (`console=`, `earlycon`, `rw`, `ro`, ...). coros' own options are
//! `log=LEVEL`, `demo`, `test=NAME` and `bench=NAME`. Anything else is not an error:
//! as on Linux, an unknown `key=value` goes into init's environment and an unknown
//! word becomes an argument of init (words after `--` too), with a warning; a bad value
//! of a known option is a warning, and boot goes on.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

pub use log::LevelFilter;

/// What the kernel should do once it has booted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Action<'a> {
    /// Nothing asked: the default program.
    #[default]
    Default,
    /// The seed demo (two sleeping tasks).
    Demo,
    /// Run the named kernel self-test, then power off.
    Test(&'a str),
    /// Run the named in-kernel benchmark, then power off.
    Bench(&'a str),
}

/// The parsed command line. Borrowed strings point into the original text.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Cmdline<'a> {
    /// Log level (`log=`, or Linux's `loglevel=` / `quiet`).
    pub log_level: Option<LevelFilter>,
    /// What to run.
    pub action: Action<'a>,
    /// `init=`: the first user program.
    pub init: Option<&'a str>,
    /// `rdinit=`: the first user program from the initramfs.
    pub rdinit: Option<&'a str>,
    /// `root=`: the root device.
    pub root: Option<&'a str>,
    /// Unknown `key=value` words: init's environment (Linux does the same).
    pub init_env: Vec<&'a str>,
    /// Unknown plain words and everything after `--`: init's arguments.
    pub init_args: Vec<&'a str>,
    /// Problems found (unknown options, bad values), one sentence each.
    pub warnings: Vec<String>,
}

/// Options Linux knows that coros accepts without acting on them.
const ACCEPTED_LINUX_OPTIONS: &[&str] =
    &["console", "earlycon", "rw", "ro", "rootwait", "rootfstype", "panic", "nokaslr", "norandmaps", "noinitrd"];

/// Parses `text`. Never fails: problems become [`Cmdline::warnings`].
pub fn parse(text: &str) -> Cmdline<'_> {
    let mut cmdline = Cmdline::default();
    let mut words = text.split_ascii_whitespace();
    for word in words.by_ref() {
        if word == "--" {
            break;
        }
        let (key, value) = match word.split_once('=') {
            Some((key, value)) => (key, Some(value)),
            None => (word, None),
        };
        match (key, value) {
            ("log", Some(level)) => match parse_level(level) {
                Some(level) => cmdline.log_level = Some(level),
                None => cmdline.warnings.push(format!(
                    "unknown log level `{level}` in `{word}` (expected off, error, warn, info, debug or trace)"
                )),
            },
            ("loglevel", Some(number)) => match number.parse::<u8>() {
                Ok(number) => cmdline.log_level = Some(linux_loglevel(number)),
                Err(_) => cmdline.warnings.push(format!("`{word}`: loglevel takes a number 0-7")),
            },
            // Linux's `quiet` is loglevel=4: only errors and worse reach the console.
            ("quiet", None) => cmdline.log_level = Some(LevelFilter::Error),
            ("demo", None) => set_action(&mut cmdline, Action::Demo, word),
            ("test", Some(name)) if !name.is_empty() => set_action(&mut cmdline, Action::Test(name), word),
            ("bench", Some(name)) if !name.is_empty() => set_action(&mut cmdline, Action::Bench(name), word),
            ("init", Some(path)) if !path.is_empty() => cmdline.init = Some(path),
            ("rdinit", Some(path)) if !path.is_empty() => cmdline.rdinit = Some(path),
            ("root", Some(device)) if !device.is_empty() => cmdline.root = Some(device),
            (key, _) if ACCEPTED_LINUX_OPTIONS.contains(&key) => {}
            ("log" | "loglevel" | "test" | "bench" | "init" | "rdinit" | "root" | "demo" | "quiet", _) => {
                cmdline.warnings.push(format!("ignoring malformed option `{word}`"))
            }
            (key, Some(_)) if !key.is_empty() && !key.contains('.') => {
                cmdline.warnings.push(format!("unknown option `{word}` is passed to init's environment"));
                cmdline.init_env.push(word);
            }
            (key, None) if !key.contains('.') && !key.contains('=') => {
                cmdline.warnings.push(format!("unknown option `{word}` is passed to init as an argument"));
                cmdline.init_args.push(word);
            }
            _ => cmdline.warnings.push(format!("ignoring malformed option `{word}`")),
        }
    }
    cmdline.init_args.extend(words);
    cmdline
}

fn set_action<'a>(cmdline: &mut Cmdline<'a>, action: Action<'a>, word: &str) {
    if cmdline.action != Action::Default {
        cmdline.warnings.push(format!("`{word}` replaces an earlier demo/test/bench option"));
    }
    cmdline.action = action;
}

fn parse_level(level: &str) -> Option<LevelFilter> {
    match level.to_ascii_lowercase().as_str() {
        "off" => Some(LevelFilter::Off),
        "error" => Some(LevelFilter::Error),
        "warn" | "warning" => Some(LevelFilter::Warn),
        "info" => Some(LevelFilter::Info),
        "debug" => Some(LevelFilter::Debug),
        "trace" => Some(LevelFilter::Trace),
        _ => None,
    }
}

/// Linux's console log level N prints messages of level below N (0 emergency,
/// 3 error, 4 warning, 6 info, 7 debug), mapped onto `log`'s levels.
fn linux_loglevel(number: u8) -> LevelFilter {
    match number {
        0..=4 => LevelFilter::Error,
        5 | 6 => LevelFilter::Warn,
        7 => LevelFilter::Info,
        _ => LevelFilter::Debug,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_line_is_the_default() {
        assert_eq!(parse(""), Cmdline::default());
        assert_eq!(parse("   ").action, Action::Default);
    }

    #[test]
    fn coros_options() {
        let cmdline = parse("log=debug test=executor-spawn-join");
        assert_eq!(cmdline.log_level, Some(LevelFilter::Debug));
        assert_eq!(cmdline.action, Action::Test("executor-spawn-join"));
        assert!(cmdline.warnings.is_empty());
        assert_eq!(parse("demo").action, Action::Demo);
        assert_eq!(parse("bench=yield").action, Action::Bench("yield"));
        assert_eq!(parse("log=WARN").log_level, Some(LevelFilter::Warn));
    }

    #[test]
    fn linux_options_are_understood_or_accepted() {
        let cmdline = parse("console=ttyS0 earlycon quiet rdinit=/init init=/sbin/init root=/dev/vda rw");
        assert!(cmdline.warnings.is_empty(), "{:?}", cmdline.warnings);
        assert_eq!(cmdline.log_level, Some(LevelFilter::Error), "quiet is loglevel=4: errors only");
        assert_eq!(cmdline.rdinit, Some("/init"));
        assert_eq!(cmdline.init, Some("/sbin/init"));
        assert_eq!(cmdline.root, Some("/dev/vda"));
        assert_eq!(parse("loglevel=8").log_level, Some(LevelFilter::Debug));
        assert_eq!(parse("loglevel=7").log_level, Some(LevelFilter::Info));
        assert_eq!(parse("loglevel=5").log_level, Some(LevelFilter::Warn));
        assert_eq!(parse("loglevel=1").log_level, Some(LevelFilter::Error));
    }

    #[test]
    fn unknown_and_malformed_options_warn_and_parsing_goes_on() {
        let cmdline = parse("log=nonsense bogus=1 test= loglevel=x demo");
        assert_eq!(cmdline.warnings.len(), 4, "{:?}", cmdline.warnings);
        assert!(cmdline.warnings[0].contains("nonsense"));
        assert!(cmdline.warnings[1].contains("bogus=1"));
        assert!(cmdline.warnings[2].contains("test="));
        assert!(cmdline.warnings[3].contains("loglevel=x"));
        assert_eq!(cmdline.log_level, None);
        assert_eq!(cmdline.action, Action::Demo, "later valid options still apply");
        assert_eq!(cmdline.init_env, ["bogus=1"]);
    }

    #[test]
    fn unknown_words_go_to_init_like_linux() {
        let cmdline = parse("coros_test=hello single a.b=c -- -x y");
        assert_eq!(cmdline.init_env, ["coros_test=hello"]);
        assert_eq!(cmdline.init_args, ["single", "-x", "y"]);
        assert_eq!(cmdline.warnings.len(), 3, "{:?}", cmdline.warnings);
        assert!(cmdline.warnings[2].contains("a.b=c"), "module options (with a dot) are not init's");
    }

    #[test]
    fn a_second_action_replaces_the_first_with_a_warning() {
        let cmdline = parse("demo test=rtc");
        assert_eq!(cmdline.action, Action::Test("rtc"));
        assert_eq!(cmdline.warnings.len(), 1);
    }
}
