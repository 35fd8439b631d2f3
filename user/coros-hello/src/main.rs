//! coros-hello: the first user program of coros.
//!
//! It prints what a freshly started process can see — its arguments, how many
//! environment variables it got (and their names), whether it has a sane process id —
//! and exits with status 0. Every line is a stable fact (no addresses, no times, no pid
//! values), so its output on coros and on Linux can be compared byte for byte.

use std::io::Write;

fn main() {
    let mut out = std::io::stdout().lock();
    let args: Vec<String> = std::env::args_os()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    writeln!(out, "hello from coros-hello").unwrap();
    writeln!(out, "argc: {}", args.len()).unwrap();
    for (index, arg) in args.iter().enumerate() {
        // argv[0] is the path the shell found; print only its file name.
        let shown = if index == 0 {
            arg.rsplit('/').next().unwrap_or(arg)
        } else {
            arg
        };
        writeln!(out, "argv[{index}]: {shown}").unwrap();
    }
    let mut names: Vec<String> = std::env::vars_os()
        .map(|(name, _)| name.to_string_lossy().into_owned())
        .collect();
    names.sort();
    writeln!(out, "envp count: {}", names.len()).unwrap();
    writeln!(out, "env names: {}", names.join(",")).unwrap();
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() };
    writeln!(out, "getpid > 1: {}", pid > 1).unwrap();
    out.flush().unwrap();
    drop(out);
    // One raw write(2), not through std's buffering.
    let line = b"write(2) to stdout: ok\n";
    // SAFETY: the buffer is valid for its length.
    let written = unsafe { libc::write(1, line.as_ptr().cast(), line.len()) };
    assert_eq!(written, line.len() as isize);
    std::process::exit(0);
}
