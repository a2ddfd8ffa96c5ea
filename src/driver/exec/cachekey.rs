//! Caches in front of the wrapper (ccache or sccache calling hotpatch-cl as the compiler):
//! the content of the list files becomes part of what they hash, so a list edited in place
//! never hands out the previous list's object.
//!
//! A cache keys a compile on its command line (which names the list, not its content), the
//! preprocessed source, and in ccache's direct and depend modes the files the compile
//! includes. So the wrapper:
//! - starts the `-E` output of a command line that carries list files with one line marker
//!   per file, `# 1 "/abs/hot.txt"` (ccache's direct mode records it as an included file
//!   and hashes its content), and one pseudo file `# 1 "<hotpatch-cl lists HEX>"` whose
//!   name is a digest of every list's content (the preprocessed text changes with the list,
//!   which is what ccache's preprocessor mode and sccache hash), after a first marker naming
//!   the source as the compiler's own output does. Line markers without flags only rename
//!   the current file, and the first names the main file: compiling that output gives the
//!   object compiling the source gives. With `-P` (sccache's way) a comment carries the
//!   digest instead;
//! - adds the list files to the dependency file of a compile (`-MD`), which is what ccache's
//!   depend mode (and make, ninja) read.
//!
//! Measured with ccache 4.7 (direct, preprocessor and depend modes) and sccache 0.4: either
//! half alone leaves one mode stale. Not here: spawning (`process.rs`).

use super::launcher::{self, Launcher, Step};
use super::process::{self, exit_code, Command};
use crate::driver::cmdline::args::{without_hotpatch_flags, Arg, Class, DriverKind, Kind};
use crate::driver::cmdline::job::{Job, Source};
use anyhow::Context;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// The files whose content decides the output: `-fms-hotpatch-functions-file=`,
/// `-fms-secure-hotpatch-functions-file=` and `-fms-hotpatch-allow-direct-file=` values.
pub fn list_files(args: &[Arg]) -> Vec<PathBuf> {
    args.iter()
        .filter_map(|a| match a.effective() {
            Some((Class::HotpatchFile | Class::AllowDirectFile, v)) => Some(PathBuf::from(v)),
            _ => None,
        })
        .collect()
}

/// FNV-1a, 128 bits: not a defence against crafted collisions (whoever can write the list
/// can write the source), but no accidental edit maps to the same key.
fn fnv1a_128(data: &[u8], mut h: u128) -> u128 {
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    for &b in data {
        h ^= u128::from(b);
        h = h.wrapping_mul(PRIME);
    }
    h
}

const FNV_OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;

