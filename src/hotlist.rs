//! The set of functions to hot-patch.
//!
//! Built the way clang 22 builds it from `-fms-secure-hotpatch-functions-file=` and
//! `-fms-secure-hotpatch-functions-list=` (and the original `-fms-hotpatch-…` spelling):
//! the union of every file and every list, any number of each. A file holds one mangled
//! name per line (`\n` or `\r\n`), blank lines are skipped and `#` is not a comment; a
//! list is split at commas.
//!
//! One deliberate difference from clang 22: an entry with leading or trailing whitespace
//! is trimmed and reported in [`HotList::warnings`] (clang 22 keeps the spaces, so the
//! entry silently never matches anything).
//!
//! Names are bytes: mangled names are compared exactly, never converted lossily.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Why a function list could not be built: `FILE: cannot read …: why`, the OS error said
/// once (it is part of the message, not a separate source, so error chains do not repeat it).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// The functions file could not be read (missing, unreadable, a directory…).
    #[error("{}: cannot read the hot-patch functions file: {message}", path.display())]
    ReadFile { path: PathBuf, message: String },
    /// The file is not text (a NUL byte, invalid UTF-8, broken UTF-16).
    #[error("{}:{line}: the hot-patch functions file is not text: {why}", path.display())]
    NotText {
        path: PathBuf,
        line: usize,
        why: String,
    },
}

/// Why a list file (functions or allow-direct names) could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListFileError {
    /// The OS refused (the message without the error number).
    Io(String),
    /// Not text: where and why ([`crate::text::NotText`]).
    NotText(crate::text::NotText),
}

/// Reads a list file as Windows tools write it: its text, with a UTF-8 byte-order mark
/// removed and UTF-16 (with a mark) decoded; [`crate::text::Decoded::converted`] says
/// whether the bytes on disk differed. A NUL byte, invalid UTF-8, odd-length UTF-16 or an
/// unpaired surrogate is [`ListFileError::NotText`].
pub fn read_list_file(path: &Path) -> Result<crate::text::Decoded, ListFileError> {
    let raw = std::fs::read(path).map_err(|e| ListFileError::Io(crate::fsutil::io_message(&e)))?;
    crate::text::decode_strict(&raw).map_err(ListFileError::NotText)
}

/// A set of mangled function names, plus the warnings met while building it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HotList {
    names: BTreeSet<Vec<u8>>,
    warnings: Vec<String>,
}

impl HotList {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The set named by every `-file=` flag (`files`) and every `-list=` flag (`lists`): the
    /// one way the wrapper and each `hotpatch` command build it.
    pub fn from_flags<F: AsRef<Path>, L: AsRef<str>>(
        files: &[F],
        lists: &[L],
    ) -> Result<HotList, Error> {
        let mut list = HotList::new();
        for f in files {
            list.add_file(f.as_ref())?;
        }
        for l in lists {
            list.add_list(l.as_ref());
        }
        Ok(list)
    }

    /// Adds every name of a comma-separated list (the value of a `-list=` flag).
    pub fn add_list(&mut self, list: &str) {
        for entry in list.split(',') {
            self.add_entry(entry.as_bytes(), "list entry");
        }
    }

    /// Adds every line of the file at `path` (the value of a `-file=` flag), read by
    /// [`read_list_file`].
    pub fn add_file(&mut self, path: &Path) -> Result<(), Error> {
        let decoded = read_list_file(path).map_err(|e| match e {
            ListFileError::Io(message) => Error::ReadFile {
                path: path.to_path_buf(),
                message,
            },
            ListFileError::NotText(n) => Error::NotText {
                path: path.to_path_buf(),
                line: n.line,
                why: n.why,
            },
        })?;
        self.add_file_contents(decoded.text.as_bytes(), &path.display().to_string());
        Ok(())
    }

