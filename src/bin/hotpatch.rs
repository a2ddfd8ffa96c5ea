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
enum Command {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: anyhow::Result<ExitCode> = match cli.command {};
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("hotpatch: error: {e:#}");
            ExitCode::from(1)
        }
    }
}
