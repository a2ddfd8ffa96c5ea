//! The object reaches the user's path only complete: a hot-patched compile killed outright
//! (SIGKILL, as a build tool's timeout, the OOM killer or a cancelled CI job do) at any
//! moment leaves the old object or the complete new one at the output path, never an object
//! without its records, and no compiler it started writes to that path afterwards; in a
//! routed job of several sources, each output on its own.
//!
//! The Windows counterpart (`TerminateProcess`, with the fake compiler) is in `windows.rs`.

use crate::support::{self, e2e, objects};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `hotpatch-cl clang-19 …` compiling Lua's `source` hot-patched in `mode` (about a second
/// for the parser: IR, rewrite, code generation, injection), its temporaries under `tmp` so
/// that every process it starts names `root` on its command line.
fn compile(root: &Path, out: &Path, list: &str, mode: &str, source: &str) -> Command {
    let mut c = lua_compile(root, list, mode);
    c.arg("-c")
        .arg(e2e::lua_dir().join(source))
        .arg("-o")
        .arg(out);
    c
}

/// `hotpatch-cl clang-19 …` with the flags of [`compile`], no source yet.
fn lua_compile(root: &Path, list: &str, mode: &str) -> Command {
    let mut c = support::hotpatch_cl(root);
    c.args([
        "clang-19",
        "--target=x86_64-w64-windows-gnu",
        "--sysroot=/usr",
    ])
    .args(["-O2", "-g", "-gcodeview", "-fms-hotpatch"])
    .arg(format!("-fms-hotpatch-functions-list={list}"))
    .arg(format!("-I{}", e2e::lua_dir().display()))
    .env("TMPDIR", root.join("tmp"))
    .env("HOTPATCH_MODE", mode)
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    c
}

/// One job of several Lua sources, their objects in `root/obj` (the job's working
/// directory: a GNU-mode job of several sources names each object after its source there).
fn compile_several(root: &Path, list: &str, sources: &[&str]) -> Command {
    let mut c = lua_compile(root, list, "auto");
    c.current_dir(root.join("obj")).arg("-c");
    for s in sources {
        c.arg(e2e::lua_dir().join(s));
    }
    c
}

/// The processes (other than this one) whose command line mentions `root`: the compilers a
/// killed wrapper left running.
fn processes_naming(root: &Path) -> Vec<String> {
    let needle = root.as_os_str().as_encoded_bytes();
    let me = std::process::id().to_string();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) || name == me {
            continue;
        }
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if cmdline.windows(needle.len()).any(|w| w == needle) {
            found.push(format!(
                "{name}: {}",
                String::from_utf8_lossy(&cmdline).replace('\0', " ")
            ));
        }
    }
    found
}

/// Waits until no process names `root` (a stray compiler finishes its step on its own).
fn wait_for_strays(root: &Path) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let left = processes_naming(root);
        if left.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "still running: {left:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn records(obj: &Path) -> Vec<String> {
    objects::hotpatch_records(obj)
        .into_iter()
        .map(|(_, n)| n)
        .collect()
}

/// The rewrite pipeline (`HOTPATCH_MODE=rewrite`) over the object of an earlier build with a
/// shorter list.
#[test]
fn a_killed_compile_leaves_the_old_object_or_the_complete_new_one() {
    kill_at_many_moments(
        "rewrite",
        ("lparser.c", "luaY_parser"),
        &["luaY_parser"],
        24,
    );
}

/// Auto mode over an object that defines no listed function (another unit's): routing
/// compiles plainly first, finds that the unit needs records after all, and runs the
/// pipeline. The plain object must never reach the output path.
#[test]
fn a_killed_routed_compile_never_publishes_the_plain_object() {
    kill_at_many_moments("auto", ("lcode.c", "luaK_code"), &["luaK_code"], 16);
}

const LIST: &str = "luaY_parser,luaY_nvarstack";