    /// Adds every line of `contents`, as if read from a file called `origin`.
    pub fn add_file_contents(&mut self, contents: &[u8], origin: &str) {
        for (i, line) in contents.split(|&b| b == b'\n').enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            self.add_entry(line, &format!("{origin}:{}", i + 1));
        }
    }

    /// Adds one name; `entry` is trimmed (with a warning) and skipped when blank.
    pub fn add_name(&mut self, name: &[u8]) {
        self.add_entry(name, "name");
    }

    fn add_entry(&mut self, raw: &[u8], origin: &str) {
        let trimmed = raw.trim_ascii();
        if trimmed.is_empty() {
            return;
        }
        if trimmed.len() != raw.len() {
            self.warnings.push(format!(
                "{origin}: hot-patch function name '{}' has surrounding whitespace; using '{}'",
                String::from_utf8_lossy(raw),
                String::from_utf8_lossy(trimmed)
            ));
        }
        self.names.insert(trimmed.to_vec());
    }

    /// Whether `name` (an IR or COFF symbol name, exact bytes) is in the set.
    pub fn contains(&self, name: &[u8]) -> bool {
        self.names.contains(name)
    }

    /// The names, in byte order (deterministic).
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.names.iter().map(Vec::as_slice)
    }

    /// How many distinct names the set holds.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Warnings about entries that were normalised, for the caller to print.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

impl<'a> FromIterator<&'a str> for HotList {
    fn from_iter<I: IntoIterator<Item = &'a str>>(iter: I) -> Self {
        let mut list = HotList::new();
        for name in iter {
            list.add_name(name.as_bytes());
        }
        list
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Encoding;

    #[test]
    fn union_of_lists_and_files_with_crlf_and_blank_lines() {
        let mut l = HotList::new();
        l.add_list("f,g");
        l.add_list("g,h");
        l.add_file_contents(b"?f@S@@QEAAHH@Z\r\n\r\n\nbump\n# not a comment\n", "x.txt");
        let names: Vec<_> = l
            .iter()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect();
        assert_eq!(
            names,
            ["# not a comment", "?f@S@@QEAAHH@Z", "bump", "f", "g", "h"]
        );
        assert!(l.warnings().is_empty());
    }

    #[test]
    fn whitespace_is_trimmed_with_a_warning_naming_the_origin() {
        let mut l = HotList::new();
        l.add_list("a, b");
        l.add_file_contents(b"c \n", "fns.txt");
        assert!(l.contains(b"b") && l.contains(b"c"));
        assert_eq!(l.warnings().len(), 2);
        assert!(
            l.warnings()[1].starts_with("fns.txt:1:"),
            "{:?}",
            l.warnings()
        );
    }

    #[test]
    fn missing_file_names_the_file_and_says_the_cause_once() {
        let err = HotList::from_flags(&["nonexist.txt"], &["f"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "nonexist.txt: cannot read the hot-patch functions file: {}",
                crate::fsutil::file_not_found_message()
            )
        );
        assert!(std::error::Error::source(&err).is_none());
    }

    #[test]
    fn names_are_bytes() {
        let mut l = HotList::new();
        l.add_file_contents(b"caf\xe9\n", "latin1.txt");
        assert!(l.contains(b"caf\xe9"));
    }

    #[test]
    fn files_as_windows_writes_them() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            p
        };
        let bom = write("bom.txt", b"\xEF\xBB\xBFf\r\ng\r\n");
        let utf16 = "h\r\n?i@@YAXXZ\r\n";
        let le = write("le.txt", &Encoding::Utf16Le.encode(utf16));
        let be = write("be.txt", &Encoding::Utf16Be.encode(utf16));
        let l = HotList::from_flags(&[bom, le, be], &[] as &[&str]).unwrap();
        let names: Vec<_> = l
            .iter()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect();
        assert_eq!(names, ["?i@@YAXXZ", "f", "g", "h"]);
        assert!(l.warnings().is_empty(), "{:?}", l.warnings());
    }

    #[test]
    fn a_file_that_is_not_text_is_an_error_naming_file_and_line() {
        let (_dir, p) = crate::driver::temp_file("hot.txt", "f\r\ng\0\r\n");
        let err = HotList::from_flags(&[&p], &[] as &[&str]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}:2: the hot-patch functions file is not text: a NUL byte (binary data, or UTF-16 without a byte-order mark?)",
                p.display()
            )
        );
        std::fs::write(&p, b"f\ncaf\xe9\n").unwrap();
        let err = HotList::from_flags(&[&p], &[] as &[&str]).unwrap_err();
        assert!(
            err.to_string().starts_with(&format!(
                "{}:2: the hot-patch functions file is not text: invalid UTF-8",
                p.display()
            )),
            "{err}"
        );
    }
}
