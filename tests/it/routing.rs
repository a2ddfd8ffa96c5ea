//! Exact routing through `hotpatch-cl` with the real compilers, in both drivers
//! (`clang-cl-19`, and `clang-19 --target=x86_64-w64-windows-gnu`):
//! - a unit that defines none of the listed functions gets the plain compile's object, byte
//!   for byte, also when the object an earlier build left at the output path (the routing
//!   hint) says otherwise, and in a job of several sources;
//! - a unit that defines one takes the pipeline: a static function, a C++ inline function
//!   and a template instantiated from a header get their `S_HOTPATCHFUNC`;
//! - jobs that make no object (`-E`, `-fsyntax-only`, `-M`, `/E`, `/Zs`, `/clang:-M`) run
//!   with the hot-patch flags removed and print what the plain compiler prints (preprocessed
//!   output behind the list files' cache key).
use crate::support::{self, objects, Dir};

use std::path::Path;

const LISTED_C: &str = "int counter;\n\
static __declspec(noinline) int helper(int x) { return x + counter++; }\n\
int api(int x) { return helper(x) * 2; }\n";

const UNTOUCHED_C: &str = "int total;\nint other(int x) { total += x; return total * 3; }\n";

const INL_H: &str = "inline __declspec(noinline) int twice(int x) { return 2 * x; }\n\
template <class T> __declspec(noinline) T scaled(T x) { return x * 3; }\n";

const USES_HEADER_CPP: &str =
    "#include \"inl.h\"\nint entry(int x) { return twice(x) + scaled<int>(x); }\n";

/// The GNU-mode flags of these tests.
const GNU: &[&str] = &[
    "--target=x86_64-w64-windows-gnu",
    "-O2",
    "-g",
    "-gcodeview",
    "-fms-hotpatch",
    "-c",
];

/// The clang-cl flags of these tests (`/Brepro`: clang-cl otherwise stamps the time).
const CL: &[&str] = &["/c", "/O2", "/Z7", "/hotpatch", "/Brepro"];

/// `compiler FLAGS… -o/Fo OUT SRC` for the driver of `compiler`.
fn command<'a>(
    compiler: &'a str,
    list: Option<&'a str>,
    src: &'a str,
    out: &'a str,
) -> Vec<String> {
    let cl = compiler.starts_with("clang-cl");
    let mut v: Vec<String> = vec![compiler.into()];
    v.extend(if cl { CL } else { GNU }.iter().map(|s| s.to_string()));
    if let Some(l) = list {
        v.push(format!("-fms-hotpatch-functions-list={l}"));
    }
    if cl {
        v.push(format!("/Fo{out}"));
    } else {
        v.extend(["-o".into(), out.into()]);
    }
    v.push(src.into());
    v
}

/// Compiles `src` plainly to `out`, renames it to `reference`, and returns its bytes.
fn plain_reference(d: &Dir, compiler: &str, src: &str, out: &str) -> Vec<u8> {
    let argv = command(compiler, None, src, out);
    let args: Vec<&str> = argv.iter().skip(1).map(String::as_str).collect();
    support::run_ok(d.root(), compiler, &args);
    let bytes = d.read(out);
    std::fs::remove_file(d.path(out)).unwrap();
    bytes
}

fn wrap_compile(d: &Dir, compiler: &str, list: &str, src: &str, out: &str) {
    let argv = command(compiler, Some(list), src, out);
    let args: Vec<&str> = argv.iter().map(String::as_str).collect();
    d.wrap_ok(&args, &[]);
}

fn record_names(obj: &Path) -> Vec<String> {
    objects::hotpatch_records(obj)
        .into_iter()
        .map(|(_, name)| name)
        .collect()
}

