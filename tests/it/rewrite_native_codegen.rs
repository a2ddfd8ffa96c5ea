//! `hotpatch rewrite` output is ready for an LLVM 21+ code generator: compiled by `clang-22 -c`
//! or `llc-22`, it gives the same object as the wrapper (`hotpatch-cl clang-cl-19`) on the
//! points that matter: the same `S_HOTPATCHFUNC` records (written by clang/llc 22 themselves,
//! from the `"marked_for_windows_hot_patching"` the rewrite keeps), the same `__ref_` symbols,
//! the same relocation targets per hot-patched function, and no `__ref___ref_` (every `__ref_`
//! and every global kept direct carries `"allow_direct_access_in_hot_patch_function"`, so
//! clang 22's own pass redirects nothing a second time; thread-locals stay direct).
//!
//! Also the wrapper's rewrite pipeline with clang-cl 22 (`HOTPATCH_MODE=rewrite`), where the
//! compiler writes the records and the wrapper's injection must add none twice.
//!
//! Sources: `tests/fixtures/ir-src` (C with a thread-local, a `static`, a function-local
//! static; C++ with a thread-safe static, `thread_local`, static members), every defined
//! function listed, on x64, x86 and ARM64.
use crate::support::{self, objects};

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use hotpatch_cl::ir::module::Module;

const TARGETS: [&str; 3] = [
    "x86_64-pc-windows-msvc",
    "i686-pc-windows-msvc",
    "aarch64-pc-windows-msvc",
];

/// What is compared between two objects.
#[derive(Debug, PartialEq, Eq)]
struct View {
    /// Record names, sorted.
    records: BTreeSet<String>,
    /// `__ref_` symbols (not the `.weak.` aliases).
    refs: BTreeSet<String>,
    /// Relocation targets of each recorded function's code.
    relocs: BTreeMap<String, BTreeSet<String>>,
}

fn view(obj: &Path) -> View {
    let records: BTreeSet<String> = objects::hotpatch_records(obj)
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    let refs = objects::symbols(obj)
        .into_keys()
        .filter(|n| n.contains("__ref_") && !n.starts_with(".weak."))
        .collect();
    let all = objects::relocations_by_function(obj);
    let relocs = records
        .iter()
        .map(|name| {
            // The code's label: the IR name, with the x86 C underscore.
            let key = all
                .keys()
                .find(|k| *k == name || k.strip_prefix('_') == Some(name.as_str()))
                .unwrap_or_else(|| panic!("{}: no code for {name}", obj.display()));
            (name.clone(), all[key].clone())
        })
        .collect();
    View {
        records,
        refs,
        relocs,
    }
}

fn check(source: &str) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ir-src")
        .join(source);
    let src = src.to_str().unwrap();
    let stem = Path::new(source).file_stem().unwrap().to_str().unwrap();
    let hp = support::our_bin("hotpatch");
    let hpcl = support::our_bin("hotpatch-cl");
    let mut failures = Vec::new();
    for target in TARGETS {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let t = format!("--target={target}");
        let flags = ["/c", "/O2", "/Z7", "/Gy", "/EHsc", "/hotpatch"];

        // The IR, and every function it defines listed.
        let mut args = vec![t.as_str(), "/clang:-S", "/clang:-emit-llvm"];
        args.extend(flags);
        args.extend(["--", src]);
        support::run_ok(d, "clang-cl-19", &args);
        let ll = format!("{stem}.ll");
        let input = std::fs::read(d.join(&ll)).unwrap();
        let m = Module::index(&input).unwrap();
        let names: String = m
            .functions
            .iter()
            .map(|f| format!("{}\n", String::from_utf8_lossy(&f.name.bytes)))
            .collect();
        std::fs::write(d.join("fns.txt"), names).unwrap();

        // The wrapper's object.
        let mut args = vec!["clang-cl-19", t.as_str(), "/Fowrapper.obj"];
        args.extend(flags);
        args.extend(["-fms-hotpatch-functions-file=fns.txt", "--", src]);
        support::run_ok(d, hpcl.to_str().unwrap(), &args);

        // The wrapper's rewrite pipeline with clang-cl 22: the compiler writes the records from
        // the mark the rewrite keeps, and the injection after it adds none a second time.
        let mut args = vec!["clang-cl-22", t.as_str(), "/Fowrapper22.obj"];
        args.extend(flags);
        args.extend(["-fms-hotpatch-functions-file=fns.txt", "--", src]);
        let out = std::process::Command::new(&hpcl)
            .args(&args)
            .env("HOTPATCH_MODE", "rewrite")
            .current_dir(d)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let listed = |obj: &str| -> Vec<String> {
            let mut v: Vec<String> = objects::hotpatch_records(&d.join(obj))
                .into_iter()
                .map(|(_, n)| n)
                .collect();
            v.sort();
            v
        };
        assert_eq!(
            listed("wrapper22.obj"),
            listed("wrapper.obj"),
            "{source} {target}: clang-cl-22 rewrite pipeline records (each once)"
        );

        // `hotpatch rewrite`, then clang 22 and llc 22 with no hot-patch flag of their own.
        support::run_ok(
            d,
            hp.to_str().unwrap(),
            &[
                "rewrite",
                &ll,
                "-o",
                "rw.ll",
                "--ms-hotpatch-functions-file",
                "fns.txt",
            ],
        );
        let text = std::fs::read_to_string(d.join("rw.ll")).unwrap();
        assert!(
            text.contains("\"marked_for_windows_hot_patching\""),
            "{text}"
        );
        support::compile_ir(d, 22, target, "rw.ll", "clang22.obj", &[]);
        support::run_ok(
            d,
            "llc-22",
            &[
                &format!("-mtriple={target}"),
                "-O2",
                "-filetype=obj",
                "rw.ll",
                "-o",
                "llc22.obj",
            ],
        );

        let ours = view(&d.join("wrapper.obj"));
        assert!(
            ours.records.len() >= 5,
            "{source} {target}: too few records: {ours:?}"
        );
        assert!(!ours.refs.is_empty(), "{source} {target}: no __ref_");
        for obj in ["clang22.obj", "llc22.obj"] {
            let v = view(&d.join(obj));
            let label = format!("{source} {target} {obj}");
            if v.refs.iter().any(|r| r.contains("__ref___ref_")) {
                failures.push(format!("{label}: redirected twice: {:?}", v.refs));
            }
            if v.records != ours.records {
                failures.push(format!(
                    "{label}: records\n  this:    {:?}\n  wrapper: {:?}",
                    v.records, ours.records
                ));
            }
            if v.refs != ours.refs {
                failures.push(format!(
                    "{label}: __ref_ symbols\n  this:    {:?}\n  wrapper: {:?}",
                    v.refs, ours.refs
                ));
            }
            for (f, r) in &ours.relocs {
                if v.relocs.get(f) != Some(r) {
                    failures.push(format!(
                        "{label}: {f} relocation targets\n  this:    {:?}\n  wrapper: {r:?}",
                        v.relocs.get(f)
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn c_rewrite_output_compiled_by_clang22_and_llc22_equals_the_wrapper_object() {
    check("globals.c");
}

#[test]
fn cpp_rewrite_output_compiled_by_clang22_and_llc22_equals_the_wrapper_object() {
    check("classes.cpp");
}
