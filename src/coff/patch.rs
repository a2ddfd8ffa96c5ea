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

use super::{CoffObject, Error};

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
const SIZE_OF_RAW_DATA: u64 = 16;
const POINTER_TO_RAW_DATA: u64 = 20;
const POINTER_TO_RELOCATIONS: u64 = 24;
const POINTER_TO_LINENUMBERS: u64 = 28;
/// Size of one `IMAGE_RELOCATION`.
const RELOC_SIZE: u64 = 10;
/// Offsets inside `IMAGE_AUX_SYMBOL` section definition (same in the `/bigobj` form).
const AUX_LENGTH: u64 = std::mem::offset_of!(object::pe::ImageAuxSymbolSection, length) as u64;
const AUX_CHECKSUM: u64 = std::mem::offset_of!(object::pe::ImageAuxSymbolSection, check_sum) as u64;

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
    let d = u64::from(delta);
    let shift = |p: u64| -> Result<u32, Error> {
        let moved = if p >= e0 { p + d } else { p };
        u32::try_from(moved).map_err(|_| too_big())
    };

    // The edit moves structures and rewrites fields inside some of them, which is only sound
    // when no two structures share bytes (true of every compiler's output; a corrupt object
    // may claim otherwise, and then a field write would land in another section's data).
    check_disjoint(obj)?;
    if obj.sections.iter().any(|s| s.header_offset + 40 > s0) {
        return Err(Error::Malformed {
            what: "section table after section data",
            offset: s0,
        });
    }

    let mut writes = Vec::new();
    for s in &obj.sections {
        let h = s.header_offset;
        if let Some((p, _)) = s.data_range {
            writes.push((to_usize(h + POINTER_TO_RAW_DATA)?, shift(p)?));
        }
        if let Some((p, _)) = s.reloc_range {
            writes.push((to_usize(h + POINTER_TO_RELOCATIONS)?, shift(p)?));
        }
        if let Some((p, _)) = s.lines_range {
            writes.push((to_usize(h + POINTER_TO_LINENUMBERS)?, shift(p)?));
        }
    }
    let new_size = u32::try_from(e0 - s0 + d).map_err(|_| too_big())?;
    writes.push((
        to_usize(section.header_offset + SIZE_OF_RAW_DATA)?,
        new_size,
    ));
    if obj.symtab_offset != 0 {
        writes.push((
            to_usize(obj.symtab_pointer_field)?,
            shift(obj.symtab_offset)?,
        ));
    }

    // Relocations of the grown section after the splice move with their bytes.
    if let Some((p, _)) = section.reloc_range {
        let first = p + if section.reloc_overflow {
            RELOC_SIZE
        } else {
            0
        };
        let new_first = u64::from(shift(first)?);
        let splice_end = splice.at + splice.remove;
        for (i, r) in section.relocations.iter().enumerate() {
            if r.offset >= splice.at && r.offset < splice_end {
                return Err(Error::Patch(format!(
                    "a relocation at offset {:#x} sits inside the replaced bytes",
                    r.offset
                )));
            }
            if r.offset >= splice_end {
                let at = new_first + i as u64 * RELOC_SIZE;
                writes.push((
                    to_usize(at)?,
                    r.offset.checked_add(delta).ok_or_else(too_big)?,
                ));
            }
        }
    }

    // The section symbol's aux record repeats the length (and maybe a checksum).
    if let Some(sym) = obj.section_symbol(splice.section) {
        let aux = u64::from(shift(
            obj.symtab_offset + (u64::from(sym.index) + 1) * obj.symbol_size,
        )?);
        writes.push((to_usize(aux + AUX_LENGTH)?, new_size));
        let old_aux = to_usize(obj.symtab_offset + (u64::from(sym.index) + 1) * obj.symbol_size)?;
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
    }

    let out_len = data.len().checked_add(delta as usize).ok_or_else(too_big)?;
    Ok(Plan {
        cut_start: to_usize(cut_start)?,
        cut_end: to_usize(cut_end)?,
        delta,
        writes,
        out_len,
    })
}

/// Checks that the headers, section data, relocation and line-number tables and the symbol and
/// string tables occupy pairwise disjoint file ranges.
fn check_disjoint(obj: &CoffObject) -> Result<(), Error> {
    let table_end = obj.sections.last().map_or(0, |s| s.header_offset + 40);
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
    fn jamcrc_starts_at_zero_without_final_inversion() {
        // Python: ~zlib.crc32(b"123456789", 0xFFFFFFFF) & 0xFFFFFFFF
        assert_eq!(jamcrc(&[b"123456789"]), 0x2DFD_2D88);
        assert_eq!(jamcrc(&[b"1234", b"56789"]), 0x2DFD_2D88);
        assert_eq!(jamcrc(&[]), 0);
    }
}
