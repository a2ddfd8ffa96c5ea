//! Unit tests of the engine on hand-written IR, one rule each.

use super::*;

fn run(src: &str, list: &str, mark_only: bool) -> (String, Report) {
    let l: HotList = list.split(',').filter(|s| !s.is_empty()).collect();
    let r = rewrite(
        src.as_bytes(),
        &l,
        &Options {
            mark_only,
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    (String::from_utf8(r.text).unwrap(), r.report)
}

/// Rewriting `once` (a rewrite's output) again with `list` changes no byte and redirects nothing.
#[track_caller]
fn assert_rewriting_again_changes_nothing(once: &str, list: &str) {
    let (twice, rep) = run(once, list, false);
    assert_eq!(once, twice);
    assert!(rep.redirected.is_empty(), "{:?}", rep.redirected);
}

/// The lines of `after` that are not lines of `before`: the new lines and the lines edited in
/// place. It checks nothing about the lines that went away.
fn lines_added(before: &str, after: &str) -> Vec<String> {
    let old: std::collections::HashSet<&str> = before.lines().collect();
    after
        .lines()
        .filter(|l| !old.contains(l))
        .map(str::to_string)
        .collect()
}

/// Asserts that `out` holds each of `lines` (each with its newline), in any order.
#[track_caller]
fn assert_has_lines(out: &str, lines: &[&str]) {
    for line in lines {
        assert!(out.contains(line), "{line} missing:\n{out}");
    }
}

const RULES: &str = r#"target triple = "x86_64-pc-windows-msvc"

%struct.P = type { i32, ptr }
%struct.N = type { i32, [4 x i8] }

@mut = dso_local global i32 0, align 4
@cstr = private unnamed_addr constant [3 x i8] c"hi\00", align 1
@cnp = dso_local constant %struct.N zeroinitializer, align 4
@cp = dso_local constant %struct.P { i32 1, ptr @mut }, align 8
@carr = dso_local constant [2 x { i32, ptr }] zeroinitializer, align 8
@cvec = dso_local constant <2 x ptr> zeroinitializer, align 16
@"??_R0H@8" = linkonce_odr global { ptr, ptr, [3 x i8] } zeroinitializer
@direct = dso_local global i32 0, align 4 #1
@ext = external global i32
@al = dso_local alias i32, ptr @mut

define dso_local i32 @f(i32 %x) #0 {
entry:
  %a = load i32, ptr @mut, align 4
  %b = load i8, ptr @cstr, align 1
  %c = load i32, ptr @cnp, align 4
  %d = load ptr, ptr getelementptr inbounds (%struct.P, ptr @cp, i32 0, i32 1), align 8
  %e = load ptr, ptr @carr, align 8
  %v = load <2 x ptr>, ptr @cvec, align 16
  %r = load ptr, ptr @"??_R0H@8", align 8
  %g = load i32, ptr @direct, align 4
  %h = load i32, ptr @ext, align 4
  %i = load i32, ptr @al, align 4
  call void @llvm.dbg.value(metadata ptr @mut, metadata !1, metadata !DIExpression())
    #dbg_value(ptr @mut, !1, !DIExpression(), !2)
  store <2 x ptr> <ptr @mut, ptr @ext>, ptr %d, align 16
  call void @f2(ptr @f2, { ptr, i32 } { ptr @mut, i32 1 }, [1 x ptr] [ptr @ext])
  ret i32 %a
}

define dso_local void @f2(ptr %p, { ptr, i32 } %s, [1 x ptr] %t) #0 {
  ret void
}

declare void @llvm.dbg.value(metadata, metadata, metadata)

attributes #0 = { nounwind }
attributes #1 = { "allow_direct_access_in_hot_patch_function" }
"#;

#[test]
fn which_globals_are_redirected_follows_clang_22() {
    let (out, rep) = run(RULES, "f", false);
    let got: Vec<_> = rep
        .redirected
        .iter()
        .map(|(_, g)| String::from_utf8_lossy(g).into_owned())
        .collect();
    // Mutable, constant with a pointer (named struct, array of literal struct), extern;
    // not: string, struct without pointers, vector of pointers, RTTI, opted out, alias.
    assert_eq!(got, ["mut", "cp", "carr", "ext"]);
    assert_eq!(rep.marked, [b"f".to_vec()]);
    let added = lines_added(RULES, &out);
    for line in [
        "@__ref_mut = linkonce externally_initialized global ptr @mut, comdat, section \".rdata\" \"allow_direct_access_in_hot_patch_function\"",
        "$__ref_mut = comdat any",
        "  %a = load i32, ptr %hp.ref.mut, align 4",
        "  %hp.ce.0 = getelementptr inbounds %struct.P, ptr %hp.ref.cp, i32 0, i32 1",
        "  %d = load ptr, ptr %hp.ce.0, align 8",
    ] {
        assert!(added.iter().any(|l| l == line), "{line} not added:\n{out}");
    }
    // Metadata operands, debug records and aggregates are untouched.
    for keep in [
        "  call void @llvm.dbg.value(metadata ptr @mut, metadata !1, metadata !DIExpression())",
        "    #dbg_value(ptr @mut, !1, !DIExpression(), !2)",
        "  store <2 x ptr> <ptr @mut, ptr @ext>, ptr %d, align 16",
        "  call void @f2(ptr @f2, { ptr, i32 } { ptr @mut, i32 1 }, [1 x ptr] [ptr @ext])",
        "  %i = load i32, ptr @al, align 4",
        "  %b = load i8, ptr @cstr, align 1",
    ] {
        assert!(out.contains(&format!("{keep}\n")), "{keep} changed:\n{out}");
    }
}

