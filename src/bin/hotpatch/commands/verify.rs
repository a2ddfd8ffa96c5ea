//! `hotpatch verify`: check a whole build (objects, static libraries, directories of them)
//! against the hot-patch function list; one line per problem on stdout, exit 1 when there is
//! any.
//!
//! The checks are [`hotpatch_cl::verify`]'s; the inputs come from
//! [`hotpatch_cl::coff::inputs`] (archive members named `lib.lib(member.obj)`; import
//! libraries, import members and members that are not COFF objects, such as LLVM bitcode,
//! skipped with a note). This file prints.

use crate::output;
use hotpatch_cl::coff::inputs::{Input, Inputs, Kind};
use hotpatch_cl::hotlist::HotList;
use hotpatch_cl::verify::{verify, Object};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `hotpatch verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// File with one mangled function name per line (repeatable).
    #[arg(long = "functions-file", value_name = "FILE")]
    pub functions_file: Vec<PathBuf>,
    /// Comma-separated mangled function names (repeatable).
    #[arg(long = "functions", value_name = "LIST")]
    pub functions: Vec<String>,
    /// COFF objects, static libraries (.lib, .a) and directories of the build.
    #[arg(required = true, value_name = "OBJ|LIB|DIR")]
    pub files: Vec<PathBuf>,
}

/// Runs `hotpatch verify`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let list = HotList::from_flags(&args.functions_file, &args.functions)?;
    for w in list.warnings() {
        output::warning(w);
    }
    let mut inputs: Vec<Input> = Vec::new();
    let mut unreadable = 0usize;
    let mut skipped = 0usize;
    for item in Inputs::new(&args.files) {
        match item {
            Err(e) => {
                unreadable += 1;
                output::file_error(&e.name, &e.message);
            }
            Ok(i) => match i.kind {
                Kind::Object => inputs.push(i),
                Kind::Pdb => {
                    unreadable += 1;
                    output::file_error(
                        &i.name,
                        "a PDB: verify reads objects and libraries (dump shows a PDB's records)",
                    );
                }
                Kind::ImportLibrary => output::note(format_args!(
                    "{}: an import library (no code), skipped",
                    i.name
                )),
                Kind::ImportMember | Kind::Skipped(_) => skipped += 1,
            },
        }
    }
    let objects: Vec<Object> = inputs
        .iter()
        .map(|i| Object {
            name: i.name.clone(),
            data: i.data(),
        })
        .collect();
    if unreadable > 0 {
        // The error lines said it; a verdict on part of the build would mislead.
        return Ok(ExitCode::from(1));
    }
    let problems = verify(&objects, &list)?;
    for p in &problems {
        out!("{p}");
    }
    let note = if skipped > 0 {
        format!(" ({skipped} archive members skipped: DLL imports or not COFF objects)")
    } else {
        String::new()
    };
    if problems.is_empty() {
        err!(
            "hotpatch verify: {} objects, {} listed functions: OK{note}",
            objects.len(),
            list.len()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        err!(
            "hotpatch verify: {} problem(s) in {} objects{note}",
            problems.len(),
            objects.len()
        );
        Ok(ExitCode::from(1))
    }
}
