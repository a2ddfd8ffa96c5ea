//! What `hotpatch dump` reports about one object: its `S_HOTPATCHFUNC` records (with the name
//! their function ID resolves to in `.debug$T`), its `__ref_*` symbols and the protection of
//! the section each lives in, and the direct accesses from hot-patched functions to symbols in
//! writable sections (the accesses the `__ref_` redirection should have removed).
//!
//! The JSON form (serde) is documented in `docs/dump-json.md`; fields are only ever added.
//! Does not print; `hotpatch dump` (`src/bin/hotpatch/commands/dump.rs`) does.

use super::hotpatch::{ir_name, scan, Scan};
use super::ids::IdTable;
use super::{Error, Where};
use crate::coff::CoffObject;
use serde::Serialize;
use std::collections::HashMap;

/// The dump of one object.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ObjectDump {
    /// `x86-64`, `x86`, `arm64`, …
    pub machine: String,
    /// Whether the object uses the `/bigobj` header.
    pub bigobj: bool,
    pub hotpatch_functions: Vec<HotPatchFunction>,
    pub ref_symbols: Vec<RefSymbol>,
    pub direct_global_accesses: Vec<DirectAccess>,
}

/// One `S_HOTPATCHFUNC` record.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HotPatchFunction {
    /// The record's name (the IR name of the function).
    pub name: String,
    /// The record's function ID (an `LF_FUNC_ID` / `LF_MFUNC_ID` index).
    pub function_id: u32,
    /// The name of that `LF_FUNC_ID` in `.debug$T`, or `null` if it does not resolve.
    pub function_id_name: Option<String>,
}

/// One symbol whose IR name starts with `__ref_`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RefSymbol {
    /// COFF symbol name (with the x86 underscore).
    pub symbol: String,
    /// `comdat` (an external symbol in a COMDAT section: hotpatch-cl's form for a global that
    /// is not internal), `static` (hotpatch-cl's form for an internal global), `weak external`
    /// (clang 22's form; the section is then the default definition's) or `external`.
    pub kind: String,
    /// Name and 1-based number of the section holding the pointer; `null` if undefined.
    pub section: Option<String>,
    pub section_number: Option<u32>,
    pub readable: bool,
    pub writable: bool,
}

/// A relocation in a hot-patched function's code to a symbol in a writable section.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DirectAccess {
    /// IR name of the hot-patched function.
    pub function: String,
    /// Offset of the relocated field from the function's start.
    pub offset: u32,
    /// The target's COFF symbol name (a section name for section-relative references).
    pub target: String,
    /// Name of the writable section the target lives in.
    pub target_section: String,
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Reads the dump of `data`, a COFF object.
pub fn dump(data: &[u8]) -> Result<ObjectDump, Error> {
    let scan = scan(data)?;
    let obj = &scan.obj;
    let id_names = function_id_names(obj, data)?;
    let hotpatch_functions = scan
        .hotpatch
        .iter()
        .map(|r| HotPatchFunction {
            name: text(&r.name),
            function_id: r.func_id,
            function_id_name: id_names.get(&r.func_id).map(|n| text(n)),
        })
        .collect();
    Ok(ObjectDump {
        machine: obj.machine_name().into(),
        bigobj: obj.bigobj,
        hotpatch_functions,
        ref_symbols: ref_symbols(obj),
        direct_global_accesses: direct_global_accesses(&scan),
    })
}

/// Function ID → name, from the first `.debug$T`.
fn function_id_names(obj: &CoffObject, data: &[u8]) -> Result<HashMap<u32, Vec<u8>>, Error> {
    let mut id_names = HashMap::new();
    if let Some(t) = obj.sections.iter().find(|s| s.name == b".debug$T") {
        let w = Where {
            section: t.number,
            name: &t.name,
        };
        let bytes = t.data(data)?;
        let table = IdTable::parse_section(bytes).map_err(|m| w.malformed(m))?;
        for (index, _) in table.iter() {
            if let Some(f) = table.func_id(bytes, index) {
                id_names.insert(index, f.name.to_vec());
            }
        }
    }
    Ok(id_names)
}

/// Every symbol whose IR name starts with `__ref_`, with the form it takes and the section
/// that holds the pointer.
fn ref_symbols(obj: &CoffObject) -> Vec<RefSymbol> {
    let mut ref_symbols = Vec::new();
    for s in obj.iter_symbols() {
        if !ir_name(obj.machine, &s.name).starts_with(b"__ref_") {
            continue;
        }
        let (kind, home) = match s.weak_default {
            Some(d) => ("weak external", obj.symbol(d)),
            None if s.storage_class == object::pe::IMAGE_SYM_CLASS_STATIC.0 => ("static", Some(s)),
            None if s
                .defined_in()
                .and_then(|n| obj.section(n))
                .is_some_and(|sec| sec.is_comdat()) =>
            {
                ("comdat", Some(s))
            }
            None => ("external", Some(s)),
        };
        let section = home
            .and_then(|h| h.defined_in())
            .and_then(|n| obj.section(n));
        ref_symbols.push(RefSymbol {
            symbol: text(&s.name),
            kind: kind.into(),
            section: section.map(|sec| text(&sec.name)),
            section_number: section.map(|sec| sec.number),
            readable: section.is_some_and(|sec| sec.is_readable()),
            writable: section.is_some_and(|sec| sec.is_writable()),
        });
    }
    ref_symbols
}

/// The relocations in hot-patched functions' code to symbols in writable sections.
fn direct_global_accesses(scan: &Scan) -> Vec<DirectAccess> {
    let obj = &scan.obj;
    let mut direct_global_accesses = Vec::new();
    for (p, reloc) in scan.hotpatched_code_relocations() {
        let Some(target) = obj.symbol(reloc.symbol) else {
            continue;
        };
        let Some(home) = target.defined_in().and_then(|n| obj.section(n)) else {
            continue;
        };
        if home.is_writable() {
            direct_global_accesses.push(DirectAccess {
                function: text(&p.ir_name),
                offset: reloc.offset - p.offset,
                target: text(&target.name),
                target_section: text(&home.name),
            });
        }
    }
    direct_global_accesses
}