#[test]
fn loads_come_first_in_the_entry_block_one_per_global() {
    let src = r#"@g = global i32 0
@h = global [4 x i32] zeroinitializer

define i32 @f(i1 %c) {
entry:
  %0 = load i32, ptr @g
  br i1 %c, label %a, label %b
a:
  %1 = load i32, ptr @g
  store i32 %1, ptr getelementptr (i8, ptr @h, i64 4)
  br label %b
b:
  %p = phi ptr [ @g, %entry ], [ getelementptr inbounds ([4 x i32], ptr @h, i64 0, i64 2), %a ]
  ret i32 %0
}
"#;
    let (out, rep) = run(src, "f", false);
    let want = r#"entry:
  %hp.ref.g = load ptr, ptr @__ref_g
  %hp.ref.h = load ptr, ptr @__ref_h
  %hp.ce.0 = getelementptr i8, ptr %hp.ref.h, i64 4
  %hp.ce.1 = getelementptr inbounds [4 x i32], ptr %hp.ref.h, i64 0, i64 2
  %0 = load i32, ptr %hp.ref.g
"#;
    assert!(out.contains(want), "{out}");
    assert!(
        out.contains("  %p = phi ptr [ %hp.ref.g, %entry ], [ %hp.ce.1, %a ]\n"),
        "{out}"
    );
    assert!(out.contains("  store i32 %1, ptr %hp.ce.0\n"), "{out}");
    assert_eq!(out.matches("@__ref_g = linkonce").count(), 1);
    assert_eq!(rep.redirected.len(), 2);
}

#[test]
fn constant_expressions_become_instructions_operands_first() {
    let src = r#"@g = global i32 0
@t = global [4 x i32] zeroinitializer

define i32 @f(i32 %x) {
  %r = add i32 %x, trunc (i64 sub (i64 ptrtoint (ptr getelementptr inbounds nuw (i8, ptr @t, i64 8) to i64), i64 ptrtoint (ptr @g to i64)) to i32)
  %c = icmp eq ptr %r2, getelementptr inbounds ({ [3 x ptr] }, ptr @t, i32 0, inrange i32 0, i32 1)
  store ptr getelementptr inbounds inrange(-8, 8) (i8, ptr @t, i64 8), ptr %c
  ret i32 %r
}
"#;
    let (out, _) = run(src, "f", false);
    let want = r#"define i32 @f(i32 %x) "marked_for_windows_hot_patching" {
  %hp.ref.t = load ptr, ptr @__ref_t
  %hp.ref.g = load ptr, ptr @__ref_g
  %hp.ce.0 = getelementptr inbounds nuw i8, ptr %hp.ref.t, i64 8
  %hp.ce.1 = ptrtoint ptr %hp.ce.0 to i64
  %hp.ce.2 = ptrtoint ptr %hp.ref.g to i64
  %hp.ce.3 = sub i64 %hp.ce.1, %hp.ce.2
  %hp.ce.4 = trunc i64 %hp.ce.3 to i32
  %hp.ce.5 = getelementptr inbounds { [3 x ptr] }, ptr %hp.ref.t, i32 0, i32 0, i32 1
  %hp.ce.6 = getelementptr inbounds i8, ptr %hp.ref.t, i64 8
  %r = add i32 %x, %hp.ce.4
  %c = icmp eq ptr %r2, %hp.ce.5
"#;
    assert!(out.contains(want), "{out}");
    // `inrange` exists only on constant expressions: the instruction drops it.
    assert!(out.contains("  store ptr %hp.ce.6, ptr %c\n"), "{out}");
}