/// A file name as a line marker writes it (`\` and `"` escaped, as clang does).
fn marker_name(name: &str) -> String {
    name.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The lines that start the `-E` output: with `line_markers`, one line marker per list file
/// (absolute path) and one naming the digest of their contents; without (`-P`, `/EP`: what
/// sccache runs), a comment with the digest. Empty without list files.
pub fn markers(files: &[PathBuf], line_markers: bool) -> anyhow::Result<Vec<u8>> {
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = String::new();
    let mut h = FNV_OFFSET;
    for f in files {
        let bytes = std::fs::read(f)
            .with_context(|| format!("cannot read hot-patch list file {}", f.display()))?;
        h = fnv1a_128(&(bytes.len() as u64).to_le_bytes(), h);
        h = fnv1a_128(&bytes, h);
        if line_markers {
            let abs = std::path::absolute(f).unwrap_or_else(|_| f.clone());
            out.push_str(&format!(
                "# 1 \"{}\"\n",
                marker_name(&abs.to_string_lossy())
            ));
        }
    }
    if line_markers {
        out.push_str(&format!("# 1 \"<hotpatch-cl lists {h:032x}>\"\n"));
    } else {
        out.push_str(&format!("/* hotpatch-cl lists {h:032x} */\n"));
    }
    Ok(out.into_bytes())
}

/// Where a job that makes no object writes preprocessed text, and whether with line
/// markers (not with `-P`, `/EP`).
#[derive(Debug, PartialEq, Eq)]
enum Preprocessed {
    /// Not a preprocessing job (`-M`, `-fsyntax-only`, `--version`…).
    None,
    Stdout(bool),
    Files(Vec<PathBuf>, bool),
}

/// The flag spelling of a clang-cl argument without its `/` or `-` prefix.
fn cl_name(a: &Arg) -> Option<&str> {
    let s = a.raw.first()?.to_str()?;
    s.strip_prefix('/').or_else(|| s.strip_prefix('-'))
}

fn preprocessed(kind: DriverKind, job: &Job) -> Preprocessed {
    let flags: Vec<&str> = job
        .args
        .iter()
        .filter(|a| a.kind != Kind::Input)
        .filter_map(|a| match kind {
            DriverKind::ClangCl => cl_name(a),
            DriverKind::Gnu => a.raw.first()?.to_str(),
        })
        .collect();
    let has = |f: &str| flags.contains(&f);
    match kind {
        DriverKind::Gnu if !has("-E") || has("-M") || has("-MM") => Preprocessed::None,
        DriverKind::Gnu => match &job.output {
            Some(o) if o != "-" => Preprocessed::Files(vec![PathBuf::from(o)], !has("-P")),
            _ => Preprocessed::Stdout(!has("-P")),
        },
        DriverKind::ClangCl if has("P") => {
            // `/P` writes `/FiX`, or each source's `stem.i` in the working directory.
            let fi = job.args.iter().rev().find_map(|a| {
                cl_name(a)
                    .and_then(|n| n.strip_prefix("Fi"))
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
            });
            let files = match fi {
                Some(f) => vec![f],
                None => job
                    .sources
                    .iter()
                    .map(|s| {
                        Path::new(Path::new(&s.path).file_name().unwrap_or_default())
                            .with_extension("i")
                    })
                    .collect(),
            };
            Preprocessed::Files(files, !has("EP"))
        }
        DriverKind::ClangCl if has("EP") => Preprocessed::Stdout(false),
        DriverKind::ClangCl if has("E") => Preprocessed::Stdout(true),
        DriverKind::ClangCl => Preprocessed::None,
    }
}

/// Runs a job that makes no object (`-E`, `/P`, `-M`, `-fsyntax-only`…) with the hot-patch
/// flags removed, so every compiler accepts it; preprocessed output with line markers starts
/// with [`markers`] for the list files. Returns the exit code.
pub fn run_no_object(
    compiler: &Path,
    job: &Job,
    launcher: Option<&Launcher>,
) -> anyhow::Result<i32> {
    let kind = job.kind;
    let where_to = preprocessed(kind, job);
    let prefix = match where_to {
        Preprocessed::None => Vec::new(),
        Preprocessed::Stdout(lines) | Preprocessed::Files(_, lines) => {
            let mut p = markers(&list_files(&job.args), lines)?;
            // The first line marker names the main file for whoever compiles this output
            // (the object's `.file` symbol, the debug info): it must stay the source.
            if let (true, false, Some(src)) = (lines, p.is_empty(), job.sources.first()) {
                let mut first =
                    format!("# 1 \"{}\"\n", marker_name(&src.path.to_string_lossy())).into_bytes();
                first.append(&mut p);
                p = first;
            }
            p
        }
    };
    let mut cmd = Command::new(compiler);
    cmd.args(without_hotpatch_flags(job.kind, &job.args));
    let cmd = launcher::wrap(launcher, Step::Plain, kind, cmd);
    if matches!(where_to, Preprocessed::Stdout(_)) && !prefix.is_empty() {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        out.write_all(&prefix)
            .and_then(|()| out.flush())
            .context("cannot write the preprocessed output")?;
    }
    let status = process::run(&cmd)?;
    if let (true, Preprocessed::Files(files, _), false) =
        (status.success(), &where_to, prefix.is_empty())
    {
        for f in files {
            let body = std::fs::read(f)
                .with_context(|| format!("cannot read the preprocessed output {}", f.display()))?;
            let mut text = prefix.clone();
            text.extend_from_slice(&body);
            crate::fsutil::write_atomic(f, &text)
                .with_context(|| format!("cannot write {}", f.display()))?;
        }
    }
    Ok(exit_code(status))
}

/// A path as a make prerequisite (spaces, `#` and `$` escaped as clang does).
fn make_escape(path: &OsStr) -> String {
    let mut out = String::new();
    for c in path.to_string_lossy().chars() {
        match c {
            ' ' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '$' => out.push_str("$$"),
            c => out.push(c),
        }
    }
    out
}

/// Adds `files` as prerequisites of the first rule of the dependency file `dep` (written
/// atomically); a missing or ruleless file is left alone.
pub fn add_to_depfile(dep: &Path, files: &[PathBuf]) -> anyhow::Result<()> {
    if files.is_empty() {
        return Ok(());
    }
    let Ok(text) = std::fs::read(dep) else {
        return Ok(());
    };
    // The first rule ends at the first newline not escaped by a backslash. clang on Windows
    // ends its lines with CRLF, so a continuation there is `\` CR LF.
    let mut end = None;
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        if b == b'\\' {
            i += if text[i + 1..].starts_with(b"\r\n") {
                3
            } else {
                2
            };
            continue;
        }
        if b == b'\n' {
            end = Some(i);
            break;
        }
        i += 1;
    }
    let end = end.unwrap_or(text.len());
    let (head, tail) = text.split_at(end);
    // A CRLF line keeps its `\r` after what we add.
    let (head, cr) = match head.strip_suffix(b"\r") {
        Some(h) => (h, &b"\r"[..]),
        None => (head, &b""[..]),
    };
    if !head.contains(&b':') {
        return Ok(());
    }
    let mut out = head.to_vec();
    for f in files {
        out.extend_from_slice(b" \\\n  ");
        out.extend_from_slice(make_escape(f.as_os_str()).as_bytes());
    }
    out.extend_from_slice(cr);
    if tail.is_empty() {
        out.push(b'\n');
    }
    out.extend_from_slice(tail);
    crate::fsutil::write_atomic(dep, &out)
        .with_context(|| format!("cannot write {}", dep.display()))
}

