//! `hotpatch verify`: check a whole build's objects (and `.lib` members) against the
//! hot-patch function list; one line per problem on stdout, exit 1 when there is any.
//!
//! The checks are `crate::verify`'s. This file reads the files, opens archives (members
//! that are not COFF objects, such as short import records or LLVM bitcode, are skipped)
//! and prints.

use crate::hotlist::HotList;
use crate::verify::{verify, Object};
use anyhow::Context;
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
    /// COFF objects and `.lib` archives of the build.
    #[arg(required = true, value_name = "OBJ|LIB")]
    pub files: Vec<PathBuf>,
}

/// Whether `data` is a COFF object (not an import record, bitcode or anything else).
fn looks_like_coff(data: &[u8]) -> bool {
    const MACHINES: [u16; 5] = [0x8664, 0x14c, 0xaa64, 0x1c4, 0xa641];
    let word = |i: usize| data.get(i..i + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    match (word(0), word(2)) {
        // /bigobj: sig1 0, sig2 0xffff, version ≥ 2.
        (Some(0), Some(0xffff)) => word(4).is_some_and(|v| v >= 2),
        (Some(m), _) => MACHINES.contains(&m),
        _ => false,
    }
}

/// Runs `hotpatch verify`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut list = HotList::new();
    for f in &args.functions_file {
        list.add_file(f)?;
    }
    for l in &args.functions {
        list.add_list(l);
    }
    for w in list.warnings() {
        println!("warning: {w}");
    }
    let mut files = Vec::new();
    for f in &args.files {
        let data = std::fs::read(f).with_context(|| format!("{}: cannot read", f.display()))?;
        files.push((f.display().to_string(), data));
    }
    let mut objects = Vec::new();
    let mut skipped = 0usize;
    for (name, data) in &files {
        if data.starts_with(b"!<arch>\n") {
            let ar = object::read::archive::ArchiveFile::parse(data.as_slice())
                .with_context(|| format!("{name}: not a valid archive"))?;
            for m in ar.members() {
                let m = m.with_context(|| format!("{name}: bad archive member"))?;
                let bytes = m
                    .data(data.as_slice())
                    .with_context(|| format!("{name}: bad archive member"))?;
                if looks_like_coff(bytes) {
                    objects.push(Object {
                        name: format!("{name}({})", String::from_utf8_lossy(m.name())),
                        data: bytes,
                    });
                } else {
                    skipped += 1;
                }
            }
        } else {
            objects.push(Object {
                name: name.clone(),
                data,
            });
        }
    }
    let problems = verify(&objects, &list)?;
    for p in &problems {
        println!("{p}");
    }
    let note = if skipped > 0 {
        format!(" ({skipped} archive members that are not COFF objects skipped)")
    } else {
        String::new()
    };
    if problems.is_empty() {
        eprintln!(
            "hotpatch verify: {} objects, {} listed functions: OK{note}",
            objects.len(),
            list.len()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "hotpatch verify: {} problem(s) in {} objects{note}",
            problems.len(),
            objects.len()
        );
        Ok(ExitCode::from(1))
    }
}
