//! Broad oracle: `hotpatch-cl` against native clang-cl 22 on many C and C++ constructs.
//!
//! Each case of `CASES` is a freestanding source in `tests/fixtures/oracle/`, compiled at its
//! own path (anonymous-namespace names hash the path) for one or more Windows targets:
//! - natively: `clang-cl-22 /c /Z7 -O2 /GS- /Gy /hotpatch -fms-secure-hotpatch-functions-list=…`;
//! - `hotpatch-cl clang-cl-19` with the same flags and the original `-fms-hotpatch-functions-list=`;
//! - for some cases also `HOTPATCH_MODE=rewrite hotpatch-cl clang-cl-22`, whose code generator is
//!   native's, so every function's relocation targets must be exactly native's.
//!
//! Per case and target the objects must have the same S_HOTPATCHFUNC records (names, and the
//! function each ID resolves to), the same `__ref_` symbol names (ours all in a read-only `.rdata`),
//! and per hot-patched function (own section under /Gy) the same relocation targets. The case also
//! names what must stay direct (`??_7`, `??_R`, `_TI1H`, `__security_cookie`, string literals, …)
//! and what must be redirected, checked on both objects, so a fixture that stops exercising
//! its construct fails. Deliberate differences (docs/differences-from-clang22.md): thread-locals
//! stay direct with us (compared outside the sets), and an internal global's `__ref_` is a static
//! symbol rather than a weak external (names are compared, not binding).
//!
//! `pressure.cpp` (register pressure around `__ref_` loads, x64/x86/ARM64) is compared with
//! counts: each relocation target of each function as often as native's, so an extra
//! `__ref_` load shows (`ref_loads_match_native_clang22_under_register_pressure`).

use crate::support::{self, objects};

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub(crate) const X64: &str = "x86_64-pc-windows-msvc";
pub(crate) const X86: &str = "i686-pc-windows-msvc";
pub(crate) const ARM64: &str = "aarch64-pc-windows-msvc";

/// Stands for the mangled name of the one function in an anonymous namespace (its
/// `?A0x…` hash depends on the source's absolute path, so it is read from the IR).
pub(crate) const ANON: &str = "<anon>";

pub(crate) struct Case {
    pub(crate) src: &'static str,
    /// IR names of the listed functions; every one must get a record.
    pub(crate) list: &'static [&'static str],
    pub(crate) targets: &'static [&'static str],
    /// Extra compiler flags (`/GS`, `/EHsc`, `/GR`).
    pub(crate) flags: &'static [&'static str],
    /// Also compile with `HOTPATCH_MODE=rewrite hotpatch-cl clang-cl-22` (exact comparison).
    pub(crate) rewrite22: bool,
    /// Symbols (names up to the C underscore) some hot-patched function references directly
    /// and that have no `__ref_`.
    pub(crate) direct: &'static [&'static str],
    /// Prefixes of symbols that hot-patched functions reference directly and that have no
    /// `__ref_` (string literals `??_C@…`, vtables `??_7…`, RTTI `??_R…`).
    pub(crate) direct_prefixes: &'static [&'static str],
    /// Globals (IR names) that must have a `__ref_`.
    pub(crate) redirected: &'static [&'static str],
    /// Native clang 22 redirects `_Init_thread_epoch` here (thread-safe static): checked, so
    /// that a clang that stops doing it makes this test say so.
    pub(crate) native_tls: bool,
}

impl Case {
    /// What a case leaves out: no extra flags, no rewrite with clang 22, nothing that must
    /// stay direct, no thread-local redirect by native clang 22.
    const PLAIN: Case = Case {
        src: "",
        list: &[],
        targets: &[],
        flags: &[],
        rewrite22: false,
        direct: &[],
        direct_prefixes: &[],
        redirected: &[],
        native_tls: false,
    };
}

