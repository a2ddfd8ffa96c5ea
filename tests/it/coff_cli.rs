//! `hotpatch inject` and `hotpatch dump` through the binary: in place and `-o`, list files,
//! atomic writes, the error format, and the JSON dump on clang 22's own hot-patched objects.

use crate::support;
use crate::support::coff;

use coff::*;
use serde_json::Value;
use support::{our_bin, run};

const X64: &str = "x86_64-pc-windows-msvc";

fn hotpatch(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    run(dir, our_bin("hotpatch").to_str().unwrap(), args)
}

fn dir_entries(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The string fields `a` and `b` of each JSON object in `items`.
fn field_pairs<'v>(items: &'v [Value], a: &str, b: &str) -> Vec<(&'v str, &'v str)> {
    items
        .iter()
        .map(|i| (i[a].as_str().unwrap(), i[b].as_str().unwrap()))
        .collect()
}

#[test]
fn in_place_and_to_output_give_the_library_result() {
    let w = Work::new("hot.c");
    let obj = w.cl19(X64, &[], "a.obj");
    let original = std::fs::read(&obj).unwrap();
    let list: hotpatch_cl::hotlist::HotList = ["bump", "helper"].into_iter().collect();
    let expected = hotpatch_cl::codeview::inject(&original, &list)
        .unwrap()
        .bytes;

    // -o: the input stays as it was.
    let out = hotpatch(
        w.dir.path(),
        &["inject", "a.obj", "-o", "b.obj", "--functions=bump"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(w.path("list.txt"), "helper\r\n\r\n").unwrap();
    let out = hotpatch(
        w.dir.path(),
        &[
            "inject",
            "b.obj",
            "-o",
            "b.obj",
            "--functions-file=list.txt",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&obj).unwrap(), original);
    assert_eq!(
        std::fs::read(w.path("b.obj")).unwrap(),
        expected,
        "two steps equal one"
    );

    // In place, with -v naming what happened to each name.
    let out = hotpatch(
        w.dir.path(),
        &["inject", "a.obj", "-v", "--functions=bump,helper,nothere"],
    );
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("recorded: bump") && err.contains("recorded: helper"),
        "{err}"
    );
    assert!(
        err.contains("not defined in this object, skipped: nothere"),
        "{err}"
    );
    assert_eq!(std::fs::read(&obj).unwrap(), expected);
    assert_eq!(
        dir_entries(w.dir.path()),
        ["a.obj", "b.obj", "hot.c", "list.txt"],
        "no temporaries left"
    );
}

#[test]
fn corrupt_objects_fail_cleanly_and_leave_files_alone() {
    let w = Work::new("hot.c");
    let obj = w.cl19(X64, &[], "a.obj");
    let mut data = std::fs::read(&obj).unwrap();
    data.truncate(data.len() / 2);
    std::fs::write(&obj, &data).unwrap();
    std::fs::write(w.path("keep.obj"), b"old output").unwrap();

    for args in [
        vec!["inject", "a.obj", "--functions=bump"],
        vec!["inject", "a.obj", "-o", "keep.obj", "--functions=bump"],
    ] {
        let out = hotpatch(w.dir.path(), &args);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("hotpatch: error: a.obj: "), "{err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
    }
    assert_eq!(std::fs::read(&obj).unwrap(), data);
    assert_eq!(std::fs::read(w.path("keep.obj")).unwrap(), b"old output");

    let out = hotpatch(w.dir.path(), &["dump", "a.obj"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("hotpatch: error: a.obj: "));

    let out = hotpatch(w.dir.path(), &["inject", "missing.obj", "--functions=bump"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("hotpatch: error: missing.obj: "));

    // An unwritable destination: the error names it and nothing is left behind.
    let good = w.cl19(X64, &[], "good.obj");
    let out = hotpatch(
        w.dir.path(),
        &[
            "inject",
            "good.obj",
            "-o",
            "no/such/dir/x.obj",
            "--functions=bump",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/dir/x.obj"));
    assert!(good.exists());
    assert_eq!(
        dir_entries(w.dir.path()),
        ["a.obj", "good.obj", "hot.c", "keep.obj"]
    );
}

/// The JSON dump of clang 22's own hot-patched object (the oracle) and of ours.
#[test]
fn dump_json_on_native_and_injected_objects() {
    let w = Work::new("hot.c");
    let ll = w.ll19(X64, &[], "in.ll");
    let names: Vec<Vec<u8>> = vec![b"bump".to_vec(), b"helper".to_vec()];
    w.clang22(&ll, X64, false, Some(&names), "ref.obj");
    w.cl19(X64, &[], "ours.obj");
    let out = hotpatch(
        w.dir.path(),
        &["inject", "ours.obj", "--functions=bump,helper"],
    );
    assert!(out.status.success());

    let out = hotpatch(w.dir.path(), &["dump", "--json", "ref.obj", "ours.obj"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = v.as_array().unwrap();
    assert_eq!(files.len(), 2);
    let (native, ours) = (&files[0], &files[1]);
    assert_eq!(native["file"], "ref.obj");
    assert_eq!(native["machine"], "x86-64");
    assert_eq!(native["bigobj"], false);
    for f in files {
        let hp = f["hotpatch_functions"].as_array().unwrap();
        let got = field_pairs(hp, "name", "function_id_name");
        assert_eq!(got, [("bump", "bump"), ("helper", "helper")], "{f}");
        assert!(hp
            .iter()
            .all(|h| h["function_id"].as_u64().unwrap() >= 0x1000));
    }
    // clang 22 redirected the globals: __ref_ pointers in read-only .rdata, no direct access.
    let refs = native["ref_symbols"].as_array().unwrap();
    let ref_names: Vec<&str> = refs.iter().map(|r| r["symbol"].as_str().unwrap()).collect();
    assert_eq!(ref_names, ["__ref_counter", "__ref_s_total"]);
    for r in refs {
        assert_eq!(r["kind"], "weak external");
        assert_eq!(r["section"], ".rdata");
        assert_eq!(
            (r["readable"].as_bool(), r["writable"].as_bool()),
            (Some(true), Some(false))
        );
    }
    assert_eq!(
        native["direct_global_accesses"].as_array().unwrap().len(),
        0
    );
    // Ours only got the records: the hot-patched functions still reach the globals directly.
    assert!(ours["ref_symbols"].as_array().unwrap().is_empty());
    let direct = ours["direct_global_accesses"].as_array().unwrap();
    let targets = field_pairs(direct, "function", "target");
    assert!(targets.contains(&("bump", "counter")), "{targets:?}");
    assert!(targets.contains(&("helper", "s_total")), "{targets:?}");
    assert!(direct.iter().all(|d| d["target_section"] == ".bss"));

    // The table names the same things.
    let out = hotpatch(w.dir.path(), &["dump", "ref.obj"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("S_HOTPATCHFUNC records: 2") && table.contains("__ref_counter"),
        "{table}"
    );
}

/// `hotpatch dump … | head -1`: the reader closes the pipe after one line, and every command
/// that writes results on stdout ends quietly (status 0, nothing on stderr), never with a
/// panic about stdout. The output is far larger than a pipe holds, so the writes go on after
/// the reader is gone.
#[test]
fn a_closed_pipe_ends_every_command_quietly() {
    use std::process::Command;
    let w = Work::new("hot.c");
    w.cl19(X64, &[], "a.obj");
    let many: Vec<&str> = std::iter::repeat_n("a.obj", 3000).collect();
    let listed: Vec<String> = (0..3000).map(|i| format!("missing_{i}")).collect();
    let list = format!("--functions={}", listed.join(","));
    let cases: Vec<Vec<&str>> = vec![
        [&["dump"][..], &many].concat(),
        [&["dump", "--json"][..], &many].concat(),
        vec!["verify", &list, "a.obj"],
    ];
    for args in cases {
        support::assert_quiet_on_a_closed_pipe(
            Command::new(our_bin("hotpatch"))
                .args(&args)
                .current_dir(w.dir.path()),
            &args[..2].join(" "),
        );
    }
}
