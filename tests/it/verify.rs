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

const SEAL_SRC: &str = r#"
int counter;
extern int shared;
static int hidden;
inline int &cache() { static int c; return c; }
int hot(int x) { hidden += x; cache() += x; return ++counter + shared; }
"#;

/// `hotpatch rewrite` output compiled by clang 22 itself (it writes the records, from the
/// marks the rewrite keeps): in `dir`, `u.obj` for `target`, whose `__ref_` COMDATs are
/// writable since no object step ran. Returns the hot-patched function's name.
fn unsealed(d: &Path, target: &str) -> &'static str {
    std::fs::write(d.join("s.cpp"), SEAL_SRC).unwrap();
    let gnu = target.ends_with("-gnu");
    let t = format!("--target={target}");
    if gnu {
        support::run_ok(
            d,
            "clang-22",
            &[
                &t,
                "-O2",
                "-gcodeview",
                "-S",
                "-emit-llvm",
                "s.cpp",
                "-o",
                "s.ll",
            ],
        );
    } else {
        support::run_ok(
            d,
            "clang-cl-22",
            &[
                &t,
                "/O2",
                "/Z7",
                "/clang:-S",
                "/clang:-emit-llvm",
                "--",
                "s.cpp",
            ],
        );
    }
    let f = if gnu { "_Z3hoti" } else { "?hot@@YAHH@Z" };
    let hp = support::our_bin("hotpatch");
    let l = format!("--ms-hotpatch-functions-list={f}");
    support::run_ok(
        d,
        hp.to_str().unwrap(),
        &["rewrite", "s.ll", &l, "-o", "rw.ll"],
    );
    support::compile_ir(d, 22, target, "rw.ll", "u.obj", &[]);
    f
}

/// Section number → writable, and the sections that hold a `__ref_` symbol, as
/// llvm-readobj-22 reads them.
fn protections(d: &Path, obj: &str) -> (Vec<(u32, bool)>, std::collections::BTreeSet<u32>) {
    let o = support::objects::Obj::read(d, obj);
    let refs = o
        .sym_section
        .iter()
        .filter(|(s, _)| s.contains("__ref_"))
        .map(|(_, n)| *n)
        .collect();
    (
        o.sections.iter().map(|(n, (_, w))| (*n, *w)).collect(),
        refs,
    )
}

/// Code generation outside hotpatch-cl leaves each external `__ref_` in a writable COMDAT:
/// `verify` flags each one (once, with the hint), `hotpatch seal` clears exactly their write
/// bits (nothing else changes), then `verify` passes; sealing again changes nothing, and
/// `hotpatch inject` seals as well. cl mode on x64, x86 and ARM64, and GNU mode.
#[test]
fn flags_an_unsealed_ref_comdat_and_seal_fixes_it() {
    for target in [
        "x86_64-pc-windows-msvc",
        "i686-pc-windows-msvc",
        "aarch64-pc-windows-msvc",
        "x86_64-w64-windows-gnu",
    ] {
        let dir = Dir::new(&[]);
        let d = dir.root();
        let f = unsealed(d, target);
        let fl = format!("--functions={f}");
        let (ok, out) = verify(d, &[&fl, "u.obj"]);
        assert!(!ok, "{target}: {out}");
        let lines: Vec<&str> = out.lines().collect();
        // `counter`, `shared` and the inline function's static: external, COMDAT each;
        // `hidden` is internal, its `__ref_` in the object's read-only `.rdata`.
        assert_eq!(lines.len(), 3, "{target}: {out}");
        for l in &lines {
            assert!(
                l.starts_with("u.obj: '") && l.contains("__ref_") && l.ends_with("which is not read-only; hint: code generation outside hotpatch-cl leaves a __ref_ COMDAT writable: run `hotpatch seal` on the object or its library"),
                "{target}: {l}"
            );
        }
        let before = std::fs::read(d.join("u.obj")).unwrap();
        let (flags_before, refs) = protections(d, "u.obj");
        std::fs::copy(d.join("u.obj"), d.join("i.obj")).unwrap();

        let hp = support::our_bin("hotpatch");
        let hp = hp.to_str().unwrap();
        support::run_ok(d, hp, &["seal", "u.obj"]);
        let (ok, out) = verify(d, &[&fl, "u.obj"]);
        assert!(ok, "{target}: {out}");
        let (flags_after, _) = protections(d, "u.obj");
        let changed: std::collections::BTreeSet<u32> = flags_before
            .iter()
            .zip(&flags_after)
            .filter(|(a, b)| a != b)
            .map(|((n, _), _)| *n)
            .collect();
        let written: std::collections::BTreeSet<u32> = flags_before
            .iter()
            .filter(|(n, w)| *w && refs.contains(n))
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(
            changed.len(),
            3,
            "{target}: {flags_before:?} {flags_after:?}"
        );
        assert_eq!(
            changed, written,
            "{target}: only the __ref_ sections change"
        );
        assert!(
            flags_after.iter().any(|(_, w)| *w),
            "{target}: .data/.bss keep their write bit"
        );
        let after = std::fs::read(d.join("u.obj")).unwrap();
        assert_eq!(after.len(), before.len());
        assert_eq!(
            before.iter().zip(&after).filter(|(a, b)| a != b).count(),
            3,
            "{target}: one byte of each section's Characteristics"
        );
        // Idempotent, and quiet about it.
        let out = support::run(d, hp, &["seal", "u.obj"]);
        assert!(out.status.success() && out.stderr.is_empty(), "{out:?}");
        assert_eq!(std::fs::read(d.join("u.obj")).unwrap(), after);

        // `inject` (the object step for clang 15-20 users) seals too; its records are
        // already there (clang 22 wrote them), so the result is exactly the sealed object.
        support::run_ok(d, hp, &["inject", &fl, "i.obj"]);
        assert_eq!(std::fs::read(d.join("i.obj")).unwrap(), after, "{target}");
    }
}

