//! The compiler wrapper: one invocation from command line to exit status.
//!
//! [`plan`] classifies a command line (no I/O) into a [`Plan`]: pass it through untouched
//! (no hot-patch flag), run it without the hot-patch flags (a job that makes no object),
//! patch it, or refuse it with a reason. [`run`] carries the plan out: a passthrough runs the compiler with the user's
//! arguments byte for byte; a patch either hands the flags to a compiler that supports them
//! (clang 21+, spelling translated) or runs the rewrite pipeline (`pipeline.rs`).
//!
//! Submodules: flag tables (`args`, `clang_cl`, `gnu`), response files (`rsp`), finding
//! the compiler (`toolchain`), which units need the pipeline (`route`), and the only place
//! that starts processes (`process`).

pub mod cmdline;
pub mod exec;
pub mod route;

use cmdline::args::{self, Arg, Class, Kind};
use cmdline::{clang_cl, gnu, rsp};
use exec::{cachekey, launcher, pipeline, process, toolchain};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
pub use toolchain::DriverKind;

/// How hot-patching is done (`HOTPATCH_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The rewrite pipeline for the units that define a listed function, a plain compile for
    /// the others (exact routing); with `-flto`, clang 21+'s own pass.
    Auto,
    /// The rewrite pipeline for every unit (no routing).
    Rewrite,
    /// Always native; an error if the compiler lacks support.
    Native,
}

impl Mode {
    /// Parses `HOTPATCH_MODE` (unset or empty is `auto`).
    pub fn from_env_value(v: Option<&OsStr>) -> Result<Mode, String> {
        match v
            .map(|v| v.to_string_lossy().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("") | Some("auto") => Ok(Mode::Auto),
            Some("rewrite") => Ok(Mode::Rewrite),
            Some("native") => Ok(Mode::Native),
            Some(other) => Err(format!(
                "HOTPATCH_MODE={other} is not one of auto, rewrite, native"
            )),
        }
    }
}

/// The first clang major version with native secure hot-patching.
pub const FIRST_NATIVE_MAJOR: u32 = 21;

/// What the output of each source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    Object,
    Asm,
    IrText,
    Bitcode,
}

/// A source file of the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Index of its argument in [`Job::args`].
    pub arg: usize,
    /// The path as given.
    pub path: OsString,
    /// `-x LANG` in force for it (GNU), or `Tc`/`Tp` (clang-cl) when given that way.
    pub language: Option<OsString>,
}

impl Source {
    /// Whether it is compiled as C++: `-x c++…` or `/Tp` when given, otherwise its extension
    /// as clang reads it, in any case (Windows: `.CPP`, `.Cxx`), with `.C` (upper case) C++.
    pub fn is_cxx(&self) -> bool {
        match &self.language {
            Some(lang) => {
                let lang = lang.to_string_lossy().to_ascii_lowercase();
                lang.contains("++") || lang.starts_with("tp")
            }
            None => {
                let raw = Path::new(&self.path).extension();
                raw.is_some_and(|e| e == "C")
                    || matches!(
                        extension(&self.path).as_str(),
                        "cc" | "cp" | "cpp" | "cxx" | "c++" | "ii"
                    )
            }
        }
    }
}

/// A command line that asks for hot-patching, classified.
#[derive(Debug, Clone)]
pub struct Job {
    pub kind: DriverKind,
    pub args: Vec<Arg>,
    pub hot_files: Vec<PathBuf>,
    pub hot_lists: Vec<String>,
    /// `-fms-hotpatch-allow-direct-file=` values: files of globals that keep direct access.
    pub allow_direct_files: Vec<PathBuf>,
    /// `-fms-hotpatch-allow-direct-list=` values.
    pub allow_direct_lists: Vec<String>,
    /// `/hotpatch` or `-fms-hotpatch` is given (outside `--`).
    pub hotpatch_prologue: bool,
    pub sources: Vec<Source>,
    /// `/c`, `-c`, `-S`: no link step.
    pub compile_only: bool,
    pub output_kind: OutputKind,
    /// `/FA` or `/Fa`: also an assembly listing (clang-cl).
    pub asm_listing: bool,
    /// `/FaX`.
    pub asm_listing_output: Option<OsString>,
    /// `-o X`.
    pub output: Option<OsString>,
    /// `/FoX`.
    pub object_output: Option<OsString>,
    /// `--target=`/`-target`.
    pub target: Option<String>,
    pub lto: bool,
    /// `/MP[N]`: `Some(0)` means one job per core.
    pub parallel: Option<usize>,
    /// GNU dependency-file flags (also in `/clang:`).
    pub dep: DepFlags,
    /// `/Yc`: the precompiled header is made by a plain run first.
    pub pch_create: bool,
}

/// Which GNU dependency-file flags a job has (the IR step must keep the file naming the
/// user's output, not its temporary IR).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DepFlags {
    /// `-MD` or `-MMD`: a dependency file is written.
    pub write: bool,
    /// `-MF X`: its path is given.
    pub file: bool,
    /// `-MT X` or `-MQ X`: its target is given.
    pub target: bool,
}

