//! CodeView: the one layer that reads and writes CodeView records, for objects (`.debug$S`,
//! `.debug$T`) and PDBs (module symbols, the ID stream) alike.
//!
//! - This file: the checked framing. [`for_each_record`] is the one record walker (symbols and
//!   types, in objects and PDB streams), [`subsections`] splits `.debug$S`. Both validate every
//!   length and report the offset of the first bad byte ([`Malformed`]; [`Error`] adds the
//!   section): ms-codeview's `SymIter` and ms-pdb's `SubsectionIter` simply stop on bad data,
//!   and `SymIterMut` panics on it, so records are only handed to ms-codeview's parsers
//!   (`Sym::parse_as::<Proc>()`, `FuncId`, `StringId`) after this walker has checked their
//!   framing. Record and leaf kinds are ms-codeview's `SymKind` and `Leaf`.
//! - [`hotpatch`]: the `S_HOTPATCHFUNC` encoder, [`hotpatch::scan`] (what an object's CodeView
//!   holds) and [`inject`].
//! - [`ids`]: indexed type and ID records and the function IDs in them.
//! - [`dump`]: what `hotpatch dump` shows.
//!
//! Does not read or write COFF structures itself; that is [`crate::coff`]. PDB containers and
//! streams are [`crate::pdb`]'s.
//!
//! References: LLVM `CodeViewDebug.cpp` (`endModule`, `emitSecureHotPatchInformation`),
//! `cvinfo.h`, and the measured clang 22 behaviour in docs/clang22-facts.md
//! ("The `S_HOTPATCHFUNC` record").

pub mod dump;
pub mod hotpatch;
pub mod ids;

pub use hotpatch::inject;

use crate::coff;
use ms_codeview::syms::{Sym, SymKind};
use std::ops::Range;

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

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    coff::read_u32(b, at)
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

/// A record whose length or framing is invalid, at a byte offset of the buffer walked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// Byte offset of the bad record or subsection, from the start of the buffer.
    pub offset: usize,
    /// What was wrong.
    pub what: &'static str,
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at offset {:#x}", self.what, self.offset)
    }
}

impl Where<'_> {
    /// The error for a [`Malformed`] found in this section's data.
    pub(crate) fn malformed(&self, m: Malformed) -> Error {
        self.err(m.offset, m.what)
    }
}

/// One symbol or type record: `u16` length (counting what follows it), `u16` kind, payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub kind: u16,
    /// The whole record in the walked buffer, the length and kind fields included.
    pub range: Range<usize>,
}

impl Record {
    /// The bytes after the kind field.
    pub fn payload<'a>(&self, data: &'a [u8]) -> &'a [u8] {
        data.get(self.range.start + 4..self.range.end)
            .unwrap_or_default()
    }

    /// The record as ms-codeview's symbol view, for its parsers (`parse_as::<Proc>()`): only
    /// records this walker has bounds-checked reach them.
    pub fn sym<'a>(&self, data: &'a [u8]) -> Sym<'a> {
        Sym {
            kind: SymKind(self.kind),
            data: self.payload(data),
        }
    }
}

/// The one checked record walker, for every CodeView record stream: the symbols of a `.debug$S`
/// subsection, the type and ID records of `.debug$T`, a PDB module's symbols and its ID stream.
/// Walks `data[range]`; every record must fit in it, and with `align4` also be a multiple of 4
/// long (PDB module symbols are). `visit` sees each record once its bounds are checked; the
/// first malformed one ends the walk with its offset (ms-codeview's iterators stop silently, or
/// panic in `SymIterMut`, on such data).
pub fn for_each_record(
    data: &[u8],
    range: Range<usize>,
    align4: bool,
    mut visit: impl FnMut(Record),
) -> Result<(), Malformed> {
    let bad = |offset, what| Err(Malformed { offset, what });
    let end = range.end.min(data.len());
    let mut at = range.start;
    while at < end {
        let (Some(len), Some(kind)) = (
            u16_at(data, at).filter(|_| at + 4 <= end),
            u16_at(data, at + 2),
        ) else {
            return bad(at, "truncated record header");
        };
        let len = usize::from(len);
        if len < 2 {
            return bad(at, "record length below 2");
        }
        let rec_end = at + 2 + len;
        if rec_end > end {
            return bad(at, "record runs past the end of its subsection or stream");
        }
        if align4 && (2 + len) % 4 != 0 {
            return bad(at, "record size is not a multiple of 4");
        }
        visit(Record {
            kind,
            range: at..rec_end,
        });
        at = rec_end;
    }
    Ok(())
}

