//! Compiler launchers: ccache, sccache, distcc or any command put in front of the compiler
//! runs the wrapper makes (`HOTPATCH_LAUNCHER`, or `hotpatch-cl ccache clang-19 …`).
//!
//! ccache gets the whole hot-patched compile of one source when it can take it
//! ([`Launcher::whole_job`]: the wrapper becomes ccache's prefix, so a warm rebuild is one
//! cache hit). Otherwise a launcher sees only the runs it can handle; what each tool does with each step was
//! measured with ccache 4.7, sccache 0.4 and distcc 3.4 (docs/wrapper.md, "Caches and
//! compile farms"):
//!
//! | run                                   | ccache | sccache          | distcc      | other |
//! |---------------------------------------|--------|------------------|-------------|-------|
//! | plain compile, passthrough, native    | yes    | yes              | yes         | yes   |
//! | IR step (`-S -emit-llvm`), GNU mode   | yes    | yes, with `-c`   | yes         | no    |
//! | IR step, clang-cl                     | no     | no               | no          | no    |
//! | code generation from our `.ll`        | no     | no               | no          | no    |
//! | link                                  | no     | no               | no          | no    |
//!
//! clang-cl's IR step names its output `/clang:-o…`, which none of them understands: ccache
//! then takes the object it would have expected (`a.obj` in the working directory) for the
//! result and can store the wrong file, sccache refuses it, distcc cannot parse clang-cl
//! lines. Code generation from IR is never cached or distributed by any of them (ccache: "unsupported
//! source language", sccache: `-Xclang` and `-x ir` are not cacheable, distcc: not a source),
//! so sending it would only cost a process start. Two adjustments keep the tools correct:
//! ccache must be told that a clang-cl is one (`CCACHE_COMPILERTYPE=clang-cl`, unless the
//! user set it: it guesses from the resolved program name, `clang`), sccache gets a `-c` on
//! the IR step (`-c -S` is `-S` to clang; without it sccache does not call it a compile), and
//! distcc, which adds
//! `-target <host triple>` to a clang command without `-target` (it does not know the
//! `--target=` spelling), gets `-target T` repeated from `--target=T` so the daemon compiles
//! for Windows and not for Linux. Not here: spawning (`process.rs`), deciding the steps
//! (`pipeline.rs`).

use super::process::Command;
use super::toolchain;
use crate::driver::cmdline::args::DriverKind;
use crate::driver::cmdline::job::{Job, OutputKind};
use crate::driver::cmdline::rsp;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// The environment variable naming the launcher.
pub const ENV: &str = "HOTPATCH_LAUNCHER";

/// The tools whose behaviour is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Ccache,
    Sccache,
    Distcc,
    /// Anything else (a script, `icecc`, `buildcache`…): only the plain compiles.
    Other,
}

impl Tool {
    /// The tool a program name (or path, `/` or `\\` separated on any host) is, by its
    /// file stem.
    pub fn of(program: &OsStr) -> Tool {
        let text = program.to_string_lossy();
        let base = text.rsplit(['/', '\\']).next().unwrap_or_default();
        match toolchain::stem(OsStr::new(base))
            .to_ascii_lowercase()
            .as_str()
        {
            "ccache" => Tool::Ccache,
            "sccache" => Tool::Sccache,
            "distcc" => Tool::Distcc,
            _ => Tool::Other,
        }
    }
}

/// Which compiler run a command is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A run of the compiler with the user's own job: a passthrough, a job that makes no
    /// object, the plain compile of an untouched file, a native clang 21+ compile.
    Plain,
    /// Step 1 of the pipeline: `-S -emit-llvm` to a temporary `.ll`.
    Ir,
    /// Step 3 of the pipeline: code generation from the rewritten `.ll`.
    Codegen,
    /// The link of a compile-and-link.
    Link,
}

/// A launcher: its program (found on `PATH`) and its own arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launcher {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub tool: Tool,
    /// `CCACHE_COMPILERTYPE` is not set by the user: we may set it for clang-cl.
    pub ccache_type_free: bool,
}