impl Job {
    /// The last `/Fe` value (a file, or a directory when it ends with a separator).
    pub fn exe_output(&self) -> Option<OsString> {
        self.args.iter().rev().find_map(|a| match a.effective() {
            Some((Class::ExeOutput, v)) => Some(v.to_os_string()),
            _ => None,
        })
    }

    /// The first input operand (source or object): clang-cl names the executable after it.
    pub fn first_input(&self) -> Option<OsString> {
        self.args
            .iter()
            .find_map(|a| match (&a.kind, a.effective()) {
                (Kind::Input, _) => a.raw.first().cloned(),
                (_, Some((Class::SourceC | Class::SourceCxx, v))) => Some(v.to_os_string()),
                _ => None,
            })
    }
}

/// What to do with a command line.
#[derive(Debug, Clone)]
pub enum Plan {
    /// Run the compiler with the arguments untouched.
    PassThrough,
    /// Hot-patch flags on a job with no source to patch (a link of objects only, standard
    /// input without a language): run it with them removed ([`plain_command`]), as every
    /// compiler accepts it then.
    Plain(Box<Job>),
    /// Hot-patch.
    Patch(Box<Job>),
    /// A job that makes no object (`-E`, `/P`, `-M`, `-fsyntax-only`…) on a command line
    /// with a function set: run without the hot-patch flags (`cachekey.rs`).
    NoObject(Box<Job>),
    /// Hot-patching was asked for but this command line cannot have it.
    Refuse(String),
}

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

