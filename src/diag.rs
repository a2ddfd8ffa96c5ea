//! The wrapper's own diagnostics: one `hotpatch-cl: warning: …` line each on stderr, and
//! `HOTPATCH_WERROR=1`, which turns them into errors (the compile then fails with exit 1 and
//! leaves no object behind: the caller must check [`Warnings::flush`] before writing it).
//!
//! Also the texts of the warnings that need the command line rather than the IR
//! (hot-patching without the patchable prologue). Does not decide when to warn about the IR:
//! that is `ir::Report::warnings`.

use std::ffi::OsStr;
use std::io::Write;

/// The environment variable that turns warnings into errors.
pub const WERROR_ENV: &str = "HOTPATCH_WERROR";

/// Whether the value of [`WERROR_ENV`] asks for errors: set, not empty and not `0`.
pub fn werror_requested(value: Option<&OsStr>) -> bool {
    value.is_some_and(|v| !v.is_empty() && v != "0")
}

/// Warnings were printed as errors under `HOTPATCH_WERROR`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{count} warning(s) treated as errors ({WERROR_ENV} is set)")]
pub struct Werror {
    pub count: usize,
}

/// Warnings collected during one compile, printed together.
#[derive(Debug, Default, Clone)]
pub struct Warnings {
    list: Vec<String>,
    werror: bool,
}

impl Warnings {
    /// An empty set; `werror` from [`werror_requested`].
    pub fn new(werror: bool) -> Self {
        Warnings {
            list: Vec::new(),
            werror,
        }
    }

    /// Adds one warning (one line, no prefix).
    pub fn push(&mut self, w: impl Into<String>) {
        self.list.push(w.into());
    }

    /// Adds several.
    pub fn extend<I: IntoIterator<Item = String>>(&mut self, ws: I) {
        self.list.extend(ws);
    }

    /// The warnings so far.
    pub fn as_slice(&self) -> &[String] {
        &self.list
    }

    /// Prints every warning to `out` (`hotpatch-cl: warning: …`, or `hotpatch-cl: error: …`
    /// under werror) and empties the set. Under werror with any warning, returns [`Werror`]:
    /// the caller fails the compile.
    pub fn flush(&mut self, out: &mut dyn Write) -> Result<(), Werror> {
        let kind = if self.werror { "error" } else { "warning" };
        for w in &self.list {
            // Diagnostics on a closed stderr are lost; nothing better can be done.
            let _ = writeln!(out, "hotpatch-cl: {kind}: {w}");
        }
        let count = std::mem::take(&mut self.list).len();
        if self.werror && count > 0 {
            Err(Werror { count })
        } else {
            Ok(())
        }
    }
}

/// The warning for a hot-patch build without the patchable prologue flag (`/hotpatch` in
/// clang-cl mode, `-fms-hotpatch` in GNU mode), which Windows secure hot-patching needs:
/// clang 22 builds such objects silently.
pub fn missing_hotpatch_flag(cl_mode: bool) -> String {
    let flag = if cl_mode {
        "/hotpatch"
    } else {
        "-fms-hotpatch"
    };
    format!(
        "hot-patch functions are listed but {flag} is missing: without the patchable prologue it adds, the functions cannot be hot-patched"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn werror_values() {
        assert!(werror_requested(Some(OsStr::new("1"))));
        assert!(werror_requested(Some(OsStr::new("yes"))));
        assert!(!werror_requested(Some(OsStr::new("0"))));
        assert!(!werror_requested(Some(OsStr::new(""))));
        assert!(!werror_requested(None));
    }

    #[test]
    fn flush_prints_prefixed_lines_and_fails_under_werror() {
        let mut w = Warnings::new(false);
        w.push("a");
        w.extend(["b".to_string()]);
        let mut out = Vec::new();
        assert_eq!(w.flush(&mut out), Ok(()));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "hotpatch-cl: warning: a\nhotpatch-cl: warning: b\n"
        );
        assert!(w.as_slice().is_empty());

        let mut w = Warnings::new(true);
        let mut out = Vec::new();
        assert_eq!(w.flush(&mut out), Ok(()), "no warning, no error");
        w.push(missing_hotpatch_flag(true));
        assert_eq!(w.flush(&mut out), Err(Werror { count: 1 }));
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with(
                "hotpatch-cl: error: hot-patch functions are listed but /hotpatch is missing"
            ),
            "{text}"
        );
    }
}