/// Compiles `lparser.c` with [`LIST`] into `obj/lparser.o` over the object that `old`
/// (source, list) makes, whose records must be `old_records`, killed at `moments` moments
/// spread over the compile.
fn kill_at_many_moments(mode: &str, old: (&str, &str), old_records: &[&str], moments: u32) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    std::fs::create_dir_all(root.join("tmp")).unwrap();
    std::fs::create_dir_all(root.join("obj")).unwrap();
    let out: PathBuf = root.join("obj").join("lparser.o");

    // The old object: an earlier build.
    support::command_ok(compile(&root, &out, old.1, mode, old.0).stderr(Stdio::piped()));
    let old = std::fs::read(&out).unwrap();
    assert_eq!(records(&out), old_records);
    // The new one, and how long it takes.
    let start = Instant::now();
    support::command_ok(compile(&root, &out, LIST, mode, "lparser.c").stderr(Stdio::piped()));
    let took = start.elapsed();
    let new = std::fs::read(&out).unwrap();
    assert_eq!(records(&out), ["luaY_nvarstack", "luaY_parser"]);
    // Written under another name and renamed, yet it names the user's path (S_OBJNAME), so
    // its bytes do not depend on the staging name (each completed run below equals it).
    let view = support::run_ok(
        &root,
        "llvm-readobj-22",
        &["--codeview", out.to_str().unwrap()],
    );
    assert!(
        view.contains(&format!("ObjectName: {}\n", out.display())),
        "{}",
        view.lines()
            .filter(|l| l.contains("ObjectName"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_ne!(old, new);

    // Kill it at many moments spread over (and a little past) a whole compile.
    let (mut saw_old, mut saw_new, mut strays) = (0, 0, 0);
    for k in 0..moments {
        std::fs::write(&out, &old).unwrap();
        // Spread over a little more than a whole compile; the last one after it surely ended
        // (the machine may be slower now than when `took` was measured).
        let delay = if k + 1 == moments {
            took * 3
        } else {
            took * k * 5 / (moments * 4)
        };
        let mut child = compile(&root, &out, LIST, mode, "lparser.c")
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        child.kill().unwrap();
        child.wait().unwrap();
        let after = std::fs::read(&out).unwrap();
        let what = if after == old {
            saw_old += 1;
            "the old object"
        } else if after == new {
            saw_new += 1;
            "the new object"
        } else {
            panic!(
                "killed after {delay:?}: {} holds neither object ({} bytes, records {:?})",
                out.display(),
                after.len(),
                records(&out)
            );
        };
        if !processes_naming(&root).is_empty() {
            strays += 1;
        }
        wait_for_strays(&root);
        assert!(
            std::fs::read(&out).unwrap() == after,
            "killed after {delay:?}: a compiler left running changed {} (it held {what})",
            out.display()
        );
        clear_staging_files(&root, std::slice::from_ref(&out), delay);
    }
    eprintln!(
        "{mode}: {moments} kills over {took:?}: {saw_old} left the old object, {saw_new} the new one; {strays} left a compiler running"
    );
    assert!(saw_old > 0 && saw_new > 0, "the kills missed the compile");
    assert!(strays > 0, "no kill landed while a compiler ran");
}

/// Auto mode, one job of three sources over an earlier build's objects: `lparser.c`
/// (records before and after, for a longer list now), `lcode.c` (a plain object before, one
/// that needs records now: routing compiles it plainly first, into a staging file) and
/// `lstring.c` (defines none: plain both times). Killed at many moments, each output holds
/// its old object or its complete new one; a unit's plain object never reaches the path of
/// a unit that needs records.
#[test]
fn a_killed_routed_job_of_several_sources_leaves_each_object_old_or_complete() {
    const SOURCES: [&str; 3] = ["lparser.c", "lcode.c", "lstring.c"];
    const OLD_LIST: &str = "luaY_nvarstack";
    const NEW_LIST: &str = "luaY_parser,luaY_nvarstack,luaK_code";
    let moments = 20;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    std::fs::create_dir_all(root.join("tmp")).unwrap();
    std::fs::create_dir_all(root.join("obj")).unwrap();
    let outs: Vec<PathBuf> = SOURCES
        .iter()
        .map(|s| root.join("obj").join(s.replace(".c", ".o")))
        .collect();
    let read_all = || -> Vec<Vec<u8>> { outs.iter().map(|o| std::fs::read(o).unwrap()).collect() };

    // The earlier build, and the new one (and how long it takes).
    support::command_ok(compile_several(&root, OLD_LIST, &SOURCES).stderr(Stdio::piped()));
    let old = read_all();
    let start = Instant::now();
    support::command_ok(compile_several(&root, NEW_LIST, &SOURCES).stderr(Stdio::piped()));
    let took = start.elapsed();
    let new = read_all();
    assert_eq!(records(&outs[0]), ["luaY_nvarstack", "luaY_parser"]);
    assert_eq!(records(&outs[1]), ["luaK_code"]);
    assert!(records(&outs[2]).is_empty());
    assert_ne!(old[0], new[0]);
    assert_ne!(old[1], new[1]);

    let (mut saw_old, mut saw_new, mut strays) = (0, 0, 0);
    for k in 0..moments {
        for (o, bytes) in outs.iter().zip(&old) {
            std::fs::write(o, bytes).unwrap();
        }
        let delay = if k + 1 == moments {
            took * 3
        } else {
            took * k * 5 / (moments * 4)
        };
        let mut child = compile_several(&root, NEW_LIST, &SOURCES).spawn().unwrap();
        std::thread::sleep(delay);
        child.kill().unwrap();
        child.wait().unwrap();
        let after = read_all();
        for (i, o) in outs.iter().enumerate() {
            if after[i] == old[i] {
                saw_old += 1;
            } else if after[i] == new[i] {
                saw_new += 1;
            } else {
                panic!(
                    "killed after {delay:?}: {} holds neither object ({} bytes, records {:?})",
                    o.display(),
                    after[i].len(),
                    records(o)
                );
            }
        }
        if !processes_naming(&root).is_empty() {
            strays += 1;
        }
        wait_for_strays(&root);
        assert!(
            read_all() == after,
            "killed after {delay:?}: a compiler left running changed an output"
        );
        clear_staging_files(&root, &outs, delay);
    }
    eprintln!(
        "several sources: {moments} kills over {took:?}: {saw_old} outputs held the old object, {saw_new} the new one; {strays} kills left a compiler running"
    );
    assert!(saw_old > 0 && saw_new > 0, "the kills missed the compile");
    assert!(strays > 0, "no kill landed while a compiler ran");
}

/// What a stray compiler may leave in `root/obj` after a kill: its staging file, under our
/// `.hotpatch-OUTPUT.` name, never anything else beside the outputs `outs`. Removes them and
/// empties `root/tmp` for the next kill.
fn clear_staging_files(root: &Path, outs: &[PathBuf], delay: Duration) {
    for e in std::fs::read_dir(root.join("obj")).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        let of = |o: &PathBuf| o.file_name().unwrap().to_string_lossy().into_owned();
        if outs.iter().any(|o| of(o) == name) {
            continue;
        }
        assert!(
            outs.iter()
                .any(|o| name.starts_with(&format!(".hotpatch-{}.", of(o)))),
            "killed after {delay:?}: left {name}"
        );
        std::fs::remove_file(e.path()).unwrap();
    }
    let _ = std::fs::remove_dir_all(root.join("tmp"));
    std::fs::create_dir_all(root.join("tmp")).unwrap();
}
