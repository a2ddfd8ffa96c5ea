//! `hotpatch verify` on real objects: native clang-cl-22 builds (it must flag clang 22's
//! thread-local redirect), hotpatch-cl builds (clean), and deliberately broken ones.

use crate::support::{self, Dir};

use std::path::Path;

use hotpatch_cl::hotlist::HotList;
use hotpatch_cl::ir;

const SRC: &str = r#"
int next_serial();
int &instance_counter() { static int c = next_serial(); return c; }
thread_local int per_thread;
int bump_tls() { return ++per_thread; }
int counter;
struct S { int f(int); };
int S::f(int x) { return x + counter; }
int other() { return ++counter; }
"#;

const FNS: &str = "?instance_counter@@YAAEAHXZ\n?bump_tls@@YAHXZ\n?f@S@@QEAAHH@Z\n";

fn verify(dir: &Path, args: &[&str]) -> (bool, String) {
    let hp = support::our_bin("hotpatch");
    let mut a = vec!["verify"];
    a.extend_from_slice(args);
    let out = support::run(dir, hp.to_str().unwrap(), &a);
    let code = out.status.code();
    assert!(matches!(code, Some(0 | 1)), "exit {code:?}: {out:?}");
    (
        code == Some(0),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn setup() -> Dir {
    Dir::new(&[("v.cpp", SRC), ("fns.txt", FNS)])
}

#[test]
fn flags_clang_22s_thread_local_redirect_and_unmangled_entries() {
    let dir = setup();
    let d = dir.root();
    support::run_ok(
        d,
        "clang-cl-22",
        &[
            "/c",
            "/O2",
            "/Z7",
            "-fms-secure-hotpatch-functions-file=fns.txt",
            "--",
            "v.cpp",
        ],
    );
    let (ok, out) = verify(
        d,
        &["--functions-file", "fns.txt", "--functions=S::g", "v.obj"],
    );
    assert!(!ok, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..3],
        [
            "'S::g' is listed but no object defines it; did you mean '?f@S@@QEAAHH@Z'?",
            "v.obj: '__ref__Init_thread_epoch' redirects the thread-local '_Init_thread_epoch': the patch would use the TLS template, not the thread's copy",
            "v.obj: '__ref_?per_thread@@3HA' redirects the thread-local '?per_thread@@3HA': the patch would use the TLS template, not the thread's copy",
        ],
        "{out}"
    );
    // Every `__ref_` of clang 22 is a plain weak external: a link hazard, one line each.
    // (Sorted: clang 22's symbol order varies from run to run.)
    let weak: std::collections::BTreeSet<&str> = lines[3..]
        .iter()
        .map(|l| {
            l.strip_prefix("v.obj: '")
                .and_then(|l| l.strip_suffix("' is a plain weak external (clang 22's form): lld-link reports a duplicate symbol when two objects carry it; hint: build through hotpatch-cl, whose __ref_ is a read-only COMDAT"))
                .unwrap_or_else(|| panic!("not a weak __ref_ line: {l}"))
        })
        .collect();
    assert_eq!(
        weak,
        [
            "__ref_?$TSS0@?1??instance_counter@@YAAEAHXZ@4HA",
            "__ref__Init_thread_epoch",
            "__ref_?c@?1??instance_counter@@YAAEAHXZ@4HA",
            "__ref_?per_thread@@3HA",
            "__ref_?counter@@3HA",
        ]
        .into(),
        "{out}"
    );
    assert_eq!(lines.len(), 3 + weak.len(), "{out}");
}

/// Our pipeline by hand: clang-cl 19 IR, the rewrite, clang 19 code generation, injection.
fn ours(d: &Path, target: &str) {
    let t = format!("--target={target}");
    support::run_ok(
        d,
        "clang-cl-19",
        &[
            "/c",
            "/O2",
            "/Z7",
            &t,
            "/clang:-S",
            "/clang:-emit-llvm",
            "--",
            "v.cpp",
        ],
    );
    let input = std::fs::read(d.join("v.ll")).unwrap();
    let mut list = HotList::new();
    list.add_file_contents(FNS.as_bytes(), "fns.txt");
    let r = ir::rewrite(&input, &list, &ir::Options::default()).unwrap();
    std::fs::write(d.join("ours.ll"), &r.text).unwrap();
    support::compile_ir(d, 19, target, "ours.ll", "v.obj", &[]);
    let hp = support::our_bin("hotpatch");
    support::run_ok(
        d,
        hp.to_str().unwrap(),
        &["inject", "--functions-file", "fns.txt", "v.obj"],
    );
}

#[test]
fn passes_on_our_objects_and_on_a_library_of_them() {
    // (x86 mangles methods differently: `?f@S@@QAEHH@Z`; the list is for 64-bit targets.)
    for target in ["x86_64-pc-windows-msvc", "aarch64-pc-windows-msvc"] {
        let dir = setup();
        let d = dir.root();
        ours(d, target);
        let (ok, out) = verify(d, &["--functions-file", "fns.txt", "v.obj"]);
        assert!(ok, "{target}: {out}");
        assert_eq!(out, "", "{target}");
        support::run_ok(d, "llvm-lib-22", &["/out:v.lib", "v.obj"]);
        let (ok, out) = verify(d, &["--functions-file", "fns.txt", "v.lib"]);
        assert!(ok, "{target} lib: {out}");
    }
}

#[test]
fn flags_missing_records_and_direct_accesses_across_objects() {
    let dir = setup();
    let d = dir.root();
    // `counter` defined in another object of the build: found through it.
    std::fs::write(
        d.join("v.cpp"),
        SRC.replace("int counter;", "extern int counter;"),
    )
    .unwrap();
    std::fs::write(d.join("c.cpp"), "int counter;\n").unwrap();
    // No hot-patch flags at all: no records, no redirect.
    support::run_ok(
        d,
        "clang-cl-19",
        &["/c", "/O2", "/Z7", "--", "v.cpp", "c.cpp"],
    );
    let (ok, out) = verify(d, &["--functions-file", "fns.txt", "v.obj", "c.obj"]);
    assert!(!ok);
    assert_eq!(
        out.matches("has no S_HOTPATCHFUNC record").count(),
        3,
        "{out}"
    );
    // Records injected, but no redirect: the direct accesses (the static local and its
    // guard, and `counter`, defined in c.obj) show.
    let hp = support::our_bin("hotpatch");
    support::run_ok(
        d,
        hp.to_str().unwrap(),
        &["inject", "--functions-file", "fns.txt", "v.obj"],
    );
    let (ok, out) = verify(d, &["--functions-file", "fns.txt", "v.obj", "c.obj"]);
    assert!(!ok);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "v.obj: hot-patched '?instance_counter@@YAAEAHXZ' accesses '?$TSS0@?1??instance_counter@@YAAEAHXZ@4HA' (writable section .bss) directly, not through a __ref_ pointer",
            "v.obj: hot-patched '?instance_counter@@YAAEAHXZ' accesses '?c@?1??instance_counter@@YAAEAHXZ@4HA' (writable section .bss) directly, not through a __ref_ pointer",
            "v.obj: hot-patched '?f@S@@QEAAHH@Z' accesses '?counter@@3HA' (writable section .bss) directly, not through a __ref_ pointer",
        ],
        "{out}"
    );
}

