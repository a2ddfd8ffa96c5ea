//! CodeView records in COFF `.debug$S` / `.debug$T` sections: framing, lookup, injection.
//!
//! - This file: the `.debug$S` framing (4-byte signature, then subsections of `u32` type and
//!   `u32` length, each padded to 4) and a symbol-record walker. Both validate every length and
//!   report the section and offset of the first bad byte: ms-codeview's `SymIter` and
//!   ms-pdb's `SubsectionIter` simply stop on bad data, and `SymIterMut` panics on it, so
//!   records are only handed to ms-codeview's parsers (`Sym::parse_as::<Proc>()`,
//!   `FuncId`) after this walker has checked their framing.
//! - [`hotpatch`]: the `S_HOTPATCHFUNC` encoder and [`inject`].
//! - [`dump`]: what `hotpatch dump` shows.
//!
//! Does not read or write COFF structures itself; that is [`crate::coff`].
//!
//! References: LLVM `CodeViewDebug.cpp` (`endModule`, `emitSecureHotPatchInformation`),
//! `cvinfo.h`, and the measured clang 22 behaviour in docs/clang22-facts.md
//! ("The `S_HOTPATCHFUNC` record").

pub mod dump;
pub mod hotpatch;

pub use hotpatch::inject;

use crate::coff;

/// `.debug$S` / `.debug$T` start with this signature (`CV_SIGNATURE_C13`).
pub const DEBUG_SECTION_MAGIC: u32 = 4;
/// Subsection type of symbol records (`DEBUG_S_SYMBOLS`).
pub const DEBUG_S_SYMBOLS: u32 = 0xF1;

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
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// The COFF structures themselves are bad.
    #[error(transparent)]
    Coff(#[from] coff::Error),
    /// A CodeView structure is bad. `section` is 1-based, `offset` relative to its data.
    #[error("section {section} ({name}) offset {offset:#x}: {what}")]
    Malformed {
        section: u32,
        name: String,
        offset: usize,
        what: String,
    },
    /// Records must be written but the object has no non-COMDAT `.debug$S` to hold them.
    #[error("the object has procedure records but no non-COMDAT .debug$S section")]
    NoDebugSection,
}

/// A position in a section, for error messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Where<'a> {
    pub section: u32,
    pub name: &'a [u8],
}

impl Where<'_> {
    pub(crate) fn err(&self, offset: usize, what: impl Into<String>) -> Error {
        Error::Malformed {
            section: self.section,
            name: String::from_utf8_lossy(self.name).into_owned(),
            offset,
            what: what.into(),
        }
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    coff::read_u32(b, at)
}

/// One subsection of a `.debug$S` section. Offsets are relative to the section data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subsection {
    /// `DEBUG_S_*` type (0xF1 symbols, 0xF2 lines, …), without the ignore bit cleared.
    pub kind: u32,
    /// Offset of the 8-byte header.
    pub start: usize,
    /// Range of the payload.
    pub data: (usize, usize),
    /// Offset after the payload and its padding to 4: where the next subsection begins.
    pub end: usize,
}

/// Splits `.debug$S` data into subsections, checking the signature and every length.
pub(crate) fn subsections(data: &[u8], w: Where) -> Result<Vec<Subsection>, Error> {
    if data.is_empty() {
        return Ok(Vec::new());
    }
    let magic = u32_at(data, 0).ok_or_else(|| w.err(0, "truncated CodeView signature"))?;
    if magic != DEBUG_SECTION_MAGIC {
        return Err(w.err(0, format!("CodeView signature is {magic}, expected 4")));
    }
    let mut out = Vec::new();
    let mut at = 4usize;
    while at < data.len() {
        let (Some(kind), Some(len)) = (u32_at(data, at), u32_at(data, at + 4)) else {
            return Err(w.err(at, "truncated subsection header"));
        };
        let start = at + 8;
        let end = usize::try_from(len)
            .ok()
            .and_then(|l| start.checked_add(l))
            .filter(|&e| e <= data.len())
            .ok_or_else(|| {
                w.err(
                    at,
                    format!("subsection length {len:#x} runs past the section end"),
                )
            })?;
        let padded = end
            .checked_add(3)
            .map(|e| e & !3)
            .unwrap_or(end)
            .min(data.len());
        out.push(Subsection {
            kind,
            start: at,
            data: (start, end),
            end: padded,
        });
        at = padded;
    }
    Ok(out)
}

/// One symbol record. Offsets are relative to the section data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SymRecord {
    pub kind: u16,
    /// Offset of the record's `u16` length field.
    pub start: usize,
    /// Range of the payload (after the kind).
    pub data: (usize, usize),
}

