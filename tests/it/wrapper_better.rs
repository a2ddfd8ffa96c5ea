//! What `hotpatch-cl` does better than clang 22, through the wrapper with the real compilers
//! (`hotpatch-cl clang-cl-19`, `clang-cl-22`, `clang-19`), each shown against native
//! `clang-cl-22` on the same source where clang 22 differs:
//! - `-fms-hotpatch-allow-direct-list=` / `-file=` and `HOTPATCH_ALLOW_DIRECT` keep a global
//!   direct (native makes a `__ref_` for it); with clang 22 in `auto` mode they take the
//!   rewrite pipeline, and `HOTPATCH_MODE=native` refuses them;
//! - our warnings (no `/hotpatch`, an unmangled C++ name, a thread-local, no CodeView) and
//!   `HOTPATCH_WERROR=1`, which turns each into exit status 1 with no object;
//! - thread-locals stay direct and same-named statics link (lld-link-22), with clang-cl-19 and
//!   with clang-cl-22 in the default (auto) mode.

use crate::support::{self, objects, Dir};

use std::path::Path;
use std::process::Output;

fn include_dir() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("include")
        .to_str()
        .unwrap()
        .to_owned()
}

const DIRECT_C: &str = r#"#include <hotpatch.h>
int listed;
int plain;
HOTPATCH_ALLOW_DIRECT int annotated;
__declspec(noinline) int use(int x) {
  listed += x;
  plain += x;
  annotated += x;
  return listed + plain + annotated;
}
int main(void) { return use(1); }
"#;

const WARN_CPP: &str = r#"int counter;
thread_local int per_thread = 1;
__declspec(noinline) int measure(int a, int b) { counter += a; return a * b + counter; }
__declspec(noinline) int tls_reader(int a) { per_thread += a; return per_thread; }
int main() { return measure(1, 2) + tls_reader(3); }
"#;

const TLS_C: &str = r#"__declspec(thread) int per_thread;
__declspec(noinline) int read_tls(void) { return ++per_thread; }
"#;

const T1: &str =
    "static int s_counter;\n__declspec(noinline) int bump1(void) { return ++s_counter; }\n";
const T2: &str =
    "static int s_counter = 100;\n__declspec(noinline) int bump2(void) { return ++s_counter; }\n\
int bump1(void);\nint main(void) { return bump1() + bump2(); }\n";

/// Environment variables for one run.
type Env<'a> = &'a [(&'a str, &'a str)];

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Lines the wrapper printed itself.
fn our_lines(e: &str) -> Vec<&str> {
    e.lines()
        .filter(|l| l.starts_with("hotpatch-cl: "))
        .collect()
}

/// The relocation targets of `func` in `obj`.
fn relocs_of(obj: &Path, func: &str) -> Vec<String> {
    objects::relocations_by_function(obj)
        .get(func)
        .unwrap_or_else(|| panic!("{func} not in {}", obj.display()))
        .iter()
        .cloned()
        .collect()
}

/// Asserts that `obj` holds exactly one `S_HOTPATCHFUNC`: `function` is its
/// `(function name, record name)`, as [`objects::hotpatch_records`] gives them.
fn assert_only_record(obj: &Path, function: (&str, &str), context: &str) {
    let want = [(function.0.to_owned(), function.1.to_owned())];
    assert_eq!(objects::hotpatch_records(obj), want, "{context}");
}

fn has_symbol(obj: &Path, name: &str) -> bool {
    objects::symbols(obj).contains_key(name)
}

