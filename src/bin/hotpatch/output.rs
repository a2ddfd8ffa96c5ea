//! Where the toolbox's text goes: results on stdout, diagnostics on stderr, each diagnostic one
//! line prefixed `hotpatch: error:`, `hotpatch: warning:` or `hotpatch: note:`. Every command
//! prints through these functions, so how a closed stream is handled is decided here alone.

use std::fmt::Display;
use std::io::Write;

/// One line of results on stdout.
pub fn out(line: impl Display) {
    let written = writeln!(std::io::stdout().lock(), "{line}");
    if let Err(e) = written {
        stdout_failed(&e);
    }
}

/// A write to stdout failed. A reader that closed the pipe (`hotpatch dump … | head -1`) has
/// all it wanted: the command ends quietly with status 0. Any other failure is one error line
/// and status 1. (`println!` would panic in both cases.)
pub fn stdout_failed(e: &std::io::Error) -> ! {
    if closed_pipe(e) {
        std::process::exit(0);
    }
    err(format_args!("hotpatch: error: <stdout>: cannot write: {e}"));
    std::process::exit(1);
}

/// Whether `e` is a write into a pipe whose reader is gone: `BrokenPipe` (EPIPE on Unix,
/// ERROR_BROKEN_PIPE on Windows), or Windows' ERROR_NO_DATA (232) and
/// ERROR_PIPE_NOT_CONNECTED (233), the latter what Wine reports once the reader has exited.
fn closed_pipe(e: &std::io::Error) -> bool {
    const ERROR_NO_DATA: i32 = 232;
    const ERROR_PIPE_NOT_CONNECTED: i32 = 233;
    e.kind() == std::io::ErrorKind::BrokenPipe
        || (cfg!(windows)
            && matches!(
                e.raw_os_error(),
                Some(ERROR_NO_DATA | ERROR_PIPE_NOT_CONNECTED)
            ))
}

/// One line on stderr, as is (progress and summaries).
pub fn err(line: impl Display) {
    eprintln!("{line}");
}

/// `hotpatch: error: …` on stderr; an `anyhow` chain is joined with `: `.
pub fn error(e: &anyhow::Error) {
    err(format_args!("hotpatch: error: {e:#}"));
}

/// `hotpatch: error: FILE: message` on stderr.
pub fn file_error(file: &str, message: &str) {
    err(format_args!("hotpatch: error: {file}: {message}"));
}

/// `hotpatch: warning: …` on stderr.
pub fn warning(w: impl Display) {
    err(format_args!("hotpatch: warning: {w}"));
}

/// `hotpatch: note: …` on stderr.
pub fn note(n: impl Display) {
    err(format_args!("hotpatch: note: {n}"));
}

/// `out!("…", args)`: [`out`] with `format!` syntax.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::out(format_args!($($arg)*))
    };
}

/// `err!("…", args)`: [`err`] with `format!` syntax.
macro_rules! err {
    ($($arg:tt)*) => {
        $crate::output::err(format_args!($($arg)*))
    };
}