/// Why a launcher cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{ENV}: '{0}' not found on PATH")]
    NotFound(String),
    #[error("{ENV}: '{}' is hotpatch-cl itself", .0.display())]
    IsSelf(PathBuf),
}

impl Launcher {
    /// Parses `HOTPATCH_LAUNCHER`: unset or empty is none. A value that names an existing
    /// file is the program alone (`C:\Program Files\ccache\ccache.exe`); otherwise it is split
    /// into words, with Windows quoting on Windows and shell quoting elsewhere, the first
    /// word being the program and the rest its arguments (`distcc -j4`, `"my tool" --flag`).
    pub fn from_env_value(
        value: Option<&OsStr>,
        path: Option<&OsStr>,
        me: Option<&Path>,
    ) -> Result<Option<Launcher>, Error> {
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        let words: Vec<OsString> = if Path::new(value).is_file() {
            vec![value.to_os_string()]
        } else {
            let text = value.to_string_lossy();
            let split = if cfg!(windows) {
                rsp::split_windows(&text)
            } else {
                rsp::split_gnu(&text)
            };
            split.into_iter().map(OsString::from).collect()
        };
        let mut words = words.into_iter();
        let Some(program) = words.next() else {
            return Ok(None);
        };
        Self::new(&program, words.collect(), path, me).map(Some)
    }

    /// The launcher `program` (a name searched on `path`, with `PATHEXT` on Windows, or a
    /// path) with its arguments.
    pub fn new(
        program: &OsStr,
        args: Vec<OsString>,
        path: Option<&OsStr>,
        me: Option<&Path>,
    ) -> Result<Launcher, Error> {
        let name = program.to_string_lossy().into_owned();
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let found = if Path::new(program).components().count() > 1 {
            which::which(program)
        } else {
            which::which_in(program, path, cwd)
        }
        .map_err(|_| Error::NotFound(name))?;
        if let (Ok(c), Some(me)) = (found.canonicalize(), me) {
            if c == me {
                return Err(Error::IsSelf(found));
            }
        }
        Ok(Launcher {
            tool: Tool::of(program),
            program: found,
            args,
            ccache_type_free: std::env::var_os("CCACHE_COMPILERTYPE").is_none(),
        })
    }

    /// Whether this launcher takes `step` of a `kind` compiler.
    pub fn takes(&self, step: Step, kind: DriverKind) -> bool {
        match step {
            Step::Plain => true,
            // clang-cl's IR step writes `/clang:-o…`, which no tool reads as the output.
            Step::Ir => kind == DriverKind::Gnu && self.tool != Tool::Other,
            Step::Codegen | Step::Link => false,
        }
    }

    /// `cmd` run through this launcher when it takes `step`, else `cmd` unchanged.
    pub fn wrap(&self, step: Step, kind: DriverKind, cmd: Command) -> Command {
        if !self.takes(step, kind) {
            return cmd;
        }
        let mut out = Command::new(&self.program);
        out.args(&self.args);
        out.arg(&cmd.program);
        // The compiler's own leading arguments (`zig clang`) stay right after it.
        out.args(&cmd.args[..cmd.head]);
        out.head = self.args.len() + 1 + cmd.head;
        out.env = cmd.env;
        match (self.tool, step, kind) {
            (Tool::Ccache, _, DriverKind::ClangCl) if self.ccache_type_free => {
                out.env("CCACHE_COMPILERTYPE", "clang-cl");
            }
            // `-c -S` is `-S` to clang; sccache wants the `-c` to call it a compile.
            (Tool::Sccache, Step::Ir, DriverKind::Gnu) => {
                out.arg("-c");
            }
            (Tool::Distcc, _, DriverKind::Gnu) => {
                if let Some(t) = distcc_target(&cmd.args) {
                    out.arg("-target").arg(t);
                }
            }
            _ => {}
        }
        out.args(&cmd.args[cmd.head..]);
        out
    }
}

