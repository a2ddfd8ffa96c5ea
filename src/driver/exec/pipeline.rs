//! Hot-patching one classified command line: natively (clang 21+) or through the rewrite
//! pipeline.
//!
//! The pipeline, per source, keeps the user's source at its own path (anonymous-namespace
//! hashes and `__ref_` names depend on it; docs/clang22-facts.md, "Driver behaviour a wrapper
//! must respect"), and a source read from standard input (`-` with `/Tc`, `/Tp` or `-x`) is
//! read by step 1 from the wrapper's own standard input, so clang names it `<stdin>` as it
//! does natively:
//! 1. the compiler, with the user's flags minus the hot-patch flags, writes optimized IR
//!    to a temporary `.ll` (the user sees its diagnostics unchanged);
//! 2. [`crate::ir::rewrite`] marks the listed functions and redirects their globals;
//! 3. the same compiler compiles that IR with code generation only
//!    (`-Xclang -disable-llvm-optzns`) to a staging file next to the user's output
//!    ([`Staged`]), with `-Xclang -object-file-name=` set to what the driver would give the
//!    user's path (computed as it does on Unix, else asked with `-###`), so `S_OBJNAME` names the user's object and the bytes do
//!    not depend on the staging name; `-gno-codeview-command-line` keeps the temporary paths
//!    out of the object;
//! 4. [`crate::codeview::inject`] adds `S_HOTPATCHFUNC` to the staging file and
//!    [`crate::coff::seal`] clears the write bit of its `__ref_` COMDATs (step 3 leaves them
//!    writable, see `ir::redirect`); the staging file is then
//!    renamed over the user's path in one step: the output path holds the old file or the
//!    complete new one, never an object without its records (a build tool's timeout, the OOM
//!    killer or a cancelled CI job may kill the wrapper at any moment). On failure the
//!    staging file and the user's output are removed (as clang removes its output).
//!
//! Every source goes its own way (`Pipeline::one_source`), in parallel under `/MP`, and
//! every plain compile too is staged and of its own source alone: a routed job of several
//! sources publishes a unit's plain object only once it is known to need no records, and
//! `/Yc`'s plain run (which makes the precompiled header where the user wants it) writes its
//! object to a staging file, published only in auto mode for a unit that needs none.
//!
//! A wrapper killed outright (SIGKILL, `TerminateProcess`) cannot take its children with it
//! (that needs `prctl` or a job object, hence `unsafe`): a compiler still running then writes
//! only to its staging file, which stays behind as `.hotpatch-NAME.XXXXXX.tmp` (and clang's
//! own `…tmp-XXXXXXXX.tmp`) next to the output; the output path itself is never written.
//!
//! In auto mode a compile-only job is routed first (`route/`): a unit whose object defines
//! no listed function keeps the plain compile's object (`Pipeline::plain`), the
//! others take the steps above. Which flags each compiler run keeps is
//! [`Class::rule`]'s to say.
//!
//! Without `/c` the objects go to a temporary directory and the compiler links them with
//! the user's link flags. `/MP[N]` runs sources in parallel. Temporaries live in one
//! `TempDir` and the staging files next to the outputs, all removed on return and on Ctrl-C.
//! Not here: parsing (`cmdline/`), spawning (`process.rs`).

