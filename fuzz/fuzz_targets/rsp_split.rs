//! Response-file decoding and both tokenizers (MSVC and GNU quoting) on any bytes. Every
//! word, quoted by `quote`, must split back to itself, and the quoted words joined with
//! spaces must split back to the same list.
#![no_main]

use hotpatch_cl::driver::cmdline::rsp::{decode, quote, split_gnu, split_windows, Quoting};
use libfuzzer_sys::fuzz_target;

fn round_trip(words: &[String], quoting: Quoting, split: fn(&str) -> Vec<String>) {
    for w in words {
        let q = quote(w, quoting);
        assert_eq!(
            split(&q),
            vec![w.clone()],
            "{quoting:?} quote of {w:?} is {q:?}"
        );
    }
    let line: Vec<String> = words.iter().map(|w| quote(w, quoting)).collect();
    assert_eq!(split(&line.join(" ")), words, "{quoting:?} line {line:?}");
}

fuzz_target!(|data: &[u8]| {
    let Some(text) = decode(data) else {
        return;
    };
    let windows = split_windows(&text);
    let gnu = split_gnu(&text);
    round_trip(&windows, Quoting::Windows, split_windows);
    round_trip(&gnu, Quoting::Gnu, split_gnu);
});
