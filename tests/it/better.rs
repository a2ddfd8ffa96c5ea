//! Where hotpatch-cl does better than clang 22 (docs/differences-from-clang22.md): each test
//! first shows native clang 22's behaviour on the same input (so it fails if clang 22
//! changes), then ours, inspected in the objects with llvm-objdump-22 / llvm-readobj-22.

use crate::support::objects::Obj;
use crate::support::{self, Dir};

use std::collections::BTreeSet;
use std::path::Path;

use hotpatch_cl::hotlist::HotList;
use hotpatch_cl::ir;

/// One COFF symbol: name, section number (≤ 0 for special), storage class.
/// Compiles `src` (written to `dir/name`) to IR with `clang-cl-{clang}` for `target`.
fn to_ir(dir: &Path, name: &str, src: &str, clang: u32, target: &str) -> Vec<u8> {
    std::fs::write(dir.join(name), src).unwrap();
    let include = concat!(env!("CARGO_MANIFEST_DIR"), "/include");
    let t = format!("--target={target}");
    support::run_ok(
        dir,
        &format!("clang-cl-{clang}"),
        &[
            "/c",
            "/O2",
            "/Z7",
            "/EHsc",
            "-I",
            include,
            "/clang:-S",
            "/clang:-emit-llvm",
            &t,
            "--",
            name,
        ],
    );
    let stem = Path::new(name).file_stem().unwrap().to_str().unwrap();
    std::fs::read(dir.join(format!("{stem}.ll"))).unwrap()
}

/// Rewrites `input` with every defined function listed; writes `ours.ll`-like `out`.
fn rewrite_all(dir: &Path, input: &[u8], out: &str, options: &ir::Options) -> ir::Report {
    let m = ir::module::Module::index(input).unwrap();
    let list: HotList = m
        .functions
        .iter()
        .map(|f| std::str::from_utf8(&f.name.bytes).unwrap())
        .collect();
    let r = ir::rewrite(input, &list, options).unwrap();
    std::fs::write(dir.join(out), &r.text).unwrap();
    r.report
}

/// The names of every defined function, comma-separated (for clang 22's own pass).
fn all_functions(input: &[u8]) -> String {
    let m = ir::module::Module::index(input).unwrap();
    m.functions
        .iter()
        .map(|f| String::from_utf8(f.name.bytes.to_vec()).unwrap())
        .collect::<Vec<_>>()
        .join(",")
}

const TLS_CPP: &str = r#"
int next_serial();
int &instance_counter() {
  static int c = next_serial(); // thread-safe static: reads TLS _Init_thread_epoch
  return c;
}
thread_local int per_thread;
int bump_tls() { return ++per_thread; }
"#;

fn thread_locals_stay_direct(clang: u32) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let target = "x86_64-pc-windows-msvc";
    let input = to_ir(d, "tls.cpp", TLS_CPP, clang, target);
    let list = format!(
        "-ms-secure-hotpatch-functions-list={}",
        all_functions(&input)
    );

    // Native: both thread-locals get a `__ref_` (the TLS template's address).
    support::compile_ir(d, 22, target, "tls.ll", "native.obj", &["-mllvm", &list]);
    let native = Obj::read(d, "native.obj").symbols;
    assert!(native.contains("__ref__Init_thread_epoch"), "{native:?}");
    assert!(native.contains("__ref_?per_thread@@3HA"), "{native:?}");
    // ...and llc-22 (verifier on) rejects what its pass makes of llvm.threadlocal.address.
    let llc_list = format!(
        "--ms-secure-hotpatch-functions-list={}",
        all_functions(&input)
    );
    let llc = support::run(
        d,
        "llc-22",
        &["-filetype=obj", &llc_list, "tls.ll", "-o", "llc.obj"],
    );
    assert!(
        !llc.status.success(),
        "llc-22 accepted clang 22's TLS rewrite"
    );
    assert!(
        String::from_utf8_lossy(&llc.stderr)
            .contains("llvm.threadlocal.address first argument must be a GlobalValue"),
        "{}",
        String::from_utf8_lossy(&llc.stderr)
    );

    // Ours: no `__ref_` for them, the real TLS access kept, one warning per function and
    // variable; valid IR for the verifier and for both clangs.
    let report = rewrite_all(d, &input, "ours.ll", &ir::Options::default());
    support::run_ok(
        d,
        "llc-22",
        &["-filetype=obj", "ours.ll", "-o", "llc-ours.obj"],
    );
    for (cc, obj) in [(clang, "ours.obj"), (22, "ours22.obj")] {
        support::compile_ir(d, cc, target, "ours.ll", obj, &[]);
        let o = Obj::read(d, obj);
        let syms = &o.symbols;
        assert!(
            !syms.iter().any(|s| s.starts_with("__ref_")
                && (s.contains("_Init_thread_epoch") || s.contains("per_thread"))),
            "{syms:?}"
        );
        let relocs = o.code_relocation_targets();
        for direct in ["_Init_thread_epoch", "?per_thread@@3HA", "_tls_index"] {
            assert!(
                relocs.contains(direct),
                "{direct} not referenced: {relocs:?}"
            );
        }
    }
    let tls_warnings: Vec<_> = report
        .warnings
        .iter()
        .filter(|w| w.contains("thread-local"))
        .collect();
    assert_eq!(tls_warnings.len(), 2, "{:?}", report.warnings);
    assert!(tls_warnings.iter().any(
        |w| w.contains("@\"?instance_counter@@YAAEAHXZ\"") && w.contains("@_Init_thread_epoch")
    ));
    assert!(tls_warnings
        .iter()
        .any(|w| w.contains("@\"?bump_tls@@YAHXZ\"") && w.contains("@\"?per_thread@@3HA\"")));
}

