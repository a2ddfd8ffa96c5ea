//! LLVM IR text: mark hot-patched functions and redirect their global accesses.
//!
//! (Being built: see issue 2.)

/// Errors of the IR layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not implemented yet")]
    Unimplemented,
}