#[test]
fn quoted_names_keep_their_escapes() {
    let src = r#"@"x y" = global i32 0
@"a\22b" = global i32 0
@"?count@S@@2HA" = global i32 0

define void @"?f@S@@QEAAXXZ"() {
  store i32 1, ptr @"x y"
  store i32 2, ptr @"a\22b"
  store i32 3, ptr @"?count@S@@2HA"
  ret void
}
"#;
    let (out, rep) = run(src, "?f@S@@QEAAXXZ", false);
    for l in [
        r#"$"__ref_x y" = comdat any"#,
        r#"@"__ref_x y" = linkonce externally_initialized global ptr @"x y", comdat, section ".rdata" "allow_direct_access_in_hot_patch_function""#,
        r#"$"__ref_a\22b" = comdat any"#,
        r#"@"__ref_a\22b" = linkonce externally_initialized global ptr @"a\22b", comdat, section ".rdata""#,
        r#"$"__ref_?count@S@@2HA" = comdat any"#,
        r#"@"__ref_?count@S@@2HA" = linkonce externally_initialized global ptr @"?count@S@@2HA", comdat, section ".rdata""#,
        r#"  %"hp.ref.x y" = load ptr, ptr @"__ref_x y""#,
        r#"  store i32 2, ptr %"hp.ref.a\22b""#,
    ] {
        assert!(out.contains(l), "missing {l}:\n{out}");
    }
    assert_eq!(rep.redirected[1].1, b"a\"b");
}

#[test]
fn mark_only_adds_the_attribute_without_touching_shared_groups() {
    let src = r#"@g = global i32 0

define void @f() local_unnamed_addr #0 {
  store i32 1, ptr @g
  ret void
}

define void @h() #0 {
  ret void
}

declare void @d() #0

attributes #0 = { nounwind }
"#;
    let (out, rep) = run(src, "f,d", true);
    assert_has_lines(
        &out,
        &[
            "define void @f() local_unnamed_addr \"marked_for_windows_hot_patching\" #0 {\n",
            "define void @h() #0 {\n",
            "attributes #0 = { nounwind }\n",
        ],
    );
    assert!(
        out.contains("declare void @d() #0\n"),
        "declarations are never marked"
    );
    assert!(
        out.contains("store i32 1, ptr @g\n"),
        "mark-only does not redirect"
    );
    assert_eq!(rep.marked, [b"f".to_vec()]);
}

#[test]
fn full_rewrite_keeps_every_mark_and_touches_no_group() {
    let src = r#"@g = global i32 0

define void @f() #0 {
  store i32 1, ptr @g
  ret void
}

define void @k() "marked_for_windows_hot_patching" #1 {
  store i32 2, ptr @g
  ret void
}

define void @u() #2 {
  ret void
}

define void @only() #3 {
  ret void
}

declare void @d() #0

attributes #0 = { nounwind "marked_for_windows_hot_patching" "target-cpu"="x86-64" }
attributes #1 = { nounwind }
attributes #2 = { nounwind "marked_for_windows_hot_patching" }
attributes #3 = { "marked_for_windows_hot_patching" }
"#;
    let (out, rep) = run(src, "", false);
    let names: Vec<_> = rep
        .marked
        .iter()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    assert_eq!(names, ["f", "k", "u", "only"]);
    // The marks stay where they were (clang/llc 21+ then write the records themselves).
    assert_has_lines(
        &out,
        &[
        "define void @f() #0 {\n",
        "define void @k() \"marked_for_windows_hot_patching\" #1 {\n",
        "define void @u() #2 {\n",
        "define void @only() #3 {\n",
        "declare void @d() #0\n",
        "attributes #0 = { nounwind \"marked_for_windows_hot_patching\" \"target-cpu\"=\"x86-64\" }\n",
        ],
    );
    assert!(!out.contains("attributes #4"), "{out}");
    assert_eq!(out.matches("@__ref_g = ").count(), 1);
    // A listed function without the mark gets it inline, as in mark-only output.
    let (out, _) = run("@g = global i32 0\n\ndefine void @p() #1 {\n  store i32 1, ptr @g\n  ret void\n}\n\nattributes #1 = { nounwind }\n", "p", false);
    assert!(
        out.contains("define void @p() \"marked_for_windows_hot_patching\" #1 {\n  %hp.ref.g = load ptr, ptr @__ref_g\n"),
        "{out}"
    );
}

#[test]
fn rewriting_twice_changes_nothing_more() {
    let (once, _) = run(RULES, "f", false);
    assert_rewriting_again_changes_nothing(&once, "f");
}

