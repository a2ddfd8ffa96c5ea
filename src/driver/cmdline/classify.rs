//! Classifying a command line, with no I/O: [`parse`] splits it with its driver's table,
//! [`plan`] turns it into a [`Plan`]: pass it through untouched (no hot-patch flag), run it
//! without the hot-patch flags (a job that makes no object, or nothing to patch), patch it,
//! or refuse it with a reason. One walk over the arguments collects the [`Job`] and the
//! facts the decision needs; the decision reads them.

use super::args::{Arg, Class, DriverKind, Kind};
use super::job::{ends_with_separator, extension, DepFlags, Job, OutputKind, Plan, Source};
use super::{clang_cl, gnu};
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

/// Splits a command line with the table of its driver.
pub fn parse(kind: DriverKind, args: &[OsString]) -> Vec<Arg> {
    match kind {
        DriverKind::ClangCl => clang_cl::parse(args),
        DriverKind::Gnu => gnu::parse(args),
    }
}

/// File extensions (lower case) compiled as C/C++ sources.
const SOURCE_EXTS: &[&str] = &["c", "c++", "cc", "cp", "cpp", "cxx", "i", "ii", "bc", "ll"];
/// Assembly sources: not hot-patchable.
const ASM_EXTS: &[&str] = &["asm", "s"];

/// Classifies an already expanded command line. Does no I/O.
pub fn plan(kind: DriverKind, expanded: &[OsString]) -> Plan {
    let (job, facts) = collect(kind, parse(kind, expanded));
    decide(job, facts)
}

/// What [`collect`] learns that only [`decide`] needs.
#[derive(Debug, Default)]
struct Facts {
    no_object: bool,
    emit_asm: bool,
    emit_llvm: bool,
    asm_inputs: Vec<OsString>,
    stdin_input: bool,
}

/// Walks the parsed arguments once: sources, outputs, the hot-patch flags and what else
/// the pipeline needs to know.
fn collect(kind: DriverKind, args: Vec<Arg>) -> (Job, Facts) {
    let mut job = blank_job(kind);
    let mut facts = Facts::default();
    let mut language: Option<OsString> = None;
    for (i, arg) in args.iter().enumerate() {
        if arg.kind == Kind::Input {
            let path = arg.raw.first().cloned().unwrap_or_default();
            take_operand(&mut job, &mut facts, i, path, &language);
            continue;
        }
        // The driver's reading of dependency flags: an `-Xclang` payload is not one.
        match arg.driver_effective().map(|(c, _)| c) {
            Some(Class::DepGen) => job.dep.write = true,
            Some(Class::DepFileName) => job.dep.file = true,
            Some(Class::DepTarget) => job.dep.target = true,
            _ => {}
        }
        if let Some((class, value)) = arg.effective() {
            take_flag(&mut job, &mut facts, &mut language, i, class, value);
        }
    }
    job.args = args;
    (job, facts)
}

/// A job of `kind` before any argument is read: no source, no output, no function set.
fn blank_job(kind: DriverKind) -> Job {
    Job {
        kind,
        args: Vec::new(),
        hot_files: Vec::new(),
        hot_lists: Vec::new(),
        allow_direct_files: Vec::new(),
        allow_direct_lists: Vec::new(),
        hotpatch_prologue: false,
        sources: Vec::new(),
        compile_only: false,
        output_kind: OutputKind::Object,
        asm_listing: false,
        asm_listing_output: None,
        output: None,
        object_output: None,
        target: None,
        lto: false,
        parallel: None,
        dep: DepFlags::default(),
        pch_create: false,
    }
}

/// An operand (argument `i`, `path`): a source when a `-x` language is in force or its
/// extension says C or C++, an assembly source, or standard input without a language.
fn take_operand(
    job: &mut Job,
    facts: &mut Facts,
    i: usize,
    path: OsString,
    language: &Option<OsString>,
) {
    let ext = extension(&path);
    if path == "-" && language.is_none() {
        // Standard input without `-x`: the compiler itself refuses it.
        facts.stdin_input = true;
    } else if language.is_some() || SOURCE_EXTS.contains(&ext.as_str()) {
        job.sources.push(Source {
            arg: i,
            path,
            language: language.clone(),
        });
    } else if ASM_EXTS.contains(&ext.as_str()) {
        facts.asm_inputs.push(path);
    }
}