pub(crate) const CASES: &[Case] = &[
    Case {
        src: "tables.c",
        list: &[
            "apply",
            "greet",
            "field_b",
            "past_four",
            "distance",
            "pick",
            "sw",
            "tiny",
            "uses_tiny",
            "sum_va",
        ],
        targets: &[X64, X86, ARM64],
        rewrite22: true,
        direct: &["lims"],
        direct_prefixes: &["??_C@"],
        redirected: &[
            "ops",
            "slots",
            "gp",
            "arr",
            "other_arr",
            "counter",
            "hidden",
            "shared_sel",
        ],
        ..Case::PLAIN
    },
    Case {
        src: "callconv.c",
        list: &["\u{1}_sc@8", "\u{1}@fc@8", "cc"],
        targets: &[X86],
        rewrite22: true,
        redirected: &["total", "calls"],
        ..Case::PLAIN
    },
    Case {
        src: "gs.c",
        list: &["guarded"],
        targets: &[X64, X86, ARM64],
        flags: &["/GS"],
        direct: &["__security_cookie"],
        redirected: &["seen"],
        ..Case::PLAIN
    },
    Case {
        src: "templates.cpp",
        list: &[
            "??$accumulate@H@@YAHH@Z",
            "??$accumulate@N@@YANN@Z",
            "??0?$Box@H@@QEAA@H@Z",
            "??1?$Box@H@@QEAA@XZ",
            "??H?$Box@H@@QEBA?AU0@AEBU0@@Z",
            "?with_lambda@@YAHH@Z",
            "?over@@YAHH@Z",
            "?over@@YAH_J@Z",
            ANON,
            "?call_anon@@YAHH@Z",
            "c_api",
        ],
        targets: &[X64, ARM64],
        rewrite22: true,
        redirected: &[
            "?hits@@3HA",
            "?log_sink@@3PAHA",
            "?made@?$Box@H@@2HA",
            "?made@?$Box@N@@2NA",
            "?count@Reg@@2HA",
            "?anon_state@?A0x",
            "?total@?1???$accumulate@H@@YAHH@Z@4HA",
        ],
        ..Case::PLAIN
    },
    Case {
        src: "classes.cpp",
        list: &[
            "?make@@YAPEAUShape@@H@Z",
            "?construct_and_call@@YAHH@Z",
            "?as_square@@YAHPEAUShape@@@Z",
            "?kind@@YAPEBDPEAUShape@@@Z",
            "?area@Square@@UEBAHXZ",
        ],
        targets: &[X64, ARM64],
        flags: &["/GR"],
        rewrite22: true,
        direct_prefixes: &["??_7", "??_R"],
        redirected: &[
            "?area_calls@@3HA",
            "?pool@?1??make@@YAPEAUShape@@H@Z@4PAUSquare@@A",
        ],
        native_tls: true,
        ..Case::PLAIN
    },
    // The same C++ sources with x86's mangling (`QAE` thiscall members, 32-bit pointers).
    Case {
        src: "templates.cpp",
        list: &[
            "??$accumulate@H@@YAHH@Z",
            "??0?$Box@H@@QAE@H@Z",
            "??1?$Box@H@@QAE@XZ",
            "??H?$Box@H@@QBE?AU0@ABU0@@Z",
            "?with_lambda@@YAHH@Z",
            "?over@@YAH_J@Z",
            ANON,
            "c_api",
        ],
        targets: &[X86],
        rewrite22: true,
        redirected: &[
            "?hits@@3HA",
            "?log_sink@@3PAHA",
            "?made@?$Box@H@@2HA",
            "?anon_state@?A0x",
            "?total@?1???$accumulate@H@@YAHH@Z@4HA",
        ],
        ..Case::PLAIN
    },
    Case {
        src: "classes.cpp",
        list: &[
            "?make@@YAPAUShape@@H@Z",
            "?construct_and_call@@YAHH@Z",
            "?as_square@@YAHPAUShape@@@Z",
            "?kind@@YAPBDPAUShape@@@Z",
            "?area@Square@@UBEHXZ",
        ],
        targets: &[X86],
        flags: &["/GR"],
        direct_prefixes: &["??_7", "??_R"],
        redirected: &[
            "?area_calls@@3HA",
            "?pool@?1??make@@YAPAUShape@@H@Z@4PAUSquare@@A",
        ],
        native_tls: true,
        ..Case::PLAIN
    },
    Case {
        src: "throws.cpp",
        list: &["?thrower@@YAHH@Z"],
        targets: &[X64, ARM64],
        flags: &["/EHsc"],
        direct_prefixes: &["_TI1H"],
        redirected: &["?failures@@3HA"],
        ..Case::PLAIN
    },
    // On x86 the throw info holds absolute pointers, so clang 22 redirects it (rule 3).
    Case {
        src: "throws.cpp",
        list: &["?thrower@@YAHH@Z"],
        targets: &[X86],
        flags: &["/EHsc"],
        rewrite22: true,
        redirected: &["?failures@@3HA", "_TI1H"],
        ..Case::PLAIN
    },
    Case {
        src: "dyn_static.cpp",
        list: &["?stable_id@@YAHXZ"],
        // On ARM64 the guard's and the static's internal `__ref_`s are used together: the
        // case that needs them kept out of AArch64's GlobalMerge (`ir::keep_refs_unmerged`).
        targets: &[X64, X86, ARM64],
        rewrite22: true,
        redirected: &["?next_id@@3HA"],
        native_tls: true,
        ..Case::PLAIN
    },
];

pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/oracle")
        .join(name)
}

/// Thread-local machinery: native redirects it, we keep it direct (deliberate difference 1).
fn tls_related(sym: &str) -> bool {
    sym.contains("_Init_thread_epoch") || sym.contains("_tls_index") || sym.contains("_tls_array")
}

/// `sym` without the x86 C underscore, compared with an IR name.
fn same_global(sym: &str, ir: &str) -> bool {
    sym == ir || sym.strip_prefix('_') == Some(ir)
}

/// The mangled name of the anonymous-namespace function, from clang-cl-22's IR of `src`.
fn anon_name(src: &Path, dir: &Path) -> String {
    let ll = dir.join("anon.ll");
    let o = format!("/clang:-o{}", ll.display());
    let s = src.to_str().unwrap();
    support::run_ok(
        dir,
        "clang-cl-22",
        &["-O2", "/clang:-S", "/clang:-emit-llvm", &o, "--", s],
    );
    let text = std::fs::read_to_string(&ll).unwrap();
    let re =
        regex::Regex::new(r#"(?m)^define .*@"(\?[A-Za-z_]+@\?A0x[0-9A-F]+@@[^"]*)"\("#).unwrap();
    re.captures(&text)
        .map(|c| c[1].to_owned())
        .expect("no anonymous-namespace function defined")
}

/// The clang-cl flags every oracle compile uses (then the case's own, the list and the output).
pub const CL_FLAGS: &[&str] = &["/c", "/Z7", "-O2", "/GS-", "/Gy", "/Brepro", "/hotpatch"];

/// Compiles `src` once; `compiler` is `None` for native clang-cl-22, else the compiler
/// hotpatch-cl runs (with the original flag spelling) and `HOTPATCH_MODE`.
fn compile(
    dir: &Path,
    src: &Path,
    case: &Case,
    list: &str,
    target: &str,
    via: Option<(&str, &str)>,
    out: &str,
) -> PathBuf {
    let obj = dir.join(out);
    let fo = format!("/Fo{}", obj.display());
    let tflag = format!("--target={target}");
    let flag = match via {
        None => format!("-fms-secure-hotpatch-functions-list={list}"),
        Some(_) => format!("-fms-hotpatch-functions-list={list}"),
    };
    let mut args: Vec<&str> = vec![&tflag];
    args.extend_from_slice(CL_FLAGS);
    args.extend_from_slice(case.flags);
    args.extend([flag.as_str(), fo.as_str(), "--", src.to_str().unwrap()]);
    match via {
        None => {
            support::run_ok(dir, "clang-cl-22", &args);
        }
        Some((compiler, mode)) => {
            support::command_ok(
                support::hotpatch_cl(dir)
                    .arg(support::tool(compiler))
                    .args(&args)
                    .env("HOTPATCH_MODE", mode),
            );
        }
    }
    obj
}

/// One object's view: records, `__ref_` names, relocation targets per hot-patched function.
pub(crate) struct View {
    pub(crate) records: Vec<(String, String)>,
    pub(crate) refs: BTreeSet<String>,
    relocs: BTreeMap<String, BTreeSet<String>>,
}

pub(crate) fn view(obj: &Path) -> View {
    let records = objects::hotpatch_records(obj);
    let refs = objects::ref_symbols(obj);
    let all = objects::relocations_by_function(obj);
    let mut relocs = BTreeMap::new();
    for (_, name) in &records {
        // The COFF symbol: the IR name, with the x86 C underscore, or without LLVM's 0x01.
        let key = all.keys().find(|k| {
            *k == name
                || k.strip_prefix('_') == Some(name)
                || Some(k.as_str()) == name.strip_prefix('\u{1}')
        });
        let key = key.unwrap_or_else(|| panic!("{}: no code for {name:?}", obj.display()));
        relocs.insert(name.clone(), all[key].clone());
    }
    View {
        records,
        refs,
        relocs,
    }
}

/// Compares `ours` with `native`; returns the differences, one line each.
pub(crate) fn compare(
    label: &str,
    case: &Case,
    list: &[String],
    ours: &View,
    native: &View,
) -> Vec<String> {
    let mut bad = Vec::new();
    let names: Vec<&String> = native.records.iter().map(|(_, n)| n).collect();
    if names.iter().map(|n| n.as_str()).collect::<BTreeSet<_>>()
        != list.iter().map(|n| n.as_str()).collect()
    {
        bad.push(format!(
            "{label}: native records {names:?} are not the list {list:?}"
        ));
    }
    if ours.records != native.records {
        bad.push(format!(
            "{label}: records\n  ours:   {:?}\n  native: {:?}",
            ours.records, native.records
        ));
    }
    let no_tls = |s: &BTreeSet<String>| -> BTreeSet<String> {
        s.iter().filter(|x| !tls_related(x)).cloned().collect()
    };
    if no_tls(&ours.refs) != no_tls(&native.refs) {
        bad.push(format!(
            "{label}: __ref_ symbols\n  ours:   {:?}\n  native: {:?}",
            ours.refs, native.refs
        ));
    }
    if case.native_tls != native.refs.contains("__ref__Init_thread_epoch") {
        bad.push(format!(
            "{label}: native __ref__Init_thread_epoch expected: {}: {:?}",
            case.native_tls, native.refs
        ));
    }
    if ours.refs.iter().any(|r| tls_related(r)) {
        bad.push(format!(
            "{label}: a thread-local redirected: {:?}",
            ours.refs
        ));
    }
    for (f, n) in &native.relocs {
        let o = ours.relocs.get(f).map(no_tls).unwrap_or_default();
        if o != no_tls(n) {
            bad.push(format!(
                "{label}: {f:?} relocation targets\n  ours:   {o:?}\n  native: {n:?}"
            ));
        }
    }
    for (who, v) in [("ours", ours), ("native", native)] {
        let targets: BTreeSet<&String> = v.relocs.values().flatten().collect();
        for d in case.direct {
            if !targets.iter().any(|t| same_global(t, d)) {
                bad.push(format!("{label}: {who}: no direct use of {d}: {targets:?}"));
            }
        }
        for p in case.direct_prefixes {
            if !targets.iter().any(|t| {
                t.trim_start_matches('_')
                    .starts_with(p.trim_start_matches('_'))
            }) {
                bad.push(format!(
                    "{label}: {who}: no direct use of {p}…: {targets:?}"
                ));
            }
        }
        for r in &v.refs {
            let g = r.trim_start_matches('_').trim_start_matches("ref_");
            if case.direct.iter().any(|d| same_global(g, d))
                || case.direct_prefixes.iter().any(|p| {
                    g.trim_start_matches('_')
                        .starts_with(p.trim_start_matches('_'))
                })
            {
                bad.push(format!("{label}: {who}: {r} should not exist"));
            }
        }
        for g in case.redirected {
            if !v.refs.iter().any(|r| {
                r.trim_start_matches('_')
                    .starts_with(&format!("ref_{}", g.trim_start_matches('_')))
                    || r.contains(&format!("__ref_{g}"))
                    || r.contains(&format!("__ref__{g}"))
            }) {
                bad.push(format!("{label}: {who}: no __ref_ for {g}: {:?}", v.refs));
            }
        }
        // No hot-patched function touches a redirected global directly.
        for r in &v.refs {
            let g = &r[r.find("__ref_").unwrap() + "__ref_".len()..];
            if let Some(t) = targets
                .iter()
                .find(|t| !t.contains("__ref_") && same_global(t, g))
            {
                bad.push(format!("{label}: {who}: direct use of {t} beside {r}"));
            }
        }
    }
    bad
}

fn check_target(case: &Case, target: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = fixture(case.src);
    let list: Vec<String> = case
        .list
        .iter()
        .map(|n| {
            if *n == ANON {
                anon_name(&src, d)
            } else {
                (*n).to_owned()
            }
        })
        .collect();
    let joined = list.join(",");
    let label = format!("{} {target}", case.src);
    let native = compile(d, &src, case, &joined, target, None, "native.obj");
    let nv = view(&native);
    let mut bad = Vec::new();
    let mut runs = vec![("clang-cl-19", "auto", "ours19.obj")];
    if case.rewrite22 {
        runs.push(("clang-cl-22", "rewrite", "ours22.obj"));
    }
    for (compiler, mode, out) in runs {
        let obj = compile(d, &src, case, &joined, target, Some((compiler, mode)), out);
        let ov = view(&obj);
        objects::assert_refs_read_only(&obj, &ov.refs);
        bad.extend(compare(
            &format!("{label} {compiler}"),
            case,
            &list,
            &ov,
            &nv,
        ));
    }
    bad
}

#[test]
fn wrapper_matches_native_clang22_on_many_constructs() {
    let jobs: Vec<(&Case, &str)> = CASES
        .iter()
        .flat_map(|c| c.targets.iter().map(move |t| (c, *t)))
        .collect();
    // Two workers: the machine has two cores.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some((case, target)) = jobs.get(i) else {
                    break;
                };
                let bad = check_target(case, target);
                failures.lock().unwrap().extend(bad);
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `pressure.cpp`'s functions, by target (x86 mangles pointers and `size_t` its own way).
fn pressure_list(target: &str) -> &'static [&'static str] {
    if target == X86 {
        &[
            "?compact@@YAIPAXPAIIPBXII@Z",
            "?blend@@YAIPAMPBMPBIIIMMMM@Z",
            "?add_focus@@YAX_N@Z",
            "?add_move@@YAXMM@Z",
            "?owner_of@@YAIH@Z",
        ]
    } else {
        &[
            "?compact@@YA_KPEAXPEAI_KPEBX22@Z",
            "?blend@@YA_KPEAMPEBMPEBI_K3MMMM@Z",
            "?add_focus@@YAX_N@Z",
            "?add_move@@YAXMM@Z",
            "?owner_of@@YAIH@Z",
        ]
    }
}

