//! Shared by the build-system and Wine end-to-end tests: which command does a hot-patched
//! compile, scratch directories under target/, the Lua sources, Wine, and reading records back
//! out of objects (with `hotpatch dump --json`, cross-checked against `llvm-readobj-22`).

use crate::support::{self, command_ok, objects};
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// A compiler command for hot-patched builds: `launcher compiler ARGS…`, the shape of
/// `CC="hotpatch-cl clang-19"` in make and of `CMAKE_C_COMPILER_LAUNCHER` in CMake.
#[derive(Debug, Clone)]
pub struct HotCompiler {
    pub launcher: PathBuf,
    pub compiler: &'static str,
}

impl HotCompiler {
    /// clang-cl (MSVC mode).
    pub fn msvc() -> Self {
        Self::pick("clang-cl-19", "clang-cl-22")
    }

    /// GNU-mode clang.
    pub fn gnu() -> Self {
        Self::pick("clang-19", "clang-22")
    }

    /// `hotpatch-cl COMPILER`: a compiler without native hot-patching (clang 19) behind our
    /// wrapper, which is the point of the project. `native` names clang 22's counterpart, the
    /// reference the tests compare with.
    fn pick(old: &'static str, native: &'static str) -> Self {
        support::tool(native);
        HotCompiler {
            launcher: support::our_bin("hotpatch-cl"),
            compiler: old,
        }
    }

    /// A `Command` for `launcher compiler`, arguments still to add.
    pub fn command(&self) -> Command {
        support::tool(self.compiler);
        let mut c = Command::new(&self.launcher);
        c.arg(self.compiler);
        c
    }

    /// `launcher compiler` as one make variable value.
    pub fn make_value(&self) -> String {
        format!("{} {}", self.launcher.display(), self.compiler)
    }
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh, empty directory `target/tmp/e2e/NAME` (kept after the run for inspection).
pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("e2e")
        .join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap_or_else(|e| panic!("cannot clear {dir:?}: {e}"));
    }
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {dir:?}: {e}"));
    dir
}

/// Lua 5.4's sources, from `scripts/fetch-sources.sh` (the lua-src crate through cargo).
pub fn lua_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let out =
            command_ok(Command::new(repo().join("scripts/fetch-sources.sh")).current_dir(repo()));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let dir = text
            .lines()
            .find_map(|l| l.strip_prefix("LUA_DIR="))
            .unwrap_or_else(|| panic!("scripts/fetch-sources.sh printed no LUA_DIR:\n{text}"));
        let dir = PathBuf::from(dir);
        assert!(dir.join("lua.h").is_file(), "no lua.h in {dir:?}");
        dir
    })
}

/// The C sources of Lua 5.4 (the library and both programs), sorted.
pub fn lua_sources() -> Vec<PathBuf> {
    let mut sources: Vec<PathBuf> = std::fs::read_dir(lua_dir())
        .expect("Lua sources")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    sources.sort();
    assert!(sources.len() >= 30, "Lua sources incomplete: {sources:?}");
    sources
}

/// The end-to-end Lua harness directory (host program, script, list, Makefile, CMakeLists).
pub fn lua_harness() -> PathBuf {
    repo().join("tests/e2e/lua")
}

/// The names of a hot-patch list file, one per non-blank line.
pub fn list_entries(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {path:?}: {e}"))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// Runs `exe args…` in `dir` under Wine through the project's runner,
/// `scripts/windows/wine-run`: one private prefix, `target/wine`, shared with the Windows
/// build's tests (one prefix is 700 MB; CI's disk is not large), created by whichever call
/// comes first while the others wait on its lock.
pub fn wine(dir: &Path, exe: &Path, args: &[&str]) -> Output {
    for tool in ["wine", "wineboot", "x86_64-w64-mingw32-gcc"] {
        support::tool(tool);
    }
    Command::new(repo().join("scripts/windows/wine-run"))
        .arg(exe)
        .args(args)
        .current_dir(dir)
        .env_remove("HOTPATCH_WINEPREFIX")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap_or_else(|e| panic!("cannot start wine {exe:?}: {e}"))
}

/// `hotpatch dump --json` of `objs`.
pub fn dump(objs: &[PathBuf]) -> serde_json::Value {
    let out = command_ok(
        Command::new(support::our_bin("hotpatch"))
            .arg("dump")
            .arg("--json")
            .args(objs),
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "hotpatch dump --json printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// What an object (or a set of them) carries, as `hotpatch dump` reports it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct HotInfo {
    /// Names of the S_HOTPATCHFUNC records.
    pub records: BTreeSet<String>,
    /// Symbol names of the `__ref_` pointers.
    pub refs: BTreeSet<String>,
    /// `__ref_` pointers whose section is writable (must stay empty).
    pub writable_refs: BTreeSet<String>,
    /// Direct accesses from hot-patched functions to writable data (must stay empty).
    pub direct_accesses: Vec<String>,
}

/// Reads `objs` with `hotpatch dump --json` and checks every record name against
/// `llvm-readobj-22 --codeview`, an independent reader.
pub fn hot_info(objs: &[PathBuf]) -> HotInfo {
    let json = dump(objs);
    let mut info = HotInfo::default();
    let files = json.as_array().expect("dump --json prints an array");
    assert_eq!(files.len(), objs.len(), "one dump per object");
    for f in files {
        for h in f["hotpatch_functions"]
            .as_array()
            .expect("hotpatch_functions")
        {
            let name = h["name"].as_str().expect("record name").to_owned();
            assert!(
                h["function_id_name"].is_string(),
                "record {name}: its function ID resolves to no LF_FUNC_ID ({h})"
            );
            info.records.insert(name);
        }
        for r in f["ref_symbols"].as_array().expect("ref_symbols") {
            let sym = r["symbol"].as_str().expect("symbol").to_owned();
            if r["writable"].as_bool() != Some(false) || r["readable"].as_bool() != Some(true) {
                info.writable_refs.insert(sym.clone());
            }
            info.refs.insert(sym);
        }
        for d in f["direct_global_accesses"]
            .as_array()
            .expect("direct_global_accesses")
        {
            info.direct_accesses.push(d.to_string());
        }
    }
    let readobj: BTreeSet<String> = objs
        .iter()
        .flat_map(|o| objects::hotpatch_records(o))
        .map(|(_, name)| name)
        .collect();
    assert_eq!(
        info.records, readobj,
        "hotpatch dump and llvm-readobj-22 disagree on the S_HOTPATCHFUNC records"
    );
    info
}

/// A `PATH` with `dir` in front.
pub fn path_with(dir: &Path) -> OsString {
    let mut paths = vec![dir.to_path_buf()];
    if let Some(p) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&p));
    }
    std::env::join_paths(paths).expect("PATH")
}

/// Every `*.o` / `*.obj` file under `dir`, sorted.
pub fn objects_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("cannot list {d:?}: {e}")) {
            let p = e.expect("dir entry").path();
            if p.is_dir() {
                todo.push(p);
            } else if matches!(p.extension().and_then(|x| x.to_str()), Some("o" | "obj")) {
                found.push(p);
            }
        }
    }
    found.sort();
    found
}
