//! `hotpatch-cl` with the real compilers, compared with native clang-cl 22.
//!
//! Each comparison compiles the same freestanding source with `hotpatch-cl clang-cl-19`
//! (or clang-cl-22 in `HOTPATCH_MODE=rewrite`, or clang-19 in GNU mode) and with native
//! `clang-cl-22 -fms-secure-hotpatch-functions-list=…`, then checks with llvm-readobj-22 and
//! llvm-objdump-22: the same S_HOTPATCHFUNC records, the same `__ref_*` symbols defined in a
//! read-only `.rdata`, and no marked function touching a redirected global directly.

use crate::support::{self, objects};
use objects::ref_symbols;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wrapper")
}

/// A scratch directory holding copies of the fixtures (compiled at their own path there).
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        for f in std::fs::read_dir(fixtures()).unwrap() {
            let f = f.unwrap();
            std::fs::copy(f.path(), dir.path().join(f.file_name())).unwrap();
        }
        Scratch { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn p(&self, name: &str) -> String {
        self.path(name).to_str().unwrap().to_owned()
    }

    /// `hotpatch-cl ARGS…` in the scratch directory.
    fn wrap(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        support::run_hotpatch_cl(self.dir.path(), args, env)
    }

    #[track_caller]
    fn wrap_ok(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let out = self.wrap(args, env);
        assert!(
            out.status.success(),
            "hotpatch-cl {args:?} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    #[track_caller]
    fn native(&self, args: &[&str]) {
        let tool = support::tool(args[0]);
        support::run_ok(self.dir.path(), tool.to_str().unwrap(), &args[1..]);
    }
}

/// The object defines at least one `__ref_` pointer (ours: a COMDAT or a static symbol; clang
/// 22's: a weak external's `.weak.__ref_*.default.*`), and its `__ref_` pointers are read-only.
#[track_caller]
fn assert_refs_defined_read_only(obj: &Path) {
    let syms = objects::symbols(obj);
    assert!(
        syms.iter()
            .any(|(n, s)| n.contains("__ref_") && s.as_str() != "IMAGE_SYM_UNDEFINED"),
        "{} defines no __ref_ pointer: {syms:?}",
        obj.display()
    );
    objects::assert_refs_read_only(obj, &ref_symbols(obj));
}

/// Marked functions reference `__ref_G` and never `G` itself.
#[track_caller]
fn assert_no_direct_access(obj: &Path) {
    let refs = ref_symbols(obj);
    let relocs = objects::relocations_by_function(obj);
    for (_, func) in objects::hotpatch_records(obj) {
        let key = relocs
            .keys()
            .find(|k| k.trim_start_matches('_') == func.trim_start_matches('_'))
            .cloned();
        let targets = key
            .and_then(|k| relocs.get(&k).cloned())
            .unwrap_or_default();
        for r in &refs {
            let g = r.strip_prefix("__ref_").unwrap();
            assert!(
                !targets
                    .iter()
                    .any(|t| t.trim_start_matches('_') == g.trim_start_matches('_')
                        && !t.contains("__ref_")),
                "{func} references {g} directly: {targets:?}"
            );
        }
        assert!(
            targets.iter().any(|t| t.contains("__ref_")),
            "{func} uses no __ref_ pointer: {targets:?}"
        );
    }
}

/// Our object and native clang 22's agree on records and `__ref_` symbols.
#[track_caller]
fn assert_same_as_native(ours: &Path, native: &Path) {
    let a = objects::hotpatch_records(ours);
    let b = objects::hotpatch_records(native);
    assert!(!b.is_empty(), "native produced no records");
    assert_eq!(a, b, "S_HOTPATCHFUNC records");
    assert_eq!(ref_symbols(ours), ref_symbols(native), "__ref_ symbols");
    assert_refs_defined_read_only(ours);
    assert_no_direct_access(ours);
}

const C_LIST: &str = "bump,other";

/// GNU mode with CodeView debug info.
const GNU_G: [&str; 3] = ["--target=x86_64-w64-windows-gnu", "-g", "-gcodeview"];
const CPP_LIST: &str = "?f@S@@QEAAHH@Z";

/// `COMPILER /c /Z7 /O2 /Brepro /hotpatch LISTFLAG=LIST /FoOUT EXTRA… -- SRC`: the one
/// command line both the native and the wrapped compiles use.
fn cl_args(
    s: &Scratch,
    compiler: &str,
    list_flag: &str,
    list: &str,
    out: &str,
    src: &str,
    extra: &[&str],
) -> Vec<String> {
    let mut args: Vec<String> = [compiler, "/c", "/Z7", "/O2", "/Brepro", "/hotpatch"]
        .map(String::from)
        .into();
    args.push(format!("{list_flag}={list}"));
    args.push(format!("/Fo{}", s.p(out)));
    args.extend(extra.iter().map(|e| e.to_string()));
    args.extend(["--".to_string(), s.p(src)]);
    args
}

fn native_cl(s: &Scratch, src: &str, list: &str, out: &str, extra: &[&str]) {
    let args = cl_args(
        s,
        "clang-cl-22",
        "-fms-secure-hotpatch-functions-list",
        list,
        out,
        src,
        extra,
    );
    s.native(&args.iter().map(String::as_str).collect::<Vec<_>>());
}

fn wrapped_cl(
    s: &Scratch,
    compiler: &str,
    src: &str,
    list: &str,
    out: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Output {
    let args = cl_args(
        s,
        compiler,
        "-fms-hotpatch-functions-list",
        list,
        out,
        src,
        extra,
    );
    s.wrap_ok(&args.iter().map(String::as_str).collect::<Vec<_>>(), env)
}

/// `src` with `list` through `hotpatch-cl COMPILER` (with `env`) into ours.obj and through
/// native clang-cl 22 into native.obj; the two must agree ([`assert_same_as_native`]).
/// Returns the wrapper's output.
fn matches_native(
    s: &Scratch,
    compiler: &str,
    src: &str,
    list: &str,
    env: &[(&str, &str)],
) -> Output {
    let out = wrapped_cl(s, compiler, src, list, "ours.obj", &[], env);
    native_cl(s, src, list, "native.obj", &[]);
    assert_same_as_native(&s.path("ours.obj"), &s.path("native.obj"));
    out
}

/// hot.c through `hotpatch-cl clang-cl-22` with `HOTPATCH_VERBOSE=1` and `env`, checked by
/// [`matches_native`]; returns the wrapper's stderr and the commands it says it ran.
fn clang_cl_22_runs(s: &Scratch, env: &[(&str, &str)]) -> (String, Vec<String>) {
    let env = [&[("HOTPATCH_VERBOSE", "1")], env].concat();
    let out = matches_native(s, "clang-cl-22", "hot.c", C_LIST, &env);
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    // The `-###` dry run that asks the driver for the object's name (so the staging file
    // does not show in S_OBJNAME) writes nothing and compiles nothing: not a run here.
    let runs = log
        .lines()
        .filter(|l| l.starts_with("hotpatch-cl: ") && !l.split_whitespace().any(|w| w == "-###"))
        .map(str::to_owned)
        .collect();
    (log, runs)
}

/// Runs `plain` with the real compiler and `wrapped` through hotpatch-cl in `s`: both must
/// write the same `file`.
#[track_caller]
fn same_file_as_plain(s: &Scratch, plain: &[&str], wrapped: &[&str], file: &str) {
    s.native(plain);
    let expected = std::fs::read(s.path(file)).unwrap();
    std::fs::remove_file(s.path(file)).unwrap();
    s.wrap_ok(wrapped, &[]);
    assert_eq!(
        std::fs::read(s.path(file)).unwrap(),
        expected,
        "{file} differs from the plain compiler's"
    );
}

#[test]
fn c_with_clang_cl_19_matches_native_clang_cl_22() {
    let s = Scratch::new();
    matches_native(&s, "clang-cl-19", "hot.c", C_LIST, &[]);
    let names: Vec<_> = objects::hotpatch_records(&s.path("ours.obj"))
        .into_iter()
        .map(|r| r.1)
        .collect();
    assert_eq!(names, ["bump", "other"]);
}

#[test]
fn cpp_with_clang_cl_19_matches_native_clang_cl_22() {
    let s = Scratch::new();
    matches_native(&s, "clang-cl-19", "hot.cpp", CPP_LIST, &[]);
}

#[test]
fn rewrite_mode_with_clang_cl_22_matches_native() {
    let s = Scratch::new();
    for (src, list) in [("hot.c", C_LIST), ("hot.cpp", CPP_LIST)] {
        matches_native(
            &s,
            "clang-cl-22",
            src,
            list,
            &[("HOTPATCH_MODE", "rewrite")],
        );
        assert!(
            !objects::symbols(&s.path("ours.obj"))
                .keys()
                .any(|k| k.contains("__ref___ref_")),
            "redirected twice"
        );
    }
}

#[test]
fn native_mode_with_clang_cl_22_hands_the_flags_to_the_compiler() {
    // Native clang 22 is not byte-deterministic with hot-patching on (the order of its
    // redirect loads varies from run to run), so compare what matters and the command.
    let s = Scratch::new();
    let (log, runs) = clang_cl_22_runs(&s, &[("HOTPATCH_MODE", "native")]);
    assert_eq!(runs.len(), 2, "a version probe and one compile: {log}");
    assert!(
        runs[1].contains(&format!(" -fms-secure-hotpatch-functions-list={C_LIST} ")),
        "{log}"
    );
    assert!(!runs[1].contains("emit-llvm"), "{log}");
}

#[test]
fn auto_mode_with_clang_cl_22_takes_the_rewrite_for_a_unit_that_defines_listed_functions() {
    let s = Scratch::new();
    let (log, runs) = clang_cl_22_runs(&s, &[]);
    // No version probe, no routing probe (the source defines the listed functions in its
    // text): the IR step, code generation.
    assert_eq!(runs.len(), 2, "{log}");
    assert!(runs[0].contains("/clang:-emit-llvm"), "{log}");
    assert!(runs[1].contains("-disable-llvm-optzns"), "{log}");
    assert!(
        !runs.iter().any(|r| r.contains("hotpatch-functions")),
        "the compiler never sees the list: {log}"
    );
}

#[test]
fn x86_and_arm64_targets_match_native() {
    let s = Scratch::new();
    for target in [
        "--target=i686-pc-windows-msvc",
        "--target=aarch64-pc-windows-msvc",
    ] {
        wrapped_cl(
            &s,
            "clang-cl-19",
            "hot.c",
            C_LIST,
            "ours.obj",
            &[target],
            &[],
        );
        native_cl(&s, "hot.c", C_LIST, "native.obj", &[target]);
        let a = objects::hotpatch_records(&s.path("ours.obj"));
        assert_eq!(
            a,
            objects::hotpatch_records(&s.path("native.obj")),
            "{target}"
        );
        assert_eq!(a.len(), 2, "{target}: {a:?}");
        assert_eq!(
            ref_symbols(&s.path("ours.obj")),
            ref_symbols(&s.path("native.obj")),
            "{target}"
        );
        assert_refs_defined_read_only(&s.path("ours.obj"));
        assert_no_direct_access(&s.path("ours.obj"));
    }
}

/// `COMPILER` in GNU mode with debug info and `list` on hot.c, to `out`.
fn gnu_args<'a>(compiler: &'a str, list: &'a str, out: &'a str) -> Vec<&'a str> {
    [
        &[compiler][..],
        &GNU_G,
        &["-O2", "-c", list, "hot.c", "-o", out],
    ]
    .concat()
}

#[test]
fn gnu_mode_with_clang_19_matches_native_clang_22() {
    let s = Scratch::new();
    let list = format!("-fms-hotpatch-functions-list={C_LIST}");
    s.wrap_ok(&gnu_args("clang-19", &list, "ours.o"), &[]);
    let list = format!("-fms-secure-hotpatch-functions-list={C_LIST}");
    s.native(&gnu_args("clang-22", &list, "native.o"));
    assert_same_as_native(&s.path("ours.o"), &s.path("native.o"));
}

#[test]
fn several_sources_into_an_fo_directory_in_parallel() {
    let s = Scratch::new();
    std::fs::create_dir(s.path("objs")).unwrap();
    let (a, b) = (s.p("hot.c"), s.p("second.c"));
    s.wrap_ok(
        &[
            "clang-cl-19",
            "/c",
            "/Z7",
            "/O2",
            "/MP2",
            "-fms-hotpatch-functions-list=bump,second",
            "/Foobjs/",
            "--",
            &a,
            &b,
        ],
        &[],
    );
    assert_eq!(objects::hotpatch_records(&s.path("objs/hot.obj")).len(), 1);
    assert_eq!(
        objects::hotpatch_records(&s.path("objs/second.obj"))[0].1,
        "second"
    );
    assert_no_direct_access(&s.path("objs/second.obj"));
}

#[test]
fn compile_and_link_produces_the_executable() {
    let s = Scratch::new();
    // clang-cl looks the linker up on PATH by this name.
    support::tool("lld-link-22");
    let (a, b) = (s.p("hot.c"), s.p("second.c"));
    // hot.c and second.c compiled and linked freestanding, `outputs` naming where to.
    let build = |outputs: &[&str]| {
        let mut args = vec![
            "clang-cl-19",
            "/Z7",
            "/O2",
            "/GS-",
            "/Zl",
            "-fuse-ld=lld-link-22",
        ];
        args.extend(outputs);
        args.extend([
            "-fms-hotpatch-functions-list=bump,second",
            "--",
            &a,
            &b,
            "/link",
            "/nodefaultlib",
            "/entry:main",
            "/subsystem:console",
        ]);
        s.wrap_ok(&args, &[]);
    };
    build(&[]);
    assert!(
        s.path("hot.exe").is_file(),
        "hot.exe named after the first source"
    );
    assert!(
        !s.path("hot.obj").exists() && !s.path("second.obj").exists(),
        "objects are temporaries when linking"
    );
    let headers = support::run_ok(
        s.dir.path(),
        "llvm-readobj-22",
        &["--file-headers", "hot.exe"],
    );
    assert!(headers.contains("IMAGE_FILE_MACHINE_AMD64"), "{headers}");
    // With /Fo a directory, clang-cl keeps the objects there; so do we.
    std::fs::create_dir(s.path("objs")).unwrap();
    build(&["/Foobjs/", "/Feapp.exe"]);
    assert!(s.path("app.exe").is_file());
    assert_eq!(
        objects::hotpatch_records(&s.path("objs/second.obj"))[0].1,
        "second"
    );
}

#[test]
fn hotpatch_flags_in_a_response_file_give_the_same_object() {
    let s = Scratch::new();
    wrapped_cl(&s, "clang-cl-19", "hot.c", C_LIST, "direct.obj", &[], &[]);
    std::fs::write(
        s.path("flags.rsp"),
        format!(
            "/c /Z7 /O2 /Brepro /hotpatch \"-fms-hotpatch-functions-list={C_LIST}\" /Fo{} -- {}",
            s.p("direct.obj"),
            s.p("hot.c")
        ),
    )
    .unwrap();
    let first = std::fs::read(s.path("direct.obj")).unwrap();
    std::fs::remove_file(s.path("direct.obj")).unwrap();
    s.wrap_ok(&["clang-cl-19", "@flags.rsp"], &[]);
    assert_eq!(std::fs::read(s.path("direct.obj")).unwrap(), first);
}

#[cfg(unix)]
#[test]
fn masquerade_through_a_symlink_on_path() {
    let s = Scratch::new();
    let shim = s.path("shim");
    let real = s.path("real");
    std::fs::create_dir_all(&shim).unwrap();
    std::fs::create_dir_all(&real).unwrap();
    std::os::unix::fs::symlink(support::our_bin("hotpatch-cl"), shim.join("clang-cl")).unwrap();
    std::os::unix::fs::symlink(support::tool("clang-cl-19"), real.join("clang-cl")).unwrap();
    let path = std::env::join_paths([shim.clone(), real]).unwrap();
    let src = s.p("hot.c");
    support::command_ok(
        Command::new(shim.join("clang-cl"))
            .current_dir(s.dir.path())
            .env("PATH", path)
            .args([
                "/c",
                "/Z7",
                "/O2",
                "-fms-hotpatch-functions-list=bump",
                "/Foours.obj",
                "--",
                &src,
            ]),
    );
    assert_eq!(objects::hotpatch_records(&s.path("ours.obj")).len(), 1);
}

#[test]
fn passthrough_is_byte_identical_to_the_plain_compiler() {
    let s = Scratch::new();
    let src = s.p("hot.c");
    let args = [
        "clang-cl-19",
        "/c",
        "/Z7",
        "/O2",
        "/Brepro",
        "/Fox.obj",
        "--",
        &src,
    ];
    same_file_as_plain(&s, &args, &args, "x.obj");
}

#[test]
fn brepro_objects_do_not_depend_on_the_temporary_directory() {
    let s = Scratch::new();
    let mut objects = Vec::new();
    for t in ["t1", "t2-longer-name"] {
        let tmp = s.path(t);
        std::fs::create_dir_all(&tmp).unwrap();
        wrapped_cl(
            &s,
            "clang-cl-19",
            "hot.c",
            C_LIST,
            "r.obj",
            &[],
            &[("TMPDIR", tmp.to_str().unwrap())],
        );
        objects.push(std::fs::read(s.path("r.obj")).unwrap());
        assert_eq!(
            std::fs::read_dir(&tmp).unwrap().count(),
            0,
            "temporaries removed"
        );
    }
    assert_eq!(objects[0], objects[1]);
    let names = support::run_ok(s.dir.path(), "llvm-readobj-22", &["--codeview", "r.obj"]);
    assert!(
        names.contains(&format!("ObjectName: {}", s.p("r.obj"))),
        "S_OBJNAME names the final path"
    );
}

#[test]
fn a_compile_error_is_relayed_and_leaves_no_object() {
    let s = Scratch::new();
    let src = s.p("broken.c");
    let out = s.wrap(
        &[
            "clang-cl-19",
            "/c",
            "/hotpatch",
            "-fms-hotpatch-functions-list=broken",
            "/Fobroken.obj",
            "--",
            &src,
        ],
        &[],
    );
    let plain = support::run(
        s.dir.path(),
        "clang-cl-19",
        &["/c", "/hotpatch", "/Foplain.obj", "--", &src],
    );
    assert_eq!(out.status.code(), plain.status.code());
    assert_eq!(out.stderr, plain.stderr, "diagnostics unchanged");
    assert!(!s.path("broken.obj").exists());
}

#[test]
fn emit_llvm_gives_marked_ir_and_fa_gives_the_rewritten_assembly() {
    let s = Scratch::new();
    let src = s.p("hot.c");
    // hot.c with `bump` listed, compiled with `flags`.
    let compile = |flags: &[&str]| {
        let args = [
            &[
                "clang-cl-19",
                "/c",
                "/O2",
                "-fms-hotpatch-functions-list=bump",
            ],
            flags,
            &["--", &src],
        ];
        s.wrap_ok(&args.concat(), &[]);
    };
    compile(&["/clang:-S", "/clang:-emit-llvm", "/clang:-ohot.ll"]);
    let ir = std::fs::read_to_string(s.path("hot.ll")).unwrap();
    assert!(ir.contains("marked_for_windows_hot_patching"), "{ir}");
    assert!(!ir.contains("__ref_"), "mark only");
    compile(&["/FA"]);
    let asm = std::fs::read_to_string(s.path("hot.asm")).unwrap();
    assert!(asm.contains("__ref_counter"), "{asm}");
    assert!(s.path("hot.obj").is_file());
}

#[test]
fn dependency_files_match_the_plain_compiler() {
    let s = Scratch::new();
    let gnu = [&GNU_G[..], &["-c", "-MD", "-o", "dep.o", "hot.c"]].concat();
    same_file_as_plain(
        &s,
        &[&["clang-19"], &gnu[..]].concat(),
        &[&["clang-19", "-fms-hotpatch-functions-list=bump"], &gnu[..]].concat(),
        "dep.d",
    );
    let src = s.p("hot.c");
    let cl = ["/c", "/Z7", "/clang:-MD", "/Focl.obj", "--", src.as_str()];
    same_file_as_plain(
        &s,
        &[&["clang-cl-19"], &cl[..]].concat(),
        &[
            &["clang-cl-19", "-fms-hotpatch-functions-list=bump"],
            &cl[..],
        ]
        .concat(),
        "hot.d",
    );
}

#[test]
fn precompiled_headers_yc_then_yu() {
    let s = Scratch::new();
    // `/Yc` or `/Yu` of pch.h in pch.pch, compiling `src`.
    let compile = |use_flag: &str, src: &str| {
        let src = s.p(src);
        s.wrap_ok(
            &[
                "clang-cl-19",
                "/c",
                "/Z7",
                "/O2",
                use_flag,
                "/Fppch.pch",
                "-fms-hotpatch-functions-list=pchfn,usep",
                "--",
                &src,
            ],
            &[],
        );
    };
    compile("/Ycpch.h", "pch.c");
    assert!(
        s.path("pch.pch").is_file(),
        "/Yc still writes the precompiled header"
    );
    compile("/Yupch.h", "usep.c");
    assert_eq!(objects::hotpatch_records(&s.path("pch.obj"))[0].1, "pchfn");
    assert_eq!(objects::hotpatch_records(&s.path("usep.obj"))[0].1, "usep");
    assert_no_direct_access(&s.path("pch.obj"));
    assert_no_direct_access(&s.path("usep.obj"));
}

/// `/Yc`'s plain run (which makes the precompiled header) writes its object to a staging
/// file, never to the user's path: a unit that needs records is never seen there without
/// them, even if the wrapper is killed. A unit that defines no listed function (auto mode)
/// then gets that plain object, byte for byte clang-cl's, and the header is clang-cl's too.
#[test]
fn yc_stages_its_plain_object_and_publishes_it_only_when_no_records_are_needed() {
    let s = Scratch::new();
    let src = s.p("pch.c");
    let common = ["/c", "/Z7", "/O2", "/Brepro", "/Ycpch.h", "/Fppch.pch"];
    s.native(&[&["clang-cl-19"], &common[..], &["--", &src]].concat());
    std::fs::rename(s.path("pch.obj"), s.path("native.obj")).unwrap();
    std::fs::rename(s.path("pch.pch"), s.path("native.pch")).unwrap();
    for (list, records) in [("usep", 0), ("pchfn,usep", 1)] {
        let flag = format!("-fms-hotpatch-functions-list={list}");
        let out = s.wrap_ok(
            &[&["clang-cl-19", flag.as_str()], &common[..], &["--", &src]].concat(),
            &[("HOTPATCH_VERBOSE", "1")],
        );
        let log = String::from_utf8_lossy(&out.stderr);
        let yc_runs: Vec<&str> = log
            .lines()
            .filter(|l| l.starts_with("hotpatch-cl: ") && l.contains("/Ycpch.h"))
            .filter(|l| !l.contains(" -### "))
            .collect();
        assert_eq!(yc_runs.len(), 1, "{list}: {log}");
        let fo = yc_runs[0]
            .split_whitespace()
            .find(|w| w.starts_with("/Fo"))
            .unwrap_or_else(|| panic!("{list}: no /Fo in {}", yc_runs[0]));
        assert!(
            fo.contains(".hotpatch-pch.obj."),
            "{list}: /Yc's plain run writes {fo}, not a staging file"
        );
        assert!(
            std::fs::read(s.path("pch.pch")).unwrap()
                == std::fs::read(s.path("native.pch")).unwrap(),
            "{list}: the precompiled header is clang-cl's"
        );
        assert_eq!(
            objects::hotpatch_records(&s.path("pch.obj")).len(),
            records,
            "{list}"
        );
        if records == 0 {
            assert!(
                std::fs::read(s.path("pch.obj")).unwrap()
                    == std::fs::read(s.path("native.obj")).unwrap(),
                "{list}: not clang-cl's /Yc object"
            );
        } else {
            assert_eq!(object_name(&s, "pch.obj"), object_name(&s, "native.obj"));
        }
        let staged: Vec<String> = std::fs::read_dir(s.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".hotpatch-"))
            .collect();
        assert!(staged.is_empty(), "{list}: {staged:?}");
        std::fs::remove_file(s.path("pch.obj")).unwrap();
        std::fs::remove_file(s.path("pch.pch")).unwrap();
    }

    // In a job of several sources clang-cl ignores `/Yc` (with a warning): no header, and
    // the untouched unit's object is clang-cl's, though each source is compiled on its own.
    let usep = s.p("usep.c");
    let several = [&common[..], &["/MP2", "--", &src, &usep]].concat();
    s.native(&[&["clang-cl-19"][..], &several].concat());
    std::fs::rename(s.path("usep.obj"), s.path("native.obj")).unwrap();
    s.wrap_ok(
        &[
            &["clang-cl-19", "-fms-hotpatch-functions-list=pchfn"][..],
            &several,
        ]
        .concat(),
        &[],
    );
    assert!(
        !s.path("pch.pch").exists(),
        "a header from a /Yc clang-cl ignores"
    );
    assert!(
        std::fs::read(s.path("usep.obj")).unwrap() == std::fs::read(s.path("native.obj")).unwrap(),
        "several sources with /Yc: not clang-cl's object for the untouched unit"
    );
    assert_eq!(objects::hotpatch_records(&s.path("pch.obj"))[0].1, "pchfn");
}

