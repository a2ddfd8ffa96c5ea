//! End-to-end tests under Wine: programs built through hotpatch-cl run, and behave.
//!
//! 1. A hot-patch loader simulation in MSVC mode (`tests/e2e/loader`): a patch DLL built with
//!    `bump` hot-patched, a base program that redirects the DLL's `__ref_counter` to its own
//!    global and checks that the patched code follows. Asserted by the base program's exit code.
//!    The same for a program of several files (`tests/e2e/loader-many`): two patch files share
//!    two globals, so both objects carry `__ref_counter` and `__ref_total` (clang 22's objects
//!    do not link: duplicate symbols); the base program redirects the DLL's one copy of each,
//!    and both files' patched functions follow.
//! 2. Lua 5.4 in GNU mode with the interpreter functions of `tests/e2e/lua/hotpatch.txt`
//!    hot-patched, built three ways (compiler called directly, make with `CC=…`, CMake with the
//!    toolchain file): each prints exactly what the plain build prints, and `hotpatch dump`
//!    finds a record for every listed function that survived optimization.
//! 3. `hotpatch changed` end to end (`tests/e2e/fix`): the list derived from a shipped build and
//!    a fixed one builds a patch that the same kind of loader simulation applies to the
//!    running program, which then computes the fixed results.
//!
//! Wine runs with a private prefix under target/tmp and `WINEDEBUG=-all`.

use crate::support::command_ok;
use crate::support::e2e;
use crate::support::{self, objects};

use e2e::{hot_info, lua_dir, lua_harness, scratch, wine, HotCompiler, HotInfo};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const MINGW_KERNEL32: &str = "/usr/x86_64-w64-mingw32/lib/libkernel32.a";

/// Fails naming the package when mingw's kernel32 import library (the loader programs'
/// only library) is missing.
fn require_kernel32() {
    assert!(
        Path::new(MINGW_KERNEL32).is_file(),
        "{MINGW_KERNEL32} is missing: run scripts/setup.sh (apt-get install mingw-w64-x86-64-dev)"
    );
}

/// A loader test's sources (`tests/e2e/SOURCES`) and a fresh scratch directory `scratch_name`;
/// fails early when kernel32's import library is missing.
fn loader_test(sources: &str, scratch_name: &str) -> (PathBuf, PathBuf) {
    require_kernel32();
    (
        e2e::repo().join("tests/e2e").join(sources),
        scratch(scratch_name),
    )
}

/// A freestanding console program `out` from `objs` and kernel32, in `dir`.
fn link_exe(dir: &Path, out: &str, objs: &[&str]) {
    command_ok(
        Command::new(support::tool("lld-link-22"))
            .current_dir(dir)
            .args([
                "/nologo",
                "/entry:start",
                "/subsystem:console",
                "/nodefaultlib",
            ])
            .arg(format!("/out:{out}"))
            .args(objs)
            .arg(MINGW_KERNEL32),
    );
}

/// Links patch.dll from `objs` in `dir`, exporting `exports` (the loader finds the functions
/// and the pointers to redirect through them); returns lld-link's output.
fn link_patch_dll<S: AsRef<OsStr>>(dir: &Path, exports: &[S], objs: &[&str]) -> Output {
    Command::new(support::tool("lld-link-22"))
        .current_dir(dir)
        .args(["/nologo", "/dll", "/noentry", "/nodefaultlib"])
        .args(exports)
        .arg("/out:patch.dll")
        .args(objs)
        .output()
        .expect("lld-link-22 runs")
}