/// LLVM's own variables (`llvm.used`, `llvm.compiler.used`, `llvm.global_ctors`…) and what
/// lives in the never-emitted "llvm.metadata" section (an annotation's argument tuple) never
/// get a `__ref_`. The first kind is never named by a valid function, but the
/// `@llvm.compiler.used` that one rewrite adds must not be redirected by the next (found by
/// the `ir_rewrite` fuzz target in CI's smoke run); the second is, and carries
/// `allow_direct_access_in_hot_patch_function` so that LLVM 21+'s own pass leaves it too.
#[test]
fn llvm_variables_are_never_redirected() {
    let src = r#"@s = internal global i32 0
@.str = private unnamed_addr constant [2 x i8] c"y\00", section "llvm.metadata"
@.args = private unnamed_addr constant { i32, ptr } { i32 1, ptr @.str }, section "llvm.metadata"
@llvm.used = appending global [1 x ptr] [ptr @s], section "llvm.metadata"

define void @f(ptr %p) {
  store i32 1, ptr @s
  store ptr @llvm.used, ptr %p
  store ptr @llvm.compiler.used, ptr %p
  call void @llvm.var.annotation.p0.p0(ptr %p, ptr @.str, ptr @.str, i32 2, ptr @.args)
  ret void
}
"#;
    let (once, rep) = run(src, "f", false);
    assert!(
        !once.contains("__ref_llvm") && !once.contains("__ref_.args"),
        "{once}"
    );
    assert!(once.contains(
        "{ i32 1, ptr @.str }, section \"llvm.metadata\" \"allow_direct_access_in_hot_patch_function\"\n"
    ), "{once}");
    assert!(
        once.contains(
            "@llvm.used = appending global [1 x ptr] [ptr @s], section \"llvm.metadata\"\n"
        ),
        "{once}"
    );
    assert_eq!(rep.redirected.len(), 1, "{:?}", rep.redirected);
    assert!(once.contains("@llvm.compiler.used = appending global [1 x ptr] [ptr @__ref_s]"));
    assert_rewriting_again_changes_nothing(&once, "f");
}

/// A body line `@g = [ ]` (malformed: found by the `ir_rewrite` campaign) becomes
/// `%hp.ref.g = [ ]`, which a second rewrite must read the same way, not as unbalanced.
#[test]
fn a_result_name_without_an_opcode_rewrites_twice_the_same() {
    let src = "@b=global i2\ndefine@c(){\n@b=[]\n}";
    let (once, _) = run(src, "c", false);
    assert!(once.contains("\n%hp.ref.b=[]\n"), "{once}");
    assert_rewriting_again_changes_nothing(&once, "c");
}

/// A global whose definition has a stray `=` after its type (found by the `ir_rewrite`
/// campaign) is refused with its line and column: read past, it hid the attribute the
/// rewrite adds, which was then added again by every rewrite.
#[test]
fn a_stray_equals_sign_in_a_global_is_refused() {
    let src = "@c=thread_local global i2=\ndefine@h(){\n}";
    let l: HotList = ["h"].into_iter().collect();
    let e = rewrite(src.as_bytes(), &l, &Options::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "1:26: unexpected '=' in a global's definition"
    );
    // A string attribute's `"key"="value"` is still read.
    let ok = "@c = global i32 0, \"k\"=\"v\"\ndefine void @h() {\n  ret void\n}\n";
    let (out, rep) = run(ok, "h", false);
    assert_eq!(rep.marked.len(), 1, "{out}");
}

/// Found by the `ir_rewrite` campaign (a silent stack overflow): nesting as deep as the input is
/// long, in a type definition, a global's type or an instruction's constant expression, is one
/// error with its position, not a crash. Just under the limit still parses (a type is a level,
/// and so is each constant expression with the types inside it).
#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let n = 100_000;
    let body = "define void @f() {\n  ret void\n}\n";
    let cases = [
        format!("%T = type {}i32{}\n{body}", "{".repeat(n), "}".repeat(n)),
        format!("@g = global {}i32{} zeroinitializer\n{body}", "[1 x ".repeat(n), "]".repeat(n)),
        format!(
            "@g = global i32 0\n@p = global ptr null\ndefine void @f() {{\n  store ptr {}@g{}, ptr @p\n  ret void\n}}\n",
            "getelementptr (i8, ptr ".repeat(n),
            ", i64 1)".repeat(n)
        ),
    ];
    let l: HotList = ["f"].into_iter().collect();
    for (src, at) in cases.iter().zip(["1:267:", "1:1293:", "4:5893:"]) {
        let e = rewrite(src.as_bytes(), &l, &Options::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{at} types or constant expressions nested deeper than 256 levels")
        );
    }
    let m = types::MAX_NESTING as usize;
    let ok = format!(
        "@g = global {}ptr{} zeroinitializer\n@p = global ptr null\ndefine void @f() {{\n  store ptr {}@g{}, ptr @p\n  ret void\n}}\n",
        "[1 x ".repeat(m - 1),
        "]".repeat(m - 1),
        "getelementptr (i8, ptr ".repeat(m - 1),
        ", i64 1)".repeat(m - 1)
    );
    let (out, rep) = run(&ok, "f", false);
    assert_eq!(rep.redirected.len(), 2, "{out}");
}