#[test]
fn allow_direct_flags_and_the_annotation_keep_globals_direct_where_clang_22_redirects() {
    let d = Dir::new(&[("direct.c", DIRECT_C), ("direct.txt", "listed\r\n")]);
    let inc = format!("/I{}", include_dir());
    let src = d.p("direct.c");
    let common = ["/c", "/Z7", "/O2", "/hotpatch", inc.as_str()];

    // Native clang 22: every mutable global gets a `__ref_`, the annotated one too.
    let mut native = vec!["/Fonative.obj", "-fms-secure-hotpatch-functions-list=use"];
    native.extend(common);
    native.extend(["--", src.as_str()]);
    support::run_ok(d.root(), "clang-cl-22", &native);
    for g in ["__ref_listed", "__ref_plain", "__ref_annotated"] {
        assert!(has_symbol(&d.path("native.obj"), g), "native lacks {g}");
    }

    let file_flag = format!("-fms-hotpatch-allow-direct-file={}", d.p("direct.txt"));
    let cases: &[(&str, &str, Env)] = &[
        ("clang-cl-19", "-fms-hotpatch-allow-direct-list=listed", &[]),
        ("clang-cl-19", &file_flag, &[]),
        // In /clang: too, like every hot-patch flag.
        (
            "clang-cl-19",
            "/clang:-fms-hotpatch-allow-direct-list=listed",
            &[],
        ),
        // clang 22 cannot take these names: auto mode takes the rewrite pipeline.
        ("clang-cl-22", "-fms-hotpatch-allow-direct-list=listed", &[]),
        ("clang-cl-22", &file_flag, &[("HOTPATCH_MODE", "rewrite")]),
    ];
    for (compiler, flag, env) in cases {
        let obj = d.path("ours.obj");
        let _ = std::fs::remove_file(&obj);
        let mut args = vec![
            *compiler,
            "/Foours.obj",
            "-fms-hotpatch-functions-list=use",
            flag,
        ];
        args.extend(common);
        args.extend(["--", src.as_str()]);
        let e = d.wrap_ok(&args, env);
        assert!(our_lines(&e).is_empty(), "{compiler} {flag}: {e}");
        let relocs = relocs_of(&obj, "use");
        for direct in ["listed", "annotated", "__ref_plain"] {
            assert!(
                relocs.iter().any(|r| r == direct),
                "{compiler} {flag}: use does not reference {direct}: {relocs:?}"
            );
        }
        assert!(
            !relocs.iter().any(|r| r == "plain"),
            "{compiler} {flag}: {relocs:?}"
        );
        let refs: Vec<String> = objects::symbols(&obj)
            .into_keys()
            .filter(|n| n.starts_with("__ref_"))
            .collect();
        assert_eq!(refs, ["__ref_plain"], "{compiler} {flag}");
        assert_only_record(&obj, ("use", "use"), &format!("{compiler} {flag}"));
    }
}

#[test]
fn allow_direct_flags_are_refused_in_native_mode() {
    let d = Dir::new(&[("direct.c", DIRECT_C)]);
    let inc = format!("/I{}", include_dir());
    let src = d.p("direct.c");
    let out = d.wrap(
        &[
            "clang-cl-22",
            "/c",
            "/Z7",
            "/hotpatch",
            &inc,
            "-fms-hotpatch-functions-list=use",
            "-fms-hotpatch-allow-direct-list=listed",
            "/Foours.obj",
            "--",
            &src,
        ],
        &[("HOTPATCH_MODE", "native")],
    );
    let e = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{e}");
    assert_eq!(our_lines(&e).len(), 1, "{e}");
    assert!(
        e.starts_with("hotpatch-cl: error: ") && e.contains("HOTPATCH_MODE=rewrite"),
        "{e}"
    );
    assert!(!d.path("ours.obj").exists());
}

/// One warning case: compiler, extra flags, list, expected text of the one warning.
struct Case {
    compiler: &'static str,
    flags: &'static [&'static str],
    list: &'static str,
    text: &'static [&'static str],
}

const WARNINGS: &[Case] = &[
    Case {
        compiler: "clang-cl-19",
        flags: &["/Z7"],
        list: "?measure@@YAHHH@Z",
        text: &["hot-patch functions are listed but /hotpatch is missing"],
    },
    Case {
        compiler: "clang-cl-19",
        flags: &["/Z7", "/hotpatch"],
        list: "measure",
        text: &["warn.cpp: hot-patch list entry 'measure' is not a mangled name and marks nothing; this file defines '?measure@@YAHHH@Z'"],
    },
    Case {
        compiler: "clang-cl-19",
        flags: &["/Z7", "/hotpatch"],
        list: "?tls_reader@@YAHH@Z",
        text: &["thread-local", "?per_thread@@3HA", "keeps its direct TLS access"],
    },
    Case {
        compiler: "clang-cl-19",
        flags: &["/hotpatch"],
        list: "?measure@@YAHHH@Z",
        text: &["no S_HOTPATCHFUNC for '?measure@@YAHHH@Z'", "/Z7"],
    },
    // The prologue warning applies when clang 22 does the work too.
    Case {
        compiler: "clang-cl-22",
        flags: &["/Z7"],
        list: "?measure@@YAHHH@Z",
        text: &["hot-patch functions are listed but /hotpatch is missing"],
    },
];

