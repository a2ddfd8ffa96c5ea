//! CodeView records in `.debug$S`: framing, `S_HOTPATCHFUNC` encoding and lookup.
//!
//! (Being built: see issue 3. The signatures below are the contract the driver uses.)

use crate::hotlist::HotList;

/// What an injection did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InjectReport {
    /// Names that got an `S_HOTPATCHFUNC` record (or already had one), in object order.
    pub recorded: Vec<Vec<u8>>,
    /// Names defined in the object but without CodeView procedure records.
    pub no_debug_info: Vec<Vec<u8>>,
    /// Names of the list that the object does not define.
    pub not_defined: Vec<Vec<u8>>,
}

/// The patched object and the report.
#[derive(Debug, Clone)]
pub struct Injected {
    pub bytes: Vec<u8>,
    pub report: InjectReport,
}

/// Errors of the CodeView layer; `Display` names the section and offset where known.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the CodeView injection is not built yet")]
    Unimplemented,
}

/// Adds an `S_HOTPATCHFUNC` record for every function of `functions` that `object`
/// (a COFF object file's bytes) defines with CodeView debug info, exactly where clang 22
/// puts them. Idempotent.
pub fn inject(object: &[u8], functions: &HotList) -> Result<Injected, Error> {
    let _ = (object, functions);
    Err(Error::Unimplemented)
}
