//! CodeView injection against the real compilers: objects from clang-cl-19 get the records
//! clang 22 would write for the same IR, in the same place and order, and nothing else changes.

use crate::support;
use crate::support::coff;

use coff::*;
use hotpatch_cl::codeview::{self, dump::dump};
use hotpatch_cl::hotlist::HotList;

fn list_of(names: &[Vec<u8>]) -> HotList {
    let mut l = HotList::new();
    for n in names {
        l.add_name(n);
    }
    l
}

/// Whether COFF symbol `coff` is the function an S_HOTPATCHFUNC record names: the same name,
/// the x86 C underscore added, or (IR names behind LLVM's 0x01 byte) that byte removed.
fn coff_name_matches(coff: &str, record: &str) -> bool {
    coff == record
        || coff.strip_prefix('_') == Some(record)
        || Some(coff) == record.strip_prefix('\u{1}')
}

fn lossy(names: &[Vec<u8>]) -> Vec<String> {
    names
        .iter()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect()
}

/// The whole check for one fixture, target and flag set:
/// 1. IR from clang-cl-19; the list is every function it defines except `untouched`.
/// 2. clang-cl-19's object + our injection: every record resolves (llvm-readobj-22) to the
///    procedure of that function; names, resolved names and order equal clang 22's own records
///    for the same IR; only the first `.debug$S` grew; idempotent; lld-link-22 links it.
/// 3. clang 22's plain object + our injection: the S_HOTPATCHFUNC subsection is byte-identical
///    to the one clang 22 writes with its hot-patch list, at the same subsection index
///    (`exact_ids`; where clang 22 allocates the IDs in another order, names and resolved
///    names are compared instead), and clang 22's own object is left byte-identical.
fn check(fixture: &str, target: &str, gy: bool, machine: &str, exact_ids: bool) {
    let w = Work::new(fixture);
    let extra: &[&str] = if gy { &["/Gy"] } else { &["/Gy-"] };
    let ll = w.ll19(target, extra, "in.ll");
    let names: Vec<Vec<u8>> = defined_functions(&ll)
        .into_iter()
        .filter(|n| !n.ends_with(b"untouched"))
        .collect();
    assert!(names.len() >= 5, "{:?}", lossy(&names));
    let list = list_of(&names);

    // clang-cl-19's object.
    let obj19 = w.cl19(target, extra, "o19.obj");
    let before = std::fs::read(&obj19).unwrap();
    let injected = codeview::inject(&before, &list).unwrap();
    assert_eq!(
        injected.report.recorded.len(),
        names.len(),
        "{:?}",
        injected.report
    );
    assert!(injected.report.no_debug_info.is_empty() && injected.report.not_defined.is_empty());
    let inj19 = w.path("inj19.obj");
    std::fs::write(&inj19, &injected.bytes).unwrap();
    assert_only_debug_s_grew(&before, &injected.bytes);
    assert_checksums_match_data(&before);
    assert_checksums_match_data(&injected.bytes);

    let (records, procs) = readobj(&inj19);
    assert_eq!(records.len(), names.len());
    for r in &records {
        // The procedure whose COFF symbol is this function: the same name, or on x86 the name
        // with the C underscore, or (0x01-prefixed IR names) the name without that byte.
        let p = procs
            .iter()
            .find(|p| coff_name_matches(&p.name, &r.name))
            .unwrap_or_else(|| panic!("no procedure for record {r:?} in {procs:?}"));
        assert_eq!(
            (r.id, &r.resolved),
            (p.id, &p.resolved),
            "record {r:?} vs procedure {p:?}"
        );
    }

    // clang 22 on the same IR, with its own hot-patch list: the reference.
    let ref22 = w.clang22(&ll, target, gy, Some(&names), "ref22.obj");
    let (ref_records, _) = readobj(&ref22);
    let key = |v: &[Printed]| {
        v.iter()
            .map(|r| (r.name.clone(), r.resolved.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        key(&records),
        key(&ref_records),
        "names, resolved names and order vs clang 22"
    );

    // Idempotent, on ours and on clang 22's own object.
    assert_eq!(
        codeview::inject(&injected.bytes, &list).unwrap().bytes,
        injected.bytes
    );
    let ref_bytes = std::fs::read(&ref22).unwrap();
    assert!(
        codeview::inject(&ref_bytes, &list).unwrap().bytes == ref_bytes,
        "clang 22's object changed"
    );

    // Byte comparison on clang 22's plain object.
    let plain22 = w.clang22(&ll, target, gy, None, "plain22.obj");
    let plain = std::fs::read(&plain22).unwrap();
    let ours22 = codeview::inject(&plain, &list).unwrap().bytes;
    assert_only_debug_s_grew(&plain, &ours22);
    assert_checksums_match_data(&ours22);
    let (ours_at, ours_sub) = hotpatch_subsection(&ours22).unwrap();
    let (ref_at, ref_sub) = hotpatch_subsection(&ref_bytes).unwrap();
    assert_eq!(ours_at, ref_at, "subsection index");
    assert_eq!(
        ours_at, 1,
        "right after the S_OBJNAME/S_COMPILE3 subsection"
    );
    if exact_ids {
        assert_eq!(
            ours_sub, ref_sub,
            "S_HOTPATCHFUNC subsection bytes vs clang 22"
        );
    } else {
        assert_eq!(ours_sub.len(), ref_sub.len(), "same layout and padding");
        let ours_path = w.path("ours22.obj");
        std::fs::write(&ours_path, &ours22).unwrap();
        assert_eq!(key(&readobj(&ours_path).0), key(&ref_records));
    }

    // The dump API sees the records, in order, resolved.
    let d = dump(&injected.bytes).unwrap();
    assert_eq!(
        d.hotpatch_functions
            .iter()
            .map(|h| h.name.clone())
            .collect::<Vec<_>>(),
        ref_records
            .iter()
            .map(|r| r.name.clone())
            .collect::<Vec<_>>()
    );
    assert!(d
        .hotpatch_functions
        .iter()
        .all(|h| h.function_id_name.is_some()));

    link_dll(w.dir.path(), &[&inj19], machine);
}

/// Each source for the targets and `/Gy` settings it is checked with: C with and without
/// `/Gy` on x64, x86's decorated names, ARM64; C++ (overloads, members, COMDATs) likewise.
#[test]
fn sources_per_target_and_gy() {
    let (x64, x86, arm64) = (
        ("x86_64-pc-windows-msvc", "x64"),
        ("i686-pc-windows-msvc", "x86"),
        ("aarch64-pc-windows-msvc", "arm64"),
    );
    for (src, exact_ids, cases) in [
        (
            "hot.c",
            true,
            [(x64, false), (x64, true), (x86, false), (arm64, true)],
        ),
        (
            "hot.cpp",
            false,
            [(x64, false), (x64, true), (x86, true), (arm64, false)],
        ),
    ] {
        for ((target, machine), gy) in cases {
            eprintln!("{src} {target} gy={gy}");
            check(src, target, gy, machine, exact_ids);
        }
    }
}

#[test]
fn unlisted_and_undebugged_names_are_reported_and_change_nothing() {
    let w = Work::new("hot.c");
    let t = "--target=x86_64-pc-windows-msvc";
    support::run_ok(
        w.dir.path(),
        "clang-cl-19",
        &[t, "/c", "/O2", "/Fonodebug.obj", "--", "hot.c"],
    );
    let data = std::fs::read(w.path("nodebug.obj")).unwrap();
    let list: HotList = ["bump", "nothere"].into_iter().collect();
    let r = codeview::inject(&data, &list).unwrap();
    assert_eq!(r.bytes, data);
    assert_eq!(r.report.no_debug_info, [b"bump".to_vec()]);
    assert_eq!(r.report.not_defined, [b"nothere".to_vec()]);
    assert!(r.report.recorded.is_empty());
}

#[test]
fn adding_names_later_merges_into_the_same_subsection_in_module_order() {
    let w = Work::new("hot.cpp");
    let ll = w.ll19("x86_64-pc-windows-msvc", &[], "in.ll");
    let names = defined_functions(&ll);
    let plain =
        std::fs::read(w.clang22(&ll, "x86_64-pc-windows-msvc", false, None, "plain.obj")).unwrap();
    // Odd-numbered names first, then the rest: the result equals injecting all at once.
    let (first, second): (Vec<_>, Vec<_>) = names
        .iter()
        .cloned()
        .enumerate()
        .partition(|(i, _)| i % 2 == 1);
    let strip = |v: Vec<(usize, Vec<u8>)>| v.into_iter().map(|(_, n)| n).collect::<Vec<_>>();
    let once = codeview::inject(&plain, &list_of(&names)).unwrap().bytes;
    let step1 = codeview::inject(&plain, &list_of(&strip(first)))
        .unwrap()
        .bytes;
    let step2 = codeview::inject(&step1, &list_of(&strip(second)))
        .unwrap()
        .bytes;
    assert_eq!(hotpatch_subsection(&step2), hotpatch_subsection(&once));
    assert_eq!(step2, once);
}

/// Enough data sections that LLVM switches to the `/bigobj` header (more than 65279 sections).
#[test]
fn bigobj() {
    let w = Work::new("hot.c");
    let before = build_bigobj(
        &w,
        "int bump(int a) { return a + g7++; }\n\
         static int __declspec(noinline) st(int a) { return a * g9; }\n\
         int use_it(int a) { return st(a) + g1; }\n",
    );
    let list: HotList = ["bump", "st", "use_it"].into_iter().collect();
    let after = codeview::inject(&before, &list).unwrap().bytes;
    assert_only_debug_s_grew(&before, &after);
    let out = w.path("big-inj.obj");
    std::fs::write(&out, &after).unwrap();
    let (records, procs) = readobj(&out);
    // Module order, as clang 22 writes them: the order of the definitions in the IR.
    support::run_ok(
        w.dir.path(),
        "clang-cl-19",
        &[
            "--target=x86_64-pc-windows-msvc",
            "/c",
            "/Z7",
            "/O2",
            "/Gw",
            "/clang:-S",
            "/clang:-emit-llvm",
            "--",
            "big.c",
        ],
    );
    let module_order = lossy(&defined_functions(&w.path("big.ll")));
    let names: Vec<_> = records.iter().map(|r| r.name.clone()).collect();
    assert_eq!(names, module_order);
    for r in &records {
        let p = procs.iter().find(|p| p.name == r.name).unwrap();
        assert_eq!((r.id, &r.resolved), (p.id, &p.resolved));
    }
    assert_eq!(codeview::inject(&after, &list).unwrap().bytes, after);
    link_dll(w.dir.path(), &[&out], "x64");
}

/// The object step seals `__ref_` COMDATs in a `/bigobj` object too (32-bit section numbers,
/// 20-byte symbols), as llvm-readobj-22 reads the result of `hotpatch-cl clang-cl-22` in
/// rewrite mode; `hotpatch seal` then finds nothing left to change.
#[test]
fn bigobj_ref_sections_are_sealed() {
    let w = Work::new("hot.c");
    let mut src: String = (0..65300).map(|i| format!("int g{i} = {i};\n")).collect();
    src.push_str("extern int counter;\nint bump(int a) { return a + counter++ + g7; }\n");
    std::fs::write(w.path("big.c"), src).unwrap();
    let t = "--target=x86_64-pc-windows-msvc";
    let out = support::run_hotpatch_cl(
        w.dir.path(),
        &[
            "clang-cl-22",
            t,
            "/c",
            "/Z7",
            "/O2",
            "/Gw",
            "/hotpatch",
            "-fms-hotpatch-functions-list=bump",
            "/Fobig.obj",
            "--",
            "big.c",
        ],
        &[("HOTPATCH_MODE", "rewrite")],
    );
    support::assert_success(&out, "hotpatch-cl");
    let data = std::fs::read(w.path("big.obj")).unwrap();
    assert_eq!(&data[..4], &[0, 0, 0xff, 0xff], "not a /bigobj object");
    let o = support::objects::Obj::read(w.dir.path(), "big.obj");
    let sections: Vec<u32> = ["__ref_counter", "__ref_g7"]
        .iter()
        .map(|r| {
            *o.sym_section
                .get(*r)
                .unwrap_or_else(|| panic!("no {r}: {:?}", o.symbols))
        })
        .collect();
    for s in &sections {
        assert!(s > &65279, "section {s}: not past the classic limit");
        let (name, writable) = &o.sections[s];
        assert_eq!((name.as_str(), *writable), (".rdata", false), "section {s}");
    }
    assert!(
        o.sections.values().filter(|(_, w)| *w).count() > 65000,
        "the g* keep MEM_WRITE"
    );
    // Sealing again changes nothing.
    let hp = support::our_bin("hotpatch");
    support::run_ok(w.dir.path(), hp.to_str().unwrap(), &["seal", "big.obj"]);
    assert_eq!(std::fs::read(w.path("big.obj")).unwrap(), data);
}
