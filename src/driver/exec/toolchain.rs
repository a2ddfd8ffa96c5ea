//! Finding the real compiler and what kind of driver it is.
//!
//! The compiler is found with the `which` crate (so `PATHEXT` and `.exe` work on Windows),
//! never resolving to this executable: `$HOTPATCH_COMPILER` first when masquerading, then
//! `PATH` with every candidate that is this very program skipped (a symlink named
//! `clang-cl` in another directory included, and a copy: same bytes). The driver kind comes from the program's name
//! and `--driver-mode=`, as clang itself decides; the version and default target come from
//! `--version`, run only when they matter. zig's compilers (`zig cc`, `zig c++`, `zig clang`)
//! are a program with a subcommand. Not here: parsing the user's flags.

use super::process::{self, Command};
use crate::driver::cmdline::args::DriverKind;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// Why the compiler could not be found or probed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("compiler '{name}' not found on PATH{}", if *.masquerade { " (other than hotpatch-cl itself; set HOTPATCH_COMPILER)" } else { "" })]
    NotFound { name: String, masquerade: bool },
    #[error("compiler '{}' is hotpatch-cl itself; set HOTPATCH_COMPILER to the real compiler", .0.display())]
    IsSelf(PathBuf),
    #[error(transparent)]
    Process(#[from] process::Error),
    #[error("cannot tell the version of {}: no 'clang version N' in its --version output", .0.display())]
    NoVersion(PathBuf),
}

/// The name without directory and without a `.exe` suffix (any case).
pub fn stem(name: &OsStr) -> String {
    let file = Path::new(name)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    match file.len().checked_sub(4) {
        Some(cut) if file.is_char_boundary(cut) && file[cut..].eq_ignore_ascii_case(".exe") => {
            file[..cut].to_owned()
        }
        _ => file,
    }
}

/// Driver kind from the compiler's name and the last `--driver-mode=` among `args`.
pub fn driver_kind(compiler: &OsStr, args: &[OsString]) -> DriverKind {
    let mode = args
        .iter()
        .filter_map(|a| a.to_str()?.strip_prefix("--driver-mode="))
        .next_back();
    match mode {
        Some("cl") => DriverKind::ClangCl,
        Some(_) => DriverKind::Gnu,
        None => {
            let s = stem(compiler).to_ascii_lowercase();
            // clang picks cl mode for names like clang-cl, clang-cl-19, x86_64-clang-cl.
            if s.contains("clang-cl") || s == "cl" {
                DriverKind::ClangCl
            } else {
                DriverKind::Gnu
            }
        }
    }
}

/// zig's C compilers: `zig cc` and `zig c++` (GNU mode, zig's own argument parser in front of
/// clang), and `zig clang` (clang itself: GNU mode, or cl mode with `--driver-mode=cl`). The
/// subcommand when `compiler` is zig and `args` start with one of them.
pub fn zig_subcommand(compiler: &OsStr, args: &[OsString]) -> Option<&'static str> {
    if !stem(compiler).eq_ignore_ascii_case("zig") {
        return None;
    }
    ["cc", "c++", "clang"]
        .into_iter()
        .find(|s| args.first().is_some_and(|a| a == *s))
}

/// The canonical path of the running executable, if it can be known.
pub fn current_exe() -> Option<PathBuf> {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok())
}

/// Whether `candidate` is this executable: the same file (a link to it included) or a copy
/// of it, byte for byte. Copies are how Windows installs a program under another name; two
/// copies on `PATH` would otherwise start each other forever.
fn is_self(candidate: &Path, me: Option<&Path>) -> bool {
    let (Some(c), Some(me)) = (candidate.canonicalize().ok(), me) else {
        return false;
    };
    if c == me {
        return true;
    }
    let same_size = match (std::fs::metadata(&c), std::fs::metadata(me)) {
        (Ok(a), Ok(b)) => a.len() == b.len(),
        _ => false,
    };
    same_size
        && matches!(
            (std::fs::read(&c), std::fs::read(me)),
            (Ok(a), Ok(b)) if a == b
        )
}

/// Finds the compiler `name` (a bare name is searched on `path`, a path is taken as is),
/// skipping this executable. `me` is this executable's canonical path.
pub fn resolve(
    name: &OsStr,
    path: Option<&OsStr>,
    me: Option<&Path>,
    masquerade: bool,
) -> Result<PathBuf, Error> {
    let as_path = Path::new(name);
    let display = name.to_string_lossy().into_owned();
    if as_path.components().count() > 1 {
        let found = which::which(as_path).map_err(|_| Error::NotFound {
            name: display,
            masquerade: false,
        })?;
        if is_self(&found, me) {
            return Err(Error::IsSelf(found));
        }
        // Keep the spelling the user gave: clang picks its mode from argv[0].
        return Ok(as_path.to_path_buf());
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let candidates = which::which_in_all(name, path, cwd).map_err(|_| Error::NotFound {
        name: display.clone(),
        masquerade,
    })?;
    for c in candidates {
        if !is_self(&c, me) {
            return Ok(c);
        }
    }
    Err(Error::NotFound {
        name: display,
        masquerade,
    })
}

/// What `--version` says: the clang major version and the default target triple.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub major: u32,
    pub target: Option<String>,
}

/// Parses `clang --version` output (`… clang version 19.1.7 …`, `Target: x86_64-…`).
pub fn parse_version(text: &str) -> Option<Version> {
    let after = text.split("clang version ").nth(1)?;
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    let major = digits.parse().ok()?;
    let target = text
        .lines()
        .find_map(|l| l.strip_prefix("Target: "))
        .map(|t| t.trim().to_owned());
    Some(Version { major, target })
}