/// The dependency file clang writes for source `src` of `job` under `-MD`: the `-MF` value,
/// else (GNU) the output `out` (or `-o`, or the source's stem) with `.d`, else (clang-cl) the
/// source's stem with `.d` in the working directory.
pub fn depfile_path(job: &Job, src: &Source, out: Option<&Path>) -> PathBuf {
    if let Some(mf) = mf_value(&job.args) {
        return PathBuf::from(mf);
    }
    let stem = Path::new(Path::new(&src.path).file_stem().unwrap_or_default()).with_extension("d");
    match (job.kind, out, &job.output) {
        (DriverKind::ClangCl, _, _) => stem,
        (DriverKind::Gnu, Some(o), _) => o.with_extension("d"),
        (DriverKind::Gnu, None, Some(o)) if job.sources.len() == 1 => {
            Path::new(o).with_extension("d")
        }
        (DriverKind::Gnu, None, _) => stem,
    }
}

/// After a successful compile of `src` with `-MD`: the list files join its dependencies.
pub fn add_lists_to_depfile(job: &Job, src: &Source, out: Option<&Path>) -> anyhow::Result<()> {
    if !job.dep.write {
        return Ok(());
    }
    add_to_depfile(&depfile_path(job, src, out), &list_files(&job.args))
}

