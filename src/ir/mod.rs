//! LLVM IR text: mark hot-patched functions and redirect their global accesses.
//!
//! (Being built: see issue 2. The signatures below are the contract the driver uses.)

use crate::hotlist::HotList;

/// How to rewrite.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only add the `"marked_for_windows_hot_patching"` attribute (what `-emit-llvm`
    /// output gets); no `__ref_` redirect.
    pub mark_only: bool,
}

/// What a rewrite did, for `-v` output and for the driver.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// IR names (unquoted, unescaped bytes) of the functions marked, in module order.
    pub marked: Vec<Vec<u8>>,
    /// `(function, global)` IR names of every redirected access, one per pair.
    pub redirected: Vec<(Vec<u8>, Vec<u8>)>,
    /// Warnings for the user (one line each, no prefix).
    pub warnings: Vec<String>,
}

/// The rewritten module and what was done to it.
#[derive(Debug, Clone)]
pub struct Rewritten {
    pub text: Vec<u8>,
    pub report: Report,
}

/// Errors of the IR layer. `Display` starts with `LINE:COL: ` where a position is known;
/// the caller prefixes the file name.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the IR engine is not built yet")]
    Unimplemented,
}

/// Marks the functions of `functions` (and those already marked) in `input`, and unless
/// `options.mark_only`, redirects their global accesses through `__ref_*` pointers.
pub fn rewrite(input: &[u8], functions: &HotList, options: &Options) -> Result<Rewritten, Error> {
    let _ = (input, functions, options);
    Err(Error::Unimplemented)
}