/// What a known flag (argument `i`, its class and value as the compiler reads them) tells
/// about the job; `-x` changes the `language` of the operands after it.
fn take_flag(
    job: &mut Job,
    facts: &mut Facts,
    language: &mut Option<OsString>,
    i: usize,
    class: Class,
    value: &OsStr,
) {
    let value_str = value.to_string_lossy().into_owned();
    match class {
        Class::HotpatchFile => job.hot_files.push(PathBuf::from(value)),
        Class::HotpatchList => job.hot_lists.push(value_str),
        Class::AllowDirectFile => job.allow_direct_files.push(PathBuf::from(value)),
        Class::AllowDirectList => job.allow_direct_lists.push(value_str),
        Class::HotpatchPrologue => job.hotpatch_prologue = true,
        Class::CompileOnly => job.compile_only = true,
        Class::PchCreate => job.pch_create = true,
        Class::Output => job.output = Some(value.to_os_string()),
        Class::ObjectOutput => job.object_output = Some(value.to_os_string()),
        Class::AsmListing => job.asm_listing = true,
        Class::AsmListingOutput => {
            job.asm_listing = true;
            job.asm_listing_output = Some(value.to_os_string());
        }
        Class::EmitAsm => facts.emit_asm = true,
        Class::EmitLlvm => facts.emit_llvm = true,
        Class::Lto => job.lto = true,
        Class::NoLto => job.lto = false,
        Class::NoObject => facts.no_object = true,
        Class::Target => job.target = Some(value_str),
        Class::Parallel => job.parallel = Some(value_str.parse().unwrap_or(0)),
        Class::Language if job.kind == DriverKind::Gnu => {
            *language = (value_str != "none").then(|| value.to_os_string());
        }
        Class::SourceC | Class::SourceCxx => job.sources.push(Source {
            arg: i,
            path: value.to_os_string(),
            language: Some(
                if class == Class::SourceCxx {
                    "Tp"
                } else {
                    "Tc"
                }
                .into(),
            ),
        }),
        _ => {}
    }
}

