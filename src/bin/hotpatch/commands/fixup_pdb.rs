//! `hotpatch fixup-pdb APP.pdb [OBJ|LIB...] [-v]`: restore the `S_HOTPATCHFUNC` records that
//! lld-link blanked, through [`hotpatch_cl::pdb::fixup`]. Prints what it did; records that stay
//! blank are errors (exit 1, after writing the ones that could be restored), and so is an
//! unreadable PDB.

use crate::output;
use hotpatch_cl::pdb;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `hotpatch fixup-pdb`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The PDB written by `lld-link /debug`; patched in place.
    pub pdb: PathBuf,
    /// The linked objects and `.lib` archives (default: the paths the PDB records).
    pub objects: Vec<PathBuf>,
    /// List every restored record.
    #[arg(short, long)]
    pub verbose: bool,
}

/// Runs the fix-up and prints a summary to stderr.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let report = pdb::fixup(&args.pdb, &args.objects)?;
    let shown = args.pdb.display();
    if args.verbose {
        for r in &report.restored {
            err!(
                "{shown}: {}: restored S_HOTPATCHFUNC `{}` (function ID {:#x})",
                r.module,
                r.name,
                r.func_id
            );
        }
    }
    for n in &report.notes {
        output::note(format_args!("{shown}: {n}"));
    }
    for p in &report.problems {
        err!("hotpatch: error: {shown}: {p}");
    }
    if report.written {
        err!(
            "{shown}: restored {} S_HOTPATCHFUNC record(s)",
            report.restored.len()
        );
    } else if report.already_present > 0 && report.blank_skips == 0 {
        err!(
            "{shown}: nothing to do: its {} S_HOTPATCHFUNC record(s) are already in place",
            report.already_present
        );
    } else if report.blank_skips == 0 {
        err!("{shown}: nothing to do: no blank S_SKIP records (not an lld-link PDB with hot-patch records)");
    } else {
        err!("{shown}: left unchanged");
    }
    // What could be restored is written; still fail so a build notices the rest.
    if report.problems.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::from(1))
    }
}
