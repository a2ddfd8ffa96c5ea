//! `@file` response files: expansion with the quoting rules of the driver that will read them.
//!
//! clang-cl splits a response file the way the Windows C runtime splits a command line
//! (backslashes are literal unless they precede a `"`, `""` inside quotes is a quote);
//! GNU-style clang uses POSIX-shell-like rules (`\` escapes, `'` and `"` quote). Files may
//! be UTF-8 (with or without a BOM) or UTF-16 with a BOM (MSBuild writes UTF-16 LE).
//! Nested `@file`s are resolved relative to the including file, as clang does. An `@name`
//! that names no file stays an argument (clang then reports it as a missing input).
//!
//! This is the only place the argument parser reads files. Not here: deciding anything.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Quoting rules of a response file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quoting {
    /// clang-cl (MSVC command-line rules).
    Windows,
    /// clang, clang++.
    Gnu,
}

/// Why a response file could not be expanded.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The cause is in the message (not a `source`), so error chains say it once.
    #[error("{}: cannot read the response file: {message}", path.display())]
    Read { path: PathBuf, message: String },
    #[error("response file {} is not valid UTF-8 or UTF-16", path.display())]
    Encoding { path: PathBuf },
    #[error("response file {} includes itself (nested deeper than {MAX_DEPTH} levels)", path.display())]
    TooDeep { path: PathBuf },
}

const MAX_DEPTH: usize = 32;

/// Replaces every `@file` of `args` by the arguments it holds (recursively).
pub fn expand(args: &[OsString], quoting: Quoting) -> Result<Vec<OsString>, Error> {
    let mut out = Vec::with_capacity(args.len());
    expand_into(args, quoting, None, 0, &mut out)?;
    Ok(out)
}

/// Whether any argument is a response file reference.
pub fn has_response_files(args: &[OsString]) -> bool {
    args.iter()
        .any(|a| a.as_encoded_bytes().first() == Some(&b'@'))
}

fn expand_into(
    args: &[OsString],
    quoting: Quoting,
    base: Option<&Path>,
    depth: usize,
    out: &mut Vec<OsString>,
) -> Result<(), Error> {
    for arg in args {
        let bytes = arg.as_encoded_bytes();
        let Some(rest) = bytes.strip_prefix(b"@") else {
            out.push(arg.clone());
            continue;
        };
        // A non-UTF-8 name is looked up lossily: it then names no file and stays as is.
        let name = PathBuf::from(match arg.to_str() {
            Some(s) => s[1..].to_owned(),
            None => String::from_utf8_lossy(rest).into_owned(),
        });
        let path = match base {
            Some(dir) if name.is_relative() => dir.join(&name),
            _ => name,
        };
        if !path.is_file() {
            out.push(arg.clone());
            continue;
        }
        if depth >= MAX_DEPTH {
            return Err(Error::TooDeep { path });
        }
        let raw = std::fs::read(&path).map_err(|e| Error::Read {
            path: path.clone(),
            message: crate::fsutil::io_message(&e),
        })?;
        let text = decode(&raw).ok_or_else(|| Error::Encoding { path: path.clone() })?;
        let words: Vec<OsString> = match quoting {
            Quoting::Windows => split_windows(&text),
            Quoting::Gnu => split_gnu(&text),
        }
        .into_iter()
        .map(OsString::from)
        .collect();
        let dir = path.parent().map(Path::to_path_buf);
        expand_into(&words, quoting, dir.as_deref(), depth + 1, out)?;
    }
    Ok(())
}

/// UTF-8 (BOM optional) or UTF-16 LE/BE with a BOM ([`crate::text::decode`]).
pub fn decode(raw: &[u8]) -> Option<String> {
    crate::text::decode(raw).ok().map(|d| d.text)
}

/// The words of a command line as they are split: a word starts at its first character or
/// quote (so `""` is an empty word) and ends at unquoted whitespace.
#[derive(Default)]
struct Words {
    done: Vec<String>,
    cur: String,
    in_word: bool,
}

impl Words {
    /// A word has started, maybe with nothing in it yet (an opening quote).
    fn start(&mut self) {
        self.in_word = true;
    }

    fn push(&mut self, c: char) {
        self.in_word = true;
        self.cur.push(c);
    }

    fn push_str(&mut self, s: &str) {
        self.in_word = true;
        self.cur.push_str(s);
    }

    /// Unquoted whitespace: the word, if one started, is complete.
    fn end(&mut self) {
        if self.in_word {
            self.done.push(std::mem::take(&mut self.cur));
            self.in_word = false;
        }
    }

    fn finish(mut self) -> Vec<String> {
        self.end();
        self.done
    }
}

/// MSVC rules: whitespace separates; `2n` backslashes + `"` give `n` backslashes and toggle
/// quoting, `2n+1` give `n` and a literal `"`; other backslashes are literal; `""` inside
/// quotes is a literal `"`.
pub fn split_windows(text: &str) -> Vec<String> {
    let mut words = Words::default();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let mut n = 1;
                while chars.peek() == Some(&'\\') {
                    chars.next();
                    n += 1;
                }
                if chars.peek() == Some(&'"') {
                    words.push_str(&"\\".repeat(n / 2));
                    if n % 2 == 1 {
                        chars.next();
                        words.push('"');
                    }
                } else {
                    words.push_str(&"\\".repeat(n));
                }
            }
            '"' => {
                words.start();
                if quoted && chars.peek() == Some(&'"') {
                    chars.next();
                    words.push('"');
                } else {
                    quoted = !quoted;
                }
            }
            c if !quoted && c.is_whitespace() => words.end(),
            c => words.push(c),
        }
    }
    words.finish()
}

