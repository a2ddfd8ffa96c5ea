//! The one place that starts processes (clippy's `disallowed-methods` bans it elsewhere).
//!
//! The compiler's output belongs to the user: [`run`] lets the child write straight to our
//! stdout and stderr and hands back its exit status untouched; [`capture`] is for the
//! wrapper's own probes (`--version`). "Not found" is a different error from "ran and
//! failed", and every error names the full command. In verbose mode ([`set_verbose`], which
//! the front door sets from `HOTPATCH_VERBOSE` through [`super::env::Env`]) each command is
//! printed to stderr first, prefixed `hotpatch-cl:`.
//!
//! Not here: deciding which commands to run (the front door `driver::run`, `pipeline.rs`).

use crate::driver::cmdline::args::without_hotpatch_flags;
use crate::driver::cmdline::job::Job;
use crate::driver::cmdline::rsp;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// A command to run: program, arguments and extra environment variables, kept as
/// `OsString`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// Set in the child's environment on top of ours (a launcher's settings).
    pub env: Vec<(OsString, OsString)>,
    /// How many leading arguments stay on the command line when the rest must go to a
    /// response file: a launcher's own arguments and the compiler it runs.
    pub head: usize,
}

impl Command {
    /// `program`, starting with its subcommand when it is the compiler `zig` ([`set_subcommand`]):
    /// those arguments stay on the command line ([`Command::head`]).
    pub fn new(program: impl Into<PathBuf>) -> Self {
        let program = program.into();
        let args = subcommand_of(&program).to_vec();
        Command {
            head: args.len(),
            program,
            args,
            env: Vec::new(),
        }
    }

    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Self {
        self.env
            .push((key.as_ref().to_os_string(), value.as_ref().to_os_string()));
        self
    }

