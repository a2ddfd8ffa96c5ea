//! Programs of several files link: every object carries the `__ref_` pointers of the globals
//! its hot-patched functions share with the others (issue: `duplicate symbol: __ref_counter`).
//!
//! For each program (`tests/fixtures/link-many`: C files sharing external globals; C++ files
//! sharing a header's inline function with a static local and a Meyers singleton):
//! 1. native clang-cl-22 objects of the same sources do not link with lld-link-22
//!    (`duplicate symbol: __ref_…`: its `__ref_`s are plain weak externals), and
//!    `hotpatch verify` calls each of them a link hazard, naming the other objects;
//! 2. `hotpatch-cl clang-cl-19` objects (x64, x86, ARM64) link with lld-link-22: every
//!    `__ref_` of a shared global is a COMDAT in a read-only `.rdata`, that of a `static` a
//!    static symbol; the image holds one `__ref_` of each name; `hotpatch verify` is clean;
//! 3. in GNU mode (x64), the same sources through `hotpatch-cl clang-19` link with MinGW
//!    ld.lld (which accepts clang 22's weak form too, also checked).
//!
//! And `hotpatch rewrite` output compiled with optimisation on (clang 19 and 22, `-O2`, all
//! three targets) keeps the loads of the COMDAT `__ref_`s in the code and links.

use crate::support::{self, e2e, objects};

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/link-many")
}

/// A target: clang triple, lld-link `/machine:`, the C symbol prefix.
#[derive(Clone, Copy)]
struct Target {
    triple: &'static str,
    machine: &'static str,
    x86: bool,
}

const TARGETS: [Target; 3] = [
    Target {
        triple: "x86_64-pc-windows-msvc",
        machine: "x64",
        x86: false,
    },
    Target {
        triple: "i686-pc-windows-msvc",
        machine: "x86",
        x86: true,
    },
    Target {
        triple: "aarch64-pc-windows-msvc",
        machine: "arm64",
        x86: false,
    },
];

/// A program of several files and the functions to hot-patch in it.
struct Program {
    sources: &'static [&'static str],
    /// Extra compiler flags (clang-cl spelling).
    flags: &'static [&'static str],
    /// The list for a target (mangled names differ on x86).
    list: fn(Target) -> Vec<&'static str>,
    /// Globals shared by several objects: their `__ref_` (IR name) must be a COMDAT.
    shared: &'static [&'static str],
    /// Internal globals whose `__ref_` must be a static symbol.
    statics: &'static [&'static str],
    /// GNU mode (MinGW): extra flags and the list (Itanium names for C++).
    gnu_flags: &'static [&'static str],
    gnu_list: &'static str,
}

const C_PROGRAM: Program = Program {
    sources: &["state.c", "a.c", "b.c", "c.c"],
    flags: &[],
    list: |_| vec!["fa", "fb", "fc"],
    shared: &["__ref_counter", "__ref_table"],
    statics: &["__ref_s_hits"],
    gnu_flags: &[],
    gnu_list: "fa,fb,fc",
};

const CPP_PROGRAM: Program = Program {
    sources: &["one.cpp", "two.cpp", "seed.cpp"],
    // No MSVC runtime here: plain guards instead of thread-safe statics, no RTTI/EH.
    flags: &["/Zc:threadSafeInit-", "/GR-", "/EHs-c-"],
    list: |t| {
        vec![
            "?one@@YAHXZ",
            "?two@@YAHXZ",
            "?bump_local@@YAHXZ",
            if t.x86 {
                "?get@Registry@@SAAAU1@XZ"
            } else {
                "?get@Registry@@SAAEAU1@XZ"
            },
        ]
    },
    shared: &[
        "__ref_?calls@?1??bump_local@@YAHXZ@4HA",
        "__ref_??_B?1??bump_local@@YAHXZ@51",
    ],
    statics: &[],
    gnu_flags: &["-fno-threadsafe-statics", "-fno-exceptions", "-fno-rtti"],
    gnu_list: "_Z3onev,_Z3twov,_Z10bump_localv,_ZN8Registry3getEv",
};

