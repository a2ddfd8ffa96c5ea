//! Oracle test of the IR engine against clang 22's own hot-patch pass.
//!
//! For each source under `tests/fixtures/ir-src/`, each clang-cl (19 and 22) and target:
//! 1. `clang-cl /c -O2 /Z7 /Gy /clang:-S /clang:-emit-llvm` gives the IR;
//! 2. the engine rewrites it with every defined function listed;
//! 3. the clang that made the IR must accept the result (`-x ir -disable-llvm-optzns`);
//! 4. clang 22 compiles our output (then `hotpatch seal`, the object step that makes the
//!    `__ref_` COMDATs read-only), and separately runs its own pass on the original IR
//!    (`-mllvm -ms-secure-hotpatch-functions-file=`); per function, the objects must
//!    reference the same symbols (relocation targets of the function's section), define
//!    the same `__ref_` symbols, and every `__ref_` pointer must live in a read-only `.rdata`.
//!
//! Two deliberate differences (docs/differences-from-clang22.md):
//! - thread-locals: clang 22 redirects them (its `__ref_` holds the TLS template's
//!   address, and it rewrites the argument of `llvm.threadlocal.address`, which its own
//!   verifier rejects); the engine keeps them direct. Their names are compared outside
//!   the sets, ours must have no `__ref_` for them, and native is checked to still
//!   redirect them, so a fixed clang would make this test say so;
//! - the `__ref_` of an internal global is a static symbol, that of any other global an
//!   external symbol in a COMDAT of its own (native: weak externals, which clash across
//!   objects); all must sit in a read-only `.rdata`.

use crate::support;
use crate::support::objects::Obj;

use std::collections::BTreeSet;
use std::path::Path;

use hotpatch_cl::hotlist::HotList;
use hotpatch_cl::ir;

fn is_ref(sym: &str) -> bool {
    sym.starts_with("__ref_") || sym.starts_with("___ref_")
}