/// A constant of a named type whose pointer is ten thousand named types away is redirected (the
/// pointer query walks with its own stack), and one whose chain ends without a pointer is not.
#[test]
fn long_chains_of_named_types_are_followed() {
    let n = 10_000;
    let mut src = String::new();
    for end in ["ptr", "i32"] {
        for i in 0..n {
            src += &format!("%{end}{i} = type {{ i8, %{end}{} }}\n", i + 1);
        }
        src += &format!("%{end}{n} = type {{ {end} }}\n");
        src += &format!("@c{end} = constant %{end}0 zeroinitializer\n");
    }
    src += "define ptr @f() {\n  %a = load ptr, ptr @cptr\n  %b = load ptr, ptr @ci32\n  ret ptr %a\n}\n";
    let (out, rep) = run(&src, "f", false);
    let got: Vec<_> = rep.redirected.iter().map(|(_, g)| g.as_slice()).collect();
    assert_eq!(got, [b"cptr".as_slice()], "{out}");
}

#[test]
fn new_local_names_never_collide() {
    let src = r#"@g = global i32 0

define void @f(ptr %hp.x) {
  %"hp.ref.g" = alloca i32
  %hp1.y = alloca i32
  store i32 1, ptr @g
  ret void
}
"#;
    let (out, _) = run(src, "f", false);
    assert!(
        out.contains("  %hp2.ref.g = load ptr, ptr @__ref_g\n"),
        "{out}"
    );
}

#[test]
fn a_clashing_ref_name_is_an_error() {
    let src = "@g = global i32 0\n@__ref_g = global i32 0\ndefine void @f() {\n  store i32 1, ptr @g\n  ret void\n}\n";
    let err = rewrite(
        src.as_bytes(),
        &["f"].into_iter().collect(),
        &Options::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string().starts_with("2:1: cannot redirect @g"),
        "{err}"
    );
}

#[test]
fn thread_locals_stay_direct_with_one_warning_per_function_and_variable() {
    let src = r#"@t = thread_local global i32 0
@_Init_thread_epoch = external thread_local global i32, align 4
@g = global i32 0

define ptr @f() {
  %a = call ptr @llvm.threadlocal.address.p0(ptr @t)
  %b = call ptr @llvm.threadlocal.address.p0(ptr @t)
  %e = call ptr @llvm.threadlocal.address.p0(ptr @_Init_thread_epoch)
  store ptr @t, ptr %a
  store i32 1, ptr @g
  ret ptr %a
}

define ptr @h() {
  %a = call ptr @llvm.threadlocal.address.p0(ptr @t)
  ret ptr %a
}
"#;
    let (out, rep) = run(src, "f,h", false);
    for keep in [
        "  %a = call ptr @llvm.threadlocal.address.p0(ptr @t)\n",
        "  %e = call ptr @llvm.threadlocal.address.p0(ptr @_Init_thread_epoch)\n",
        "  store ptr @t, ptr %a\n",
    ] {
        assert!(out.contains(keep), "{keep} changed:\n{out}");
    }
    assert!(
        !out.contains("__ref_t") && !out.contains("__ref__Init"),
        "{out}"
    );
    assert!(out.contains("  store i32 1, ptr %hp.ref.g\n"), "{out}");
    let got: Vec<(String, String)> = rep
        .warnings
        .iter()
        .map(|w| {
            let f = w.split(':').next().unwrap().to_string();
            let v = w.split_whitespace().nth(2).unwrap().to_string();
            (f, v)
        })
        .collect();
    assert_eq!(
        got,
        [
            ("@f".into(), "@t".into()),
            ("@f".into(), "@_Init_thread_epoch".into()),
            ("@h".into(), "@t".into())
        ],
        "{:?}",
        rep.warnings
    );
    assert!(rep.warnings[0].contains("its own image's thread-local storage"));
}

#[test]
fn mark_only_hands_the_opt_outs_to_the_code_generator() {
    let src = r#"@t = thread_local global i32 0, align 4
@e = external thread_local global i32
@g = global i32 0
@d = global i32 0 #1

define i32 @f() {
  ret i32 0
}

attributes #1 = { "allow_direct_access_in_hot_patch_function" }
"#;
    let (out, _) = run(src, "f", true);
    assert!(out.contains(
        "@t = thread_local global i32 0, align 4 \"allow_direct_access_in_hot_patch_function\"\n"
    ));
    assert!(out.contains(
        "@e = external thread_local global i32 \"allow_direct_access_in_hot_patch_function\"\n"
    ));
    assert!(
        out.contains("@g = global i32 0\n@d = global i32 0 #1\n"),
        "{out}"
    );
    // Nothing marked, nothing touched.
    let (out, _) = run(src, "", true);
    assert_eq!(out, src);
}

