//! hotpatch-cl's integration tests: one test binary, one module per area. Each module is named
//! after the area it tests (`cargo test --test it wrapper::` runs one area); `support` holds
//! what they share: finding and running the real tools, reading objects back, the fake
//! compiler harness, the COFF, PDB and end-to-end helpers.
// Tests run compilers, linkers and Wine directly; the library's one-place-spawns rule
// (clippy.toml) is for src/.
#![allow(clippy::disallowed_methods)]

mod support;

// These run on every target; `make test-windows` builds them for Windows and runs them under
// Wine: the wrapper's command lines and response files against the fake compiler, the IR tool,
// and the Windows-only behaviour (paths, quoting, file replacement, Ctrl-C, masquerade).
mod args_clang_cl;
mod args_gnu;
mod ir_cli;
#[cfg(windows)]
mod windows;

// These need the Linux compilers, linkers and tools (clang-19/22, lld-22, llvm-22, Wine, the
// caches): a Windows program under Wine cannot drive a Linux program (it gets no process
// handle, so no exit status and no pipes), so they are compiled out of the Windows build of
// the tests instead of failing there. `make test` runs them on Linux.
#[cfg(not(windows))]
mod better;
#[cfg(not(windows))]
mod better_wine;
#[cfg(not(windows))]
mod caches;
#[cfg(not(windows))]
mod changed;
#[cfg(not(windows))]
mod coff_cli;
#[cfg(not(windows))]
mod coff_fuzz;
#[cfg(not(windows))]
mod coff_inject;
#[cfg(not(windows))]
mod e2e_wine;
#[cfg(not(windows))]
mod examples_build;
#[cfg(not(windows))]
mod inputs;
#[cfg(not(windows))]
mod ir_oracle;
#[cfg(not(windows))]
mod kill;
#[cfg(not(windows))]
mod link_many;
#[cfg(not(windows))]
mod list_files;
#[cfg(not(windows))]
mod names;
#[cfg(not(windows))]
mod pdb_fixup;
#[cfg(not(windows))]
mod pdb_link;
#[cfg(not(windows))]
mod rewrite_native_codegen;
#[cfg(not(windows))]
mod routing;
#[cfg(not(windows))]
mod shims;
#[cfg(not(windows))]
mod stdin;
#[cfg(not(windows))]
mod tools_inputs;
#[cfg(not(windows))]
mod verify;
// hotpatch-cl.exe in front of the real Windows compilers under Wine, started from Linux; run
// by `scripts/windows.sh real` (ignored in `make test`: it needs the Windows build).
#[cfg(not(windows))]
mod windows_real;
#[cfg(not(windows))]
mod wrapper;
#[cfg(not(windows))]
mod wrapper_better;
#[cfg(not(windows))]
mod wrapper_oracle;
