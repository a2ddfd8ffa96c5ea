//! Link mode of the wrapper with the real tools: objects from `hotpatch-cl clang-cl-19` and
//! from native clang-cl-22 (C, C++ with overloads, several modules, one object inside a `.lib`
//! made by llvm-lib-22), linked by `hotpatch-cl lld-link-22`, by the `lld-link` masquerade link,
//! and by a wrapper compile-and-link with `-fuse-ld=lld`. Afterwards `llvm-pdbutil-22 dump
//! --symbols` shows every S_HOTPATCHFUNC and no S_SKIP, each ID resolves through `--ids` to its
//! function, and `llvm-pdbutil-22 dump --all` and pdbtool read the PDB cleanly.

use crate::support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::pdb::{
    assert_fully_restored, assert_readers_accept, expected, fixture_list, fixtures, APP_LINK,
};

const SOURCES: [&str; 4] = ["app.c", "helper.c", "shapes.cpp", "lib.c"];
const DLL_FLAGS: [&str; 4] = ["/debug", "/dll", "/noentry", "/nodefaultlib"];

fn wrapper() -> String {
    support::our_bin("hotpatch-cl").to_str().unwrap().to_owned()
}

/// Compiles the fixtures to objects in `dir` (through the wrapper with clang-cl-19, or with
/// native clang-cl-22) and puts `lib.obj` into `lib.lib`.
fn compile(dir: &Path, native: bool) {
    let list = fixture_list();
    for src in SOURCES {
        let src = fixtures().join(src);
        let src = src.to_str().unwrap();
        let mut args = vec!["/c", "/Z7", "-O2", "/GS-", "/Zl"];
        if native {
            let flag = format!("-fms-secure-hotpatch-functions-list={list}");
            args.extend([flag.as_str(), "--", src]);
            support::run_ok(dir, "clang-cl-22", &args);
        } else {
            let flag = format!("-fms-hotpatch-functions-list={list}");
            let mut all = vec!["clang-cl-19"];
            all.extend(args);
            all.extend([flag.as_str(), "--", src]);
            support::run_ok(dir, &wrapper(), &all);
        }
    }
    support::run_ok(dir, "llvm-lib-22", &["/out:lib.lib", "lib.obj"]);
}

