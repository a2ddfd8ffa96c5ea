//! The Windows build in front of the real Windows compilers, under Wine: hotpatch-cl.exe and
//! hotpatch.exe with clang-cl 16.0.6, 19.1.7 and 22.1.8 for Windows (zig.exe of the ziglang
//! 0.11.0, 0.14.1 and 0.17.1 wheels), their lld-link and llvm-lib, and CMake 4.4.5 and Ninja
//! 1.13.2 for Windows.
//!
//! Only Windows programs run under Wine (a Windows program there gets no usable handle on a
//! Linux one); this Linux test process starts them through `scripts/windows/wine-run` and reads
//! what they wrote with the independent Linux readers (llvm-readobj-22, llvm-objdump-22,
//! llvm-pdbutil-22), as the other oracle tests do.
//!
//! They need the Windows build and the Windows tools, so `make test` leaves them out (ignored);
//! `scripts/windows.sh real` (part of `make test-windows` and CI) fetches the tools into
//! target/windows-tools, builds hotpatch-cl.exe and runs them with `--ignored`.

use crate::support::{self, objects};
use crate::wrapper_oracle::{self as oracle, Case, ANON, CASES, X64};

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `target/windows-tools/zig-VERSION/bin/TOOL.exe` (a forwarder into that zig.exe).
fn zig_tool(version: &str, tool: &str) -> PathBuf {
    let p = repo()
        .join("target/windows-tools")
        .join(format!("zig-{version}"))
        .join("bin")
        .join(format!("{tool}.exe"));
    assert!(
        p.is_file(),
        "{}: missing: run scripts/windows.sh tools",
        p.display()
    );
    p
}

/// clang-cl for Windows of the given LLVM major version.
fn clang_cl(major: u32) -> PathBuf {
    zig_tool(zig_of(major), "clang-cl")
}

/// The ziglang release that carries clang `major`.
fn zig_of(major: u32) -> &'static str {
    match major {
        16 => "0.11.0",
        19 => "0.14.1",
        22 => "0.17.1",
        _ => panic!("no Windows clang {major}"),
    }
}

/// The Windows build of one of our programs (`scripts/windows.sh build`).
fn win_exe(name: &str) -> PathBuf {
    let p = repo()
        .join("target/x86_64-pc-windows-gnu/release")
        .join(format!("{name}.exe"));
    assert!(
        p.is_file(),
        "{}: missing: run scripts/windows.sh build",
        p.display()
    );
    p
}

/// A Linux path as the Windows programs under Wine spell it (drive Z: is `/`).
fn w(p: &Path) -> String {
    let abs = std::path::absolute(p).unwrap();
    format!("Z:{}", abs.display()).replace('/', "\\")
}