impl Launcher {
    /// The whole hot-patch compile behind ccache, when ccache can cache it: `ccache COMPILER
    /// ARGS…` with `CCACHE_PREFIX` and `CCACHE_PREFIX_CPP` naming `me`, so ccache preprocesses
    /// through the wrapper (which strips the hot-patch flags and adds the list files to the
    /// key, `cachekey.rs`) and, on a miss, compiles through it; a warm rebuild is then one
    /// cache hit per file, as without hot-patching. The inner runs get no launcher. The key
    /// also holds what ccache cannot see: this wrapper's version, `mode`, and the real
    /// compiler's identity (`CCACHE_COMPILERCHECK`, unless the user set one).
    ///
    /// `None` (the wrapper then sends single steps, [`Launcher::wrap`]) for any other tool,
    /// and where ccache cannot take the job: not one source compiled to an object, a source
    /// on standard input, a precompiled header made, our path holding a space (ccache splits
    /// its prefix at spaces), or our name being a compiler's (a copy installed as `clang`
    /// would take the compiler argument for a source).
    pub fn whole_job(
        &self,
        compiler: &Path,
        job: &Job,
        args: &[OsString],
        me: &Path,
        mode: &str,
    ) -> Option<Command> {
        let me_text = me.to_str()?;
        let masquerading = matches!(
            toolchain::stem(me.file_name()?)
                .to_ascii_lowercase()
                .as_str(),
            "clang" | "clang-cl" | "clang++"
        );
        let one_object = job.compile_only
            && job.output_kind == OutputKind::Object
            && matches!(&job.sources[..], [src] if src.path != "-")
            && !job.pch_create;
        // ccache tells compilers by their name: `zig` running `clang` is none it knows.
        let subcommand = !super::process::subcommand_of(compiler).is_empty();
        if self.tool != Tool::Ccache
            || !one_object
            || me_text.contains(' ')
            || masquerading
            || subcommand
        {
            return None;
        }
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args).arg(compiler).args(args);
        cmd.head = self.args.len() + 1;
        for var in ["CCACHE_PREFIX", "CCACHE_PREFIX_CPP"] {
            let mut prefix = OsString::from(me_text);
            // A prefix of the user's own (distcc) runs after the wrapper, as its launcher.
            if let Some(user) = std::env::var_os(var).filter(|v| !v.is_empty()) {
                prefix.push(" ");
                prefix.push(user);
            }
            cmd.env(var, prefix);
        }
        cmd.env(ENV, "");
        if job.kind == DriverKind::ClangCl && self.ccache_type_free {
            cmd.env("CCACHE_COMPILERTYPE", "clang-cl");
        }
        if std::env::var_os("CCACHE_COMPILERCHECK").is_none() {
            let meta = std::fs::metadata(compiler).ok()?;
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            cmd.env(
                "CCACHE_COMPILERCHECK",
                format!(
                    "string:hotpatch-cl {} mode={mode} {} {} {mtime}",
                    env!("CARGO_PKG_VERSION"),
                    compiler.display(),
                    meta.len()
                ),
            );
        }
        Some(cmd)
    }
}

/// `cmd` through `launcher` if there is one and it takes `step`.
pub fn wrap(launcher: Option<&Launcher>, step: Step, kind: DriverKind, cmd: Command) -> Command {
    match launcher {
        Some(l) => l.wrap(step, kind, cmd),
        None => cmd,
    }
}

