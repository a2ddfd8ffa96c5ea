//! Harness around `fake-clang` (`support/fake-clang.rs`): builds it, installs it under compiler
//! names in a private `PATH` directory, runs `hotpatch-cl` there, and reads back every command
//! the fake received.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Fake {
    pub dir: tempfile::TempDir,
    pub bin: PathBuf,
    pub work: PathBuf,
    pub log: PathBuf,
    pub env: Vec<(String, String)>,
}

/// The fake compiler, built from `support/fake-clang.rs` once per test run with the rustc of the
/// cargo that builds the tests. It is no cargo target: `cargo install` would install those.
#[cfg(not(windows))]
pub fn fake_clang() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/support/fake-clang.rs");
            let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fake-clang");
            std::fs::create_dir_all(&dir).unwrap();
            let exe_name = |stem: &str| format!("{stem}{}", std::env::consts::EXE_SUFFIX);
            let exe = dir.join(exe_name("fake-clang"));
            // Another test process (nextest, a second `cargo test`) may build it at the same
            // time: build in a directory of our own (rustc names its intermediate files after
            // the crate, not the output), then rename.
            let own = tempfile::tempdir_in(&dir).unwrap();
            let aside = own.path().join(exe_name("fake-clang"));
            let beside_cargo = Path::new(env!("CARGO")).with_file_name(exe_name("rustc"));
            let rustc = if beside_cargo.is_file() {
                beside_cargo
            } else {
                PathBuf::from("rustc")
            };
            let out = Command::new(&rustc)
                .args([
                    "--edition",
                    "2021",
                    "-D",
                    "warnings",
                    "-C",
                    "opt-level=0",
                    "-o",
                ])
                .arg(&aside)
                .arg(&src)
                .output()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", rustc.display()));
            assert!(
                out.status.success(),
                "building {} failed:\n{}",
                src.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            std::fs::rename(&aside, &exe).unwrap();
            exe
        })
        .clone()
}

/// The Windows build of the fake compiler. Under Wine the tests cannot start the (Linux)
/// rustc, so `scripts/windows.sh` builds `fake-clang.exe` with the Windows standard library
/// it built and names it in `HOTPATCH_FAKE_CLANG`.
#[cfg(windows)]
pub fn fake_clang() -> PathBuf {
    let exe = std::env::var_os("HOTPATCH_FAKE_CLANG")
        .map(PathBuf::from)
        .expect(
            "HOTPATCH_FAKE_CLANG is not set: run the Windows tests with `make test-windows`, \
         which builds fake-clang.exe",
        );
    assert!(exe.is_file(), "{}: no such file", exe.display());
    exe
}

pub fn hotpatch_cl() -> PathBuf {
    super::our_bin("hotpatch-cl")
}

impl Fake {
    /// A fake compiler installed as each of `names` (symlinks, so argv[0] is the name).
    pub fn new(names: &[&str]) -> Fake {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        let work = dir.path().join("work");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(&work).unwrap();
        for n in names {
            symlink(&fake_clang(), &bin.join(n));
        }
        let log = dir.path().join("calls.jsonl");
        Fake {
            dir,
            bin,
            work,
            log,
            env: Vec::new(),
        }
    }

    pub fn set(&mut self, k: &str, v: &str) -> &mut Self {
        self.env.push((k.into(), v.into()));
        self
    }

    /// `PATH` with the fake's directory first.
    pub fn path_var(&self) -> std::ffi::OsString {
        let mut dirs = vec![self.bin.clone()];
        if let Some(p) = std::env::var_os("PATH") {
            dirs.extend(std::env::split_paths(&p));
        }
        std::env::join_paths(dirs).unwrap()
    }

    /// A command for `program` (hotpatch-cl, or a link to it) in the work directory.
    pub fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        c.current_dir(&self.work)
            .env("PATH", self.path_var())
            .env("FAKE_CLANG_LOG", &self.log)
            // The fake writes no real objects, which exact routing (auto mode) reads: these
            // tests look at the pipeline's commands; routing is tested with real compilers.
            .env("HOTPATCH_MODE", "rewrite")
            .env_remove("HOTPATCH_VERBOSE")
            .env_remove("HOTPATCH_COMPILER");
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    /// Runs `hotpatch-cl ARGS…`.
    pub fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        self.command(&hotpatch_cl()).args(args).output().unwrap()
    }

    /// Every command the fake received: argv[0] then the arguments.
    pub fn calls(&self) -> Vec<Vec<String>> {
        match std::fs::read_to_string(&self.log) {
            Ok(text) => text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// The calls other than `--version` probes and `-###` dry runs (the pipeline asks the
    /// driver which object name the user's path gets: [`Fake::dry_runs`]).
    pub fn compiles(&self) -> Vec<Vec<String>> {
        self.calls()
            .into_iter()
            .filter(|c| !c.iter().any(|a| a == "--version" || a == "-###"))
            .collect()
    }

    /// The `-###` dry runs.
    pub fn dry_runs(&self) -> Vec<Vec<String>> {
        self.calls()
            .into_iter()
            .filter(|c| c.iter().any(|a| a == "-###"))
            .collect()
    }

    pub fn write(&self, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
        let p = self.work.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

/// The file name of program `stem` (`.exe` added on Windows), as `symlink` installs it.
pub fn exe(stem: &str) -> String {
    format!("{stem}{}", std::env::consts::EXE_SUFFIX)
}

#[cfg(unix)]
pub fn symlink(target: &Path, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

#[cfg(windows)]
pub fn symlink(target: &Path, link: &Path) {
    // A copy: Windows has no symlinks an unprivileged user may make.
    std::fs::copy(target, link.with_extension("exe")).unwrap();
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The arguments of a call, without argv[0].
pub fn args(call: &[String]) -> Vec<&str> {
    call.iter().skip(1).map(String::as_str).collect()
}

#[track_caller]
pub fn assert_in_order<S: AsRef<str> + std::fmt::Debug>(haystack: &[S], needles: &[&str]) {
    let mut pos = 0;
    for n in needles {
        match haystack.iter().skip(pos).position(|h| h.as_ref() == *n) {
            Some(p) => pos += p + 1,
            None => panic!("{n:?} missing (in order {needles:?}) from {haystack:?}"),
        }
    }
}