#[test]
fn warnings_where_clang_22_is_silent_and_hotpatch_werror_fails_each() {
    let d = Dir::new(&[("warn.cpp", WARN_CPP)]);
    let src = d.p("warn.cpp");
    let obj = d.path("warn.obj");
    for case in WARNINGS {
        let list = format!("-fms-hotpatch-functions-list={}", case.list);
        let mut args = vec![case.compiler, "/c", "/O2", "/Fowarn.obj", list.as_str()];
        args.extend(case.flags);
        args.extend(["--", src.as_str()]);

        let _ = std::fs::remove_file(&obj);
        let e = d.wrap_ok(&args, &[]);
        let lines = our_lines(&e);
        assert_eq!(lines.len(), 1, "{args:?}: {e}");
        assert!(lines[0].starts_with("hotpatch-cl: warning: "), "{e}");
        for t in case.text {
            assert!(lines[0].contains(t), "{args:?}: {t:?} not in {e}");
        }
        assert!(obj.is_file(), "{args:?}: a warning keeps the object");

        let _ = std::fs::remove_file(&obj);
        let out = d.wrap(&args, &[("HOTPATCH_WERROR", "1")]);
        let e = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {e}");
        let lines = our_lines(&e);
        assert_eq!(lines.len(), 1, "{args:?}: {e}");
        assert!(lines[0].starts_with("hotpatch-cl: error: "), "{e}");
        for t in case.text {
            assert!(lines[0].contains(t), "{args:?}: {t:?} not in {e}");
        }
        assert!(!obj.exists(), "{args:?}: HOTPATCH_WERROR leaves no object");
        assert!(
            std::fs::read_dir(d.root()).unwrap().all(|f| !f
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".obj")),
            "{args:?}: no object of any name"
        );
    }

    // Nothing to warn about: silent, and HOTPATCH_WERROR=1 changes nothing.
    let list = "-fms-hotpatch-functions-list=?measure@@YAHHH@Z";
    let args = [
        "clang-cl-19",
        "/c",
        "/O2",
        "/Z7",
        "/hotpatch",
        "/Fowarn.obj",
        list,
        "--",
        &src,
    ];
    let e = d.wrap_ok(&args, &[("HOTPATCH_WERROR", "1")]);
    assert!(our_lines(&e).is_empty(), "{e}");
    assert_only_record(&obj, ("measure", "?measure@@YAHHH@Z"), "");
}

#[test]
fn gnu_mode_warns_without_fms_hotpatch() {
    let d = Dir::new(&[("t.c", T1)]);
    let base = [
        "clang-19",
        "--target=x86_64-w64-windows-gnu",
        "-g",
        "-gcodeview",
        "-O2",
        "-c",
        "-fms-hotpatch-functions-list=bump1",
        "t.c",
        "-o",
        "t.o",
    ];
    let e = d.wrap_ok(&base, &[]);
    let lines = our_lines(&e);
    assert_eq!(lines.len(), 1, "{e}");
    assert!(
        lines[0].contains("hot-patch functions are listed but -fms-hotpatch is missing"),
        "{e}"
    );
    let mut with = base.to_vec();
    with.push("-fms-hotpatch");
    let e = d.wrap_ok(&with, &[("HOTPATCH_WERROR", "1")]);
    assert!(our_lines(&e).is_empty(), "{e}");
    assert_eq!(objects::hotpatch_records(&d.path("t.o")).len(), 1);
}

