//! The GNU-style clang side of the wrapper against `fake-clang`: passthrough, native
//! translation, the IR step's command (dependency files, `-x`), target checks.

use crate::support::fake::{args, assert_in_order, stderr, Fake};

const CC: &str = "clang-19";

#[test]
fn without_hotpatch_flags_or_without_an_object_the_command_runs_without_the_hotpatch_flags() {
    let cases: &[&[&str]] = &[
        &["-c", "-O2", "a.c", "-o", "a.o"],
        &["-E", "-fms-hotpatch-functions-list=f", "a.c"],
        &["-M", "-fms-hotpatch-functions-list=f", "a.c"],
        &["-fsyntax-only", "-fms-hotpatch-functions-list=f", "a.c"],
        &["-print-target-triple", "-fms-hotpatch-functions-list=f"],
        &["-fms-hotpatch-functions-list=f", "a.o", "-o", "a.exe"],
        &["-c", "-Xclang", "-fno-x", "-include", "h.h", "a.c"],
        // Standard input without `-x`: clang refuses it itself (`-E or -x required`).
        &["-c", "-fms-hotpatch-functions-list=f", "-"],
    ];
    for case in cases {
        let f = Fake::new(&[CC]);
        let mut argv = vec![CC];
        argv.extend_from_slice(case);
        let out = f.run(&argv);
        assert!(out.status.success(), "{case:?}: {}", stderr(&out));
        let calls = f.calls();
        assert_eq!(calls.len(), 1, "{case:?}: {calls:?}");
        let want: Vec<&str> = case
            .iter()
            .copied()
            .filter(|a| !a.contains("hotpatch-functions-list="))
            .collect();
        assert_eq!(args(&calls[0]), want, "the hot-patch flags removed");
    }
}

#[test]
fn clang_22_native_translation_in_gnu_mode() {
    let mut f = Fake::new(&["clang-22"]);
    f.set("HOTPATCH_MODE", "native")
        .set("FAKE_CLANG_VERSION", "22.1.8")
        .set("FAKE_CLANG_TARGET", "x86_64-pc-linux-gnu");
    f.write(
        "l.rsp",
        "-fms-hotpatch-functions-list='a,b' -Xclang -fms-hotpatch-functions-list=c",
    );
    let out = f.run(&[
        "clang-22",
        "--target=x86_64-w64-windows-gnu",
        "-c",
        "@l.rsp",
        "a.c",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        args(&f.compiles()[0]),
        [
            "--target=x86_64-w64-windows-gnu",
            "-c",
            "-fms-secure-hotpatch-functions-list=a,b,c",
            "a.c"
        ]
    );
}

#[test]
fn default_target_comes_from_the_compiler_and_must_be_windows() {
    let mut f = Fake::new(&[CC]);
    f.set("FAKE_CLANG_TARGET", "x86_64-pc-linux-gnu");
    let out = f.run(&[CC, "-c", "-fms-hotpatch-functions-list=f", "a.c"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("target 'x86_64-pc-linux-gnu' is not a Windows target"),
        "{}",
        stderr(&out)
    );
    assert!(f.compiles().is_empty());
    // An explicit Windows target is taken without a probe in rewrite mode.
    let mut f = Fake::new(&[CC]);
    f.set("FAKE_CLANG_TARGET", "x86_64-pc-linux-gnu")
        .set("HOTPATCH_MODE", "rewrite");
    let _ = f.run(&[
        CC,
        "-target",
        "i686-w64-mingw32",
        "-c",
        "-fms-hotpatch-functions-list=f",
        "a.c",
    ]);
    assert!(f
        .calls()
        .iter()
        .all(|c| !c.iter().any(|a| a == "--version")));
    assert!(!f.compiles().is_empty());
}

#[test]
fn ir_step_writes_dependency_files_for_the_users_object() {
    let f = Fake::new(&[CC]);
    let _ = f.run(&[
        CC,
        "--target=x86_64-w64-windows-gnu",
        "-c",
        "-MD",
        "-fms-hotpatch-functions-list=f",
        "-o",
        "obj/a.o",
        "-x",
        "c",
        "a.txt",
    ]);
    let step1 = f.compiles()[0].clone();
    let a = args(&step1);
    assert_in_order(
        &a,
        &[
            "--target=x86_64-w64-windows-gnu",
            "-MD",
            "-S",
            "-emit-llvm",
            "-o",
        ],
    );
    assert_in_order(
        &a,
        &["-MT", "obj/a.o", "-MF", "obj/a.d", "-x", "c", "--", "a.txt"],
    );
    assert!(!a.contains(&"-c"), "{a:?}");
    let f = Fake::new(&[CC]);
    let _ = f.run(&[
        CC,
        "--target=x86_64-w64-windows-gnu",
        "-c",
        "-MMD",
        "-MF",
        "d.d",
        "-MT",
        "t",
        "-fms-hotpatch-functions-list=f",
        "a.c",
    ]);
    let step1 = f.compiles()[0].clone();
    let a = args(&step1);
    assert_eq!(a.iter().filter(|x| **x == "-MF").count(), 1, "{a:?}");
    assert_eq!(a.iter().filter(|x| **x == "-MT").count(), 1, "{a:?}");
}

#[test]
fn errors() {
    let f = Fake::new(&[CC]);
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                CC,
                "--target=x86_64-w64-windows-gnu",
                "-c",
                "-o",
                "x.o",
                "-fms-hotpatch-functions-list=f",
                "a.c",
                "b.c",
            ],
            "cannot specify '-o x.o' when compiling multiple source files",
        ),
        (
            &[
                CC,
                "--target=x86_64-w64-windows-gnu",
                "-flto=thin",
                "-c",
                "-fms-hotpatch-functions-list=f",
                "a.c",
            ],
            "-flto",
        ),
        (
            &[
                CC,
                "--target=x86_64-w64-windows-gnu",
                "-emit-llvm",
                "-fms-hotpatch-functions-list=f",
                "a.c",
            ],
            "-emit-llvm without -c or -S",
        ),
    ];
    for (argv, msg) in cases {
        let out = f.run(argv);
        assert_eq!(out.status.code(), Some(1), "{argv:?}");
        assert!(stderr(&out).contains(msg), "{argv:?}: {}", stderr(&out));
    }
    assert!(f.compiles().is_empty());
}

