//! Grow one section of a COFF object in place: a byte-range splice inside its raw data.
//!
//! The object is edited, not rebuilt: every byte outside the splice is copied unchanged, and
//! every file structure that lies after the grown section's data (other sections' data,
//! relocations, line numbers, the symbol and string tables) moves by the same delta, so the
//! file keeps its layout order. The fields that change are exactly: the grown section's
//! `SizeOfRawData`, the file pointers of moved structures, the `VirtualAddress` of the grown
//! section's relocations that sit after the splice, and the section symbol's aux `Length`
//! (and its `CheckSum`, when the original was the JamCRC of the data, as LLVM writes it).
//!
//! Written in two phases after the style of `object::write::coff`: [`plan`] computes every
//! size, offset and field update; [`apply`] copies and writes; the output length is checked
//! against the planned one.
//!
//! Does not interpret the section's contents; the caller hands over ready bytes.

use super::{CoffObject, Error, RELOCATION_SIZE, SECTION_HEADER_SIZE};
use object::pe::{ImageAuxSymbolSection, ImageSectionHeader};
use std::mem::offset_of;

/// A splice in the raw data of section `section` (1-based): the `remove` bytes at `at`
/// (section-relative) are replaced by `insert`, which must not be shorter.
#[derive(Debug, Clone)]
pub struct Splice {
    pub section: u32,
    pub at: u32,
    pub remove: u32,
    pub insert: Vec<u8>,
}

/// Everything [`apply`] writes, computed up front.
#[derive(Debug, Clone)]
pub struct Plan {
    /// File offset where the replaced bytes start, and where they end in the input.
    pub cut_start: usize,
    pub cut_end: usize,
    /// Bytes added to the file.
    pub delta: u32,
    /// `u32` fields to overwrite in the output: (output file offset, new value).
    pub writes: Vec<(usize, u32)>,
    /// Length the output must have.
    pub out_len: usize,
}

/// Section header field offsets (`IMAGE_SECTION_HEADER`).
const SIZE_OF_RAW_DATA: u64 = offset_of!(ImageSectionHeader, size_of_raw_data) as u64;
const POINTER_TO_RAW_DATA: u64 = offset_of!(ImageSectionHeader, pointer_to_raw_data) as u64;
const POINTER_TO_RELOCATIONS: u64 = offset_of!(ImageSectionHeader, pointer_to_relocations) as u64;
const POINTER_TO_LINENUMBERS: u64 = offset_of!(ImageSectionHeader, pointer_to_linenumbers) as u64;
/// Offsets inside `IMAGE_AUX_SYMBOL` section definition (same in the `/bigobj` form).
const AUX_LENGTH: u64 = offset_of!(ImageAuxSymbolSection, length) as u64;
const AUX_CHECKSUM: u64 = offset_of!(ImageAuxSymbolSection, check_sum) as u64;

fn too_big() -> Error {
    Error::Patch("the object would exceed 4 GiB".into())
}

fn to_usize(v: u64) -> Result<usize, Error> {
    usize::try_from(v).map_err(|_| too_big())
}

/// Computes the edit of `data` (whose parse is `obj`) described by `splice`.
pub fn plan(data: &[u8], obj: &CoffObject, splice: &Splice) -> Result<Plan, Error> {
    let section = obj
        .section(splice.section)
        .ok_or_else(|| Error::Patch(format!("no section {}", splice.section)))?;
    let (s0, e0) = section
        .data_range
        .ok_or_else(|| Error::Patch("the section to grow has no data in the file".into()))?;
    let cut_start = s0 + u64::from(splice.at);
    let cut_end = cut_start + u64::from(splice.remove);
    if cut_end > e0 {
        return Err(Error::Patch("splice outside the section data".into()));
    }
    let insert_len = u32::try_from(splice.insert.len()).map_err(|_| too_big())?;
    let delta = insert_len
        .checked_sub(splice.remove)
        .ok_or_else(|| Error::Patch("a splice may not shrink the section".into()))?;
    let grow = Growth {
        end: e0,
        delta,
        new_size: u32::try_from(e0 - s0 + u64::from(delta)).map_err(|_| too_big())?,
    };

    // The edit moves structures and rewrites fields inside some of them, which is only sound
    // when no two structures share bytes (true of every compiler's output; a corrupt object
    // may claim otherwise, and then a field write would land in another section's data).
    check_disjoint(obj)?;
    if obj
        .sections
        .iter()
        .any(|s| s.header_offset + SECTION_HEADER_SIZE > s0)
    {
        return Err(Error::Malformed {
            what: "section table after section data",
            offset: s0,
        });
    }

    let mut writes = pointer_writes(obj, splice.section, &grow)?;
    writes.extend(relocation_writes(obj, splice, &grow)?);
    writes.extend(aux_writes(data, obj, splice, &grow)?);
    let out_len = data.len().checked_add(delta as usize).ok_or_else(too_big)?;
    Ok(Plan {
        cut_start: to_usize(cut_start)?,
        cut_end: to_usize(cut_end)?,
        delta,
        writes,
        out_len,
    })
}

