//! `coff::seal::seal_file` on any bytes as a COFF object or a static library. A seal that
//! succeeds keeps the length, changes exactly one byte (the `IMAGE_SCN_MEM_WRITE` bit of the
//! `Characteristics`) per section it reports writable, and seals to itself, finding the same
//! sections, all read-only.
#![no_main]

use hotpatch_cl::coff::seal::{seal_file, RefSection};
use libfuzzer_sys::fuzz_target;

fn sections(objects: &[(Option<String>, Vec<RefSection>)]) -> Vec<(Option<String>, u32)> {
    objects
        .iter()
        .flat_map(|(m, s)| s.iter().map(move |r| (m.clone(), r.section)))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(out) = seal_file(data) else {
        return;
    };
    assert_eq!(out.bytes.len(), data.len(), "seal changed the length");
    let changed = data.iter().zip(&out.bytes).filter(|(a, b)| a != b).count();
    let writable = out
        .objects
        .iter()
        .flat_map(|(_, s)| s)
        .filter(|s| s.writable)
        .count();
    assert_eq!(changed, writable, "bytes changed other than one per sealed section");
    let again = match seal_file(&out.bytes) {
        Ok(a) => a,
        Err(e) => panic!("sealed output does not seal: {e}"),
    };
    assert!(again.bytes == out.bytes, "a second seal changed the file");
    assert_eq!(sections(&again.objects), sections(&out.objects));
    assert!(
        again.objects.iter().flat_map(|(_, s)| s).all(|s| !s.writable),
        "a __ref_ section is still writable"
    );
});
