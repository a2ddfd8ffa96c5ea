//! The routing hint that reads source text (`driver::route::source_hint`) on any bytes. Input: the
//! first line is the function list (comma-separated IR names), the rest is the source. A hint
//! that says a listed name stands in the text must find its identifier there, and a line
//! comment appended to the text changes nothing.
#![no_main]

use hotpatch_cl::driver::route::source_hint::{identifier_of, Identifiers, SourceHint};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (list, text) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &b""[..]),
    };
    let names: Vec<&[u8]> = list.split(|&b| b == b',').collect();
    let ids = Identifiers::new(names.iter().copied());
    let hint = ids.hint(text);
    if matches!(hint, SourceHint::Defines | SourceHint::Mentions) {
        let found = names
            .iter()
            .filter_map(|n| identifier_of(n))
            .any(|id| text.windows(id.len()).any(|w| w == id.as_slice()));
        assert!(found, "{hint:?}, yet no listed identifier is in the text");
    }
    let mut commented = text.to_vec();
    commented.extend_from_slice(b"\n// f() { g() { h() {\n");
    let again = ids.hint(&commented);
    assert_eq!(again, hint, "a line comment changed the hint");
});