#[test]
fn thread_locals_stay_direct_clang19() {
    thread_locals_stay_direct(19);
}

#[test]
fn thread_locals_stay_direct_clang22() {
    thread_locals_stay_direct(22);
}

const T1: &str = "static int s_counter;\nint bump1(void) { return ++s_counter; }\n";
const T2: &str = "static int s_counter = 100;\nint bump2(void) { return ++s_counter; }\n\
int bump1(void);\nint main(void) { return bump1() + bump2(); }\n";
const LINK: [&str; 4] = [
    "/entry:main",
    "/subsystem:console",
    "/nodefaultlib",
    "/out:t.exe",
];

#[test]
fn same_named_statics_clash_natively_and_link_with_us() {
    let dir = Dir::new(&[("t1.c", T1), ("t2.c", T2)]);
    let d = dir.root();
    support::run_ok(
        d,
        "clang-cl-22",
        &[
            "/c",
            "/O2",
            "/Z7",
            "-fms-secure-hotpatch-functions-list=bump1,bump2",
            "--",
            "t1.c",
            "t2.c",
        ],
    );
    let mut args = LINK.to_vec();
    args.extend(["t1.obj", "t2.obj"]);
    let native = support::run(d, "lld-link-22", &args);
    assert!(!native.status.success(), "native objects linked");
    assert!(
        String::from_utf8_lossy(&native.stderr).contains("duplicate symbol: __ref_s_counter"),
        "{}",
        String::from_utf8_lossy(&native.stderr)
    );

    for target in [
        "x86_64-pc-windows-msvc",
        "i686-pc-windows-msvc",
        "aarch64-pc-windows-msvc",
    ] {
        for (src, text) in [("t1.c", T1), ("t2.c", T2)] {
            let stem = &src[..2];
            let input = to_ir(d, src, text, 19, target);
            rewrite_all(
                d,
                &input,
                &format!("{stem}-ours.ll"),
                &ir::Options::default(),
            );
            let obj = format!("{stem}-ours.obj");
            support::compile_ir(d, 19, target, &format!("{stem}-ours.ll"), &obj, &[]);
            // The `__ref_` is a static symbol of the same name in a read-only `.rdata`.
            let prefix = if target.starts_with("i686") { "_" } else { "" };
            let name = format!("{prefix}__ref_s_counter");
            let o = Obj::read(d, &obj);
            let section = o
                .sym_section
                .get(&name)
                .unwrap_or_else(|| panic!("{target}: no {name}: {:?}", o.symbols));
            assert!(o.statics.contains(&name), "{target}: {name} is not static");
            let (sec, writable) = &o.sections[section];
            assert_eq!(sec, ".rdata", "{target}");
            assert!(!writable, "{target}: {name} is writable");
            assert!(
                o.code_relocation_targets().contains(&name),
                "{target}: {name} unused"
            );
        }
        if target.starts_with("x86_64") {
            let mut args = LINK.to_vec();
            args.extend(["t1-ours.obj", "t2-ours.obj"]);
            support::run_ok(d, "lld-link-22", &args);
        }
    }
}