/// How the grown section changes the file: everything from `end` (the old end of its data) on
/// moves by `delta`; its new `SizeOfRawData` is `new_size`.
struct Growth {
    end: u64,
    delta: u32,
    new_size: u32,
}

impl Growth {
    /// Where the structure at file offset `p` ends up.
    fn shift(&self, p: u64) -> Result<u32, Error> {
        let moved = if p >= self.end {
            p + u64::from(self.delta)
        } else {
            p
        };
        u32::try_from(moved).map_err(|_| too_big())
    }
}

/// The file pointers of the section headers and of the symbol table, and the grown section's
/// `SizeOfRawData`.
fn pointer_writes(obj: &CoffObject, grown: u32, g: &Growth) -> Result<Vec<(usize, u32)>, Error> {
    let mut writes = Vec::new();
    for s in &obj.sections {
        let h = s.header_offset;
        if let Some((p, _)) = s.data_range {
            writes.push((to_usize(h + POINTER_TO_RAW_DATA)?, g.shift(p)?));
        }
        if let Some((p, _)) = s.reloc_range {
            writes.push((to_usize(h + POINTER_TO_RELOCATIONS)?, g.shift(p)?));
        }
        if let Some((p, _)) = s.lines_range {
            writes.push((to_usize(h + POINTER_TO_LINENUMBERS)?, g.shift(p)?));
        }
        if s.number == grown {
            writes.push((to_usize(h + SIZE_OF_RAW_DATA)?, g.new_size));
        }
    }
    if obj.symtab_offset != 0 {
        writes.push((
            to_usize(obj.symtab_pointer_field)?,
            g.shift(obj.symtab_offset)?,
        ));
    }
    Ok(writes)
}

/// The grown section's relocations after the splice move with their bytes.
fn relocation_writes(
    obj: &CoffObject,
    splice: &Splice,
    g: &Growth,
) -> Result<Vec<(usize, u32)>, Error> {
    let mut writes = Vec::new();
    let Some(section) = obj.section(splice.section) else {
        return Ok(writes);
    };
    let Some((p, _)) = section.reloc_range else {
        return Ok(writes);
    };
    let first = p + if section.reloc_overflow {
        RELOCATION_SIZE
    } else {
        0
    };
    let new_first = u64::from(g.shift(first)?);
    let splice_end = splice.at + splice.remove;
    for (i, r) in section.relocations.iter().enumerate() {
        if r.offset >= splice.at && r.offset < splice_end {
            return Err(Error::Patch(format!(
                "a relocation at offset {:#x} sits inside the replaced bytes",
                r.offset
            )));
        }
        if r.offset >= splice_end {
            let at = new_first + i as u64 * RELOCATION_SIZE;
            writes.push((
                to_usize(at)?,
                r.offset.checked_add(g.delta).ok_or_else(too_big)?,
            ));
        }
    }
    Ok(writes)
}

/// The section symbol's aux record repeats the length (and maybe a checksum).
fn aux_writes(
    data: &[u8],
    obj: &CoffObject,
    splice: &Splice,
    g: &Growth,
) -> Result<Vec<(usize, u32)>, Error> {
    let mut writes = Vec::new();
    let (Some(section), Some(sym)) = (
        obj.section(splice.section),
        obj.section_symbol(splice.section),
    ) else {
        return Ok(writes);
    };
    let old_aux = obj.symtab_offset + (u64::from(sym.index) + 1) * obj.symbol_size;
    let aux = u64::from(g.shift(old_aux)?);
    writes.push((to_usize(aux + AUX_LENGTH)?, g.new_size));
    let old_aux = to_usize(old_aux)?;
    let old_sum =
        super::read_u32(data, old_aux + AUX_CHECKSUM as usize).ok_or(Error::Malformed {
            what: "section symbol aux record",
            offset: old_aux as u64,
        })?;
    let old_data = section.data(data)?;
    if old_sum != 0 && old_sum == jamcrc(&[old_data]) {
        let (a, b) = (
            to_usize(splice.at.into())?,
            to_usize((splice.at + splice.remove).into())?,
        );
        let before = old_data.get(..a).unwrap_or_default();
        let after = old_data.get(b..).unwrap_or_default();
        let sum = jamcrc(&[before, &splice.insert, after]);
        writes.push((to_usize(aux + AUX_CHECKSUM)?, sum));
    }
    Ok(writes)
}