/// A Windows program under Wine, in `dir`, without our `HOTPATCH_*` settings.
fn wine<S: AsRef<OsStr>>(dir: &Path, program: S) -> Command {
    let mut c = Command::new(repo().join("scripts/windows/wine-run"));
    c.current_dir(dir).arg(program);
    for k in [
        "HOTPATCH_MODE",
        "HOTPATCH_VERBOSE",
        "HOTPATCH_WERROR",
        "HOTPATCH_COMPILER",
    ] {
        c.env_remove(k);
    }
    c
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Who compiles: the Windows clang-cl itself with clang 22's own flag, or hotpatch-cl.exe in
/// front of it with the flag hotpatch-cl reads, in a `HOTPATCH_MODE`.
#[derive(Clone, Copy)]
enum Via {
    Native(u32),
    Ours(u32, &'static str),
}

/// Compiles oracle `case` for `target` in `dir` to `out`, as the Linux oracle does
/// (`wrapper_oracle`), with Windows paths.
fn compile(dir: &Path, case: &Case, list: &str, target: &str, via: Via, out: &str) -> PathBuf {
    let obj = dir.join(out);
    let mut args: Vec<String> = vec![format!("--target={target}")];
    args.extend(oracle::CL_FLAGS.iter().map(|s| s.to_string()));
    args.extend(case.flags.iter().map(|s| s.to_string()));
    let mut cmd = match via {
        Via::Native(v) => {
            args.push(format!("-fms-secure-hotpatch-functions-list={list}"));
            wine(dir, clang_cl(v))
        }
        Via::Ours(v, mode) => {
            args.push(format!("-fms-hotpatch-functions-list={list}"));
            let mut c = wine(dir, win_exe("hotpatch-cl"));
            c.arg(w(&clang_cl(v))).env("HOTPATCH_MODE", mode);
            c
        }
    };
    args.extend([
        format!("/Fo{}", w(&obj)),
        "--".into(),
        w(&oracle::fixture(case.src)),
    ]);
    support::command_ok(cmd.args(&args));
    obj
}

/// The mangled name of the anonymous-namespace function of `src`, from the Windows clang-cl
/// `major`'s IR (the name hashes the source's path as the compiler was given it, and clang 16
/// hashes it differently from 19 and 22).
fn anon_name(dir: &Path, src: &Path, major: u32) -> String {
    let ll = dir.join(format!("anon{major}.ll"));
    support::command_ok(wine(dir, clang_cl(major)).args([
        "-O2".into(),
        "/clang:-S".into(),
        "/clang:-emit-llvm".into(),
        format!("/clang:-o{}", w(&ll)),
        "--".into(),
        w(src),
    ]));
    let text = std::fs::read_to_string(&ll).unwrap();
    let re =
        regex::Regex::new(r#"(?m)^define .*@"(\?[A-Za-z_]+@\?A0x[0-9A-F]+@@[^"]*)"\("#).unwrap();
    re.captures(&text)
        .map(|c| c[1].to_owned())
        .expect("no anonymous-namespace function defined")
}

/// `hotpatch.exe verify --functions=LIST OBJ` under Wine.
fn verify(dir: &Path, list: &str, obj: &Path) -> Output {
    wine(dir, win_exe("hotpatch"))
        .args(["verify".into(), format!("--functions={list}"), w(obj)])
        .output()
        .unwrap()
}

/// One case on one target: native Windows clang-cl 22 against hotpatch-cl.exe with the
/// Windows clang-cl 22 (`rewrite`, exact comparison where the Linux oracle makes it) and 19.1.7
/// (`auto`, exact comparison, as the Linux oracle), and clang 16.0.6; every one of ours also by
/// the rules: a record per listed function, `__ref_`s read-only, `hotpatch.exe verify` clean.
/// Returns the differences.
fn check_target(case: &Case, target: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let list_of = |major: u32| -> Vec<String> {
        case.list
            .iter()
            .map(|n| {
                if *n == ANON {
                    anon_name(d, &oracle::fixture(case.src), major)
                } else {
                    (*n).to_owned()
                }
            })
            .collect()
    };
    let list = list_of(22);
    let joined = list.join(",");
    let label = format!("{} {target}", case.src);
    let native = compile(d, case, &joined, target, Via::Native(22), "native.obj");
    let nv = oracle::view(&native);
    let mut bad = Vec::new();
    // clang 22 through the rewrite is compared exactly where the Linux oracle compares it
    // (`rewrite22`), and by the rules everywhere.
    let runs = [
        (19, "auto", "ours19.obj", true),
        (22, "rewrite", "ours22.obj", case.rewrite22),
        (16, "auto", "ours16.obj", false),
    ];
    for (major, mode, out, exact) in runs {
        let list = if major == 16 {
            list_of(16)
        } else {
            list.clone()
        };
        let joined = list.join(",");
        let obj = compile(d, case, &joined, target, Via::Ours(major, mode), out);
        let ov = oracle::view(&obj);
        objects::assert_refs_read_only(&obj, &ov.refs);
        let label = format!("{label} Windows clang-cl {major} ({mode})");
        if exact {
            bad.extend(oracle::compare(&label, case, &list, &ov, &nv));
        }
        let v = verify(d, &joined, &obj);
        if !v.status.success() {
            bad.push(format!("{label}: hotpatch.exe verify: {}", text(&v)));
        }
        let names: BTreeSet<&str> = ov.records.iter().map(|(_, n)| n.as_str()).collect();
        if names != list.iter().map(String::as_str).collect() {
            bad.push(format!("{label}: records {names:?}, list {list:?}"));
        }
    }
    bad
}

/// Runs `jobs` on two workers (the machine has two cores), collecting what they return.
fn in_parallel<T: Sync>(jobs: &[T], f: impl Fn(&T) -> Vec<String> + Sync) -> Vec<String> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let out = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(job) = jobs.get(i) else { break };
                let bad = f(job);
                out.lock().unwrap().extend(bad);
            });
        }
    });
    out.into_inner().unwrap()
}

