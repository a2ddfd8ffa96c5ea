//! `hotpatch`: the toolbox (rewrite IR, inject and dump CodeView records, verify a build).

use clap::{Parser, Subcommand};
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
    FixupPdb(hotpatch_cl::driver::tools::fixup_pdb::Args),
    /// Mark functions and redirect their global accesses in LLVM IR text.
    Rewrite(hotpatch_cl::driver::tools::rewrite::Args),
    /// Add S_HOTPATCHFUNC records to a COFF object.
    Inject(hotpatch_cl::driver::tools::inject::Args),
    /// Show the hot-patch information of COFF objects and PDBs.
    Dump(hotpatch_cl::driver::tools::dump::Args),
    /// Check a build's objects and libraries against the hot-patch function list.
    Verify(hotpatch_cl::driver::tools::verify::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: anyhow::Result<ExitCode> = match cli.command {
        Command::FixupPdb(args) => hotpatch_cl::driver::tools::fixup_pdb::run(&args),
        Command::Rewrite(args) => hotpatch_cl::driver::tools::rewrite::run(args),
        Command::Inject(a) => hotpatch_cl::driver::tools::inject::run(a),
        Command::Dump(a) => hotpatch_cl::driver::tools::dump::run(a),
        Command::Verify(a) => hotpatch_cl::driver::tools::verify::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("hotpatch: error: {e:#}");
            ExitCode::from(1)
        }
    }
}
