//! `names::qualified_name` (the near-match hints' reader of MSVC names) on what clang-cl 22
//! really mangles: every operator, constructors and destructors, nested and repeated
//! namespaces (back-references), anonymous namespaces, static and virtual members, for x64, x86
//! and ARM64. Where the reader gives a name it must be msvc-demangler's; it must give one for
//! every shape but templates, lambdas (local scopes) and conversion operators.

use crate::support::coff::defined_functions;
use crate::support::run_ok;
use hotpatch_cl::names::qualified_name;

#[test]
fn qualified_names_of_clang_cl_22_functions_are_msvc_demanglers() {
    let src = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/names/shapes.cpp"
    );
    let dir = tempfile::tempdir().unwrap();
    for target in [
        "x86_64-pc-windows-msvc",
        "i686-pc-windows-msvc",
        "aarch64-pc-windows-msvc",
    ] {
        // clang-cl writes STEM.ll into the working directory (it ignores /Fo here).
        let work = dir.path().join(target);
        std::fs::create_dir(&work).unwrap();
        let t = format!("--target={target}");
        let args = [
            t.as_str(),
            "/Od",
            "/clang:-S",
            "/clang:-emit-llvm",
            "--",
            src,
        ];
        run_ok(&work, "clang-cl-22", &args);
        let (mut read, mut skipped) = (Vec::new(), Vec::new());
        for name in defined_functions(&work.join("shapes.ll")) {
            let name = String::from_utf8(name).unwrap();
            if !name.starts_with('?') {
                continue;
            }
            let theirs =
                msvc_demangler::demangle(&name, msvc_demangler::DemangleFlags::NAME_ONLY).ok();
            match qualified_name(name.as_bytes()) {
                Some(ours) => {
                    assert_eq!(Some(&ours), theirs.as_ref(), "{target}: {name}");
                    read.push(ours);
                }
                // The demangler cannot read the lambda's name either: keep its first fragment.
                None => {
                    skipped.push(theirs.unwrap_or_else(|| name[..name.find('@').unwrap()].into()))
                }
            }
        }
        skipped.sort();
        assert_eq!(
            skipped,
            [
                "??R<lambda_0>",
                "Box<int>::get",
                "outer::inner::S::operator int",
                "twice<double>",
                "twice<int>",
            ],
            "{target}: names the reader gives no name for"
        );
        // 42 operators (`operator int` is skipped), 2 constructors, the destructor, 3
        // members, 2 namespace functions, 2 in anonymous namespaces, `use_all`.
        assert_eq!(read.len(), 53, "{target}: {read:#?}");
        for expected in [
            "outer::inner::S::S",
            "outer::inner::S::~S",
            "outer::inner::S::operator delete[]",
            "outer::inner::S::operator->*",
            "outer::inner::S::operator^=",
            "outer::inner::outer::inner::repeated",
            "`anonymous namespace'::deeper::anon_nested",
            "outer::inner::S::virt",
        ] {
            assert!(
                read.iter().any(|r| r == expected),
                "{target}: {expected} in {read:#?}"
            );
        }
    }
}