#[test]
fn thread_locals_stay_direct_through_the_wrapper() {
    let d = Dir::new(&[("tls.c", TLS_C)]);
    let src = d.p("tls.c");
    let common = [
        "/c",
        "/Z7",
        "/O2",
        "/hotpatch",
        "-fms-secure-hotpatch-functions-list=read_tls",
    ];
    let mut native = vec!["/Fonative.obj"];
    native.extend(common);
    native.extend(["--", src.as_str()]);
    support::run_ok(d.root(), "clang-cl-22", &native);
    assert!(
        has_symbol(&d.path("native.obj"), "__ref_per_thread"),
        "clang 22 redirects the thread-local to its template"
    );

    // clang-cl-22 with no HOTPATCH_MODE (auto) takes the rewrite too, not its own pass.
    for compiler in ["clang-cl-19", "clang-cl-22"] {
        let mut ours = vec![compiler, "/Foours.obj"];
        ours.extend(common);
        ours.extend(["--", src.as_str()]);
        let e = d.wrap_ok(&ours, &[]);
        assert!(
            e.contains("thread-local @per_thread keeps its direct TLS access"),
            "{compiler}: {e}"
        );
        let obj = d.path("ours.obj");
        assert!(!has_symbol(&obj, "__ref_per_thread"), "{compiler}");
        let relocs = relocs_of(&obj, "read_tls");
        assert!(
            relocs.iter().any(|r| r == "per_thread") && relocs.iter().any(|r| r == "_tls_index"),
            "{compiler}: {relocs:?}"
        );
        assert_only_record(&obj, ("read_tls", "read_tls"), compiler);
    }
}

#[test]
fn same_named_statics_link_through_the_wrapper_and_clash_natively() {
    let d = Dir::new(&[("t1.c", T1), ("t2.c", T2)]);
    std::fs::create_dir(d.path("ours")).unwrap();
    std::fs::create_dir(d.path("native")).unwrap();
    let (t1, t2) = (d.p("t1.c"), d.p("t2.c"));
    let common = ["/c", "/Z7", "/O2", "/hotpatch"];
    let mut native = vec![
        "/Fonative/",
        "-fms-secure-hotpatch-functions-list=bump1,bump2",
    ];
    native.extend(common);
    native.extend(["--", t1.as_str(), t2.as_str()]);
    support::run_ok(d.root(), "clang-cl-22", &native);
    let link = |dir: &str| {
        support::run(
            d.root(),
            "lld-link-22",
            &[
                "/entry:main",
                "/subsystem:console",
                "/nodefaultlib",
                &format!("/out:{dir}/t.exe"),
                &format!("{dir}/t1.obj"),
                &format!("{dir}/t2.obj"),
            ],
        )
    };
    let n = link("native");
    assert!(!n.status.success());
    assert!(
        stderr(&n).contains("duplicate symbol: __ref_s_counter"),
        "{}",
        stderr(&n)
    );

    // clang-cl-22 with no HOTPATCH_MODE (auto) takes the rewrite too, not its own pass.
    for compiler in ["clang-cl-19", "clang-cl-22"] {
        let _ = std::fs::remove_dir_all(d.path("ours"));
        std::fs::create_dir(d.path("ours")).unwrap();
        let mut ours = vec![
            compiler,
            "/Foours/",
            "/MP2",
            "-fms-hotpatch-functions-list=bump1,bump2",
        ];
        ours.extend(common);
        ours.extend(["--", t1.as_str(), t2.as_str()]);
        let e = d.wrap_ok(&ours, &[]);
        assert!(our_lines(&e).is_empty(), "{compiler}: {e}");
        for (obj, func) in [("ours/t1.obj", "bump1"), ("ours/t2.obj", "bump2")] {
            let obj = d.path(obj);
            let syms = objects::symbols(&obj);
            assert_eq!(
                syms.get("__ref_s_counter").map(String::as_str),
                Some(".rdata"),
                "{compiler}: {syms:?}"
            );
            let relocs = relocs_of(&obj, func);
            assert!(
                relocs.iter().any(|r| r == "__ref_s_counter"),
                "{compiler}: {relocs:?}"
            );
            assert!(
                !relocs.iter().any(|r| r == "s_counter"),
                "{compiler}: {relocs:?}"
            );
        }
        let o = link("ours");
        assert!(o.status.success(), "{compiler}: {}", stderr(&o));
        assert!(d.path("ours/t.exe").is_file());
    }
}
