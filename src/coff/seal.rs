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

/// What [`seal_file`] did to one file.
#[derive(Debug, Clone)]
pub struct SealedFile {
    /// The file's bytes, sealed; the same length as the input, byte for byte the input's
    /// when nothing was writable.
    pub bytes: Vec<u8>,
    /// Per object: the archive member's name (`None` for a file that is one object) and its
    /// `__ref_` sections, `writable` as they were before.
    pub objects: Vec<(Option<String>, Vec<RefSection>)>,
}

/// Seals a COFF object, or every COFF object member of a static library (`.lib`, `.a`) in
/// place: the edit keeps every size, so the archive's headers and symbol table stay valid.
/// Members that are not COFF objects (import records, bitcode) are left alone.
pub fn seal_file(data: &[u8]) -> Result<SealedFile, Error> {
    if !super::inputs::is_archive(data) {
        let sealed = seal(data)?;
        return Ok(SealedFile {
            bytes: sealed.bytes,
            objects: vec![(None, sealed.sections)],
        });
    }
    let members = super::inputs::archive_members(data).map_err(Error::Archive)?;
    let mut bytes = data.to_vec();
    let mut objects = Vec::new();
    for m in members
        .iter()
        .filter(|m| m.kind == super::inputs::Kind::Object)
    {
        let member = data.get(m.range.clone()).unwrap_or_default();
        let sealed = seal(member).map_err(|cause| Error::Member {
            member: m.name.clone(),
            cause: Box::new(cause),
        })?;
        match bytes.get_mut(m.range.clone()) {
            Some(dest) if dest.len() == sealed.bytes.len() => dest.copy_from_slice(&sealed.bytes),
            _ => {
                return Err(Error::Member {
                    member: m.name.clone(),
                    cause: Box::new(Error::Patch("the member's range moved".into())),
                })
            }
        }
        objects.push((Some(m.name.clone()), sealed.sections));
    }
    Ok(SealedFile { bytes, objects })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One section of a hand-made object: name, characteristics, data, relocations
    /// (offset, symbol index, type).
    struct Sec {
        name: &'static [u8],
        flags: u32,
        data: Vec<u8>,
        relocs: Vec<(u32, u32, u16)>,
    }

    /// One symbol: name, value, 1-based section, storage class, and for a section symbol
    /// the aux record's COMDAT selection.
    struct Sym {
        name: &'static [u8],
        value: u32,
        section: i16,
        class: u8,
        selection: Option<u8>,
    }

    const RDATA_COMDAT_RW: u32 = 0xC040_1040; // MEM_WRITE | MEM_READ | ALIGN_8 | COMDAT | INIT_DATA
    const DATA_RW: u32 = 0xC030_0040; // .data: MEM_WRITE | MEM_READ | ALIGN_4 | INIT_DATA

    /// A classic COFF object: header, section table, data and relocations, symbols, strings.
    fn object(machine: u16, sections: &[Sec], symbols: &[Sym]) -> Vec<u8> {
        let mut strings: Vec<u8> = Vec::new();
        let headers = 20 + 40 * sections.len();
        let mut body: Vec<u8> = Vec::new();
        let mut table: Vec<u8> = Vec::new();
        for s in sections {
            let data_at = headers + body.len();
            body.extend_from_slice(&s.data);
            let relocs_at = headers + body.len();
            for &(off, sym, typ) in &s.relocs {
                body.extend_from_slice(&off.to_le_bytes());
                body.extend_from_slice(&sym.to_le_bytes());
                body.extend_from_slice(&typ.to_le_bytes());
            }
            let mut name = [0u8; 8];
            name[..s.name.len().min(8)].copy_from_slice(&s.name[..s.name.len().min(8)]);
            if s.name.len() > 8 {
                let at = format!("/{}", 4 + strings.len());
                name = [0u8; 8];
                name[..at.len()].copy_from_slice(at.as_bytes());
                strings.extend_from_slice(s.name);
                strings.push(0);
            }
            table.extend_from_slice(&name);
            table.extend_from_slice(&[0u8; 8]); // VirtualSize, VirtualAddress
            table.extend_from_slice(&(s.data.len() as u32).to_le_bytes());
            table.extend_from_slice(&(data_at as u32).to_le_bytes());
            let pr = if s.relocs.is_empty() { 0 } else { relocs_at };
            table.extend_from_slice(&(pr as u32).to_le_bytes());
            table.extend_from_slice(&0u32.to_le_bytes());
            table.extend_from_slice(&(s.relocs.len() as u16).to_le_bytes());
            table.extend_from_slice(&0u16.to_le_bytes());
            table.extend_from_slice(&s.flags.to_le_bytes());
        }
        let symtab_at = headers + body.len();
        let mut syms: Vec<u8> = Vec::new();
        let mut count = 0u32;
        for s in symbols {
            if s.name.len() > 8 {
                syms.extend_from_slice(&0u32.to_le_bytes());
                syms.extend_from_slice(&(4 + strings.len() as u32).to_le_bytes());
                strings.extend_from_slice(s.name);
                strings.push(0);
            } else {
                let mut name = [0u8; 8];
                name[..s.name.len()].copy_from_slice(s.name);
                syms.extend_from_slice(&name);
            }
            syms.extend_from_slice(&s.value.to_le_bytes());
            syms.extend_from_slice(&s.section.to_le_bytes());
            syms.extend_from_slice(&0u16.to_le_bytes());
            syms.push(s.class);
            syms.push(u8::from(s.selection.is_some()));
            count += 1;
            if let Some(sel) = s.selection {
                let sec = &sections[s.section as usize - 1];
                syms.extend_from_slice(&(sec.data.len() as u32).to_le_bytes());
                syms.extend_from_slice(&(sec.relocs.len() as u16).to_le_bytes());
                syms.extend_from_slice(&[0u8; 6]); // line numbers, checksum
                syms.extend_from_slice(&0u16.to_le_bytes()); // associated section
                syms.push(sel);
                syms.extend_from_slice(&[0u8; 3]);
                count += 1;
            }
        }
        let mut out = Vec::new();
        out.extend_from_slice(&machine.to_le_bytes());
        out.extend_from_slice(&(sections.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(symtab_at as u32).to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&[0u8; 4]);
        out.extend_from_slice(&table);
        out.extend_from_slice(&body);
        out.extend_from_slice(&syms);
        out.extend_from_slice(&(4 + strings.len() as u32).to_le_bytes());
        out.extend_from_slice(&strings);
        out
    }

    fn sym(name: &'static [u8], section: i16, class: u8, selection: Option<u8>) -> Sym {
        Sym {
            name,
            value: 0,
            section,
            class,
            selection,
        }
    }

    const STATIC: u8 = 3;
    const EXTERNAL: u8 = 2;
    const ANY: u8 = 2;
    const AMD64: u16 = 0x8664;

    /// `.data` (one writable int, `g`) and a `__ref_g` COMDAT in `.rdata` pointing at it,
    /// as clang writes them for x64; `edit` changes the pieces before the object is built.
    fn ref_object(machine: u16, edit: impl FnOnce(&mut Vec<Sec>, &mut Vec<Sym>)) -> Vec<u8> {
        let (ptr, typ) = pointer_relocation(machine).unwrap();
        let mut secs = vec![
            Sec {
                name: b".data",
                flags: DATA_RW,
                data: vec![0; 4],
                relocs: vec![],
            },
            Sec {
                name: b".rdata",
                flags: RDATA_COMDAT_RW,
                data: vec![0; ptr as usize],
                // Symbol 4 is `g`.
                relocs: vec![(0, 4, typ)],
            },
        ];
        let mut syms = vec![
            sym(b".data", 1, STATIC, Some(0)),
            sym(b".rdata", 2, STATIC, Some(ANY)),
            sym(b"__ref_g", 2, EXTERNAL, None),
            sym(b"g", 1, EXTERNAL, None),
        ];
        if machine == pe::IMAGE_FILE_MACHINE_I386.0 {
            syms[2].name = b"___ref_g";
            syms[3].name = b"_g";
        }
        edit(&mut secs, &mut syms);
        object(machine, &secs, &syms)
    }

    fn flags_of(data: &[u8], section: u32) -> u32 {
        CoffObject::parse(data)
            .unwrap()
            .section(section)
            .unwrap()
            .flags
    }

    #[test]
    fn seals_exactly_the_write_bit_of_the_ref_section() {
        for machine in [0x8664u16, 0x14c, 0xaa64] {
            let obj = ref_object(machine, |_, _| {});
            let sealed = seal(&obj).unwrap();
            assert_eq!(sealed.sections.len(), 1, "machine {machine:#x}");
            assert!(sealed.sections[0].writable);
            assert_eq!(flags_of(&sealed.bytes, 2), RDATA_COMDAT_RW & !0x8000_0000);
            assert_eq!(
                flags_of(&sealed.bytes, 1),
                DATA_RW,
                ".data keeps its write bit"
            );
            let changed = obj
                .iter()
                .zip(&sealed.bytes)
                .filter(|(a, b)| a != b)
                .count();
            assert_eq!(changed, 1, "one byte of Characteristics changes");
            // Idempotent: the second seal finds it read-only and changes nothing.
            let again = seal(&sealed.bytes).unwrap();
            assert_eq!(again.bytes, sealed.bytes);
            assert!(!again.sections[0].writable);
            assert_eq!(again.newly_sealed().count(), 0);
        }
    }

    #[test]
    fn gnu_mode_section_names_are_sealed_too() {
        let obj = ref_object(AMD64, |secs, _| secs[1].name = b".rdata$__ref_g");
        assert_eq!(seal(&obj).unwrap().newly_sealed().count(), 1);
    }

    #[test]
    fn leaves_every_other_section_alone() {
        type Edit = fn(&mut Vec<Sec>, &mut Vec<Sym>);
        let cases: &[(&str, Edit)] = &[
            ("associative", |_, y| y[1].selection = Some(5)),
            ("not a COMDAT", |s, y| {
                s[1].flags &= !0x1000;
                y[1].selection = Some(0);
            }),
            ("not .rdata", |s, _| s[1].name = b".data"),
            (".rdataX", |s, _| s[1].name = b".rdataX"),
            ("code", |s, _| s[1].flags |= 0x20),
            ("not __ref_", |_, y| y[2].name = b"ref_g"),
            ("__ref_ alone", |_, y| y[2].name = b"__ref_"),
            ("static COMDAT symbol", |_, y| y[2].class = STATIC),
            ("COMDAT symbol not at 0", |_, y| y[2].value = 4),
            ("two pointers", |s, _| {
                s[1].data = vec![0; 16];
                s[1].relocs.push((8, 4, pe::IMAGE_REL_AMD64_ADDR64.0));
            }),
            ("a pointer and more data", |s, _| s[1].data = vec![0; 16]),
            ("a relative relocation", |s, _| {
                s[1].relocs[0].2 = pe::IMAGE_REL_AMD64_REL32.0
            }),
            ("no relocation", |s, _| s[1].relocs.clear()),
            ("a second symbol", |_, y| {
                y.push(sym(b"other", 2, EXTERNAL, None));
            }),
            ("x86 name on x64", |_, y| y[2].name = b"___ref_g"),
        ];
        for (what, edit) in cases {
            let obj = ref_object(AMD64, edit);
            let sealed = seal(&obj).unwrap();
            assert!(sealed.sections.is_empty(), "{what}: {:?}", sealed.sections);
            assert_eq!(sealed.bytes, obj, "{what}");
        }
        // On x86 the name carries the C underscore: `__ref_g` there is not the IR `__ref_g`.
        let obj = ref_object(0x14c, |_, y| y[2].name = b"__ref_g");
        assert!(seal(&obj).unwrap().sections.is_empty());
    }

    #[test]
    fn long_names_and_archives() {
        let obj = ref_object(AMD64, |_, y| y[2].name = b"__ref_?counter@@3HA");
        let sealed = seal(&obj).unwrap();
        assert_eq!(sealed.sections[0].symbol, b"__ref_?counter@@3HA");
        // A GNU archive of two copies: both members sealed in place, the rest unchanged.
        let member = |name: &str, data: &[u8]| {
            let mut m = format!(
                "{name:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
                0,
                0,
                0,
                644,
                data.len()
            )
            .into_bytes();
            m.extend_from_slice(data);
            if data.len() % 2 == 1 {
                m.push(b'\n');
            }
            m
        };
        let mut lib = b"!<arch>\n".to_vec();
        lib.extend(member("a.obj/", &obj));
        lib.extend(member("b.obj/", &obj));
        let out = seal_file(&lib).unwrap();
        assert_eq!(out.bytes.len(), lib.len());
        assert_eq!(out.objects.len(), 2);
        assert!(out
            .objects
            .iter()
            .all(|(_, s)| s.len() == 1 && s[0].writable));
        let again = seal_file(&out.bytes).unwrap();
        assert_eq!(again.bytes, out.bytes);
        assert!(again.objects.iter().all(|(_, s)| !s[0].writable));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(seal(b"").is_err());
        assert!(seal_file(b"!<arch>\nshort").is_err());
        let obj = ref_object(AMD64, |_, _| {});
        for cut in [10, 60, 100, obj.len() - 3] {
            let _ = seal(&obj[..cut]);
            let _ = seal_file(&obj[..cut]);
        }
    }
}
