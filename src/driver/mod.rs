//! The compiler wrapper: one invocation from command line to exit status.
//!
//! [`run`] is the front door: it expands `@response` files, has the command line classified
//! and carries the plan out. A passthrough runs the compiler with the user's arguments byte
//! for byte; a patch either hands the flags to a compiler that supports them (clang 21+,
//! spelling translated) or runs the rewrite pipeline. The rooms behind it, each using only
//! the ones listed after it:
//!
//! - [`exec`]: running programs: the pipeline, link mode, launchers and caches, finding the
//!   compiler, and the one place that starts processes;
//! - [`route`]: which translation units need the rewrite pipeline (exact routing);
//! - [`cmdline`]: reading command lines, with no I/O but response files: flag tables,
//!   the classification into a [`cmdline::job::Job`] and a [`cmdline::job::Plan`].

pub mod cmdline;
pub mod exec;
pub mod route;

use cmdline::args::DriverKind;
use cmdline::classify::plan;
use cmdline::job::Plan;
use cmdline::rsp;
use exec::env::Env;
use exec::process::{self, exit_code, plain_command};
use exec::{cachekey, launcher, pipeline, toolchain};
use std::ffi::OsString;
use std::path::Path;
#[cfg(test)]
use std::path::PathBuf;

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
