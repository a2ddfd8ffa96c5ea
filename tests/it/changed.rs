//! `hotpatch changed` on real builds: base/patched source pairs (tests/fixtures/changed)
//! compiled by clang-cl-19 and GNU-mode clang-19 (`/Gy /O2 /Z7`, `-ffunction-sections -O2`) for
//! x64, x86 and ARM64, compared as objects, directories and static libraries.

use crate::support::{command_ok, our_bin, tool};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A compiler, its mode and its target.
#[derive(Clone, Copy)]
struct Mode {
    msvc: bool,
    target: &'static str,
}

impl Mode {
    const fn msvc(target: &'static str) -> Mode {
        Mode { msvc: true, target }
    }

    const fn gnu(target: &'static str) -> Mode {
        Mode {
            msvc: false,
            target,
        }
    }
}

const MSVC_X64: Mode = Mode::msvc("x86_64-pc-windows-msvc");
const MSVC_X86: Mode = Mode::msvc("i686-pc-windows-msvc");
const MSVC_ARM64: Mode = Mode::msvc("aarch64-pc-windows-msvc");
const GNU_X64: Mode = Mode::gnu("x86_64-w64-windows-gnu");
const GNU_X86: Mode = Mode::gnu("i686-w64-windows-gnu");
const GNU_ARM64: Mode = Mode::gnu("aarch64-w64-windows-gnu");

/// Every mode, with its name for messages.
const MODES: [(Mode, &str); 6] = [
    (MSVC_X64, "clang-cl x64"),
    (MSVC_X86, "clang-cl x86"),
    (MSVC_ARM64, "clang-cl arm64"),
    (GNU_X64, "clang x64"),
    (GNU_X86, "clang x86"),
    (GNU_ARM64, "clang arm64"),
];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/changed")
        .join(name)
}

/// The compiler of `mode` (clang-cl-19 or clang-19), for its target.
fn compiler(mode: Mode) -> Command {
    let mut c = Command::new(tool(if mode.msvc { "clang-cl-19" } else { "clang-19" }));
    c.arg(format!("--target={}", mode.target));
    c
}

/// Compiles `src` to `obj` with function-level sections (or without, `sections: false`).
fn compile(mode: Mode, src: &Path, obj: &Path, sections: bool) {
    let mut cmd = compiler(mode);
    if mode.msvc {
        cmd.args(["/nologo", "/c", "/O2", "/Z7", "/GS-", "/Zl"])
            .arg(if sections { "/Gy" } else { "/Gy-" })
            .arg(format!("/Fo{}", obj.display()))
            .arg("--")
            .arg(src);
    } else {
        cmd.args(["-c", "-O2", "-gcodeview", "-g"])
            .args(sections.then_some("-ffunction-sections"))
            .arg(src)
            .arg("-o")
            .arg(obj);
    }
    command_ok(&mut cmd);
}

/// Compiles every `.c` of `fixture/base` and `fixture/patched` into `dir/base` and
/// `dir/patched` (same relative names); returns the two directories.
fn build_pair(mode: Mode, fixture_name: &str, dir: &Path) -> (PathBuf, PathBuf) {
    let mut out = Vec::new();
    for side in ["base", "patched"] {
        let d = dir.join(side);
        std::fs::create_dir_all(&d).unwrap();
        let mut srcs: Vec<PathBuf> = std::fs::read_dir(fixture(fixture_name).join(side))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "c" || e == "cpp"))
            .collect();
        srcs.sort();
        for s in srcs {
            let obj = d.join(s.file_stem().unwrap()).with_extension("obj");
            compile(mode, &s, &obj, true);
        }
        out.push(d);
    }
    (out[0].clone(), out[1].clone())
}

fn hotpatch(dir: &Path, args: &[&str]) -> Output {
    Command::new(our_bin("hotpatch"))
        .arg("changed")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("cannot start hotpatch")
}

