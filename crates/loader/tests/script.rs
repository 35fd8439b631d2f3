//! `#!` parsing against Linux's binfmt_script rules, and the argv it produces.

use loader::{script_argv, shebang, Shebang};

fn parsed(file: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    shebang(file).map(|s| (s.interpreter, s.argument))
}

#[test]
fn common_lines() {
    assert_eq!(
        parsed(b"#!/bin/sh\necho hi\n"),
        Some((&b"/bin/sh"[..], None))
    );
    assert_eq!(
        parsed(b"#!/bin/sh -e\n"),
        Some((&b"/bin/sh"[..], Some(&b"-e"[..])))
    );
    assert_eq!(
        parsed(b"#! \t/usr/bin/env  python3 -u \t \nprint()\n"),
        Some((&b"/usr/bin/env"[..], Some(&b"python3 -u"[..])))
    );
    assert_eq!(
        parsed(b"#!/bin/sh\t-x\n"),
        Some((&b"/bin/sh"[..], Some(&b"-x"[..])))
    );
    // Only spaces and tabs are trimmed: a CR stays (the classic DOS-script failure).
    assert_eq!(parsed(b"#!/bin/sh\r\n"), Some((&b"/bin/sh\r"[..], None)));
    assert_eq!(
        parsed(b"#!/bin/sh -e\r\n"),
        Some((&b"/bin/sh"[..], Some(&b"-e\r"[..])))
    );
    assert_eq!(parsed(b"#!/bin/sh \n"), Some((&b"/bin/sh"[..], None)));
}

#[test]
fn not_scripts() {
    assert_eq!(parsed(b""), None);
    assert_eq!(parsed(b"#"), None);
    assert_eq!(parsed(b"#/bin/sh\n"), None);
    assert_eq!(parsed(b"\x7fELF"), None);
    assert_eq!(parsed(b"#!\n"), None);
    assert_eq!(parsed(b"#! \t \n/bin/sh\n"), None);
}

#[test]
fn no_newline_within_the_buffer() {
    // A short file: its end terminates the path.
    assert_eq!(parsed(b"#!/bin/sh"), Some((&b"/bin/sh"[..], None)));
    assert_eq!(
        parsed(b"#!/bin/sh -e"),
        Some((&b"/bin/sh"[..], Some(&b"-e"[..])))
    );
    // A path that runs past 256 bytes is truncated: refused.
    let mut long = b"#!/".to_vec();
    long.extend(vec![b'a'; 300]);
    long.push(b'\n');
    assert_eq!(parsed(&long), None);
    // The path ends inside the buffer, the argument does not: it is cut at byte 255.
    let mut cut = b"#!/bin/sh ".to_vec();
    cut.extend(vec![b'x'; 300]);
    let (interpreter, argument) = parsed(&cut).unwrap();
    assert_eq!(interpreter, b"/bin/sh");
    assert_eq!(argument.unwrap().len(), 255 - 10);
    // Trailing blanks up to the end of the buffer are trimmed.
    let mut blanks = b"#!/bin/sh ".to_vec();
    blanks.extend(vec![b' '; 300]);
    blanks.push(b'\n');
    assert_eq!(parsed(&blanks), Some((&b"/bin/sh"[..], None)));
    // A newline at index 255 is found; at 256 it is not.
    let mut at_255 = b"#!/bin/sh ".to_vec();
    at_255.resize(255, b'y');
    at_255.push(b'\n');
    assert_eq!(parsed(&at_255).unwrap().1.unwrap().len(), 245);
}

#[test]
fn nul_bytes() {
    // A NUL ends the path and drops the argument.
    assert_eq!(parsed(b"#!/bin/sh\0 -e\n"), Some((&b"/bin/sh"[..], None)));
    // A NUL ends the argument (and hides a later newline from the search).
    assert_eq!(
        parsed(b"#!/bin/sh -e\0x\n"),
        Some((&b"/bin/sh"[..], Some(&b"-e"[..])))
    );
    // "#!" alone: Linux goes on with an empty path and fails to open it (ENOENT).
    assert_eq!(parsed(b"#!"), Some((&b""[..], None)));
}

#[test]
fn argv_is_rewritten_like_linux() {
    let line = Shebang {
        interpreter: b"/bin/sh",
        argument: Some(b"-e"),
    };
    let argv: [&[u8]; 3] = [b"script", b"one", b"two"];
    assert_eq!(
        script_argv(&line, b"/tmp/script", &argv),
        [&b"/bin/sh"[..], b"-e", b"/tmp/script", b"one", b"two"]
    );
    let bare = Shebang {
        interpreter: b"/bin/sh",
        argument: None,
    };
    assert_eq!(script_argv(&bare, b"./s", &[]), [&b"/bin/sh"[..], b"./s"]);
    assert_eq!(
        script_argv(&bare, b"./s", &[b"s"]),
        [&b"/bin/sh"[..], b"./s"]
    );
}

#[test]
fn random_lines_never_panic() {
    let alphabet = b"  \t\t\n\0/ab-\r";
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..20_000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let len = (state % 300) as usize;
        let mut file = b"#!".to_vec();
        let mut bits = state;
        for i in 0..len {
            if i % 16 == 0 {
                bits = bits.rotate_left(7) ^ state.wrapping_mul(i as u64 + 1);
            }
            file.push(alphabet[(bits % alphabet.len() as u64) as usize]);
            bits /= alphabet.len() as u64;
        }
        if let Some(line) = shebang(&file) {
            assert!(!line.interpreter.contains(&0) && !line.interpreter.contains(&b'\n'));
            assert!(line
                .argument
                .is_none_or(|a| !a.contains(&0) && a.len() < 256));
        }
    }
}