/// GNU rules: whitespace separates; `\` escapes the next character anywhere; `'` and `"`
/// quote until the same quote.
pub fn split_gnu(text: &str) -> Vec<String> {
    let mut words = Words::default();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                words.start();
                if let Some(n) = chars.next() {
                    words.push(n);
                }
            }
            '"' | '\'' => {
                words.start();
                while let Some(q) = chars.next() {
                    if q == c {
                        break;
                    }
                    if q == '\\' {
                        if let Some(n) = chars.next() {
                            words.push(n);
                        }
                    } else {
                        words.push(q);
                    }
                }
            }
            c if c.is_whitespace() => words.end(),
            c => words.push(c),
        }
    }
    words.finish()
}

/// Quotes `arg` so that [`split_windows`] / [`split_gnu`] give it back.
pub fn quote(arg: &str, quoting: Quoting) -> String {
    match quoting {
        Quoting::Gnu => {
            let mut s = String::with_capacity(arg.len() + 2);
            s.push('\'');
            for c in arg.chars() {
                if c == '\'' || c == '\\' {
                    s.push('\\');
                }
                s.push(c);
            }
            s.push('\'');
            s
        }
        Quoting::Windows => {
            let mut s = String::with_capacity(arg.len() + 2);
            s.push('"');
            let mut backslashes = 0;
            for c in arg.chars() {
                if c == '\\' {
                    backslashes += 1;
                    continue;
                }
                if c == '"' {
                    s.push_str(&"\\".repeat(2 * backslashes + 1));
                } else {
                    s.push_str(&"\\".repeat(backslashes));
                }
                backslashes = 0;
                s.push(c);
            }
            s.push_str(&"\\".repeat(2 * backslashes));
            s.push('"');
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Encoding;
    use proptest::prelude::*;

    #[test]
    fn windows_rules() {
        assert_eq!(
            split_windows(
                r#"/c "a b.c" C:\dir\x.c "C:\dir with space\\" a\\\"b "x""y" /Fo"o.obj""#
            ),
            [
                "/c",
                "a b.c",
                r"C:\dir\x.c",
                r"C:\dir with space\",
                r#"a\"b"#,
                r#"x"y"#,
                "/Foo.obj"
            ]
        );
        assert_eq!(split_windows("  a\r\n\tb  "), ["a", "b"]);
        assert_eq!(split_windows(r#""""#), [""]);
    }

    #[test]
    fn gnu_rules() {
        assert_eq!(
            split_gnu(r#"-c 'a b.c' "x \"y\"" a\ b -DX=\"s\""#),
            ["-c", "a b.c", r#"x "y""#, "a b", r#"-DX="s""#]
        );
    }

    #[test]
    fn decodes_utf16_and_boms() {
        let le = Encoding::Utf16Le.encode("/c é");
        assert_eq!(decode(&le).unwrap(), "/c é");
        let be = Encoding::Utf16Be.encode("x");
        assert_eq!(decode(&be).unwrap(), "x");
        assert_eq!(decode(b"\xEF\xBB\xBFa").unwrap(), "a");
        assert!(decode(&[0xFF, 0xFE, 0x00]).is_none());
        assert!(decode(b"\xC3").is_none());
    }

    #[test]
    fn nested_files_are_relative_to_the_including_file_and_missing_ones_stay() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(
            dir.path().join("sub/outer.rsp"),
            "/c @inner.rsp @missing.rsp",
        )
        .unwrap();
        std::fs::write(dir.path().join("sub/inner.rsp"), "\"a b.c\"").unwrap();
        let outer = format!("@{}", dir.path().join("sub/outer.rsp").display());
        let got = expand(&[OsString::from(outer), "x".into()], Quoting::Windows).unwrap();
        assert_eq!(got, ["/c", "a b.c", "@missing.rsp", "x"]);
    }

    #[test]
    fn self_inclusion_is_an_error_naming_the_file() {
        let (_dir, p) = crate::driver::temp_file("loop.rsp", "@loop.rsp");
        let err = expand(&[format!("@{}", p.display()).into()], Quoting::Gnu).unwrap_err();
        assert!(err.to_string().contains("loop.rsp"), "{err}");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
        #[test]
        fn quoting_round_trips(words in prop::collection::vec(".{0,12}", 0..6)) {
            for q in [Quoting::Windows, Quoting::Gnu] {
                let line: Vec<String> = words.iter().map(|w| quote(w, q)).collect();
                let back = match q {
                    Quoting::Windows => split_windows(&line.join(" ")),
                    Quoting::Gnu => split_gnu(&line.join(" ")),
                };
                prop_assert_eq!(&back, &words);
            }
        }

        #[test]
        fn splitting_never_panics(text in ".{0,64}") {
            let _ = split_windows(&text);
            let _ = split_gnu(&text);
        }
    }
}
