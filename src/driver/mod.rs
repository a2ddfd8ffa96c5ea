//! Command lines, the compile pipeline, and the only place that spawns processes.
//!
//! [`tools`] holds the `hotpatch` toolbox subcommands, each a thin layer over the library.

pub mod tools;