/// [`hotpatch`], which must succeed.
#[track_caller]
fn hotpatch_ok(dir: &Path, args: &[&str]) -> Output {
    let out = hotpatch(dir, args);
    assert!(
        out.status.success(),
        "hotpatch changed {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `name → reasons` from `--json`, each reason as `kind` or `kind:detail`.
fn reasons(json: &Value) -> BTreeMap<String, Vec<String>> {
    json["functions"]
        .as_array()
        .expect("functions")
        .iter()
        .map(|f| {
            let rs = f["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    let kind = r["kind"].as_str().unwrap();
                    match (r["global"].as_str(), r["called_by"].as_str()) {
                        (Some(g), _) => format!("{kind}:{g}"),
                        (_, Some(c)) => format!("{kind}:{c}"),
                        _ => kind.to_string(),
                    }
                })
                .collect();
            (f["name"].as_str().unwrap().to_string(), rs)
        })
        .collect()
}

/// The rules fixture: every rule of the comparison, one function each (see its sources),
/// new functions reached directly and through a changed table of function pointers.
fn rules(mode: Mode, name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (base, patched) = build_pair(mode, "rules", dir.path());
    let args = [base.to_str().unwrap(), patched.to_str().unwrap()];

    let json = hotpatch_ok(dir.path(), &[args[0], args[1], "--json"]);
    let json: Value = serde_json::from_slice(&json.stdout).expect("--json prints JSON");
    let expected: BTreeMap<String, Vec<String>> = [
        ("added", vec!["new:caller2"]),
        ("caller2", vec!["bytes", "relocations"]),
        ("dispatch", vec!["uses-changed-constant:ops"]),
        ("greet", vec!["relocations"]),
        ("name_of", vec!["relocations"]),
        ("op_c", vec!["new:dispatch"]),
        ("outer", vec!["bytes"]),
        ("pick", vec!["relocations"]),
        ("reader", vec!["uses-changed-constant:limits"]),
        ("scale", vec!["bytes"]),
    ]
    .into_iter()
    .map(|(n, r)| (n.to_string(), r.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(reasons(&json), expected, "{name}");
    assert_eq!(json["refusals"], Value::Array(vec![]), "{name}");

    // The plain list: one IR name per line, the same names, on stdout or in -o.
    let out = hotpatch(dir.path(), &args);
    assert!(out.status.success());
    let listed: Vec<String> = expected.keys().cloned().collect();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        listed.join("\n") + "\n",
        "{name}"
    );
    let out = hotpatch(dir.path(), &[args[0], args[1], "-o", "hot.txt"]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("hot.txt")).unwrap(),
        listed.join("\n") + "\n"
    );

    // A build compared with itself lists nothing.
    let same = hotpatch(dir.path(), &[args[1], args[1]]);
    assert!(same.status.success());
    assert!(
        same.stdout.is_empty(),
        "{name}: {}",
        String::from_utf8_lossy(&same.stdout)
    );
}

#[test]
fn rules_in_every_mode() {
    for (mode, name) in MODES {
        rules(mode, name);
    }
}

/// The refusals fixture: a writable global's value and another's size change, a constant
/// becomes writable, a thread-local changes, and a global is dropped while b.c still uses it.
fn refusals(mode: Mode, name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (base, patched) = build_pair(mode, "refuse", dir.path());
    let (b, p) = (base.to_str().unwrap(), patched.to_str().unwrap());
    let out = hotpatch(dir.path(), &[b, p, "-o", "hot.txt"]);
    assert_eq!(out.status.code(), Some(1), "{name}");
    assert!(
        !dir.path().join("hot.txt").exists(),
        "{name}: a list was written"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut refused: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("hotpatch changed: refused: "))
        .collect();
    refused.sort();
    assert_eq!(
        refused,
        [
            "a.obj: global buf: writable global whose size changed from 16 to 32 bytes",
            "a.obj: global counter: writable global whose initial value changed (the running image keeps its value)",
            "a.obj: global legacy: dropped by the patched build but still used by use_legacy",
            "a.obj: global limit: changed from read-only to writable data",
            "a.obj: global tl: thread-local whose initial value or size changed",
        ],
        "{name}:\n{stderr}"
    );

    let out = hotpatch(dir.path(), &[b, p, "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut kinds: Vec<(String, String)> = json["refusals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["global"].as_str().unwrap().to_string(),
                r["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    kinds.sort();
    let expected = [
        ("buf", "writable-size"),
        ("counter", "writable-value"),
        ("legacy", "dropped"),
        ("limit", "kind"),
        ("tl", "thread-local"),
    ];
    assert_eq!(
        kinds,
        expected.map(|(a, b)| (a.to_string(), b.to_string())),
        "{name}"
    );
}

#[test]
fn refusals_in_every_mode() {
    for (mode, name) in MODES {
        refusals(mode, name);
    }
}

#[test]
fn without_function_sections_the_flag_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let src = fixture("rules/base/rules.c");
    for (mode, obj) in [(MSVC_X64, "cl.obj"), (GNU_X64, "gnu.obj")] {
        compile(mode, &src, &dir.path().join(obj), false);
        let out = hotpatch(dir.path(), &[obj, obj]);
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!("hotpatch: error: {obj}: functions "))
                && err.contains("share section .text")
                && err.contains("/Gy")
                && err.contains("-ffunction-sections"),
            "{err}"
        );
    }
}

/// The names are the IR's: x86 C names lose their `_`, stdcall and fastcall names keep the
/// decoration behind `\x01`, C++ names stay mangled. Checked against the IR clang emits.
#[test]
fn x86_names_are_the_names_the_ir_has() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = "int __stdcall sc(int a, int b) { return a + b; }\n\
                int __fastcall fc(int a) { return a + 1; }\n\
                int plain(int a) { return a * 2; }\n";
    let patched = base
        .replace("a + b", "a - b")
        .replace("a + 1", "a + 3")
        .replace("a * 2", "a * 4");
    let cpp = "int twice(int a) { return a * 2; }\n";
    let cpp_patched = "int twice(int a) { return a * 3; }\n";
    for (side, c, cc) in [
        ("base", base.to_string(), cpp),
        ("patched", patched, cpp_patched),
    ] {
        std::fs::create_dir_all(d.join(side)).unwrap();
        std::fs::write(d.join(side).join("c.c"), c).unwrap();
        std::fs::write(d.join(side).join("k.cpp"), cc).unwrap();
        for src in ["c.c", "k.cpp"] {
            let s = d.join(side).join(src);
            compile(MSVC_X86, &s, &d.join(side).join(format!("{src}.obj")), true);
        }
    }
    let out = hotpatch_ok(d, &["base", "patched"]);
    let mut listed: Vec<&[u8]> = out
        .stdout
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    listed.sort();
    let expected: [&[u8]; 4] = [b"\x01@fc@4", b"\x01_sc@8", b"?twice@@YAHH@Z", b"plain"];
    assert_eq!(listed, expected);

    // The same names in clang's own IR (`@"\01_sc@8"`, `@plain`, `@"?twice@@YAHH@Z"`).
    let mut ir = ir_functions(MSVC_X86, &d.join("patched/c.c"), d);
    ir.extend(ir_functions(MSVC_X86, &d.join("patched/k.cpp"), d));
    for name in expected {
        assert!(
            ir.contains(name),
            "{name:?} is not defined in the IR: {ir:?}"
        );
    }
}

