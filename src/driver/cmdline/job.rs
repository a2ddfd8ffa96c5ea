//! The classified command line that every part of the driver works on: a [`Job`] (its
//! sources, outputs, hot-patch flags and the arguments as parsed) and the [`Plan`] for it.
//! Made by [`super::classify`]; read by routing and by every program run.

use super::args::{Arg, Class, DriverKind, Kind};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

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
    /// input without a language): run it with them removed (the plain compile), as every
    /// compiler accepts it then.
    Plain(Box<Job>),
    /// Hot-patch.
    Patch(Box<Job>),
    /// A job that makes no object (`-E`, `/P`, `-M`, `-fsyntax-only`…) on a command line
    /// with a function set: run without the hot-patch flags (`exec/cachekey.rs`).
    NoObject(Box<Job>),
    /// Hot-patching was asked for but this command line cannot have it.
    Refuse(String),
}

/// Whether a `/Fo`, `/Fa` or `/Fe` value names a directory.
pub fn ends_with_separator(v: &OsStr) -> bool {
    let b = v.as_encoded_bytes();
    matches!(b.last(), Some(b'/') | Some(b'\\'))
}

/// The extension of `path`, lower case (empty when it has none).
pub(super) fn extension(path: &OsStr) -> String {
    Path::new(path)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}