/// Decides what to do with a collected command line: pass it through, refuse it (with the
/// reason), or patch it.
fn decide(mut job: Job, facts: Facts) -> Plan {
    if job.hot_files.is_empty() && job.hot_lists.is_empty() {
        return Plan::PassThrough;
    }
    if facts.no_object {
        return Plan::NoObject(Box::new(job));
    }
    if job.sources.is_empty() && facts.asm_inputs.is_empty() && !facts.stdin_input {
        return Plan::Plain(Box::new(job));
    }
    if facts.stdin_input {
        // clang needs a language for standard input (`-x c` / `/Tc -`) and says so itself;
        // without our flags, which GNU-mode clang would reject as well.
        return Plan::Plain(Box::new(job));
    }
    if let Some(a) = facts.asm_inputs.first() {
        return Plan::Refuse(format!(
            "assembly source {} cannot be hot-patched (compile it separately, without the hot-patch flags)",
            a.to_string_lossy()
        ));
    }
    job.compile_only |= facts.emit_asm;
    job.output_kind = match (facts.emit_llvm, facts.emit_asm) {
        (true, true) => OutputKind::IrText,
        (true, false) => OutputKind::Bitcode,
        (false, true) => OutputKind::Asm,
        (false, false) => OutputKind::Object,
    };
    if facts.emit_llvm && !job.compile_only {
        return Plan::Refuse(
            "-emit-llvm without -c or -S is not supported with hot-patching".into(),
        );
    }
    let multi = job.sources.len() > 1;
    if multi && job.compile_only {
        if let Some(o) = &job.output {
            return Plan::Refuse(format!(
                "cannot specify '-o {}' when compiling multiple source files",
                o.to_string_lossy()
            ));
        }
        if let Some(fo) = &job.object_output {
            if !ends_with_separator(fo) {
                return Plan::Refuse(format!(
                    "cannot specify '/Fo{}' when compiling multiple source files",
                    fo.to_string_lossy()
                ));
            }
        }
    }
    Plan::Patch(Box::new(job))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::cmdline::args::without_hotpatch_flags;
    use crate::driver::os;
    use std::ffi::OsStr;

    fn job(kind: DriverKind, v: &[&str]) -> Job {
        match plan(kind, &os(v)) {
            Plan::Patch(j) => *j,
            other => panic!("{v:?}: {other:?}"),
        }
    }

    #[test]
    fn a_source_is_cxx_by_its_language_flag_or_its_extension_in_any_case() {
        let cxx = |kind, v: &[&str]| -> Vec<bool> {
            job(kind, v).sources.iter().map(Source::is_cxx).collect()
        };
        let list = "-fms-hotpatch-functions-list=f";
        assert_eq!(
            cxx(
                DriverKind::Gnu,
                &["-c", list, "a.c", "b.CPP", "c.Cxx", "d.C", "e.cc", "f.i", "g.ii"]
            ),
            [false, true, true, true, true, false, true]
        );
        assert_eq!(
            cxx(
                DriverKind::Gnu,
                &["-c", list, "-x", "c++", "a.c", "-x", "c", "b.cpp"]
            ),
            [true, false]
        );
        assert_eq!(
            cxx(
                DriverKind::ClangCl,
                &["/c", list, "/Tpa.c", "/Tcb.cpp", "c.CXX", "d.c"]
            ),
            [true, false, true, false]
        );
    }

    #[test]
    fn sources_outputs_and_lists() {
        let j = job(
            DriverKind::ClangCl,
            &[
                "/c",
                "/Z7",
                "-fms-hotpatch-functions-list=a,b",
                "/clang:-fms-secure-hotpatch-functions-file=f.txt",
                "/Foout/",
                "--",
                "/abs/a.c",
                "b.cpp",
                "x.obj",
            ],
        );
        assert_eq!(j.hot_lists, ["a,b"]);
        assert_eq!(j.hot_files, [PathBuf::from("f.txt")]);
        assert_eq!(
            j.sources.iter().map(|s| s.path.clone()).collect::<Vec<_>>(),
            os(&["/abs/a.c", "b.cpp"])
        );
        assert!(j.compile_only);
        assert_eq!(j.object_output.as_deref(), Some(OsStr::new("out/")));
        let j = job(
            DriverKind::Gnu,
            &[
                "-c",
                "-x",
                "c",
                "src.txt",
                "-fms-hotpatch-functions-list=f",
                "-o",
                "o.o",
                "-MD",
            ],
        );
        assert_eq!(j.sources[0].language.as_deref(), Some(OsStr::new("c")));
        assert_eq!(j.output.as_deref(), Some(OsStr::new("o.o")));
        assert!(j.dep.write && !j.dep.file);
    }

    #[test]
    fn passthrough_and_refusals() {
        assert!(matches!(
            plan(DriverKind::ClangCl, &os(&["/c", "a.c"])),
            Plan::PassThrough
        ));
        assert!(matches!(
            plan(
                DriverKind::ClangCl,
                &os(&["/P", "-fms-hotpatch-functions-list=f", "a.c"])
            ),
            Plan::NoObject(_)
        ));
        assert!(matches!(
            plan(
                DriverKind::Gnu,
                &os(&["--version", "-fms-hotpatch-functions-list=f"])
            ),
            Plan::NoObject(_)
        ));
        let Plan::Refuse(r) = plan(
            DriverKind::ClangCl,
            &os(&[
                "/c",
                "/Fox.obj",
                "-fms-hotpatch-functions-list=f",
                "a.c",
                "b.c",
            ]),
        ) else {
            panic!()
        };
        assert!(r.contains("/Fox.obj"), "{r}");
        let Plan::Refuse(r) = plan(
            DriverKind::Gnu,
            &os(&["-c", "-fms-hotpatch-functions-list=f", "a.c", "x.s"]),
        ) else {
            panic!()
        };
        assert!(r.contains("x.s"), "{r}");
    }

    #[test]
    fn standard_input_with_a_language_is_a_source_and_without_one_the_compilers_business() {
        let gnu = job(
            DriverKind::Gnu,
            &["-c", "-fms-hotpatch-functions-list=f", "-x", "c++", "-"],
        );
        assert_eq!(gnu.sources.len(), 1);
        assert_eq!(gnu.sources[0].path, "-");
        assert_eq!(gnu.sources[0].language.as_deref(), Some("c++".as_ref()));
        let cl = job(
            DriverKind::ClangCl,
            &["/c", "-fms-hotpatch-functions-list=f", "/Tp", "-"],
        );
        assert_eq!(cl.sources[0].path, "-");
        for (kind, args) in [
            (
                DriverKind::Gnu,
                &["-c", "-fms-hotpatch-functions-list=f", "-"],
            ),
            (
                DriverKind::ClangCl,
                &["/c", "-fms-hotpatch-functions-list=f", "-"],
            ),
        ] {
            // The compiler refuses it itself, and sees none of our flags.
            assert!(matches!(plan(kind, &os(args)), Plan::Plain(_)), "{args:?}");
        }
    }

    use proptest::prelude::*;

    /// Pieces that command lines are made of: real spellings (with and without values),
    /// file names and noise.
    fn piece() -> impl Strategy<Value = String> {
        let spellings: Vec<String> = clang_cl::table()
            .iter()
            .chain(gnu::TABLE)
            .map(|s| s.name.to_owned())
            .collect();
        prop_oneof![
            prop::sample::select(spellings.clone()),
            (prop::sample::select(spellings), ".{0,6}").prop_map(|(a, b)| a + &b),
            prop::sample::select(vec![
                "a.c".to_owned(),
                "b.cpp".into(),
                "-".into(),
                "x.asm".into(),
                "/abs/s.c".into(),
                "--".into()
            ]),
            ".{0,8}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
        #[test]
        fn planning_never_panics(pieces in prop::collection::vec(piece(), 0..12)) {
            let args: Vec<OsString> = pieces.iter().map(OsString::from).collect();
            for kind in [DriverKind::ClangCl, DriverKind::Gnu] {
                let parsed = parse(kind, &args);
                // Every argument is kept: the parse is a partition of the command line.
                let back: Vec<OsString> = parsed.iter().flat_map(|a| a.raw.iter().cloned()).collect();
                prop_assert_eq!(&back, &args);
                let _ = plan(kind, &args);
            }
        }
    }

    /// Plans `v` and checks that the prologue flag was seen and that the allow-direct lists
    /// and files were collected in order; hands the job back for further checks.
    fn allow_direct_job(kind: DriverKind, v: &[&str], lists: &[&str], files: &[&str]) -> Job {
        let j = job(kind, v);
        assert!(j.hotpatch_prologue, "{v:?}");
        assert_eq!(j.allow_direct_lists, lists, "{v:?}");
        let files: Vec<PathBuf> = files.iter().map(PathBuf::from).collect();
        assert_eq!(j.allow_direct_files, files, "{v:?}");
        j
    }

    #[test]
    fn allow_direct_and_prologue_flags_are_classified_by_the_tables() {
        allow_direct_job(
            DriverKind::ClangCl,
            &[
                "/c",
                "/hotpatch",
                "-fms-hotpatch-functions-list=f",
                "-fms-hotpatch-allow-direct-list=a,b",
                "/clang:-fms-hotpatch-allow-direct-file=d.txt",
                "--",
                "x.c",
            ],
            &["a,b"],
            &["d.txt"],
        );
        let list = "-fms-hotpatch-functions-list=f";
        for (kind, v, prologue) in [
            (DriverKind::ClangCl, ["/c", "-hotpatch", list, "x.c"], true),
            (
                DriverKind::ClangCl,
                ["/c", "-fms-hotpatch", list, "x.c"],
                true,
            ),
            (
                DriverKind::ClangCl,
                ["/c", "/clang:-fms-hotpatch", list, "x.c"],
                true,
            ),
            // `/hotpatch` means nothing to the GNU driver.
            (DriverKind::Gnu, ["-c", "/hotpatch", list, "x.c"], false),
        ] {
            assert_eq!(job(kind, &v).hotpatch_prologue, prologue, "{v:?}");
        }
        // After `--` it is a file name.
        assert!(
            !job(DriverKind::ClangCl, &["/c", list, "x.c", "--", "/hotpatch"]).hotpatch_prologue
        );
        let g = allow_direct_job(
            DriverKind::Gnu,
            &[
                "-c",
                "-fms-hotpatch",
                "-fms-hotpatch-functions-list=f",
                "-fms-hotpatch-allow-direct-file=d.txt",
                "-fms-hotpatch-allow-direct-list=c",
                "x.c",
            ],
            &["c"],
            &["d.txt"],
        );
        assert_eq!(
            without_hotpatch_flags(DriverKind::Gnu, &g.args),
            os(&["-c", "-fms-hotpatch", "x.c"]),
            "ours go, the compiler's prologue flag stays"
        );
        // Without a function set nothing is ours to do: the line passes through untouched.
        assert!(matches!(
            plan(
                DriverKind::ClangCl,
                &os(&["/c", "-fms-hotpatch-allow-direct-list=a", "x.c"])
            ),
            Plan::PassThrough
        ));
    }

    #[test]
    fn hotpatch_flags_are_removed_everywhere() {
        let args = parse(
            DriverKind::ClangCl,
            &os(&[
                "/c",
                "-fms-hotpatch-functions-list=f",
                "/clang:-fms-hotpatch-functions-file=x",
                "-Xclang",
                "-fms-secure-hotpatch-functions-list=g",
                "a.c",
            ]),
        );
        assert_eq!(
            without_hotpatch_flags(DriverKind::ClangCl, &args),
            os(&["/c", "a.c"])
        );
    }
}