#[test]
#[ignore = "needs the Windows build and tools: scripts/windows.sh real"]
fn windows_clang_cl_16_19_22_through_hotpatch_cl_exe_match_native_clang_cl_22() {
    let jobs: Vec<(&Case, &str)> = CASES
        .iter()
        .flat_map(|c| c.targets.iter().map(move |t| (c, *t)))
        .collect();
    let failures = in_parallel(&jobs, |(case, target)| check_target(case, target));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The rules check can fail: a plain compile of a listed function is no hot-patch build.
#[test]
#[ignore = "needs the Windows build and tools: scripts/windows.sh real"]
fn hotpatch_exe_verify_rejects_a_windows_clang_object_without_hot_patching() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let obj = d.join("plain.obj");
    support::command_ok(wine(d, clang_cl(16)).args([
        "/c".into(),
        "/Z7".into(),
        "-O2".into(),
        "/Gy".into(),
        format!("/Fo{}", w(&obj)),
        "--".into(),
        w(&oracle::fixture("tables.c")),
    ]));
    let v = verify(d, "apply,greet", &obj);
    assert_eq!(v.status.code(), Some(1), "{}", text(&v));
    assert!(text(&v).contains("apply"), "{}", text(&v));
}

// ---- CMake 4.4.5 and Ninja 1.13.2 for Windows, under Wine ----

fn cmake_exe() -> PathBuf {
    let p = repo().join("target/windows-tools/cmake/cmake/data/bin/cmake.exe");
    assert!(
        p.is_file(),
        "{}: missing: run scripts/windows.sh tools",
        p.display()
    );
    p
}

fn ninja_exe() -> PathBuf {
    let p = repo().join("target/windows-tools/ninja/ninja-1.13.2.data/scripts/ninja.exe");
    assert!(
        p.is_file(),
        "{}: missing: run scripts/windows.sh tools",
        p.display()
    );
    p
}

/// [`w`] with forward slashes, as CMake likes its paths.
fn wf(p: &Path) -> String {
    w(p).replace('\\', "/")
}

/// `cmake.exe -G Ninja` of `src` into `build` with the Windows clang-cl `major` (its
/// llvm-lib as the archiver; no Windows SDK here, so the compiler checks build a library),
/// plus `extra` settings.
fn configure(src: &Path, build: &Path, major: u32, extra: &[String]) {
    std::fs::create_dir_all(build).unwrap();
    let zig = zig_of(major);
    let mut args = vec![
        "-G".to_owned(),
        "Ninja".to_owned(),
        "-S".to_owned(),
        wf(src),
        "-B".to_owned(),
        wf(build),
        format!("-DCMAKE_MAKE_PROGRAM={}", wf(&ninja_exe())),
        format!("-DCMAKE_C_COMPILER={}", wf(&clang_cl(major))),
        format!("-DCMAKE_CXX_COMPILER={}", wf(&clang_cl(major))),
        format!("-DCMAKE_AR={}", wf(&zig_tool(zig, "llvm-lib"))),
        format!("-DCMAKE_LINKER={}", wf(&zig_tool(zig, "lld-link"))),
        "-DCMAKE_TRY_COMPILE_TARGET_TYPE=STATIC_LIBRARY".to_owned(),
    ];
    args.extend_from_slice(extra);
    support::command_ok(wine(build, cmake_exe()).args(&args));
}

/// `ninja.exe -d explain` in `build`; returns the outputs ninja built (`[i/n] …` lines name
/// their step) and its whole output.
fn ninja(build: &Path) -> (Vec<String>, String) {
    let o = support::command_ok(wine(build, ninja_exe()).args(["-d", "explain"]));
    let all = text(&o);
    let steps = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| l.starts_with('['))
        .map(|l| l.split_once("] ").map_or(l, |(_, s)| s).replace('\\', "/"))
        .collect();
    (steps, all)
}

/// A second `ninja` has nothing to do (every dependency Ninja recorded exists and is older).
#[track_caller]
fn assert_up_to_date(build: &Path) {
    let (steps, all) = ninja(build);
    if !steps.is_empty() || !all.contains("no work to do") {
        let deps = support::command_ok(wine(build, ninja_exe()).args(["-t", "deps"]));
        panic!("{all}\nninja -t deps:\n{}", text(&deps));
    }
}