use super::env::{Env, Mode, FIRST_NATIVE_MAJOR};
use super::launcher::{self, Launcher};
use super::process::{self, exit_code, Command};
use super::toolchain;
use crate::diag::{self, Warnings};
use crate::driver::cmdline::args::{Class, DriverKind, Kind, Rule, Step};
use crate::driver::cmdline::job::{ends_with_separator, DepFlags, Job, OutputKind, Source};
use crate::driver::route::source_hint::{Identifiers, SourceHint};
use crate::driver::route::Router;
use crate::hotlist::HotList;
use crate::ir::optout::AllowDirect;
use anyhow::{anyhow, bail, Context};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Prints `warnings` on stderr; `Err` under `HOTPATCH_WERROR` when there was any (the
/// lines already said `error:`, so the caller only fails with exit status 1).
fn flush(warnings: &mut Warnings) -> Result<(), diag::Werror> {
    warnings.flush(&mut std::io::stderr().lock())
}

/// Builds the function set from every `-file` and `-list` flag; its warnings (names with
/// stray whitespace) go to `warnings`.
pub fn hot_list(job: &Job, warnings: &mut Warnings) -> anyhow::Result<HotList> {
    let list = HotList::from_flags(&job.hot_files, &job.hot_lists)?;
    warnings.extend(list.warnings().iter().cloned());
    Ok(list)
}

/// The globals named by every `-fms-hotpatch-allow-direct-list=` and `-file=` (IR names),
/// for [`crate::ir::Options::allow_direct`].
pub fn allow_direct(job: &Job) -> anyhow::Result<AllowDirect> {
    AllowDirect::from_flags(&job.allow_direct_files, &job.allow_direct_lists)
        .map_err(|e| anyhow::anyhow!("{e} (-fms-hotpatch-allow-direct-file)"))
}

/// Hot-patches `job` with `compiler`; returns the exit code.
pub fn patch(compiler: &Path, job: &Job, env: &Env) -> anyhow::Result<i32> {
    let mut warnings = Warnings::new(env.werror);
    let functions = hot_list(job, &mut warnings)?;
    let allow_direct = allow_direct(job)?;
    if !job.hotpatch_prologue {
        warnings.push(diag::missing_hotpatch_flag(job.kind == DriverKind::ClangCl));
    }
    // Before any compiler runs: under HOTPATCH_WERROR nothing is built.
    if flush(&mut warnings).is_err() {
        return Ok(1);
    }
    if use_native_pass(compiler, job, env.mode)? {
        return run_native(compiler, job, &functions, env.launcher.as_ref());
    }
    if job.lto {
        return Err(lto_refusal(compiler, env.mode, needs_rewrite(job)));
    }
    // `auto` routes: a unit that defines no listed function is compiled plainly (only
    // objects can be checked, so -S and -emit-llvm jobs, and the temporary objects of a
    // compile-and-link, take the pipeline); `rewrite` sends every unit through it. Standard
    // input can be read only once, so a unit read from it is never compiled twice.
    let routed = env.mode == Mode::Auto
        && job.compile_only
        && job.output_kind == OutputKind::Object
        && !job.sources.iter().any(|s| s.path == "-");
    let (temp, cwd) = workspace()?;
    Pipeline {
        compiler,
        job,
        functions,
        allow_direct,
        werror: env.werror,
        routed,
        temp,
        cwd,
        launcher: env.launcher.as_ref(),
    }
    .run()
}

/// Whether the job has allow-direct names: clang 21+ has no spelling for them, only our
/// rewrite honours them.
fn needs_rewrite(job: &Job) -> bool {
    !job.allow_direct_files.is_empty() || !job.allow_direct_lists.is_empty()
}

/// Whether clang's own pass (clang 21+) hot-patches the job in `mode`, rather than the
/// rewrite pipeline; asks the compiler its version where that decides, and refuses a target
/// that is not Windows (the compiler's default one when a GNU-mode job names none).
fn use_native_pass(compiler: &Path, job: &Job, mode: Mode) -> anyhow::Result<bool> {
    let needs_rewrite = needs_rewrite(job);
    // auto takes the rewrite pipeline on every clang (it gets thread-locals and same-named
    // statics right where clang 22's pass does not, and with routing only the units that
    // define a listed function pay for it); clang's own pass only where the rewrite cannot
    // go: -flto, whose code generator runs in the linker.
    let need_version = mode == Mode::Native
        || (mode == Mode::Auto && job.lto && !needs_rewrite)
        || (job.kind == DriverKind::Gnu && job.target.is_none());
    let version = if need_version {
        Some(toolchain::version(compiler)?)
    } else {
        None
    };
    let target = job
        .target
        .clone()
        .or_else(|| version.as_ref().and_then(|v| v.target.clone()));
    if let Some(t) = &target {
        if !toolchain::is_windows_triple(t) {
            bail!("target '{t}' is not a Windows target: secure hot-patching needs COFF objects and CodeView (use --target=x86_64-pc-windows-msvc or x86_64-w64-windows-gnu)");
        }
    }
    let native_ok = version
        .as_ref()
        .is_some_and(|v| v.major >= FIRST_NATIVE_MAJOR);
    Ok(match mode {
        Mode::Rewrite => false,
        Mode::Auto => job.lto && native_ok && !needs_rewrite,
        Mode::Native if !native_ok => bail!(
            "HOTPATCH_MODE=native needs clang {FIRST_NATIVE_MAJOR} or later; {} is clang {}",
            compiler.display(),
            version.map(|v| v.major).unwrap_or(0)
        ),
        Mode::Native if needs_rewrite => bail!(
            "-fms-hotpatch-allow-direct-list/-file cannot be honoured with HOTPATCH_MODE=native: clang has no such flag; use HOTPATCH_MODE=rewrite (or auto, which then takes the rewrite pipeline)"
        ),
        Mode::Native => true,
    })
}

/// Why an `-flto` job that clang's own pass does not take cannot be hot-patched: its code
/// generator runs in the linker, out of the rewrite's reach.
fn lto_refusal(compiler: &Path, mode: Mode, needs_rewrite: bool) -> anyhow::Error {
    if mode == Mode::Auto && needs_rewrite {
        return anyhow!("-flto cannot be combined with -fms-hotpatch-allow-direct-list/-file: only the rewrite pipeline honours them, and with -flto the rewrite would have to happen in the linker");
    }
    if mode == Mode::Rewrite {
        return anyhow!("-flto cannot be combined with HOTPATCH_MODE=rewrite: the rewrite would have to happen in the linker");
    }
    anyhow!("-flto with hot-patching needs clang {FIRST_NATIVE_MAJOR} or later (the rewrite would have to happen in the linker); {} lacks native support", compiler.display())
}

/// The native spelling for the whole set: a list when it fits on a command line (no temporary
/// path then reaches the object's build info), a file otherwise.
fn run_native(
    compiler: &Path,
    job: &Job,
    functions: &HotList,
    launcher: Option<&Launcher>,
) -> anyhow::Result<i32> {
    let names: Vec<String> = functions
        .iter()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    let joined = names.join(",");
    let _dir;
    let flag: Option<OsString> = if names.is_empty() {
        None
    } else if joined.len() < 8000 && !names.iter().any(|n| n.contains(',')) {
        Some(format!("-fms-secure-hotpatch-functions-list={joined}").into())
    } else {
        let dir = tempfile::Builder::new().prefix("hotpatch-cl").tempdir()?;
        let file = dir.path().join("functions.txt");
        let mut text = Vec::new();
        for n in functions.iter() {
            text.extend_from_slice(n);
            text.push(b'\n');
        }
        crate::fsutil::write_atomic(&file, &text)?;
        let mut f = OsString::from("-fms-secure-hotpatch-functions-file=");
        f.push(&file);
        _dir = dir;
        Some(f)
    };
    let mut out = Vec::new();
    let mut flag = flag;
    for a in &job.args {
        match a.effective().map(|(c, _)| c) {
            Some(Class::HotpatchFile | Class::HotpatchList) => {
                if let Some(f) = flag.take() {
                    out.push(f);
                }
                continue;
            }
            // Never reached with allow-direct names (they force the rewrite), but the
            // compiler must not see our flags even if they are empty.
            Some(c) if c.is_hotpatch() => continue,
            _ => {}
        }
        out.extend(a.raw.iter().cloned());
    }
    let mut cmd = Command::new(compiler);
    cmd.args(&out);
    let cmd = launcher::wrap(launcher, launcher::Step::Plain, job.kind, cmd);
    let status = process::run(&cmd)?;
    if status.success() && job.compile_only {
        for src in &job.sources {
            super::cachekey::add_lists_to_depfile(job, src, None)?;
        }
    }
    Ok(exit_code(status))
}

/// Temporary directories and staging files to remove if the user presses Ctrl-C. Each is
/// created and listed, and unlisted and removed (or renamed into place), under this lock,
/// which the handler holds until the process ends: so it never misses one that exists, and
/// never exits while the pipeline is halfway through removing or renaming one.
static CLEANUP: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// [`CLEANUP`], locked (a panic elsewhere while it was held does not stop the cleanup).
fn cleanup_list() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    CLEANUP
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn install_ctrlc_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // The compilers get the same SIGINT (same process group; on Windows the same
        // console control event) and stop on their own; we only have to take our
        // temporaries with us.
        let _ = ctrlc::set_handler(|| {
            // Held until the process ends: the pipeline cannot list or remove a directory
            // meanwhile.
            let dirs = cleanup_list();
            for d in dirs.iter() {
                remove_when_released(d);
            }
            std::process::exit(130);
        });
    });
}

