//! List files as Windows tools write them: a UTF-8 byte-order mark (Notepad, PowerShell's
//! `Out-File -Encoding utf8`), UTF-16 LE and BE with a mark (Windows PowerShell 5.1's `>`),
//! CRLF line ends. clang-cl 22 silently loses the first name of a file with a UTF-8 mark
//! and every name of a UTF-16 file (`native_clang22_loses_names_of_marked_and_utf16_lists`); hotpatch-cl reads them in every
//! mode and in every `hotpatch` command, and refuses what is not text with one line naming
//! the file and line, exit status 1 and no output.

use crate::support::{self, objects, Dir};
use hotpatch_cl::text::Encoding;

const SOURCE: &str = "int counter;\nint keep;\n\
int f(void) { return ++counter; }\n\
int h(void) { return keep + counter; }\n\
int other(void) { return counter * 2; }\n";

/// The three encodings of the list `f`, `h` (CRLF), by file name (UTF-16 LE with its mark is
/// what `echo f > hot.txt` writes in Windows PowerShell 5.1).
fn marked_lists(dir: &Dir) -> Vec<String> {
    let text = "f\r\nh\r\n";
    let files = [
        ("bom.txt", Encoding::Utf8Bom.encode(text)),
        ("le.txt", Encoding::Utf16Le.encode(text)),
        ("be.txt", Encoding::Utf16Be.encode(text)),
    ];
    files
        .into_iter()
        .map(|(name, bytes)| {
            std::fs::write(dir.path(name), bytes).unwrap();
            name.to_string()
        })
        .collect()
}

/// The three marked lists, each with the flag `{option}={list}` that names it.
fn marked_list_flags(dir: &Dir, option: &str) -> Vec<(String, String)> {
    marked_lists(dir)
        .into_iter()
        .map(|list| {
            let flag = format!("{option}={list}");
            (list, flag)
        })
        .collect()
}

fn record_names(obj: &std::path::Path) -> Vec<String> {
    objects::hotpatch_records(obj)
        .into_iter()
        .map(|(_, name)| name)
        .collect()
}

#[test]
fn native_clang22_loses_names_of_marked_and_utf16_lists() {
    // The claim of docs/differences-from-clang22.md: the first name carries the UTF-8 mark
    // (so only `h` matches), every UTF-16 name has NULs (nothing matches); clang says nothing.
    let dir = Dir::new(&[("a.c", SOURCE)]);
    for (list, flag) in marked_list_flags(&dir, "-fms-secure-hotpatch-functions-file") {
        let out = support::run(
            dir.root(),
            "clang-cl-22",
            &["/c", "/Z7", "/hotpatch", &flag, "a.c", "/Fonative.obj"],
        );
        support::assert_success(&out, &list);
        assert!(out.stderr.is_empty(), "{list}: clang said something");
        let want: &[&str] = if list == "bom.txt" { &["h"] } else { &[] };
        assert_eq!(record_names(&dir.path("native.obj")), want, "{list}");
    }
}

#[test]
fn the_wrapper_reads_marked_and_utf16_lists_in_every_mode() {
    let dir = Dir::new(&[("a.c", SOURCE)]);
    // auto (the rewrite on clang 19), rewrite on clang 22, and clang 22's own pass, which
    // is handed the names it can read.
    let cases = [
        ("clang-cl-19", "auto"),
        ("clang-cl-22", "rewrite"),
        ("clang-cl-22", "native"),
    ];
    for (list, flag) in marked_list_flags(&dir, "-fms-hotpatch-functions-file") {
        for (compiler, mode) in cases {
            let err = dir.wrap_ok(
                &[
                    compiler,
                    "/c",
                    "/Z7",
                    "/O2",
                    "/hotpatch",
                    &flag,
                    "a.c",
                    "/Foa.obj",
                ],
                &[("HOTPATCH_MODE", mode)],
            );
            assert!(err.is_empty(), "{list} {compiler} {mode}: {err}");
            assert_eq!(
                record_names(&dir.path("a.obj")),
                ["f", "h"],
                "{list} with {compiler} in {mode} mode"
            );
            let _ = std::fs::remove_file(dir.path("a.obj"));
        }
    }
}