#[test]
fn untouched_units_are_byte_identical_to_the_plain_compile_in_both_drivers() {
    for (compiler, ext) in [("clang-cl-19", "obj"), ("clang-19", "o")] {
        let d = Dir::new(&[("u.c", UNTOUCHED_C), ("l.c", LISTED_C)]);
        let out = format!("u.{ext}");
        let reference = plain_reference(&d, compiler, "u.c", &out);

        // No object yet: the probe decides.
        wrap_compile(&d, compiler, "api,helper", "u.c", &out);
        assert!(
            d.read(&out) == reference,
            "{compiler}: an untouched unit's object is the plain compile's"
        );

        // An object that defines a listed function sits at the output path (the source has
        // changed since): the hint says "pipeline", the check after says otherwise.
        wrap_compile(&d, compiler, "api,helper", "l.c", &out);
        assert_eq!(record_names(&d.path(&out)), ["api", "helper"], "{compiler}");
        wrap_compile(&d, compiler, "api,helper", "u.c", &out);
        assert!(
            d.read(&out) == reference,
            "{compiler}: a misleading hint does not change the object"
        );

        // And the other way: a plain object at the path, a unit that now defines `other`.
        wrap_compile(&d, compiler, "other", "u.c", &out);
        assert_eq!(record_names(&d.path(&out)), ["other"], "{compiler}");
    }
}

/// A job of several sources is routed source by source, as a job of one is: each plain
/// compile is of its own source only (so no unit's plain object reaches its path before it
/// is known to need no records), and an untouched unit's object is still the plain compile's,
/// byte for byte, in both drivers and under `/MP`.
#[test]
fn one_job_of_several_sources_compiles_only_the_listed_units_through_the_pipeline() {
    for (compiler, ext) in [("clang-cl-19", "obj"), ("clang-19", "o")] {
        let cl = ext == "obj";
        let d = Dir::new(&[
            ("u.c", UNTOUCHED_C),
            ("l.c", LISTED_C),
            ("u2.c", UNTOUCHED_C),
        ]);
        std::fs::create_dir(d.path("hot")).unwrap();
        let flags = if cl { CL } else { GNU };
        let mut args = vec![compiler, "-fms-hotpatch-functions-list=api"];
        args.extend(flags);
        if cl {
            args.extend(["/MP2", "/Fohot/"]);
        }
        args.extend(["u.c", "l.c", "u2.c"]);
        let o = d.wrap(&args, &[("HOTPATCH_VERBOSE", "1")]);
        let log = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{compiler}: {log}");
        // The compiles, without the `-###` dry runs: one plain compile per untouched unit,
        // naming its source alone; the listed unit goes straight to the pipeline.
        let mut plain: Vec<Vec<&str>> = log
            .lines()
            .filter(|l| l.starts_with("hotpatch-cl: ") && !l.contains(" -### "))
            .filter(|l| !l.contains("-emit-llvm") && !l.contains("-disable-llvm-optzns"))
            .map(|l| l.split_whitespace().filter(|w| w.ends_with(".c")).collect())
            .collect();
        plain.sort();
        assert_eq!(plain, [["u.c"], ["u2.c"]], "{compiler}: {log}");

        let dir = if cl { "hot/" } else { "" };
        for unit in ["u", "u2"] {
            let obj = format!("{dir}{unit}.{ext}");
            std::fs::rename(d.path(&obj), d.path("wrapped")).unwrap();
            // The reference: the plain compile of the same unit to the same path (objects
            // record it).
            let mut reference: Vec<String> = flags.iter().map(|s| s.to_string()).collect();
            if cl {
                reference.push("/Fohot/".into());
            }
            reference.push(format!("{unit}.c"));
            let reference: Vec<&str> = reference.iter().map(String::as_str).collect();
            support::run_ok(d.root(), compiler, &reference);
            assert!(
                d.read("wrapped") == d.read(&obj),
                "{compiler}: the untouched unit {unit}.c of a several-source job is the plain compile's object"
            );
        }
        assert_eq!(
            record_names(&d.path(&format!("{dir}l.{ext}"))),
            ["api"],
            "{compiler}"
        );
        // No staging file left behind.
        let mut left: Vec<String> = std::fs::read_dir(d.path(if cl { "hot" } else { "." }))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        left.sort();
        assert!(left.is_empty(), "{compiler}: {left:?}");
    }
}

