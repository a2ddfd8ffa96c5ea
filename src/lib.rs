//! hotpatch-cl: Windows Secure Hot-Patching for clang 15 and later.
//!
//! The crate is layered so that each module has one job:
//!
//! | module | job |
//! |---|---|
//! | [`hotlist`] | the set of functions to hot-patch, built from `-file`/`-list` flags |
//! | [`ir`] | LLVM IR text: mark functions, redirect globals through `__ref_*` |
//! | [`coff`] | COFF objects: read sections and symbols, grow one `.debug$S` in place; the inputs of a build (objects, library members, directories) |
//! | [`codeview`] | CodeView records: `.debug$S` framing, `S_HOTPATCHFUNC` encoding |
//! | [`diag`] | `hotpatch-cl: warning:` lines and `HOTPATCH_WERROR` |
//! | [`names`] | the one reader of MSVC-mangled names (qualified name, source identifier); hints for list entries that name nothing |
//! | [`changed`] | which functions a patch must carry, from two builds (`hotpatch changed`) |
//! | [`verify`] | checks a whole build's objects against the function list (`hotpatch verify`) |
//! | [`pdb`] | PDB fix-up after `lld-link` |
//! | [`driver`] | the compiler wrapper: reading command lines (`cmdline`), exact routing (`route`), running programs (`exec`: the pipeline, link mode, the only place that spawns processes) |
//! | [`text`] | text files as Windows tools write them (UTF-8 with or without a mark, UTF-16 with one) |
//! | [`fsutil`] | atomic writes, so a failure never leaves a half-written output; I/O error wording |
//!
//! The binaries in `src/bin/` (`hotpatch-cl`, and `hotpatch` with one file per subcommand in
//! `src/bin/hotpatch/commands/`) are thin front doors onto this library: argument parsing and
//! printing live there, never here.
#![forbid(unsafe_code)]

pub mod changed;
pub mod codeview;
pub mod coff;
pub mod diag;
pub mod driver;
pub mod fsutil;
pub mod hotlist;
pub mod ir;
pub mod names;
pub mod pdb;
pub mod text;
pub mod verify;