/// Runs `compiler --version` and parses it.
pub fn version(compiler: &Path) -> Result<Version, Error> {
    let mut cmd = Command::new(compiler);
    cmd.arg("--version");
    let (out, _) = process::capture(&cmd)?;
    parse_version(&String::from_utf8_lossy(&out)).ok_or_else(|| Error::NoVersion(compiler.into()))
}

/// Whether a target triple is a Windows one (MSVC or MinGW environment).
pub fn is_windows_triple(triple: &str) -> bool {
    let t = triple.to_ascii_lowercase();
    t.contains("windows") || t.contains("mingw") || t.contains("win32")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_and_kinds() {
        assert_eq!(stem(OsStr::new("/usr/bin/clang-cl.EXE")), "clang-cl");
        assert_eq!(stem(OsStr::new("clang++")), "clang++");
        assert_eq!(stem(OsStr::new(".exe")), "");
        let none: Vec<OsString> = vec![];
        assert_eq!(
            driver_kind(OsStr::new("clang-cl-19"), &none),
            DriverKind::ClangCl
        );
        assert_eq!(
            driver_kind(OsStr::new("C:\\LLVM\\clang-cl.exe"), &none),
            DriverKind::ClangCl
        );
        assert_eq!(
            driver_kind(OsStr::new("/usr/bin/clang-22"), &none),
            DriverKind::Gnu
        );
        let cl = vec![OsString::from("--driver-mode=cl")];
        assert_eq!(driver_kind(OsStr::new("clang"), &cl), DriverKind::ClangCl);
        let gxx = vec![
            OsString::from("--driver-mode=cl"),
            "--driver-mode=g++".into(),
        ];
        assert_eq!(driver_kind(OsStr::new("clang-cl"), &gxx), DriverKind::Gnu);
    }

    #[test]
    fn zig_subcommands() {
        let a = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            zig_subcommand(OsStr::new("zig"), &a(&["cc", "-c"])),
            Some("cc")
        );
        assert_eq!(
            zig_subcommand(OsStr::new("/opt/zig/ZIG.EXE"), &a(&["c++"])),
            Some("c++")
        );
        assert_eq!(
            zig_subcommand(
                OsStr::new("/opt/zig/zig"),
                &a(&["clang", "--driver-mode=cl"])
            ),
            Some("clang")
        );
        assert_eq!(zig_subcommand(OsStr::new("zig"), &a(&["build-exe"])), None);
        assert_eq!(zig_subcommand(OsStr::new("zig"), &a(&[])), None);
        assert_eq!(zig_subcommand(OsStr::new("clang"), &a(&["cc"])), None);
    }

    #[test]
    fn versions() {
        let v = parse_version(
            "Debian clang version 19.1.7 (3~deb12u1)\nTarget: x86_64-pc-windows-msvc\nThread model: posix\n",
        )
        .unwrap();
        assert_eq!(v.major, 19);
        assert_eq!(v.target.as_deref(), Some("x86_64-pc-windows-msvc"));
        assert_eq!(parse_version("clang version 22.1.8\n").unwrap().major, 22);
        assert!(parse_version("gcc (Debian) 12.2.0").is_none());
        assert!(is_windows_triple("x86_64-w64-windows-gnu"));
        assert!(is_windows_triple("i686-w64-mingw32"));
        assert!(!is_windows_triple("x86_64-pc-linux-gnu"));
    }

    #[cfg(unix)]
    #[test]
    fn resolve_skips_ourselves_on_path() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        let me = std::env::current_exe().unwrap().canonicalize().unwrap();
        std::os::unix::fs::symlink(&me, a.join("clang-cl")).unwrap();
        let path = std::env::join_paths([&a, &b]).unwrap();
        let err = resolve(OsStr::new("clang-cl"), Some(&path), Some(&me), true).unwrap_err();
        assert!(err.to_string().contains("HOTPATCH_COMPILER"), "{err}");
        std::os::unix::fs::symlink("/bin/true", b.join("clang-cl")).unwrap();
        let found = resolve(OsStr::new("clang-cl"), Some(&path), Some(&me), true).unwrap();
        assert_eq!(found, b.join("clang-cl"));
        let err = resolve(a.join("clang-cl").as_os_str(), None, Some(&me), false).unwrap_err();
        assert!(matches!(err, Error::IsSelf(_)), "{err}");
    }

    #[test]
    fn a_copy_of_ourselves_is_ourselves() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        let me = std::env::current_exe().unwrap().canonicalize().unwrap();
        let name = if cfg!(windows) {
            "clang-cl.exe"
        } else {
            "clang-cl"
        };
        std::fs::copy(&me, a.join(name)).unwrap();
        let path = std::env::join_paths([&a, &b]).unwrap();
        let err = resolve(OsStr::new("clang-cl"), Some(&path), Some(&me), true).unwrap_err();
        assert!(matches!(err, Error::NotFound { .. }), "{err}");
        // Same size, other bytes: another program.
        let mut other = std::fs::read(&me).unwrap();
        let last = other.len() - 1;
        other[last] ^= 0xFF;
        std::fs::write(b.join(name), &other).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let exec = std::fs::Permissions::from_mode(0o755);
            std::fs::set_permissions(b.join(name), exec).unwrap();
        }
        let found = resolve(OsStr::new("clang-cl"), Some(&path), Some(&me), true).unwrap();
        assert_eq!(found.file_name(), b.join(name).file_name());
        assert!(found.starts_with(&b), "{}", found.display());
    }
}