/// Runs the loader program `exe` (in `dir`) under Wine: it exits with the number of the
/// step of `source` that failed, 0 when all passed. Returns its stdout.
#[track_caller]
fn run_loader(dir: &Path, exe: &str, source: &str) -> String {
    let out = wine(dir, &dir.join(exe), &[]);
    let stdout = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{exe} failed at step {:?} (see {source}):\n{stdout}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The `__ref_` pointers of a patch are read-only and its hot-patched functions use only them.
#[track_caller]
fn assert_redirected_cleanly(info: &HotInfo) {
    assert!(info.writable_refs.is_empty(), "{info:?}");
    assert!(info.direct_accesses.is_empty(), "{info:?}");
}

#[test]
fn loader_simulation_msvc_redirects_the_patch_to_the_base_image_global() {
    let (src, dir) = loader_test("loader", "loader");

    // The patch: hot-patched through the wrapper, with CodeView so the record is there too.
    let hot = HotCompiler::msvc();
    command_ok(
        hot.command()
            .args(["/nologo", "/c", "/Z7", "/O2", "/GS-", "/Zl", "/hotpatch"])
            .arg("-fms-secure-hotpatch-functions-list=bump")
            .arg(format!("/Fo{}", dir.join("patch.obj").display()))
            .arg("--")
            .arg(src.join("patch.c")),
    );
    let info = hot_info(&[dir.join("patch.obj")]);
    assert_eq!(info.records.iter().collect::<Vec<_>>(), ["bump"]);
    assert_eq!(info.refs.iter().collect::<Vec<_>>(), ["__ref_counter"]);
    assert_redirected_cleanly(&info);

    // The base: an ordinary compile, no hot-patching.
    command_ok(
        Command::new(support::tool("clang-cl-19"))
            .args(["/nologo", "/c", "/O2", "/GS-", "/Zl"])
            .arg(format!("/Fo{}", dir.join("base.obj").display()))
            .arg("--")
            .arg(src.join("base.c")),
    );
    let exports = ["/export:bump", "/export:__ref_counter,DATA"];
    support::assert_success(
        &link_patch_dll(&dir, &exports, &["patch.obj"]),
        "linking patch.dll",
    );
    link_exe(&dir, "base.exe", &["base.obj"]);
    run_loader(&dir, "base.exe", "tests/e2e/loader/base.c");
}

#[test]
fn loader_simulation_many_files_redirects_shared_refs_to_the_base_image_globals() {
    let (src, dir) = loader_test("loader-many", "loader-many");
    let patch_sources = ["patch_a.c", "patch_b.c", "patch_state.c"].map(|f| src.join(f));
    let flags = ["/nologo", "/c", "/Z7", "/O2", "/GS-", "/Zl", "/hotpatch"];
    let link_patch = |sub: &str| {
        let exports = [
            "/export:bump_a",
            "/export:bump_b",
            "/export:__ref_counter,DATA",
            "/export:__ref_total,DATA",
        ];
        let objs = ["patch_a.obj", "patch_b.obj", "patch_state.obj"];
        link_patch_dll(&dir.join(sub), &exports, &objs)
    };

    // clang 22 on the same sources: its weak `__ref_`s are duplicates for lld-link.
    std::fs::create_dir_all(dir.join("native")).unwrap();
    command_ok(
        Command::new(support::tool("clang-cl-22"))
            .args(flags)
            .arg("-fms-secure-hotpatch-functions-list=bump_a,bump_b")
            .arg(format!("/Fo{}/", dir.join("native").display()))
            .arg("--")
            .args(&patch_sources),
    );
    let native = link_patch("native");
    let err = String::from_utf8_lossy(&native.stderr);
    assert!(!native.status.success(), "clang 22's patch linked:\n{err}");
    assert!(err.contains("duplicate symbol: __ref_counter"), "{err}");

    // Ours: the patch through the wrapper, the base an ordinary compile.
    std::fs::create_dir_all(dir.join("ours")).unwrap();
    command_ok(
        HotCompiler::msvc()
            .command()
            .args(flags)
            .arg("-fms-secure-hotpatch-functions-list=bump_a,bump_b")
            .arg(format!("/Fo{}/", dir.join("ours").display()))
            .arg("--")
            .args(&patch_sources),
    );
    let objs: Vec<PathBuf> = ["patch_a.obj", "patch_b.obj"]
        .iter()
        .map(|o| dir.join("ours").join(o))
        .collect();
    for obj in &objs {
        let info = hot_info(std::slice::from_ref(obj));
        assert_eq!(
            info.refs.iter().collect::<Vec<_>>(),
            ["__ref_counter", "__ref_total"],
            "{obj:?}"
        );
        assert_redirected_cleanly(&info);
    }
    let info = hot_info(&objs);
    assert_eq!(
        info.records.iter().collect::<Vec<_>>(),
        ["bump_a", "bump_b"]
    );
    let ours = link_patch("ours");
    assert!(
        ours.status.success(),
        "our patch does not link:\n{}",
        String::from_utf8_lossy(&ours.stderr)
    );
    command_ok(
        Command::new(support::tool("clang-cl-19"))
            .args(["/nologo", "/c", "/O2", "/GS-", "/Zl"])
            .arg(format!("/Fo{}/", dir.join("ours").display()))
            .arg("--")
            .arg(src.join("base_main.c"))
            .arg(src.join("base_state.c")),
    );
    let ours = dir.join("ours");
    link_exe(&ours, "base.exe", &["base_main.obj", "base_state.obj"]);
    run_loader(&ours, "base.exe", "tests/e2e/loader-many/base_main.c");
}

/// `hotpatch changed` end to end: the shipped program (`tests/e2e/fix/v1`) and a source fix to
/// two functions (`v2`) are built alike; `hotpatch changed` on the two builds names exactly the
/// two; the patch built from v2 through hotpatch-cl with that list passes the loader simulation
/// (`tests/e2e/fix/host.c`, linked with the shipped build) and computes the fixed results on
/// the running image's globals.
#[test]
fn changed_lists_the_fix_and_the_patch_built_from_it_runs() {
    let (src, dir) = loader_test("fix", "changed-fix");
    let cl = support::tool("clang-cl-19");
    let flags = ["/nologo", "/c", "/Gy", "/O2", "/Z7", "/GS-", "/Zl"];
    for (side, version) in [("base", "v1"), ("patched", "v2")] {
        std::fs::create_dir_all(dir.join(side)).unwrap();
        command_ok(
            Command::new(&cl)
                .args(flags)
                .arg(format!("/Fo{}", dir.join(side).join("app.obj").display()))
                .arg("--")
                .arg(src.join(version).join("app.c")),
        );
    }

    // What the fix touched.
    command_ok(
        Command::new(support::our_bin("hotpatch"))
            .current_dir(&dir)
            .args(["changed", "base", "patched", "-o", "hot.txt"]),
    );
    let list = std::fs::read_to_string(dir.join("hot.txt")).unwrap();
    assert_eq!(list, "average\nclamp\n");

    // The patch: the fixed source through the wrapper, with that list.
    let hot = HotCompiler::msvc();
    command_ok(
        hot.command()
            .args(flags)
            .arg("/hotpatch")
            .arg(format!(
                "-fms-hotpatch-functions-file={}",
                dir.join("hot.txt").display()
            ))
            .arg(format!("/Fo{}", dir.join("patch.obj").display()))
            .arg("--")
            .arg(src.join("v2/app.c")),
    );
    let info = hot_info(&[dir.join("patch.obj")]);
    assert_eq!(
        info.records.iter().collect::<Vec<_>>(),
        ["average", "clamp"]
    );
    assert_eq!(
        info.refs.iter().collect::<Vec<_>>(),
        ["__ref_counter", "__ref_total"]
    );
    assert_redirected_cleanly(&info);
    command_ok(
        Command::new(support::our_bin("hotpatch"))
            .current_dir(&dir)
            .args(["verify", "--functions-file", "hot.txt", "patch.obj"]),
    );

    let mut exports: Vec<String> = list.lines().map(|f| format!("/export:{f}")).collect();
    exports.extend(info.refs.iter().map(|r| format!("/export:{r},DATA")));
    support::assert_success(
        &link_patch_dll(&dir, &exports, &["patch.obj"]),
        "linking patch.dll",
    );

    // The running program: the loader simulation linked with the shipped build.
    command_ok(
        Command::new(&cl)
            .args(["/nologo", "/c", "/O2", "/GS-", "/Zl"])
            .arg(format!("/Fo{}", dir.join("host.obj").display()))
            .arg("--")
            .arg(src.join("host.c")),
    );
    link_exe(&dir, "app.exe", &["host.obj", "base/app.obj"]);
    let stdout = run_loader(&dir, "app.exe", "tests/e2e/fix/host.c");
    assert_eq!(
        stdout,
        "shipped: average=10 clamp(-5)=-5\n\
         patched: average=15 clamp(-5)=0\n\
         after add_item(30): average=20 clamp(170)=100\n"
    );
}

/// The plain Lua build (clang 19 through tests/e2e/lua/Makefile, no hot-patching) and what
/// it prints for the script: the reference every hot-patched build must match.
struct PlainLua {
    stdout: String,
}

fn plain_lua() -> &'static PlainLua {
    static PLAIN: OnceLock<PlainLua> = OnceLock::new();
    PLAIN.get_or_init(|| {
        let out = scratch("lua-plain");
        make_lua(&out, &support::tool("clang-19").display().to_string(), None);
        let stdout = run_lua_script(&out.join("lua.exe"));
        // A script that stopped early would make every comparison vacuous.
        assert!(
            stdout.ends_with("done\n"),
            "the script did not finish:\n{stdout}"
        );
        assert!(stdout.lines().count() >= 35, "too little output:\n{stdout}");
        PlainLua { stdout }
    })
}

