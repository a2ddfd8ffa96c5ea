//! `hotpatch dump`: show the hot-patch information of what a build produces (objects, the
//! members of static libraries, directories of them, PDBs) as a table or as JSON.
//!
//! Inputs are read through [`hotpatch_cl::coff::inputs`]: each archive member is named
//! `lib.lib(member.obj)`; import libraries and import members are skipped with a note. The
//! JSON output (docs/dump-json.md) is an array with one entry per object or PDB, in input
//! order. A FILE that cannot be read or parsed is an error (`hotpatch: error: FILE: why`,
//! exit 1) after the others are printed; in JSON it is an entry of kind `error`, and when no
//! input could be read at all nothing is printed on stdout.

use crate::output;
use hotpatch_cl::codeview::dump::{dump, ObjectDump};
use hotpatch_cl::coff::inputs::{Input, Inputs, Kind};
use hotpatch_cl::pdb::{self, PdbDump};
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `hotpatch dump`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON (stable, documented in docs/dump-json.md) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// COFF objects, static libraries (.lib, .a), directories of them, and PDBs.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Contents {
    Object(ObjectDump),
    Pdb(PdbDump),
    Error { error: String },
}

#[derive(Serialize)]
struct FileDump {
    /// `a.obj`, or `lib.lib(member.obj)` for an archive member.
    file: String,
    /// For an archive member: the archive's path and the member's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    archive: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    member: Option<String>,
    #[serde(flatten)]
    dump: Contents,
}

/// Reads one input: `Ok(None)` for what is skipped (with a note printed); the error is the
/// message without the leading `NAME: `.
fn read(input: &Input) -> Result<Option<Contents>, String> {
    match input.kind {
        Kind::Pdb => pdb::dump(&input.path)
            .map(|p| Some(Contents::Pdb(p)))
            .map_err(|e| {
                // pdb's errors start with the file's path already.
                let text = e.to_string();
                let prefix = format!("{}: ", input.path.display());
                text.strip_prefix(&prefix).unwrap_or(&text).to_string()
            }),
        Kind::Object => dump(input.data())
            .map(|o| Some(Contents::Object(o)))
            .map_err(|e| e.to_string()),
        Kind::ImportLibrary => {
            output::note(format_args!(
                "{}: an import library (no code), skipped",
                input.name
            ));
            Ok(None)
        }
        Kind::ImportMember => Ok(None),
        Kind::Skipped(why) => {
            output::note(format_args!("{}: {why}, skipped", input.name));
            Ok(None)
        }
    }
}

/// Runs `hotpatch dump`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut dumps = Vec::new();
    let mut failed = 0usize;
    // (archive, import members skipped): one note per archive.
    let mut import_members: Vec<(String, usize)> = Vec::new();
    for item in Inputs::new(&args.files) {
        let (file, archive, member, result) = match item {
            Err(e) => (e.name, None, None, Err(e.message)),
            Ok(input) => {
                let archive = input.path.display().to_string();
                if input.kind == Kind::ImportMember {
                    match import_members.last_mut() {
                        Some((a, n)) if *a == archive => *n += 1,
                        _ => import_members.push((archive.clone(), 1)),
                    }
                }
                let result = read(&input);
                let archive = input.member.is_some().then_some(archive);
                (input.name, archive, input.member, result)
            }
        };
        let dump = match result {
            Ok(None) => continue,
            Ok(Some(c)) => c,
            Err(error) => {
                failed += 1;
                output::file_error(&file, &error);
                Contents::Error { error }
            }
        };
        dumps.push(FileDump {
            file,
            archive,
            member,
            dump,
        });
    }
    for (archive, n) in &import_members {
        output::note(format_args!(
            "{archive}: {n} import member(s) (DLL imports, no code) skipped"
        ));
    }
    let any_read = dumps
        .iter()
        .any(|d| !matches!(d.dump, Contents::Error { .. }));
    if args.json {
        // When every input failed there is no answer to give: stdout stays empty.
        if any_read || failed == 0 {
            out!("{}", serde_json::to_string_pretty(&dumps)?);
        }
    } else {
        for d in &dumps {
            match &d.dump {
                Contents::Object(o) => print_table(&d.file, o),
                Contents::Pdb(p) => print_pdb_table(&d.file, p),
                Contents::Error { .. } => {}
            }
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_pdb_table(file: &str, p: &PdbDump) {
    let records: usize = p.modules.iter().map(|m| m.records.len()).sum();
    let blanks: usize = p.modules.iter().map(|m| m.blank_skips).sum();
    out!("{file} (PDB)");
    out!("  S_HOTPATCHFUNC records: {records}");
    for m in &p.modules {
        let from = if m.obj_file != m.module {
            format!(" ({})", m.obj_file)
        } else {
            String::new()
        };
        out!("  module {} {}{from}", m.index, m.module);
        for r in &m.records {
            let resolved = r.function_id_name().unwrap_or("<unresolved>");
            out!("    {:#06x}  {:<24} {}", r.func_id, resolved, r.name);
        }
        if m.blank_skips > 0 {
            out!(
                "    {} blank S_SKIP record(s) (lld-link's remains of S_HOTPATCHFUNC: run hotpatch fixup-pdb)",
                m.blank_skips
            );
        }
    }
    if blanks > 0 {
        out!("  blank S_SKIP records: {blanks}");
    }
}

fn print_table(file: &str, o: &ObjectDump) {
    out!(
        "{} ({}{})",
        file,
        o.machine,
        if o.bigobj { ", bigobj" } else { "" }
    );
    out!("  S_HOTPATCHFUNC records: {}", o.hotpatch_functions.len());
    for h in &o.hotpatch_functions {
        let resolved = h.function_id_name.as_deref().unwrap_or("<unresolved>");
        out!("    {:#06x}  {:<24} {}", h.function_id, resolved, h.name);
    }
    out!("  __ref_ symbols: {}", o.ref_symbols.len());
    for r in &o.ref_symbols {
        let section = r.section.as_deref().unwrap_or("<undefined>");
        let prot = format!(
            "{}{}",
            if r.readable { "r" } else { "-" },
            if r.writable { "w" } else { "-" }
        );
        out!(
            "    {:<32} {:<14} {:<10} {}",
            r.symbol,
            r.kind,
            section,
            prot
        );
    }
    out!(
        "  direct accesses to writable data from hot-patched functions: {}",
        o.direct_global_accesses.len()
    );
    for a in &o.direct_global_accesses {
        out!(
            "    {}+{:#x} -> {} ({})",
            a.function,
            a.offset,
            a.target,
            a.target_section
        );
    }
}
