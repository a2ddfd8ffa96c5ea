//! The COFF/CodeView reader never panics: truncated and mutated real objects (regular header,
//! from clang-cl-19 with /Z7, x86-64 and x86, and the rewrite's output with writable `__ref_`
//! COMDATs) give `Ok` or a clean error from `inject`, `dump` and `seal`, in bounded time (a fixed number of proptest cases plus a stride over truncations).

use crate::support::coff;

use coff::Work;
use hotpatch_cl::codeview::{dump::dump, inject};
use hotpatch_cl::coff::seal::{seal, seal_file};
use hotpatch_cl::hotlist::HotList;
use proptest::prelude::*;
use std::sync::OnceLock;

fn objects() -> &'static Vec<Vec<u8>> {
    static OBJS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    OBJS.get_or_init(|| {
        let w = Work::new("hot.cpp");
        let a = w.cl19("x86_64-pc-windows-msvc", &[], "a.obj");
        let b = w.cl19("i686-pc-windows-msvc", &["/Gy"], "b.obj");
        // The rewrite's output compiled by hand: writable `__ref_` COMDATs for `seal`.
        let ll = w.ll19("x86_64-pc-windows-msvc", &[], "c.ll");
        let ir = std::fs::read(ll).unwrap();
        let r = hotpatch_cl::ir::rewrite(&ir, &list(), &Default::default()).unwrap();
        std::fs::write(w.path("r.ll"), &r.text).unwrap();
        let d = w.dir.path();
        crate::support::compile_ir(d, 19, "x86_64-pc-windows-msvc", "r.ll", "c.obj", &[]);
        let c = std::fs::read(w.path("c.obj")).unwrap();
        let refs = seal(&c).unwrap().sections;
        assert!(
            refs.iter().any(|r| r.writable),
            "no writable __ref_: {refs:?}"
        );
        vec![std::fs::read(a).unwrap(), std::fs::read(b).unwrap(), c]
    })
}

/// A `/bigobj` object (more than 65279 sections make LLVM switch headers), built once.
fn bigobj() -> &'static Vec<u8> {
    static OBJ: OnceLock<Vec<u8>> = OnceLock::new();
    OBJ.get_or_init(|| {
        let w = Work::new("hot.c");
        coff::build_bigobj(&w, "int bump(int a) { return a + g7++; }\n")
    })
}

fn list() -> HotList {
    [
        "?get@S@@QEAAHH@Z",
        "?get@S@@QAEHH@Z",
        "c_entry",
        "?helper@@YAHH@Z",
        "?inl@@YAHH@Z",
    ]
    .into_iter()
    .collect()
}

/// Runs every entry point; only a panic fails. An `Ok` injection must re-inject to itself,
/// and an `Ok` seal must keep the length and seal to itself.
fn exercise(data: &[u8]) {
    let l = list();
    if let Ok(out) = inject(data, &l) {
        let again = inject(&out.bytes, &l).expect("our own output must parse");
        assert_eq!(again.bytes, out.bytes, "not idempotent");
    }
    let _ = dump(data);
    if let Ok(out) = seal(data) {
        assert_eq!(out.bytes.len(), data.len(), "seal changed the length");
        let again = seal(&out.bytes).expect("our own output must parse");
        assert_eq!(again.bytes, out.bytes, "seal not idempotent");
    }
    let _ = seal_file(data);
}

#[test]
fn untouched_objects_inject_and_dump() {
    for o in objects() {
        let out = inject(o, &list()).unwrap();
        assert!(!out.report.recorded.is_empty());
        dump(o).unwrap();
    }
}

#[test]
fn every_truncation_is_an_error_or_ok_never_a_panic() {
    for o in objects() {
        let step = (o.len() / 600).max(1);
        for len in (0..o.len()).step_by(step) {
            exercise(&o[..len]);
        }
    }
}

#[test]
fn bigobj_truncations_never_panic() {
    let o = bigobj();
    // The header and section table (65k × 40 bytes), then a stride over the rest.
    for len in (0..64).chain((64..o.len()).step_by(o.len() / 12)) {
        exercise(&o[..len]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, failure_persistence: None, ..ProptestConfig::default() })]

    /// Mutations in the bigobj header and section table, and in its symbol table.
    #[test]
    fn mutated_bigobj_never_panics(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), any::<bool>()), 1..6),
    ) {
        let mut data = bigobj().clone();
        let symtab = u32::from_le_bytes(data[48..52].try_into().unwrap()) as usize;
        for (at, byte, head) in edits {
            let i = if head { at.index(56 + 40 * 16) } else { symtab + at.index(data.len() - symtab) };
            data[i] = byte;
        }
        exercise(&data);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_objects_never_panic(
        which in 0usize..3,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        // Bias half the edits to the headers and tables at the front, where lengths live.
        front in any::<bool>(),
    ) {
        let mut data = objects()[which].clone();
        let span = if front { data.len().min(2048) } else { data.len() };
        for (at, byte) in edits {
            let i = at.index(span);
            data[i] = byte;
        }
        exercise(&data);
    }

    #[test]
    fn mutated_debug_sections_never_panic(
        which in 0usize..3,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        // Target the CodeView bytes: the first .debug$S and .debug$T ranges.
        let mut data = objects()[which].clone();
        let obj = hotpatch_cl::coff::CoffObject::parse(&data).unwrap();
        let ranges: Vec<(u64, u64)> = obj
            .sections
            .iter()
            .filter(|s| s.name.starts_with(b".debug$"))
            .filter_map(|s| s.data_range)
            .collect();
        for (k, (at, byte)) in edits.into_iter().enumerate() {
            let (a, b) = ranges[k % ranges.len()];
            let i = a as usize + at.index((b - a) as usize);
            data[i] = byte;
        }
        exercise(&data);
    }
}
