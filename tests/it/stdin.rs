//! A source read from standard input (`-`) is hot-patched like native clang 22 compiles it
//! (docs/clang22-facts.md, "Standard input"): the same object name (`-.obj`, `-.o`), the same
//! `S_OBJNAME`, the same file name in the line tables (`<stdin>` in the working directory) and
//! the same anonymous-namespace hash, because the wrapper hands its standard input to the IR
//! step instead of compiling a copy under another name.
use crate::support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const SRC: &str = "namespace { int counter; }\nint bump() { return ++counter; }\n";
const MANGLED: &str = "?bump@@YAHXZ";

/// Runs `program args…` in `dir` with `input` on its standard input; panics unless it exits 0.
fn run_with_stdin(dir: &Path, program: &Path, args: &[&str], input: &str) {
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(input.as_bytes()).unwrap();
    drop(pipe);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{} {args:?}: {}{}",
        program.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What must agree with native clang 22: records, symbol names, S_OBJNAME and the file
/// names of the line tables (`llvm-readobj-22 --codeview`).
fn facts(obj: &Path) -> (Vec<(String, String)>, Vec<String>, Vec<String>) {
    let records = support::objects::hotpatch_records(obj);
    let mut names: Vec<String> = support::objects::symbols(obj)
        .into_keys()
        .filter(|n| n.contains("counter") || n.contains("bump"))
        .collect();
    names.sort();
    let cv = support::run_ok(
        obj.parent().unwrap(),
        "llvm-readobj-22",
        &["--codeview", obj.to_str().unwrap()],
    );
    let mut files: Vec<String> = cv
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("ObjectName:") || l.starts_with("Filename:"))
        .map(str::to_string)
        .collect();
    files.dedup();
    (records, names, files)
}

/// Compiles SRC from standard input twice, each in its own directory below `dir`:
/// `hotpatch-cl OURS -fms-hotpatch-functions-list=FUNCTION FLAGS…` in `ours/` and
/// `NATIVE -fms-secure-hotpatch-functions-list=FUNCTION FLAGS…` in `native/`. The directory
/// names need not be as long as each other: the facts compared are relative to them.
fn compile_stdin_both(
    dir: &Path,
    (ours, native): (&str, &str),
    function: &str,
    flags: &[&str],
) -> (PathBuf, PathBuf) {
    let (ours_dir, native_dir) = (dir.join("ours"), dir.join("native"));
    std::fs::create_dir_all(&ours_dir).unwrap();
    std::fs::create_dir_all(&native_dir).unwrap();
    let list = format!("-fms-hotpatch-functions-list={function}");
    let compiler = support::tool(ours);
    let mut a: Vec<&str> = vec![compiler.to_str().unwrap(), list.as_str()];
    a.extend(flags);
    run_with_stdin(&ours_dir, &support::our_bin("hotpatch-cl"), &a, SRC);
    let native_list = format!("-fms-secure-hotpatch-functions-list={function}");
    let mut n: Vec<&str> = vec![native_list.as_str()];
    n.extend(flags);
    run_with_stdin(&native_dir, &support::tool(native), &n, SRC);
    (ours_dir, native_dir)
}

/// `facts` with the directory `base` spelled `DIR`.
fn relative(facts: Vec<String>, base: &Path) -> Vec<String> {
    facts
        .into_iter()
        .map(|l| l.replace(&base.display().to_string(), "DIR"))
        .collect()
}

#[test]
fn clang_cl_stdin_matches_native_clang_cl_22() {
    let dir = tempfile::tempdir().unwrap();
    let cl = ["/c", "/Z7", "/O2", "/hotpatch", "/Tp", "-"];
    let (ours, native) =
        compile_stdin_both(dir.path(), ("clang-cl-19", "clang-cl-22"), MANGLED, &cl);

    let ours_obj = ours.join("-.obj");
    let native_obj = native.join("-.obj");
    assert!(ours_obj.is_file() && native_obj.is_file());
    let (r1, s1, f1) = facts(&ours_obj);
    let (r2, s2, f2) = facts(&native_obj);
    assert_eq!(r1, [("bump".to_string(), MANGLED.to_string())]);
    assert_eq!(r1, r2);
    // hotpatch-cl gives the static `counter` a `__ref_` of its own linkage (a documented
    // difference); the anonymous-namespace hash inside the names must be clang 22's.
    let hash = |names: &[String]| -> Vec<String> {
        names
            .iter()
            .filter_map(|n| n.find("?A0x").map(|i| n[i..i + 12].to_string()))
            .collect()
    };
    assert!(!hash(&s2).is_empty(), "{s2:?}");
    let mut h1 = hash(&s1);
    let mut h2 = hash(&s2);
    h1.dedup();
    h2.dedup();
    assert_eq!(h1, h2, "ours {s1:?}, native {s2:?}");
    let f1 = relative(f1, &ours);
    assert_eq!(f1, relative(f2, &native));
    assert!(f1.contains(&"ObjectName: DIR/-.obj".to_string()), "{f1:?}");
    assert!(
        f1.iter().any(|l| l.starts_with("Filename: DIR/<stdin>")),
        "{f1:?}"
    );

    // The same source compiled from a file gets another hash: the test sees the difference.
    std::fs::write(ours.join("s.cpp"), SRC).unwrap();
    support::run_ok(&ours, "clang-cl-22", &["/c", "/Z7", "s.cpp"]);
    let (_, s3, _) = facts(&ours.join("s.obj"));
    assert_ne!(hash(&s3), h2);
}

#[test]
fn gnu_mode_stdin_with_x_matches_native_clang_22() {
    let dir = tempfile::tempdir().unwrap();
    let f = "_Z4bumpv";
    let gnu = [
        "--target=x86_64-w64-windows-gnu",
        "-g",
        "-gcodeview",
        "-O2",
        "-fms-hotpatch",
        "-c",
        "-x",
        "c++",
        "-",
    ];
    let (ours, native) = compile_stdin_both(dir.path(), ("clang-19", "clang-22"), f, &gnu);
    let (r1, s1, f1) = facts(&ours.join("-.o"));
    let (r2, s2, f2) = facts(&native.join("-.o"));
    assert_eq!(r1, [("bump".to_string(), f.to_string())]);
    assert_eq!(r1, r2);
    for symbols in [&s1, &s2] {
        assert!(
            symbols.iter().any(|s| s == "_ZN12_GLOBAL__N_17counterE"),
            "{symbols:?}"
        );
    }
    assert_eq!(relative(f1, &ours), relative(f2, &native));
}
