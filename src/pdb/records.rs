//! Bounds-checked walkers over CodeView symbol and type/ID records, as stored both in COFF
//! objects (`.debug$S`, `.debug$T`) and in PDB streams (module symbols, IPI).
//!
//! Every walker validates lengths before handing out a record, and reports the byte offset of
//! the first malformed record instead of stopping early (ms-codeview's `SymIter` stops silently
//! and `SymIterMut` panics on truncated data, which is why the fix-up does not use them).
//! Field layouts follow `cvinfo.h` (`PROCSYM32`, `lfFuncId`, `lfMFuncId`, `lfStringId`).

use std::ops::Range;

/// `S_SKIP`: a record the reader ignores; lld-link writes one in place of each `S_HOTPATCHFUNC`.
pub const S_SKIP: u16 = 0x0007;
/// `S_HOTPATCHFUNC`: `u32` function ID then the NUL-terminated mangled name, zero-padded to 4.
pub const S_HOTPATCHFUNC: u16 = 0x1169;
/// `S_GPROC32` / `S_LPROC32`: procedures as a PDB stores them (type field = TPI type index).
pub const S_GPROC32: u16 = 0x1110;
pub const S_LPROC32: u16 = 0x110f;
/// `S_GPROC32_ID` / `S_LPROC32_ID`: procedures as an object stores them (type field = item ID).
pub const S_GPROC32_ID: u16 = 0x1147;
pub const S_LPROC32_ID: u16 = 0x1146;
pub const S_LPROC32_DPC: u16 = 0x1155;
pub const S_LPROC32_DPC_ID: u16 = 0x1156;
/// `LF_FUNC_ID`: scope (ID index), function type (type index), name.
pub const LF_FUNC_ID: u16 = 0x1601;
/// `LF_MFUNC_ID`: parent class (type index), function type (type index), name.
pub const LF_MFUNC_ID: u16 = 0x1602;
/// `LF_STRING_ID`: substring list (ID index), then the string.
pub const LF_STRING_ID: u16 = 0x1605;
/// `DEBUG_S_SYMBOLS`: the `.debug$S` subsection kind that holds symbol records.
pub const DEBUG_S_SYMBOLS: u32 = 0xf1;
/// `CV_SIGNATURE_C13`: first 4 bytes of `.debug$S`, `.debug$T` and module symbol streams.
pub const CV_SIGNATURE_C13: u32 = 4;
/// First non-primitive type or item index (indices below it are built-in types).
pub const FIRST_INDEX: u32 = 0x1000;

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

pub fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    let b = data.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

pub fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The NUL-terminated string at `at` (without the NUL); `None` when no NUL follows.
pub fn strz_at(data: &[u8], at: usize) -> Option<&[u8]> {
    let rest = data.get(at..)?;
    let end = rest.iter().position(|&b| b == 0)?;
    rest.get(..end)
}

/// One record: its kind and where it lies in the walked buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub kind: u16,
    /// The whole record, the 2-byte length and 2-byte kind included.
    pub range: Range<usize>,
}

impl Record {
    /// The bytes after the kind field.
    pub fn payload<'a>(&self, data: &'a [u8]) -> &'a [u8] {
        data.get(self.range.start + 4..self.range.end)
            .unwrap_or(&[])
    }
}

/// Walks `u16 len, u16 kind, payload` records of `data[start..]`, where `len` counts the kind and
/// payload. Every record must fit; `align4` additionally requires 4-byte multiples (symbol
/// records in a PDB module stream are aligned; type records are padded to 4 too).
pub fn walk_records(data: &[u8], start: usize, align4: bool) -> Result<Vec<Record>, Malformed> {
    let mut out = Vec::new();
    for_each_record(data, start, align4, |r| out.push(r))?;
    Ok(out)
}

/// [`walk_records`] without collecting: `visit` sees each record once its bounds are checked
/// (records before a malformed one are visited; the error still reports it).
pub fn for_each_record(
    data: &[u8],
    start: usize,
    align4: bool,
    mut visit: impl FnMut(Record),
) -> Result<(), Malformed> {
    let mut at = start;
    while at < data.len() {
        let Some(len) = u16_at(data, at) else {
            return Err(Malformed {
                offset: at,
                what: "truncated record header",
            });
        };
        let Some(kind) = u16_at(data, at + 2) else {
            return Err(Malformed {
                offset: at,
                what: "truncated record header",
            });
        };
        let len = usize::from(len);
        if len < 2 {
            return Err(Malformed {
                offset: at,
                what: "record length below 2",
            });
        }
        let end = at + 2 + len;
        if end > data.len() {
            return Err(Malformed {
                offset: at,
                what: "record runs past the end of its stream",
            });
        }
        if align4 && (2 + len) % 4 != 0 {
            return Err(Malformed {
                offset: at,
                what: "record size is not a multiple of 4",
            });
        }
        visit(Record {
            kind,
            range: at..end,
        });
        at = end;
    }
    Ok(())
}

/// The `DEBUG_S_SYMBOLS` subsections of one `.debug$S` section: the ranges of their contents.
pub fn symbol_subsections(section: &[u8]) -> Result<Vec<Range<usize>>, Malformed> {
    if u32_at(section, 0) != Some(CV_SIGNATURE_C13) {
        return Err(Malformed {
            offset: 0,
            what: "missing CodeView C13 signature",
        });
    }
    let mut out = Vec::new();
    let mut at = 4;
    while at < section.len() {
        let (Some(kind), Some(len)) = (u32_at(section, at), u32_at(section, at + 4)) else {
            return Err(Malformed {
                offset: at,
                what: "truncated subsection header",
            });
        };
        let body = at + 8;
        let Some(end) = usize::try_from(len).ok().and_then(|l| body.checked_add(l)) else {
            return Err(Malformed {
                offset: at,
                what: "subsection length overflows",
            });
        };
        if end > section.len() {
            return Err(Malformed {
                offset: at,
                what: "subsection runs past the end of the section",
            });
        }
        if kind == DEBUG_S_SYMBOLS {
            out.push(body..end);
        }
        // Subsections are padded to 4 bytes; the padding is not counted in their length.
        at = end.div_ceil(4) * 4;
    }
    Ok(out)
}