#[test]
fn allow_direct_files_in_utf16_are_read() {
    let dir = Dir::new(&[("a.c", SOURCE)]);
    std::fs::write(dir.path("hot.txt"), Encoding::Utf16Le.encode("h\r\n")).unwrap();
    std::fs::write(dir.path("direct.txt"), Encoding::Utf16Be.encode("keep\r\n")).unwrap();
    dir.wrap_ok(
        &[
            "clang-cl-19",
            "/c",
            "/Z7",
            "/hotpatch",
            "-fms-hotpatch-functions-file=hot.txt",
            "-fms-hotpatch-allow-direct-file=direct.txt",
            "a.c",
            "/Foa.obj",
        ],
        &[],
    );
    let refs = objects::ref_symbols(&dir.path("a.obj"));
    assert!(refs.iter().any(|r| r.contains("__ref_counter")), "{refs:?}");
    assert!(!refs.iter().any(|r| r.contains("__ref_keep")), "{refs:?}");
}

#[test]
fn hotpatch_commands_read_marked_and_utf16_lists() {
    let dir = Dir::new(&[("a.c", SOURCE)]);
    let lists = marked_lists(&dir);
    support::run_ok(
        dir.root(),
        "clang-19",
        &[
            "--target=x86_64-pc-windows-msvc",
            "-S",
            "-emit-llvm",
            "-O1",
            "a.c",
            "-o",
            "a.ll",
        ],
    );
    support::run_ok(
        dir.root(),
        "clang-cl-19",
        &["/c", "/Z7", "/O2", "a.c", "/Foplain.obj"],
    );
    let hotpatch = support::our_bin("hotpatch");
    let hotpatch = hotpatch.to_str().unwrap();
    for list in &lists {
        // rewrite: both functions marked.
        let flag = format!("--ms-hotpatch-functions-file={list}");
        let out = support::run(
            dir.root(),
            hotpatch,
            &["rewrite", "-v", &flag, "a.ll", "-o", "out.ll"],
        );
        support::assert_success(&out, &format!("rewrite {list}"));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("hotpatch: marked f\n") && err.contains("hotpatch: marked h\n"),
            "{list}: {err}"
        );
        // inject: both records.
        let flag = format!("--functions-file={list}");
        support::run_ok(
            dir.root(),
            hotpatch,
            &["inject", &flag, "plain.obj", "-o", "injected.obj"],
        );
        assert_eq!(
            record_names(&dir.path("injected.obj")),
            ["f", "h"],
            "{list}"
        );
        // verify: the wrapper's object is complete for the list.
        let hot = format!("-fms-hotpatch-functions-file={list}");
        dir.wrap_ok(
            &[
                "clang-cl-19",
                "/c",
                "/Z7",
                "/hotpatch",
                &hot,
                "a.c",
                "/Fowrapped.obj",
            ],
            &[],
        );
        let out = support::run(dir.root(), hotpatch, &["verify", &flag, "wrapped.obj"]);
        support::assert_success(&out, &format!("verify {list}"));
    }
}

/// Files that are not text, and the line each error names.
fn not_text() -> Vec<(&'static str, Vec<u8>, String)> {
    let mut odd = Encoding::Utf16Le.encode("f\r\nh\r\n");
    odd.push(b'g');
    let mut lone = Encoding::Utf16Be.encode("f\r\n");
    lone.extend([0xDC, 0x00, 0x00, b'\r', 0x00, b'\n']);
    vec![
        (
            "nul.txt",
            b"f\r\nh\0\r\n".to_vec(),
            "2: {what} is not text: a NUL byte (binary data, or UTF-16 without a byte-order mark?)"
                .to_string(),
        ),
        (
            "nomark.txt",
            Encoding::Utf16Le.encode("f\r\n")[2..].to_vec(),
            "1: {what} is not text: a NUL byte (binary data, or UTF-16 without a byte-order mark?)"
                .to_string(),
        ),
        (
            "latin1.txt",
            b"f\r\ncaf\xE9\r\n".to_vec(),
            "2: {what} is not text: invalid UTF-8 (byte 0xE9); save it as UTF-8, or as UTF-16 with a byte-order mark"
                .to_string(),
        ),
        (
            "odd.txt",
            odd,
            "3: {what} is not text: UTF-16 with an odd number of bytes (the file is cut short)"
                .to_string(),
        ),
        (
            "lone.txt",
            lone,
            "2: {what} is not text: an unpaired UTF-16 surrogate (0xDC00)".to_string(),
        ),
    ]
}