/// The `-MF` value of a command line, if any (also inside `/clang:`).
pub fn mf_value(args: &[Arg]) -> Option<OsString> {
    args.iter().rev().find_map(|a| match a.effective() {
        Some((Class::DepFileName, v)) => Some(v.to_os_string()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::cmdline::classify::plan;
    use crate::driver::cmdline::job::Plan;

    use crate::driver::os;

    #[test]
    fn markers_follow_the_content_not_the_time() {
        let (dir, f) = crate::driver::temp_file("hot list.txt", "f\n");
        let a = markers(std::slice::from_ref(&f), true).unwrap();
        let text = String::from_utf8(a.clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        // Backslashes (Windows' separators) escaped, as clang writes line markers.
        let escaped = f.display().to_string().replace('\\', "\\\\");
        assert_eq!(lines[0], format!("# 1 \"{escaped}\""));
        assert!(lines[1].starts_with("# 1 \"<hotpatch-cl lists ") && lines[1].ends_with(">\""));
        assert_eq!(
            markers(std::slice::from_ref(&f), true).unwrap(),
            a,
            "same content, same markers"
        );
        std::fs::write(&f, "g\n").unwrap();
        assert_ne!(markers(std::slice::from_ref(&f), true).unwrap(), a);
        // Moving a name between two files changes the key too (lengths are hashed).
        let g = dir.path().join("g.txt");
        std::fs::write(&f, "f\ng\n").unwrap();
        std::fs::write(&g, "").unwrap();
        let one = markers(&[f.clone(), g.clone()], true).unwrap();
        std::fs::write(&f, "f\n").unwrap();
        std::fs::write(&g, "g\n").unwrap();
        let two = markers(&[f.clone(), g.clone()], true).unwrap();
        assert_ne!(
            one.split(|&b| b == b'\n').nth(2),
            two.split(|&b| b == b'\n').nth(2)
        );
        assert!(markers(&[], true).unwrap().is_empty());
        let comment = String::from_utf8(markers(std::slice::from_ref(&f), false).unwrap()).unwrap();
        assert!(
            comment.starts_with("/* hotpatch-cl lists ") && comment.ends_with(" */\n"),
            "{comment}"
        );
        let err = markers(&[dir.path().join("missing.txt")], true).unwrap_err();
        assert!(format!("{err:#}").contains("missing.txt"), "{err:#}");
        assert_eq!(marker_name(r#"C:\a "b".txt"#), r#"C:\\a \"b\".txt"#);
    }

    #[test]
    fn depfiles_gain_the_lists() {
        let (dir, d) = crate::driver::temp_file("a.d", "a.o: a.c \\\n  b.h\nb.h:\n");
        add_to_depfile(
            &d,
            &[PathBuf::from("hot.txt"), PathBuf::from("my $dir/x#.txt")],
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(&d).unwrap(),
            "a.o: a.c \\\n  b.h \\\n  hot.txt \\\n  my\\ $$dir/x\\#.txt\nb.h:\n"
        );
        // (before, after): no continuation, CR LF line ends, and the Windows clang's long
        // first line continued with `\` CR LF.
        for (before, after) in [
            ("a.o: a.c", "a.o: a.c \\\n  hot.txt\n"),
            ("a.o: a.c\r\n", "a.o: a.c \\\n  hot.txt\r\n"),
            (
                "a.obj: \\\r\n  Z:/src/a.c\r\n",
                "a.obj: \\\r\n  Z:/src/a.c \\\n  hot.txt\r\n",
            ),
        ] {
            std::fs::write(&d, before).unwrap();
            add_to_depfile(&d, &[PathBuf::from("hot.txt")]).unwrap();
            assert_eq!(std::fs::read_to_string(&d).unwrap(), after, "{before:?}");
        }
        // Not a dependency file, or none: untouched.
        std::fs::write(&d, "garbage\n").unwrap();
        add_to_depfile(&d, &[PathBuf::from("hot.txt")]).unwrap();
        assert_eq!(std::fs::read_to_string(&d).unwrap(), "garbage\n");
        add_to_depfile(&dir.path().join("none.d"), &[PathBuf::from("hot.txt")]).unwrap();
    }

    fn job(kind: DriverKind, v: &[&str]) -> Job {
        match plan(kind, &os(v)) {
            Plan::NoObject(j) | Plan::Patch(j) => *j,
            other => panic!("{v:?}: {other:?}"),
        }
    }

    #[test]
    fn where_preprocessed_text_goes() {
        use DriverKind::*;
        let h = "-fms-hotpatch-functions-file=h.txt";
        assert_eq!(
            preprocessed(Gnu, &job(Gnu, &["-E", h, "a.c"])),
            Preprocessed::Stdout(true)
        );
        assert_eq!(
            preprocessed(Gnu, &job(Gnu, &["-E", h, "a.c", "-o", "a.i"])),
            Preprocessed::Files(vec!["a.i".into()], true)
        );
        assert_eq!(
            preprocessed(Gnu, &job(Gnu, &["-E", "-P", h, "a.c"])),
            Preprocessed::Stdout(false)
        );
        assert_eq!(
            preprocessed(Gnu, &job(Gnu, &["-M", h, "a.c"])),
            Preprocessed::None
        );
        assert_eq!(
            preprocessed(Gnu, &job(Gnu, &["-fsyntax-only", h, "a.c"])),
            Preprocessed::None
        );
        assert_eq!(
            preprocessed(ClangCl, &job(ClangCl, &["/E", h, "a.c"])),
            Preprocessed::Stdout(true)
        );
        assert_eq!(
            preprocessed(ClangCl, &job(ClangCl, &["-E", h, "a.c"])),
            Preprocessed::Stdout(true)
        );
        assert_eq!(
            preprocessed(ClangCl, &job(ClangCl, &["/EP", h, "a.c"])),
            Preprocessed::Stdout(false)
        );
        assert_eq!(
            preprocessed(ClangCl, &job(ClangCl, &["/P", h, "d/a.c", "b.cpp"])),
            Preprocessed::Files(vec!["a.i".into(), "b.i".into()], true)
        );
        assert_eq!(
            preprocessed(ClangCl, &job(ClangCl, &["/P", "/Fiout/x.i", h, "a.c"])),
            Preprocessed::Files(vec!["out/x.i".into()], true)
        );
        assert_eq!(
            list_files(
                &job(
                    Gnu,
                    &[
                        "-E",
                        h,
                        "-fms-hotpatch-allow-direct-file=d.txt",
                        "-fms-hotpatch-functions-list=f",
                        "a.c"
                    ]
                )
                .args
            ),
            [PathBuf::from("h.txt"), PathBuf::from("d.txt")]
        );
        assert_eq!(
            mf_value(&job(Gnu, &["-c", h, "-MD", "-MF", "x.d", "a.c"]).args),
            Some("x.d".into())
        );
        assert_eq!(
            mf_value(
                &job(
                    ClangCl,
                    &["/c", h, "/clang:-MD", "/clang:-MF", "/clang:y.d", "a.c"]
                )
                .args
            ),
            Some("y.d".into())
        );
    }
}
