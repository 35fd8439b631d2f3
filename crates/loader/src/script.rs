//! `#!` scripts, parsed by the rules of Linux's fs/binfmt_script.c: only the first
//! [`BINPRM_BUF_SIZE`] bytes are looked at; the line ends at the first newline (or, if
//! there is none, at the end of that buffer, provided the interpreter path itself is
//! not cut off); spaces and tabs around the interpreter are trimmed; whatever follows
//! the interpreter's first space or tab — inner spaces included, trailing ones trimmed
//! — is a single optional argument. A NUL ends the interpreter path (and drops the
//! argument) or ends the argument.

use alloc::vec::Vec;

/// How many leading bytes of a file the kernel examines (`BINPRM_BUF_SIZE`).
pub const BINPRM_BUF_SIZE: usize = 256;

/// The `#!` line of a script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shebang<'a> {
    /// The interpreter's path, e.g. `/bin/sh`.
    pub interpreter: &'a [u8],
    /// The optional single argument, e.g. `-e` (may contain spaces).
    pub argument: Option<&'a [u8]>,
}

fn is_space_or_tab(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

/// Parses the `#!` line at the start of `file` (its first bytes suffice). `None` if the
/// file is not a script, or if it is one Linux refuses (`ENOEXEC`): no interpreter, or
/// an interpreter path longer than the buffer.
pub fn shebang(file: &[u8]) -> Option<Shebang<'_>> {
    if !file.starts_with(b"#!") {
        return None;
    }
    // Linux reads the head of the file into a zeroed buffer; bytes past the end of a
    // short file read as NUL.
    let byte = |index: usize| file.get(index).copied().unwrap_or(0);
    let last = BINPRM_BUF_SIZE - 1;
    // strnchr: the search for the newline stops at a NUL.
    let newline = file
        .iter()
        .take(BINPRM_BUF_SIZE)
        .take_while(|&&b| b != 0)
        .position(|&b| b == b'\n');
    let mut line_end = match newline {
        Some(index) => index,
        None => {
            // No newline in the buffer: the interpreter must at least end inside it.
            let name = (2..=last).find(|&i| !is_space_or_tab(byte(i)))?;
            (name..=last).find(|&i| is_space_or_tab(byte(i)) || byte(i) == 0)?;
            last
        }
    };
    while is_space_or_tab(byte(line_end - 1)) {
        line_end -= 1;
    }
    let name = (2..=line_end).find(|&i| !is_space_or_tab(byte(i)))?;
    if name == line_end {
        return None;
    }
    let separator = (name..=line_end).find(|&i| is_space_or_tab(byte(i)) || byte(i) == 0);
    let argument = separator
        .filter(|&i| byte(i) != 0)
        .and_then(|separator| (separator..=line_end).find(|&i| !is_space_or_tab(byte(i))))
        .filter(|&start| start < line_end)
        .map(|start| {
            let end = (start..line_end)
                .find(|&i| byte(i) == 0)
                .unwrap_or(line_end);
            &file[start..end]
        });
    let name_end = separator.unwrap_or(line_end).min(file.len());
    Some(Shebang {
        interpreter: &file[name..name_end],
        argument,
    })
}

/// The argv the interpreter runs with, as Linux builds it: `[interpreter, argument
/// (if any), script_path, argv[1..]]`. The original `argv[0]` is dropped; the script
/// is named by the path it was executed by.
pub fn script_argv<'a>(
    shebang: &Shebang<'a>,
    script_path: &'a [u8],
    argv: &[&'a [u8]],
) -> Vec<&'a [u8]> {
    let rest = argv.get(1..).unwrap_or_default();
    let mut new_argv = Vec::with_capacity(3 + rest.len());
    new_argv.push(shebang.interpreter);
    new_argv.extend(shebang.argument);
    new_argv.push(script_path);
    new_argv.extend_from_slice(rest);
    new_argv
}
