//! The subcommands, one file each: arguments (clap), a `run` that calls the library and
//! prints through [`crate::output`].

pub mod changed;
pub mod dump;
pub mod fixup_pdb;
pub mod inject;
pub mod rewrite;
pub mod seal;
pub mod verify;