/// The COFF name of the IR symbol `name` (x86 adds `_` to C names, not to `?` names).
fn coff(t: Target, name: &str) -> String {
    if t.x86 && !name.starts_with('?') {
        format!("_{name}")
    } else {
        name.to_owned()
    }
}

fn obj_name(src: &str) -> String {
    Path::new(src)
        .with_extension("obj")
        .to_string_lossy()
        .into_owned()
}

/// Compiles `p` for `t` into `dir/sub`, through `hotpatch-cl clang-cl-19` when `ours`, else
/// with native `clang-cl-22`; returns the object paths.
fn compile(dir: &Path, sub: &str, p: &Program, t: Target, ours: bool) -> Vec<String> {
    let out = dir.join(sub);
    std::fs::create_dir_all(&out).unwrap();
    let list = (p.list)(t).join(",");
    let mut args: Vec<String> = Vec::new();
    let program = if ours {
        args.push("clang-cl-19".into());
        args.push(format!("-fms-hotpatch-functions-list={list}"));
        support::our_bin("hotpatch-cl")
            .to_string_lossy()
            .into_owned()
    } else {
        args.push(format!("-fms-secure-hotpatch-functions-list={list}"));
        "clang-cl-22".to_owned()
    };
    args.extend(
        [
            format!("--target={}", t.triple),
            "/nologo".into(),
            "/c".into(),
            "/Z7".into(),
            "/O2".into(),
            "/GS-".into(),
            "/Zl".into(),
            "/hotpatch".into(),
            format!("/Fo{}/", out.display()),
        ]
        .into_iter()
        .chain(p.flags.iter().map(|f| f.to_string()))
        .chain(["--".into()])
        .chain(
            p.sources
                .iter()
                .map(|s| fixtures().join(s).to_string_lossy().into_owned()),
        ),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    support::run_ok(dir, &program, &args);
    p.sources
        .iter()
        .map(|s| out.join(obj_name(s)).to_string_lossy().into_owned())
        .collect()
}

/// `lld-link-22 /dll /noentry` of `objs` exporting `exports` (else the linker drops
/// everything); its output (success, stderr).
fn lld_link(dir: &Path, t: Target, objs: &[String], exports: &[&str], out: &str) -> (bool, String) {
    let mut args = vec![
        "/nologo".to_owned(),
        "/dll".into(),
        "/noentry".into(),
        "/nodefaultlib".into(),
        format!("/machine:{}", t.machine),
        format!("/out:{out}"),
        format!("/map:{out}.map"),
    ];
    args.extend(exports.iter().map(|e| format!("/export:{e}")));
    args.extend(objs.iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = support::run(dir, "lld-link-22", &args);
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// `hotpatch verify` of `objs` against `list`: (clean?, stdout).
fn verify(dir: &Path, list: &str, objs: &[String]) -> (bool, String) {
    let mut args = vec!["verify".to_owned(), format!("--functions={list}")];
    args.extend(objs.iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = support::run(dir, support::our_bin("hotpatch").to_str().unwrap(), &args);
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

/// `hotpatch dump --json` of one object: `__ref_` symbol → (kind, section, writable).
fn refs_of(dir: &Path, obj: &str) -> BTreeMap<String, (String, String, bool)> {
    let hp = support::our_bin("hotpatch");
    let json = support::run_ok(dir, hp.to_str().unwrap(), &["dump", "--json", obj]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut out = BTreeMap::new();
    for r in v[0]["ref_symbols"].as_array().unwrap() {
        out.insert(
            r["symbol"].as_str().unwrap().to_owned(),
            (
                r["kind"].as_str().unwrap().to_owned(),
                r["section"].as_str().unwrap_or("").to_owned(),
                r["writable"].as_bool().unwrap() || !r["readable"].as_bool().unwrap(),
            ),
        );
    }
    out
}

/// The flags of every `.rdata` section of `obj` that is a COMDAT, from llvm-readobj-22.
fn comdat_rdata_flags(dir: &Path, obj: &str) -> Vec<BTreeSet<String>> {
    let text = support::run_ok(dir, "llvm-readobj-22", &["--sections", obj]);
    text.split("Section {")
        .filter(|s| s.contains("Name: .rdata"))
        .map(|s| {
            s.lines()
                .map(str::trim)
                .filter(|l| l.starts_with("IMAGE_SCN_") && !l.starts_with("IMAGE_SCN_ALIGN"))
                .map(|l| l.split(' ').next().unwrap().to_owned())
                .collect::<BTreeSet<_>>()
        })
        .filter(|f| f.contains("IMAGE_SCN_LNK_COMDAT"))
        .collect()
}

fn check_program(name: &str, p: &Program) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for t in TARGETS {
        let listed = (p.list)(t);
        let list = listed.join(",");
        let label = format!("{name} {}", t.triple);

        // 1. clang 22's own objects: weak `__ref_`s, which lld-link calls duplicates.
        let native = compile(dir, &format!("native-{}", t.machine), p, t, false);
        let (ok, err) = lld_link(
            dir,
            t,
            &native,
            &listed,
            &format!("native-{}.dll", t.machine),
        );
        assert!(!ok, "{label}: clang 22's objects linked:\n{err}");
        for r in p.shared {
            let want = format!("duplicate symbol: {}", coff(t, r));
            assert!(err.contains(&want), "{label}: no '{want}' in:\n{err}");
        }
        let (clean, report) = verify(dir, &list, &native);
        assert!(
            !clean,
            "{label}: verify passed clang 22's objects:\n{report}"
        );
        let first = Path::new(&native[1]).file_name().unwrap().to_string_lossy();
        let hazard = format!(
            "'{}' is a plain weak external (clang 22's form): lld-link reports a duplicate symbol when two objects carry it (here also ",
            coff(t, p.shared[0])
        );
        assert!(
            report
                .lines()
                .any(|l| l.contains(&*first) && l.contains(&hazard)),
            "{label}: no link hazard reported for {}:\n{report}",
            p.shared[0]
        );

        // 2. Ours: COMDAT `__ref_`s for shared globals, static ones for statics; links.
        let ours = compile(dir, &format!("ours-{}", t.machine), p, t, true);
        let mut seen_shared = BTreeMap::new();
        for obj in &ours {
            for (sym, (kind, section, writable)) in refs_of(dir, obj) {
                let ir = if t.x86 {
                    sym.strip_prefix('_').unwrap_or(&sym).to_owned()
                } else {
                    sym.clone()
                };
                let want = if p.statics.contains(&ir.as_str()) {
                    "static"
                } else {
                    "comdat"
                };
                assert_eq!(kind, want, "{label}: {obj}: {sym}");
                assert_eq!(section, ".rdata", "{label}: {obj}: {sym}");
                assert!(!writable, "{label}: {obj}: {sym} is writable");
                *seen_shared.entry(ir).or_insert(0) += 1;
            }
            // COMDAT `.rdata` sections are read-only data and nothing else.
            for flags in comdat_rdata_flags(dir, obj) {
                assert_eq!(
                    flags,
                    BTreeSet::from(
                        [
                            "IMAGE_SCN_CNT_INITIALIZED_DATA",
                            "IMAGE_SCN_LNK_COMDAT",
                            "IMAGE_SCN_MEM_READ"
                        ]
                        .map(String::from)
                    ),
                    "{label}: {obj}"
                );
            }
        }
        for r in p.shared {
            assert!(
                seen_shared.get(*r).is_some_and(|&n| n >= 2),
                "{label}: {r} is not carried by two objects: {seen_shared:?}"
            );
        }
        let dll = format!("ours-{}.dll", t.machine);
        let (ok, err) = lld_link(dir, t, &ours, &listed, &dll);
        assert!(ok, "{label}: our objects do not link:\n{err}");
        // The image keeps one `__ref_` of each shared name (the map lists each symbol kept).
        let map = std::fs::read_to_string(dir.join(format!("{dll}.map"))).unwrap();
        for r in p.shared {
            let sym = coff(t, r);
            let kept = map
                .lines()
                .filter(|l| l.split_whitespace().any(|w| w == sym))
                .count();
            assert_eq!(kept, 1, "{label}: {sym} in the map:\n{map}");
        }
        let (clean, report) = verify(dir, &list, &ours);
        assert!(clean, "{label}: verify on our objects:\n{report}");
    }

    // 3. GNU mode, linked by MinGW ld.lld (a DLL with the MinGW runtime).
    let hp = support::our_bin("hotpatch-cl");
    for ours in [false, true] {
        let sub = if ours { "gnu-ours" } else { "gnu-native" };
        std::fs::create_dir_all(dir.join(sub)).unwrap();
        let mut objs = Vec::new();
        for src in p.sources {
            let obj = format!("{sub}/{}", Path::new(src).with_extension("o").display());
            let path = fixtures().join(src);
            let mut args: Vec<&str> = Vec::new();
            let flag;
            if ours {
                flag = format!("-fms-hotpatch-functions-list={}", p.gnu_list);
                args.push("clang-19");
            } else {
                flag = format!("-fms-secure-hotpatch-functions-list={}", p.gnu_list);
            }
            args.extend(["--target=x86_64-w64-windows-gnu", "-O2", "-g", "-gcodeview"]);
            args.extend([
                "-fms-hotpatch",
                &flag,
                "-c",
                path.to_str().unwrap(),
                "-o",
                &obj,
            ]);
            args.extend(p.gnu_flags);
            let program = if ours {
                hp.to_str().unwrap()
            } else {
                "clang-22"
            };
            support::run_ok(dir, program, &args);
            objs.push(obj);
        }
        if ours {
            for obj in &objs {
                for (sym, (kind, section, writable)) in refs_of(dir, obj) {
                    let want = if p.statics.contains(&sym.as_str()) {
                        "static"
                    } else {
                        "comdat"
                    };
                    assert_eq!(
                        (kind.as_str(), section.as_str(), writable),
                        (want, ".rdata", false),
                        "{name} GNU: {obj}: {sym}"
                    );
                }
            }
        }
        let mut args = vec![
            "--target=x86_64-w64-windows-gnu",
            "--sysroot=/usr",
            "-fuse-ld=lld-22",
            "-shared",
            "-o",
        ];
        let dll = format!("{sub}.dll");
        args.push(&dll);
        args.extend(objs.iter().map(String::as_str));
        // MinGW ld.lld accepts clang 22's weak `__ref_`s as well as our COMDATs.
        support::run_ok(dir, "clang-22", &args);
    }
}

#[test]
fn c_files_sharing_external_globals_link_with_lld_link_on_x64_x86_arm64() {
    check_program("C", &C_PROGRAM);
}

#[test]
fn cpp_inline_static_local_and_meyers_singleton_link_with_lld_link_on_x64_x86_arm64() {
    check_program("C++", &CPP_PROGRAM);
}

/// `hotpatch rewrite` output compiled with the optimiser on (clang 19 and 22 `-O2`, as an
/// LTO or IR-only user would): the COMDAT `__ref_` is `linkonce` and `externally_initialized`,
/// so its load stays in the code, `hotpatch seal` makes it read-only, and the objects of
/// several files link.
#[test]
fn rewrite_output_keeps_the_loads_at_o2_and_links_on_x64_x86_arm64() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let hp = support::our_bin("hotpatch");
    for t in TARGETS {
        let target = format!("--target={}", t.triple);
        for clang in [19, 22] {
            let mut objs = Vec::new();
            let mut checked = 0;
            for src in C_PROGRAM.sources {
                let stem = Path::new(src).file_stem().unwrap().to_string_lossy();
                let ll = format!("{stem}-{}-{clang}.ll", t.machine);
                let rw = format!("{stem}-{}-{clang}.rw.ll", t.machine);
                let obj = format!("{stem}-{}-{clang}.obj", t.machine);
                let path = fixtures().join(src);
                support::run_ok(
                    dir,
                    &format!("clang-{clang}"),
                    &[
                        &target,
                        "-O2",
                        "-S",
                        "-emit-llvm",
                        "-o",
                        &ll,
                        path.to_str().unwrap(),
                    ],
                );
                support::run_ok(
                    dir,
                    hp.to_str().unwrap(),
                    &[
                        "rewrite",
                        &ll,
                        "-o",
                        &rw,
                        "--ms-hotpatch-functions-list=fa,fb,fc",
                    ],
                );
                let text = std::fs::read_to_string(dir.join(&rw)).unwrap();
                if stem != "state" {
                    assert!(
                        text.contains("$__ref_counter = comdat any\n@__ref_counter = linkonce externally_initialized global ptr @counter, comdat, section \".rdata\""),
                        "{rw}:\n{text}"
                    );
                }
                // Optimisation on: nothing may fold the load of `__ref_counter` away.
                support::run_ok(
                    dir,
                    &format!("clang-{clang}"),
                    &[
                        &target,
                        "-c",
                        "-O2",
                        "-Wno-override-module",
                        &rw,
                        "-o",
                        &obj,
                    ],
                );
                // Code generation by hand leaves the `__ref_` COMDATs writable; `hotpatch
                // seal` is the object step such a build adds.
                support::run_ok(dir, hp.to_str().unwrap(), &["seal", &obj]);
                let path = dir.join(&obj);
                objects::assert_refs_read_only(&path, &objects::ref_symbols(&path));
                let relocs = objects::relocations_by_function(&path);
                for f in ["fa", "fb", "fc"] {
                    let Some(r) = relocs.get(&coff(t, f)) else {
                        continue;
                    };
                    let label = format!("clang {clang} {} {f}", t.triple);
                    assert!(r.contains(&coff(t, "__ref_counter")), "{label}: {r:?}");
                    checked += 1;
                    assert!(
                        !r.contains(&coff(t, "counter")),
                        "{label}: direct access: {r:?}"
                    );
                }
                objs.push(obj);
            }
            assert_eq!(
                checked, 3,
                "clang {clang} {}: fa, fb, fc not all found",
                t.triple
            );
            let (ok, err) = lld_link(
                dir,
                t,
                &objs,
                &["fa", "fb", "fc"],
                &format!("rw-{}-{clang}.dll", t.machine),
            );
            assert!(ok, "clang {clang} {}: {err}", t.triple);
        }
    }
}

/// The MinGW runtime pieces a DLL of GNU-mode objects needs when `lld-link` (MSVC mode)
/// links it: Debian's mingw-w64-x86-64-dev and gcc-mingw-w64-x86-64-win32.
fn mingw_runtime() -> Vec<String> {
    let lib = Path::new("/usr/x86_64-w64-mingw32/lib");
    let gcc = std::fs::read_dir("/usr/lib/gcc/x86_64-w64-mingw32")
        .ok()
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path().join("libgcc.a")))
        .find(|p| p.is_file())
        .expect("no libgcc.a for x86_64-w64-mingw32: apt-get install gcc-mingw-w64-x86-64-win32");
    let mut out: Vec<String> = [
        "dllcrt2.o",
        "libmingwex.a",
        "libmingw32.a",
        "libmsvcrt.a",
        "libkernel32.a",
    ]
    .iter()
    .map(|f| {
        let p = lib.join(f);
        assert!(
            p.is_file(),
            "{p:?} is missing: apt-get install mingw-w64-x86-64-dev"
        );
        p.to_string_lossy().into_owned()
    })
    .collect();
    out.push(gcc.to_string_lossy().into_owned());
    out
}

/// Compiles every Lua source in GNU mode with `program args…` into `dir/sub`, two at a time.
fn compile_lua(dir: &Path, sub: &str, program: &str, args: &[String]) -> Vec<String> {
    let out = dir.join(sub);
    std::fs::create_dir_all(&out).unwrap();
    let sources = e2e::lua_sources();
    let objs: Vec<String> = sources
        .iter()
        .map(|s| {
            let o = out.join(s.file_stem().unwrap()).with_extension("o");
            o.to_string_lossy().into_owned()
        })
        .collect();
    let include = format!("-I{}", e2e::lua_dir().display());
    let jobs: Vec<(&PathBuf, &String)> = sources.iter().zip(&objs).collect();
    std::thread::scope(|scope| {
        for chunk in jobs.chunks(jobs.len().div_ceil(2)) {
            let include = &include;
            scope.spawn(move || {
                for (src, obj) in chunk {
                    let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
                    a.extend(["--target=x86_64-w64-windows-gnu", "--sysroot=/usr"]);
                    a.extend(["-O2", "-std=gnu99", include, "-c"]);
                    a.extend([src.to_str().unwrap(), "-o", obj]);
                    support::run_ok(dir, program, &a);
                }
            });
        }
    });
    objs
}

/// `lld-link-22` (through `hotpatch-cl` when `ours`) over Lua's objects as a DLL with a PDB.
fn link_lua(dir: &Path, objs: &[String], name: &str, ours: bool) -> std::process::Output {
    let mut args: Vec<String> = Vec::new();
    let program = if ours {
        args.push("lld-link-22".into());
        support::our_bin("hotpatch-cl")
            .to_string_lossy()
            .into_owned()
    } else {
        "lld-link-22".into()
    };
    args.extend([
        "/nologo".into(),
        "/dll".into(),
        "/entry:DllMainCRTStartup".into(),
        // GNU ld's name for the image base, which the MinGW runtime uses.
        "/alternatename:__image_base__=__ImageBase".into(),
        "/debug".into(),
        format!("/pdb:{name}.pdb"),
        format!("/out:{name}.dll"),
    ]);
    args.extend(objs.iter().cloned());
    args.extend(mingw_runtime());
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    support::run(dir, &program, &a)
}

/// A real library of many files: Lua, every other function listed (and the two that share
/// `luaT_typenames_`), compiled in GNU mode and linked by `hotpatch-cl lld-link-22` into a
/// DLL whose PDB keeps every record of its objects. clang 22's objects of the same sources
/// do not link (`duplicate symbol: __ref_luaT_typenames_`).
#[test]
fn lua_with_every_other_function_listed_links_with_lld_link_and_its_pdb_has_every_record() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // The list: every other function a plain build defines.
    let plain = compile_lua(dir, "plain", "clang-19", &[]);
    let plain: Vec<PathBuf> = plain.iter().map(PathBuf::from).collect();
    let defined = objects::defined_functions(&plain);
    let mut listed: BTreeSet<&str> = defined.iter().step_by(2).map(String::as_str).collect();
    // The two users of the one shared mutable-through-pointer global, `luaT_typenames_`
    // (lapi.c and ltm.c): the pair that makes clang 22's objects clash.
    listed.extend(["lua_typename", "luaT_objtypename"]);
    assert!(listed.len() >= 200, "only {} functions", listed.len());
    let list = dir.join("hot.txt");
    std::fs::write(
        &list,
        listed.iter().map(|f| format!("{f}\n")).collect::<String>(),
    )
    .unwrap();

    let cv = ["-g".to_owned(), "-gcodeview".into(), "-fms-hotpatch".into()];
    let mut native_args = cv.to_vec();
    native_args.push(format!(
        "-fms-secure-hotpatch-functions-file={}",
        list.display()
    ));
    let native = compile_lua(dir, "native", "clang-22", &native_args);
    let n = link_lua(dir, &native, "native", false);
    let err = String::from_utf8_lossy(&n.stderr);
    assert!(!n.status.success(), "clang 22's Lua linked");
    assert!(
        err.contains("duplicate symbol: __ref_luaT_typenames_"),
        "{err}"
    );

    let mut our_args = vec!["clang-19".to_owned()];
    our_args.extend(cv);
    our_args.push(format!("-fms-hotpatch-functions-file={}", list.display()));
    let hp = support::our_bin("hotpatch-cl");
    let ours = compile_lua(dir, "ours", hp.to_str().unwrap(), &our_args);
    let o = link_lua(dir, &ours, "ours", true);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // Every object's records, module by module, in the PDB.
    let pdb = support::pdb::symbols(dir, "ours.pdb");
    let mut total = 0;
    for obj in &ours {
        let module = Path::new(obj).file_name().unwrap().to_string_lossy();
        let mut want: Vec<String> = objects::hotpatch_records(Path::new(obj))
            .into_iter()
            .map(|(_, n)| n)
            .collect();
        want.sort();
        let m = pdb
            .get(&*module)
            .unwrap_or_else(|| panic!("no module {module} in the PDB"));
        let mut got: Vec<String> = m.hotpatch.iter().map(|(_, n)| n.clone()).collect();
        got.sort();
        assert_eq!(got, want, "{module}");
        assert!(m.skips.is_empty(), "{module}: S_SKIP left: {:?}", m.skips);
        total += want.len();
    }
    assert!(total >= 150, "only {total} records");
}
