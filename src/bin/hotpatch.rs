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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: anyhow::Result<ExitCode> = match cli.command {
        Command::FixupPdb(args) => hotpatch_cl::driver::tools::fixup_pdb::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("hotpatch: error: {e:#}");
            ExitCode::from(1)
        }
    }
}
