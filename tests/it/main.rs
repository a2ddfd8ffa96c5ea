//! hotpatch-cl's integration tests: one test binary, one module per area. Each module is named
//! after the area it tests (`cargo test --test it wrapper::` runs one area); `support` holds
//! what they share: finding and running the real tools, reading objects back, the fake
//! compiler harness, the COFF, PDB and end-to-end helpers.
// Tests run compilers, linkers and Wine directly; the library's one-place-spawns rule
// (clippy.toml) is for src/.
#![allow(clippy::disallowed_methods)]

mod support;

mod args_clang_cl;
mod args_gnu;
mod better;
mod better_wine;
mod caches;
mod changed;
mod coff_cli;
mod coff_fuzz;
mod coff_inject;
mod e2e_wine;
mod examples_build;
mod inputs;
mod ir_cli;
mod ir_oracle;
mod link_many;
mod pdb_fixup;
mod pdb_link;
mod rewrite_native_codegen;
mod routing;
mod shims;
mod stdin;
mod tools_inputs;
mod verify;
mod wrapper;
mod wrapper_better;
mod wrapper_oracle;