/// `hotpatch seal` on a library (every member sealed in place), `-o`, and failures: each
/// bad file is one error line naming it, the others are still sealed, the exit status is 1,
/// and a file that fails is left as it was.
#[test]
fn seal_handles_libraries_and_reports_each_bad_file() {
    let dir = Dir::new(&[]);
    let d = dir.root();
    let f = unsealed(d, "x86_64-pc-windows-msvc");
    let fl = format!("--functions={f}");
    std::fs::copy(d.join("u.obj"), d.join("v.obj")).unwrap();
    support::run_ok(d, "llvm-lib-22", &["/out:u.lib", "u.obj"]);
    support::run_ok(d, "llvm-ar-22", &["rc", "libu.a", "u.obj"]);
    std::fs::write(d.join("junk.obj"), b"not an object").unwrap();
    let hp = support::our_bin("hotpatch");
    let hp = hp.to_str().unwrap();

    let out = support::run(
        d,
        hp,
        &["seal", "-v", "u.lib", "junk.obj", "missing.obj", "libu.a"],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = err.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(errors.len(), 2, "{err}");
    assert!(
        errors[0].starts_with("hotpatch: error: junk.obj: "),
        "{err}"
    );
    assert!(
        errors[1].starts_with("hotpatch: error: missing.obj: cannot read: "),
        "{err}"
    );
    assert_eq!(err.matches("u.lib(u.obj): __ref_").count(), 3, "{err}");
    assert_eq!(err.matches("libu.a(u.obj): __ref_").count(), 3, "{err}");
    assert_eq!(std::fs::read(d.join("junk.obj")).unwrap(), b"not an object");
    assert!(!d.join("missing.obj").exists());
    for lib in ["u.lib", "libu.a"] {
        let (ok, out) = verify(d, &[&fl, lib]);
        assert!(ok, "{lib}: {out}");
    }

    // -o: the input stays as it was; one input only.
    let out = support::run(d, hp, &["seal", "v.obj", "-o", "w.obj"]);
    assert!(out.status.success(), "{out:?}");
    let (ok, _) = verify(d, &[&fl, "v.obj"]);
    assert!(!ok, "v.obj is untouched");
    let (ok, out) = verify(d, &[&fl, "w.obj"]);
    assert!(ok, "{out}");
    let out = support::run(d, hp, &["seal", "v.obj", "w.obj", "-o", "x.obj"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        "hotpatch: error: -o takes one input file, 2 given"
    );
    assert!(!d.join("x.obj").exists());
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