fn make_lua(out: &Path, cc: &str, hotpatch_file: Option<&Path>) {
    let mut cmd = Command::new(support::tool("make"));
    cmd.arg("-s")
        .arg("-j2")
        .arg("-f")
        .arg(lua_harness().join("Makefile"))
        .arg(format!("LUA_DIR={}", lua_dir().display()))
        .arg(format!("OUT={}", out.display()))
        .arg(format!("CC={cc}"))
        .current_dir(out);
    if let Some(f) = hotpatch_file {
        cmd.arg(format!("HOTPATCH_FILE={}", f.display()));
    }
    command_ok(&mut cmd);
}

/// Runs the test script with `exe` under Wine, from the script's directory (error messages
/// carry the script's name as given); returns stdout after checking the exit code.
fn run_lua_script(exe: &Path) -> String {
    let out = wine(&lua_harness(), exe, &["script.lua"]);
    support::assert_success(&out, &format!("{exe:?} script.lua"));
    // Wine's console may turn \n into \r\n; the plain and patched builds are compared alike.
    String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n")
}

/// Checks a hot-patched Lua build: same output as the plain build, a record for every listed
/// function that survived optimization and none other, read-only `__ref_`s, no direct access.
fn check_hotpatched_lua(exe: &Path, objs: &[PathBuf]) {
    let listed = e2e::list_entries(&lua_harness().join("hotpatch.txt"));
    assert!(
        listed.len() >= 20,
        "the list must name at least 20 functions"
    );
    let defined = objects::defined_functions(objs);
    let survived: std::collections::BTreeSet<String> = listed
        .iter()
        .filter(|f| defined.contains(*f))
        .cloned()
        .collect();
    assert!(
        survived.len() >= 20,
        "only {} listed functions survived: {survived:?}",
        survived.len()
    );

    let info = hot_info(objs);
    assert_eq!(
        info.records, survived,
        "S_HOTPATCHFUNC records must be exactly the listed functions still defined"
    );
    assert!(
        info.refs.len() >= 10,
        "too few __ref_ pointers: {:?}",
        info.refs
    );
    assert!(
        info.writable_refs.is_empty(),
        "writable __ref_: {:?}",
        info.writable_refs
    );
    assert!(
        info.direct_accesses.is_empty(),
        "{:?}",
        info.direct_accesses
    );

    let patched = run_lua_script(exe);
    assert_eq!(
        patched,
        plain_lua().stdout,
        "the hot-patched Lua prints something else than the plain one"
    );
}