/// The `S_OBJNAME` line of an object (`llvm-readobj-22 --codeview`).
fn object_name(s: &Scratch, obj: &str) -> String {
    let view = support::run_ok(
        s.dir.path(),
        "llvm-readobj-22",
        &["--codeview", s.p(obj).as_str()],
    );
    view.lines()
        .find(|l| l.trim_start().starts_with("ObjectName:"))
        .unwrap_or_else(|| panic!("{obj}: no S_OBJNAME"))
        .trim()
        .to_owned()
}

/// Objects are written under a staging name and renamed over the user's path, yet they name
/// the user's path in S_OBJNAME however it is spelled (a `/Fo` file or directory, `-o`, `..`,
/// a relative compilation directory, which clang then records as a relative Windows path), so
/// a routed unit's object is byte for byte the plain compile's (its LF_BUILDINFO records the
/// dependency target too) and a hot-patched one names what the plain compile names.
#[test]
fn objects_name_the_users_path_however_it_is_spelled() {
    let s = Scratch::new();
    std::fs::create_dir_all(s.path("o")).unwrap();
    let forms: [&[&str]; 6] = [
        &["/Foo/x.obj"],
        &["/Foo/", "/clang:-MD"],
        &["/Fo./o/../o/y.obj"],
        &["-o", "o/z.obj"],
        &["/Foo/w.obj", "/clang:-fdebug-compilation-dir=."],
        &["/Foo/", "/clang:-ffile-compilation-dir=.", "/clang:-MD"],
    ];
    for form in forms {
        // `second.c` defines no listed function: auto mode keeps the plain compile's object.
        for (src, list, mode) in [("second.c", C_LIST, "auto"), ("hot.c", C_LIST, "rewrite")] {
            let mut args = vec!["/c", "/Z7", "/Brepro", "/hotpatch", src];
            args.extend_from_slice(form);
            s.native(&[&["clang-cl-19"], &args[..]].concat());
            let objs: Vec<String> = std::fs::read_dir(s.path("o"))
                .unwrap()
                .map(|e| format!("o/{}", e.unwrap().file_name().to_string_lossy()))
                .collect();
            assert_eq!(objs.len(), 1, "{form:?}: {objs:?}");
            let obj = objs[0].clone();
            let plain = std::fs::read(s.path(&obj)).unwrap();
            let plain_name = object_name(&s, &obj);
            let dep =
                std::fs::read_to_string(s.path(&format!("{}.d", src.trim_end_matches(".c")))).ok();
            std::fs::remove_file(s.path(&obj)).unwrap();
            let flag = format!("-fms-hotpatch-functions-list={list}");
            let mut wrapped = vec!["clang-cl-19", flag.as_str()];
            wrapped.extend_from_slice(&args);
            s.wrap_ok(&wrapped, &[("HOTPATCH_MODE", mode)]);
            assert_eq!(object_name(&s, &obj), plain_name, "{src} {form:?}");
            if mode == "auto" {
                assert!(
                    std::fs::read(s.path(&obj)).unwrap() == plain,
                    "{src} {form:?}: not the plain compile's object"
                );
                if let Some(dep) = dep {
                    // The same target and prerequisites (no list file here to join them).
                    let ours =
                        std::fs::read_to_string(s.path(&format!("{}.d", &src[..src.len() - 2])))
                            .unwrap();
                    assert_eq!(ours, dep, "{src} {form:?}");
                }
            } else {
                assert_eq!(
                    objects::hotpatch_records(&s.path(&obj)).len(),
                    2,
                    "{form:?}"
                );
            }
            let left: Vec<String> = std::fs::read_dir(s.path("o"))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            assert_eq!(left.len(), 1, "{src} {form:?}: {left:?}");
            std::fs::remove_file(s.path(&obj)).unwrap();
        }
    }
}