/// Rewrites `list` in place (same file, new content), as an editor's save does.
fn edit_in_place(list: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(list)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// `hotpatch.exe verify --functions-file=… DIR` under Wine, which must pass.
#[track_caller]
fn verify_dir_ok(dir: &Path, lists: &[&Path], build: &Path) -> String {
    let mut c = wine(dir, win_exe("hotpatch"));
    c.arg("verify");
    for l in lists {
        c.arg(format!("--functions-file={}", w(l)));
    }
    let o = c.arg(w(build)).output().unwrap();
    assert!(
        o.status.success(),
        "hotpatch.exe verify {}: {}",
        build.display(),
        text(&o)
    );
    text(&o)
}

/// The one object CMake made of `source` under `build`.
fn object_of(build: &Path, source: &str) -> PathBuf {
    let mut found = Vec::new();
    let mut stack = vec![build.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name() == Some(OsStr::new(&format!("{source}.obj"))) {
                found.push(p);
            }
        }
    }
    assert_eq!(
        found.len(),
        1,
        "{source}.obj under {}: {found:?}",
        build.display()
    );
    found.pop().unwrap()
}

/// Records and read-only `__ref_`s of a CMake-built object.
#[track_caller]
fn assert_hot(obj: &Path, want: &[&str]) {
    let names: BTreeSet<String> = objects::hotpatch_records(obj)
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    let want: BTreeSet<String> = want.iter().map(|s| s.to_string()).collect();
    assert_eq!(names, want, "{}", obj.display());
    let refs = objects::ref_symbols(obj);
    assert!(!refs.is_empty(), "{}: no __ref_", obj.display());
    objects::assert_refs_read_only(obj, &refs);
}

/// examples/c-counter through shims/cmake/hotpatch-cl.cmake with the Windows clang-cl 19.1.7
/// (which has no hot-patching of its own): the build verifies, and editing the list file in
/// place rebuilds the one object and its library, and nothing after that.
#[test]
#[ignore = "needs the Windows build and tools: scripts/windows.sh real"]
fn cmake_and_ninja_for_windows_build_c_counter_through_the_toolchain_file() {
    let root = tempfile::tempdir().unwrap();
    let src = root.path().join("c-counter");
    let build = root.path().join("build");
    std::fs::create_dir_all(&src).unwrap();
    for f in ["CMakeLists.txt", "counter.c", "hotpatch.txt"] {
        std::fs::copy(repo().join("examples/c-counter").join(f), src.join(f)).unwrap();
    }
    configure(
        &src,
        &build,
        19,
        &[
            format!(
                "-DCMAKE_TOOLCHAIN_FILE={}",
                wf(&repo().join("shims/cmake/hotpatch-cl.cmake"))
            ),
            format!("-DHOTPATCH_CL={}", wf(&win_exe("hotpatch-cl"))),
            "-DHOTPATCH_FUNCTIONS_FILE=hotpatch.txt".to_owned(),
        ],
    );
    let (steps, all) = ninja(&build);
    assert_eq!(steps.len(), 2, "{all}");
    let list = src.join("hotpatch.txt");
    verify_dir_ok(root.path(), &[&list], &build);
    let obj = object_of(&build, "counter.c");
    assert_hot(&obj, &["handle_request"]);

    edit_in_place(&list, "handle_request\nerrors_seen\n");
    let (steps, all) = ninja(&build);
    assert_eq!(
        steps,
        [
            "Building C object CMakeFiles/counter.dir/counter.c.obj",
            "Linking C static library counter.lib"
        ],
        "{all}"
    );
    assert_hot(&obj, &["handle_request", "errors_seen"]);
    verify_dir_ok(root.path(), &[&list], &build);
    assert_up_to_date(&build);
}