#[test]
fn a_static_listed_function_routes_its_unit_to_the_pipeline() {
    for (compiler, out) in [("clang-cl-19", "l.obj"), ("clang-19", "l.o")] {
        let d = Dir::new(&[("l.c", LISTED_C)]);
        wrap_compile(&d, compiler, "helper", "l.c", out);
        assert_eq!(record_names(&d.path(out)), ["helper"], "{compiler}");
        let syms = objects::symbols(&d.path(out));
        assert!(syms.contains_key("__ref_counter"), "{compiler}: {syms:?}");
    }
}

#[test]
fn inline_and_template_functions_from_a_header_route_their_unit_to_the_pipeline() {
    let cases = [
        (
            "clang-cl-19",
            "e.obj",
            "?twice@@YAHH@Z",
            "??$scaled@H@@YAHH@Z",
        ),
        ("clang-19", "e.o", "_Z5twicei", "_Z6scaledIiET_S0_"),
    ];
    for (compiler, out, inline_fn, template_fn) in cases {
        let d = Dir::new(&[("inl.h", INL_H), ("e.cpp", USES_HEADER_CPP)]);
        // A list naming only the header's functions: the unit defines them (COMDATs).
        let list = format!("{inline_fn},{template_fn}");
        wrap_compile(&d, compiler, &list, "e.cpp", out);
        let mut names = record_names(&d.path(out));
        names.sort();
        let mut want = vec![inline_fn.to_owned(), template_fn.to_owned()];
        want.sort();
        assert_eq!(names, want, "{compiler}");
    }
}