/// Checks that the headers, section data, relocation and line-number tables and the symbol and
/// string tables occupy pairwise disjoint file ranges.
fn check_disjoint(obj: &CoffObject) -> Result<(), Error> {
    let table_end = obj
        .sections
        .last()
        .map_or(0, |s| s.header_offset + SECTION_HEADER_SIZE);
    let mut ranges: Vec<(u64, u64, &'static str)> = vec![(0, table_end, "headers")];
    for s in &obj.sections {
        ranges.extend(s.data_range.map(|(a, b)| (a, b, "section data")));
        ranges.extend(s.reloc_range.map(|(a, b)| (a, b, "relocations")));
        ranges.extend(s.lines_range.map(|(a, b)| (a, b, "line numbers")));
    }
    ranges.extend(obj.symtab_range.map(|(a, b)| (a, b, "symbol table")));
    ranges.sort_unstable();
    for pair in ranges.windows(2) {
        if let [(_, end, _), (start, _, what)] = pair {
            if start < end {
                return Err(Error::Malformed {
                    what: overlap_message(what),
                    offset: *start,
                });
            }
        }
    }
    Ok(())
}

fn overlap_message(what: &str) -> &'static str {
    match what {
        "section data" => "section data overlaps another structure",
        "relocations" => "relocations overlap another structure",
        "line numbers" => "line numbers overlap another structure",
        _ => "symbol table overlaps another structure",
    }
}

/// Writes the output of `plan` for `data`.
pub fn apply(data: &[u8], plan: &Plan, insert: &[u8]) -> Result<Vec<u8>, Error> {
    let head = data
        .get(..plan.cut_start)
        .ok_or_else(|| Error::Patch("plan does not fit the input".into()))?;
    let tail = data
        .get(plan.cut_end..)
        .ok_or_else(|| Error::Patch("plan does not fit the input".into()))?;
    let mut out = Vec::with_capacity(plan.out_len);
    out.extend_from_slice(head);
    out.extend_from_slice(insert);
    out.extend_from_slice(tail);
    for &(at, value) in &plan.writes {
        let field = out
            .get_mut(at..at + 4)
            .ok_or_else(|| Error::Patch(format!("planned write at {at:#x} outside the output")))?;
        field.copy_from_slice(&value.to_le_bytes());
    }
    if out.len() != plan.out_len {
        return Err(Error::Patch(format!(
            "internal error: wrote {} bytes, planned {}",
            out.len(),
            plan.out_len
        )));
    }
    Ok(out)
}

/// Plans and applies `splice` on `data`.
pub fn splice(data: &[u8], obj: &CoffObject, splice: &Splice) -> Result<Vec<u8>, Error> {
    let p = plan(data, obj, splice)?;
    apply(data, &p, &splice.insert)
}

/// The checksum LLVM's COFF writer stores in section aux records: `JamCRC` with an initial
/// value of 0, i.e. the reflected CRC-32 (IEEE polynomial) register started at 0 and not
/// inverted at the end, over the concatenation of `parts`. (Checked against clang's objects in
/// `tests/it/coff_inject.rs`.)
pub fn jamcrc(parts: &[&[u8]]) -> u32 {
    // crc32fast keeps the register inverted: an "initial CRC" of !0 starts the register at 0,
    // and inverting its final CRC gives the register back without the final inversion.
    let mut h = crc32fast::Hasher::new_with_initial(0xFFFF_FFFF);
    for part in parts {
        h.update(part);
    }
    !h.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_header_field_offsets() {
        assert_eq!(
            [
                SIZE_OF_RAW_DATA,
                POINTER_TO_RAW_DATA,
                POINTER_TO_RELOCATIONS,
                POINTER_TO_LINENUMBERS
            ],
            [16, 20, 24, 28]
        );
        assert_eq!((AUX_LENGTH, AUX_CHECKSUM), (0, 8));
    }

    #[test]
    fn jamcrc_starts_at_zero_without_final_inversion() {
        // Python: ~zlib.crc32(b"123456789", 0xFFFFFFFF) & 0xFFFFFFFF
        assert_eq!(jamcrc(&[b"123456789"]), 0x2DFD_2D88);
        assert_eq!(jamcrc(&[b"1234", b"56789"]), 0x2DFD_2D88);
        assert_eq!(jamcrc(&[]), 0);
    }
}