/// Walks the symbol records of a Symbols subsection, checking every record length.
pub(crate) fn symbol_records(
    data: &[u8],
    sub: &Subsection,
    w: Where,
) -> Result<Vec<SymRecord>, Error> {
    let (mut at, end) = sub.data;
    let mut out = Vec::new();
    while at < end {
        let len = u16_at(data, at)
            .filter(|_| at + 4 <= end)
            .ok_or_else(|| w.err(at, "truncated symbol record header"))?;
        if len < 2 {
            return Err(w.err(at, format!("symbol record length {len} is too short")));
        }
        let rec_end = at + 2 + usize::from(len);
        if rec_end > end {
            return Err(w.err(
                at,
                format!("symbol record length {len:#x} runs past its subsection"),
            ));
        }
        let kind = u16_at(data, at + 2).ok_or_else(|| w.err(at, "truncated symbol record"))?;
        out.push(SymRecord {
            kind,
            start: at,
            data: (at + 4, rec_end),
        });
        at = rec_end;
    }
    Ok(out)
}

/// One type record of `.debug$T`: its leaf kind and payload range in the section data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeRecord {
    pub kind: u16,
    pub data: (usize, usize),
}

/// Walks the type records of `.debug$T` data; the first one has type index 0x1000.
pub(crate) fn type_records(data: &[u8], w: Where) -> Result<Vec<TypeRecord>, Error> {
    if data.is_empty() {
        return Ok(Vec::new());
    }
    let magic = u32_at(data, 0).ok_or_else(|| w.err(0, "truncated CodeView signature"))?;
    if magic != DEBUG_SECTION_MAGIC {
        return Err(w.err(0, format!("CodeView signature is {magic}, expected 4")));
    }
    let mut at = 4;
    let mut out = Vec::new();
    while at < data.len() {
        let len = u16_at(data, at).ok_or_else(|| w.err(at, "truncated type record header"))?;
        let end = at + 2 + usize::from(len);
        if len < 2 || end > data.len() {
            return Err(w.err(at, format!("type record length {len:#x} is invalid")));
        }
        let kind = u16_at(data, at + 2).ok_or_else(|| w.err(at, "truncated type record"))?;
        out.push(TypeRecord {
            kind,
            data: (at + 4, end),
        });
        at = end;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: Where = Where {
        section: 3,
        name: b".debug$S",
    };

    #[test]
    #[rustfmt::skip]
    fn framing_walks_subsections_and_padding() {
        let data: &[u8] = &[
            /* 0x00 */ 4, 0, 0, 0,                 // signature
            /* 0x04 */ 0xF1, 0, 0, 0, 6, 0, 0, 0,  // Symbols, 6 bytes
            /* 0x0c */ 4, 0, 0x06, 0x11, 0, 0,     // S_END (len 4? no: len 4 covers kind + 2)
            /* 0x12 */ 0, 0,                       // padding to 4
            /* 0x14 */ 0xF3, 0, 0, 0, 1, 0, 0, 0,  // string table, 1 byte
            /* 0x1c */ 0, 0, 0, 0,                 // payload + padding
        ];
        let subs = subsections(data, W).unwrap();
        assert_eq!(subs.len(), 2);
        assert_eq!(subs[0], Subsection { kind: 0xF1, start: 4, data: (12, 18), end: 20 });
        assert_eq!(subs[1].end, 32);
        let recs = symbol_records(data, &subs[0], W).unwrap();
        assert_eq!(recs, [SymRecord { kind: 0x1106, start: 12, data: (16, 18) }]);
    }

    #[test]
    fn truncation_is_reported_with_section_and_offset() {
        let data = [4u8, 0, 0, 0, 0xF1, 0, 0, 0, 0x40, 0, 0, 0, 1];
        let e = subsections(&data, W).unwrap_err();
        assert_eq!(
            e.to_string(),
            "section 3 (.debug$S) offset 0x4: subsection length 0x40 runs past the section end"
        );
        let e = subsections(&[5, 0, 0, 0], W).unwrap_err();
        assert!(e.to_string().contains("signature is 5"), "{e}");
    }

    #[test]
    fn short_symbol_records_are_errors() {
        let data = [4u8, 0, 0, 0, 0xF1, 0, 0, 0, 4, 0, 0, 0, 9, 0, 0x06, 0x11];
        let subs = subsections(&data, W).unwrap();
        let e = symbol_records(&data, &subs[0], W).unwrap_err();
        assert!(e.to_string().contains("offset 0xc"), "{e}");
    }
}