#[test]
fn flags_a_writable_ref_pointer() {
    let dir = Dir::new(&[(
        "w.ll",
        "@x = global i32 0\n@__ref_x = global ptr @x, section \".data\"\n\
         define ptr @f() {\n  %p = load ptr, ptr @__ref_x\n  ret ptr %p\n}\n",
    )]);
    let d = dir.root();
    support::run_ok(
        d,
        "clang-19",
        &[
            "--target=x86_64-pc-windows-msvc",
            "-c",
            "w.ll",
            "-o",
            "w.obj",
        ],
    );
    let (ok, out) = verify(d, &["w.obj"]);
    assert!(!ok);
    assert_eq!(
        out.trim_end(),
        "w.obj: '__ref_x' is in section .data, which is not read-only"
    );
}

/// MSVC's RTTI stays direct in clang 22's hot-patched code (its type descriptors are compared
/// by address, and sit in writable `.data`): verify does not report it, on any target.
#[test]
fn rtti_kept_direct_as_clang_22_keeps_it_is_no_problem() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oracle/classes.cpp");
    for (target, f) in [
        ("x86_64-pc-windows-msvc", "?as_square@@YAHPEAUShape@@@Z"),
        ("i686-pc-windows-msvc", "?as_square@@YAHPAUShape@@@Z"),
    ] {
        let dir = Dir::new(&[]);
        let d = dir.root();
        let t = format!("--target={target}");
        let list = format!("-fms-secure-hotpatch-functions-list={f}");
        support::run_ok(
            d,
            "clang-cl-22",
            &[
                &t,
                "/c",
                "/O2",
                "/Z7",
                "/GR",
                "/Gy",
                &list,
                "/Foc.obj",
                "--",
                src.to_str().unwrap(),
            ],
        );
        let text = support::run_ok(d, "llvm-objdump-22", &["-dr", "c.obj"]);
        assert!(
            text.contains("??_R0?AUSquare@@@8"),
            "{target}: no RTTI use left to check:\n{text}"
        );
        let (_, out) = verify(d, &[&format!("--functions={f}"), "c.obj"]);
        assert!(!out.contains("??_R"), "{target}: {out}");
        // What is left is clang 22's weak `__ref_` form, not an access.
        assert!(!out.contains("directly"), "{target}: {out}");
    }
}