#[test]
fn lua_hotpatched_through_the_compiler_directly_behaves_like_plain_lua() {
    let out = scratch("lua-direct");
    let hot = HotCompiler::gnu();
    let list = lua_harness().join("hotpatch.txt");
    let sources = e2e::lua_sources();

    // Two compiles at a time (the machine's two cores), each one `hotpatch-cl clang-19 …`.
    let objs: Vec<PathBuf> = sources
        .iter()
        .map(|s| out.join(s.file_stem().expect("stem")).with_extension("o"))
        .collect();
    let pairs: Vec<(&PathBuf, &PathBuf)> = sources.iter().zip(objs.iter()).collect();
    std::thread::scope(|scope| {
        for chunk in pairs.chunks(pairs.len().div_ceil(2)) {
            let hot = &hot;
            let list = &list;
            scope.spawn(move || {
                for (src, obj) in chunk {
                    command_ok(
                        hot.command()
                            .args(["--target=x86_64-w64-windows-gnu", "--sysroot=/usr"])
                            .args(["-O2", "-g", "-gcodeview", "-std=gnu99", "-fms-hotpatch"])
                            .arg(format!(
                                "-fms-secure-hotpatch-functions-file={}",
                                list.display()
                            ))
                            .arg(format!("-I{}", lua_dir().display()))
                            .arg("-c")
                            .arg(src)
                            .arg("-o")
                            .arg(obj),
                    );
                }
            });
        }
    });
    // The host program is not hot-patched; linking goes through the wrapper too.
    let host = out.join("lua_main.o");
    command_ok(
        hot.command()
            .args([
                "--target=x86_64-w64-windows-gnu",
                "--sysroot=/usr",
                "-O2",
                "-c",
            ])
            .arg(format!("-I{}", lua_dir().display()))
            .arg(lua_harness().join("lua_main.c"))
            .arg("-o")
            .arg(&host),
    );
    let exe = out.join("lua.exe");
    command_ok(
        hot.command()
            .args([
                "--target=x86_64-w64-windows-gnu",
                "--sysroot=/usr",
                "-fuse-ld=lld-22",
            ])
            .args(&objs)
            .arg(&host)
            .arg("-o")
            .arg(&exe),
    );
    check_hotpatched_lua(&exe, &objs);
}