#[test]
fn internal_globals_get_an_internal_ref_of_the_same_name() {
    let src = r#"@s_counter = internal global i32 0
@".compoundliteral" = private global i32 0
@ext = dso_local global i32 0

define void @f() {
  store i32 1, ptr @s_counter
  store i32 1, ptr @".compoundliteral"
  store i32 1, ptr @ext
  ret void
}
"#;
    let (out, _) = run(src, "f", false);
    assert_has_lines(
        &out,
        &[
        "@__ref_s_counter = internal externally_initialized global ptr @s_counter, section \".rdata\" \"allow_direct_access_in_hot_patch_function\"\n",
        "@__ref_.compoundliteral = internal externally_initialized global ptr @.compoundliteral, section \".rdata\" \"allow_direct_access_in_hot_patch_function\"\n",
        "$__ref_ext = comdat any\n@__ref_ext = linkonce externally_initialized global ptr @ext, comdat, section \".rdata\" \"allow_direct_access_in_hot_patch_function\"\n",
        ],
    );
    let (twice, rep) = run(&out, "f", false);
    assert_eq!(out, twice);
    assert!(rep.redirected.is_empty());
}

#[test]
fn internal_refs_are_kept_out_of_global_merge() {
    // New list: only the internal `__ref_`s, in creation order.
    let src = r#"@s = internal global i32 0
@t = internal global i32 0
@ext = dso_local global i32 0

define void @f() {
  store i32 1, ptr @s
  store i32 1, ptr @t
  store i32 1, ptr @ext
  ret void
}
"#;
    let (out, _) = run(src, "f", false);
    assert!(
        out.contains(
            "@llvm.compiler.used = appending global [2 x ptr] [ptr @__ref_s, ptr @__ref_t], section \"llvm.metadata\"\n"
        ),
        "{out}"
    );
    // The module's own list grows, its members kept after ours.
    let with_list = format!(
        "@llvm.compiler.used = appending global [1 x ptr] [ptr @\"a]b\"], section \"llvm.metadata\"\n@\"a]b\" = internal global i32 0\n{src}"
    );
    let (out, _) = run(&with_list, "f", false);
    assert!(
        out.contains(
            "@llvm.compiler.used = appending global [3 x ptr] [ptr @__ref_s, ptr @__ref_t, ptr @\"a]b\"], section"
        ),
        "{out}"
    );
    assert_eq!(out.matches("@llvm.compiler.used =").count(), 1, "{out}");
    // Only external globals redirected: no list.
    let (out, _) = run(src, "g", false);
    assert!(!out.contains("llvm.compiler.used"), "{out}");
    let only_ext = src
        .replace("ptr @s\n", "ptr @ext\n")
        .replace("ptr @t\n", "ptr @ext\n");
    let (out, _) = run(&only_ext, "f", false);
    assert!(out.contains("@__ref_ext = linkonce"), "{out}");
    assert!(!out.contains("llvm.compiler.used"), "{out}");
}

#[test]
fn annotated_and_listed_globals_stay_direct() {
    let src = r#"@keep = dso_local global i32 0, align 4
@listed = dso_local global i32 0, align 4
@other = dso_local global i32 0, align 4
@.str = private unnamed_addr constant [22 x i8] c"hotpatch_allow_direct\00", section "llvm.metadata"
@llvm.global.annotations = appending global [1 x { ptr, ptr, ptr, i32, ptr }] [{ ptr, ptr, ptr, i32, ptr } { ptr @keep, ptr @.str, ptr null, i32 1, ptr null }], section "llvm.metadata"

define void @f() {
  store i32 1, ptr @keep
  store i32 1, ptr @listed
  store i32 1, ptr @other
  ret void
}
"#;
    let l: HotList = ["f"].into_iter().collect();
    let opts = Options {
        allow_direct: [b"listed".as_slice()].into(),
        ..Default::default()
    };
    let r = rewrite(src.as_bytes(), &l, &opts).unwrap();
    let got: Vec<_> = r.report.redirected.iter().map(|(_, g)| g.clone()).collect();
    assert_eq!(got, [b"other".to_vec()]);
    let (_, rep) = run(src, "f", false);
    assert_eq!(
        rep.redirected.len(),
        2,
        "without the list, @listed is redirected"
    );
}

#[test]
fn globals_inside_constant_aggregates_are_reported() {
    let src = r#"@g = global i32 0
@h = global i32 0
@c = constant i32 0

define void @f(ptr %p) {
  store <2 x ptr> <ptr @g, ptr @c>, ptr %p
  store { ptr, i32 } { ptr @g, i32 1 }, ptr %p
  store [1 x ptr] [ptr @h], ptr %p
  ret void
}
"#;
    let (out, rep) = run(src, "f", false);
    assert!(!out.contains("__ref_"), "{out}");
    assert_eq!(rep.warnings.len(), 2, "{:?}", rep.warnings);
    assert!(rep.warnings[0].starts_with("@f: @g is used inside a constant aggregate"));
    assert!(rep.warnings[1].starts_with("@f: @h is used"));
}

#[test]
fn unmangled_list_entries_name_the_mangled_function() {
    let src = r#"define i32 @"?measure@@YAHHH@Z"(i32 %a, i32 %b) {
  ret i32 %a
}