/// [`for_each_record`], collected.
pub fn records(data: &[u8], range: Range<usize>, align4: bool) -> Result<Vec<Record>, Malformed> {
    let mut out = Vec::new();
    for_each_record(data, range, align4, |r| out.push(r))?;
    Ok(out)
}

/// Checks the `CV_SIGNATURE_C13` that starts `.debug$S`, `.debug$T` and a PDB module's symbols.
pub fn check_signature(data: &[u8]) -> Result<(), Malformed> {
    match u32_at(data, 0) {
        Some(DEBUG_SECTION_MAGIC) => Ok(()),
        Some(_) => Err(Malformed {
            offset: 0,
            what: "the CodeView signature is not 4 (C13)",
        }),
        None => Err(Malformed {
            offset: 0,
            what: "truncated CodeView signature",
        }),
    }
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

impl Subsection {
    /// The payload range.
    pub fn body(&self) -> Range<usize> {
        self.data.0..self.data.1
    }
}

/// Splits `.debug$S` data into subsections, checking the signature and every length.
pub fn subsections(data: &[u8]) -> Result<Vec<Subsection>, Malformed> {
    if data.is_empty() {
        return Ok(Vec::new());
    }
    check_signature(data)?;
    let mut out = Vec::new();
    let mut at = 4usize;
    while at < data.len() {
        let (Some(kind), Some(len)) = (u32_at(data, at), u32_at(data, at + 4)) else {
            return Err(Malformed {
                offset: at,
                what: "truncated subsection header",
            });
        };
        let start = at + 8;
        let end = usize::try_from(len)
            .ok()
            .and_then(|l| start.checked_add(l))
            .filter(|&e| e <= data.len())
            .ok_or(Malformed {
                offset: at,
                what: "subsection runs past the end of the section",
            })?;
        // Subsections are padded to 4 bytes; the padding is not counted in their length.
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

/// The symbol records of one Symbols subsection of `data`.
pub fn symbol_records(data: &[u8], sub: &Subsection) -> Result<Vec<Record>, Malformed> {
    records(data, sub.body(), false)
}

/// Every symbol record of a `.debug$S` section, subsection by subsection, in order.
pub fn section_symbols(data: &[u8]) -> Result<Vec<Record>, Malformed> {
    let mut out = Vec::new();
    for sub in subsections(data)?
        .iter()
        .filter(|s| s.kind == DEBUG_S_SYMBOLS)
    {
        for_each_record(data, sub.body(), false, |r| out.push(r))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[rustfmt::skip]
    fn framing_walks_subsections_and_padding() {
        let data: &[u8] = &[
            /* 0x00 */ 4, 0, 0, 0,                 // signature
            /* 0x04 */ 0xF1, 0, 0, 0, 6, 0, 0, 0,  // Symbols, 6 bytes
            /* 0x0c */ 4, 0, 0x06, 0x11, 0, 0,     // S_REGISTER, length 4: the kind and 2 bytes
            /* 0x12 */ 0, 0,                       // padding to 4
            /* 0x14 */ 0xF3, 0, 0, 0, 1, 0, 0, 0,  // string table, 1 byte
            /* 0x1c */ 0, 0, 0, 0,                 // payload + padding
        ];
        let subs = subsections(data).unwrap();
        assert_eq!(subs.len(), 2);
        assert_eq!(subs[0], Subsection { kind: 0xF1, start: 4, data: (12, 18), end: 20 });
        assert_eq!(subs[1].end, 32);
        let recs = symbol_records(data, &subs[0]).unwrap();
        assert_eq!(recs, [Record { kind: SymKind::S_REGISTER.0, range: 12..18 }]);
        assert_eq!(recs[0].payload(data), [0, 0]);
        assert_eq!(section_symbols(data).unwrap(), recs);
    }

    #[test]
    fn truncation_is_reported_with_section_and_offset() {
        let w = Where {
            section: 3,
            name: b".debug$S",
        };
        let data = [4u8, 0, 0, 0, 0xF1, 0, 0, 0, 0x40, 0, 0, 0, 1];
        let e = w.malformed(subsections(&data).unwrap_err());
        assert_eq!(
            e.to_string(),
            "section 3 (.debug$S) offset 0x4: subsection runs past the end of the section"
        );
        let e = subsections(&[5, 0, 0, 0]).unwrap_err();
        assert!(e.what.contains("signature is not 4"), "{e}");
    }

    #[test]
    fn short_symbol_records_are_errors() {
        let data = [4u8, 0, 0, 0, 0xF1, 0, 0, 0, 4, 0, 0, 0, 9, 0, 0x06, 0x11];
        let subs = subsections(&data).unwrap();
        let e = symbol_records(&data, &subs[0]).unwrap_err();
        assert_eq!(e.offset, 0xc, "{e}");
    }

    #[rustfmt::skip]
    const HOTPATCH_BUMP: [u8; 16] = [
        0x0e, 0x00,             // length 14 (kind + payload)
        0x69, 0x11,             // S_HOTPATCHFUNC
        0x00, 0x10, 0x00, 0x00, // function ID 0x1000
        b'b', b'u', b'm', b'p', 0x00, // name, NUL
        0x00, 0x00, 0x00,       // zero padding to 4
    ];

    #[test]
    fn walker_reports_the_offset_of_a_truncated_record() {
        let mut data = HOTPATCH_BUMP.to_vec();
        data.extend_from_slice(&[0x10, 0x00, 0x07, 0x00, 0, 0]);
        let err = records(&data, 0..data.len(), true).unwrap_err();
        assert_eq!(
            err,
            Malformed {
                offset: 16,
                what: "record runs past the end of its subsection or stream"
            }
        );
        let ok = records(&HOTPATCH_BUMP, 0..16, true).unwrap();
        assert_eq!(
            ok,
            vec![Record {
                kind: SymKind::S_HOTPATCHFUNC.0,
                range: 0..16
            }]
        );
        // 2 + 12 bytes is no multiple of 4: refused where alignment is required.
        let unaligned = [0x0c, 0x00, 0x07, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert!(records(&unaligned, 0..14, true).is_err());
        assert!(records(&unaligned, 0..14, false).is_ok());
    }

    #[test]
    fn subsections_skip_padding_and_check_bounds() {
        #[rustfmt::skip]
        let sec = [
            4, 0, 0, 0,               // signature
            0xf4, 0, 0, 0, 2, 0, 0, 0, // checksums, 2 bytes
            0xaa, 0xbb, 0, 0,         // body + 2 pad bytes
            0xf1, 0, 0, 0, 4, 0, 0, 0, // symbols, 4 bytes
            2, 0, 6, 0,               // S_END
        ];
        let symbols: Vec<_> = subsections(&sec)
            .unwrap()
            .into_iter()
            .filter(|s| s.kind == DEBUG_S_SYMBOLS)
            .map(|s| s.body())
            .collect();
        assert_eq!(symbols, vec![24..28]);
        assert_eq!(subsections(&sec[..26]).unwrap_err().offset, 16);
    }
}
