//! Which globals keep direct access in hot-patched functions beyond clang 22's own
//! attribute: the source-level opt-out and the wrapper's name lists.
//!
//! clang 22 only honours the IR attribute `"allow_direct_access_in_hot_patch_function"`,
//! which no source construct produces. hotpatch-cl adds two ways in:
//! - `__attribute__((annotate("hotpatch_allow_direct")))` on a global (the
//!   `HOTPATCH_ALLOW_DIRECT` macro of `include/hotpatch.h`). clang records the annotation in
//!   `@llvm.global.annotations`, an array of `{ ptr @G, ptr @.str, ptr @file, i32 line, ptr
//!   args }` whose second member points at a `c"…\00"` string; that array is read here.
//! - global names (IR names, exact bytes) given to [`super::Options::allow_direct`]
//!   by the `-fms-hotpatch-allow-direct-file=` / `-list=` wrapper flags.
//!
//! Not done here: the attribute itself (read by `module`), the redirect decision (see
//! `redirect::needs_redirect`, which consults the set built here).

use super::lex::{lex_all, name_of, Name, Tok, Token};
use super::module::Module;
use super::Error;
use std::borrow::Cow;
use std::collections::{BTreeSet, HashSet};

/// The annotation string that opts a global out of the redirect.
pub const ANNOTATION: &[u8] = b"hotpatch_allow_direct";

/// Indices (into `Module::globals`) of the globals opted out by annotation or by name.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct OptOut(HashSet<usize>);

impl OptOut {
    /// Builds the set for module `m` of `src`, from its annotations and from `names`.
    pub fn build(src: &[u8], m: &Module, names: &AllowDirect) -> Result<OptOut, Error> {
        let mut set = HashSet::new();
        for n in names.iter() {
            let key = Name {
                numbered: false,
                bytes: Cow::Borrowed(n),
            };
            if let Some(&i) = m.global_by_name.get(&key) {
                set.insert(i);
            }
        }
        for target in annotated(src, m)? {
            if let Some(&i) = m.global_by_name.get(&target) {
                set.insert(i);
            }
        }
        Ok(OptOut(set))
    }

    /// Whether global `index` is opted out.
    pub fn contains(&self, index: usize) -> bool {
        self.0.contains(&index)
    }
}

/// The globals (IR names, exact bytes) that keep direct access by name: the union of every
/// `-fms-hotpatch-allow-direct-list=` / `-file=` (the wrapper) or `--allow-direct-list` /
/// `--allow-direct-file` (`hotpatch rewrite`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AllowDirect(BTreeSet<Vec<u8>>);

/// An allow-direct file that cannot be read (`FILE: cannot read the allow-direct file: why`)
/// or is not text (`FILE:LINE: the allow-direct file is not text: why`).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReadError {
    #[error("{}: cannot read the allow-direct file: {message}", path.display())]
    Read {
        path: std::path::PathBuf,
        message: String,
    },
    #[error("{}:{line}: the allow-direct file is not text: {why}", path.display())]
    NotText {
        path: std::path::PathBuf,
        line: usize,
        why: String,
    },
}

impl AllowDirect {
    /// The set named by `files` (read as [`crate::hotlist::read_list_file`] reads them)
    /// and `lists`.
    pub fn from_flags<F: AsRef<std::path::Path>, L: AsRef<str>>(
        files: &[F],
        lists: &[L],
    ) -> Result<AllowDirect, ReadError> {
        let mut set = AllowDirect::default();
        for l in lists {
            set.add_list(l.as_ref());
        }
        for f in files {
            let f = f.as_ref();
            let decoded = crate::hotlist::read_list_file(f).map_err(|e| match e {
                crate::hotlist::ListFileError::Io(message) => ReadError::Read {
                    path: f.to_path_buf(),
                    message,
                },
                crate::hotlist::ListFileError::NotText(n) => ReadError::NotText {
                    path: f.to_path_buf(),
                    line: n.line,
                    why: n.why,
                },
            })?;
            set.add_file_contents(decoded.text.as_bytes());
        }
        Ok(set)
    }

    /// Adds the names of a list value: comma-separated, each trimmed of surrounding
    /// whitespace (global names never contain any), blanks skipped.
    pub fn add_list(&mut self, list: &str) {
        for n in list.split(',') {
            self.add(n.as_bytes());
        }
    }

    /// Adds the names in the contents of a file: one per line (`\n` or `\r\n`), trimmed,
    /// blank lines skipped, names kept as bytes.
    pub fn add_file_contents(&mut self, contents: &[u8]) {
        for line in contents.split(|&b| b == b'\n') {
            self.add(line);
        }
    }

    /// Adds one name (trimmed; blank is ignored).
    pub fn add(&mut self, name: &[u8]) {
        let n = name.trim_ascii();
        if !n.is_empty() {
            self.0.insert(n.to_vec());
        }
    }

    /// Whether no global is named.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The names, in byte order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.0.iter().map(Vec::as_slice)
    }
}

impl<const N: usize> From<[&[u8]; N]> for AllowDirect {
    fn from(names: [&[u8]; N]) -> Self {
        let mut set = AllowDirect::default();
        for n in names {
            set.add(n);
        }
        set
    }
}