/// The `S_HOTPATCHFUNC` payload: function ID and mangled name.
pub fn parse_hotpatch(payload: &[u8]) -> Option<(u32, &[u8])> {
    Some((u32_at(payload, 0)?, strz_at(payload, 4)?))
}

/// Encodes an `S_HOTPATCHFUNC` record (the object side's encoder, so both write the same
/// bytes) when it is exactly `size` bytes long, length field included: the size of the
/// `S_SKIP` it replaces. `None` when it is not.
pub fn encode_hotpatch(size: usize, func_id: u32, name: &[u8]) -> Option<Vec<u8>> {
    let rec = crate::codeview::hotpatch::encode_record(func_id, name);
    (rec.len() == size).then_some(rec)
}

/// Procedure kinds, with whether their type field holds an item ID (object) or a type (PDB).
pub fn is_proc(kind: u16) -> bool {
    matches!(
        kind,
        S_GPROC32 | S_LPROC32 | S_GPROC32_ID | S_LPROC32_ID | S_LPROC32_DPC | S_LPROC32_DPC_ID
    )
}

/// `PROCSYM32`: the type/ID field (payload offset 24) and the display name (offset 35).
pub fn parse_proc(payload: &[u8]) -> Option<(u32, &[u8])> {
    Some((u32_at(payload, 24)?, strz_at(payload, 35)?))
}

/// A parsed `LF_FUNC_ID` or `LF_MFUNC_ID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuncId<'a> {
    pub kind: u16,
    /// `LF_FUNC_ID`: scope (an ID index, 0 for none); `LF_MFUNC_ID`: the class (a type index).
    pub scope: u32,
    /// The function type (a type index).
    pub ty: u32,
    pub name: &'a [u8],
}

pub fn parse_func_id(kind: u16, payload: &[u8]) -> Option<FuncId<'_>> {
    if kind != LF_FUNC_ID && kind != LF_MFUNC_ID {
        return None;
    }
    Some(FuncId {
        kind,
        scope: u32_at(payload, 0)?,
        ty: u32_at(payload, 4)?,
        name: strz_at(payload, 8)?,
    })
}

/// An indexed type or ID stream: record `i` has index `FIRST_INDEX + i`.
#[derive(Debug, Default)]
pub struct TypeTable {
    pub records: Vec<Record>,
}

impl TypeTable {
    /// Walks the records of `data[start..]`, whose first record has index `first`.
    pub fn parse(data: &[u8], start: usize, first: u32) -> Result<Self, Malformed> {
        if first != FIRST_INDEX {
            return Err(Malformed {
                offset: 0,
                what: "type stream does not start at index 0x1000",
            });
        }
        Ok(Self {
            records: walk_records(data, start, false)?,
        })
    }

    pub fn get(&self, index: u32) -> Option<&Record> {
        let i = index.checked_sub(FIRST_INDEX)?;
        self.records.get(usize::try_from(i).ok()?)
    }

    pub fn func_id<'a>(&self, data: &'a [u8], index: u32) -> Option<FuncId<'a>> {
        let r = self.get(index)?;
        parse_func_id(r.kind, r.payload(data))
    }

    /// The text of the `LF_STRING_ID` at `index`.
    pub fn string_id<'a>(&self, data: &'a [u8], index: u32) -> Option<&'a [u8]> {
        let r = self.get(index)?;
        if r.kind != LF_STRING_ID {
            return None;
        }
        strz_at(r.payload(data), 4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    const HOTPATCH_BUMP: [u8; 16] = [
        0x0e, 0x00,             // length 14 (kind + payload)
        0x69, 0x11,             // S_HOTPATCHFUNC
        0x00, 0x10, 0x00, 0x00, // function ID 0x1000
        b'b', b'u', b'm', b'p', 0x00, // name, NUL
        0x00, 0x00, 0x00,       // zero padding to 4
    ];

    #[test]
    fn encoder_matches_clang_bytes() {
        assert_eq!(encode_hotpatch(16, 0x1000, b"bump").unwrap(), HOTPATCH_BUMP);
        assert_eq!(
            parse_hotpatch(&HOTPATCH_BUMP[4..]),
            Some((0x1000, &b"bump"[..]))
        );
        // 8 header+ID bytes, 4 name bytes and the NUL need 13: 12 is too small.
        assert!(encode_hotpatch(12, 1, b"bump").is_none());
    }

    #[test]
    fn walker_reports_the_offset_of_a_truncated_record() {
        let mut data = HOTPATCH_BUMP.to_vec();
        data.extend_from_slice(&[0x10, 0x00, 0x07, 0x00, 0, 0]);
        let err = walk_records(&data, 0, true).unwrap_err();
        assert_eq!(
            err,
            Malformed {
                offset: 16,
                what: "record runs past the end of its stream"
            }
        );
        let ok = walk_records(&HOTPATCH_BUMP, 0, true).unwrap();
        assert_eq!(
            ok,
            vec![Record {
                kind: S_HOTPATCHFUNC,
                range: 0..16
            }]
        );
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
        assert_eq!(symbol_subsections(&sec).unwrap(), vec![24..28]);
        assert_eq!(symbol_subsections(&sec[..26]).unwrap_err().offset, 16);
    }
}
