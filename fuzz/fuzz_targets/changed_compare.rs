//! `hotpatch changed`'s comparison on any two objects. Input: a little-endian u32 length, that
//! many bytes of the base object, then the patched object. Comparing an object with itself
//! must list no function and refuse nothing; comparing the two must not panic.
#![no_main]

use hotpatch_cl::changed::{compare, Input};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((len, rest)) = data.split_first_chunk::<4>() else {
        return;
    };
    let len = (u32::from_le_bytes(*len) as usize).min(rest.len());
    let (base, patched) = rest.split_at(len);
    let one = |d| [Input { name: "a.obj", data: d }];
    if let Ok(same) = compare(&one(base), &one(base)) {
        assert!(
            same.functions.is_empty() && same.refusals.is_empty(),
            "an object differs from itself: {:?} {:?}",
            same.functions,
            same.refusals
        );
    }
    let _ = compare(&one(base), &one(patched));
});