fn extension(path: &OsStr) -> String {
    Path::new(path)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

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
    let mut job = Job {
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
    };
    let mut facts = Facts::default();
    let mut language: Option<OsString> = None;
    for (i, arg) in args.iter().enumerate() {
        if arg.kind == Kind::Input {
            let path = arg.raw.first().cloned().unwrap_or_default();
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
            continue;
        }
        // The driver's reading of dependency flags: an `-Xclang` payload is not one.
        match arg.driver_effective().map(|(c, _)| c) {
            Some(Class::DepGen) => job.dep.write = true,
            Some(Class::DepFileName) => job.dep.file = true,
            Some(Class::DepTarget) => job.dep.target = true,
            _ => {}
        }
        let Some((class, value)) = arg.effective() else {
            continue;
        };
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
            Class::Language if kind == DriverKind::Gnu => {
                language = (value_str != "none").then(|| value.to_os_string());
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
    job.args = args;
    (job, facts)
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

/// Whether a `/Fo`, `/Fa` or `/Fe` value names a directory.
pub fn ends_with_separator(v: &OsStr) -> bool {
    let b = v.as_encoded_bytes();
    matches!(b.last(), Some(b'/') | Some(b'\\'))
}

/// The arguments with every hot-patch flag (function set and allow-direct names) removed,
/// also inside `/clang:` and `-Xclang`: the [`args::Step::Plain`] command line.
pub fn without_hotpatch_flags(kind: DriverKind, args: &[Arg]) -> Vec<OsString> {
    args.iter()
        .filter(|a| a.rule(args::Step::Plain, kind) != args::Rule::Drop)
        .flat_map(|a| a.raw.iter().cloned())
        .collect()
}

/// The plain compile of a job: the compiler with the user's (expanded) arguments, the
/// hot-patch flags removed. What a unit that defines no listed function gets, and what a job
/// that makes no object runs; the one place such a command is built.
pub fn plain_command(compiler: &Path, job: &Job) -> process::Command {
    let mut cmd = process::Command::new(compiler);
    cmd.args(without_hotpatch_flags(job.kind, &job.args));
    cmd
}

/// The `HOTPATCH_*` settings [`run`] needs, read from the environment once by the front door
/// (so tests can set them explicitly). Which compiler runs (`PATH`, `HOTPATCH_COMPILER`) is
/// decided before, by [`toolchain`].
#[derive(Debug, Clone)]
pub struct Env {
    /// `HOTPATCH_MODE`.
    pub mode: Mode,
    /// `HOTPATCH_WERROR`: our warnings fail the compile (see [`crate::diag`]).
    pub werror: bool,
    /// `HOTPATCH_VERBOSE`: print each command, and what the PDB fix-up restored.
    pub verbose: bool,
    /// `HOTPATCH_LAUNCHER` (or `hotpatch-cl ccache clang …`): ccache, sccache, distcc…
    pub launcher: Option<launcher::Launcher>,
}

/// The variable that asks for verbose output.
pub const VERBOSE_ENV: &str = "HOTPATCH_VERBOSE";

/// Whether a `HOTPATCH_VERBOSE` value asks for verbose output: set, not empty and not `0`.
pub fn verbose_requested(value: Option<&OsStr>) -> bool {
    value.is_some_and(|v| v != "0" && !v.is_empty())
}

/// The wrapper's own failure (one line on stderr, exit 1).
pub type Error = anyhow::Error;

/// Runs one invocation: `compiler` is the resolved path, `args` the user's arguments.
pub fn run(compiler: &Path, kind: DriverKind, args: &[OsString], env: &Env) -> Result<i32, Error> {
    process::set_verbose(env.verbose);
    let quoting = match kind {
        DriverKind::ClangCl => rsp::Quoting::Windows,
        DriverKind::Gnu => rsp::Quoting::Gnu,
    };
    let expanded = if rsp::has_response_files(args) {
        rsp::expand(args, quoting)?
    } else {
        args.to_vec()
    };
    match plan(kind, &expanded) {
        Plan::PassThrough => passthrough(compiler, kind, args, env.launcher.as_ref()),
        Plan::Plain(job) => {
            let cmd = launcher::wrap(
                env.launcher.as_ref(),
                launcher::Step::Plain,
                kind,
                plain_command(compiler, &job),
            );
            Ok(exit_code(process::run(&cmd)?))
        }
        Plan::Refuse(reason) => Err(anyhow::anyhow!(reason)),
        Plan::Patch(job) => {
            let me = toolchain::current_exe();
            let whole = env
                .launcher
                .as_ref()
                .zip(me.as_deref())
                .and_then(|(l, me)| {
                    l.whole_job(compiler, &job, args, me, &format!("{:?}", env.mode))
                });
            match whole {
                Some(cmd) => Ok(exit_code(process::run(&cmd)?)),
                None => pipeline::patch(compiler, &job, env),
            }
        }
        Plan::NoObject(job) => cachekey::run_no_object(compiler, &job, env.launcher.as_ref()),
    }
}

/// Runs the compiler with `args` untouched (behind the launcher, if any) and returns its
/// exit code.
pub fn passthrough(
    compiler: &Path,
    kind: DriverKind,
    args: &[OsString],
    launcher: Option<&launcher::Launcher>,
) -> Result<i32, Error> {
    let mut cmd = process::Command::new(compiler);
    cmd.args(args);
    let cmd = launcher::wrap(launcher, launcher::Step::Plain, kind, cmd);
    let status = process::run(&cmd)?;
    Ok(exit_code(status))
}

/// The exit code to return for a child's status (a signal becomes 1).
pub fn exit_code(status: std::process::ExitStatus) -> i32 {
    status.code().unwrap_or(1)
}

/// For the driver's unit tests: a command line as the wrapper receives it.
#[cfg(test)]
pub(crate) fn os(v: &[&str]) -> Vec<OsString> {
    v.iter().map(OsString::from).collect()
}

/// For the driver's unit tests: a temporary directory holding one file `name` with `text`
/// (the directory goes when the first half is dropped), and the file's path.
#[cfg(test)]
pub(crate) fn temp_file(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(kind: DriverKind, v: &[&str]) -> Job {
        match plan(kind, &os(v)) {
            Plan::Patch(j) => *j,
            other => panic!("{v:?}: {other:?}"),
        }
    }

    #[test]
    fn modes() {
        assert_eq!(Mode::from_env_value(None).unwrap(), Mode::Auto);
        assert_eq!(
            Mode::from_env_value(Some(OsStr::new("REWRITE"))).unwrap(),
            Mode::Rewrite
        );
        assert!(Mode::from_env_value(Some(OsStr::new("fast")))
            .unwrap_err()
            .contains("fast"));
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

    #[test]
    fn allow_direct_and_prologue_flags_are_classified_by_the_tables() {
        let j = job(
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
        );
        assert!(j.hotpatch_prologue);
        assert_eq!(j.allow_direct_lists, ["a,b"]);
        assert_eq!(j.allow_direct_files, [PathBuf::from("d.txt")]);
        assert!(
            job(
                DriverKind::ClangCl,
                &["/c", "-hotpatch", "-fms-hotpatch-functions-list=f", "x.c"]
            )
            .hotpatch_prologue
        );
        assert!(
            job(
                DriverKind::ClangCl,
                &[
                    "/c",
                    "-fms-hotpatch",
                    "-fms-hotpatch-functions-list=f",
                    "x.c"
                ]
            )
            .hotpatch_prologue
        );
        assert!(
            job(
                DriverKind::ClangCl,
                &[
                    "/c",
                    "/clang:-fms-hotpatch",
                    "-fms-hotpatch-functions-list=f",
                    "x.c"
                ]
            )
            .hotpatch_prologue
        );
        // After `--` it is a file name, and `/hotpatch` means nothing to the GNU driver.
        assert!(
            !job(
                DriverKind::ClangCl,
                &[
                    "/c",
                    "-fms-hotpatch-functions-list=f",
                    "x.c",
                    "--",
                    "/hotpatch"
                ]
            )
            .hotpatch_prologue
        );
        assert!(
            !job(
                DriverKind::Gnu,
                &["-c", "/hotpatch", "-fms-hotpatch-functions-list=f", "x.c"]
            )
            .hotpatch_prologue
        );
        let g = job(
            DriverKind::Gnu,
            &[
                "-c",
                "-fms-hotpatch",
                "-fms-hotpatch-functions-list=f",
                "-fms-hotpatch-allow-direct-file=d.txt",
                "-fms-hotpatch-allow-direct-list=c",
                "x.c",
            ],
        );
        assert!(g.hotpatch_prologue);
        assert_eq!(g.allow_direct_lists, ["c"]);
        assert_eq!(g.allow_direct_files, [PathBuf::from("d.txt")]);
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
