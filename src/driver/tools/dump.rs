//! `hotpatch dump`: show the hot-patch information of COFF objects and PDBs, as a table or as
//! JSON.
//!
//! The JSON output is an array with one object per FILE, in argument order:
//! `{"file": …, "kind": "object", ...ObjectDump}` for a COFF object and
//! `{"file": …, "kind": "pdb", ...PdbDump}` for a PDB (a `.pdb` name or the MSF magic), see
//! docs/dump-json.md. A FILE that cannot be read or parsed is an error
//! (`hotpatch: error: FILE: message`, exit 1) after the others are printed.

use crate::codeview::dump::{dump, ObjectDump};
use crate::pdb::{self, PdbDump};
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
    /// COFF objects and PDBs to read.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Contents {
    Object(ObjectDump),
    Pdb(PdbDump),
}

#[derive(Serialize)]
struct FileDump {
    file: String,
    #[serde(flatten)]
    dump: Contents,
}

fn read(file: &PathBuf) -> anyhow::Result<Contents> {
    if pdb::looks_like_pdb(file) {
        return Ok(Contents::Pdb(pdb::dump(file)?));
    }
    let data = std::fs::read(file).with_context(|| format!("{}: cannot read", file.display()))?;
    Ok(Contents::Object(
        dump(&data).with_context(|| format!("{}", file.display()))?,
    ))
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
            match &d.dump {
                Contents::Object(o) => print_table(&d.file, o),
                Contents::Pdb(p) => print_pdb_table(&d.file, p),
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(ExitCode::SUCCESS),
    }
}

fn print_pdb_table(file: &str, p: &PdbDump) {
    let records: usize = p.modules.iter().map(|m| m.records.len()).sum();
    let blanks: usize = p.modules.iter().map(|m| m.blank_skips).sum();
    println!("{file} (PDB)");
    println!("  S_HOTPATCHFUNC records: {records}");
    for m in &p.modules {
        let from = if m.obj_file != m.module {
            format!(" ({})", m.obj_file)
        } else {
            String::new()
        };
        println!("  module {} {}{from}", m.index, m.module);
        for r in &m.records {
            let resolved = r.function_id_name().unwrap_or("<unresolved>");
            println!("    {:#06x}  {:<24} {}", r.func_id, resolved, r.name);
        }
        if m.blank_skips > 0 {
            println!(
                "    {} blank S_SKIP record(s) (lld-link's remains of S_HOTPATCHFUNC: run hotpatch fixup-pdb)",
                m.blank_skips
            );
        }
    }
    if blanks > 0 {
        println!("  blank S_SKIP records: {blanks}");
    }
}

fn print_table(file: &str, o: &ObjectDump) {
    println!(
        "{} ({}{})",
        file,
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
