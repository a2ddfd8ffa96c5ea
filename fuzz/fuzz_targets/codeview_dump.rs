//! The readers behind `hotpatch dump` and `verify` on any bytes as a COFF object: the dump
//! (records, `__ref_` pointers, direct accesses), the CodeView scan and the relocations of
//! hot-patched code. Only a panic, hang or runaway allocation fails.
#![no_main]

use hotpatch_cl::codeview::{dump::dump, hotpatch::scan};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = dump(data);
    if let Ok(s) = scan(data) {
        let _ = s.hotpatched_code_relocations().count();
    }
});
