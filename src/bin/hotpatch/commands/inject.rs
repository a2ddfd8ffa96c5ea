//! `hotpatch inject`: add `S_HOTPATCHFUNC` records to a COFF object and make its `__ref_`
//! pointers read-only, in place or to `-o`.
//!
//! A thin layer over [`hotpatch_cl::codeview::inject`] and [`hotpatch_cl::coff::seal`] (the
//! object step of hotpatch-cl's pipeline, for code generation run by hand on `hotpatch
//! rewrite` output); the output is written atomically
//! ([`hotpatch_cl::fsutil::write_atomic`]), so a failure leaves the destination as it was.

use crate::output;
use anyhow::Context;
use hotpatch_cl::codeview;
use hotpatch_cl::coff::seal;
use hotpatch_cl::fsutil::io_message;
use hotpatch_cl::hotlist::HotList;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `hotpatch inject`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The COFF object to patch.
    pub object: PathBuf,
    /// Where to write the result (default: replace OBJ).
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Say which listed functions got records and why the others did not.
    #[arg(short, long)]
    pub verbose: bool,
    /// Comma-separated mangled (IR) names of the hot-patched functions; repeatable.
    #[arg(long = "functions", value_name = "A,B")]
    pub functions: Vec<String>,
    /// File with one mangled name per line; repeatable.
    #[arg(long = "functions-file", value_name = "FILE")]
    pub functions_file: Vec<PathBuf>,
}

/// Runs `hotpatch inject`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let list = HotList::from_flags(&args.functions_file, &args.functions)?;
    for w in list.warnings() {
        output::warning(w);
    }
    if list.is_empty() {
        anyhow::bail!("no functions given: use --functions=A,B or --functions-file=FILE");
    }
    let obj = &args.object;
    let data = std::fs::read(obj)
        .map_err(|e| anyhow::anyhow!("{}: cannot read: {}", obj.display(), io_message(&e)))?;
    let injected = codeview::inject(&data, &list).with_context(|| format!("{}", obj.display()))?;
    let sealed = seal::seal(&injected.bytes).with_context(|| format!("{}", obj.display()))?;
    let dest = args.output.as_ref().unwrap_or(obj);
    if args.output.is_some() || sealed.bytes != data {
        hotpatch_cl::fsutil::write_atomic(dest, &sealed.bytes)
            .map_err(|e| anyhow::anyhow!("{}: cannot write: {}", dest.display(), io_message(&e)))?;
    }
    if args.verbose {
        let r = &injected.report;
        let show = |what: &str, names: &[Vec<u8>]| {
            for n in names {
                err!(
                    "hotpatch: {}: {what}: {}",
                    obj.display(),
                    String::from_utf8_lossy(n)
                );
            }
        };
        show("recorded", &r.recorded);
        show(
            "defined without CodeView debug info, skipped",
            &r.no_debug_info,
        );
        show("not defined in this object, skipped", &r.not_defined);
        let newly: Vec<Vec<u8>> = sealed.newly_sealed().map(<[u8]>::to_vec).collect();
        show("sealed (made read-only)", &newly);
    }
    Ok(ExitCode::SUCCESS)
}
