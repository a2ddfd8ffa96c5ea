//! The clang-cl side of the wrapper against `fake-clang`: which commands it runs for which
//! command line (passthrough, native translation, the pipeline's IR step, refusals), how
//! it finds the compiler, and that the compiler's output and exit status reach the user.

use crate::support::fake::{self, args, assert_in_order, stderr, Fake};
use hotpatch_cl::text::Encoding;

const CL: &str = "clang-cl-19";

fn os(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The pipeline's usual compile: `/hotpatch` and a one-function list.
const HOT: [&str; 5] = [
    CL,
    "/c",
    "/hotpatch",
    "-fms-hotpatch-functions-list=f",
    "a.c",
];

/// A fake clang-cl 22 (installed as `clang-cl-22`, version 22.1.8) with `env` set.
fn clang_cl_22(env: &[(&str, &str)]) -> Fake {
    let mut f = Fake::new(&["clang-cl-22"]);
    f.set("FAKE_CLANG_VERSION", "22.1.8");
    for (k, v) in env {
        f.set(k, v);
    }
    f
}

/// A fake clang-cl 19 run with `HOTPATCH_MODE=mode`.
fn cl_in_mode(mode: &str) -> Fake {
    let mut f = Fake::new(&[CL]);
    f.set("HOTPATCH_MODE", mode);
    f
}

/// The arguments of the first compile (the IR step, when the pipeline runs) that
/// `hotpatch-cl ARGV…` asks of a fake compiler installed as `argv[0]`.
fn first_compile(argv: &[&str]) -> Vec<String> {
    let f = Fake::new(&argv[..1]);
    let _ = f.run(argv);
    let calls = f.compiles();
    assert!(!calls.is_empty(), "nothing compiled: {argv:?}");
    os(&args(&calls[0]))
}

#[test]
fn without_hotpatch_flags_or_without_an_object_the_command_runs_without_the_hotpatch_flags() {
    let cases: &[&[&str]] = &[
        &["/c", "/Z7", "a.c"],
        &["/c", "--", "/abs/a.c", "@not-a-file.rsp"],
        &["/P", "-fms-hotpatch-functions-list=f", "a.c"],
        &["/Zs", "-fms-secure-hotpatch-functions-list=f", "a.c"],
        &["/E", "-fms-hotpatch-functions-list=f", "a.c"],
        &["-###", "-fms-hotpatch-functions-list=f", "/c", "a.c"],
        &["/?"],
        &["--version", "-fms-hotpatch-functions-list=f"],
        &["-fsyntax-only", "-fms-hotpatch-functions-list=f", "a.c"],
        &["-fms-hotpatch-functions-list=f", "x.obj", "/Fex.exe"],
        &[
            "/c",
            "-DX= spaced value",
            "/clang:-fno-inline",
            "/unknown-flag",
            "a.c",
        ],
    ];
    for case in cases {
        let f = Fake::new(&[CL]);
        let mut argv = vec![CL];
        argv.extend_from_slice(case);
        let out = f.run(&argv);
        assert!(out.status.success(), "{case:?}: {}", stderr(&out));
        let calls = f.calls();
        assert_eq!(
            calls.len(),
            1,
            "{case:?}: exactly one run, no probe: {calls:?}"
        );
        let want: Vec<&str> = case
            .iter()
            .copied()
            .filter(|a| !a.contains("hotpatch-functions-list="))
            .collect();
        assert_eq!(
            args(&calls[0]),
            want,
            "arguments forwarded byte for byte, the hot-patch flags removed"
        );
        assert!(
            std::path::Path::new(&calls[0][0]).ends_with(format!("bin/{}", fake::exe(CL))),
            "argv[0] keeps the name: {:?}",
            calls[0][0]
        );
    }
}

#[test]
fn passthrough_relays_stdout_stderr_and_exit_status() {
    let mut f = Fake::new(&[CL]);
    f.set("FAKE_CLANG_STDOUT", "Note: including file: x.h\n")
        .set("FAKE_CLANG_STDERR", "a.c(1): warning: w\n")
        .set("FAKE_CLANG_FAIL_IF_ARG", "a.c")
        .set("FAKE_CLANG_EXIT", "7");
    let out = f.run(&[CL, "/c", "/showIncludes", "a.c"]);
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Note: including file: x.h\n"
    );
    assert_eq!(
        stderr(&out),
        "a.c(1): warning: w\nfake-clang: error: failing as asked (a.c)\n"
    );
}

