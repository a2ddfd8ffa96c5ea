//! Where the toolbox's text goes: results on stdout, diagnostics on stderr, each diagnostic one
//! line prefixed `hotpatch: error:`, `hotpatch: warning:` or `hotpatch: note:`. Every command
//! prints through these functions, so how a closed stream is handled is decided here alone.

use std::fmt::Display;

/// One line of results on stdout.
pub fn out(line: impl Display) {
    println!("{line}");
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
