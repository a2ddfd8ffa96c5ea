//! CodeView records in `.debug$S`: framing, `S_HOTPATCHFUNC` encoding and lookup.
//!
//! (Being built: see issue 3.)