#[test]
fn lua_hotpatched_through_make_cc_behaves_like_plain_lua() {
    let out = scratch("lua-make");
    make_lua(
        &out,
        &HotCompiler::gnu().make_value(),
        Some(&lua_harness().join("hotpatch.txt")),
    );
    let objs: Vec<PathBuf> = e2e::objects_under(&out)
        .into_iter()
        .filter(|o| !o.ends_with("lua_main.o"))
        .collect();
    check_hotpatched_lua(&out.join("lua.exe"), &objs);
}

#[test]
fn lua_hotpatched_through_the_cmake_toolchain_file_behaves_like_plain_lua() {
    let build = scratch("lua-cmake");
    let hot = HotCompiler::gnu();
    command_ok(
        Command::new(support::tool("cmake"))
            .arg("-S")
            .arg(lua_harness())
            .arg("-B")
            .arg(&build)
            .arg(format!("-DLUA_DIR={}", lua_dir().display()))
            .arg(format!(
                "-DCMAKE_TOOLCHAIN_FILE={}",
                e2e::repo().join("shims/cmake/hotpatch-cl.cmake").display()
            ))
            .arg(format!(
                "-DHOTPATCH_CHAINLOAD_TOOLCHAIN_FILE={}",
                lua_harness().join("mingw-clang.cmake").display()
            ))
            .arg(format!("-DHOTPATCH_CL={}", hot.launcher.display()))
            .arg(format!("-DCLANG_C_COMPILER={}", hot.compiler))
            // Relative on purpose: the toolchain resolves it against the source directory.
            .arg("-DHOTPATCH_FUNCTIONS_FILE=hotpatch.txt")
            .current_dir(&build),
    );
    command_ok(
        Command::new(support::tool("cmake"))
            .arg("--build")
            .arg(&build)
            .args(["--parallel", "2"]),
    );
    let objs: Vec<PathBuf> = e2e::objects_under(&build.join("CMakeFiles/lua.dir"))
        .into_iter()
        .filter(|o| !o.ends_with("lua_main.c.obj"))
        .collect();
    check_hotpatched_lua(&build.join("lua.exe"), &objs);
}