define i32 @"?f@S@@QEAAHH@Z"(ptr %this, i32 %a) {
  ret i32 %a
}
"#;
    let (_, rep) = run(src, "measure,S::f,elsewhere", false);
    assert!(rep.marked.is_empty());
    assert_eq!(rep.warnings.len(), 2, "{:?}", rep.warnings);
    assert!(
        rep.warnings[0].contains("'S::f'") && rep.warnings[0].contains("'?f@S@@QEAAHH@Z'"),
        "{:?}",
        rep.warnings
    );
    assert!(
        rep.warnings[1].contains("'measure'") && rep.warnings[1].contains("'?measure@@YAHHH@Z'")
    );
}

#[test]
fn unmarked_functions_and_other_bytes_are_copied_unchanged() {
    let (out, rep) = run(RULES, "", false);
    assert_eq!(out, RULES);
    assert!(rep.marked.is_empty());
}

#[test]
fn malformed_ir_reports_line_and_column() {
    for (src, want) in [
        ("@g = global i32* null\n", "1:16: typed pointer"),
        ("@g = global i32 0\ndefine void @f() {\n  store i32 1, ptr @g)\n  ret void\n}\n", "3:22: unbalanced"),
        ("define void @f() {\n  %x = add i32 1, 2\n", "1:18: function body is not closed"),
        ("@g = global i32 0\ndefine void @f() {\n  store i32 1, ptr getelementptr (i8, ptr @g, i64 1\n}\n", "3:"),
    ] {
        let err = rewrite(src.as_bytes(), &["f"].into_iter().collect(), &Options::default()).unwrap_err();
        assert!(err.to_string().starts_with(want), "{src:?}: {err}");
    }
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    fn list() -> HotList {
        ["f", "?f@S@@QEAAXXZ", "g", "S::h"].into_iter().collect()
    }

    /// Thread-locals, internal globals, an annotation, aggregates: the newer rules' input.
    const EXTRA: &str = r#"@t = thread_local global i32 0, align 4
@e = external thread_local global i32
@s = internal global i32 0
@keep = global i32 0
@.ann = private unnamed_addr constant [22 x i8] c"hotpatch_allow_direct\00", section "llvm.metadata"
@llvm.global.annotations = appending global [1 x { ptr, ptr, ptr, i32, ptr }] [{ ptr, ptr, ptr, i32, ptr } { ptr @keep, ptr @.ann, ptr null, i32 1, ptr null }], section "llvm.metadata"

define void @g(ptr %p) {
  %a = call ptr @llvm.threadlocal.address.p0(ptr @t)
  %b = call ptr @llvm.threadlocal.address.p0(ptr @e)
  store i32 1, ptr @s
  store i32 1, ptr @keep
  store { ptr, i32 } { ptr @s, i32 1 }, ptr %p
  ret void
}
"#;

    #[test]
    fn extra_rules_rewrite_stably() {
        for mark_only in [false, true] {
            let src = format!("{RULES}{EXTRA}");
            let opts = Options {
                mark_only,
                ..Default::default()
            };
            let once = rewrite(src.as_bytes(), &list(), &opts).unwrap();
            let twice = rewrite(&once.text, &list(), &opts).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&once.text),
                String::from_utf8_lossy(&twice.text),
                "mark_only={mark_only}"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, max_shrink_iters: 200, ..ProptestConfig::default() })]

        #[test]
        fn on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = rewrite(&bytes, &list(), &Options::default());
            let _ = rewrite(&bytes, &list(), &Options { mark_only: true, ..Default::default() });
        }

        #[test]
        fn on_mutated_valid_ir(
            edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..6, any::<u8>()), 1..6),
        ) {
            let mut v = format!("{RULES}{EXTRA}").into_bytes();
            let alphabet = b"@%!#\"(){}[]<>,=:*\\\n c0-;x";
            for (at, op, b) in edits {
                let i = at.index(v.len() + 1);
                let c = alphabet[b as usize % alphabet.len()];
                match op {
                    0 => v.insert(i, c),
                    1 if i < v.len() => { v.remove(i); }
                    2 if i < v.len() => v[i] = c,
                    3 => v.truncate(i),
                    4 if i < v.len() => { let tail = v[i..].to_vec(); v.extend_from_slice(&tail[..tail.len().min(40)]); }
                    _ => v.insert(i, b),
                }
            }
            for mark_only in [false, true] {
                if let Ok(r) = rewrite(&v, &list(), &Options { mark_only, ..Default::default() }) {
                    // Whatever it accepts, it rewrites stably.
                    let again = rewrite(&r.text, &list(), &Options { mark_only, ..Default::default() });
                    prop_assert!(again.is_ok(), "output not re-readable: {:?}", again.err());
                }
            }
        }
    }
}