#[test]
fn clang_21_gets_every_spelling_translated_into_one_clean_list() {
    let f = clang_cl_22(&[("HOTPATCH_MODE", "native")]);
    f.write("fns.txt", "b\r\n\r\n c \n");
    let out = f.run(&[
        "clang-cl-22",
        "/c",
        "-fms-hotpatch-functions-list=a, z",
        "/Z7",
        "-fms-hotpatch-functions-file=fns.txt",
        "/clang:-fms-secure-hotpatch-functions-list=d",
        "-fms-secure-hotpatch-functions-file=fns.txt",
        "--",
        "a.c",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let e = stderr(&out);
    assert!(
        e.contains("hotpatch-cl: warning: list entry: hot-patch function name ' z'"),
        "{e}"
    );
    assert!(
        e.contains("fns.txt:3: hot-patch function name ' c '"),
        "{e}"
    );
    let compiles = f.compiles();
    assert_eq!(compiles.len(), 1, "{compiles:?}");
    assert_eq!(
        args(&compiles[0]),
        [
            "/c",
            "-fms-secure-hotpatch-functions-list=a,b,c,d,z",
            "/Z7",
            "--",
            "a.c"
        ]
    );
}

#[test]
fn native_mode_on_an_old_compiler_is_an_error() {
    let f = cl_in_mode("native");
    let out = f.run(&HOT);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(
        e.starts_with("hotpatch-cl: error: HOTPATCH_MODE=native needs clang 21"),
        "{e}"
    );
    assert!(f.compiles().is_empty());
}

#[test]
fn rewrite_mode_on_clang_22_takes_the_pipeline_without_probing() {
    let f = clang_cl_22(&[("HOTPATCH_MODE", "rewrite")]);
    let _ = f.run(&["clang-cl-22", "/c", "-fms-hotpatch-functions-list=f", "a.c"]);
    let calls = f.calls();
    assert!(!calls.is_empty());
    assert!(
        !calls.iter().any(|c| c.iter().any(|a| a == "--version")),
        "{calls:?}"
    );
    assert!(args(&calls[0]).contains(&"/clang:-emit-llvm"), "{calls:?}");
}

#[test]
fn ir_step_keeps_user_flags_drops_outputs_and_puts_the_source_after_dashdash() {
    let step1 = first_compile(&[
        CL,
        "/c",
        "/O2",
        "/Z7",
        "-DX=1",
        "/Foout.obj",
        "/MP2",
        "-fms-hotpatch-functions-list=f",
        "/FAcs",
        "/Faa.asm",
        "/clang:-fno-inline",
        "/TP",
        "--",
        "/abs/a.c",
    ]);
    assert_eq!(
        step1[..6],
        [
            "/O2",
            "/Z7",
            "-DX=1",
            "/clang:-fno-inline",
            "/TP",
            "/clang:-S"
        ]
    );
    assert_eq!(step1[6], "/clang:-emit-llvm");
    assert!(
        step1[7].starts_with("/clang:-o") && step1[7].ends_with("0-a.ll"),
        "{step1:?}"
    );
    assert_eq!(step1[8..], ["--", "/abs/a.c"]);
}

#[test]
fn tc_sources_keep_their_language_in_the_ir_step() {
    let step1 = first_compile(&[CL, "/c", "-fms-hotpatch-functions-list=f", "/Tp", "src.txt"]);
    assert_eq!(
        step1.last().map(String::as_str),
        Some("/Tpsrc.txt"),
        "{step1:?}"
    );
}

#[test]
fn response_files_are_read_with_windows_quoting_and_utf16() {
    let f = clang_cl_22(&[("HOTPATCH_MODE", "native")]);
    let line = "-fms-hotpatch-functions-list=?f@S@@QEAAHH@Z \"/DMSG=\\\"a b\\\"\" C:\\dir\\x.c";
    f.write("args.rsp", Encoding::Utf16Le.encode(line));
    let out = f.run(&["clang-cl-22", "/c", "@args.rsp"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let calls = f.compiles();
    assert_eq!(
        args(&calls[0]),
        [
            "/c",
            "-fms-secure-hotpatch-functions-list=?f@S@@QEAAHH@Z",
            "/DMSG=\"a b\"",
            "C:\\dir\\x.c"
        ]
    );
}

#[test]
fn errors_are_one_line_with_exit_status_1() {
    // The default mode's refusals (auto: no routing question arises before them).
    let f = cl_in_mode("auto");
    let cases: &[(&[&str], &str)] = &[
        (
            &["no-such-compiler-xyz", "/c", "a.c"],
            "compiler 'no-such-compiler-xyz' not found",
        ),
        (
            &[
                CL,
                "/c",
                "/hotpatch",
                "-fms-hotpatch-functions-file=missing.txt",
                "a.c",
            ],
            "missing.txt",
        ),
        (
            &[
                CL,
                "/c",
                "/hotpatch",
                "/Fox.obj",
                "-fms-hotpatch-functions-list=f",
                "a.c",
                "b.c",
            ],
            "cannot specify '/Fox.obj' when compiling multiple source files",
        ),
        (
            &[
                CL,
                "/c",
                "/hotpatch",
                "-flto",
                "-fms-hotpatch-functions-list=f",
                "a.c",
            ],
            "-flto with hot-patching needs clang 21",
        ),
        (
            &[
                CL,
                "/c",
                "/hotpatch",
                "--target=x86_64-pc-linux-gnu",
                "-fms-hotpatch-functions-list=f",
                "a.c",
            ],
            "not a Windows target",
        ),
        (
            &[
                CL,
                "/c",
                "/hotpatch",
                "-fms-hotpatch-functions-list=f",
                "a.c",
                "x.asm",
            ],
            "assembly source x.asm",
        ),
        (&[], "no compiler given"),
    ];
    for (argv, msg) in cases {
        let out = f.run(argv);
        let e = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{argv:?}: {e}");
        assert!(
            e.starts_with("hotpatch-cl: error: ") && e.contains(msg),
            "{argv:?}: {e}"
        );
        assert_eq!(
            e.lines()
                .filter(|l| l.starts_with("hotpatch-cl: error"))
                .count(),
            1,
            "{e}"
        );
    }
    assert!(
        f.compiles().is_empty(),
        "nothing compiled: {:?}",
        f.compiles()
    );
    let f = cl_in_mode("fast");
    let out = f.run(&[CL, "/c", "/hotpatch", "a.c"]);
    let e = stderr(&out);
    assert!(e.contains("HOTPATCH_MODE=fast"), "{e}");
}

#[test]
fn a_failing_ir_step_relays_the_compiler_status_and_leaves_no_temporaries() {
    let mut f = Fake::new(&[CL]);
    let tmp = f.dir.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    f.set("FAKE_CLANG_FAIL_IF_ARG", "emit-llvm")
        .set("FAKE_CLANG_EXIT", "3")
        .set("TMPDIR", tmp.to_str().unwrap());
    let out = f.run(&HOT);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        stderr(&out),
        "fake-clang: error: failing as asked (emit-llvm)\n"
    );
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "temporary directory removed"
    );
}

#[test]
fn verbose_prints_each_command() {
    let f = clang_cl_22(&[("HOTPATCH_MODE", "native"), ("HOTPATCH_VERBOSE", "1")]);
    let out = f.run(&[&["clang-cl-22"], &HOT[1..]].concat());
    let e = stderr(&out);
    let lines: Vec<&str> = e.lines().collect();
    assert!(
        lines[0].starts_with("hotpatch-cl: ")
            && lines[0].ends_with(&format!("{} --version", fake::exe("clang-cl-22"))),
        "{e}"
    );
    assert!(
        lines[1].ends_with(&format!(
            "{} /c /hotpatch -fms-secure-hotpatch-functions-list=f a.c",
            fake::exe("clang-cl-22")
        )),
        "{e}"
    );
}

#[test]
fn masquerade_finds_the_next_compiler_of_that_name_never_itself() {
    let f = Fake::new(&["clang-cl"]);
    let shim = f.dir.path().join("shim");
    std::fs::create_dir_all(&shim).unwrap();
    fake::symlink(&fake::hotpatch_cl(), &shim.join("clang-cl"));
    let path = std::env::join_paths([shim.clone(), f.bin.clone()]).unwrap();
    let out = f
        .command(&shim.join("clang-cl"))
        .env("PATH", &path)
        .args(["/c", "a.c"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let calls = f.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0][0],
        f.bin.join(fake::exe("clang-cl")).to_str().unwrap()
    );
    assert_eq!(args(&calls[0]), os(&["/c", "a.c"]));

    // Only ourselves on PATH: a clear error, not an endless recursion.
    let out = f
        .command(&shim.join("clang-cl"))
        .env("PATH", &shim)
        .args(["/c", "a.c"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out)
            .contains("not found on PATH (other than hotpatch-cl itself; set HOTPATCH_COMPILER)"),
        "{}",
        stderr(&out)
    );

    // HOTPATCH_COMPILER wins.
    let other = f.bin.join("clang-cl");
    let out = f
        .command(&shim.join("clang-cl"))
        .env("PATH", &shim)
        .env("HOTPATCH_COMPILER", &other)
        .args(["/c", "b.c"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(args(&f.calls()[1]), os(&["/c", "b.c"]));

    // Given explicitly, ourselves is refused too.
    let out = f.run(&[shim.join("clang-cl").to_str().unwrap(), "/c", "a.c"]);
    let e = stderr(&out);
    assert!(e.contains("is hotpatch-cl itself"), "{e}");
}

#[test]
fn driver_mode_cl_makes_a_gnu_name_parse_as_clang_cl() {
    let step1 = first_compile(&[
        "clang-19",
        "--driver-mode=cl",
        "/c",
        "-fms-hotpatch-functions-list=f",
        "a.c",
    ]);
    assert_in_order(
        &step1,
        &[
            "--driver-mode=cl",
            "/clang:-S",
            "/clang:-emit-llvm",
            "--",
            "a.c",
        ],
    );
}

// The tests below reach the pipeline's later steps, so they need the IR engine (`ir::rewrite`).

#[test]
fn codegen_step_writes_the_users_object_and_listing() {
    let f = Fake::new(&[CL]);
    std::fs::create_dir_all(f.work.join("o")).unwrap();
    let out = f.run(&[
        CL,
        "/c",
        "/O2",
        "/Z7",
        "/Gy",
        "/FAcs",
        "/Fao/",
        "-DX",
        "/TC",
        "-fms-hotpatch-functions-list=f",
        "/Foo/",
        "--",
        "a.c",
        "b.c",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let calls = f.compiles();
    assert_eq!(calls.len(), 4, "{calls:?}");
    for (i, src) in ["a", "b"].iter().enumerate() {
        let cg = args(&calls[2 * i + 1]);
        assert_in_order(
            &cg,
            &[
                "/O2",
                "/Z7",
                "/Gy",
                "/FAcs",
                "-DX",
                "-Wno-unused-command-line-argument",
                "-gno-codeview-command-line",
                "-Xclang",
                "-disable-llvm-optzns",
                "/c",
            ],
        );
        // Written next to the user's object under a name of ours, then renamed over it;
        // the object names the user's path.
        let staged = format!("/o/.hotpatch-{src}.obj.");
        assert!(
            cg.iter().any(|a| a.starts_with("/Fo")
                && a.replace('\\', "/").contains(&staged)
                && a.ends_with(".tmp")),
            "{cg:?}"
        );
        let named = cg
            .iter()
            .position(|a| a.starts_with("-object-file-name="))
            .unwrap_or_else(|| panic!("no object name: {cg:?}"));
        assert_eq!(cg[named - 1], "-Xclang");
        assert!(
            cg[named].ends_with(&format!("{src}.obj")) && !cg[named].contains(".hotpatch-"),
            "{cg:?}"
        );
        if cfg!(not(windows)) {
            let abs = f.work.join(format!("o/{src}.obj"));
            assert_eq!(cg[named], format!("-object-file-name={}", abs.display()));
        }
        assert!(cg.contains(&format!("/Fao/{src}.asm").as_str()), "{cg:?}");
        assert!(
            !cg.contains(&"/TC") && !cg.contains(&"/Fao/") && !cg.contains(&"/Foo/"),
            "{cg:?}"
        );
        assert_eq!(cg[cg.len() - 2], "--");
        assert!(f.work.join(format!("o/{src}.obj")).is_file());
    }
    // On Unix the object name is computed as the driver computes it; on Windows it comes
    // from the driver's dry run of the command for the user's path.
    let dry = f.dry_runs();
    if cfg!(windows) {
        assert_eq!(dry.len(), 2, "{dry:?}");
        assert!(args(&dry[0]).contains(&"/Foo/a.obj"), "{dry:?}");
    } else {
        assert_eq!(dry.len(), 0, "{dry:?}");
    }
    let mut left: Vec<_> = std::fs::read_dir(f.work.join("o"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(left, ["a.obj", "b.obj"], "no staging file left");
}

#[test]
fn compile_and_link_names_the_exe_after_the_first_source() {
    let f = Fake::new(&[CL]);
    let out = f.run(&[
        CL,
        "/Z7",
        "-fms-hotpatch-functions-list=f",
        "--",
        "/abs/app.c",
        "util.lib",
        "/link",
        "/nodefaultlib",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let calls = f.compiles();
    let link = args(&calls[2]);
    assert_eq!(
        link[..3],
        ["-Wno-unused-command-line-argument", "/Z7", "/Feapp.exe"],
        "{link:?}"
    );
    assert!(
        link[3].ends_with("0-app.obj") && !link[3].starts_with('/'),
        "relative, not an option: {link:?}"
    );
    assert_eq!(link[4..], ["util.lib", "/link", "/nodefaultlib"]);
    let f = Fake::new(&[CL]);
    let _ = f.run(&[CL, "/Feout.exe", "-fms-hotpatch-functions-list=f", "a.c"]);
    let link = args(&f.compiles()[2]).join(" ");
    assert!(
        !link.contains("/Fea.exe") && link.contains("/Feout.exe"),
        "{link}"
    );
}

#[test]
fn an_injection_failure_removes_the_object() {
    let mut f = Fake::new(&[CL]);
    // IR that defines the listed function, and an object that is not COFF.
    let ir = f.write(
        "in.ll",
        "target triple = \"x86_64-pc-windows-msvc\"\n\ndefine i32 @f() {\n  ret i32 0\n}\n",
    );
    f.set("FAKE_CLANG_IR", ir.to_str().unwrap());
    let out = f.run(&[
        CL,
        "/c",
        "/Z7",
        "/hotpatch",
        "-fms-hotpatch-functions-list=f",
        "/Fox.obj",
        "a.c",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(e.starts_with("hotpatch-cl: error: x.obj"), "{e}");
    assert!(!f.work.join("x.obj").exists(), "no partial object left");
}

/// Ctrl-C in the IR step (the temporary directory exists) and in the code step (the staging
/// file next to the object exists too): both are removed, no object appears.
#[cfg(unix)]
#[test]
fn ctrl_c_removes_the_temporaries() {
    use std::os::unix::process::CommandExt;
    let staging = |work: &std::path::Path| -> Vec<String> {
        std::fs::read_dir(work)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".hotpatch-"))
            .collect()
    };
    for in_code_step in [false, true] {
        let mut f = Fake::new(&[CL]);
        let tmp = f.dir.path().join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        f.set(
            "FAKE_CLANG_SLEEP_MS",
            if in_code_step { "1500" } else { "5000" },
        )
        .set("TMPDIR", tmp.to_str().unwrap());
        let mut child = f
            .command(&fake::hotpatch_cl())
            .args([CL, "/c", "-fms-hotpatch-functions-list=f", "a.c"])
            .process_group(0)
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let started = |f: &Fake| {
            if in_code_step {
                !staging(&f.work).is_empty()
            } else {
                std::fs::read_dir(&tmp).unwrap().count() > 0
            }
        };
        while !started(&f) {
            assert!(
                std::time::Instant::now() < deadline,
                "no temporary appeared (code step: {in_code_step})"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        // What a terminal does on Ctrl-C: SIGINT to the whole foreground process group.
        let group = format!("-{}", child.id());
        let killed = std::process::Command::new("kill")
            .args(["-INT", "--", &group])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = child.wait().unwrap();
        assert!(!status.success());
        assert_eq!(
            std::fs::read_dir(&tmp).unwrap().count(),
            0,
            "temporaries removed on Ctrl-C (code step: {in_code_step})"
        );
        assert_eq!(
            staging(&f.work),
            Vec::<String>::new(),
            "staging file removed"
        );
        assert!(!f.work.join("a.obj").exists());
    }
}

#[test]
fn clang_dependency_flags_name_the_users_object() {
    let step1 = first_compile(&[
        CL,
        "/c",
        "/clang:-MD",
        "-fms-hotpatch-functions-list=f",
        "/Foo.obj",
        "a.c",
    ]);
    assert_in_order(
        &step1,
        &[
            "/clang:-MD",
            "/clang:-S",
            "/clang:-MT",
            "/clang:o.obj",
            "/clang:-MF",
            "/clang:a.d",
            "--",
            "a.c",
        ],
    );
    let a = first_compile(&[
        CL,
        "/c",
        "/clang:-MMD",
        "/clang:-MF",
        "/clang:x.d",
        "-fms-hotpatch-functions-list=f",
        "a.c",
    ]);
    assert_eq!(a.iter().filter(|x| *x == "/clang:-MF").count(), 1, "{a:?}");
    assert!(a.iter().any(|x| x == "/clang:-MT"), "{a:?}");
}

const OPT_OUT_IR: &str = "target triple = \"x86_64-pc-windows-msvc\"\n\n@g = global i32 0\n@h = global i32 0\n@k = global i32 0\n\ndefine i32 @f() {\n  %1 = load i32, ptr @g\n  %2 = load i32, ptr @h\n  %3 = load i32, ptr @k\n  %4 = add i32 %1, %2\n  %5 = add i32 %4, %3\n  ret i32 %5\n}\n";

#[test]
fn allow_direct_flags_are_consumed_and_reach_the_rewrite() {
    let mut f = Fake::new(&[CL]);
    let ir = f.write("in.ll", OPT_OUT_IR);
    f.write("direct.txt", "h\r\n");
    f.set("FAKE_CLANG_IR", ir.to_str().unwrap());
    let out = f.run(&[
        CL,
        "/c",
        "/hotpatch",
        "-fms-hotpatch-functions-list=f",
        "-fms-hotpatch-allow-direct-list=g",
        "/clang:-fms-hotpatch-allow-direct-file=direct.txt",
        "/clang:-S",
        "/clang:-emit-llvm",
        "/clang:-oout.ll",
        "a.c",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "", "nothing to warn about");
    let calls = f.compiles();
    assert_eq!(calls.len(), 1, "mark-only: the IR step only: {calls:?}");
    assert!(
        !calls[0].iter().any(|a| a.contains("allow-direct")),
        "the compiler never sees our flags: {calls:?}"
    );
    assert!(args(&calls[0]).contains(&"/hotpatch"), "{calls:?}");
    // Mark-only output hands the opt-outs to an LLVM 21+ code generator as the attribute.
    let text = std::fs::read_to_string(f.work.join("out.ll")).unwrap();
    let line = |g: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("@{g} ")))
            .unwrap()
            .to_owned()
    };
    assert!(
        line("g").contains("allow_direct_access_in_hot_patch_function"),
        "{text}"
    );
    assert!(
        line("h").contains("allow_direct_access_in_hot_patch_function"),
        "{text}"
    );
    assert!(
        !line("k").contains("allow_direct_access_in_hot_patch_function"),
        "{text}"
    );
}

#[test]
fn allow_direct_flags_take_the_pipeline_on_clang_22_and_are_refused_in_native_mode() {
    let f = clang_cl_22(&[]);
    let argv = [
        "clang-cl-22",
        "/c",
        "/hotpatch",
        "-fms-hotpatch-functions-list=f",
        "-fms-hotpatch-allow-direct-list=g",
        "a.c",
    ];
    let out = f.run(&argv);
    assert!(out.status.success(), "{}", stderr(&out));
    let calls = f.calls();
    assert!(
        !calls.iter().any(|c| c.iter().any(|a| a == "--version")),
        "no probe needed: {calls:?}"
    );
    assert!(args(&calls[0]).contains(&"/clang:-emit-llvm"), "{calls:?}");
    assert!(
        !calls
            .iter()
            .flatten()
            .any(|a| a.contains("allow-direct") || a.contains("secure-hotpatch")),
        "{calls:?}"
    );

    let f = clang_cl_22(&[("HOTPATCH_MODE", "native")]);
    let out = f.run(&argv);
    let e = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{e}");
    assert!(
        e.starts_with("hotpatch-cl: error: -fms-hotpatch-allow-direct-list/-file cannot be honoured with HOTPATCH_MODE=native")
            && e.contains("HOTPATCH_MODE=rewrite")
            && e.lines().count() == 1,
        "{e}"
    );
    assert!(f.compiles().is_empty());
}

#[test]
fn missing_hotpatch_warns_and_under_werror_nothing_runs() {
    for version in ["19.1.7", "22.1.8"] {
        // A fake clang-cl of `version`, with HOTPATCH_WERROR=`werror`.
        let fake = |werror: &[&str]| {
            let mut f = Fake::new(&[CL]);
            f.set("FAKE_CLANG_VERSION", version);
            for w in werror {
                f.set("HOTPATCH_WERROR", w);
            }
            f
        };
        let f = fake(&[]);
        let argv = [CL, "/c", "-fms-hotpatch-functions-list=f", "a.c"];
        let out = f.run(&argv);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(
            stderr(&out),
            "hotpatch-cl: warning: hot-patch functions are listed but /hotpatch is missing: without the patchable prologue it adds, the functions cannot be hot-patched\n"
        );
        assert!(!f.compiles().is_empty());

        let f = fake(&["1"]);
        let out = f.run(&argv);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            stderr(&out),
            "hotpatch-cl: error: hot-patch functions are listed but /hotpatch is missing: without the patchable prologue it adds, the functions cannot be hot-patched\n"
        );
        assert!(f.calls().is_empty(), "nothing ran: {:?}", f.calls());
        // `HOTPATCH_WERROR=0` is off.
        assert!(fake(&["0"]).run(&argv).status.success());
    }
}

#[test]
fn an_ir_warning_under_werror_stops_before_code_generation() {
    let mut f = Fake::new(&[CL]);
    let ir = f.write(
        "in.ll",
        "target triple = \"x86_64-pc-windows-msvc\"\n\n@t = thread_local global i32 0\n\ndefine i32 @f() {\n  %1 = load i32, ptr @t\n  ret i32 %1\n}\n",
    );
    f.set("FAKE_CLANG_IR", ir.to_str().unwrap())
        .set("HOTPATCH_WERROR", "1");
    let out = f.run(&[
        CL,
        "/c",
        "/Z7",
        "/hotpatch",
        "-fms-hotpatch-functions-list=f",
        "/Fox.obj",
        "a.c",
    ]);
    let e = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{e}");
    assert!(
        e.starts_with("hotpatch-cl: error: a.c: @f: thread-local @t keeps its direct TLS access"),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1, "{e}");
    assert_eq!(f.compiles().len(), 1, "only the IR step ran");
    assert!(!f.work.join("x.obj").exists());
}