/// Names of the functions defined in the IR clang emits for `src` in `mode` (`\01` unescaped).
fn ir_functions(mode: Mode, src: &Path, dir: &Path) -> std::collections::BTreeSet<Vec<u8>> {
    let ll = dir.join("out.ll");
    let mut cmd = compiler(mode);
    if mode.msvc {
        cmd.args(["/nologo", "/c", "/O2", "/clang:-S", "/clang:-emit-llvm"])
            .arg(format!("/clang:-o{}", ll.display()))
            .arg("--")
            .arg(src);
    } else {
        cmd.args(["-O2", "-S", "-emit-llvm"])
            .arg(src)
            .arg("-o")
            .arg(&ll);
    }
    command_ok(&mut cmd);
    let ir = std::fs::read_to_string(&ll).unwrap();
    ir.lines()
        .filter(|l| l.starts_with("define "))
        .filter_map(|l| {
            let at = l.find(" @")? + 2;
            let rest = &l[at..];
            let name = match rest.strip_prefix('"') {
                Some(q) => &q[..q.find('"')?],
                None => &rest[..rest.find('(')?],
            };
            Some(name.replace("\\01", "\x01").into_bytes())
        })
        .collect()
}

/// C++: a member function and a template instance change; both are listed by their mangled
/// names (MSVC and Itanium, x86 without the extra `_`), which clang's IR defines.
fn cpp(mode: Mode, expected: [&str; 2]) {
    let dir = tempfile::tempdir().unwrap();
    let (base, patched) = build_pair(mode, "cpp", dir.path());
    let out = hotpatch_ok(
        dir.path(),
        &[base.to_str().unwrap(), patched.to_str().unwrap()],
    );
    let listed = String::from_utf8(out.stdout).unwrap();
    let mut want = expected.to_vec();
    want.sort();
    assert_eq!(listed, want.join("\n") + "\n", "{}", mode.target);
    let ir = ir_functions(mode, &fixture("cpp/patched/shapes.cpp"), dir.path());
    for name in want {
        assert!(
            ir.contains(name.as_bytes()),
            "{name} is not defined in the IR: {ir:?}"
        );
    }
}