#[test]
fn a_list_that_is_not_text_is_one_error_naming_file_and_line() {
    let dir = Dir::new(&[("a.c", SOURCE)]);
    for (name, bytes, expected) in not_text() {
        std::fs::write(dir.path(name), bytes).unwrap();
        for (flag, what) in [
            (
                "-fms-hotpatch-functions-file",
                "the hot-patch functions file",
            ),
            ("-fms-hotpatch-allow-direct-file", "the allow-direct file"),
        ] {
            for mode in ["auto", "native"] {
                if mode == "native" && flag.contains("allow-direct") {
                    continue; // refused in native mode whatever the file holds
                }
                let file_flag = format!("{flag}={name}");
                let args = [
                    "clang-cl-22",
                    "/c",
                    "/Z7",
                    "/hotpatch",
                    "-fms-hotpatch-functions-list=f",
                    &file_flag,
                    "a.c",
                    "/Foa.obj",
                ];
                let out = dir.wrap(&args, &[("HOTPATCH_MODE", mode)]);
                let suffix = if flag.contains("allow-direct") {
                    " (-fms-hotpatch-allow-direct-file)"
                } else {
                    ""
                };
                let want = format!(
                    "hotpatch-cl: error: {name}:{}{suffix}\n",
                    expected.replace("{what}", what)
                );
                assert_eq!(
                    String::from_utf8_lossy(&out.stderr),
                    want,
                    "{name} {flag} {mode}"
                );
                assert_eq!(out.status.code(), Some(1), "{name} {flag} {mode}");
                assert!(
                    !dir.path("a.obj").exists(),
                    "{name} {flag} {mode}: an object"
                );
            }
        }
        // The hotpatch commands: same line, exit 1, nothing written.
        let hotpatch = support::our_bin("hotpatch");
        let hotpatch = hotpatch.to_str().unwrap();
        std::fs::write(dir.path("a.ll"), "define void @f() {\n  ret void\n}\n").unwrap();
        std::fs::write(dir.path("x.obj"), b"not read").unwrap();
        let cases: [(Vec<String>, &str, &str); 3] = [
            (
                vec![
                    "rewrite".into(),
                    format!("--ms-hotpatch-functions-file={name}"),
                    "a.ll".into(),
                    "-o".into(),
                    "out.ll".into(),
                ],
                "the hot-patch functions file",
                "out.ll",
            ),
            (
                vec![
                    "rewrite".into(),
                    "--ms-hotpatch-functions-list=f".into(),
                    format!("--allow-direct-file={name}"),
                    "a.ll".into(),
                    "-o".into(),
                    "out.ll".into(),
                ],
                "the allow-direct file",
                "out.ll",
            ),
            (
                vec![
                    "inject".into(),
                    format!("--functions-file={name}"),
                    "x.obj".into(),
                    "-o".into(),
                    "out.obj".into(),
                ],
                "the hot-patch functions file",
                "out.obj",
            ),
        ];
        for (args, what, output) in cases {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = support::run(dir.root(), hotpatch, &args);
            let want = format!(
                "hotpatch: error: {name}:{}\n",
                expected.replace("{what}", what)
            );
            assert_eq!(String::from_utf8_lossy(&out.stderr), want, "{args:?}");
            assert_eq!(out.status.code(), Some(1), "{args:?}");
            assert!(!dir.path(output).exists(), "{args:?} wrote {output}");
        }
        let out = support::run(
            dir.root(),
            hotpatch,
            &["verify", &format!("--functions-file={name}"), "x.obj"],
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!(
                "hotpatch: error: {name}:{}\n",
                expected.replace("{what}", "the hot-patch functions file")
            )
        );
        assert_eq!(out.status.code(), Some(1));
    }
}

/// The functions an IR module marks `"marked_for_windows_hot_patching"` (by attribute group).
fn marked_in_bitcode(dir: &Dir, obj: &str) -> Vec<String> {
    let ir = support::run_ok(dir.root(), "llvm-dis-22", &[obj, "-o", "-"]);
    let marked_groups: Vec<&str> = ir
        .lines()
        .filter(|l| {
            l.starts_with("attributes #") && l.contains("\"marked_for_windows_hot_patching\"")
        })
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    ir.lines()
        .filter(|l| l.starts_with("define "))
        .filter(|l| l.split_whitespace().any(|w| marked_groups.contains(&w)))
        .filter_map(|l| l.split('@').nth(1)?.split('(').next().map(str::to_owned))
        .collect()
}

/// `-flto` in auto mode is clang 22's own pass (the code generator runs in the linker): the
/// wrapper hands it the names it read, so the bitcode marks exactly the listed functions.
#[test]
fn with_flto_clang_22_gets_the_names_of_a_utf16_list() {
    let dir = Dir::new(&[("a.c", SOURCE)]);
    for (list, flag) in marked_list_flags(&dir, "-fms-hotpatch-functions-file") {
        dir.wrap_ok(
            &[
                "clang-cl-22",
                "/c",
                "-flto",
                "/Z7",
                "/hotpatch",
                &flag,
                "a.c",
                "/Foa.obj",
            ],
            &[],
        );
        assert_eq!(marked_in_bitcode(&dir, "a.obj"), ["f", "h"], "{list}");
    }
}
