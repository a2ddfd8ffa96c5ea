//! Link mode: run `lld-link`, then put back the `S_HOTPATCHFUNC` records it blanked in the PDB.
//!
//! `lld-link /debug` writes every `S_HOTPATCHFUNC` of its inputs into the PDB as an `S_SKIP`
//! (docs/clang22-facts.md, "Where clang 22 falls short", 3). [`run`] runs the linker with the user's arguments
//! untouched (response files included) and, when it succeeded and wrote a PDB, runs
//! [`crate::pdb::fixup`] in process on it, with the module paths the PDB itself records.
//! [`driver_link_pdb`] does the same reckoning for a clang-cl compile-and-link that uses lld
//! (`-fuse-ld=lld`, `-fuse-ld=lld-link…`), so the pipeline's link step can call [`fixup_if_written`].
//!
//! Which PDB: lld-link's own rules, read from the expanded command line (the `LINK` and
//! `_LINK_` environment variables; `@file`s with Windows quoting unless
//! `--rsp-quoting=posix`): the last `/debug[:kind]` decides (`none`, `dwarf` and `symtab` write
//! no PDB), `/pdb:` names it, else it is the output's path with `.pdb`; the output is `/out:` or
//! the first input's stem (`.dll` with `/dll`, else `.exe`) in the working directory. A PDB is
//! fixed only if it exists after the link and is not the file that was there before (size,
//! time and inode differ), so a stale PDB is never touched.
//!
//! Not here: the fix-up itself (`crate::pdb`), spawning (`process.rs`), MinGW-style `ld.lld`
//! links (`clang --target=*-windows-gnu -fuse-ld=lld -Wl,--pdb=`), and clang 21+ native
//! compile-and-link (the compiler deletes its temporary objects before the fix-up could read
//! them: link through the `lld-link` shim instead).

use super::process::{self, exit_code, Command};
use super::toolchain;
use crate::driver::cmdline::args::{Arg, Class, DriverKind};
use crate::driver::cmdline::job::{ends_with_separator, Job};
use crate::driver::cmdline::rsp;
use anyhow::anyhow;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// Whether `name` (a program name or path) is an lld-link: `lld-link`, `lld-link-22`,
/// `lld-link.exe`, any case.
pub fn is_lld_link(name: &OsStr) -> bool {
    toolchain::stem(name)
        .to_ascii_lowercase()
        .starts_with("lld-link")
}

/// Finds the real linker. `name` is what the user gave (`hotpatch-cl NAME …`) or, for the
/// masquerade, the name we were invoked as; then `$HOTPATCH_LINKER`, else `$HOTPATCH_COMPILER`
/// when it names an lld-link, else the next `name` on `PATH` that is not this executable.
pub fn resolve(
    name: &OsStr,
    masquerade: bool,
    linker_env: Option<OsString>,
    compiler_env: Option<OsString>,
    path: Option<&OsStr>,
    me: Option<&Path>,
) -> anyhow::Result<PathBuf> {
    let explicit = if masquerade {
        linker_env
            .filter(|v| !v.is_empty())
            .or_else(|| compiler_env.filter(|v| is_lld_link(v)))
    } else {
        None
    };
    let wanted = explicit.clone().unwrap_or_else(|| name.to_os_string());
    toolchain::resolve(&wanted, path, me, masquerade && explicit.is_none()).map_err(|e| match e {
        toolchain::Error::NotFound { .. } if masquerade && explicit.is_none() => anyhow!(
            "linker '{}' not found on PATH other than hotpatch-cl itself; set HOTPATCH_LINKER to the real lld-link",
            wanted.to_string_lossy()
        ),
        toolchain::Error::NotFound { .. } => {
            anyhow!("linker '{}' not found", wanted.to_string_lossy())
        }
        other => other.into(),
    })
}

