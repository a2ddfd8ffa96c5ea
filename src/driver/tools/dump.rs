//! `hotpatch dump`: show the hot-patch information of COFF objects, as a table or as JSON.
//!
//! The JSON output is an array with one object per FILE, in argument order:
//! `{"file": …, ...ObjectDump}` (see docs/dump-json.md). A FILE that cannot be read or parsed
//! is an error (`hotpatch: error: FILE: message`, exit 1) after the others are printed.

use crate::codeview::dump::{dump, ObjectDump};
use anyhow::Context;
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `hotpatch dump`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON (stable, documented in docs/dump-json.md) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// COFF objects to read.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

#[derive(Serialize)]
struct FileDump {
    file: String,
    #[serde(flatten)]
    dump: ObjectDump,
}

fn read(file: &PathBuf) -> anyhow::Result<ObjectDump> {
    let data = std::fs::read(file).with_context(|| format!("{}: cannot read", file.display()))?;
    dump(&data).with_context(|| format!("{}", file.display()))
}

/// Runs `hotpatch dump`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut dumps = Vec::new();
    let mut first_error = None;
    for f in &args.files {
        match read(f) {
            Ok(d) => dumps.push(FileDump {
                file: f.display().to_string(),
                dump: d,
            }),
            Err(e) if first_error.is_none() => first_error = Some(e),
            Err(e) => eprintln!("hotpatch: error: {e:#}"),
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&dumps)?);
    } else {
        for d in &dumps {
            print_table(d);
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(ExitCode::SUCCESS),
    }
}

fn print_table(d: &FileDump) {
    let o = &d.dump;
    println!(
        "{} ({}{})",
        d.file,
        o.machine,
        if o.bigobj { ", bigobj" } else { "" }
    );
    println!("  S_HOTPATCHFUNC records: {}", o.hotpatch_functions.len());
    for h in &o.hotpatch_functions {
        let resolved = h.function_id_name.as_deref().unwrap_or("<unresolved>");
        println!("    {:#06x}  {:<24} {}", h.function_id, resolved, h.name);
    }
    println!("  __ref_ symbols: {}", o.ref_symbols.len());
    for r in &o.ref_symbols {
        let section = r.section.as_deref().unwrap_or("<undefined>");
        let prot = format!(
            "{}{}",
            if r.readable { "r" } else { "-" },
            if r.writable { "w" } else { "-" }
        );
        println!(
            "    {:<32} {:<14} {:<10} {}",
            r.symbol, r.kind, section, prot
        );
    }
    println!(
        "  direct accesses to writable data from hot-patched functions: {}",
        o.direct_global_accesses.len()
    );
    for a in &o.direct_global_accesses {
        println!(
            "    {}+{:#x} -> {} ({})",
            a.function, a.offset, a.target, a.target_section
        );
    }
}