    pub fn arg(&mut self, a: impl AsRef<OsStr>) -> &mut Self {
        self.args.push(a.as_ref().to_os_string());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(&mut self, it: I) -> &mut Self {
        self.args
            .extend(it.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    /// The command as one shell-like line (for messages only).
    pub fn display(&self) -> String {
        let env = self.env.iter().map(|(k, v)| {
            let mut kv = k.clone();
            kv.push("=");
            kv.push(v);
            kv
        });
        env.chain(std::iter::once(self.program.as_os_str().to_os_string()))
            .chain(self.args.iter().cloned())
            .map(|a| {
                let s = a.to_string_lossy();
                if s.is_empty() || s.contains([' ', '"', '\'', '\t']) {
                    format!("'{}'", s.replace('\'', r"'\''"))
                } else {
                    s.into_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Why a process could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The program does not exist (or is not executable).
    #[error("cannot run {program}: not found", program = .program.display())]
    ToolNotFound { program: PathBuf },
    /// The process could not be started for another reason.
    /// The cause is in the message (not a `source`), so error chains say it once.
    #[error("cannot run `{command}`: {message}")]
    Spawn { command: String, message: String },
    /// It ran and exited non-zero (its stderr is what it printed, when captured).
    #[error("`{command}` failed ({status}){}", if stderr.is_empty() { String::new() } else { format!(": {}", stderr.trim_end()) })]
    ToolFailed {
        command: String,
        status: ExitStatus,
        stderr: String,
    },
}

static VERBOSE: AtomicBool = AtomicBool::new(false);

/// A compiler that is a subcommand of its program (`zig clang`, `zig cc`): the program and the
/// arguments every run of it starts with.
static SUBCOMMAND: OnceLock<(PathBuf, Vec<OsString>)> = OnceLock::new();

/// Every [`Command`] of `program` from now on starts with `leading` (set once, by the front
/// door, for `hotpatch-cl zig clang …`).
pub fn set_subcommand(program: PathBuf, leading: Vec<OsString>) {
    let _ = SUBCOMMAND.set((program, leading));
}

/// The subcommand `program` runs with, if it is the compiler set by [`set_subcommand`].
pub fn subcommand_of(program: &Path) -> &'static [OsString] {
    match SUBCOMMAND.get() {
        Some((p, leading)) if p == program => leading,
        _ => &[],
    }
}

/// Whether `program` runs behind zig's own argument parser (`zig cc`, `zig c++`), which
/// refuses `--`: a step then names its input without one (`zig clang` is clang's own parser).
pub fn refuses_end_of_options(program: &Path) -> bool {
    matches!(subcommand_of(program), [sub] if sub == "cc" || sub == "c++")
}

/// Whether each command is printed before it runs.
pub fn set_verbose(on: bool) {
    VERBOSE.store(on, Ordering::Relaxed);
}

/// Whether verbose mode is on (the PDB fix-up also reports what it restored then).
pub(crate) fn verbose() -> bool {
    VERBOSE.load(Ordering::Relaxed)
}

/// Windows limits a command line to 32767 UTF-16 units; longer argument lists go through a
/// response file (clang reads it with Windows quoting there, whatever the driver mode).
const MAX_COMMAND_LINE: usize = 30_000;

/// The duct expression for `cmd`, and the response file it needs kept alive, if any.
fn expression(cmd: &Command) -> Result<(duct::Expression, Option<tempfile::NamedTempFile>), Error> {
    if verbose() {
        eprintln!("hotpatch-cl: {}", cmd.display());
    }
    let length: usize = cmd.args.iter().map(|a| a.len() + 3).sum();
    if cfg!(windows) && length > MAX_COMMAND_LINE {
        let head = cmd.head.min(cmd.args.len());
        let (kept, rest) = cmd.args.split_at(head);
        let rsp = response_file(rest).map_err(|source| Error::Spawn {
            command: cmd.display(),
            message: crate::fsutil::io_message(&source),
        })?;
        let mut at = OsString::from("@");
        at.push(rsp.path());
        let mut args = kept.to_vec();
        args.push(at);
        #[allow(clippy::disallowed_methods)]
        let e = duct::cmd(cmd.program.as_os_str(), args);
        return Ok((with_env(e, cmd), Some(rsp)));
    }
    #[allow(clippy::disallowed_methods)]
    let e = duct::cmd(cmd.program.as_os_str(), &cmd.args);
    Ok((with_env(e, cmd), None))
}

fn with_env(mut e: duct::Expression, cmd: &Command) -> duct::Expression {
    for (k, v) in &cmd.env {
        e = e.env(k, v);
    }
    e
}

/// Writes `args` to a temporary response file with Windows quoting (UTF-8).
fn response_file(args: &[OsString]) -> std::io::Result<tempfile::NamedTempFile> {
    use std::io::Write;
    let mut f = tempfile::Builder::new()
        .prefix("hotpatch-cl")
        .suffix(".rsp")
        .tempfile()?;
    let line: Vec<String> = args
        .iter()
        .map(|a| rsp::quote(&a.to_string_lossy(), rsp::Quoting::Windows))
        .collect();
    f.write_all(line.join(" ").as_bytes())?;
    f.flush()?;
    Ok(f)
}

fn spawn_error(cmd: &Command, source: std::io::Error) -> Error {
    if source.kind() == std::io::ErrorKind::NotFound {
        Error::ToolNotFound {
            program: cmd.program.clone(),
        }
    } else {
        Error::Spawn {
            command: cmd.display(),
            message: crate::fsutil::io_message(&source),
        }
    }
}

/// Runs `cmd` with our stdin, stdout and stderr, and returns its exit status whatever it is.
pub fn run(cmd: &Command) -> Result<ExitStatus, Error> {
    let (e, _rsp) = expression(cmd)?;
    let out = e.unchecked().run().map_err(|e| spawn_error(cmd, e))?;
    Ok(out.status)
}

/// Runs `cmd` capturing stdout and stderr; a non-zero exit is [`Error::ToolFailed`].
pub fn capture(cmd: &Command) -> Result<(Vec<u8>, Vec<u8>), Error> {
    let (e, _rsp) = expression(cmd)?;
    let out = e
        .stdout_capture()
        .stderr_capture()
        .stdin_null()
        .unchecked()
        .run()
        .map_err(|e| spawn_error(cmd, e))?;
    if !out.status.success() {
        return Err(Error::ToolFailed {
            command: cmd.display(),
            status: out.status,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    Ok((out.stdout, out.stderr))
}

/// The exit code to return for a child's status (a signal becomes 1).
pub fn exit_code(status: ExitStatus) -> i32 {
    status.code().unwrap_or(1)
}

/// The plain compile of a job: the compiler with the user's (expanded) arguments, the
/// hot-patch flags removed. What a unit that defines no listed function gets, and what a job
/// that makes no object runs; the one place such a command is built.
pub fn plain_command(compiler: &Path, job: &Job) -> Command {
    let mut cmd = Command::new(compiler);
    cmd.args(without_hotpatch_flags(job.kind, &job.args));
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_files_round_trip_with_windows_quoting() {
        let args: Vec<OsString> = ["/c", "a b.c", r#"-DX="q""#, r"C:\dir\"]
            .iter()
            .map(OsString::from)
            .collect();
        let f = response_file(&args).unwrap();
        let text = std::fs::read_to_string(f.path()).unwrap();
        assert_eq!(
            rsp::split_windows(&text),
            ["/c", "a b.c", r#"-DX="q""#, r"C:\dir\"]
        );
    }

    #[test]
    fn missing_program_is_not_found_not_failed() {
        let err = run(&Command::new("/nonexistent/hotpatch-cl-no-such-tool")).unwrap_err();
        assert!(matches!(err, Error::ToolNotFound { .. }), "{err:?}");
        assert!(err.to_string().contains("no-such-tool"));
    }

    #[cfg(unix)]
    #[test]
    fn failure_carries_command_status_and_stderr() {
        let mut c = Command::new("sh");
        c.args(["-c", "echo oops >&2; exit 3"]);
        let err = capture(&c).unwrap_err();
        match &err {
            Error::ToolFailed { status, stderr, .. } => {
                assert_eq!(status.code(), Some(3));
                assert_eq!(stderr.trim(), "oops");
            }
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("sh -c"), "{err}");
        assert_eq!(run(&c).unwrap().code(), Some(3));
    }
}