/// Relocation targets of each function of `list` in `obj`, with their counts; only the
/// `__ref_` ones when `refs_only`.
fn target_counts(
    obj: &Path,
    list: &[&str],
    refs_only: bool,
) -> BTreeMap<String, BTreeMap<String, usize>> {
    let all = objects::relocation_counts_by_function(obj);
    list.iter()
        .map(|name| {
            let key = all
                .keys()
                .find(|k| *k == name || k.strip_prefix('_') == Some(name))
                .unwrap_or_else(|| panic!("{}: no code for {name}", obj.display()));
            let counts = all[key]
                .iter()
                .filter(|(t, _)| !refs_only || t.contains("__ref_"))
                .map(|(t, n)| (t.clone(), *n))
                .collect();
            ((*name).to_owned(), counts)
        })
        .collect()
}

/// The differences between two per-function count maps, one line per function.
fn count_differences(
    label: &str,
    ours: &BTreeMap<String, BTreeMap<String, usize>>,
    native: &BTreeMap<String, BTreeMap<String, usize>>,
) -> Vec<String> {
    native
        .iter()
        .filter(|(f, n)| ours.get(*f) != Some(n))
        .map(|(f, n)| format!("{label}: {f}\n  ours:   {:?}\n  native: {n:?}", ours.get(f)))
        .collect()
}

