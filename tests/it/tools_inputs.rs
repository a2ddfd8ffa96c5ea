//! `hotpatch dump`, `dump --json` and `verify` on everything a build produces: objects, MSVC
//! `.lib` (llvm-lib-22) and GNU `.a` (llvm-ar-22) with long and duplicate member names, import
//! libraries, PDBs (lld-link-22), directories and a real CMake build tree; and the error line of
//! every command (`hotpatch: error: FILE: why`, each cause once).
use crate::support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

fn hotpatch(dir: &Path, args: &[&str]) -> Output {
    support::run(dir, support::our_bin("hotpatch").to_str().unwrap(), args)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const HOT: &str = "int counter;\nint bump(void) { return ++counter; }\n";
const PLAIN: &str = "int kept(void) { return 3; }\n";

/// A small build: hot-patched and plain objects in two directories, an MSVC library, a GNU
/// archive with two members called `h.o`, an import library and a PDB.
fn build() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("h.c"), HOT).unwrap();
    std::fs::write(d.join("k.c"), PLAIN).unwrap();
    for sub in ["obj/one", "obj/two", "gnu/one", "gnu/two"] {
        std::fs::create_dir_all(d.join(sub)).unwrap();
    }
    let list = "-fms-secure-hotpatch-functions-list=bump";
    // `src` to `out` with clang-cl-22 (`msvc`) or GNU-mode clang-22, the list given if `hot`.
    let compile = |msvc: bool, src: &str, out: &str, hot: bool| {
        let fo = format!("/Fo{out}");
        let (compiler, mut a) = if msvc {
            let flags = ["/c", "/Z7", "/O2", "/hotpatch", "/GS-", "/Zl"];
            ("clang-cl-22", [&flags[..], &[fo.as_str(), src]].concat())
        } else {
            let flags = [
                "--target=x86_64-w64-windows-gnu",
                "-g",
                "-gcodeview",
                "-O2",
                "-c",
            ];
            ("clang-22", [&flags[..], &[src, "-o", out]].concat())
        };
        if hot {
            a.insert(0, list);
        }
        support::run_ok(d, compiler, &a);
    };
    let cl = |src: &str, out: &str, hot: bool| compile(true, src, out, hot);
    let gnu = |src: &str, out: &str, hot: bool| compile(false, src, out, hot);
    cl("h.c", "obj/one/h.obj", true);
    cl("k.c", "obj/two/h.obj", false);
    cl("k.c", "a_member_name_longer_than_sixteen.obj", false);
    cl("h.c", "plain_bump.obj", false);
    gnu("h.c", "gnu/one/h.o", true);
    gnu("k.c", "gnu/two/h.o", false);
    gnu("k.c", "a_member_name_longer_than_sixteen.o", false);
    support::run_ok(
        d,
        "llvm-lib-22",
        &[
            "/out:h.lib",
            "obj/one/h.obj",
            "a_member_name_longer_than_sixteen.obj",
        ],
    );
    support::run_ok(d, "llvm-lib-22", &["/out:nohot.lib", "plain_bump.obj"]);
    support::run_ok(
        d,
        "llvm-ar-22",
        &[
            "qc",
            "libh.a",
            "gnu/one/h.o",
            "gnu/two/h.o",
            "a_member_name_longer_than_sixteen.o",
        ],
    );
    std::fs::write(d.join("foo.def"), "LIBRARY foo.dll\nEXPORTS\n  bar\n").unwrap();
    support::run_ok(
        d,
        "llvm-lib-22",
        &["/def:foo.def", "/machine:x64", "/out:foo.lib"],
    );
    support::run_ok(
        d,
        "lld-link-22",
        &[
            "/dll",
            "/noentry",
            "/debug",
            "/out:app.dll",
            "/pdb:h.pdb",
            "obj/one/h.obj",
        ],
    );
    dir
}

/// `lib(member)` for every member `llvm-ar-22 t` lists, in archive order.
fn members(dir: &Path, lib: &str) -> Vec<String> {
    support::run_ok(dir, "llvm-ar-22", &["t", lib])
        .lines()
        .map(|m| format!("{lib}({m})"))
        .collect()
}

/// The `NAME (machine…)` / `NAME (PDB)` header lines of a text dump, in order.
fn headers(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| !l.starts_with(' '))
        .map(|l| l.rsplit_once(" (").map_or(l, |(n, _)| n).to_string())
        .collect()
}

