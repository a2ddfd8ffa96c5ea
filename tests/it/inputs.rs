//! `coff::inputs` on what real tools write: MSVC `.lib` from llvm-lib-22, GNU `.a` from
//! llvm-ar-22 (long and duplicate member names), import libraries from llvm-lib-22 /def,
//! llvm-dlltool-22 and mingw-w64 (GNU dlltool), and a directory tree.

use crate::support::{self, Dir};

use hotpatch_cl::coff::inputs::{Input, Inputs, Kind};
use std::path::Path;

/// Compiles `int NAME(void)` with clang-cl-22 (`cl`) or GNU-mode clang-22 to `out`.
fn compile(dir: &Path, name: &str, out: &str, cl: bool) {
    let src = format!("{name}.c");
    std::fs::write(
        dir.join(&src),
        format!("int {name}(void) {{ return 1; }}\n"),
    )
    .unwrap();
    if let Some(parent) = Path::new(out).parent() {
        std::fs::create_dir_all(dir.join(parent)).unwrap();
    }
    if cl {
        support::run_ok(
            dir,
            "clang-cl-22",
            &["/c", "/Z7", &src, &format!("/Fo{out}")],
        );
    } else {
        let t = "--target=x86_64-w64-windows-gnu";
        support::run_ok(dir, "clang-22", &[t, "-gcodeview", "-c", &src, "-o", out]);
    }
}

/// Compiles `f`, `g` and `h` (as [`compile`] does) to `one/x`, `two/x` (two members of one
/// name) and a member whose name is longer than 16 bytes, and archives them in that order:
/// as `m.lib` with llvm-lib-22 (`cl`, `.obj`) or as `libm.a` with llvm-ar-22 (GNU, `.o`).
fn archive_with_duplicate_and_long_names(dir: &Path, cl: bool) {
    let ext = if cl { "obj" } else { "o" };
    let objs =
        ["one/x", "two/x", "a_member_name_longer_than_sixteen"].map(|o| format!("{o}.{ext}"));
    for (name, obj) in ["f", "g", "h"].into_iter().zip(&objs) {
        compile(dir, name, obj, cl);
    }
    let (archiver, args): (&str, &[&str]) = if cl {
        ("llvm-lib-22", &["/out:m.lib"])
    } else {
        ("llvm-ar-22", &["qc", "libm.a"])
    };
    let objs: Vec<&str> = objs.iter().map(String::as_str).collect();
    support::run_ok(dir, archiver, &[args, &objs].concat());
}

/// `(name, occurrence, kind, size)` of every item; errors as `Err(text)`.
fn items(dir: &Path, paths: &[&str]) -> Vec<Result<(String, usize, Kind, usize), String>> {
    Inputs::new(paths.iter().map(|p| dir.join(p)))
        .map(|i| {
            i.map(|i: Input| {
                let name = i.name.strip_prefix(&format!("{}/", dir.display())).unwrap();
                (name.to_string(), i.occurrence, i.kind, i.data().len())
            })
            .map_err(|e| e.to_string())
        })
        .collect()
}

fn member_names(dir: &Path, lib: &str) -> Vec<String> {
    support::run_ok(dir, "llvm-ar-22", &["t", lib])
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn msvc_lib_with_long_and_duplicate_names() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    archive_with_duplicate_and_long_names(d, true);
    let got = items(d, &["m.lib"]);
    let expect: Vec<String> = member_names(d, "m.lib")
        .iter()
        .map(|m| format!("m.lib({m})"))
        .collect();
    let names: Vec<String> = got.iter().map(|i| i.clone().unwrap().0).collect();
    assert_eq!(names, expect, "llvm-ar-22 t lists the same members");
    assert_eq!(names.len(), 3);
    assert!(names.contains(&"m.lib(a_member_name_longer_than_sixteen.obj)".into()));
    for i in &got {
        let (_, _, kind, size) = i.clone().unwrap();
        assert_eq!(kind, Kind::Object);
        assert!(size > 100);
    }
}

#[test]
fn gnu_archive_with_duplicate_member_names_yields_both() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    archive_with_duplicate_and_long_names(d, false);
    let got: Vec<_> = items(d, &["libm.a"])
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let shape: Vec<_> = got
        .iter()
        .map(|(n, o, k, _)| (n.as_str(), *o, *k))
        .collect();
    assert_eq!(
        shape,
        [
            ("libm.a(x.o)", 0, Kind::Object),
            ("libm.a(x.o)", 1, Kind::Object),
            (
                "libm.a(a_member_name_longer_than_sixteen.o)",
                0,
                Kind::Object
            ),
        ]
    );
    // The two x.o are the two different objects, in archive order.
    let bytes = |p: &str| std::fs::read(d.join(p)).unwrap();
    let all: Vec<Input> = Inputs::new([d.join("libm.a")])
        .map(Result::unwrap)
        .collect();
    assert_eq!(all[0].data(), bytes("one/x.o"));
    assert_eq!(all[1].data(), bytes("two/x.o"));
}

