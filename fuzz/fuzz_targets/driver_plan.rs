//! The flag parsers and the planner on any command line: first byte even = clang-cl, odd =
//! GNU clang; then arguments separated by NUL (any bytes, so also non-UTF-8). Parsing must
//! keep every argument in order, and what `without_hotpatch_flags` leaves must hold no
//! hot-patch flag when parsed again.
#![no_main]

use hotpatch_cl::driver::cmdline::args::{without_hotpatch_flags, DriverKind};
use hotpatch_cl::driver::cmdline::classify::{parse, plan};
use libfuzzer_sys::fuzz_target;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let kind = if first % 2 == 0 {
        DriverKind::ClangCl
    } else {
        DriverKind::Gnu
    };
    let args: Vec<OsString> = if rest.is_empty() {
        Vec::new()
    } else {
        rest.split(|&b| b == 0)
            .map(|a| OsString::from_vec(a.to_vec()))
            .collect()
    };
    let parsed = parse(kind, &args);
    let raw: Vec<OsString> = parsed.iter().flat_map(|a| a.raw.iter().cloned()).collect();
    assert_eq!(raw, args, "parsing lost or reordered arguments");
    let stripped = without_hotpatch_flags(kind, &parsed);
    let again = parse(kind, &stripped);
    assert!(
        !again
            .iter()
            .any(|a| a.effective().is_some_and(|(c, _)| c.is_hotpatch())),
        "hot-patch flags left after stripping: {stripped:?}"
    );
    let _ = plan(kind, &args);
});
