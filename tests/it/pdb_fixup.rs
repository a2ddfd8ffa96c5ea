//! `hotpatch fixup-pdb` on PDBs that `lld-link-22 /debug` writes from native clang-cl-22
//! objects with S_HOTPATCHFUNC records: C and C++ (overloads, a member function), several
//! modules, one object inside a `.lib`. Checked with llvm-pdbutil-22 and Microsoft's pdbtool.

use crate::support;

use support::pdb::{
    assert_fully_restored, assert_readers_accept, expected, fixtures, pdbtool, symbols, APP_LINK,
};

use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Compiles the fixtures with native hot-patching (or without, `hotpatch = false`), puts
/// `lib.obj` into `lib.lib` and links `app.exe` + `app.pdb` in `dir`.
fn build(dir: &Path, hotpatch: bool) -> PathBuf {
    let list: Vec<String> = std::fs::read_to_string(fixtures().join("hotpatch.txt"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let flag = format!("-fms-secure-hotpatch-functions-list={}", list.join(","));
    for src in ["app.c", "helper.c", "shapes.cpp", "lib.c"] {
        let src = fixtures().join(src);
        let mut args = vec!["/c", "/Z7", "-O2", "/GS-", "/Zl"];
        if hotpatch {
            args.push(&flag);
        }
        args.extend(["--", src.to_str().unwrap()]);
        support::run_ok(dir, "clang-cl-22", &args);
    }
    support::run_ok(dir, "llvm-lib-22", &["/out:lib.lib", "lib.obj"]);
    let mut link = APP_LINK.to_vec();
    link.extend(["app.obj", "helper.obj", "shapes.obj", "lib.lib"]);
    support::run_ok(dir, "lld-link-22", &link);
    dir.join("app.pdb")
}

fn fixup(dir: &Path, args: &[&str]) -> std::process::Output {
    let hotpatch = support::our_bin("hotpatch");
    let mut all = vec!["fixup-pdb"];
    all.extend(args);
    support::run(dir, hotpatch.to_str().unwrap(), &all)
}

#[test]
fn restores_every_record_with_ids_that_resolve_to_the_function() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), true);

    // The problem exists: lld-link wrote S_SKIP and no S_HOTPATCHFUNC.
    let before = symbols(dir.path(), "app.pdb");
    let blank: usize = before.values().map(|m| m.skips.len()).sum();
    assert_eq!(blank, expected().len(), "{before:#?}");
    assert!(before.values().all(|m| m.hotpatch.is_empty()));

    let out = fixup(dir.path(), &["app.pdb", "-v"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("restored 10 S_HOTPATCHFUNC"), "{stderr}");

    assert_fully_restored(dir.path(), "app.pdb");
    assert_readers_accept(dir.path(), "app.pdb");
    let tool = pdbtool().to_str().unwrap().to_owned();
    let syms = support::run_ok(dir.path(), &tool, &["dump", "app.pdb", "module-symbols"]);
    for mangled in expected().keys() {
        assert!(
            syms.contains(&format!(": {mangled}\n")) && syms.contains("S_HOTPATCHFUNC"),
            "pdbtool: {mangled}"
        );
    }

    // The library's dump resolves every ID to the same functions.
    let dump = hotpatch_cl::pdb::dump(&dir.path().join("app.pdb")).unwrap();
    let resolved: BTreeMap<String, Option<String>> = dump
        .modules
        .iter()
        .flat_map(|m| {
            m.records
                .iter()
                .map(|r| (r.name.clone(), r.function.clone()))
        })
        .collect();
    for (mangled, (name, _, _)) in expected() {
        assert_eq!(resolved[mangled].as_deref(), Some(name), "{mangled}");
    }
}

#[test]
fn second_run_and_explicit_objects_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let pdb = build(dir.path(), true);
    let out = fixup(
        dir.path(),
        &["app.pdb", "app.obj", "helper.obj", "shapes.obj", "lib.lib"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let once = std::fs::read(&pdb).unwrap();
    let again = fixup(dir.path(), &["app.pdb"]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    assert!(stderr.contains("already in place"), "{stderr}");
    assert_eq!(
        std::fs::read(&pdb).unwrap(),
        once,
        "second fix-up changed the PDB"
    );
    assert_readers_accept(dir.path(), "app.pdb");
}

/// `fixup_bytes` (the in-memory entry point the fuzz target uses) is the file fix-up: same
/// report, same bytes as `hotpatch fixup-pdb` writes, and a second run changes nothing.
#[test]
fn in_memory_fixup_writes_the_bytes_the_file_fixup_writes() {
    let b = built();
    let objects: Vec<(PathBuf, Vec<u8>)> = b
        .objects
        .iter()
        .map(|(n, d)| (PathBuf::from(n), d.clone()))
        .collect();
    let (report, bytes) =
        hotpatch_cl::pdb::fixup_bytes(Path::new("app.pdb"), &b.pdb, objects.clone()).unwrap();
    assert_eq!(report.restored.len(), expected().len(), "{report:?}");
    assert!(report.written && report.problems.is_empty(), "{report:?}");

    let dir = tempfile::tempdir().unwrap();
    let pdb = dir.path().join("app.pdb");
    std::fs::write(&pdb, &b.pdb).unwrap();
    let mut paths = Vec::new();
    for (name, data) in &b.objects {
        std::fs::write(dir.path().join(name), data).unwrap();
        paths.push(dir.path().join(name));
    }
    let on_disk = hotpatch_cl::pdb::fixup(&pdb, &paths).unwrap();
    assert_eq!(on_disk.restored, report.restored);
    assert_eq!(
        std::fs::read(&pdb).unwrap(),
        bytes,
        "in-memory and file fix-ups differ"
    );
    assert_fully_restored(dir.path(), "app.pdb");

    let (again, same) =
        hotpatch_cl::pdb::fixup_bytes(Path::new("app.pdb"), &bytes, objects).unwrap();
    assert!(!again.written && again.restored.is_empty(), "{again:?}");
    assert_eq!(same, bytes);
}

#[test]
fn missing_object_fails_but_restores_the_other_modules() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), true);
    let out = fixup(dir.path(), &["app.pdb", "app.obj"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("helper.obj is not among the given objects"),
        "{stderr}"
    );
    let after = symbols(dir.path(), "app.pdb");
    assert_eq!(after["app.obj"].hotpatch.len(), 4);
    assert_eq!(after["helper.obj"].skips.len(), 1);
    assert_readers_accept(dir.path(), "app.pdb");
}