/// Removes `path` (a directory or a file). On Windows a file that a process still has open
/// cannot be deleted, and the compiler that got the same Ctrl-C may still be closing its
/// outputs: try again for a moment.
fn remove_when_released(path: &Path) {
    let remove = || {
        if path.is_dir() {
            std::fs::remove_dir_all(path)
        } else {
            std::fs::remove_file(path)
        }
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while remove().is_err()
        && path.exists()
        && cfg!(windows)
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// An output on its way: the file the compiler writes and the wrapper completes, next to the
/// user's path `dest` (same directory, so the final rename is one atomic step on the same
/// volume), named `.hotpatch-NAME.XXXXXX.tmp` (created exclusively, so it cannot clash).
/// Listed in [`CLEANUP`] while it exists; removed when dropped unless committed.
struct Staged {
    path: PathBuf,
    dest: PathBuf,
    /// Renamed into place: nothing left to remove.
    done: bool,
}

impl Staged {
    fn new(dest: &Path) -> anyhow::Result<Staged> {
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let mut prefix = OsString::from(crate::fsutil::TEMP_PREFIX);
        prefix.push(dest.file_name().unwrap_or_else(|| OsStr::new("out")));
        prefix.push(".");
        // Created under the lock: a Ctrl-C now waits until it is listed.
        let mut listed = cleanup_list();
        let path = tempfile::Builder::new()
            .prefix(&prefix)
            .suffix(".tmp")
            .tempfile_in(dir)
            .and_then(|f| f.into_temp_path().keep().map_err(|e| e.error))
            .map_err(|e| {
                anyhow!(
                    "{}: cannot create a temporary file in its directory: {}",
                    dest.display(),
                    crate::fsutil::io_message(&e)
                )
            })?;
        listed.push(path.clone());
        Ok(Staged {
            path,
            dest: dest.to_path_buf(),
            done: false,
        })
    }

    /// Where the compiler writes.
    fn path(&self) -> &Path {
        &self.path
    }

    /// Renames the complete file over the destination.
    fn commit(mut self) -> anyhow::Result<()> {
        let mut listed = cleanup_list();
        crate::fsutil::rename_over(&self.path, &self.dest).map_err(|e| {
            anyhow!(
                "{}: cannot write: {}",
                self.dest.display(),
                crate::fsutil::io_message(&e)
            )
        })?;
        listed.retain(|p| p != &self.path);
        self.done = true;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut listed = cleanup_list();
        listed.retain(|p| p != &self.path);
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The pipeline's temporary directory, listed in [`CLEANUP`] while it exists.
struct TempGuard(tempfile::TempDir);

impl Drop for TempGuard {
    fn drop(&mut self) {
        let mut dirs = cleanup_list();
        dirs.retain(|d| d != self.0.path());
        // Removed before the lock is released (the handler exits while holding it); the
        // `TempDir`'s own removal afterwards finds nothing left to do.
        let _ = std::fs::remove_dir_all(self.0.path());
    }
}

/// How one source ended.
enum Failure {
    /// The compiler failed; it already told the user. Its exit code.
    Compiler(i32),
    /// Our warnings, printed as errors under `HOTPATCH_WERROR` (exit status 1).
    Werror,
    /// Our own error.
    Own(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Own(e)
    }
}

impl From<process::Error> for Failure {
    fn from(e: process::Error) -> Self {
        Failure::Own(e.into())
    }
}

struct Pipeline<'a> {
    compiler: &'a Path,
    job: &'a Job,
    functions: HotList,
    allow_direct: AllowDirect,
    werror: bool,
    /// Exact routing: only units that define a listed function take the pipeline.
    routed: bool,
    temp: TempGuard,
    cwd: PathBuf,
    launcher: Option<&'a Launcher>,
}

/// Where a pipeline works: its temporary directory (removed on Ctrl-C too) and the current
/// directory.
fn workspace() -> anyhow::Result<(TempGuard, PathBuf)> {
    install_ctrlc_handler();
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    // Created under the lock: a Ctrl-C now waits until the directory is listed.
    let mut dirs = cleanup_list();
    let temp = tempfile::Builder::new()
        .prefix("hotpatch-cl")
        .tempdir()
        .context("cannot create a temporary directory")?;
    dirs.push(temp.path().to_path_buf());
    Ok((TempGuard(temp), cwd))
}

impl<'a> Pipeline<'a> {
    /// Runs one compiler command, behind the launcher when it takes this step.
    fn run_step(
        &self,
        step: launcher::Step,
        cmd: Command,
    ) -> Result<std::process::ExitStatus, process::Error> {
        process::run(&launcher::wrap(self.launcher, step, self.job.kind, cmd))
    }

    fn cl(&self) -> bool {
        self.job.kind == DriverKind::ClangCl
    }

    /// `zig cc` / `zig c++`: zig's parser refuses `--`, so the steps name their inputs
    /// without it ([`end_of_options`]).
    fn zig_front_end(&self) -> bool {
        process::refuses_end_of_options(self.compiler)
    }

    fn run(&self) -> anyhow::Result<i32> {
        let job = self.job;
        // Where each source's output goes.
        let outputs: Vec<PathBuf> = job
            .sources
            .iter()
            .enumerate()
            .map(|(i, s)| self.output_path(i, s))
            .collect();
        let jobs = match job.parallel {
            None => 1,
            Some(0) => std::thread::available_parallelism().map_or(1, |n| n.get()),
            Some(n) => n,
        }
        .min(job.sources.len())
        .max(1);
        let results: Vec<Mutex<Option<Result<(), Failure>>>> =
            job.sources.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let work = || loop {
            let i = next.fetch_add(1, Ordering::SeqCst);
            let (Some(src), Some(out)) = (job.sources.get(i), outputs.get(i)) else {
                break;
            };
            let r = self.one_source(i, src, out);
            if let Some(slot) = results.get(i) {
                if let Ok(mut s) = slot.lock() {
                    *s = Some(r);
                }
            }
        };
        if jobs == 1 {
            work();
        } else {
            std::thread::scope(|s| {
                for _ in 0..jobs {
                    s.spawn(work);
                }
            });
        }
        let mut first_code = None;
        for slot in results {
            match slot.into_inner().ok().flatten() {
                Some(Ok(())) => {}
                Some(Err(Failure::Compiler(code))) => {
                    first_code.get_or_insert(code);
                }
                Some(Err(Failure::Werror)) => {
                    first_code.get_or_insert(1);
                }
                Some(Err(Failure::Own(e))) => return Err(e),
                None => bail!("internal error: a source was not compiled"),
            }
        }
        if let Some(code) = first_code {
            return Ok(code);
        }
        if job.compile_only {
            return Ok(0);
        }
        self.link(&outputs)
    }

    /// Source `i` from its text to `out`: routed (auto mode, objects), through the pipeline
    /// (`rewrite`, and what routing cannot check), and with `/Yc` after the plain run that
    /// makes the precompiled header. Each source on its own, so `/MP` runs them in parallel
    /// and each output is published complete, on its own.
    fn one_source(&self, i: usize, src: &Source, out: &Path) -> Result<(), Failure> {
        if self.makes_pch() {
            // `/Yc` writes the precompiled header next to the object, which the IR step
            // cannot do (one output only): a plain run makes the header (its object staged),
            // then the pipeline uses it as `/Yu` would.
            let router = Router::new(&self.functions);
            return self.plain_then_pipeline(self.routed.then_some(&router), i, src, out);
        }
        if self.routed {
            return self.run_routed(i, src, out);
        }
        self.compile_one(i, src, out)
    }

    /// Whether the job makes a precompiled header: `/Yc` with one source (clang-cl ignores
    /// it, with a warning, in a job of several).
    fn makes_pch(&self) -> bool {
        self.job.pch_create && self.job.sources.len() == 1
    }

    /// One source of a routed job: a plain compile unless the unit defines a listed
    /// function. Which comes first is a hint (the object an earlier build left, else the
    /// probe); the final object is always checked, and the other way is taken when the hint
    /// was wrong, so the result never depends on it.
    fn run_routed(&self, i: usize, src: &Source, out: &Path) -> Result<(), Failure> {
        let router = Router::new(&self.functions);
        let pipeline_first = match router.hint_from_existing(out) {
            Some(hint) => hint,
            None => match self.source_hint(src) {
                SourceHint::Defines => true,
                SourceHint::Absent => false,
                // C: a listed name that is only called here is defined elsewhere.
                SourceHint::Mentions if !src.is_cxx() => false,
                // C++: it may be an inline or template function from a header.
                SourceHint::Mentions | SourceHint::Unknown => self.probe(&router, i, src)?,
            },
        };
        if !pipeline_first {
            return self.plain_then_pipeline(Some(&router), i, src, out);
        }
        self.compile_one(i, src, out)?;
        if router.file_wants(out)? {
            return Ok(());
        }
        // It defines none after all: the object must be the plain compile's.
        let (status, staged) = self.plain(src, out)?;
        if !status.success() {
            return Err(Failure::Compiler(exit_code(status)));
        }
        staged.commit()?;
        Ok(())
    }

    /// The plain compile of source `i` into a staging file, then: published when `router`
    /// finds that the unit needs no records, else dropped for the pipeline. The plain object
    /// is published only once it is known to need no records: a kill before then leaves the
    /// old object, never a plain one that should have had records.
    fn plain_then_pipeline(
        &self,
        router: Option<&Router>,
        i: usize,
        src: &Source,
        out: &Path,
    ) -> Result<(), Failure> {
        let (status, staged) = self.plain(src, out)?;
        if !status.success() {
            return Err(Failure::Compiler(exit_code(status)));
        }
        if let Some(router) = router {
            if !router.file_wants(staged.path())? {
                staged.commit()?;
                return Ok(());
            }
        }
        drop(staged);
        self.compile_one(i, src, out)
            .inspect_err(|_| self.remove_plain_object(out))
    }

    /// The plain compile of a routed unit, behind the launcher, into a staging file next to
    /// `out` (the caller commits it or drops it); the list files join its dependency file, so
    /// a build system recompiles it when the list changes. On failure `out` is removed, as
    /// the compiler would have removed it.
    fn plain(
        &self,
        src: &Source,
        out: &Path,
    ) -> anyhow::Result<(std::process::ExitStatus, Staged)> {
        let staged = Staged::new(out)?;
        // The user's own command, dry: what it would record and write, for the user's path.
        let dry = if !self.has_debug_info() && !self.job.dep.write {
            DryRun::default()
        } else if let Some(view) = self.computed_front_end_view(src, out) {
            view
        } else {
            let mut cmd = Command::new(self.compiler);
            cmd.args(self.plain_args(src).flat_map(|a| a.raw.iter().cloned()));
            dry_run(cmd)
        };
        let status = self.run_step(
            launcher::Step::Plain,
            self.plain_staged_command(src, out, staged.path(), &dry),
        )?;
        if status.success() {
            super::cachekey::add_lists_to_depfile(self.job, src, Some(out))?;
        } else {
            let _ = std::fs::remove_file(out);
        }
        Ok((status, staged))
    }

    /// Whether the job asks for debug information (`/Z7`, `/Zi`, `-g…`): only then does the
    /// object record its own name (S_OBJNAME).
    fn has_debug_info(&self) -> bool {
        self.job
            .args
            .iter()
            .any(|a| matches!(a.driver_effective(), Some((Class::DebugInfo, _))))
    }

    /// The user's arguments for a plain compile of `src` alone: without the hot-patch flags
    /// and the other sources' operands (and, GNU, without a `-x` after `src`, which applies
    /// only to later sources and would then be unused). For a job of one source, the user's
    /// command minus the hot-patch flags ([`process::plain_command`]). A `/Yc` in a job of
    /// several sources is left out too (clang-cl ignores it there).
    fn plain_args<'s>(
        &'s self,
        src: &'s Source,
    ) -> impl Iterator<Item = &'s crate::driver::cmdline::args::Arg> + 's {
        let others: Vec<usize> = self
            .job
            .sources
            .iter()
            .map(|s| s.arg)
            .filter(|&a| a != src.arg)
            .collect();
        let gnu = !self.cl();
        // A `/Yc` clang-cl would ignore in the whole job must not make a header per source.
        let ignored_pch = self.job.pch_create && !self.makes_pch();
        self.job.args.iter().enumerate().filter_map(move |(i, a)| {
            let class = a.effective().map(|(c, _)| c);
            let later_language = gnu && i > src.arg && class == Some(Class::Language);
            let ignored = ignored_pch && class == Some(Class::PchCreate);
            let drop = a.rule(Step::Plain, self.job.kind) == Rule::Drop
                || others.contains(&i)
                || later_language
                || ignored;
            (!drop).then_some(a)
        })
    }

    /// The plain compile of one source of a routed job (or of `/Yc`), writing `staging`
    /// instead of `out`: [`Pipeline::plain_args`] without the user's output flags, then the
    /// staging output, and what the driver would have given the front end
    /// for `out` (`dry`: the object's recorded name, the dependency file's target and path,
    /// so the object, whose LF_BUILDINFO records the front end's arguments, and the
    /// dependency file are the plain compile's), before the user's `--`.
    fn plain_staged_command(
        &self,
        src: &Source,
        out: &Path,
        staging: &Path,
        dry: &DryRun,
    ) -> Command {
        let mut cmd = Command::new(self.compiler);
        for a in self.plain_args(src) {
            let output = matches!(
                a.driver_effective().map(|(c, _)| c),
                Some(Class::Output | Class::ObjectOutput)
            );
            if !output {
                cmd.args(&a.raw);
            }
        }
        let mut ours: Vec<OsString> = Vec::new();
        if self.cl() {
            let mut fo = OsString::from("/Fo");
            fo.push(staging);
            ours.push(fo);
        } else {
            ours.extend(["-o".into(), staging.as_os_str().to_os_string()]);
        }
        if let Some(name) = &dry.object_name {
            let mut v = OsString::from("-object-file-name=");
            v.push(name);
            ours.extend(["-Xclang".into(), v]);
        }
        match (&dry.dep_target, &dry.dep_file) {
            (Some(target), Some(file)) if self.job.dep.write => {
                let dep = self.job.dep;
                let flag = |f: &str, v: &OsStr| -> [OsString; 2] {
                    if self.cl() {
                        let mut value = OsString::from("/clang:");
                        value.push(v);
                        [format!("/clang:{f}").into(), value]
                    } else {
                        [f.into(), v.to_os_string()]
                    }
                };
                if !dep.target {
                    ours.extend(flag("-MT", target));
                }
                if !dep.file {
                    ours.extend(flag("-MF", file));
                }
            }
            _ => ours.extend(self.dep_flags(src, out)),
        }
        before_inputs(&mut cmd, ours);
        cmd
    }

    /// The dependency-file flags a step that does not write `out` itself needs so that the
    /// dependency file is the one the user's compile writes: its target `out` (`-MT`) and
    /// its usual path (`-MF`), unless the user gave them.
    fn dep_flags(&self, src: &Source, out: &Path) -> Vec<OsString> {
        let DepFlags {
            write: dep_given,
            file: mf_given,
            target: mt_given,
        } = self.job.dep;
        let mut flags = Vec::new();
        if self.cl() {
            let mut clang = |flag: &str, value: &Path| {
                let mut v = OsString::from("/clang:");
                v.push(value);
                flags.push(OsString::from(format!("/clang:{flag}")));
                flags.push(v);
            };
            if dep_given && !mt_given {
                clang("-MT", out);
            }
            // clang-cl names the dependency file after the source, in the working directory.
            if dep_given && !mf_given {
                let stem = Path::new(&src.path).file_stem().unwrap_or_default();
                clang("-MF", &Path::new(stem).with_extension("d"));
            }
        } else {
            if dep_given && !mt_given {
                flags.extend(["-MT".into(), out.as_os_str().to_os_string()]);
            }
            if dep_given && !mf_given {
                flags.extend(["-MF".into(), out.with_extension("d").into_os_string()]);
            }
        }
        flags
    }

    /// A routed unit that needs the pipeline but failed in it leaves no object: an earlier
    /// build's would look up to date to the build system.
    fn remove_plain_object(&self, out: &Path) {
        if self.routed {
            let _ = std::fs::remove_file(out);
        }
    }

    /// What the source's own text says of the listed names ([`SourceHint`]); `Unknown`
    /// when it cannot be read as a file (the probe then decides).
    fn source_hint(&self, src: &Source) -> SourceHint {
        match std::fs::read(self.cwd.join(&src.path)) {
            Ok(text) => Identifiers::new(self.functions.iter()).hint(&text),
            Err(_) => SourceHint::Unknown,
        }
    }

    /// The routing probe: whether the front end's unoptimized IR of `src` defines a listed
    /// function (a superset of what the object will define). Quiet: its diagnostics are the
    /// plain compile's to print, so a probe that fails says only "compile plainly first".
    fn probe(&self, router: &Router, i: usize, src: &Source) -> anyhow::Result<bool> {
        let ir_path = self.temp.0.path().join(format!("probe-{i}.ll"));
        let mut cmd = Command::new(self.compiler);
        for a in &self.job.args {
            if a.rule(Step::Probe, self.job.kind) == Rule::Keep {
                cmd.args(&a.raw);
            }
        }
        let no_passes = ["-Xclang", "-disable-llvm-passes"];
        if self.cl() {
            let mut o = OsString::from("/clang:-o");
            o.push(&ir_path);
            cmd.args(["/clang:-S", "/clang:-emit-llvm", "/clang:-g0"])
                .args(no_passes)
                .arg(o);
        } else {
            cmd.args(["-S", "-emit-llvm", "-g0"])
                .args(no_passes)
                .arg("-o")
                .arg(&ir_path);
        }
        self.add_source(&mut cmd, src);
        if process::capture(&cmd).is_err() {
            return Ok(false);
        }
        let ir = std::fs::read(&ir_path)
            .with_context(|| format!("cannot read the probe's IR {}", ir_path.display()))?;
        let _ = std::fs::remove_file(&ir_path);
        Ok(router.ir_wants(&ir))
    }

    /// The final output of source `i`: the user's path with `/c`, a temporary otherwise.
    fn output_path(&self, i: usize, src: &Source) -> PathBuf {
        let job = self.job;
        let stem = Path::new(&src.path)
            .file_stem()
            .map(OsStr::to_os_string)
            .unwrap_or_else(|| "out".into());
        let ext = match (job.output_kind, self.cl()) {
            (OutputKind::Object, true) => "obj",
            (OutputKind::Object, false) => "o",
            (OutputKind::Asm, _) => "s",
            (OutputKind::IrText, _) => "ll",
            (OutputKind::Bitcode, _) => "bc",
        };
        let mut name = stem;
        name.push(".");
        name.push(ext);
        // When linking, clang-cl keeps the objects only where /Fo puts them.
        let keep = job.compile_only
            || (self.cl() && job.object_output.as_ref().is_some_and(|v| !v.is_empty()));
        if !keep {
            let mut n = OsString::from(format!("{i}-"));
            n.push(&name);
            return self.temp.0.path().join(n);
        }
        let explicit = match job.output_kind {
            OutputKind::Object if self.cl() => job.object_output.as_ref().or(job.output.as_ref()),
            _ => job.output.as_ref(),
        };
        match explicit {
            Some(v) if ends_with_separator(v) => Path::new(v).join(name),
            Some(v) if !v.is_empty() => PathBuf::from(v),
            _ => PathBuf::from(name),
        }
    }

    /// The `/FA` listing path of a source (clang-cl).
    fn listing_path(&self, src: &Source) -> PathBuf {
        let mut name = Path::new(&src.path)
            .file_stem()
            .map(OsStr::to_os_string)
            .unwrap_or_else(|| "out".into());
        name.push(".asm");
        match &self.job.asm_listing_output {
            Some(v) if ends_with_separator(v) => Path::new(v).join(name),
            Some(v) if !v.is_empty() => PathBuf::from(v),
            _ => PathBuf::from(name),
        }
    }

    /// The four steps for source `i`, written to `out`.
    fn compile_one(&self, i: usize, src: &Source, out: &Path) -> Result<(), Failure> {
        let stem = Path::new(&src.path)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let ir_path = self.temp.0.path().join(format!("{i}-{stem}.ll"));
        // Step 1: optimized IR with the user's flags.
        let status = self.run_step(launcher::Step::Ir, self.ir_command(src, &ir_path, out))?;
        if !status.success() {
            return Err(Failure::Compiler(exit_code(status)));
        }
        super::cachekey::add_lists_to_depfile(self.job, src, Some(out))?;
        // Step 2: the rewrite.
        let rewritten = self.rewrite_step(src, &ir_path)?;
        if self.job.output_kind == OutputKind::IrText {
            crate::fsutil::write_atomic(out, &rewritten.text)
                .with_context(|| format!("cannot write {}", out.display()))?;
            return Ok(());
        }
        // A temporary: no need for write_atomic's rename and sync (tens of MB for a large
        // translation unit).
        std::fs::write(&ir_path, &rewritten.text)
            .with_context(|| format!("cannot write {}", ir_path.display()))?;
        let result = self.codegen_and_inject(src, &ir_path, out, &rewritten.report.marked);
        if result.is_err() {
            // As clang removes its output when it fails: no stale object looks up to date.
            let _ = std::fs::remove_file(out);
        }
        result
    }

    /// Steps 3 and 4 into a staging file next to `out`, then one rename over `out`.
    fn codegen_and_inject(
        &self,
        src: &Source,
        ir_path: &Path,
        out: &Path,
        marked: &[Vec<u8>],
    ) -> Result<(), Failure> {
        let staged = Staged::new(out)?;
        // S_OBJNAME (objects, and the `.debug$S` of assembly) must name `out`, not the
        // staging file; bitcode holds no object name.
        let object_name = match self.job.output_kind {
            OutputKind::Object | OutputKind::Asm => self.object_file_name(src, ir_path, out),
            OutputKind::IrText | OutputKind::Bitcode => None,
        };
        // Step 3: code generation only.
        let status = self.run_step(
            launcher::Step::Codegen,
            self.codegen_command(src, ir_path, staged.path(), object_name.as_deref()),
        )?;
        if !status.success() {
            return Err(Failure::Compiler(exit_code(status)));
        }
        if self.job.output_kind == OutputKind::Object {
            // Step 4: S_HOTPATCHFUNC for exactly the functions the rewrite marked.
            let mut list = HotList::new();
            for n in marked {
                list.add_name(n);
            }
            self.inject_step(staged.path(), out, &list)?;
        }
        staged.commit()?;
        Ok(())
    }

    /// The `-object-file-name=` value clang's driver gives the code generator when the
    /// output is `out` (absolute, or as `-fdebug-compilation-dir` makes it), read from the
    /// `-###` dry run of the very command that writes `out`; `None` when the driver gives
    /// none (no CodeView, so nothing records the name) or cannot say.
    fn object_file_name(&self, src: &Source, ir_path: &Path, out: &Path) -> Option<OsString> {
        match self.computed_front_end_view(src, out) {
            Some(view) => view.object_name,
            None => dry_run(self.codegen_command(src, ir_path, out, None)).object_name,
        }
    }

    /// What clang's driver gives the front end for the user's output `out` (see [`DryRun`]),
    /// computed as the driver computes it, where that is plain: on Unix, with no flag that
    /// moves the compilation directory or names the object, and no backslash in the path.
    /// `None` elsewhere: the caller asks the driver (`-###`, some 25 ms of CPU). The
    /// integration tests compare both ways' objects byte for byte with plain compiles.
    fn computed_front_end_view(&self, src: &Source, out: &Path) -> Option<DryRun> {
        let moved = self.job.args.iter().flat_map(|a| &a.raw).any(|r| {
            let r = r.to_string_lossy();
            r.contains("compilation-dir") || r.contains("object-file-name")
        });
        if cfg!(windows) || moved || out.as_os_str().as_encoded_bytes().contains(&b'\\') {
            return None;
        }
        // The object records its absolute path, `.` and `..` removed lexically.
        let mut name = PathBuf::new();
        for c in self.cwd.join(out).components() {
            match c {
                std::path::Component::CurDir => {}
                std::path::Component::ParentDir => {
                    name.pop();
                }
                other => name.push(other),
            }
        }
        // The dependency target is the output as the user spelled it (clang-cl: a `/Fo`
        // directory stays a directory), the file is named after the output (GNU) or the
        // source, in the working directory (clang-cl).
        let spelled = if self.cl() {
            self.job.object_output.as_ref().or(self.job.output.as_ref())
        } else {
            self.job.output.as_ref()
        };
        let dep_target = match spelled {
            Some(v) if !v.is_empty() => v.clone(),
            _ => out.as_os_str().to_os_string(),
        };
        let dep_file = if self.cl() {
            let stem = Path::new(&src.path).file_stem().unwrap_or_default();
            Path::new(stem).with_extension("d").into_os_string()
        } else {
            out.with_extension("d").into_os_string()
        };
        Some(DryRun {
            object_name: self.has_debug_info().then(|| name.into_os_string()),
            dep_target: Some(dep_target),
            dep_file: Some(dep_file),
        })
    }

    /// Step 2: reads the compiler's IR at `ir_path` and rewrites it; prints the rewrite's
    /// warnings (prefixed with the source), which stop here under `HOTPATCH_WERROR`.
    fn rewrite_step(&self, src: &Source, ir_path: &Path) -> Result<crate::ir::Rewritten, Failure> {
        let ir = std::fs::read(ir_path)
            .with_context(|| format!("cannot read the compiler's IR {}", ir_path.display()))?;
        let mark_only = matches!(
            self.job.output_kind,
            OutputKind::IrText | OutputKind::Bitcode
        );
        let rewritten = crate::ir::rewrite(
            &ir,
            &self.functions,
            &crate::ir::Options {
                mark_only,
                allow_direct: self.allow_direct.clone(),
            },
        )
        .map_err(|e| {
            anyhow!(
                "{}: IR of {}: {e}",
                ir_path.display(),
                src.path.to_string_lossy()
            )
        })?;
        let mut warnings = Warnings::new(self.werror);
        let name = src.path.to_string_lossy();
        warnings.extend(
            rewritten
                .report
                .warnings
                .iter()
                .map(|w| format!("{name}: {w}")),
        );
        // Under HOTPATCH_WERROR the object is never written.
        if flush(&mut warnings).is_err() {
            return Err(Failure::Werror);
        }
        Ok(rewritten)
    }

    /// Step 4: adds `S_HOTPATCHFUNC` for `marked` to the object in the staging file `staged`
    /// (in place: it is not the user's yet); messages name the user's path `out`. A warning
    /// under `HOTPATCH_WERROR` is a failure: the caller then publishes nothing.
    fn inject_step(&self, staged: &Path, out: &Path, marked: &HotList) -> Result<(), Failure> {
        if marked.is_empty() {
            return Ok(());
        }
        let mut warnings = Warnings::new(self.werror);
        let bytes =
            std::fs::read(staged).with_context(|| format!("cannot read {}", staged.display()))?;
        let injected = crate::codeview::inject(&bytes, marked)
            .map_err(|e| anyhow!("{}: {e}", out.display()))?;
        for n in &injected.report.no_debug_info {
            warnings.push(format!(
                "{}: no S_HOTPATCHFUNC for '{}': the object has no CodeView debug info for it (compile with /Z7, /Zi or -gcodeview)",
                out.display(),
                String::from_utf8_lossy(n)
            ));
        }
        if flush(&mut warnings).is_err() {
            return Err(Failure::Werror);
        }
        // The `__ref_` COMDATs come out of code generation writable (coff::seal).
        let sealed = crate::coff::seal::seal(&injected.bytes)
            .map_err(|e| anyhow!("{}: {e}", out.display()))?;
        if sealed.bytes != bytes {
            std::fs::write(staged, &sealed.bytes)
                .with_context(|| format!("cannot write {}", staged.display()))?;
        }
        Ok(())
    }

    /// Step 1: `compiler <user flags> -S -emit-llvm -o IR -- SOURCE`.
    fn ir_command(&self, src: &Source, ir_path: &Path, out: &Path) -> Command {
        let mut cmd = Command::new(self.compiler);
        for a in &self.job.args {
            match (a.rule(Step::Ir, self.job.kind), a.effective()) {
                (Rule::Keep, _) => {
                    cmd.args(&a.raw);
                }
                (Rule::Replace, Some((Class::PchCreate, header))) if self.makes_pch() => {
                    let mut yu = OsString::from("/Yu");
                    yu.push(header);
                    cmd.arg(yu);
                }
                // The source is added below; everything else is the step's own.
                (Rule::Replace | Rule::Drop, _) => {}
            }
        }
        if self.cl() {
            cmd.args(["/clang:-S", "/clang:-emit-llvm"]);
            let mut o = OsString::from("/clang:-o");
            o.push(ir_path);
            cmd.arg(o);
        } else if self.zig_front_end() {
            // `zig cc -S` writes no output at all once a dependency flag (`-MD`) is given (zig
            // 0.14.1): ask zig for an object and its clang for text IR in the object's place.
            cmd.args(["-c", "-Xclang", "-emit-llvm", "-o"]).arg(ir_path);
        } else {
            cmd.args(["-S", "-emit-llvm", "-o"]).arg(ir_path);
        }
        // `-MD`: the dependency file must name the user's output, not our IR.
        cmd.args(self.dep_flags(src, out));
        self.add_source(&mut cmd, src);
        cmd
    }

    fn add_source(&self, cmd: &mut Command, src: &Source) {
        match (&src.language, self.cl()) {
            (Some(lang), true) => {
                let mut a = OsString::from("/");
                a.push(lang);
                a.push(&src.path);
                cmd.arg(a);
            }
            (Some(lang), false) => {
                cmd.arg("-x").arg(lang);
                end_of_options(cmd, &src.path, self.zig_front_end());
            }
            (None, _) => end_of_options(cmd, &src.path, self.zig_front_end()),
        }
    }

    /// Step 3: `compiler <codegen flags> -Xclang -disable-llvm-optzns -c -o OUT -- IR`, with
    /// `-Xclang -object-file-name=NAME` when `object_name` is given.
    fn codegen_command(
        &self,
        src: &Source,
        ir_path: &Path,
        out: &Path,
        object_name: Option<&OsStr>,
    ) -> Command {
        let mut cmd = Command::new(self.compiler);
        for a in &self.job.args {
            if a.rule(Step::Codegen, self.job.kind) == Rule::Keep {
                cmd.args(&a.raw);
            }
        }
        // No extra warnings for flags that mean nothing to IR; no temporary path in the
        // object's LF_BUILDINFO (which records the command line).
        cmd.args([
            "-Wno-unused-command-line-argument",
            "-gno-codeview-command-line",
            "-Xclang",
            "-disable-llvm-optzns",
        ]);
        let cl = self.cl();
        match (self.job.output_kind, cl) {
            (OutputKind::Object, true) => {
                let mut fo = OsString::from("/Fo");
                fo.push(out);
                cmd.arg("/c").arg(fo);
            }
            (OutputKind::Object, false) => {
                cmd.arg("-c").arg("-o").arg(out);
            }
            (kind, true) => {
                cmd.arg("/c").arg(if kind == OutputKind::Asm {
                    "/clang:-S"
                } else {
                    "/clang:-emit-llvm"
                });
                let mut o = OsString::from("/clang:-o");
                o.push(out);
                cmd.arg(o);
            }
            (kind, false) => {
                cmd.arg(if kind == OutputKind::Asm { "-S" } else { "-c" });
                if kind == OutputKind::Bitcode {
                    cmd.arg("-emit-llvm");
                }
                cmd.arg("-o").arg(out);
            }
        }
        if cl && self.job.asm_listing {
            let mut fa = OsString::from("/Fa");
            fa.push(self.listing_path(src));
            cmd.arg(fa);
        }
        if let Some(name) = object_name {
            let mut v = OsString::from("-object-file-name=");
            v.push(name);
            cmd.arg("-Xclang").arg(v);
        }
        // The IR is read as IR by its `.ll` extension (no `-x ir`, which `zig cc` refuses).
        end_of_options(&mut cmd, ir_path.as_os_str(), self.zig_front_end());
        cmd
    }

    /// The link step: the user's command with each source replaced by its object.
    fn link(&self, objects: &[PathBuf]) -> anyhow::Result<i32> {
        let job = self.job;
        let mut cmd = Command::new(self.compiler);
        // Our flag first: it must precede a user's `--`.
        cmd.arg("-Wno-unused-command-line-argument");
        let mut inputs: Vec<OsString> = Vec::new();
        let mut link_tail: Vec<OsString> = Vec::new();
        for (i, a) in job.args.iter().enumerate() {
            let object = job
                .sources
                .iter()
                .position(|s| s.arg == i)
                .and_then(|pos| objects.get(pos));
            let is_input = object.is_some() || a.kind == Kind::Input;
            let operands: Vec<OsString> = match object {
                Some(obj) => vec![self.operand(obj)],
                None => a.raw.clone(),
            };
            match a.rule(Step::Link, job.kind) {
                _ if is_input && self.cl() => inputs.extend(operands),
                _ if is_input => {
                    cmd.args(operands);
                }
                Rule::Drop => {}
                // `/link …`: the only other argument the link step moves.
                Rule::Replace => link_tail.extend(operands),
                Rule::Keep => {
                    cmd.args(operands);
                }
            }
        }
        if self.cl() {
            // The executable is named after the first input, which is now our temporary
            // object: name it as clang-cl would have.
            if let Some(fe) = self.exe_name() {
                cmd.arg(fe);
            }
            // Inputs go before /link (which takes everything after it); they carry no
            // leading '/' (see `operand`), so no `--` is needed. GNU-mode inputs stay where
            // they were: library order matters to the linker there.
            cmd.args(&inputs).args(&link_tail);
        }
        // lld-link blanks the S_HOTPATCHFUNC records in the PDB: put them back while the
        // objects (in our temporary directory) still exist.
        let pdb = super::link::driver_link_pdb(job, &super::link::driver_exe(job));
        let before = pdb.as_deref().map(super::link::Stamp::of);
        let status = self.run_step(launcher::Step::Link, cmd)?;
        if let (true, Some(pdb), Some(before)) = (status.success(), &pdb, &before) {
            super::link::fixup_if_written(pdb, before)?;
        }
        Ok(exit_code(status))
    }

    /// `/FeNAME` when the user gave no executable name (or only a directory): clang-cl's
    /// default, the first input's stem.
    fn exe_name(&self) -> Option<OsString> {
        let job = self.job;
        let fe = job.exe_output();
        if job.output.is_some() || fe.as_ref().is_some_and(|v| !ends_with_separator(v)) {
            return None;
        }
        let first = job.first_input()?;
        let mut name = Path::new(&first).file_stem()?.to_os_string();
        name.push(".exe");
        let path = match &fe {
            Some(dir) => Path::new(dir).join(name),
            None => PathBuf::from(name),
        };
        let mut arg = OsString::from("/Fe");
        arg.push(path);
        Some(arg)
    }

    /// An object path as a file operand: clang-cl reads a leading '/' as an option, and
    /// `/link` must stay last, so absolute Unix paths become relative to the working
    /// directory.
    fn operand(&self, path: &Path) -> OsString {
        if self.cl() && path.as_os_str().as_encoded_bytes().first() == Some(&b'/') {
            let base = self.cwd.canonicalize().unwrap_or_else(|_| self.cwd.clone());
            let target = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
            if let Some(rel) = relative(&target, &base) {
                return rel.into_os_string();
            }
        }
        path.as_os_str().to_os_string()
    }
}

/// Adds the input `path` after `--`, or, for a driver that refuses `--` (`zig cc`), alone,
/// as `./PATH` when it starts with `-` (which would read as an option).
fn end_of_options(cmd: &mut Command, path: &OsStr, no_double_dash: bool) {
    if !no_double_dash {
        cmd.arg("--").arg(path);
    } else if path.as_encoded_bytes().first() == Some(&b'-') {
        cmd.arg(Path::new(".").join(path));
    } else {
        cmd.arg(path);
    }
}

/// Runs `cmd` with `-###` (the driver prints what it would run, and runs nothing).
fn dry_run(mut cmd: Command) -> DryRun {
    before_inputs(&mut cmd, [OsString::from("-###")]);
    match process::capture(&cmd) {
        Ok((_, stderr)) => DryRun::parse(&stderr),
        Err(_) => DryRun::default(),
    }
}

/// Puts `args` before the `--` that ends a step's options (the last one: a step's own
/// command has one, followed by its input), or at the end when there is none.
fn before_inputs(cmd: &mut Command, args: impl IntoIterator<Item = OsString>) {
    let at = cmd
        .args
        .iter()
        .rposition(|a| a == "--")
        .unwrap_or(cmd.args.len());
    cmd.args.splice(at..at, args);
}

/// What a driver's `-###` dry run says it would give the front end (`-cc1`) for a command:
/// the name the object records (S_OBJNAME), and the dependency file's target and path.
#[derive(Debug, Default, PartialEq, Eq)]
struct DryRun {
    object_name: Option<OsString>,
    dep_target: Option<OsString>,
    dep_file: Option<OsString>,
}

impl DryRun {
    /// Reads the `-cc1` line of `-###` output: each argument in double quotes, with `\\`,
    /// `"` and `$` escaped by a backslash. A value that is cut short or not UTF-8 is left out.
    fn parse(output: &[u8]) -> DryRun {
        let Some(line) = output
            .split(|&b| b == b'\n')
            .find(|l| l.windows(6).any(|w| w == b"\"-cc1\""))
        else {
            return DryRun::default();
        };
        let mut words: Vec<Option<OsString>> = Vec::new();
        let mut bytes = line.iter();
        while let Some(&b) = bytes.next() {
            if b != b'"' {
                continue;
            }
            let mut word = Some(Vec::new());
            loop {
                match bytes.next() {
                    None => {
                        word = None;
                        break;
                    }
                    Some(b'"') => break,
                    Some(b'\\') => match (bytes.next(), word.as_mut()) {
                        (Some(&c), Some(w)) => w.push(c),
                        _ => word = None,
                    },
                    Some(&c) => {
                        if let Some(w) = word.as_mut() {
                            w.push(c);
                        }
                    }
                }
            }
            words.push(
                word.and_then(|w| String::from_utf8(w).ok())
                    .map(OsString::from),
            );
        }
        let after = |flag: &str| {
            words
                .iter()
                .position(|w| w.as_deref() == Some(OsStr::new(flag)))
                .and_then(|i| words.get(i + 1).cloned().flatten())
        };
        DryRun {
            object_name: words.iter().flatten().find_map(|w| {
                w.to_str()?
                    .strip_prefix("-object-file-name=")
                    .map(OsString::from)
            }),
            dep_target: after("-MT"),
            dep_file: after("-dependency-file"),
        }
    }
}

/// `target` relative to `base` (both absolute), with `..` as needed.
fn relative(target: &Path, base: &Path) -> Option<PathBuf> {
    let t: Vec<_> = target.components().collect();
    let b: Vec<_> = base.components().collect();
    let common = t.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common == 0 {
        return None;
    }
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in t.iter().skip(common) {
        out.push(c);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::cmdline::classify::plan;
    use crate::driver::cmdline::job::Plan;

    #[test]
    fn allow_direct_names_are_the_union_of_lists_and_files() {
        let (_dir, f) = crate::driver::temp_file("direct.txt", "?cache@@3HA\r\n\nlisted\n");
        let file_flag = format!("-fms-hotpatch-allow-direct-file={}", f.display());
        let args = crate::driver::os(&[
            "/c",
            "-fms-hotpatch-functions-list=f",
            "-fms-hotpatch-allow-direct-list=a, b",
            file_flag.as_str(),
            "-fms-hotpatch-allow-direct-list=c",
            "x.c",
        ]);
        let Plan::Patch(job) = plan(DriverKind::ClangCl, &args) else {
            panic!("not patched")
        };
        let got: Vec<String> = allow_direct(&job)
            .unwrap()
            .iter()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect();
        assert_eq!(got, ["?cache@@3HA", "a", "b", "c", "listed"]);

        let missing = crate::driver::os(&[
            "/c",
            "-fms-hotpatch-functions-list=f",
            "-fms-hotpatch-allow-direct-file=nonexist.txt",
            "x.c",
        ]);
        let Plan::Patch(job) = plan(DriverKind::ClangCl, &missing) else {
            panic!("not patched")
        };
        let err = format!("{:#}", allow_direct(&job).unwrap_err());
        assert!(
            err.contains("nonexist.txt") && err.contains("-fms-hotpatch-allow-direct-file"),
            "{err}"
        );
    }

    #[test]
    fn what_the_front_end_would_get_from_a_dry_run() {
        let dry = br#"clang version 19.1.7
Target: x86_64-pc-windows-msvc
 "/usr/bin/clang-19" "-cc1" "-triple" "x86_64-pc-windows-msvc19.33.0" "-object-file-name=C:\\b \"q\"\\a.obj" "-dependency-file" "a.d" "-MT" "o1/" "-o" "x.obj"
"#;
        assert_eq!(
            DryRun::parse(dry),
            DryRun {
                object_name: Some(OsString::from(r#"C:\b "q"\a.obj"#)),
                dep_target: Some("o1/".into()),
                dep_file: Some("a.d".into()),
            }
        );
        assert_eq!(
            DryRun::parse(b" \"-cc1\" \"-o\" \"x.obj\""),
            DryRun::default()
        );
        // Cut short: no value rather than half of one.
        assert_eq!(
            DryRun::parse(b" \"-cc1\" \"-object-file-name=/tmp/a"),
            DryRun::default()
        );
        assert_eq!(DryRun::parse(b"error: no such file"), DryRun::default());
        let mut cmd = Command::new("clang");
        cmd.args(["-c", "--", "x.ll"]);
        before_inputs(&mut cmd, [OsString::from("-###")]);
        assert_eq!(cmd.args, ["-c", "-###", "--", "x.ll"]);
    }

    #[test]
    fn inputs_without_double_dash_for_zig_cc() {
        let with = |path: &str, no_dd: bool| {
            let mut cmd = Command::new("clang");
            end_of_options(&mut cmd, OsStr::new(path), no_dd);
            cmd.args
        };
        assert_eq!(with("-a.c", false), ["--", "-a.c"]);
        assert_eq!(with("/tmp/x/0-a.ll", true), ["/tmp/x/0-a.ll"]);
        // A leading '-' would read as an option.
        assert_eq!(
            with("-a.c", true),
            [Path::new(".").join("-a.c").into_os_string()]
        );
    }

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative(Path::new("/tmp/x/a.obj"), Path::new("/home/me/src")).unwrap(),
            PathBuf::from("../../../tmp/x/a.obj")
        );
        assert_eq!(
            relative(Path::new("/home/me/src/o/a.obj"), Path::new("/home/me/src")).unwrap(),
            PathBuf::from("o/a.obj")
        );
    }
}