/// A C library and a C++ library (the two examples), hot-patched through
/// `-DCMAKE_C_COMPILER_LAUNCHER=hotpatch-cl.exe` (and CXX) with the Windows clang-cl 22.1.8,
/// each with a list file of its own given on its compile line (`/MP`, as MSBuild passes it,
/// too), every compile line in a response file (`CMAKE_NINJA_FORCE_RESPONSE_FILE`). Editing
/// the C list in place rebuilds exactly the C object and its library.
#[test]
#[ignore = "needs the Windows build and tools: scripts/windows.sh real"]
fn cmake_and_ninja_for_windows_with_hotpatch_cl_exe_as_the_launcher_rebuild_exactly_what_a_list_touches(
) {
    let root = tempfile::tempdir().unwrap();
    let src = root.path().join("src");
    let build = root.path().join("build");
    std::fs::create_dir_all(&src).unwrap();
    for (from, to) in [
        ("examples/c-counter/counter.c", "counter.c"),
        ("examples/cpp-shapes/shapes.cpp", "shapes.cpp"),
        ("examples/c-counter/hotpatch.txt", "counter.txt"),
        ("examples/cpp-shapes/hotpatch.txt", "shapes.txt"),
    ] {
        std::fs::copy(repo().join(from), src.join(to)).unwrap();
    }
    std::fs::write(
        src.join("CMakeLists.txt"),
        r#"cmake_minimum_required(VERSION 3.20)
project(both C CXX)
add_library(counter STATIC counter.c)
target_compile_options(counter PRIVATE /Z7 /O2 /GS- /Zl /MP /hotpatch
  "-fms-hotpatch-functions-file=${CMAKE_SOURCE_DIR}/counter.txt")
add_library(shapes STATIC shapes.cpp)
target_compile_options(shapes PRIVATE /Z7 /O2 /GS- /Zl /GR- /EHs-c- /MP /hotpatch
  "-fms-hotpatch-functions-file=${CMAKE_SOURCE_DIR}/shapes.txt")
"#,
    )
    .unwrap();
    let hp = wf(&win_exe("hotpatch-cl"));
    configure(
        &src,
        &build,
        22,
        &[
            format!("-DCMAKE_C_COMPILER_LAUNCHER={hp}"),
            format!("-DCMAKE_CXX_COMPILER_LAUNCHER={hp}"),
            "-DCMAKE_NINJA_FORCE_RESPONSE_FILE=ON".to_owned(),
        ],
    );
    let (steps, all) = ninja(&build);
    assert_eq!(steps.len(), 4, "{all}");
    let rules = std::fs::read_to_string(build.join("CMakeFiles/rules.ninja")).unwrap();
    assert!(rules.contains("rspfile"), "no response files: {rules}");
    let (cl, sl) = (src.join("counter.txt"), src.join("shapes.txt"));
    verify_dir_ok(root.path(), &[&cl, &sl], &build);
    let counter = object_of(&build, "counter.c");
    let shapes = object_of(&build, "shapes.cpp");
    assert_hot(&counter, &["handle_request"]);
    assert_hot(
        &shapes,
        &[
            "?scale@geo@@YAHH@Z",
            "?scale@geo@@YAJJ@Z",
            "?measure@@YAHHH@Z",
        ],
    );
    let shapes_before = std::fs::read(&shapes).unwrap();

    edit_in_place(&cl, "handle_request\nerrors_seen\n");
    let (steps, all) = ninja(&build);
    assert_eq!(
        steps,
        [
            "Building C object CMakeFiles/counter.dir/counter.c.obj",
            "Linking C static library counter.lib"
        ],
        "{all}"
    );
    assert_hot(&counter, &["handle_request", "errors_seen"]);
    assert_eq!(std::fs::read(&shapes).unwrap(), shapes_before);
    verify_dir_ok(root.path(), &[&cl, &sl], &build);
    assert_up_to_date(&build);
}

// ---- Linking and running with the Windows lld-link ----

/// mingw-w64's kernel32 import library (a Linux file the Windows lld-link reads on `Z:`), the
/// loader programs' one library.
const MINGW_KERNEL32: &str = "/usr/x86_64-w64-mingw32/lib/libkernel32.a";

