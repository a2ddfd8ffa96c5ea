//! Shared helpers for the integration tests: finding the real LLVM tools and running them.
//!
//! Tests that need a tool never pass silently when it is missing: they fail with the
//! Debian package to install (`scripts/setup.sh` installs them all).

// The Windows build of the tests keeps only the modules that run under Wine (main.rs); the
// helpers for the Linux tools go with the others, and what is left here unused there is not
// dead on Linux.
#![cfg_attr(windows, allow(dead_code))]

#[cfg(not(windows))]
pub mod coff;
#[cfg(not(windows))]
pub mod e2e;
pub mod fake;
#[cfg(not(windows))]
pub mod objects;
#[cfg(not(windows))]
pub mod pdb;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The Debian package that provides `tool`, for error messages.
fn package_of(tool: &str) -> &'static str {
    match tool {
        t if t.starts_with("clang") && t.ends_with("19") => "clang-19",
        t if t.starts_with("clang") => "clang-22",
        t if t.starts_with("lld") => "lld-22",
        "wine" => "wine",
        "ccache" => "ccache",
        "sccache" => "sccache",
        "distcc" | "distccd" => "distcc",
        _ => "llvm-22",
    }
}

/// Absolute path of `tool` on PATH; panics with an install hint when it is missing.
pub fn tool(tool: &str) -> PathBuf {
    which::which(tool).unwrap_or_else(|_| {
        panic!(
            "{tool} is not installed: run scripts/setup.sh (apt-get install {})",
            package_of(tool)
        )
    })
}

/// Runs `program args…` in `dir`, panics with its output unless it exits 0, returns stdout.
#[track_caller]
pub fn run_ok(dir: &Path, program: &str, args: &[&str]) -> String {
    let out = command_ok(command(dir, program).args(args));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `program args…` in `dir` and returns its whole output, whatever the exit status.
pub fn run(dir: &Path, program: &str, args: &[&str]) -> Output {
    command(dir, program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"))
}

/// A command for `program` (a tool on PATH, or a path) in `dir`.
fn command(dir: &Path, program: &str) -> Command {
    let exe = if program.contains('/') {
        PathBuf::from(program)
    } else {
        tool(program)
    };
    let mut cmd = Command::new(exe);
    cmd.current_dir(dir);
    cmd
}

/// Runs `cmd`, panics with its output unless it exits 0, returns its output.
#[track_caller]
pub fn command_ok(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    assert_success(&out, &format!("{cmd:?}"));
    out
}

/// Panics with `what`, the exit status and the whole output unless `out` is a success.
#[track_caller]
pub fn assert_success(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `hotpatch-cl ARGS…` in `dir` with `env` (and no other `HOTPATCH_*` setting).
pub fn run_hotpatch_cl(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = hotpatch_cl(dir);
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// `hotpatch-cl` in `dir`, without the `HOTPATCH_*` settings of the environment the tests run
/// in (a test sets the ones it wants).
pub fn hotpatch_cl(dir: &Path) -> Command {
    let mut c = Command::new(our_bin("hotpatch-cl"));
    c.current_dir(dir);
    for k in ["HOTPATCH_MODE", "HOTPATCH_VERBOSE", "HOTPATCH_WERROR"] {
        c.env_remove(k);
    }
    c
}

/// A scratch directory holding some files, where tests run `hotpatch-cl` and the tools.
pub struct Dir(tempfile::TempDir);

impl Dir {
    /// A fresh directory holding `files` (name, text).
    pub fn new(files: &[(&str, &str)]) -> Dir {
        let d = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(d.path().join(name), text).unwrap();
        }
        Dir(d)
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        self.0.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.root().join(name)
    }

    /// [`Dir::path`] as a string, for command lines.
    pub fn p(&self, name: &str) -> String {
        self.path(name).to_str().unwrap().to_owned()
    }

    /// `hotpatch-cl ARGS…` here, with `env` (HOTPATCH_* cleared otherwise).
    pub fn wrap(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        run_hotpatch_cl(self.root(), args, env)
    }

    /// [`Dir::wrap`], which must succeed; returns what it printed on stderr.
    #[track_caller]
    pub fn wrap_ok(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let out = self.wrap(args, env);
        let e = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "hotpatch-cl {args:?}: {e}");
        e
    }

    pub fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }
}

/// Path of one of this crate's binaries (`hotpatch`, `hotpatch-cl`), built by cargo for tests;
/// absolute with its drive letter on Windows (cargo names it with a Linux path, which Wine
/// reads on drive `Z:`).
pub fn our_bin(name: &str) -> PathBuf {
    let built = match name {
        "hotpatch" => env!("CARGO_BIN_EXE_hotpatch"),
        "hotpatch-cl" => env!("CARGO_BIN_EXE_hotpatch-cl"),
        other => panic!("no binary {other}"),
    };
    std::path::absolute(built).unwrap()
}

/// Compiles IR file `ll` to `obj` with `clang-{clang}` (no IR optimisation: the rewrite
/// happens after it). `extra` adds flags (e.g. clang 22's own pass).
pub fn compile_ir(dir: &Path, clang: u32, target: &str, ll: &str, obj: &str, extra: &[&str]) {
    let t = format!("--target={target}");
    let mut a = vec![
        t.as_str(),
        "-c",
        "-O2",
        "-Xclang",
        "-disable-llvm-optzns",
        "-Wno-override-module",
        "-x",
        "ir",
    ];
    a.extend_from_slice(extra);
    a.extend([ll, "-o", obj]);
    run_ok(dir, &format!("clang-{clang}"), &a);
}

/// Runs `cmd` as `cmd | head -1` would: reads one line of its stdout, then closes the pipe
/// while it still has far more to write. It must end quietly: status 0, nothing on stderr,
/// no panic about stdout. `what` names the case in a failure.
#[track_caller]
pub fn assert_quiet_on_a_closed_pipe(cmd: &mut Command, what: &str) {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    let mut first = String::new();
    let stdout = child.stdout.take().expect("stdout is piped");
    BufReader::new(stdout)
        .read_line(&mut first)
        .unwrap_or_else(|e| panic!("{what}: reading stdout: {e}"));
    assert!(!first.is_empty(), "{what}: no first line");
    let out = child.wait_with_output().expect("waits");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{what}: {:?} {err}", out.status);
    assert!(err.is_empty(), "{what}: {err}");
}
