//! `hotpatch rewrite`: mark functions and redirect their global accesses in an `.ll` file.
//!
//! Reads the IR (a file or `-` for stdin), builds the function list from every
//! `--ms-[secure-]hotpatch-functions-{file,list}` flag, runs [`hotpatch_cl::ir`] and writes the
//! result atomically (a file, or `-`/nothing for stdout). Errors name the input file and
//! the IR line:col; the output file is never created on error. Objects compiled from the
//! output carry writable `__ref_` COMDATs until `hotpatch seal` (or `hotpatch inject`) runs on
//! them: the object step of hotpatch-cl's own pipeline (docs/differences-from-clang22.md, item 2).

use crate::output;
use anyhow::anyhow;
use hotpatch_cl::fsutil::io_message;
use hotpatch_cl::hotlist::HotList;
use hotpatch_cl::ir::{self, optout::AllowDirect};
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
    /// Comma-separated global variables (IR names) that keep direct access (repeatable).
    #[arg(long = "allow-direct-list", value_name = "LIST")]
    pub allow_direct_list: Vec<String>,
    /// File with one global variable (IR name) per line that keeps direct access (repeatable).
    #[arg(long = "allow-direct-file", value_name = "FILE")]
    pub allow_direct_file: Vec<PathBuf>,
}

fn is_dash(p: &std::path::Path) -> bool {
    p.as_os_str() == "-"
}

/// Runs `hotpatch rewrite`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let list = HotList::from_flags(&args.functions_file, &args.functions_list)?;
    for w in list.warnings() {
        output::warning(w);
    }
    let name = args.input.display().to_string();
    let input = if is_dash(&args.input) {
        let mut v = Vec::new();
        std::io::stdin()
            .read_to_end(&mut v)
            .map_err(|e| anyhow!("<stdin>: cannot read: {}", io_message(&e)))?;
        v
    } else {
        std::fs::read(&args.input)
            .map_err(|e| anyhow!("{name}: cannot read: {}", io_message(&e)))?
    };
    let allow_direct = AllowDirect::from_flags(&args.allow_direct_file, &args.allow_direct_list)?;
    let options = ir::Options {
        mark_only: args.mark_only,
        allow_direct,
    };
    let plan = ir::plan(&input, &list, &options).map_err(|e| anyhow::anyhow!("{name}:{e}"))?;
    for w in &plan.report.warnings {
        output::warning(format_args!("{name}: {w}"));
    }
    if args.verbose {
        for f in &plan.report.marked {
            err!("hotpatch: marked {}", String::from_utf8_lossy(f));
        }
        for (f, g) in &plan.report.redirected {
            err!(
                "hotpatch: redirected {} in {}",
                String::from_utf8_lossy(g),
                String::from_utf8_lossy(f)
            );
        }
    }
    match args.output.as_deref() {
        Some(p) if !is_dash(p) => {
            hotpatch_cl::fsutil::write_atomic_with(p, |w| plan.write_to(&input, w))
                .map_err(|e| anyhow!("{}: cannot write: {}", p.display(), io_message(&e)))?
        }
        _ => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
            if let Err(e) = plan.write_to(&input, &mut w).and_then(|()| w.flush()) {
                output::stdout_failed(&e);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