/// The loader simulation of tests/e2e/loader, built by Windows programs only:
/// hotpatch-cl.exe with the Windows clang-cl 19.1.7 compiles the patch, the same clang-cl the
/// base, and `hotpatch-cl.exe lld-link.exe /debug` links the patch DLL, whose PDB keeps the
/// `S_HOTPATCHFUNC` record (lld-link alone blanks it out); the Windows lld-link links the base
/// program, which then re-points the patch's `__ref_counter` under Wine and exits 0, as the
/// Linux-built one does (e2e_wine).
#[test]
#[ignore = "needs the Windows build and tools: scripts/windows.sh real"]
fn programs_compiled_and_linked_by_the_windows_tools_keep_their_records_and_run() {
    assert!(
        Path::new(MINGW_KERNEL32).is_file(),
        "{MINGW_KERNEL32} is missing: apt-get install mingw-w64-x86-64-dev"
    );
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = repo().join("tests/e2e/loader");
    let flags = ["/nologo", "/c", "/Z7", "/O2", "/GS-", "/Zl"];
    support::command_ok(
        wine(d, win_exe("hotpatch-cl"))
            .arg(w(&clang_cl(19)))
            .args(flags)
            .args(["/hotpatch", "-fms-secure-hotpatch-functions-list=bump"])
            .arg(format!("/Fo{}", w(&d.join("patch.obj"))))
            .arg("--")
            .arg(w(&src.join("patch.c"))),
    );
    support::command_ok(
        wine(d, clang_cl(19))
            .args(flags)
            .arg(format!("/Fo{}", w(&d.join("base.obj"))))
            .arg("--")
            .arg(w(&src.join("base.c"))),
    );
    let lld = w(&zig_tool(zig_of(19), "lld-link"));
    let link = |through_us: bool, pdb: &str| {
        let mut c = if through_us {
            let mut c = wine(d, win_exe("hotpatch-cl"));
            c.arg(&lld);
            c
        } else {
            wine(d, &lld)
        };
        c.args([
            "/nologo",
            "/dll",
            "/noentry",
            "/nodefaultlib",
            "/debug",
            "/export:bump",
            "/export:__ref_counter,DATA",
            "/out:patch.dll",
        ])
        .arg(format!("/pdb:{pdb}"))
        .arg("patch.obj");
        support::command_ok(&mut c);
    };
    // The Windows lld-link alone: the record's name is gone from the PDB (what the wrapper's
    // link mode is for), so the check below can tell.
    link(false, "plain.pdb");
    let plain = support::pdb::symbols(d, "plain.pdb");
    assert!(
        !plain["patch.obj"].hotpatch.iter().any(|(_, n)| n == "bump"),
        "lld-link kept the record by itself: {:?}",
        plain["patch.obj"].hotpatch
    );
    link(true, "patch.pdb");
    let syms = support::pdb::symbols(d, "patch.pdb");
    let names: Vec<&str> = syms["patch.obj"]
        .hotpatch
        .iter()
        .map(|(_, n)| n.as_str())
        .collect();
    assert_eq!(names, ["bump"], "{syms:?}");
    assert!(syms["patch.obj"].skips.is_empty(), "{syms:?}");
    let id = syms["patch.obj"].hotpatch[0].0;
    let ids = support::pdb::ids(d, "patch.pdb");
    assert_eq!(
        ids.get(&id).map(|(k, n, _)| (k.as_str(), n.as_str())),
        Some(("LF_FUNC_ID", "bump")),
        "{id:#x} in {ids:?}"
    );
    support::command_ok(wine(d, &lld).args([
        "/nologo".to_owned(),
        "/entry:start".to_owned(),
        "/subsystem:console".to_owned(),
        "/nodefaultlib".to_owned(),
        "/out:base.exe".to_owned(),
        "base.obj".to_owned(),
        w(Path::new(MINGW_KERNEL32)),
    ]));
    let run = wine(d, d.join("base.exe")).output().unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "base.exe failed at step {:?} (see tests/e2e/loader/base.c): {}",
        run.status.code(),
        text(&run)
    );
}

/// `/MP2` over two sources, every argument in a UTF-16 response file with a byte-order mark as
/// MSBuild writes them, the Windows clang-cl 19.1.7 behind hotpatch-cl.exe: each object has its
/// own records and read-only `__ref_`s.
#[test]
#[ignore = "needs the Windows build and tools: scripts/windows.sh real"]
fn mp_and_a_utf16_response_file_with_the_windows_clang_cl() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("obj dir");
    std::fs::create_dir_all(&out).unwrap();
    let c = repo().join("examples/c-counter/counter.c");
    let s = repo().join("tests/fixtures/oracle/tables.c");
    let rsp = format!(
        "/c /Z7 /O2 /GS- /hotpatch /MP2\r\n\"-fms-hotpatch-functions-list=handle_request,apply,greet\"\r\n\"/Fo{}\\\\\"\r\n\"{}\"\r\n\"{}\"\r\n",
        w(&out),
        w(&c),
        w(&s)
    );
    let mut bytes = vec![0xFF, 0xFE];
    for u in rsp.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    std::fs::write(d.join("args.rsp"), bytes).unwrap();
    support::command_ok(
        wine(d, win_exe("hotpatch-cl"))
            .arg(w(&clang_cl(19)))
            .arg(format!("@{}", w(&d.join("args.rsp")))),
    );
    for (obj, want) in [
        ("counter.obj", &["handle_request"][..]),
        ("tables.obj", &["apply", "greet"][..]),
    ] {
        assert_hot(&out.join(obj), want);
    }
}

// ---- zig as the compiler ----

/// The Linux zig 0.14.1 (clang 19.1.7), from `scripts/windows.sh tools`.
fn linux_zig() -> PathBuf {
    let p = repo().join("target/windows-tools/zig-linux-0.14.1/ziglang/zig");
    assert!(
        p.is_file(),
        "{}: missing: run scripts/windows.sh tools",
        p.display()
    );
    p
}