#[test]
fn cpp_names_per_mode() {
    for (mode, expected) in [
        (
            MSVC_X64,
            ["?perimeter@Shape@@QEBAHH@Z", "??$twice@H@@YAHH@Z"],
        ),
        (
            MSVC_X86,
            ["?perimeter@Shape@@QBEHH@Z", "??$twice@H@@YAHH@Z"],
        ),
        (GNU_X86, ["_ZNK5Shape9perimeterEi", "_Z5twiceIiET_S0_"]),
        (GNU_ARM64, ["_ZNK5Shape9perimeterEi", "_Z5twiceIiET_S0_"]),
    ] {
        cpp(mode, expected);
    }
}

/// Libraries pair up member by member, directories by relative path.
#[test]
fn libraries_and_directories_pair_up() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (mode, archiver, lib) in [
        (MSVC_X64, "llvm-lib-22", "rules.lib"),
        (GNU_ARM64, "llvm-ar-22", "librules.a"),
    ] {
        let (base, patched) = build_pair(mode, "rules", &d.join(lib));
        for side in [&base, &patched] {
            let libdir = side.join("lib");
            std::fs::create_dir_all(&libdir).unwrap();
            let out_lib = libdir.join(lib);
            let mut cmd = Command::new(tool(archiver));
            if archiver == "llvm-lib-22" {
                cmd.arg("/nologo")
                    .arg(format!("/out:{}", out_lib.display()));
            } else {
                cmd.arg("rcs").arg(&out_lib);
            }
            command_ok(cmd.arg(side.join("rules.obj")));
            std::fs::remove_file(side.join("rules.obj")).unwrap();
        }
        let expect = "added\ncaller2\ndispatch\ngreet\nname_of\nop_c\nouter\npick\nreader\nscale\n";
        // Two libraries.
        let out = hotpatch_ok(
            d,
            &[
                base.join("lib").join(lib).to_str().unwrap(),
                patched.join("lib").join(lib).to_str().unwrap(),
                "--json",
            ],
        );
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        let objects: Vec<&str> = json["functions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["object"].as_str().unwrap())
            .collect();
        assert!(
            objects
                .iter()
                .all(|o| *o == format!("{lib}(rules.obj)") || o.ends_with("rules.obj)")),
            "{objects:?}"
        );
        // Two directories holding them.
        let out = hotpatch_ok(d, &[base.to_str().unwrap(), patched.to_str().unwrap()]);
        assert_eq!(String::from_utf8_lossy(&out.stdout), expect, "{lib}");
    }
}

#[test]
fn bad_input_is_one_line_and_no_list() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("junk.obj"), [0x64u8, 0x86, 0xff, 0xff, 1, 2, 3]).unwrap();
    let out = hotpatch(d, &["junk.obj", "junk.obj", "-o", "hot.txt"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("hotpatch: error: junk.obj: "), "{err}");
    assert!(!d.join("hot.txt").exists());

    let out = hotpatch(d, &["junk.obj", "."]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("two directories or two files"));
}

/// Damaged objects give an error or a report, never a panic: bytes of a real object pair are
/// overwritten at pseudo-random places (a fixed xorshift sequence, so every run is the same).
#[test]
fn damaged_objects_never_panic() {
    use hotpatch_cl::changed::{compare, Input};
    let dir = tempfile::tempdir().unwrap();
    let mut pairs = Vec::new();
    for mode in [MSVC_X64, GNU_ARM64, GNU_X86] {
        let (base, patched) = build_pair(mode, "rules", dir.path());
        pairs.push((
            std::fs::read(base.join("rules.obj")).unwrap(),
            std::fs::read(patched.join("rules.obj")).unwrap(),
        ));
        std::fs::remove_dir_all(base).unwrap();
        std::fs::remove_dir_all(patched).unwrap();
    }
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut reports = 0;
    for (base, patched) in &pairs {
        for _ in 0..300 {
            let mut damaged = patched.clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() % damaged.len() as u64) as usize;
                damaged[at] = next() as u8;
            }
            let b = [Input {
                name: "a.obj",
                data: base,
            }];
            let p = [Input {
                name: "a.obj",
                data: &damaged,
            }];
            reports += usize::from(compare(&b, &p).is_ok());
        }
    }
    // Most single-byte damage lands in code or debug data and still parses.
    assert!(reports > 300, "{reports} of 900 damaged pairs parsed");
}
