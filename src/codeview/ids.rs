//! Indexed type and ID records: an object's `.debug$T`, a PDB's ID (IPI) stream. Record `i` of
//! either has index `0x1000 + i`; the function IDs (`LF_FUNC_ID`, `LF_MFUNC_ID`) and string IDs
//! (`LF_STRING_ID`) in them are read with ms-codeview's parsers once [`super::records`] has
//! checked every record's bounds.

use super::{records, Malformed, Record};
use ms_codeview::parser::Parser;
use ms_codeview::types::{FuncId, Leaf, MFuncId, StringId, TypeIndex};
use std::ops::Range;

/// The first index of a type or ID stream (indices below it are built-in types).
pub const FIRST_INDEX: u32 = TypeIndex::MIN_BEGIN.0;

/// A function ID: an `LF_FUNC_ID` or `LF_MFUNC_ID` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuncRef<'a> {
    /// `Leaf::LF_FUNC_ID` or `Leaf::LF_MFUNC_ID`.
    pub kind: Leaf,
    /// `LF_FUNC_ID`: scope (an ID index, 0 for none); `LF_MFUNC_ID`: the class (a type index).
    pub scope: u32,
    /// The function type (a type index).
    pub ty: u32,
    pub name: &'a [u8],
}

/// The function ID in the payload of a record of kind `kind`, if it is one.
pub fn func_id(kind: u16, payload: &[u8]) -> Option<FuncRef<'_>> {
    let mut p = Parser::new(payload);
    match Leaf(kind) {
        Leaf::LF_FUNC_ID => p.parse::<FuncId>().ok().map(|f| FuncRef {
            kind: Leaf::LF_FUNC_ID,
            scope: f.fixed.scope.get(),
            ty: f.fixed.func_type.get().0,
            name: f.name,
        }),
        Leaf::LF_MFUNC_ID => p.parse::<MFuncId>().ok().map(|f| FuncRef {
            kind: Leaf::LF_MFUNC_ID,
            scope: f.fixed.parent_type.get().0,
            ty: f.fixed.func_type.get().0,
            name: f.name,
        }),
        _ => None,
    }
}

/// An indexed stream of type or ID records.
#[derive(Debug, Default)]
pub struct IdTable {
    pub records: Vec<Record>,
}

impl IdTable {
    /// Walks the records of `data[range]`, whose first record has index `first` (it must be
    /// 0x1000: objects and PDBs never start elsewhere).
    pub fn parse(data: &[u8], range: Range<usize>, first: u32) -> Result<Self, Malformed> {
        if first != FIRST_INDEX {
            return Err(Malformed {
                offset: 0,
                what: "type stream does not start at index 0x1000",
            });
        }
        Ok(Self {
            records: records(data, range, false)?,
        })
    }

    /// The records of a `.debug$T` section's data (signature checked).
    pub fn parse_section(data: &[u8]) -> Result<Self, Malformed> {
        if data.is_empty() {
            return Ok(Self::default());
        }
        super::check_signature(data)?;
        Self::parse(data, 4..data.len(), FIRST_INDEX)
    }

    pub fn get(&self, index: u32) -> Option<&Record> {
        let i = index.checked_sub(FIRST_INDEX)?;
        self.records.get(usize::try_from(i).ok()?)
    }

    /// `(index, record)` of every record.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Record)> {
        (FIRST_INDEX..).zip(&self.records)
    }

    /// The function ID at `index`.
    pub fn func_id<'a>(&self, data: &'a [u8], index: u32) -> Option<FuncRef<'a>> {
        let r = self.get(index)?;
        func_id(r.kind, r.payload(data))
    }

    /// The text of the `LF_STRING_ID` at `index`.
    pub fn string_id<'a>(&self, data: &'a [u8], index: u32) -> Option<&'a [u8]> {
        let r = self.get(index)?;
        if Leaf(r.kind) != Leaf::LF_STRING_ID {
            return None;
        }
        Parser::new(r.payload(data))
            .parse::<StringId>()
            .ok()
            .map(|s| -> &[u8] { s.name })
    }
}