/// The globals that `@llvm.global.annotations` annotates with [`ANNOTATION`].
fn annotated<'a>(src: &'a [u8], m: &Module<'a>) -> Result<Vec<Name<'a>>, Error> {
    let key = Name {
        numbered: false,
        bytes: Cow::Borrowed(&b"llvm.global.annotations"[..]),
    };
    let Some(table) = m.global(&key) else {
        return Ok(Vec::new());
    };
    let mut toks = Vec::new();
    lex_all(src, table.start, table.end, false, &mut toks)?;
    // Skip `@llvm.global.annotations = … [N x { … }]` up to the initializer's `[`: the
    // type has no globals, so collecting globals per innermost `{ … }` sees only entries.
    let mut out = Vec::new();
    let mut stack: Vec<Vec<Token>> = Vec::new();
    for t in toks.iter().skip(1) {
        match t.kind {
            Tok::Punct(b'{') => stack.push(Vec::new()),
            Tok::Punct(b'}') => {
                let Some(globals) = stack.pop() else { continue };
                // First global: the annotated one; second: the annotation string (older
                // clangs wrap both in `bitcast`/`getelementptr`, which adds no globals).
                if let (Some(target), Some(text)) = (globals.first(), globals.get(1)) {
                    if string_of(src, m, &name_of(src, text))?.as_deref() == Some(ANNOTATION) {
                        out.push(name_of(src, target));
                    }
                }
            }
            Tok::Global => {
                if let Some(top) = stack.last_mut() {
                    top.push(*t);
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The contents (without the final NUL) of a `c"…"` string global.
fn string_of(src: &[u8], m: &Module, name: &Name) -> Result<Option<Vec<u8>>, Error> {
    let Some(g) = m.global(name) else {
        return Ok(None);
    };
    let mut toks = Vec::new();
    lex_all(src, g.start, g.end, false, &mut toks)?;
    Ok(toks.iter().find(|t| t.kind == Tok::CStr).map(|t| {
        let text = t.text(src);
        let inner = text
            .get(2..text.len().saturating_sub(1))
            .unwrap_or_default();
        let mut s = super::lex::unescape(inner).into_owned();
        if s.last() == Some(&0) {
            s.pop();
        }
        s
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = r#"@keep = dso_local global i32 0, align 4
@other = dso_local global i32 0, align 4
@listed = dso_local global i32 0, align 4
@.str = private unnamed_addr constant [22 x i8] c"hotpatch_allow_direct\00", section "llvm.metadata"
@.str.1 = private unnamed_addr constant [4 x i8] c"a.c\00", section "llvm.metadata"
@.str.2 = private unnamed_addr constant [6 x i8] c"other\00", section "llvm.metadata"
@llvm.global.annotations = appending global [2 x { ptr, ptr, ptr, i32, ptr }] [{ ptr, ptr, ptr, i32, ptr } { ptr @keep, ptr @.str, ptr @.str.1, i32 1, ptr null }, { ptr, ptr, ptr, i32, ptr } { ptr @other, ptr @.str.2, ptr @.str.1, i32 2, ptr null }], section "llvm.metadata"
"#;

    #[test]
    fn annotation_and_names_select_globals() {
        let m = Module::index(SRC.as_bytes()).unwrap();
        let names = AllowDirect::from([b"listed".as_slice(), b"absent"]);
        let o = OptOut::build(SRC.as_bytes(), &m, &names).unwrap();
        let idx = |n: &str| {
            m.globals
                .iter()
                .position(|g| *g.name.bytes == *n.as_bytes())
        };
        assert!(o.contains(idx("keep").unwrap()));
        assert!(o.contains(idx("listed").unwrap()));
        assert!(!o.contains(idx("other").unwrap()), "another annotation");
        assert_eq!(o.0.len(), 2);
    }

    #[test]
    fn lists_and_files_are_trimmed_and_merged() {
        let mut set = AllowDirect::default();
        set.add_list("a, b,,");
        set.add_file_contents(b"c\r\n\n ?x@@3HA \n");
        let got: Vec<_> = set
            .iter()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect();
        assert_eq!(got, ["?x@@3HA", "a", "b", "c"]);
    }

    #[test]
    fn a_missing_file_is_one_line_naming_it() {
        let err = AllowDirect::from_flags(&["nonexist.txt"], &["a"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "nonexist.txt: cannot read the allow-direct file: {}",
                crate::fsutil::file_not_found_message()
            )
        );
    }

    #[test]
    fn older_constant_expression_form_is_read() {
        let src = r#"@keep = global i32 0
@.str = private unnamed_addr constant [22 x i8] c"hotpatch_allow_direct\00", section "llvm.metadata"
@llvm.global.annotations = appending global [1 x { ptr, ptr, ptr, i32, ptr }] [{ ptr, ptr, ptr, i32, ptr } { ptr bitcast (ptr @keep to ptr), ptr getelementptr inbounds ([22 x i8], ptr @.str, i32 0, i32 0), ptr null, i32 1, ptr null }], section "llvm.metadata"
"#;
        let m = Module::index(src.as_bytes()).unwrap();
        let o = OptOut::build(src.as_bytes(), &m, &AllowDirect::default()).unwrap();
        assert!(o.contains(0));
    }
}