const OPT_OUT_C: &str = r#"#include "hotpatch.h"
HOTPATCH_ALLOW_DIRECT int cache;
int plain;
int listed;
int use(void) { return ++cache + ++plain + ++listed; }
"#;

#[test]
fn annotated_and_listed_globals_keep_direct_access() {
    for clang in [19, 22] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let target = "x86_64-pc-windows-msvc";
        to_ir(d, "od.c", OPT_OUT_C, clang, target);
        // Native: the annotation means nothing to clang 22's pass.
        support::compile_ir(
            d,
            22,
            target,
            "od.ll",
            "native.obj",
            &["-mllvm", "-ms-secure-hotpatch-functions-list=use"],
        );
        assert!(Obj::read(d, "native.obj").symbols.contains("__ref_cache"));

        // Ours, through the CLI: the annotation and --allow-direct-list / -file.
        std::fs::write(d.join("direct.txt"), "listed\r\n").unwrap();
        for (flag, value) in [
            ("--allow-direct-list", "listed"),
            ("--allow-direct-file", "direct.txt"),
        ] {
            let hp = support::our_bin("hotpatch");
            support::run_ok(
                d,
                hp.to_str().unwrap(),
                &[
                    "rewrite",
                    "od.ll",
                    "-o",
                    "ours.ll",
                    "--ms-hotpatch-functions-list=use",
                    flag,
                    value,
                ],
            );
            support::compile_ir(d, clang, target, "ours.ll", "ours.obj", &[]);
            let o = Obj::read(d, "ours.obj");
            let syms = &o.symbols;
            assert!(!syms.contains("__ref_cache"), "{syms:?}");
            assert!(!syms.contains("__ref_listed"), "{flag}: {syms:?}");
            assert!(syms.contains("__ref_plain"), "{syms:?}");
            let relocs = o.code_relocation_targets();
            assert!(
                relocs.contains("cache") && relocs.contains("listed"),
                "{relocs:?}"
            );
            assert!(!relocs.contains("plain"), "{relocs:?}");
        }
    }
}

#[test]
fn mark_only_output_keeps_clang_22s_own_pass_off_thread_locals_and_opt_outs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let target = "x86_64-pc-windows-msvc";
    let src = format!("{OPT_OUT_C}\n{TLS_CPP}");
    let input = to_ir(d, "m.cpp", &src, 19, target);
    let opts = ir::Options {
        mark_only: true,
        ..Default::default()
    };
    rewrite_all(d, &input, "marked.ll", &opts);
    // clang 22 does the redirect itself from the mark.
    support::compile_ir(d, 22, target, "marked.ll", "marked.obj", &[]);
    let syms = Obj::read(d, "marked.obj").symbols;
    let refs: BTreeSet<&str> = syms
        .iter()
        .filter(|s| s.starts_with("__ref_"))
        .map(String::as_str)
        .collect();
    // No `__ref_` for the annotated global nor the thread-locals; the static locals of
    // `instance_counter` are redirected (as linkonce: clang 22's pass makes them).
    assert_eq!(
        refs,
        BTreeSet::from([
            "__ref_?plain@@3HA",
            "__ref_?listed@@3HA",
            "__ref_?c@?1??instance_counter@@YAAEAHXZ@4HA",
            "__ref_?$TSS0@?1??instance_counter@@YAAEAHXZ@4HA"
        ]),
        "{refs:?}"
    );
}

#[test]
fn unmangled_list_entries_are_reported_by_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = "struct S { int f(int); };\nint S::f(int x) { return x; }\nint measure(int a, int b) { return a + b; }\n";
    to_ir(d, "s.cpp", src, 19, "x86_64-pc-windows-msvc");
    let hp = support::our_bin("hotpatch");
    let out = support::run(
        d,
        hp.to_str().unwrap(),
        &[
            "rewrite",
            "s.ll",
            "-o",
            "out.ll",
            "--ms-hotpatch-functions-list=S::f, measure",
        ],
    );
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("' measure' has surrounding whitespace"),
        "{err}"
    );
    assert!(
        err.contains("'S::f' is not a mangled name") && err.contains("'?f@S@@QEAAHH@Z'"),
        "{err}"
    );
    assert!(
        err.contains("'measure' is not a mangled name") && err.contains("'?measure@@YAHHH@Z'"),
        "{err}"
    );
}