/// `pressure.cpp` on one target: native clang-cl 22 against `HOTPATCH_MODE=rewrite` through
/// clang-cl 22 (same code generator: every relocation of every function, with its count) and
/// clang-cl 19 (another optimizer, which may pick other constants and jump tables: the
/// `__ref_` loads with their counts); every `__ref_` section of ours read-only. Then the
/// check that the fixture still shows the drift: clang 22's code generator on the same
/// rewritten IR with `constant` `__ref_`s loads some `__ref_` more often than native.
fn check_pressure(target: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let case = Case {
        src: "pressure.cpp",
        ..Case::PLAIN
    };
    let src = fixture(case.src);
    let list = pressure_list(target);
    let joined = list.join(",");
    let native = compile(d, &src, &case, &joined, target, None, "native.obj");
    assert_eq!(
        objects::hotpatch_records(&native).len(),
        list.len(),
        "{target}: native records"
    );
    let native_all = target_counts(&native, list, false);
    let native_refs = target_counts(&native, list, true);
    let mut bad = Vec::new();
    for (f, refs) in &native_refs {
        if refs.is_empty() {
            bad.push(format!("{target}: {f} loads no __ref_ natively"));
        }
    }
    for (compiler, out, refs_only) in [
        ("clang-cl-22", "ours22.obj", false),
        ("clang-cl-19", "ours19.obj", true),
    ] {
        let obj = compile(
            d,
            &src,
            &case,
            &joined,
            target,
            Some((compiler, "rewrite")),
            out,
        );
        objects::assert_refs_read_only(&obj, &objects::ref_symbols(&obj));
        let want = if refs_only { &native_refs } else { &native_all };
        bad.extend(count_differences(
            &format!("pressure.cpp {target} {compiler}"),
            &target_counts(&obj, list, refs_only),
            want,
        ));
    }

    let ll = d.join("p.ll");
    let o = format!("/clang:-o{}", ll.display());
    let t = format!("--target={target}");
    support::run_ok(
        d,
        "clang-cl-22",
        &[
            &t,
            "-O2",
            "/Z7",
            "/GS-",
            "/Gy",
            "/hotpatch",
            "/clang:-S",
            "/clang:-emit-llvm",
            &o,
            "--",
            src.to_str().unwrap(),
        ],
    );
    let hp = support::our_bin("hotpatch");
    let l = format!("--ms-hotpatch-functions-list={joined}");
    support::run_ok(
        d,
        hp.to_str().unwrap(),
        &["rewrite", "p.ll", &l, "-o", "rw.ll"],
    );
    let rewritten = std::fs::read_to_string(d.join("rw.ll")).unwrap();
    let constant = rewritten.replace(
        "= linkonce externally_initialized global ptr",
        "= linkonce externally_initialized constant ptr",
    );
    if constant == rewritten {
        bad.push(format!(
            "{target}: no non-constant external __ref_ in the rewrite"
        ));
    }
    std::fs::write(d.join("constant.ll"), constant).unwrap();
    // Code generation as the wrapper's step 3 runs it: clang-cl's own code generation flags.
    support::run_ok(
        d,
        "clang-cl-22",
        &[
            &t,
            "/c",
            "/Z7",
            "-O2",
            "/GS-",
            "/Gy",
            "/hotpatch",
            "-Xclang",
            "-disable-llvm-optzns",
            "/Foconstant.obj",
            "--",
            "constant.ll",
        ],
    );
    let drift = target_counts(&d.join("constant.obj"), list, true);
    let more = drift.iter().any(|(f, refs)| {
        refs.iter()
            .any(|(r, n)| *n > native_refs[f].get(r).copied().unwrap_or(0))
    });
    if !more {
        bad.push(format!(
            "{target}: the constant __ref_ form no longer loads more often than native here: the fixture stopped exercising the drift\n  constant: {drift:?}\n  native:   {native_refs:?}"
        ));
    }
    bad
}

