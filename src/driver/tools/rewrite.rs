//! `hotpatch rewrite`: mark functions and redirect their global accesses in an `.ll` file.
//!
//! Reads the IR (a file or `-` for stdin), builds the function list from every
//! `--ms-[secure-]hotpatch-functions-{file,list}` flag, runs [`crate::ir`] and writes the
//! result atomically (a file, or `-`/nothing for stdout). Errors name the input file and
//! the IR line:col; the output file is never created on error.

use crate::hotlist::HotList;
use crate::ir;
use anyhow::Context;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `hotpatch rewrite`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Input IR (`.ll`), or `-` for stdin.
    pub input: PathBuf,
    /// Output IR, or `-` for stdout (the default).
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
    /// Only add the "marked_for_windows_hot_patching" attribute (for clang 21+ code
    /// generation or `-emit-llvm` output); no redirect.
    #[arg(long)]
    pub mark_only: bool,
    /// Print the marked functions and the redirected globals to stderr.
    #[arg(short, long)]
    pub verbose: bool,
    /// File with one mangled function name per line (repeatable).
    #[arg(
        long = "ms-hotpatch-functions-file",
        alias = "ms-secure-hotpatch-functions-file",
        value_name = "FILE"
    )]
    pub functions_file: Vec<PathBuf>,
    /// Comma-separated mangled function names (repeatable).
    #[arg(
        long = "ms-hotpatch-functions-list",
        alias = "ms-secure-hotpatch-functions-list",
        value_name = "LIST"
    )]
    pub functions_list: Vec<String>,
}

fn is_dash(p: &std::path::Path) -> bool {
    p.as_os_str() == "-"
}

/// Runs `hotpatch rewrite`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut list = HotList::new();
    for f in &args.functions_file {
        list.add_file(f)?;
    }
    for l in &args.functions_list {
        list.add_list(l);
    }
    for w in list.warnings() {
        eprintln!("hotpatch: warning: {w}");
    }
    let name = args.input.display().to_string();
    let input = if is_dash(&args.input) {
        let mut v = Vec::new();
        std::io::stdin()
            .read_to_end(&mut v)
            .context("cannot read stdin")?;
        v
    } else {
        std::fs::read(&args.input).with_context(|| format!("cannot read {name}"))?
    };
    let options = ir::Options {
        mark_only: args.mark_only,
    };
    let plan = ir::plan(&input, &list, &options).map_err(|e| anyhow::anyhow!("{name}:{e}"))?;
    for w in &plan.report.warnings {
        eprintln!("hotpatch: warning: {name}: {w}");
    }
    if args.verbose {
        for f in &plan.report.marked {
            eprintln!("hotpatch: marked {}", String::from_utf8_lossy(f));
        }
        for (f, g) in &plan.report.redirected {
            eprintln!(
                "hotpatch: redirected {} in {}",
                String::from_utf8_lossy(g),
                String::from_utf8_lossy(f)
            );
        }
    }
    match args.output.as_deref() {
        Some(p) if !is_dash(p) => crate::fsutil::write_atomic_with(p, |w| plan.write_to(&input, w))
            .with_context(|| format!("cannot write {}", p.display()))?,
        _ => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
            plan.write_to(&input, &mut w)
                .and_then(|()| w.flush())
                .context("cannot write stdout")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
