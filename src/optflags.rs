//! hotpatch-cl's own command-line flags that clang must never see, and the one compiler
//! flag whose absence it warns about.
//!
//! - `-fms-hotpatch-allow-direct-list=A,B` and `-fms-hotpatch-allow-direct-file=PATH` name
//!   global variables (IR / mangled names) that keep direct access in hot-patched functions
//!   (`ir::Options::allow_direct`). They are taken out of the command line here; clang would
//!   reject them as unknown. Run after response-file expansion, on the raw argv.
//! - [`has_hotpatch_flag`]: whether the patchable prologue is asked for (`/hotpatch`,
//!   `-hotpatch` in clang-cl mode; `-fms-hotpatch` in GNU mode and through `/clang:`).
//!
//! Not done here: the other flags (the driver's tables) and the warning text (`diag`).

use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

const LIST: &str = "-fms-hotpatch-allow-direct-list=";
const FILE: &str = "-fms-hotpatch-allow-direct-file=";

/// A names file that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read allow-direct file {} (-fms-hotpatch-allow-direct-file): {source}", path.display())]
pub struct Error {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Removes the allow-direct flags from `args` (kept in order otherwise) and returns the
/// union of the names they give. Any number of each flag; `--` ends the flags.
pub fn take_allow_direct(args: &mut Vec<OsString>) -> Result<BTreeSet<Vec<u8>>, Error> {
    let mut names = BTreeSet::new();
    let mut kept = Vec::with_capacity(args.len());
    let mut after_dashdash = false;
    for a in args.drain(..) {
        if after_dashdash {
            kept.push(a);
            continue;
        }
        if a == "--" {
            after_dashdash = true;
            kept.push(a);
            continue;
        }
        let s = a.to_string_lossy();
        if let Some(list) = s.strip_prefix(LIST) {
            crate::ir::optout::add_list(&mut names, list);
        } else if let (Some(_), Some(path)) = (s.strip_prefix(FILE), value_os(&a, FILE)) {
            let path = PathBuf::from(path);
            let bytes = std::fs::read(&path).map_err(|source| Error {
                path: path.clone(),
                source,
            })?;
            crate::ir::optout::add_file_contents(&mut names, &bytes);
        } else {
            kept.push(a);
        }
    }
    *args = kept;
    Ok(names)
}

/// The part of `arg` after `prefix`, without a lossy conversion (paths stay exact).
fn value_os(arg: &OsStr, prefix: &str) -> Option<OsString> {
    let bytes = arg.as_encoded_bytes();
    let rest = bytes.strip_prefix(prefix.as_bytes())?;
    // The prefix is ASCII, so the rest starts on a character boundary.
    Some(OsStr::new(std::str::from_utf8(rest).ok()?).to_os_string())
}

/// Whether `args` ask for the patchable prologue secure hot-patching needs.
pub fn has_hotpatch_flag(args: &[OsString], cl_mode: bool) -> bool {
    args.iter()
        .take_while(|a| *a != "--")
        .any(|a| match a.to_str() {
            Some("-fms-hotpatch" | "/clang:-fms-hotpatch") => true,
            Some("/hotpatch" | "-hotpatch") => cl_mode,
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn allow_direct_flags_are_taken_out_and_merged() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("direct.txt");
        std::fs::write(&f, "?cache@@3HA\r\nlisted\n").unwrap();
        let file_flag = format!("{FILE}{}", f.display());
        let mut args = v(&[
            "/c",
            "-fms-hotpatch-allow-direct-list=a,b",
            &file_flag,
            "/O2",
            "-fms-hotpatch-allow-direct-list=c",
            "--",
            "-fms-hotpatch-allow-direct-list=x.c",
        ]);
        let names = take_allow_direct(&mut args).unwrap();
        assert_eq!(
            args,
            v(&["/c", "/O2", "--", "-fms-hotpatch-allow-direct-list=x.c"])
        );
        let got: Vec<_> = names
            .iter()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect();
        assert_eq!(got, ["?cache@@3HA", "a", "b", "c", "listed"]);
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let mut args = v(&["-fms-hotpatch-allow-direct-file=nonexist.txt"]);
        let err = take_allow_direct(&mut args).unwrap_err();
        assert!(err.to_string().contains("nonexist.txt"), "{err}");
    }

    #[test]
    fn hotpatch_flag_by_mode() {
        assert!(has_hotpatch_flag(&v(&["/c", "/hotpatch"]), true));
        assert!(has_hotpatch_flag(&v(&["-fms-hotpatch"]), false));
        assert!(has_hotpatch_flag(&v(&["/clang:-fms-hotpatch"]), true));
        assert!(!has_hotpatch_flag(&v(&["/hotpatch"]), false));
        assert!(!has_hotpatch_flag(&v(&["--", "/hotpatch"]), true));
        assert!(!has_hotpatch_flag(&v(&["/c"]), true));
    }
}
