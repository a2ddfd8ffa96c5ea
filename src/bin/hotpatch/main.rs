//! `hotpatch`: the toolbox (rewrite IR, inject and dump CodeView records, seal `__ref_`
//! pointers, verify a build, fix up PDBs).
//!
//! One file per subcommand in `commands/`: each declares its clap arguments, calls the
//! library and prints. Every line a command prints goes through [`output`], and every error
//! reads `hotpatch: error: FILE: what went wrong`.

#[macro_use]
mod output;
mod commands;

use clap::{Parser, Subcommand};
use commands::{changed, dump, fixup_pdb, inject, rewrite, seal, verify};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "hotpatch",
    version,
    about = "Windows Secure Hot-Patching toolbox for clang"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Restore the S_HOTPATCHFUNC records that lld-link blanked in a PDB.
    FixupPdb(fixup_pdb::Args),
    /// Mark functions and redirect their global accesses in LLVM IR text (then seal the
    /// objects compiled from it).
    Rewrite(rewrite::Args),
    /// Add S_HOTPATCHFUNC records to a COFF object and make its __ref_ pointers read-only.
    Inject(inject::Args),
    /// Make the __ref_ pointers of objects and static libraries read-only.
    Seal(seal::Args),
    /// Show the hot-patch information of objects, libraries, build directories and PDBs.
    Dump(dump::Args),
    /// Check a build's objects, libraries and directories against the hot-patch function list.
    Verify(verify::Args),
    /// List the functions a patch must carry, from a base and a patched build.
    Changed(changed::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: anyhow::Result<ExitCode> = match cli.command {
        Command::FixupPdb(args) => fixup_pdb::run(&args),
        Command::Rewrite(args) => rewrite::run(args),
        Command::Inject(a) => inject::run(a),
        Command::Seal(a) => seal::run(a),
        Command::Dump(a) => dump::run(a),
        Command::Verify(a) => verify::run(a),
        Command::Changed(a) => changed::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            output::error(&e);
            ExitCode::from(1)
        }
    }
}
