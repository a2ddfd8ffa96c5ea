//! `hotpatch seal`: make the `__ref_` pointers of objects and static libraries read-only, in
//! place or to `-o`.
//!
//! For code generation run outside hotpatch-cl (`hotpatch rewrite` output compiled by
//! `clang -c` or `llc`): the `__ref_` COMDATs come out writable, and hotpatch-cl's own object
//! step is not there to clear the bit. A thin layer over [`hotpatch_cl::coff::seal::seal_file`].
//! A file is rewritten only when something changed (a sealed file keeps its time stamp), and
//! atomically ([`hotpatch_cl::fsutil::write_atomic`]): a failure leaves it as it was. Every
//! file is tried; any failure makes the exit status 1.

use crate::output;
use hotpatch_cl::coff::seal::seal_file;
use hotpatch_cl::fsutil::io_message;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `hotpatch seal`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// COFF objects and static libraries (.lib, .a) to seal in place.
    #[arg(required = true, value_name = "OBJ|LIB")]
    pub files: Vec<PathBuf>,
    /// Write the sealed file here instead (one input only); written even when unchanged.
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Name every `__ref_` section sealed.
    #[arg(short, long)]
    pub verbose: bool,
}

/// Runs `hotpatch seal`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.output.is_some() && args.files.len() != 1 {
        anyhow::bail!("-o takes one input file, {} given", args.files.len());
    }
    let mut failed = false;
    for file in &args.files {
        if let Err(message) = seal_one(file, args.output.as_deref(), args.verbose) {
            output::file_error(&file.display().to_string(), &message);
            failed = true;
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn seal_one(file: &Path, output: Option<&Path>, verbose: bool) -> Result<(), String> {
    let data = std::fs::read(file).map_err(|e| format!("cannot read: {}", io_message(&e)))?;
    let sealed = seal_file(&data).map_err(|e| e.to_string())?;
    let dest = output.unwrap_or(file);
    if output.is_some() || sealed.bytes != data {
        hotpatch_cl::fsutil::write_atomic(dest, &sealed.bytes)
            .map_err(|e| format!("cannot write {}: {}", dest.display(), io_message(&e)))?;
    }
    if verbose {
        for (member, sections) in &sealed.objects {
            let name = match member {
                Some(m) => format!("{}({m})", file.display()),
                None => file.display().to_string(),
            };
            for s in sections {
                err!(
                    "hotpatch: {name}: {} {}",
                    String::from_utf8_lossy(&s.symbol),
                    if s.writable {
                        "sealed"
                    } else {
                        "already read-only"
                    }
                );
            }
        }
    }
    Ok(())
}