// The tests below reach the pipeline's later steps, so they need the IR engine (`ir::rewrite`).

#[test]
fn codegen_step_and_link_keep_the_users_order() {
    let f = Fake::new(&[CC]);
    let out = f.run(&[
        CC,
        "--target=x86_64-w64-windows-gnu",
        "-O2",
        "-gcodeview",
        "-MD",
        "-fms-hotpatch-functions-list=f",
        "a.c",
        "-lfoo",
        "b.o",
        "-x",
        "c",
        "c.txt",
        "-o",
        "app.exe",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let calls = f.compiles();
    assert_eq!(
        calls.len(),
        5,
        "two sources x (IR, codegen) + link: {calls:?}"
    );
    let codegen = args(&calls[1]);
    assert_in_order(
        &codegen,
        &[
            "--target=x86_64-w64-windows-gnu",
            "-O2",
            "-gcodeview",
            "-Wno-unused-command-line-argument",
            "-gno-codeview-command-line",
            "-Xclang",
            "-disable-llvm-optzns",
            "-c",
            "-o",
        ],
    );
    assert!(
        !codegen.contains(&"-MD") && !codegen.contains(&"-x"),
        "{codegen:?}"
    );
    assert!(codegen.last().unwrap().ends_with("0-a.ll"), "{codegen:?}");
    let link = args(&calls[4]);
    assert_eq!(link[0], "-Wno-unused-command-line-argument");
    let a = link
        .iter()
        .position(|x| x.ends_with("0-a.o"))
        .expect("object of a.c");
    let c = link
        .iter()
        .position(|x| x.ends_with("1-c.o"))
        .expect("object of c.txt");
    let lib = link.iter().position(|x| *x == "-lfoo").unwrap();
    let b = link.iter().position(|x| *x == "b.o").unwrap();
    assert!(a < lib && lib < b && b < c, "{link:?}");
    assert_in_order(&link, &["-o", "app.exe"]);
    assert!(
        !link
            .iter()
            .any(|x| x.contains("hotpatch-functions") || *x == "-x" || *x == "-MD"),
        "{link:?}"
    );
}

#[test]
fn s_and_emit_llvm_outputs_get_the_users_names() {
    let f = Fake::new(&[CC]);
    let out = f.run(&[
        CC,
        "--target=x86_64-w64-windows-gnu",
        "-S",
        "-g",
        "-fms-hotpatch-functions-list=f",
        "a.c",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let calls = f.compiles();
    // Assembly into a staging file next to `a.s`, named after the user's path, then renamed.
    let cg = args(&calls[1]);
    let o = cg.iter().position(|a| *a == "-o").unwrap();
    assert!(
        cg[o + 1].replace('\\', "/").contains("/.hotpatch-a.s.") && cg[o + 1].ends_with(".tmp"),
        "{cg:?}"
    );
    let named = format!("-object-file-name={}", f.work.join("a.s").display());
    assert_in_order(&cg, &["-S", "-o", "-Xclang", &named, "--"]);
    assert_eq!(std::fs::read(f.work.join("a.s")).unwrap(), b"fake object\n");
    let f = Fake::new(&[CC]);
    let out = f.run(&[
        CC,
        "--target=x86_64-w64-windows-gnu",
        "-S",
        "-emit-llvm",
        "-fms-hotpatch-functions-list=f",
        "a.c",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        f.compiles().len(),
        1,
        "IR text is written by the wrapper itself"
    );
    assert!(std::fs::read_to_string(f.work.join("a.ll"))
        .unwrap()
        .contains("define i32 @fake_function"));
}

#[test]
fn fms_hotpatch_is_recognised_and_allow_direct_flags_are_consumed() {
    let f = Fake::new(&[CC]);
    f.write("d.txt", "x\n");
    let out = f.run(&[
        CC,
        "-c",
        "-fms-hotpatch",
        "-fms-hotpatch-functions-list=f",
        "-fms-hotpatch-allow-direct-list=g",
        "-Xclang",
        "-fms-hotpatch-allow-direct-file=d.txt",
        "a.c",
        "-o",
        "a.o",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "", "-fms-hotpatch given: no warning");
    let calls = f.compiles();
    assert_eq!(calls.len(), 2, "IR step and code generation: {calls:?}");
    for c in &calls {
        let a = args(c);
        assert!(a.contains(&"-fms-hotpatch"), "{a:?}");
        assert!(!a.iter().any(|x| x.contains("allow-direct")), "{a:?}");
        assert!(
            !a.contains(&"-Xclang") || a.contains(&"-disable-llvm-optzns"),
            "{a:?}"
        );
    }

    let f = Fake::new(&[CC]);
    let out = f.run(&[CC, "-c", "-fms-hotpatch-functions-list=f", "a.c"]);
    assert!(
        stderr(&out).contains(
            "hotpatch-cl: warning: hot-patch functions are listed but -fms-hotpatch is missing"
        ),
        "{}",
        stderr(&out)
    );
}