#[test]
fn pdb_without_hotpatch_records_stays_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let pdb = build(dir.path(), false);
    let before = std::fs::read(&pdb).unwrap();
    let out = fixup(dir.path(), &["app.pdb"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("nothing to do"), "{stderr}");
    assert_eq!(std::fs::read(&pdb).unwrap(), before);
}

#[test]
fn corrupt_or_truncated_pdb_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let pdb = build(dir.path(), true);
    let good = std::fs::read(&pdb).unwrap();
    for len in [0, 100, 4096, good.len() / 2] {
        std::fs::write(&pdb, &good[..len]).unwrap();
        let out = fixup(dir.path(), &["app.pdb"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "length {len}: {stderr}");
        assert!(
            stderr.starts_with("hotpatch: error: app.pdb: "),
            "length {len}: {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    std::fs::write(&pdb, b"not a pdb at all").unwrap();
    let out = fixup(dir.path(), &["app.pdb"]);
    assert_eq!(out.status.code(), Some(1));
}

/// The bytes after `edits` (offset as a fraction of the length, new byte) are applied.
fn mutate(bytes: &[u8], edits: &[(f64, u8)]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for &(at, b) in edits {
        let i = ((out.len() as f64) * at) as usize;
        if let Some(x) = out.get_mut(i) {
            *x = b;
        }
    }
    out
}

/// Edits aimed at what the fix-up parses: the 1 KiB after each place the PDB names a module
/// object (DBI module records, `S_OBJNAME` at the start of module streams, then `S_SKIP`s).
fn mutate_near_modules(bytes: &[u8], edits: &[(f64, u8)]) -> Vec<u8> {
    let anchors: Vec<usize> = bytes
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == b".obj")
        .map(|(i, _)| i)
        .collect();
    let mut out = bytes.to_vec();
    for (k, &(at, b)) in edits.iter().enumerate() {
        let Some(&base) = anchors.get(k * 7 % anchors.len().max(1)) else {
            continue;
        };
        if let Some(x) = out.get_mut(base + (at * 1024.0) as usize) {
            *x = b;
        }
    }
    out
}

struct Built {
    _dir: tempfile::TempDir,
    pdb: Vec<u8>,
    objects: Vec<(String, Vec<u8>)>,
}

fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let pdb = std::fs::read(build(dir.path(), true)).unwrap();
        let objects = ["app.obj", "helper.obj", "shapes.obj", "lib.lib"]
            .iter()
            .map(|n| (n.to_string(), std::fs::read(dir.path().join(n)).unwrap()))
            .collect();
        Built {
            _dir: dir,
            pdb,
            objects,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Corrupted PDBs and objects give a result or an error, never a panic, and a failed or
    /// empty run leaves the PDB bytes alone.
    #[test]
    fn corrupted_inputs_never_panic(
        pdb_edits in proptest::collection::vec((0.0f64..1.0, any::<u8>()), 0..6),
        obj_edits in proptest::collection::vec((0.0f64..1.0, any::<u8>()), 0..6),
        which in 0usize..4,
        near_modules in any::<bool>(),
    ) {
        let b = built();
        let dir = tempfile::tempdir().unwrap();
        let pdb = dir.path().join("app.pdb");
        let corrupt_pdb =
            if near_modules { mutate_near_modules(&b.pdb, &pdb_edits) } else { mutate(&b.pdb, &pdb_edits) };
        std::fs::write(&pdb, &corrupt_pdb).unwrap();
        let mut objs = Vec::new();
        for (i, (name, bytes)) in b.objects.iter().enumerate() {
            let path = dir.path().join(name);
            let data = if i == which { mutate(bytes, &obj_edits) } else { bytes.clone() };
            std::fs::write(&path, data).unwrap();
            objs.push(path);
        }
        match hotpatch_cl::pdb::fixup(&pdb, &objs) {
            Ok(report) if !report.written => prop_assert_eq!(std::fs::read(&pdb).unwrap(), corrupt_pdb),
            Ok(_) => {}
            // A failed commit may leave new (unreferenced) pages behind: MSF copy-on-write.
            Err(e @ hotpatch_cl::pdb::Error::Write { .. }) => prop_assert!(e.to_string().contains("app.pdb")),
            Err(e) => {
                prop_assert!(e.to_string().contains("app.pdb"), "{}", e);
                prop_assert_eq!(std::fs::read(&pdb).unwrap(), corrupt_pdb);
            }
        }
        let _ = hotpatch_cl::pdb::dump(&pdb);
    }
}
