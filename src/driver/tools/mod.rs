//! The `hotpatch` toolbox subcommands: argument structs (clap) and their `run` functions.
//!
//! Each subcommand parses its own arguments, calls the library and prints; the binary in
//! `src/bin/hotpatch.rs` only dispatches.

pub mod dump;
pub mod fixup_pdb;
pub mod inject;
pub mod rewrite;