/// `pressure.cpp` in GNU mode (x86-64 MinGW): `HOTPATCH_MODE=rewrite hotpatch-cl clang-22`
/// against native `clang-22 -fms-secure-hotpatch-functions-list=`, every relocation counted,
/// every `__ref_` section read-only.
fn check_pressure_gnu() -> Vec<String> {
    const GNU: &str = "x86_64-w64-windows-gnu";
    let list = [
        "_Z7compactPvPjyPKvyy",
        "_Z5blendPfPKfPKjyyffff",
        "_Z9add_focusb",
        "_Z8add_moveff",
        "_Z8owner_ofi",
    ];
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = fixture("pressure.cpp");
    let t = format!("--target={GNU}");
    let joined = list.join(",");
    let native_flag = format!("-fms-secure-hotpatch-functions-list={joined}");
    let ours_flag = format!("-fms-hotpatch-functions-list={joined}");
    let common = [t.as_str(), "-O2", "-gcodeview", "-fms-hotpatch", "-c"];
    let s = src.to_str().unwrap();
    let mut a: Vec<&str> = common.to_vec();
    a.extend([native_flag.as_str(), s, "-o", "native.o"]);
    support::run_ok(d, "clang-22", &a);
    support::command_ok(
        support::hotpatch_cl(d)
            .arg(support::tool("clang-22"))
            .args(common)
            .args([ours_flag.as_str(), s, "-o", "ours.o"])
            .env("HOTPATCH_MODE", "rewrite"),
    );
    let ours = d.join("ours.o");
    objects::assert_refs_read_only(&ours, &objects::ref_symbols(&ours));
    count_differences(
        &format!("pressure.cpp {GNU} clang-22"),
        &target_counts(&ours, &list, false),
        &target_counts(&d.join("native.o"), &list, false),
    )
}

/// Issue #22 part 1: under register pressure, `HOTPATCH_MODE=rewrite` objects load each
/// `__ref_` exactly as often as native clang 22's (docs/differences-from-clang22.md item 2),
/// in cl mode on x64, x86 and ARM64, and in GNU mode.
#[test]
fn ref_loads_match_native_clang22_under_register_pressure() {
    let failures = std::sync::Mutex::new(Vec::new());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let targets = [X64, X86, ARM64, "gnu"];
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(target) = targets.get(i) else {
                    break;
                };
                let bad = if *target == "gnu" {
                    check_pressure_gnu()
                } else {
                    check_pressure(target)
                };
                failures.lock().unwrap().extend(bad);
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