#[test]
fn dump_reads_objects_libraries_import_libraries_pdbs_and_directories() {
    let dir = build();
    let d = dir.path();
    let out = hotpatch(d, &["dump", "h.lib", "libh.a", "foo.lib", "h.pdb", "obj"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    let mut expect = members(d, "h.lib");
    expect.extend(members(d, "libh.a"));
    expect.extend(["h.pdb", "obj/one/h.obj", "obj/two/h.obj"].map(String::from));
    assert_eq!(headers(&stdout), expect, "{stdout}");
    assert_eq!(
        members(d, "libh.a")[..2],
        ["libh.a(h.o)", "libh.a(h.o)"],
        "llvm-ar-22 keeps both h.o"
    );
    assert!(stdout.contains("h.lib(obj/one/h.obj) (x86-64)\n  S_HOTPATCHFUNC records: 1\n    0x"));
    assert!(stdout.contains("libh.a(h.o) (x86-64)\n  S_HOTPATCHFUNC records: 1\n"));
    assert!(stdout.contains("libh.a(h.o) (x86-64)\n  S_HOTPATCHFUNC records: 0\n"));
    assert!(stdout.contains("h.pdb (PDB)\n"));

    // mingw-w64's libkernel32.a: its compiled intrinsics are dumped, its DLL imports counted.
    let k32 = Path::new("/usr/x86_64-w64-mingw32/lib/libkernel32.a");
    assert!(k32.is_file(), "apt-get install mingw-w64-x86-64-dev");
    let out = hotpatch(d, &["dump", k32.to_str().unwrap()]);
    assert!(out.status.success());
    let heads = headers(&text(&out.stdout));
    assert!(heads
        .iter()
        .any(|h| h.ends_with("libkernel32.a(lib64_libkernel32_a-__movsb.o)")));
    let note = text(&out.stderr);
    assert!(
        note.starts_with(&format!("hotpatch: note: {}: ", k32.display()))
            && note.ends_with(" import member(s) (DLL imports, no code) skipped\n")
            && note.lines().count() == 1,
        "{note}"
    );
    assert_eq!(
        stderr,
        "hotpatch: note: foo.lib: an import library (no code), skipped\n"
    );
}

#[test]
fn dump_json_names_members_and_marks_failed_files() {
    let dir = build();
    let d = dir.path();
    let out = hotpatch(
        d,
        &[
            "dump",
            "--json",
            "h.lib",
            "libh.a",
            "foo.lib",
            "h.pdb",
            "obj",
            "missing.obj",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "hotpatch: note: foo.lib: an import library (no code), skipped\n\
         hotpatch: error: missing.obj: No such file or directory\n"
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let entries = v.as_array().unwrap();
    let files: Vec<&str> = entries
        .iter()
        .map(|e| e["file"].as_str().unwrap())
        .collect();
    let mut expect = members(d, "h.lib");
    expect.extend(members(d, "libh.a"));
    expect.extend(["h.pdb", "obj/one/h.obj", "obj/two/h.obj", "missing.obj"].map(String::from));
    assert_eq!(files, expect);
    let first = entries
        .iter()
        .find(|e| e["file"] == "h.lib(obj/one/h.obj)")
        .unwrap();
    assert_eq!(first["kind"], "object");
    assert_eq!(first["archive"], "h.lib");
    assert_eq!(first["member"], "obj/one/h.obj");
    assert_eq!(first["hotpatch_functions"][0]["name"], "bump");
    // The two libh.a(h.o): the hot one first, as archived.
    let gnu: Vec<&Value> = entries
        .iter()
        .filter(|e| e["file"] == "libh.a(h.o)")
        .collect();
    assert_eq!(gnu.len(), 2);
    assert_eq!(gnu[0]["hotpatch_functions"].as_array().unwrap().len(), 1);
    assert_eq!(gnu[1]["hotpatch_functions"].as_array().unwrap().len(), 0);
    let pdb = entries.iter().find(|e| e["file"] == "h.pdb").unwrap();
    assert_eq!(pdb["kind"], "pdb");
    assert!(pdb.get("archive").is_none());
    let last = entries.last().unwrap();
    assert_eq!(last["kind"], "error");
    assert_eq!(last["error"], "No such file or directory");

    // Only an import library: a valid, empty answer.
    let out = hotpatch(d, &["dump", "--json", "foo.lib"]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "[]\n");

    // Nothing could be read: nothing on stdout.
    let out = hotpatch(d, &["dump", "--json", "missing.obj"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
}

#[test]
fn verify_reads_libraries_archives_and_directories() {
    let dir = build();
    let d = dir.path();
    let out = hotpatch(
        d,
        &[
            "verify",
            "--functions=bump",
            "h.lib",
            "libh.a",
            "foo.lib",
            "obj",
        ],
    );
    let stderr = text(&out.stderr);
    // clang 22's objects are hot-patched right, but the three copies of its weak
    // `__ref_counter` are a link hazard (lld-link: duplicate symbol), reported per object.
    assert_eq!(out.status.code(), Some(1), "{}{stderr}", text(&out.stdout));
    let hazard = |obj: &str, others: &str| {
        format!("{obj}: '__ref_counter' is a plain weak external (clang 22's form): lld-link reports a duplicate symbol when two objects carry it (here also {others}); hint: build through hotpatch-cl, whose __ref_ is a read-only COMDAT\n")
    };
    assert_eq!(
        text(&out.stdout),
        hazard("h.lib(obj/one/h.obj)", "libh.a(h.o), obj/one/h.obj")
            + &hazard("libh.a(h.o)", "h.lib(obj/one/h.obj), obj/one/h.obj")
            + &hazard("obj/one/h.obj", "h.lib(obj/one/h.obj), libh.a(h.o)")
    );
    assert_eq!(
        stderr,
        "hotpatch: note: foo.lib: an import library (no code), skipped\n\
         hotpatch verify: 3 problem(s) in 7 objects\n"
    );

    // A library member built without the list is named as lib(member).
    let out = hotpatch(d, &["verify", "--functions=bump", "h.lib", "nohot.lib"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        "nohot.lib(plain_bump.obj): 'bump' is listed but has no S_HOTPATCHFUNC record \
         (built without the hot-patch flags or without CodeView /Z7, /Zi, -gcodeview?)\n\
         h.lib(obj/one/h.obj): '__ref_counter' is a plain weak external (clang 22's form): \
         lld-link reports a duplicate symbol when two objects carry it; hint: build through \
         hotpatch-cl, whose __ref_ is a read-only COMDAT\n"
    );

    // A PDB is not something verify reads.
    let out = hotpatch(d, &["verify", "--functions=bump", "h.lib", "h.pdb"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with(
        "hotpatch: error: h.pdb: a PDB: verify reads objects and libraries (dump shows a PDB's records)\n"
    ));
}

/// The directory tree of a real CMake build (examples/c-counter through the toolchain file,
/// hotpatch-cl and clang-cl 19): dump finds the library member and the object, verify passes.
#[test]
fn a_cmake_build_tree() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let build = dir.path().join("build");
    let hp = support::our_bin("hotpatch-cl");
    let cmake = support::tool("cmake");
    let src = repo.join("examples/c-counter");
    let toolchain = repo.join("shims/cmake/hotpatch-cl.cmake");
    let chain = repo.join("examples/clang-cl-cross.cmake");
    support::tool("clang-cl-19");
    let args = [
        "-S".to_string(),
        src.display().to_string(),
        "-B".into(),
        build.display().to_string(),
        format!("-DCMAKE_TOOLCHAIN_FILE={}", toolchain.display()),
        format!("-DHOTPATCH_CHAINLOAD_TOOLCHAIN_FILE={}", chain.display()),
        format!("-DHOTPATCH_CL={}", hp.display()),
        "-DCOMPILER=clang-cl-19".into(),
        "-DHOTPATCH_FUNCTIONS_FILE=hotpatch.txt".into(),
    ];
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    support::run_ok(dir.path(), cmake.to_str().unwrap(), &a);
    support::run_ok(
        dir.path(),
        cmake.to_str().unwrap(),
        &["--build", build.to_str().unwrap()],
    );

    let out = hotpatch(dir.path(), &["dump", "build"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let heads = headers(&stdout);
    let lib_member = heads
        .iter()
        .find(|h| h.starts_with("build/counter.lib(") && h.ends_with("counter.c.obj)"))
        .unwrap_or_else(|| panic!("no counter.lib member in {heads:?}"));
    assert!(
        heads.contains(&"build/CMakeFiles/counter.dir/counter.c.obj".to_string()),
        "{heads:?}"
    );
    let mut sorted = heads.clone();
    sorted.sort();
    assert_eq!(heads, sorted, "the walk is in byte order");
    let section = stdout
        .split(&format!("{lib_member} (x86-64)\n"))
        .nth(1)
        .unwrap();
    assert!(
        section.starts_with("  S_HOTPATCHFUNC records: 1\n")
            && section.lines().nth(1).unwrap().ends_with("handle_request"),
        "{section}"
    );

    let fns = src.join("hotpatch.txt");
    let out = hotpatch(
        dir.path(),
        &["verify", "--functions-file", fns.to_str().unwrap(), "build"],
    );
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stderr).ends_with("1 listed functions: OK\n"));
}

/// Runs `hotpatch args` in `dir`; asserts exit 1 and returns stderr, which must be one line.
fn one_error(dir: &Path, program: &Path, args: &[&str]) -> String {
    let out = support::run(dir, program.to_str().unwrap(), args);
    assert_eq!(out.status.code(), Some(1), "{args:?}");
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(!stderr.contains("os error"), "{stderr}");
    stderr
}

#[test]
fn every_error_is_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let hp = support::our_bin("hotpatch");
    std::fs::write(d.join("h.c"), HOT).unwrap();
    support::run_ok(d, "clang-cl-22", &["/c", "/Z7", "h.c"]);
    let obj = std::fs::read(d.join("h.obj")).unwrap();
    std::fs::write(d.join("bad.obj"), &obj[..obj.len() / 3]).unwrap();
    std::fs::write(d.join("notes.txt"), "hello").unwrap();
    std::fs::write(d.join("bad.ll"), "define void @f() {\n  ret i32 %\n}\n").unwrap();
    std::fs::write(d.join("ok.ll"), "define void @f() {\n  ret void\n}\n").unwrap();

    let missing_list = "hotpatch: error: nope.txt: cannot read the hot-patch functions file: \
                        No such file or directory\n";
    for args in [
        &["verify", "--functions-file", "nope.txt", "h.obj"][..],
        &["inject", "--functions-file", "nope.txt", "h.obj"],
        &["rewrite", "--ms-hotpatch-functions-file=nope.txt", "ok.ll"],
    ] {
        assert_eq!(one_error(d, &hp, args), missing_list, "{args:?}");
    }
    assert_eq!(
        one_error(
            d,
            &hp,
            &[
                "rewrite",
                "--ms-hotpatch-functions-list=f",
                "--allow-direct-file=nope.txt",
                "ok.ll"
            ]
        ),
        "hotpatch: error: nope.txt: cannot read the allow-direct file: No such file or directory\n"
    );
    assert_eq!(
        one_error(d, &hp, &["dump", "missing.obj"]),
        "hotpatch: error: missing.obj: No such file or directory\n"
    );
    assert_eq!(
        one_error(d, &hp, &["verify", "--functions=f", "missing.obj"]),
        "hotpatch: error: missing.obj: No such file or directory\n"
    );
    assert_eq!(
        one_error(d, &hp, &["inject", "--functions=f", "missing.obj"]),
        "hotpatch: error: missing.obj: cannot read: No such file or directory\n"
    );
    assert_eq!(
        one_error(
            d,
            &hp,
            &["rewrite", "--ms-hotpatch-functions-list=f", "missing.ll"]
        ),
        "hotpatch: error: missing.ll: cannot read: No such file or directory\n"
    );
    assert_eq!(
        one_error(d, &hp, &["dump", "notes.txt"]),
        "hotpatch: error: notes.txt: not a COFF object, library or PDB\n"
    );
    let bad = one_error(d, &hp, &["dump", "bad.obj"]);
    assert!(bad.starts_with("hotpatch: error: bad.obj: "), "{bad}");
    let bad = one_error(d, &hp, &["inject", "--functions=bump", "bad.obj"]);
    assert!(bad.starts_with("hotpatch: error: bad.obj: "), "{bad}");
    // verify used to say the parse error twice (message and error source).
    let bad = one_error(d, &hp, &["verify", "--functions=bump", "bad.obj"]);
    assert!(
        bad.starts_with("hotpatch: error: bad.obj: not a valid COFF object: "),
        "{bad}"
    );
    assert_eq!(bad.matches("not a valid COFF object").count(), 1, "{bad}");
    let ir = one_error(
        d,
        &hp,
        &["rewrite", "--ms-hotpatch-functions-list=f", "bad.ll"],
    );
    let located = regex::Regex::new(r"^hotpatch: error: bad\.ll:2:\d+: \S").unwrap();
    assert!(located.is_match(&ir), "{ir}");

    // The wrapper words a missing list file the same way, with its own prefix.
    let cl = support::tool("clang-cl-19");
    let wrapper = one_error(
        d,
        &support::our_bin("hotpatch-cl"),
        &[
            cl.to_str().unwrap(),
            "/c",
            "-fms-hotpatch-functions-file=nope.txt",
            "h.c",
        ],
    );
    assert_eq!(
        wrapper,
        "hotpatch-cl: error: nope.txt: cannot read the hot-patch functions file: \
         No such file or directory\n"
    );
}