/// Runs `linker args…` and, when it succeeded and wrote a PDB, fixes that PDB up.
/// Returns the linker's exit code (its output is the user's, relayed unchanged).
pub fn run(linker: &Path, args: &[OsString]) -> anyhow::Result<i32> {
    // lld-link reads `LINK` before and `_LINK_` after the command line.
    let env_args = |var: &str| {
        std::env::var_os(var)
            .map(|v| rsp::split_windows(&v.to_string_lossy()))
            .unwrap_or_default()
            .into_iter()
            .map(OsString::from)
    };
    let mut all: Vec<OsString> = env_args("LINK").collect();
    all.extend(args.iter().cloned());
    all.extend(env_args("_LINK_"));
    let expanded = if rsp::has_response_files(&all) {
        // A response file we cannot read is the linker's to report: then no fix-up.
        rsp::expand(&all, lld_quoting(&all)).ok()
    } else {
        Some(all)
    };
    let pdb = expanded.as_deref().and_then(lld_pdb);
    let before = pdb.as_deref().map(Stamp::of);
    let mut cmd = Command::new(linker);
    cmd.args(args);
    let status = process::run(&cmd)?;
    if !status.success() {
        return Ok(exit_code(status));
    }
    if let (Some(pdb), Some(before)) = (pdb, before) {
        fixup_if_written(&pdb, &before)?;
    }
    Ok(0)
}

/// lld-link's response-file quoting: Windows rules on every host, POSIX rules with
/// `--rsp-quoting=posix`.
fn lld_quoting(args: &[OsString]) -> rsp::Quoting {
    let given = args
        .iter()
        .filter_map(|a| a.to_str()?.strip_prefix("--rsp-quoting="))
        .next_back();
    match given {
        Some("posix") => rsp::Quoting::Gnu,
        _ => rsp::Quoting::Windows,
    }
}

/// An lld-link option: its lower-case name and its value (after the first `:`).
fn option(arg: &OsStr) -> Option<(String, OsString)> {
    let bytes = arg.as_encoded_bytes();
    let rest = match bytes.first() {
        Some(b'-') => bytes.get(1..)?,
        // An absolute Unix path that exists is an input to lld-link, not an option.
        Some(b'/') if !(cfg!(unix) && Path::new(arg).is_file()) => bytes.get(1..)?,
        _ => return None,
    };
    let text = String::from_utf8_lossy(rest);
    let (name, value) = match text.split_once(':') {
        Some((n, v)) => (n, v),
        None => (text.as_ref(), ""),
    };
    Some((name.to_ascii_lowercase(), OsString::from(value)))
}

/// The PDB lld-link writes for an expanded command line, `None` without `/debug`.
pub fn lld_pdb(args: &[OsString]) -> Option<PathBuf> {
    let mut debug = false;
    let mut dll = false;
    let mut pdb = None;
    let mut out = None;
    let mut first_input: Option<OsString> = None;
    for a in args {
        match option(a) {
            Some((name, value)) => match name.as_str() {
                "debug" if value.is_empty() => debug = true,
                "debug" => {
                    let kind = value.to_string_lossy().to_ascii_lowercase();
                    debug = !matches!(kind.as_str(), "none" | "dwarf" | "symtab");
                }
                "dll" => dll = true,
                "pdb" if !value.is_empty() => pdb = Some(PathBuf::from(value)),
                "out" if !value.is_empty() => out = Some(PathBuf::from(value)),
                "wholearchive" if !value.is_empty() => {
                    first_input.get_or_insert(value);
                }
                _ => {}
            },
            None => {
                first_input.get_or_insert_with(|| a.clone());
            }
        }
    }
    if !debug {
        return None;
    }
    if pdb.is_some() {
        return pdb;
    }
    let out = out.or_else(|| {
        let stem = Path::new(first_input.as_ref()?).file_stem()?;
        Some(PathBuf::from(stem).with_extension(if dll { "dll" } else { "exe" }))
    })?;
    Some(out.with_extension("pdb"))
}

