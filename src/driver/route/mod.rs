//! Exact routing: which translation units need the rewrite pipeline.
//!
//! A translation unit whose object defines none of the listed functions is compiled exactly
//! as without hot-patching (one plain compiler run, the same bytes); one that defines a
//! listed function takes the pipeline. The deciding fact is the object itself: the names
//! of its COFF symbol table that are functions defined in a section, static ones and
//! COMDATs included (C++ inline and template functions from headers, compiler-generated
//! ones), read back to their IR spelling (x86's `_`, `\x01` decorated names; see
//! [`crate::codeview::hotpatch::ir_name`]). Nothing is guessed from source text.
//!
//! Before the object exists the wrapper takes a hint, never trusted without a check of the
//! final object, cheapest first: the object already at the output path (an incremental
//! rebuild); the source file's own text (`source_hint.rs`: a listed name in the shape of a
//! definition, or not there at all); else a probe of the front end's unoptimized IR, which
//! defines a superset of what the object will (optimization only removes functions). A list entry that names nothing but is the
//! qualified name of a defined C++ function (`S::f`) also counts, so the rewrite can say
//! which mangled name was meant.
//!
//! Not here: running compilers (`exec/pipeline.rs`), reading COFF (`crate::coff`).

pub mod source_hint;

use crate::coff::CoffObject;
use crate::hotlist::HotList;
use std::collections::BTreeSet;
use std::path::Path;

/// The question "does this translation unit need the pipeline", for one function set.
pub struct Router<'a> {
    functions: &'a HotList,
    /// Entries that are not MSVC-mangled (`measure`, `S::f`): a defined `?…` function
    /// whose qualified name is one of these also needs the pipeline (for its hint).
    unmangled: BTreeSet<&'a [u8]>,
}

impl<'a> Router<'a> {
    pub fn new(functions: &'a HotList) -> Self {
        Router {
            functions,
            unmangled: functions.iter().filter(|n| !n.starts_with(b"?")).collect(),
        }
    }

    /// Whether a unit defining the functions `defined` (IR spellings) needs the pipeline.
    pub fn wants<'n>(&self, defined: impl IntoIterator<Item = &'n [u8]>) -> bool {
        defined.into_iter().any(|name| {
            self.functions.contains(name)
                || (name.starts_with(b"?")
                    && !self.unmangled.is_empty()
                    && crate::names::qualified_name(name)
                        .is_some_and(|q| self.unmangled.contains(q.as_bytes())))
        })
    }

    /// Whether the COFF object `bytes` defines a listed function.
    pub fn object_wants(&self, bytes: &[u8]) -> Result<bool, crate::coff::Error> {
        let obj = CoffObject::parse(bytes)?;
        let machine = obj.machine;
        Ok(self.wants(
            obj.defined_functions()
                .map(|n| crate::codeview::hotpatch::ir_name(machine, n))
                .collect::<Vec<_>>()
                .iter()
                .map(|n| n.as_ref()),
        ))
    }

    /// [`Router::object_wants`] for the file at `path`; the error names the file.
    pub fn file_wants(&self, path: &Path) -> anyhow::Result<bool> {
        let bytes = std::fs::read(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        self.object_wants(&bytes)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    /// The hint of an object left at `path` by an earlier build: `None` when there is none
    /// or it is not a COFF object.
    pub fn hint_from_existing(&self, path: &Path) -> Option<bool> {
        let bytes = std::fs::read(path).ok()?;
        self.object_wants(&bytes).ok()
    }

    /// Whether the module `ir` (text) defines a listed function.
    pub fn ir_wants(&self, ir: &[u8]) -> bool {
        let names = crate::ir::defined::defined_functions(ir);
        self.wants(names.iter().map(Vec::as_slice))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_names_and_qualified_names_of_cxx_functions_route_to_the_pipeline() {
        let list: HotList = ["f", "S::g", "?h@@YAXXZ"].into_iter().collect();
        let r = Router::new(&list);
        assert!(r.wants([&b"f"[..]]));
        assert!(r.wants([&b"?h@@YAXXZ"[..]]));
        assert!(r.wants([&b"?g@S@@QEAAHH@Z"[..]]), "the rewrite hints at it");
        assert!(!r.wants([&b"ff"[..], b"?h@@YAHXZ", b"_f"]));
        let mangled_only: HotList = ["?h@@YAXXZ"].into_iter().collect();
        assert!(!Router::new(&mangled_only).wants([&b"?g@S@@QEAAHH@Z"[..]]));
    }
}