#[test]
fn import_libraries_are_recognized_whole() {
    let dir = Dir::new(&[("foo.def", "LIBRARY foo.dll\nEXPORTS\n  bar\n  baz\n")]);
    let d = dir.root();
    support::run_ok(
        d,
        "llvm-lib-22",
        &["/def:foo.def", "/machine:x64", "/out:foo.lib"],
    );
    support::run_ok(
        d,
        "llvm-dlltool-22",
        &["-d", "foo.def", "-m", "i386:x86-64", "-l", "libfoo.a"],
    );
    let mingw = Path::new("/usr/x86_64-w64-mingw32/lib/libkernel32.a");
    assert!(
        mingw.is_file(),
        "{} is missing: apt-get install mingw-w64-x86-64-dev",
        mingw.display()
    );
    std::fs::copy(mingw, d.join("libkernel32.a")).unwrap();
    let got = items(d, &["foo.lib", "libfoo.a"]);
    let shape: Vec<_> = got
        .into_iter()
        .map(|i| i.map(|(n, _, k, _)| (n, k)))
        .collect();
    assert_eq!(
        shape,
        [
            Ok(("foo.lib".to_string(), Kind::ImportLibrary)),
            Ok(("libfoo.a".to_string(), Kind::ImportLibrary)),
        ]
    );
    // mingw-w64's libkernel32.a also compiles intrinsics (__movsb, …) into it: those are
    // objects, the dlltool members import members.
    let k32: Vec<_> = items(d, &["libkernel32.a"])
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let count = |k: Kind| k32.iter().filter(|i| i.2 == k).count();
    assert!(
        count(Kind::ImportMember) > 1000,
        "{}",
        count(Kind::ImportMember)
    );
    assert!(count(Kind::Object) > 10, "{}", count(Kind::Object));
    assert_eq!(count(Kind::Object) + count(Kind::ImportMember), k32.len());
    assert!(k32
        .iter()
        .any(|i| i.0 == "libkernel32.a(lib64_libkernel32_a-__movsb.o)" && i.2 == Kind::Object));
}

#[test]
fn a_static_library_with_an_import_member_keeps_its_objects() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    compile(d, "f", "f.obj", true);
    std::fs::write(d.join("foo.def"), "LIBRARY foo.dll\nEXPORTS\n  bar\n").unwrap();
    support::run_ok(
        d,
        "llvm-lib-22",
        &["/def:foo.def", "/machine:x64", "/out:foo.lib"],
    );
    support::run_ok(d, "llvm-lib-22", &["/out:mixed.lib", "f.obj", "foo.lib"]);
    let got: Vec<_> = items(d, &["mixed.lib"])
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let objects: Vec<_> = got.iter().filter(|i| i.2 == Kind::Object).collect();
    assert!(objects.iter().any(|i| i.0 == "mixed.lib(f.obj)"), "{got:?}");
    assert!(got.iter().any(|i| i.2 == Kind::ImportMember), "{got:?}");
}

#[test]
fn a_directory_walk_is_sorted_and_keeps_objects_and_libraries() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    compile(d, "f", "build/src/f.obj", true);
    compile(d, "g", "build/CMakeFiles/g.dir/g.c.obj", true);
    compile(d, "h", "build/h.o", false);
    std::fs::create_dir_all(d.join("build/lib")).unwrap();
    support::run_ok(
        d,
        "llvm-lib-22",
        &["/out:build/lib/s.lib", "build/src/f.obj"],
    );
    std::fs::write(d.join("build/app.pdb"), b"not walked").unwrap();
    std::fs::write(d.join("build/notes.txt"), b"not walked").unwrap();
    let got: Vec<_> = items(d, &["build"])
        .into_iter()
        .map(|i| i.unwrap().0)
        .collect();
    assert_eq!(
        got,
        [
            "build/CMakeFiles/g.dir/g.c.obj",
            "build/h.o",
            "build/lib/s.lib(build/src/f.obj)",
            "build/src/f.obj",
        ]
    );
}

#[test]
fn bad_paths_are_one_error_each_and_the_rest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    compile(d, "f", "f.obj", true);
    std::fs::write(d.join("notes.txt"), b"hello, this is text").unwrap();
    std::fs::copy("/usr/bin/true", d.join("elf.o")).unwrap();
    let got = items(d, &["missing.obj", "notes.txt", "elf.o", "f.obj"]);
    let p = |f: &str| d.join(f).display().to_string();
    assert_eq!(
        got[..3],
        [
            Err(format!("{}: No such file or directory", p("missing.obj"))),
            Err(format!(
                "{}: not a COFF object, library or PDB",
                p("notes.txt")
            )),
            Err(format!("{}: an ELF file, not a COFF object", p("elf.o"))),
        ]
    );
    assert_eq!(got[3].clone().unwrap().2, Kind::Object);
}