/// For a clang-cl compile-and-link job: the PDB its link step writes, `None` unless it links
/// with lld-link and with debug information. `exe` is the executable's path as the link step
/// names it (`-o`, `/Fe`, or clang-cl's default).
pub fn driver_link_pdb(job: &Job, exe: &Path) -> Option<PathBuf> {
    if job.kind != DriverKind::ClangCl || job.compile_only || !uses_lld(&job.args) {
        return None;
    }
    // clang-cl passes `-debug` to the linker when it compiles with debug information; the
    // user's `/link` arguments come after its own.
    let mut lld_args: Vec<OsString> = Vec::new();
    if job
        .args
        .iter()
        .any(|a| matches!(a.driver_effective(), Some((Class::DebugInfo, _))))
    {
        lld_args.push("-debug".into());
    }
    let mut out = OsString::from("-out:");
    out.push(exe);
    lld_args.push(out);
    for a in &job.args {
        if a.effective().map(|(c, _)| c) == Some(Class::Link) {
            lld_args.extend(a.raw.iter().skip(1).cloned());
        }
    }
    lld_pdb(&lld_args)
}

/// The executable a clang-cl link writes: `-o` or `/Fe` (a directory gets the default name),
/// else the first source's stem; `.exe` (`.dll` with `/LD`) when the name has no extension.
pub fn driver_exe(job: &Job) -> PathBuf {
    let dll = job.args.iter().any(|a| a.class() == Some(Class::DllOutput));
    let named = job.output.clone().or(job.exe_output());
    let default_name = || {
        let first = job.first_input();
        PathBuf::from(
            first
                .as_deref()
                .and_then(|f| Path::new(f).file_stem())
                .unwrap_or(OsStr::new("a")),
        )
    };
    let path = match named {
        Some(v) if ends_with_separator(&v) => Path::new(&v).join(default_name()),
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => default_name(),
    };
    if path.extension().is_some() {
        path
    } else {
        path.with_extension(if dll { "dll" } else { "exe" })
    }
}

/// Whether the last `-fuse-ld=` (also inside `/clang:`) picks lld-link.
fn uses_lld(args: &[Arg]) -> bool {
    args.iter()
        .filter_map(|a| match a.driver_effective() {
            Some((Class::UseLinker, v)) => Some(v),
            _ => None,
        })
        .next_back()
        .is_some_and(|v| v == "lld" || is_lld_link(v))
}

/// What a file looked like before the link, to tell a new PDB from a stale one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp(Option<(u64, Option<std::time::SystemTime>, u64)>);

impl Stamp {
    pub fn of(path: &Path) -> Stamp {
        Stamp(std::fs::metadata(path).ok().map(|m| {
            #[cfg(unix)]
            let inode = std::os::unix::fs::MetadataExt::ino(&m);
            #[cfg(not(unix))]
            let inode = 0;
            (m.len(), m.modified().ok(), inode)
        }))
    }
}

