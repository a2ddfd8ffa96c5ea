//! The IR engine on any text: the first line is the function list (comma-separated IR names;
//! a leading `#` asks for mark-only), the rest the module. A rewrite that succeeds must give
//! a module our own indexer reads, and rewriting that output again must change nothing.
#![no_main]

use hotpatch_cl::hotlist::HotList;
use hotpatch_cl::ir::{module::Module, rewrite, Options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (head, ir) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&[][..], data),
    };
    let mark_only = head.first() == Some(&b'#');
    let head = if mark_only { &head[1..] } else { head };
    let mut list = HotList::new();
    for name in head.split(|&b| b == b',') {
        list.add_name(name);
    }
    let options = Options {
        mark_only,
        ..Options::default()
    };
    let _ = Module::index(ir);
    let Ok(once) = rewrite(ir, &list, &options) else {
        return;
    };
    if let Err(e) = Module::index(&once.text) {
        panic!("the rewritten module does not index: {e}");
    }
    match rewrite(&once.text, &list, &options) {
        Ok(twice) => assert!(
            twice.text == once.text,
            "a second rewrite changed the output:\n--- once\n{}\n--- twice\n{}",
            String::from_utf8_lossy(&once.text),
            String::from_utf8_lossy(&twice.text)
        ),
        Err(e) => panic!("the rewritten module does not rewrite: {e}"),
    }
});