fn check(source: &str, clang: u32, target: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("tests/fixtures/ir-src").join(source);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cl = format!("clang-cl-{clang}");
    let tflag = format!("--target={target}");
    let src_s = src.to_str().unwrap();
    let args = [
        "/c",
        "/O2",
        "/Z7",
        "/Gy",
        "/EHsc",
        "/clang:-S",
        "/clang:-emit-llvm",
        &tflag,
        "--",
        src_s,
    ];
    support::run_ok(d, &cl, &args);
    let stem = Path::new(source).file_stem().unwrap().to_str().unwrap();
    let ll = d.join(format!("{stem}.ll"));
    let input = std::fs::read(&ll).unwrap();

    // Every defined function is listed.
    let module = ir::module::Module::index(&input).unwrap();
    let mut list = HotList::new();
    let mut names = String::new();
    for f in &module.functions {
        list.add_name(&f.name.bytes);
        names.push_str(std::str::from_utf8(&f.name.bytes).unwrap());
        names.push('\n');
    }
    std::fs::write(d.join("fns.txt"), &names).unwrap();
    let thread_locals: BTreeSet<String> = module
        .globals
        .iter()
        .filter(|g| g.thread_local)
        .map(|g| String::from_utf8_lossy(&g.name.bytes).into_owned())
        .collect();

    let out = ir::rewrite(&input, &list, &ir::Options::default())
        .unwrap_or_else(|e| panic!("{source}: {e}"));
    assert!(
        !out.report.redirected.is_empty(),
        "{source}: nothing redirected"
    );
    std::fs::write(d.join("ours.ll"), &out.text).unwrap();

    // 3. The producing clang accepts our output.
    let cc = format!("clang-{clang}");
    let base = [
        tflag.as_str(),
        "-c",
        "-O2",
        "-ffunction-sections",
        "-Xclang",
        "-disable-llvm-optzns",
        "-x",
        "ir",
    ];
    let mut a: Vec<&str> = base.to_vec();
    a.extend(["ours.ll", "-o", "ours-same.obj"]);
    support::run_ok(d, &cc, &a);

    // 4. Compare with clang 22's pass on the original IR.
    let mut a: Vec<&str> = base.to_vec();
    a.extend(["ours.ll", "-o", "ours.obj"]);
    support::run_ok(d, "clang-22", &a);
    // The object step hotpatch-cl's pipeline runs: the `__ref_` COMDATs made read-only.
    let hp = support::our_bin("hotpatch");
    support::run_ok(d, hp.to_str().unwrap(), &["seal", "ours.obj"]);
    let mut a: Vec<&str> = base.to_vec();
    let ll_s = ll.to_str().unwrap();
    a.extend([
        "-mllvm",
        "-ms-secure-hotpatch-functions-file=fns.txt",
        ll_s,
        "-o",
        "native.obj",
    ]);
    support::run_ok(d, "clang-22", &a);
    let ours = Obj::read(d, "ours.obj");
    let native = Obj::read(d, "native.obj");

    // The TLS names that native rewrites through `llvm.threadlocal.address` and we keep.
    let tls_ref = |s: &str| {
        thread_locals
            .iter()
            .any(|t| s.ends_with(&format!("__ref_{t}")))
    };
    let tls_related = |s: &str| {
        tls_ref(s)
            || thread_locals.iter().any(|t| s == t || s == format!("_{t}"))
            || s.contains("_tls_index")
            || s.contains("_tls_array")
    };

    let mut failures = Vec::new();
    let mut compared = 0;
    for f in &module.functions {
        let name = String::from_utf8_lossy(&f.name.bytes).into_owned();
        // COFF symbol of the function: x86 adds `_` to C names.
        let sym = [name.clone(), format!("_{name}")]
            .into_iter()
            .find(|s| ours.sym_section.contains_key(s) && native.sym_section.contains_key(s));
        let Some(sym) = sym else { continue };
        let set = |o: &Obj| -> BTreeSet<String> {
            o.relocs
                .get(&o.sym_section[&sym])
                .map(|s| s.iter().filter(|x| !tls_related(x)).cloned().collect())
                .unwrap_or_default()
        };
        let (a, b) = (set(&ours), set(&native));
        compared += 1;
        if a != b {
            failures.push(format!("{name}:\n  ours:   {a:?}\n  native: {b:?}"));
        }
    }
    assert!(
        compared >= 5,
        "{source}: only {compared} functions found in both objects"
    );

    let refs = |o: &Obj| -> BTreeSet<String> {
        o.symbols
            .iter()
            .filter(|s| is_ref(s) && !tls_ref(s))
            .cloned()
            .collect()
    };
    if refs(&ours) != refs(&native) {
        failures.push(format!(
            "__ref_ symbols:\n  ours:   {:?}\n  native: {:?}",
            refs(&ours),
            refs(&native)
        ));
    }
    // Thread-locals: never a `__ref_` in ours, one per used thread-local in native.
    let ours_tls: Vec<_> = ours.symbols.iter().filter(|s| tls_ref(s)).collect();
    assert!(
        ours_tls.is_empty(),
        "{source}: thread-local redirected: {ours_tls:?}"
    );
    if !out.report.warnings.is_empty()
        && out
            .report
            .warnings
            .iter()
            .any(|w| w.contains("thread-local"))
    {
        assert!(
            native.symbols.iter().any(|s| tls_ref(s)),
            "clang 22 no longer redirects thread-locals: revisit the TLS rule"
        );
    }
    // Every `__ref_` pointer (itself: a static or a COMDAT; a weak external's default) sits
    // in a read-only `.rdata`.
    let mut placed = 0;
    for (s, sec) in &ours.sym_section {
        let weak_default = s.starts_with(".weak.__ref_") || s.starts_with(".weak.___ref_");
        let defined_ref = is_ref(s) && *sec != 0;
        if weak_default || defined_ref {
            placed += 1;
            let (name, writable) = &ours.sections[sec];
            if name != ".rdata" || *writable {
                failures.push(format!("{s} is in {name} (writable: {writable})"));
            }
        }
    }
    let all_refs = ours.symbols.iter().filter(|s| is_ref(s)).count();
    assert_eq!(
        placed, all_refs,
        "one definition (static, COMDAT or weak default) per __ref_"
    );
    assert!(
        failures.is_empty(),
        "{source} clang {clang} {target}:\n{}",
        failures.join("\n")
    );
}

/// Each source with both compilers on x64, and with one of them on x86 and ARM64.
#[test]
fn sources_per_compiler_and_target() {
    let (x64, x86, arm64) = (
        "x86_64-pc-windows-msvc",
        "i686-pc-windows-msvc",
        "aarch64-pc-windows-msvc",
    );
    for (source, cases) in [
        ("globals.c", [(19, x64), (22, x64), (19, x86), (22, arm64)]),
        (
            "classes.cpp",
            [(19, x64), (22, x64), (22, x86), (19, arm64)],
        ),
    ] {
        for (clang, target) in cases {
            eprintln!("{source} clang {clang} {target}");
            check(source, clang, target);
        }
    }
}