/// A local with `__attribute__((annotate("note", 1, "arg")))` in a hot-patched function: clang
/// puts the annotation's argument tuple (`@.args`, a constant holding a pointer) in the
/// "llvm.metadata" section, which is never emitted. clang 22's pass redirects it anyway and
/// the compile fails ("assembler label '.L.args' can not be undefined"); hotpatch-cl leaves it
/// direct and the object compiles, with its record and the real `__ref_` it needs.
#[test]
fn an_annotated_local_with_arguments_compiles() {
    const C: &str = "int counter;\nvoid use(int *);\n\
        int f(void) { __attribute__((annotate(\"note\", 1, \"arg\"))) int v = counter; \
        use(&v); return v; }\n";
    let cxx = C.replace("void use", "extern \"C\" void use");
    // The same without the annotation: what native clang 22 makes of the rest.
    let bare = |s: &str| s.replace("__attribute__((annotate(\"note\", 1, \"arg\"))) ", "");
    let d = Dir::new(&[
        ("a.c", C),
        ("a.cpp", &cxx),
        ("bare.c", &bare(C)),
        ("bare.cpp", &bare(&cxx)),
    ]);
    // A command line: compiler, target, flags, the list (our spelling or clang 22's), output.
    let cmd = |compiler: &str, target: &str, list: &str, out: &str, src: &str| -> Vec<String> {
        let list = format!("-f{list}hotpatch-functions-list=f,?f@@YAHXZ,_Z1fv");
        let mut v: Vec<String> = if compiler.starts_with("clang-cl") {
            let t = format!("--target={target}");
            [
                compiler,
                &t,
                "/c",
                "/O2",
                "/Z7",
                &list,
                &format!("/Fo{out}"),
            ]
            .map(String::from)
            .to_vec()
        } else {
            let t = format!("--target={}", target.replace("-msvc", "-gnu"));
            [
                compiler,
                &t,
                "-c",
                "-O2",
                "-g",
                "-gcodeview",
                &list,
                "-o",
                out,
            ]
            .map(String::from)
            .to_vec()
        };
        v.push(src.to_owned());
        v
    };
    let run = |v: &[String]| {
        support::run(
            d.root(),
            &v[0],
            &v[1..].iter().map(String::as_str).collect::<Vec<_>>(),
        )
    };
    let refs = |obj: &str| support::objects::ref_symbols(&d.path(obj));
    for (ext, target) in [
        ("c", "x86_64-pc-windows-msvc"),
        ("cpp", "i686-pc-windows-msvc"),
        ("c", "aarch64-pc-windows-msvc"),
        ("cpp", "aarch64-pc-windows-msvc"),
    ] {
        let (file, bare_file) = (format!("a.{ext}"), format!("bare.{ext}"));
        for compiler in ["clang-cl-22", "clang-cl-19", "clang-22"] {
            let case = format!("{file} {target} {compiler}");
            let native = compiler.replace("-19", "-22");
            // Native clang 22 fails on the annotation …
            let out = run(&cmd(&native, target, "ms-secure-", "native.obj", &file));
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{case}: clang 22 compiled it");
            assert!(err.contains(".args' can not be undefined"), "{case}: {err}");
            // … and compiles the rest.
            let out = run(&cmd(
                &native,
                target,
                "ms-secure-",
                "native.obj",
                &bare_file,
            ));
            assert!(out.status.success(), "{case}: {out:?}");
            // Ours compiles it all, to the `__ref_`s and the record native clang 22 gives the
            // function without the annotation.
            let ours = cmd(compiler, target, "ms-", "ours.obj", &file);
            d.wrap_ok(&ours.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
            assert_eq!(refs("ours.obj"), refs("native.obj"), "{case}");
            assert_eq!(refs("ours.obj").len(), 1, "{case}");
            let records = support::objects::hotpatch_records(&d.path("ours.obj"));
            let native_records = support::objects::hotpatch_records(&d.path("native.obj"));
            assert_eq!(records, native_records, "{case}");
            assert_eq!(records.len(), 1, "{case}: {records:?}");
        }
    }
}