/// Fixes up `pdb` if the link wrote it (it exists and differs from `before`). All or nothing:
/// if any record cannot be restored the PDB stays as lld-link wrote it, and the error names
/// the PDB and the first problem.
pub fn fixup_if_written(pdb: &Path, before: &Stamp) -> anyhow::Result<()> {
    let now = Stamp::of(pdb);
    if now.0.is_none() || now == *before {
        return Ok(());
    }
    let report = crate::pdb::fixup_all_or_nothing(pdb, &[])
        .map_err(|e| anyhow!("PDB fix-up after lld-link: {e}"))?;
    if let Some(first) = report.problems.first() {
        let more = match report.problems.len() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        return Err(anyhow!(
            "PDB fix-up after lld-link: {}: {first}{more}; the PDB is left as lld-link wrote it",
            pdb.display()
        ));
    }
    if process::verbose() {
        eprintln!(
            "hotpatch-cl: {}: restored {} S_HOTPATCHFUNC record(s)",
            pdb.display(),
            report.restored.len()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::driver::os;

    #[test]
    fn lld_link_names() {
        for n in [
            "lld-link",
            "lld-link-22",
            "/usr/bin/lld-link-22",
            "LLD-LINK.EXE",
        ] {
            assert!(is_lld_link(OsStr::new(n)), "{n}");
        }
        for n in ["clang-cl", "link", "ld.lld", "lld"] {
            assert!(!is_lld_link(OsStr::new(n)), "{n}");
        }
    }

    #[test]
    fn pdb_path_follows_lld_link_rules() {
        let pdb = |v: &[&str]| lld_pdb(&os(v));
        assert_eq!(pdb(&["/dll", "a.obj", "b.obj"]), None, "no /debug");
        assert_eq!(pdb(&["/DEBUG", "sub/a.obj", "b.obj"]), Some("a.pdb".into()));
        assert_eq!(pdb(&["-debug:full", "/dll", "x.lib"]), Some("x.pdb".into()));
        assert_eq!(
            pdb(&["/debug", "/out:out/app.dll", "a.obj"]),
            Some("out/app.pdb".into())
        );
        assert_eq!(
            pdb(&["/debug", "/Out:app.exe", "/PDB:sym/x.pdb", "a.obj"]),
            Some("sym/x.pdb".into())
        );
        assert_eq!(pdb(&["/debug", "/debug:none", "a.obj"]), None);
        assert_eq!(pdb(&["/debug:dwarf", "a.obj"]), None);
        assert_eq!(
            pdb(&["/debug:none", "/Debug:GHASH", "a.obj"]),
            Some("a.pdb".into())
        );
        assert_eq!(pdb(&["/debug"]), None, "no input, no output name");
    }

    #[test]
    fn clang_cl_jobs_link_with_lld_only_when_asked() {
        use crate::driver::cmdline::classify::plan;
        use crate::driver::cmdline::job::Plan;
        let job = |v: &[&str]| match plan(DriverKind::ClangCl, &os(v)) {
            Plan::Patch(j) => *j,
            other => panic!("{other:?}"),
        };
        let hp = "-fms-hotpatch-functions-list=f";
        let j = job(&[hp, "/Z7", "-fuse-ld=lld", "a.c", "b.c"]);
        assert_eq!(driver_exe(&j), PathBuf::from("a.exe"));
        assert_eq!(driver_link_pdb(&j, &driver_exe(&j)), Some("a.pdb".into()));
        let j = job(&[
            hp,
            "-fuse-ld=lld-link-22",
            "/Feout/",
            "/LD",
            "a.c",
            "/link",
            "/debug",
        ]);
        assert_eq!(driver_exe(&j), PathBuf::from("out/a.dll"));
        assert_eq!(
            driver_link_pdb(&j, &driver_exe(&j)),
            Some("out/a.pdb".into())
        );
        let j = job(&[hp, "/Z7", "a.c", "/link", "/debug"]);
        assert_eq!(driver_link_pdb(&j, &driver_exe(&j)), None, "default linker");
        let j = job(&[hp, "-fuse-ld=lld", "a.c"]);
        assert_eq!(driver_link_pdb(&j, &driver_exe(&j)), None, "no debug");
        let j = job(&[hp, "-fuse-ld=lld", "/Z7", "a.c", "/link", "/debug:none"]);
        assert_eq!(driver_link_pdb(&j, &driver_exe(&j)), None);
        let j = job(&[hp, "-fuse-ld=lld", "/Z7", "/c", "a.c"]);
        assert_eq!(driver_link_pdb(&j, &driver_exe(&j)), None, "no link");
    }

    #[test]
    fn stamps_tell_a_new_file_from_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.pdb");
        let missing = Stamp::of(&p);
        assert_eq!(missing, Stamp(None));
        std::fs::write(&p, b"one").unwrap();
        let first = Stamp::of(&p);
        assert_ne!(first, missing);
        assert_eq!(Stamp::of(&p), first);
        // lld-link writes a new file and renames it over the old one.
        let tmp = dir.path().join("x.tmp");
        std::fs::write(&tmp, b"three").unwrap();
        std::fs::rename(&tmp, &p).unwrap();
        assert_ne!(Stamp::of(&p), first);
    }
}