/// Compares records, `__ref_`s and relocation targets per hot-patched function of two objects
/// of the same source (the oracle's comparison, `tables.c`'s case).
#[track_caller]
fn assert_same_hot_patching(label: &str, ours: &Path, reference: &Path) {
    let case = CASES.iter().find(|c| c.src == "tables.c").unwrap();
    assert_case_hot_patched_alike(label, case, ours, reference);
}

/// The oracle's comparison of `ours` with `reference` for `case`, after checking that every
/// `__ref_` of `ours` is read-only; returns the view of `ours`.
#[track_caller]
fn assert_case_hot_patched_alike(
    label: &str,
    case: &Case,
    ours: &Path,
    reference: &Path,
) -> oracle::View {
    let list: Vec<String> = case.list.iter().map(|s| s.to_string()).collect();
    let (o, r) = (oracle::view(ours), oracle::view(reference));
    objects::assert_refs_read_only(ours, &o.refs);
    let bad = oracle::compare(label, case, &list, &o, &r);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    o
}

/// `hotpatch-cl zig clang …` (GNU mode, and cl mode with `--driver-mode=cl`) on Linux hot-patches
/// as `hotpatch-cl clang-19` / `clang-cl-19` do (the same clang 19.1.7); a plain `zig cc`
/// passes through.
#[test]
#[ignore = "needs the Windows build and tools: scripts/windows.sh real"]
fn zig_clang_and_zig_cc_as_the_compiler_on_linux() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let zig = linux_zig();
    let src = oracle::fixture("tables.c");
    let case = CASES.iter().find(|c| c.src == "tables.c").unwrap();
    let list = format!("-fms-hotpatch-functions-list={}", case.list.join(","));
    let src = src.to_str().unwrap();
    let cl = [
        "--target=x86_64-pc-windows-msvc",
        "/c",
        "/Z7",
        "-O2",
        "/GS-",
        "/Gy",
        "/Brepro",
        "/hotpatch",
        &list,
    ];
    let run = |compiler: &[&OsStr], args: &[&str], out_flag: &str, name: &str| -> PathBuf {
        support::command_ok(
            support::hotpatch_cl(d)
                .args(compiler)
                .args(args)
                .arg(format!("{out_flag}{name}"))
                .args(["--", src]),
        );
        d.join(name)
    };
    let z = zig.as_os_str();
    let clang_cl19 = support::tool("clang-cl-19");
    let want = run(&[clang_cl19.as_os_str()], &cl, "/Fo", "ref.obj");
    let ours = run(
        &[z, OsStr::new("clang"), OsStr::new("--driver-mode=cl")],
        &cl,
        "/Fo",
        "zig-cl.obj",
    );
    assert_same_hot_patching("zig clang --driver-mode=cl", &ours, &want);

    let gnu = [
        "--target=x86_64-pc-windows-msvc",
        "-c",
        "-O2",
        "-g",
        "-gcodeview",
        "-fms-hotpatch",
        "-ffunction-sections",
        &list,
    ];
    let clang19 = support::tool("clang-19");
    let want = run(&[clang19.as_os_str()], &gnu, "-o", "ref-gnu.obj");
    let ours = run(&[z, OsStr::new("clang")], &gnu, "-o", "zig-gnu.obj");
    assert_same_hot_patching("zig clang", &ours, &want);

    // `zig cc`: a plain compile passes through.
    let plain = support::hotpatch_cl(d)
        .arg(&zig)
        .args([
            "cc",
            "-target",
            "x86_64-windows-msvc",
            "-c",
            "-O2",
            "-o",
            "cc.obj",
            src,
        ])
        .output()
        .unwrap();
    support::assert_success(&plain, "hotpatch-cl zig cc (plain)");
    assert!(d.join("cc.obj").is_file());
}