#[test]
fn jobs_that_make_no_object_run_without_the_hotpatch_flags_in_both_drivers() {
    let d = Dir::new(&[("l.c", LISTED_C), ("hot.txt", "api\n")]);
    let file = format!(
        "-fms-secure-hotpatch-functions-file={}",
        d.path("hot.txt").display()
    );
    let gnu = "--target=x86_64-w64-windows-gnu";
    let cases: &[(&str, &[&str])] = &[
        ("clang-19", &[gnu, "-E", "l.c"]),
        ("clang-19", &[gnu, "-fsyntax-only", "l.c"]),
        ("clang-19", &[gnu, "-M", "l.c"]),
        ("clang-19", &[gnu, "-MM", "l.c"]),
        ("clang-cl-19", &["/E", "l.c"]),
        ("clang-cl-19", &["/Zs", "l.c"]),
        ("clang-cl-19", &["-fsyntax-only", "l.c"]),
        ("clang-cl-19", &["/clang:-M", "l.c"]),
    ];
    for (compiler, args) in cases {
        let plain = support::run(d.root(), compiler, args);
        assert!(plain.status.success(), "{compiler} {args:?}");
        let mut wrapped = vec![
            *compiler,
            file.as_str(),
            "-fms-hotpatch-allow-direct-list=x",
        ];
        wrapped.extend(*args);
        let out = d.wrap(&wrapped, &[]);
        assert!(
            out.status.success(),
            "hotpatch-cl {wrapped:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got = String::from_utf8_lossy(&out.stdout);
        let want = String::from_utf8_lossy(&plain.stdout);
        let preprocessing = args.iter().any(|a| *a == "-E" || *a == "/E");
        if preprocessing {
            // The plain compiler's output behind the cache key (docs/wrapper.md, "Caches in
            // front of the wrapper"): a line marker naming the list file, then one naming the
            // digest of the lists' content.
            let extra = got
                .strip_suffix(want.as_ref())
                .unwrap_or_else(|| panic!("{compiler} {args:?}: {got}"));
            let lines: Vec<&str> = extra.lines().collect();
            assert_eq!(lines.len(), 3, "{compiler} {args:?}: {extra}");
            assert!(lines[1].ends_with("hot.txt\""), "{extra}");
            assert!(lines[2].starts_with("# 1 \"<hotpatch-cl lists "), "{extra}");
        } else {
            assert_eq!(
                got, want,
                "{compiler} {args:?}: the plain compiler's output"
            );
        }
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The compiler runs `hotpatch-cl` made for one compile (HOTPATCH_VERBOSE's log), each as
/// the step it is: `probe`, `plain`, `ir` or `codegen`.
fn steps(d: &Dir, compiler: &str, list: &str, src: &str, out: &str) -> Vec<&'static str> {
    let argv = command(compiler, Some(list), src, out);
    let args: Vec<&str> = argv.iter().map(String::as_str).collect();
    let o = d.wrap(&args, &[("HOTPATCH_VERBOSE", "1")]);
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{argv:?}: {log}");
    // The `-###` dry runs (the object's name for S_OBJNAME) compile nothing.
    log.lines()
        .filter(|l| l.starts_with("hotpatch-cl: ") && !l.split_whitespace().any(|w| w == "-###"))
        .map(|l| {
            if l.contains("-disable-llvm-passes") {
                "probe"
            } else if l.contains("-disable-llvm-optzns") {
                "codegen"
            } else if l.contains("-emit-llvm") {
                "ir"
            } else {
                "plain"
            }
        })
        .collect()
}

/// From a clean output the source's own text is the first hint (`source_hint.rs`): a listed
/// function defined in the text goes straight to the pipeline, a C unit that only calls one
/// or never names one compiles plainly, a C++ unit that calls one may get it from a header
/// and asks the probe. A wrong guess costs a second compile, never the object: a definition
/// the text hides behind a macro is found in the plain object and the pipeline follows.
#[test]
fn the_source_text_picks_the_first_compile_and_the_object_has_the_last_word() {
    const CALLS_C: &str = "int api(int);\nint user(int x) { return api(x) + 1; }\n";
    const MACRO_C: &str = "int counter;\n#define DEFINE(name) int name(int x) { return x + counter++; }\nDEFINE(api)\n";
    const CALLS_CPP: &str = "#include \"inl.h\"\nint entry(int x) { return twice(x); }\n";
    for (compiler, ext) in [("clang-cl-19", "obj"), ("clang-19", "o")] {
        let d = Dir::new(&[
            ("l.c", LISTED_C),
            ("u.c", UNTOUCHED_C),
            ("calls.c", CALLS_C),
            ("macro.c", MACRO_C),
            ("inl.h", INL_H),
            ("e.cpp", CALLS_CPP),
        ]);
        let twice = if ext == "obj" {
            "?twice@@YAHH@Z"
        } else {
            "_Z5twicei"
        };
        let cases: [(&str, &str, &[&str], &[&str]); 5] = [
            ("l.c", "api", &["ir", "codegen"], &["api"]),
            ("u.c", "api", &["plain"], &[]),
            ("calls.c", "api", &["plain"], &[]),
            ("macro.c", "api", &["plain", "ir", "codegen"], &["api"]),
            ("e.cpp", twice, &["probe", "ir", "codegen"], &[twice]),
        ];
        for (src, list, want_steps, want_records) in cases {
            let out = format!("{}.{ext}", src.replace('.', "_"));
            assert_eq!(
                steps(&d, compiler, list, src, &out),
                want_steps,
                "{compiler} {src}"
            );
            assert_eq!(
                record_names(&d.path(&out)),
                want_records,
                "{compiler} {src}"
            );
        }
        // Untouched units are still the plain compile's bytes.
        let out = format!("calls_c.{ext}");
        let wrapped = d.read(&out);
        std::fs::remove_file(d.path(&out)).unwrap();
        let plain = plain_reference(&d, compiler, "calls.c", &out);
        assert!(
            wrapped == plain,
            "{compiler}: calls.c is the plain compile's object"
        );
    }
}
