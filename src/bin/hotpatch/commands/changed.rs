//! `hotpatch changed BASE PATCHED [-o LIST] [--json]`: the functions a patch must carry, from
//! two builds of the same program (objects, static libraries, or directories of them).
//!
//! The comparison is [`hotpatch_cl::changed`]'s, the reading of files, libraries and directories
//! [`hotpatch_cl::coff::inputs`]'s. This file names each side's objects so that they pair up
//! (relative to the directory given; archive members as `lib.lib(member.obj)`), prints the
//! list (one IR name per line) or the JSON report, and the refusals (one line each on stderr,
//! exit 1, no list written).

use crate::output;
use anyhow::Context;
use hotpatch_cl::changed::{compare, Input, Listed, Reason, Refusal, RefusalKind, Report, Side};
use hotpatch_cl::coff;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `hotpatch changed`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The build that runs today: an object, a `.lib`/`.a`, or a directory of them.
    #[arg(value_name = "BASE")]
    pub base: PathBuf,
    /// The fixed build, of the same kind as BASE.
    #[arg(value_name = "PATCHED")]
    pub patched: PathBuf,
    /// Write the list here instead of stdout (not written when a change is refused).
    #[arg(short = 'o', long = "output", value_name = "LIST")]
    pub output: Option<PathBuf>,
    /// Print a JSON report on stdout: why each function is listed, and the refusals.
    #[arg(long)]
    pub json: bool,
}

/// The objects of one side, named so that the two sides pair up: relative to a directory
/// root, or `label` for a single file (the patched file's name, for both sides), with
/// `(member.obj)` for archive members. Import libraries, PDBs and archive members that are not
/// objects are left out; a file that is none of these is an error.
fn objects(root: &Path, label: &str) -> anyhow::Result<Vec<(String, coff::inputs::Input)>> {
    let is_dir = root.is_dir();
    let mut out = Vec::new();
    for item in coff::inputs::Inputs::new([root]) {
        let item = item.map_err(|e| anyhow::anyhow!("{e}"))?;
        if item.kind != coff::inputs::Kind::Object {
            continue;
        }
        let file = if is_dir {
            let rel = item.path.strip_prefix(root).unwrap_or(&item.path);
            rel.to_string_lossy().replace('\\', "/")
        } else {
            label.to_string()
        };
        let name = match (&item.member, item.occurrence) {
            (None, _) => file,
            (Some(m), 0) => format!("{file}({m})"),
            (Some(m), n) => format!("{file}({m}#{})", n + 1),
        };
        out.push((name, item));
    }
    Ok(out)
}

fn inputs(v: &[(String, coff::inputs::Input)]) -> Vec<Input<'_>> {
    v.iter()
        .map(|(name, item)| Input {
            name,
            data: item.data(),
        })
        .collect()
}

#[derive(Serialize)]
struct JsonReason {
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    global: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    called_by: Option<String>,
}

#[derive(Serialize)]
struct JsonFunction {
    name: String,
    object: String,
    reasons: Vec<JsonReason>,
}

#[derive(Serialize)]
struct JsonRefusal {
    global: String,
    object: String,
    kind: &'static str,
    message: String,
}

#[derive(Serialize)]
struct JsonReport {
    functions: Vec<JsonFunction>,
    refusals: Vec<JsonRefusal>,
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn json_reason(r: &Reason) -> JsonReason {
    let (kind, global, called_by) = match r {
        Reason::Bytes => ("bytes", None, None),
        Reason::Relocations => ("relocations", None, None),
        Reason::UsesChangedConstant(g) => ("uses-changed-constant", Some(text(g)), None),
        Reason::New { called_by } => ("new", None, Some(text(called_by))),
    };
    JsonReason {
        kind,
        global,
        called_by,
    }
}

fn json_function(f: &Listed) -> JsonFunction {
    JsonFunction {
        name: text(&f.name),
        object: f.object.clone(),
        reasons: f.reasons.iter().map(json_reason).collect(),
    }
}

fn json_refusal(r: &Refusal) -> JsonRefusal {
    let kind = match r.kind {
        RefusalKind::WritableValue => "writable-value",
        RefusalKind::WritableSize { .. } => "writable-size",
        RefusalKind::Kind { .. } => "kind",
        RefusalKind::ThreadLocal => "thread-local",
        RefusalKind::Dropped { .. } => "dropped",
    };
    JsonRefusal {
        global: text(&r.global),
        object: r.object.clone(),
        kind,
        message: r.to_string(),
    }
}

fn json(report: &Report) -> JsonReport {
    JsonReport {
        functions: report.functions.iter().map(json_function).collect(),
        refusals: report.refusals.iter().map(json_refusal).collect(),
    }
}

/// Runs `hotpatch changed`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (bdir, pdir) = (args.base.is_dir(), args.patched.is_dir());
    if bdir != pdir {
        anyhow::bail!(
            "{} and {}: give two directories or two files",
            args.base.display(),
            args.patched.display()
        );
    }
    // Two single files pair up whatever they are called: both get the patched one's name.
    let label = args
        .patched
        .file_name()
        .map_or_else(|| "input".to_string(), |n| n.to_string_lossy().into_owned());
    let base_objects = objects(&args.base, &label)?;
    let patched_objects = objects(&args.patched, &label)?;
    let (b, p) = (inputs(&base_objects), inputs(&patched_objects));
    if p.is_empty() {
        anyhow::bail!("{}: no COFF objects", args.patched.display());
    }
    let report = compare(&b, &p).map_err(|e| {
        let side = match e.side() {
            Side::Base => &args.base,
            Side::Patched => &args.patched,
        };
        let msg = e.to_string();
        // A single file's objects are named after the patched file: name the real one instead.
        let msg = match msg.strip_prefix(&format!("{label}: ")) {
            Some(rest) if !bdir => rest.to_string(),
            _ => msg,
        };
        anyhow::anyhow!("{}: {msg}", side.display())
    })?;

    let mut list = Vec::new();
    for f in &report.functions {
        list.extend_from_slice(&f.name);
        list.push(b'\n');
    }
    if args.json {
        output::out(serde_json::to_string_pretty(&json(&report))?);
    }
    for r in &report.refusals {
        output::err(format_args!("hotpatch changed: refused: {r}"));
    }
    if !report.refusals.is_empty() {
        output::err(format_args!(
            "hotpatch changed: {} change(s) a hot-patch cannot carry; no list written",
            report.refusals.len()
        ));
        return Ok(ExitCode::from(1));
    }
    match &args.output {
        Some(out) => hotpatch_cl::fsutil::write_atomic(out, &list)
            .with_context(|| format!("{}: cannot write", out.display()))?,
        None if !args.json => {
            use std::io::Write;
            if let Err(e) = std::io::stdout().write_all(&list) {
                output::stdout_failed(&e);
            }
        }
        None => {}
    }
    output::err(format_args!(
        "hotpatch changed: {} function(s) to patch ({} and {} objects compared)",
        report.functions.len(),
        report.objects.0,
        report.objects.1
    ));
    Ok(ExitCode::SUCCESS)
}
