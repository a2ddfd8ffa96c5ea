//! The examples build with make and with CMake through the shims, and their objects carry
//! what native clang-cl 22 puts in the same objects: the same S_HOTPATCHFUNC records and the
//! same `__ref_` pointers, in read-only sections.

use crate::support;
use crate::support::command_ok;
use crate::support::e2e;

use e2e::{hot_info, repo, scratch, HotCompiler, HotInfo};
use std::path::{Path, PathBuf};
use std::process::Command;

struct Example {
    dir: &'static str,
    source: &'static str,
    /// The make variable that names the compiler.
    make_var: &'static str,
    /// Compile flags of the example's Makefile and CMakeLists.txt, for the reference compile.
    flags: &'static [&'static str],
}

const C_COUNTER: Example = Example {
    dir: "c-counter",
    source: "counter.c",
    make_var: "CC",
    flags: &["/Z7", "/O2", "/GS-", "/Zl", "/hotpatch"],
};
const CPP_SHAPES: Example = Example {
    dir: "cpp-shapes",
    source: "shapes.cpp",
    make_var: "CXX",
    flags: &["/Z7", "/O2", "/GS-", "/Zl", "/GR-", "/EHs-c-", "/hotpatch"],
};

impl Example {
    fn src_dir(&self) -> PathBuf {
        repo().join("examples").join(self.dir)
    }

    /// What native clang-cl 22 produces for the same source and list: the reference.
    fn reference(&self) -> HotInfo {
        // One directory per call: the make and CMake tests of an example run in parallel, and
        // `scratch` clears the directory it returns.
        static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = scratch(&format!("{}-reference-{n}", self.dir));
        let obj = dir.join("ref.obj");
        command_ok(
            Command::new(support::tool("clang-cl-22"))
                .args(["/nologo", "/c"])
                .args(self.flags)
                .arg(format!(
                    "-fms-secure-hotpatch-functions-file={}",
                    self.src_dir().join("hotpatch.txt").display()
                ))
                .arg(format!("/Fo{}", obj.display()))
                .arg("--")
                .arg(self.src_dir().join(self.source)),
        );
        hot_info(&[obj])
    }

    /// Checks `obj` against the reference, and that the list is not vacuous.
    fn check(&self, obj: &Path) {
        let got = hot_info(&[obj.to_path_buf()]);
        let listed = e2e::list_entries(&self.src_dir().join("hotpatch.txt"));
        assert_eq!(
            got.records,
            listed.iter().cloned().collect(),
            "{obj:?}: one record per listed function"
        );
        assert!(!got.refs.is_empty(), "{obj:?}: no __ref_ pointer");
        assert!(got.writable_refs.is_empty(), "{obj:?}: {got:?}");
        assert!(got.direct_accesses.is_empty(), "{obj:?}: {got:?}");
        assert_eq!(
            got,
            self.reference(),
            "{obj:?} differs from native clang-cl 22's"
        );
    }

    fn make(&self, out: &Path, compiler: &str, path: Option<&std::ffi::OsStr>) {
        let mut cmd = Command::new(support::tool("make"));
        cmd.arg("-s")
            .arg("-f")
            .arg(self.src_dir().join("Makefile"))
            .arg(format!("OUT={}", out.display()))
            .arg(format!("{}={compiler}", self.make_var))
            .current_dir(out);
        if let Some(p) = path {
            cmd.env("PATH", p).env("HOTPATCH_COMPILER", "clang-cl-19");
        }
        command_ok(&mut cmd);
    }

    fn cmake(&self, build: &Path) -> PathBuf {
        let hot = HotCompiler::msvc();
        command_ok(
            Command::new(support::tool("cmake"))
                .arg("-S")
                .arg(self.src_dir())
                .arg("-B")
                .arg(build)
                .arg(format!(
                    "-DCMAKE_TOOLCHAIN_FILE={}",
                    repo().join("shims/cmake/hotpatch-cl.cmake").display()
                ))
                .arg(format!(
                    "-DHOTPATCH_CHAINLOAD_TOOLCHAIN_FILE={}",
                    repo().join("examples/clang-cl-cross.cmake").display()
                ))
                .arg(format!("-DHOTPATCH_CL={}", hot.launcher.display()))
                .arg(format!("-DCOMPILER={}", hot.compiler))
                .arg("-DHOTPATCH_FUNCTIONS_FILE=hotpatch.txt")
                .current_dir(build),
        );
        command_ok(
            Command::new(support::tool("cmake"))
                .arg("--build")
                .arg(build),
        );
        let objs: Vec<PathBuf> = e2e::objects_under(&build.join("CMakeFiles"))
            .into_iter()
            .filter(|o| o.to_string_lossy().contains(self.source))
            .collect();
        assert_eq!(objs.len(), 1, "one object for {}: {objs:?}", self.source);
        objs.into_iter().next().expect("object")
    }
}

fn obj_name(e: &Example) -> String {
    format!(
        "{}.obj",
        Path::new(e.source)
            .file_stem()
            .expect("stem")
            .to_string_lossy()
    )
}

#[test]
fn c_counter_builds_with_make_cc() {
    let out = scratch("c-counter-make");
    C_COUNTER.make(&out, &HotCompiler::msvc().make_value(), None);
    C_COUNTER.check(&out.join(obj_name(&C_COUNTER)));
    // The DLL links (lld-link-22, no CRT): the hot-patched object is a usable object.
    assert!(out.join("counter.dll").is_file());
}

#[test]
fn cpp_shapes_builds_with_make_cxx() {
    let out = scratch("cpp-shapes-make");
    CPP_SHAPES.make(&out, &HotCompiler::msvc().make_value(), None);
    CPP_SHAPES.check(&out.join(obj_name(&CPP_SHAPES)));
}

#[test]
fn c_counter_builds_with_cmake_toolchain_file() {
    let obj = C_COUNTER.cmake(&scratch("c-counter-cmake"));
    C_COUNTER.check(&obj);
}

#[test]
fn cpp_shapes_builds_with_cmake_toolchain_file() {
    let obj = CPP_SHAPES.cmake(&scratch("cpp-shapes-cmake"));
    CPP_SHAPES.check(&obj);
}

/// Masquerade: shims/install.sh's `clang-cl` link first on PATH, HOTPATCH_COMPILER naming the
/// real clang-cl 19, and the Makefiles used with a plain `CC=clang-cl`.
#[test]
fn examples_build_with_make_through_the_masquerading_shims() {
    let shims = scratch("masquerade-shims");
    command_ok(
        Command::new(repo().join("shims/install.sh"))
            .arg(&shims)
            .arg(support::our_bin("hotpatch-cl")),
    );
    let path = e2e::path_with(&shims);
    for e in [&C_COUNTER, &CPP_SHAPES] {
        let out = scratch(&format!("{}-masquerade", e.dir));
        e.make(&out, "clang-cl", Some(&path));
        e.check(&out.join(obj_name(e)));
    }
}
