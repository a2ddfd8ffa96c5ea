//! Shared helpers for the integration tests: finding the real LLVM tools and running them.
//!
//! Tests that need a tool never pass silently when it is missing: they fail with the
//! Debian package to install (`scripts/setup.sh` installs them all).
#![allow(dead_code, clippy::disallowed_methods)]

pub mod pdb;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The Debian package that provides `tool`, for error messages.
fn package_of(tool: &str) -> &'static str {
    match tool {
        t if t.starts_with("clang") && t.ends_with("19") => "clang-19",
        t if t.starts_with("clang") => "clang-22",
        t if t.starts_with("lld") => "lld-22",
        "wine" => "wine",
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

/// Runs `program args…` in `dir`, panics with its stderr unless it exits 0, returns stdout.
pub fn run_ok(dir: &Path, program: &str, args: &[&str]) -> String {
    let out = run(dir, program, args);
    assert!(
        out.status.success(),
        "{program} {args:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `program args…` in `dir` and returns its whole output, whatever the exit status.
pub fn run(dir: &Path, program: &str, args: &[&str]) -> Output {
    let exe = if program.contains('/') {
        PathBuf::from(program)
    } else {
        tool(program)
    };
    Command::new(exe)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"))
}

/// Path of one of this crate's binaries (`hotpatch`, `hotpatch-cl`), built by cargo for tests.
pub fn our_bin(name: &str) -> PathBuf {
    match name {
        "hotpatch" => PathBuf::from(env!("CARGO_BIN_EXE_hotpatch")),
        "hotpatch-cl" => PathBuf::from(env!("CARGO_BIN_EXE_hotpatch-cl")),
        other => panic!("no binary {other}"),
    }
}

/// `(function name, record name)` of every S_HOTPATCHFUNC, in object order.
pub fn hotpatch_records(obj: &Path) -> Vec<(String, String)> {
    let text = run_ok(
        Path::new("."),
        "llvm-readobj-22",
        &["--codeview", obj.to_str().unwrap()],
    );
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        if l.contains("Kind: S_HOTPATCHFUNC (0x1169)") {
            let func = lines.next().unwrap_or_default().trim().to_owned();
            let name = lines.next().unwrap_or_default().trim().to_owned();
            let func = func.strip_prefix("Function: ").unwrap_or(&func);
            let func = func.rsplit_once(" (").map_or(func, |(f, _)| f).to_owned();
            out.push((
                func,
                name.strip_prefix("Name: ").unwrap_or(&name).to_owned(),
            ));
        }
    }
    out
}

/// Symbols of an object: name → section name (or "UNDEF" / other).
pub fn symbols(obj: &Path) -> BTreeMap<String, String> {
    let text = run_ok(
        Path::new("."),
        "llvm-readobj-22",
        &["--symbols", obj.to_str().unwrap()],
    );
    let mut out = BTreeMap::new();
    let mut name = None;
    for l in text.lines() {
        let l = l.trim();
        if let Some(n) = l.strip_prefix("Name: ") {
            name = Some(n.to_owned());
        } else if let Some(s) = l.strip_prefix("Section: ") {
            if let Some(n) = name.take() {
                out.insert(n, s.split(" (").next().unwrap_or(s).to_owned());
            }
        }
    }
    out
}

/// Relocation targets per function (`llvm-objdump-22 -dr`).
pub fn relocations_by_function(obj: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let text = run_ok(
        Path::new("."),
        "llvm-objdump-22",
        &["-dr", obj.to_str().unwrap()],
    );
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut current = None;
    for l in text.lines() {
        if let Some(label) = l
            .strip_suffix(">:")
            .and_then(|l| l.split_once(" <"))
            .map(|(_, n)| n.to_owned())
        {
            out.entry(label.clone()).or_default();
            current = Some(label);
        } else if l.contains("IMAGE_REL_") {
            if let (Some(f), Some(target)) = (&current, l.split_whitespace().last()) {
                out.entry(f.clone()).or_default().insert(target.to_owned());
            }
        }
    }
    out
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
