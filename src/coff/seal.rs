//! Seal `__ref_` pointers: clear `IMAGE_SCN_MEM_WRITE` on the COMDAT sections that hold
//! exactly one `__ref_` pointer, so the loader maps them read-only.
//!
//! The rewrite gives the `__ref_G` of a global with external linkage a COMDAT of its own and
//! leaves it a non-constant `linkonce global`, the form clang 22's own pass makes: a load from
//! a `constant` global is one LLVM's code generator may repeat or sink at will (x86-64 and x86
//! rematerialize it under register pressure), which would make the code differ from clang 22's.
//! LLVM gives a non-constant global in an explicit `.rdata` COMDAT a writable section
//! (`IMAGE_SCN_MEM_WRITE`), so the object step clears that bit afterwards, here.
//!
//! A section is sealed only when all of these hold, so no other data can lose its write bit:
//! - it is a COMDAT (`IMAGE_SCN_LNK_COMDAT`) of initialized data, not code, named `.rdata`
//!   (cl mode) or `.rdata$…` (GNU mode, `.rdata$__ref_G`);
//! - its section symbol's selection is not `IMAGE_COMDAT_SELECT_ASSOCIATIVE`, and its COMDAT
//!   symbol (the first symbol after the section symbol defined in the section) is an external
//!   named `__ref_…` (`___ref_…` on x86) at offset 0;
//! - no other symbol is defined in it;
//! - it is one pointer long (8 bytes, 4 on x86 and 32-bit ARM) and carries exactly one
//!   relocation, the machine's absolute pointer relocation at offset 0.
//!
//! The edit is four bytes per section (its `Characteristics`), so everything else in the file
//! stays byte for byte; sealing a sealed object changes nothing.
//!
//! Does not decide which objects to seal (the pipeline's object step, `hotpatch seal` and
//! `hotpatch inject` do) and does not check a build (`verify` reports writable `__ref_`s).

use super::{CoffObject, Error, Section};
use object::pe;
use std::mem::offset_of;

/// Offset of `Characteristics` in `IMAGE_SECTION_HEADER`.
const CHARACTERISTICS: u64 = offset_of!(pe::ImageSectionHeader, characteristics) as u64;

/// A section that holds only a `__ref_` pointer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefSection {
    /// 1-based section number.
    pub section: u32,
    /// The COMDAT symbol, as written in the symbol table (`___ref_G` on x86).
    pub symbol: Vec<u8>,
    /// Whether the section is writable (not sealed yet).
    pub writable: bool,
}

/// The result of [`seal`]: the object's bytes (the input's when nothing changed) and the
/// `__ref_` sections found, with `writable` as they were before sealing.
#[derive(Debug, Clone)]
pub struct Sealed {
    pub bytes: Vec<u8>,
    pub sections: Vec<RefSection>,
}

impl Sealed {
    /// The COMDAT symbols whose section this call made read-only.
    pub fn newly_sealed(&self) -> impl Iterator<Item = &[u8]> {
        self.sections
            .iter()
            .filter(|s| s.writable)
            .map(|s| s.symbol.as_slice())
    }
}

/// Size of a pointer and the relocation type that stores an absolute one, per machine.
fn pointer_relocation(machine: u16) -> Option<(u32, u16)> {
    match pe::Machine(machine) {
        pe::IMAGE_FILE_MACHINE_AMD64 => Some((8, pe::IMAGE_REL_AMD64_ADDR64.0)),
        pe::IMAGE_FILE_MACHINE_ARM64 | pe::IMAGE_FILE_MACHINE_ARM64EC => {
            Some((8, pe::IMAGE_REL_ARM64_ADDR64.0))
        }
        pe::IMAGE_FILE_MACHINE_I386 => Some((4, pe::IMAGE_REL_I386_DIR32.0)),
        pe::IMAGE_FILE_MACHINE_ARMNT => Some((4, pe::IMAGE_REL_ARM_ADDR32.0)),
        _ => None,
    }
}

/// Whether `name` (a COFF symbol name) is a `__ref_` pointer's, with x86's C underscore.
fn is_ref_symbol(machine: u16, name: &[u8]) -> bool {
    let name = if pe::Machine(machine) == pe::IMAGE_FILE_MACHINE_I386 {
        name.strip_prefix(b"_").unwrap_or_default()
    } else {
        name
    };
    name.starts_with(b"__ref_") && name.len() > b"__ref_".len()
}

fn is_rdata(name: &[u8]) -> bool {
    name == b".rdata" || name.starts_with(b".rdata$")
}

/// The sections of `obj` that hold only a `__ref_` pointer (see the module doc), in section
/// order.
pub fn ref_sections(obj: &CoffObject) -> Vec<RefSection> {
    let Some((size, reloc_type)) = pointer_relocation(obj.machine) else {
        return Vec::new();
    };
    let data_comdat = |s: &Section| {
        s.is_comdat()
            && s.flags & pe::IMAGE_SCN_CNT_INITIALIZED_DATA.0 != 0
            && s.flags & pe::IMAGE_SCN_CNT_CODE.0 == 0
            && is_rdata(&s.name)
            && s.size == size
            && matches!(s.relocations.as_slice(), [r] if r.offset == 0 && r.typ == reloc_type)
    };
    let mut out = Vec::new();
    for section in obj.sections.iter().filter(|s| data_comdat(s)) {
        let mut defined = obj
            .iter_symbols()
            .filter(|s| s.defined_in() == Some(section.number));
        // The section symbol comes first, then the COMDAT symbol; nothing else may follow.
        let (Some(head), Some(comdat), None) = (defined.next(), defined.next(), defined.next())
        else {
            continue;
        };
        let section_symbol = head.storage_class == pe::IMAGE_SYM_CLASS_STATIC.0
            && head.typ == 0
            && head.value == 0
            && head
                .comdat_selection
                .is_some_and(|sel| sel != 0 && sel != pe::IMAGE_COMDAT_SELECT_ASSOCIATIVE.0);
        if section_symbol
            && comdat.storage_class == pe::IMAGE_SYM_CLASS_EXTERNAL.0
            && comdat.value == 0
            && comdat.aux_count == 0
            && is_ref_symbol(obj.machine, &comdat.name)
        {
            out.push(RefSection {
                section: section.number,
                symbol: comdat.name.clone(),
                writable: section.is_writable(),
            });
        }
    }
    out
}

/// Clears `IMAGE_SCN_MEM_WRITE` on every `__ref_` section of `data` (a COFF object's bytes,
/// either header format). Idempotent; the bytes are the input's when nothing was writable.
pub fn seal(data: &[u8]) -> Result<Sealed, Error> {
    let obj = CoffObject::parse(data)?;
    let sections = ref_sections(&obj);
    let mut bytes = data.to_vec();
    for rs in sections.iter().filter(|s| s.writable) {
        let Some(section) = obj.section(rs.section) else {
            continue;
        };
        let at = usize::try_from(section.header_offset + CHARACTERISTICS).ok();
        let field = at.and_then(|at| Some((at, bytes.get_mut(at..at.checked_add(4)?)?)));
        let Some((at, field)) = field else {
            return Err(Error::Malformed {
                what: "section header past end of file",
                offset: section.header_offset,
            });
        };
        if super::read_u32(field, 0) != Some(section.flags) {
            return Err(Error::Malformed {
                what: "section characteristics",
                offset: at as u64,
            });
        }
        let sealed = section.flags & !pe::IMAGE_SCN_MEM_WRITE.0;
        field.copy_from_slice(&sealed.to_le_bytes());
    }
    Ok(Sealed { bytes, sections })
}