/// The triple to repeat as `-target T` for distcc: the last `--target=T` before `--`, when
/// the line has no `-target` of its own (distcc then adds its host's).
fn distcc_target(args: &[OsString]) -> Option<OsString> {
    let mut target = None;
    for a in args {
        if a == "--" {
            break;
        }
        if a == "-target" {
            return None;
        }
        if let Some(t) = a.to_str().and_then(|s| s.strip_prefix("--target=")) {
            target = Some(OsString::from(t));
        }
    }
    target
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::cmdline::classify::plan;
    use crate::driver::cmdline::job::Plan;

    use crate::driver::os;

    fn launcher(tool: Tool) -> Launcher {
        Launcher {
            program: PathBuf::from("/usr/bin/tool"),
            args: os(&["--opt"]),
            tool,
            ccache_type_free: true,
        }
    }

    fn cmd(args: &[&str]) -> Command {
        let mut c = Command::new("/usr/bin/clang-19");
        c.args(os(args));
        c
    }

    #[test]
    fn tools_by_name() {
        assert_eq!(Tool::of(OsStr::new("ccache")), Tool::Ccache);
        assert_eq!(Tool::of(OsStr::new("/usr/bin/sccache")), Tool::Sccache);
        assert_eq!(Tool::of(OsStr::new(r"C:\bin\SCCACHE.EXE")), Tool::Sccache);
        assert_eq!(Tool::of(OsStr::new("distcc")), Tool::Distcc);
        assert_eq!(Tool::of(OsStr::new("icecc")), Tool::Other);
    }

    #[test]
    fn steps_each_tool_takes() {
        use DriverKind::*;
        let c = launcher(Tool::Ccache);
        assert!(c.takes(Step::Plain, ClangCl) && c.takes(Step::Ir, Gnu));
        assert!(!c.takes(Step::Ir, ClangCl));
        assert!(!c.takes(Step::Codegen, Gnu) && !c.takes(Step::Link, Gnu));
        let s = launcher(Tool::Sccache);
        assert!(s.takes(Step::Ir, Gnu) && !s.takes(Step::Ir, ClangCl));
        let d = launcher(Tool::Distcc);
        assert!(d.takes(Step::Ir, Gnu) && !d.takes(Step::Ir, ClangCl));
        let o = launcher(Tool::Other);
        assert!(o.takes(Step::Plain, Gnu) && !o.takes(Step::Ir, Gnu));
    }

    #[test]
    fn a_compilers_subcommand_stays_right_after_it() {
        // `zig clang`: the subcommand is the compiler's, before anything the launcher adds.
        let zig = Command {
            program: PathBuf::from("/opt/zig/zig"),
            args: os(&["clang", "-S", "a.c"]),
            env: Vec::new(),
            head: 1,
        };
        let w = launcher(Tool::Sccache).wrap(Step::Ir, DriverKind::Gnu, zig);
        assert_eq!(
            w.args,
            os(&["--opt", "/opt/zig/zig", "clang", "-c", "-S", "a.c"])
        );
        assert_eq!(w.head, 3);
    }

    #[test]
    fn wrapped_commands() {
        let w = launcher(Tool::Ccache).wrap(Step::Plain, DriverKind::ClangCl, cmd(&["/c", "a.c"]));
        assert_eq!(w.program, PathBuf::from("/usr/bin/tool"));
        assert_eq!(w.args, os(&["--opt", "/usr/bin/clang-19", "/c", "a.c"]));
        assert_eq!(w.head, 2);
        assert_eq!(w.env, [("CCACHE_COMPILERTYPE".into(), "clang-cl".into())]);
        let w = launcher(Tool::Sccache).wrap(Step::Ir, DriverKind::Gnu, cmd(&["-S", "a.c"]));
        assert_eq!(
            w.args,
            os(&["--opt", "/usr/bin/clang-19", "-c", "-S", "a.c"])
        );
        let w = launcher(Tool::Distcc).wrap(
            Step::Plain,
            DriverKind::Gnu,
            cmd(&["--target=x86_64-w64-windows-gnu", "-c", "--", "--target=x"]),
        );
        assert_eq!(
            w.args,
            os(&[
                "--opt",
                "/usr/bin/clang-19",
                "-target",
                "x86_64-w64-windows-gnu",
                "--target=x86_64-w64-windows-gnu",
                "-c",
                "--",
                "--target=x"
            ])
        );
        let own = cmd(&["-target", "a", "--target=b", "-c"]);
        assert_eq!(
            launcher(Tool::Distcc)
                .wrap(Step::Plain, DriverKind::Gnu, own.clone())
                .args[2..],
            own.args[..]
        );
        // Steps a tool does not take are left alone.
        let c = cmd(&["-c", "x.ll"]);
        assert_eq!(
            launcher(Tool::Ccache).wrap(Step::Codegen, DriverKind::Gnu, c.clone()),
            c
        );
    }

    #[cfg(unix)]
    #[test]
    fn env_values() {
        let (dir, tool) = crate::driver::temp_file("my tool", "");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        // A path with a space is one program, not split.
        let l = Launcher::from_env_value(Some(tool.as_os_str()), None, None)
            .unwrap()
            .unwrap();
        assert_eq!(l.program, tool);
        assert!(l.args.is_empty());
        assert_eq!(l.tool, Tool::Other);
        // A name with arguments is found on the given PATH.
        let path = dir.path().as_os_str();
        let l = Launcher::from_env_value(Some(OsStr::new("'my tool' -x --y")), Some(path), None)
            .unwrap()
            .unwrap();
        assert_eq!(l.program, tool);
        assert_eq!(l.args, os(&["-x", "--y"]));
        assert!(Launcher::from_env_value(Some(OsStr::new("")), None, None)
            .unwrap()
            .is_none());
        assert!(Launcher::from_env_value(None, None, None)
            .unwrap()
            .is_none());
        let err = Launcher::from_env_value(Some(OsStr::new("no-such-cache -x")), Some(path), None)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "HOTPATCH_LAUNCHER: 'no-such-cache' not found on PATH"
        );
        let me = tool.canonicalize().unwrap();
        assert!(matches!(
            Launcher::from_env_value(Some(tool.as_os_str()), None, Some(&me)),
            Err(Error::IsSelf(_))
        ));
    }

    #[test]
    fn ccache_takes_the_whole_job_of_one_source_to_an_object_only() {
        let job = |kind, args: &[&str]| match plan(kind, &os(args)) {
            Plan::Patch(j) => *j,
            other => panic!("{args:?}: {other:?}"),
        };
        let hot = "-fms-hotpatch-functions-list=f";
        let gnu = job(DriverKind::Gnu, &[hot, "-c", "a.c", "-o", "a.o"]);
        let cl = job(DriverKind::ClangCl, &[hot, "/c", "a.c"]);
        let two = job(DriverKind::Gnu, &[hot, "-c", "a.c", "b.c"]);
        let linked = job(DriverKind::Gnu, &[hot, "a.c", "-o", "a.exe"]);
        let compiler = std::env::current_exe().unwrap(); // any file with a size and a date
        let me = Path::new("/opt/hotpatch/hotpatch-cl");
        let ccache = launcher(Tool::Ccache);
        let args = os(&["-c", "a.c"]);
        let whole = |l: &Launcher, j: &Job, me: &Path| l.whole_job(&compiler, j, &args, me, "Auto");
        let cmd = whole(&ccache, &gnu, me).expect("one source to an object");
        assert_eq!(cmd.program, PathBuf::from("/usr/bin/tool"));
        assert_eq!(cmd.args[..2], os(&["--opt", compiler.to_str().unwrap()]));
        assert_eq!(cmd.args[2..], args);
        let env = |cmd: &Command, key: &str| {
            cmd.env
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.to_string_lossy().into_owned())
        };
        if std::env::var_os("CCACHE_PREFIX").is_none() {
            assert_eq!(
                env(&cmd, "CCACHE_PREFIX").as_deref(),
                Some("/opt/hotpatch/hotpatch-cl")
            );
        }
        assert_eq!(env(&cmd, "HOTPATCH_LAUNCHER").as_deref(), Some(""));
        if std::env::var_os("CCACHE_COMPILERCHECK").is_none() {
            let check = env(&cmd, "CCACHE_COMPILERCHECK").unwrap();
            assert!(check.starts_with("string:hotpatch-cl ") && check.contains(" mode=Auto "));
        }
        let cl_cmd = whole(&ccache, &cl, me).unwrap();
        assert_eq!(
            env(&cl_cmd, "CCACHE_COMPILERTYPE").as_deref(),
            Some("clang-cl")
        );
        assert!(whole(&ccache, &two, me).is_none(), "two sources");
        assert!(whole(&ccache, &linked, me).is_none(), "a link");
        assert!(whole(&launcher(Tool::Sccache), &gnu, me).is_none());
        assert!(whole(&launcher(Tool::Distcc), &gnu, me).is_none());
        assert!(whole(&ccache, &gnu, Path::new("/opt/hot patch/hotpatch-cl")).is_none());
        assert!(whole(&ccache, &gnu, Path::new("/opt/shims/clang")).is_none());
    }
}