#[test]
fn external_refs_are_read_only_comdats_declared_once() {
    let src = r#"$__ref_h = comdat any
@g = external global i32
@h = linkonce_odr global i32 0, comdat
@3 = global i32 0

define void @f() {
  store i32 1, ptr @g
  store i32 1, ptr @h
  store i32 1, ptr @3
  ret void
}
"#;
    let (out, _) = run(src, "f", false);
    assert_has_lines(
        &out,
        &[
        "$__ref_g = comdat any\n@__ref_g = linkonce externally_initialized global ptr @g, comdat, section \".rdata\" \"allow_direct_access_in_hot_patch_function\"\n",
        "@__ref_h = linkonce externally_initialized global ptr @h, comdat, section \".rdata\" \"allow_direct_access_in_hot_patch_function\"\n",
        "$__ref_3 = comdat any\n@__ref_3 = linkonce externally_initialized global ptr @3, comdat, section \".rdata\" \"allow_direct_access_in_hot_patch_function\"\n",
        ],
    );
    // The module's own `$__ref_h` is reused, never declared a second time.
    assert_eq!(out.matches("$__ref_h = comdat").count(), 1, "{out}");
    // Rewriting the output again changes nothing: the `__ref_`s are recognised as such.
    let (twice, rep) = run(&out, "f", false);
    assert_eq!(out, twice);
    assert!(rep.redirected.is_empty());
}

#[test]
fn full_rewrite_hands_its_decisions_to_clang_21_as_allow_direct() {
    let src = r#"@tls = thread_local global i32 0, align 4
@listed = global i32 0, !dbg !0
@plain = global i32 0
@__ref_old = linkonce global ptr @old, section ".rdata"
@old = global i32 0
@done = global i32 0 "allow_direct_access_in_hot_patch_function"

define void @f() {
  %a = call ptr @llvm.threadlocal.address.p0(ptr @tls)
  store i32 1, ptr %a
  store i32 1, ptr @listed
  store i32 1, ptr @plain
  %o = load ptr, ptr @__ref_old
  store i32 1, ptr %o
  store i32 1, ptr @done
  ret void
}

declare ptr @llvm.threadlocal.address.p0(ptr)
"#;
    let opts = Options {
        mark_only: false,
        allow_direct: [&b"listed"[..]].into(),
    };
    let out = rewrite(src.as_bytes(), &["f"].into_iter().collect(), &opts).unwrap();
    let out = String::from_utf8(out.text).unwrap();
    assert_has_lines(
        &out,
        &[
        "@tls = thread_local global i32 0, align 4 \"allow_direct_access_in_hot_patch_function\"\n",
        "@listed = global i32 0, !dbg !0 \"allow_direct_access_in_hot_patch_function\"\n",
        "@plain = global i32 0\n",
        "@__ref_old = linkonce global ptr @old, section \".rdata\" \"allow_direct_access_in_hot_patch_function\"\n",
        "@done = global i32 0 \"allow_direct_access_in_hot_patch_function\"\n",
        "@__ref_plain = linkonce externally_initialized global ptr @plain, comdat, section \".rdata\" \"allow_direct_access_in_hot_patch_function\"\n",
        "define void @f() \"marked_for_windows_hot_patching\" {\n",
        ],
    );
    assert_eq!(out.matches("allow_direct_access").count(), 5, "{out}");
    // Nothing is marked: nothing is annotated either.
    let none = rewrite(src.as_bytes(), &HotList::new(), &opts).unwrap();
    assert_eq!(none.text, src.as_bytes());
}

#[test]
fn overlapping_edits_are_an_error_never_dropped_bytes() {
    let input = b"0123456789";
    let plan_of = |edits: Vec<Edit>| Plan {
        edits,
        report: Report::default(),
    };
    // Disjoint edits and insertions at one offset apply in order.
    let ok = plan_of(vec![
        Edit::insert(2, b"a".to_vec()),
        Edit::insert(2, b"b".to_vec()),
        Edit::replace(2, 4, b"X".to_vec()),
        Edit::insert(4, b"c".to_vec()),
    ]);
    let mut out = Vec::new();
    ok.write_to(input, &mut out).unwrap();
    assert_eq!(out, b"01abXc456789");
    assert_eq!(ok.output_len(input), out.len());
    // A replacement overlapping another, an insertion inside a replacement, an edit past
    // the end: errors, and nothing is written.
    for bad in [
        vec![Edit::replace(1, 5, vec![]), Edit::replace(4, 6, vec![])],
        vec![Edit::replace(1, 5, vec![]), Edit::insert(3, b"x".to_vec())],
        vec![Edit::replace(8, 12, vec![])],
    ] {
        let mut out = Vec::new();
        let err = plan_of(bad.clone()).write_to(input, &mut out).unwrap_err();
        assert!(out.is_empty(), "{bad:?} wrote {out:?}");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{bad:?}");
        let mut p = plan_of(bad);
        assert!(
            matches!(p.finish(input.len()), Err(Error::Internal(ref m)) if m.contains("bytes")),
            "{p:?}"
        );
    }
}
