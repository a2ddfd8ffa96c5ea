//! `hotpatch rewrite` through the binary: outputs, verbose report, and errors.

use crate::support::{self, Dir};

use std::process::Command;

const GOOD: &str =
    "@g = global i32 0\n\ndefine void @f() {\n  store i32 1, ptr @g\n  ret void\n}\n";

fn hotpatch(dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    use std::io::Write;
    let mut cmd = Command::new(support::our_bin("hotpatch"));
    cmd.args(args).current_dir(dir);
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(pipe);
    child.wait_with_output().unwrap()
}

/// `hotpatch rewrite INPUT -o out.ll FLAGS…` in `dir`.
fn rewrite(dir: &Dir, input: &str, flags: &[&str]) -> std::process::Output {
    let mut args = vec!["rewrite", input, "-o", "out.ll"];
    args.extend(flags);
    hotpatch(dir.root(), &args, None)
}

#[test]
fn rewrites_a_file_and_reports_with_v() {
    let dir = Dir::new(&[("in.ll", GOOD), ("fns.txt", "f \r\n")]);
    let out = rewrite(
        &dir,
        "in.ll",
        &["-v", "--ms-secure-hotpatch-functions-file=fns.txt"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(
            "hotpatch: warning: fns.txt:1: hot-patch function name 'f ' has surrounding whitespace"
        ),
        "{err}"
    );
    assert!(
        err.contains("hotpatch: marked f\n") && err.contains("hotpatch: redirected g in f\n"),
        "{err}"
    );
    let text = std::fs::read_to_string(dir.path("out.ll")).unwrap();
    assert!(
        text.contains(
            "$__ref_g = comdat any\n@__ref_g = linkonce externally_initialized global ptr @g, comdat, section \".rdata\" \"allow_direct_access_in_hot_patch_function\"\n"
        ),
        "{text}"
    );
    assert!(text.contains("  store i32 1, ptr %hp.ref.g\n"), "{text}");
}

#[test]
fn stdin_to_stdout_and_mark_only() {
    let dir = tempfile::tempdir().unwrap();
    let out = hotpatch(
        dir.path(),
        &[
            "rewrite",
            "-",
            "--mark-only",
            "--ms-hotpatch-functions-list=f",
        ],
        Some(GOOD),
    );
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text,
        GOOD.replace("@f() {", "@f() \"marked_for_windows_hot_patching\" {")
    );
}

#[test]
fn malformed_ir_is_a_located_error_and_creates_no_output() {
    let bad = GOOD.replace("ptr @g\n", "ptr @g)\n");
    let dir = Dir::new(&[("bad.ll", &bad)]);
    let out = rewrite(&dir, "bad.ll", &["--ms-hotpatch-functions-list=f"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim_end(),
        "hotpatch: error: bad.ll:4:22: unbalanced brackets"
    );
    assert!(!dir.path("out.ll").exists());
    assert_eq!(
        std::fs::read_dir(dir.root()).unwrap().count(),
        1,
        "no temporary left behind"
    );
}

#[test]
fn typed_pointer_ir_names_the_supported_range() {
    let dir = Dir::new(&[("old.ll", "@p = global i32* null\n")]);
    let out = rewrite(&dir, "old.ll", &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("hotpatch: error: old.ll:1:16: typed pointer") && err.contains("15 to 22"),
        "{err}"
    );
    assert!(!dir.path("out.ll").exists());
}

#[test]
fn missing_functions_file_is_an_error_naming_it() {
    let dir = Dir::new(&[("in.ll", GOOD)]);
    let out = rewrite(
        &dir,
        "in.ll",
        &["--ms-hotpatch-functions-file=nonexist.txt"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nonexist.txt"));
    assert!(!dir.path("out.ll").exists());
}