/// `hotpatch-cl zig cc|c++ -target x86_64-windows-gnu -gcodeview -fms-hotpatch -O2 …` (zig's own
/// argument parser, which refuses `--` and `-x ir`: the steps name their inputs without `--`, the
/// IR by its `.ll`) hot-patches as native `clang-22 --target=x86_64-w64-windows-gnu
/// -fms-secure-hotpatch-functions-list=` does: same records, `__ref_` set and relocation
/// targets per marked function, `__ref_`s read-only, and with `-MD` the dependency file of a
/// plain `zig cc` (whose `-S` writes nothing then). zig adds flags of its own (`-D NDEBUG`,
/// frame pointers, its MinGW headers): none changes which globals a function uses.
#[test]
#[ignore = "needs the Windows build and tools: scripts/windows.sh real"]
fn zig_cc_and_zig_cxx_hot_patch_on_linux() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let zig = linux_zig();
    let tables = CASES.iter().find(|c| c.src == "tables.c").unwrap();
    // MinGW has no `??_C@` string literals: the strings are private `.str`s, used directly.
    let tables = Case {
        direct_prefixes: &[],
        ..*tables
    };
    let pressure = Case {
        src: "pressure.cpp",
        list: &[
            "_Z7compactPvPjyPKvyy",
            "_Z5blendPfPKfPKjyyffff",
            "_Z9add_focusb",
            "_Z8add_moveff",
            "_Z8owner_ofi",
        ],
        direct: &[],
        redirected: &[],
        ..tables
    };
    for (sub, case) in [("cc", &tables), ("c++", &pressure)] {
        let src = oracle::fixture(case.src);
        let src = src.to_str().unwrap();
        let joined = case.list.join(",");
        let native = d.join(format!("native-{sub}.o"));
        let ours = d.join(format!("zig-{sub}.o"));
        support::run_ok(
            d,
            "clang-22",
            &[
                "--target=x86_64-w64-windows-gnu",
                "-gcodeview",
                "-fms-hotpatch",
                "-O2",
                &format!("-fms-secure-hotpatch-functions-list={joined}"),
                "-c",
                src,
                "-o",
                native.to_str().unwrap(),
            ],
        );
        let zig_cc = |out: &Path, dep: &Path, list: Option<&str>| {
            let mut cmd = support::hotpatch_cl(d);
            cmd.arg(&zig).args([
                sub,
                "-target",
                "x86_64-windows-gnu",
                "-gcodeview",
                "-fms-hotpatch",
                "-O2",
                "-MD",
                "-MF",
                dep.to_str().unwrap(),
                "-c",
                src,
                "-o",
                out.to_str().unwrap(),
            ]);
            if let Some(list) = list {
                cmd.arg(format!("-fms-hotpatch-functions-list={list}"));
            }
            support::command_ok(&mut cmd);
        };
        // `-MD`: zig cc writes no IR with `-S` then; the dependency file is a plain zig cc's.
        // Names of one length: make wraps the dependency line by its length.
        let plain = d.join(format!("pln-{sub}.o"));
        let (plain_d, ours_d) = (d.join("plain.d"), d.join("ours.d"));
        zig_cc(&plain, &plain_d, None);
        zig_cc(&ours, &ours_d, Some(&joined));
        let deps = |dep: &Path, obj: &Path| {
            let text = std::fs::read_to_string(dep).unwrap();
            assert!(text.contains(src), "{}: {text}", dep.display());
            text.replacen(obj.to_str().unwrap(), "OBJ", 1)
        };
        assert_eq!(deps(&ours_d, &ours), deps(&plain_d, &plain), "zig {sub}");
        let label = format!("zig {sub} {}", case.src);
        let o = assert_case_hot_patched_alike(&label, case, &ours, &native);
        assert_eq!(
            o.records.len(),
            case.list.len(),
            "zig {sub}: {:?}",
            o.records
        );
    }
}

/// `hotpatch-cl.exe zig.exe clang --driver-mode=cl …` under Wine: the same object as through
/// the `clang-cl.exe` forwarder (same zig.exe, clang 22.1.8), both compared with the Windows
/// clang-cl 22's own hot-patching.
#[test]
#[ignore = "needs the Windows build and tools: scripts/windows.sh real"]
fn zig_exe_clang_in_cl_mode_behind_hotpatch_cl_exe() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let case = CASES.iter().find(|c| c.src == "tables.c").unwrap();
    let joined = case.list.join(",");
    let native = compile(d, case, &joined, X64, Via::Native(22), "native.obj");
    let zig = repo().join("target/windows-tools/zig-0.17.1/ziglang/zig.exe");
    let obj = d.join("zig.obj");
    support::command_ok(
        wine(d, win_exe("hotpatch-cl"))
            .env("HOTPATCH_MODE", "rewrite")
            .args([
                w(&zig),
                "clang".into(),
                "--driver-mode=cl".into(),
                format!("--target={X64}"),
                "/c".into(),
                "/Z7".into(),
                "-O2".into(),
                "/GS-".into(),
                "/Gy".into(),
                "/Brepro".into(),
                "/hotpatch".into(),
                format!("-fms-hotpatch-functions-list={joined}"),
                format!("/Fo{}", w(&obj)),
                "--".into(),
                w(&oracle::fixture(case.src)),
            ]),
    );
    assert_same_hot_patching("zig.exe clang --driver-mode=cl", &obj, &native);
}