fn link_args(extra: &[&'static str]) -> Vec<&'static str> {
    let mut v = DLL_FLAGS.to_vec();
    v.extend(extra);
    v.extend(["app.obj", "helper.obj", "shapes.obj", "lib.lib"]);
    v
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `hotpatch dump --json PDB`: mangled name → (function_id, function_id_name), and the total
/// of blank S_SKIPs.
fn dump_json(dir: &Path, pdb: &str) -> (BTreeMap<String, (u64, Option<String>)>, u64) {
    let hotpatch = support::our_bin("hotpatch");
    let text = support::run_ok(dir, hotpatch.to_str().unwrap(), &["dump", "--json", pdb]);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let file = &v[0];
    assert_eq!(file["file"], pdb);
    assert_eq!(file["kind"], "pdb", "{text}");
    let mut records = BTreeMap::new();
    let mut blanks = 0;
    for m in file["modules"].as_array().unwrap() {
        blanks += m["blank_skips"].as_u64().unwrap();
        for r in m["records"].as_array().unwrap() {
            records.insert(
                r["name"].as_str().unwrap().to_owned(),
                (
                    r["function_id"].as_u64().unwrap(),
                    r["function_id_name"].as_str().map(str::to_owned),
                ),
            );
        }
    }
    (records, blanks)
}

/// Every fixture function is listed by `hotpatch dump --json` with the name its ID resolves to
/// and the same ID llvm-pdbutil shows.
fn assert_dump_lists_everything(dir: &Path, pdb: &str) {
    let (records, blanks) = dump_json(dir, pdb);
    assert_eq!(blanks, 0);
    let pdbutil: BTreeMap<String, u32> = support::pdb::symbols(dir, pdb)
        .into_values()
        .flat_map(|m| m.hotpatch.into_iter().map(|(id, n)| (n, id)))
        .collect();
    assert_eq!(records.len(), expected().len(), "{records:?}");
    for (mangled, (name, _, _)) in expected() {
        let (id, resolved) = &records[mangled];
        assert_eq!(resolved.as_deref(), Some(name), "{mangled}");
        assert_eq!(*id, u64::from(pdbutil[mangled]), "{mangled}");
    }
}

#[test]
fn wrapper_objects_linked_in_link_mode_keep_their_records() {
    let dir = tempfile::tempdir().unwrap();
    compile(dir.path(), false);
    let mut args = vec!["lld-link-22"];
    args.extend(link_args(&["/out:app.dll"]));
    let out = support::run(dir.path(), &wrapper(), &args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "", "a successful link prints nothing of ours");
    assert_fully_restored(dir.path(), "app.pdb");
    assert_readers_accept(dir.path(), "app.pdb");
    assert_dump_lists_everything(dir.path(), "app.pdb");
}

/// A directory holding `name` as a symbolic link to `target`.
#[cfg(unix)]
fn link_dir(parent: &Path, sub: &str, name: &str, target: &Path) -> PathBuf {
    let d = parent.join(sub);
    std::fs::create_dir_all(&d).unwrap();
    std::os::unix::fs::symlink(target, d.join(name)).unwrap();
    d
}

/// A directory holding `lld-link` as a symbolic link to the real lld-link-22.
#[cfg(unix)]
fn real_lld_link_dir(parent: &Path) -> PathBuf {
    link_dir(parent, "real", "lld-link", &support::tool("lld-link-22"))
}

/// `PATH` with `dirs` searched first, in order, then the test's own `PATH`.
#[cfg(unix)]
fn path_before_system(dirs: &[&Path]) -> std::ffi::OsString {
    let system = std::env::var_os("PATH").unwrap();
    let system: Vec<PathBuf> = std::env::split_paths(&system).collect();
    std::env::join_paths(dirs.iter().map(|d| d.to_path_buf()).chain(system)).unwrap()
}

#[cfg(unix)]
#[test]
fn native_objects_linked_through_the_lld_link_masquerade() {
    let dir = tempfile::tempdir().unwrap();
    compile(dir.path(), true);
    let tools = tempfile::tempdir().unwrap();
    let shims = link_dir(
        tools.path(),
        "shims",
        "lld-link",
        &support::our_bin("hotpatch-cl"),
    );
    let real = real_lld_link_dir(tools.path());
    // /debug and /out: come from a response file (Windows quoting, as lld-link reads it).
    std::fs::write(dir.path().join("link.rsp"), "/DEBUG \"/out:app.dll\"\r\n").unwrap();
    let mut args: Vec<&str> = link_args(&[]).into_iter().skip(1).collect();
    args.push("@link.rsp");

    // The real lld-link found after the shim on PATH (HOTPATCH_COMPILER names a compiler: not
    // used for linking).
    let path = path_before_system(&[&shims, &real]);
    let out = Command::new(shims.join("lld-link"))
        .args(&args)
        .current_dir(dir.path())
        .env("PATH", &path)
        .env("HOTPATCH_COMPILER", "clang-cl-19")
        .env_remove("HOTPATCH_LINKER")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_fully_restored(dir.path(), "app.pdb");
    assert_readers_accept(dir.path(), "app.pdb");
    assert_dump_lists_everything(dir.path(), "app.pdb");

    // HOTPATCH_LINKER, with only the shim on PATH.
    std::fs::remove_file(dir.path().join("app.pdb")).unwrap();
    let only_shim = path_before_system(&[&shims]);
    let run = |linker: Option<&str>| {
        let mut c = Command::new(shims.join("lld-link"));
        c.args(&args)
            .current_dir(dir.path())
            .env("PATH", &only_shim)
            .env_remove("HOTPATCH_COMPILER");
        match linker {
            Some(l) => c.env("HOTPATCH_LINKER", l),
            None => c.env_remove("HOTPATCH_LINKER"),
        };
        c.output().unwrap()
    };
    let out = run(Some("lld-link-22"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_fully_restored(dir.path(), "app.pdb");

    // No real lld-link anywhere: one clear line, not a loop through ourselves.
    let out = run(None);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("hotpatch-cl: error: linker 'lld-link' not found")
            && err.contains("HOTPATCH_LINKER")
            && err.lines().count() == 1,
        "{err}"
    );
}

#[test]
fn link_without_debug_writes_no_pdb_and_leaves_a_stale_one_alone() {
    let dir = tempfile::tempdir().unwrap();
    compile(dir.path(), false);
    let args: Vec<&str> = std::iter::once("lld-link-22")
        .chain(
            link_args(&["/out:app.dll"])
                .into_iter()
                .filter(|a| *a != "/debug"),
        )
        .collect();
    let out = support::run(dir.path(), &wrapper(), &args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(dir.path().join("app.dll").is_file());
    assert!(!dir.path().join("app.pdb").exists());

    // `/debug:none` after `/debug`, and a PDB from an earlier build lying there: untouched.
    std::fs::write(dir.path().join("app.pdb"), b"stale").unwrap();
    let mut args = vec!["lld-link-22"];
    args.extend(link_args(&["/debug:none", "/out:app.dll"]));
    let out = support::run(dir.path(), &wrapper(), &args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(dir.path().join("app.pdb")).unwrap(), b"stale");
}

#[test]
fn failed_link_relays_lld_exit_code_and_stderr_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    compile(dir.path(), false);
    // app.obj calls helper_b, fn_lib and cpp_entry: without their objects the link fails.
    let mut args = APP_LINK.to_vec();
    args.push("app.obj");
    let plain = support::run(dir.path(), "lld-link-22", &args);
    assert!(!plain.status.success());
    let mut wrapped_args = vec!["lld-link-22"];
    wrapped_args.extend(args);
    let wrapped = support::run(dir.path(), &wrapper(), &wrapped_args);
    assert_eq!(wrapped.status.code(), plain.status.code());
    assert_eq!(stderr(&wrapped), stderr(&plain));
    assert!(
        stderr(&plain).contains("undefined symbol"),
        "{}",
        stderr(&plain)
    );
    assert_eq!(wrapped.stdout, plain.stdout);
}

#[test]
fn fixup_failure_is_one_error_line_and_leaves_the_pdb_as_lld_wrote_it() {
    let dir = tempfile::tempdir().unwrap();
    compile(dir.path(), false);
    // Make helper.obj's S_HOTPATCHFUNC name a function ID that is no LF_FUNC_ID: lld-link
    // blanks the record as always, and the fix-up cannot translate it.
    let obj = dir.path().join("helper.obj");
    let mut bytes = std::fs::read(&obj).unwrap();
    let at = bytes
        .windows(10)
        .position(|w| w[0..2] == [0x69, 0x11] && &w[6..] == b"help")
        .expect("S_HOTPATCHFUNC helper_b in helper.obj");
    bytes[at + 2..at + 6].copy_from_slice(&0x7fffu32.to_le_bytes());
    std::fs::write(&obj, &bytes).unwrap();

    let args = link_args(&["/Brepro", "/out:app.dll"]);
    support::run_ok(dir.path(), "lld-link-22", &args);
    let as_lld_wrote = std::fs::read(dir.path().join("app.pdb")).unwrap();
    std::fs::remove_file(dir.path().join("app.pdb")).unwrap();

    let mut wrapped = vec!["lld-link-22"];
    wrapped.extend(args);
    let out = support::run(dir.path(), &wrapper(), &wrapped);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("hotpatch-cl: error: PDB fix-up after lld-link: app.pdb: ")
            && err.contains("helper_b")
            && err.contains("left as lld-link wrote it"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("app.pdb")).unwrap(),
        as_lld_wrote,
        "all or nothing: the other modules' records are not written either"
    );
}

#[cfg(unix)]
#[test]
fn compile_and_link_with_fuse_ld_lld_ends_with_a_fixed_pdb() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // lib.lib from the wrapper; the other sources compiled and linked in one wrapper run.
    compile(d, false);
    for src in SOURCES {
        std::fs::copy(fixtures().join(src), d.join(src)).unwrap();
        let _ = std::fs::remove_file(d.join(src).with_extension("obj"));
    }
    // clang-cl runs `lld-link` from PATH for -fuse-ld=lld.
    let tools = tempfile::tempdir().unwrap();
    let path = path_before_system(&[&real_lld_link_dir(tools.path())]);
    let flag = format!("-fms-hotpatch-functions-list={}", fixture_list());
    let run = |fo: Option<&str>| {
        let mut c = Command::new(support::our_bin("hotpatch-cl"));
        c.args([
            "clang-cl-19",
            "-fuse-ld=lld",
            "/Z7",
            "-O2",
            "/GS-",
            "/Zl",
            &flag,
        ]);
        c.args(fo);
        c.args(["/Feapp.exe", "app.c", "helper.c", "shapes.cpp", "lib.lib"]);
        c.args([
            "/link",
            "/debug",
            "/nodefaultlib",
            "/entry:main",
            "/subsystem:console",
        ]);
        c.current_dir(d).env("PATH", &path).output().unwrap()
    };
    // Objects where /Fo says (so the modules are named app.obj, …).
    std::fs::create_dir_all(d.join("obj")).unwrap();
    let out = run(Some("/Foobj/"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_fully_restored(d, "app.pdb");
    assert_readers_accept(d, "app.pdb");

    // Objects in the wrapper's temporary directory: fixed before it is removed.
    std::fs::remove_file(d.join("app.pdb")).unwrap();
    let out = run(None);
    assert!(out.status.success(), "{}", stderr(&out));
    let syms = support::pdb::symbols(d, "app.pdb");
    assert!(syms.values().all(|m| m.skips.is_empty()), "{syms:#?}");
    assert_dump_lists_everything(d, "app.pdb");
}

#[test]
fn dump_tells_a_pdb_by_its_magic_and_shows_blank_records() {
    let dir = tempfile::tempdir().unwrap();
    compile(dir.path(), false);
    support::run_ok(dir.path(), "lld-link-22", &link_args(&["/out:app.dll"]));
    std::fs::copy(dir.path().join("app.pdb"), dir.path().join("app.sym")).unwrap();
    let (records, blanks) = dump_json(dir.path(), "app.sym");
    assert!(
        records.is_empty(),
        "lld-link alone keeps no record: {records:?}"
    );
    assert_eq!(blanks, expected().len() as u64);
    let hotpatch = support::our_bin("hotpatch");
    let table = support::run_ok(dir.path(), hotpatch.to_str().unwrap(), &["dump", "app.sym"]);
    assert!(table.contains("S_HOTPATCHFUNC records: 0"), "{table}");
    assert!(table.contains("blank S_SKIP records: 10"), "{table}");

    let mut args = vec!["lld-link-22"];
    args.extend(link_args(&["/out:app.dll"]));
    support::run_ok(dir.path(), &wrapper(), &args);
    let table = support::run_ok(dir.path(), hotpatch.to_str().unwrap(), &["dump", "app.pdb"]);
    assert!(table.contains("S_HOTPATCHFUNC records: 10"), "{table}");
    assert!(
        regex::Regex::new(r"0x[0-9a-f]{4}  over +\?over@@YAHN@Z")
            .unwrap()
            .is_match(&table),
        "{table}"
    );
}
