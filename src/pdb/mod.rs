//! PDB fix-up after `lld-link`: restore the `S_HOTPATCHFUNC` records it blanks out.
//!
//! (Not built yet: see issue 7.)
