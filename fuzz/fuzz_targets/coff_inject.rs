//! `S_HOTPATCHFUNC` injection on any bytes as a COFF object, for the functions of the seed
//! objects. An injection that succeeds must give an object that parses, holds a record for
//! every function the report says was recorded, and injects to itself (idempotent).
#![no_main]

use hotpatch_cl::codeview::{hotpatch::scan, inject};
use hotpatch_cl::coff::CoffObject;
use hotpatch_cl::hotlist::HotList;
use libfuzzer_sys::fuzz_target;

/// The functions of the seeds (x64, x86 and ARM64 spellings) and one name nothing defines.
const NAMES: &[&str] = &[
    "bump",
    "helper",
    "untouched",
    "_std_add@8",
    "@fast_add@8",
    "vec_add@@8",
    "?get@S@@QEAAHH@Z",
    "?get@S@@QAEHH@Z",
    "?helper@@YAHH@Z",
    "?inl@@YAHH@Z",
    "c_entry",
    "missing",
];

fuzz_target!(|data: &[u8]| {
    let list: HotList = NAMES.iter().copied().collect();
    let Ok(out) = inject(data, &list) else {
        return;
    };
    if let Err(e) = CoffObject::parse(&out.bytes) {
        panic!("injected object does not parse: {e}");
    }
    let after = match scan(&out.bytes) {
        Ok(s) => s,
        Err(e) => panic!("injected object does not scan: {e}"),
    };
    for name in &out.report.recorded {
        assert!(
            after.hotpatch.iter().any(|r| name.starts_with(&r.name)),
            "{} reported recorded but has no S_HOTPATCHFUNC",
            String::from_utf8_lossy(name)
        );
    }
    match inject(&out.bytes, &list) {
        Ok(again) => assert!(
            again.bytes == out.bytes,
            "a second injection changed the object"
        ),
        Err(e) => panic!("injected object does not inject: {e}"),
    }
});
