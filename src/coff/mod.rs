//! COFF objects: read the section table, symbols and relocations, and grow one section.
//!
//! Reading goes through the `object` crate's low-level COFF layer (`object::read::coff`,
//! `object::pe`), for both header formats: the regular `IMAGE_FILE_HEADER` and the `/bigobj`
//! `ANON_OBJECT_HEADER_BIGOBJ` (32-bit section numbers, 20-byte symbols). [`CoffObject`]
//! flattens what the CodeView layer needs into plain owned structures, so that layer never
//! touches raw offsets. The byte surgery that grows a section lives in [`patch`]; clearing the
//! write bit of `__ref_` pointer sections in [`seal`].
//!
//! This module does not interpret section contents (that is `codeview`), and it never rebuilds
//! an object through `object::write`: that writer loses information and cannot write `/bigobj`.
//!
//! Reference: Microsoft PE/COFF specification, sections 3 to 5 ("Section Table", "COFF
//! Relocations", "COFF Symbol Table").

pub mod inputs;
pub mod patch;
pub mod seal;

use object::pe;
use object::read::coff::{CoffHeader, Symbol as _};
use object::LittleEndian as LE;

/// Errors of the COFF layer. `Display` says what is wrong and, where known, at which file offset.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// The `object` crate refused the headers, section table or symbol table.
    #[error("not a valid COFF object: {0}")]
    Parse(String),
    /// A structure points outside the file or overlaps another one.
    #[error("malformed COFF object: {what} (file offset {offset:#x})")]
    Malformed { what: &'static str, offset: u64 },
    /// The requested edit cannot be done on this object.
    #[error("cannot patch: {0}")]
    Patch(String),
    /// A static library that cannot be read as one (the text says why).
    #[error("{0}")]
    Archive(String),
    /// A member of a static library is wrong; `cause` says how.
    #[error("archive member {member}: {cause}")]
    Member { member: String, cause: Box<Error> },
}

impl From<object::read::Error> for Error {
    fn from(e: object::read::Error) -> Self {
        Error::Parse(e.to_string())
    }
}

/// One relocation record of a section (`IMAGE_RELOCATION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relocation {
    /// Offset of the relocated field, relative to the start of the section's data.
    pub offset: u32,
    /// 0-based index into the symbol table.
    pub symbol: u32,
    /// Machine-specific relocation type (`IMAGE_REL_AMD64_SECREL`, …).
    pub typ: u16,
}

/// One section header, flattened.
#[derive(Debug, Clone)]
pub struct Section {
    /// 1-based section number, as symbols and `object` number them.
    pub number: u32,
    /// Name, long names resolved through the string table (`/4` → `.llvm_addrsig`).
    pub name: Vec<u8>,
    /// `Characteristics` (flags and alignment).
    pub flags: u32,
    /// File offset of this section's `IMAGE_SECTION_HEADER`.
    pub header_offset: u64,
    /// `SizeOfRawData`: the section's size, also for uninitialised data (`.bss`).
    pub size: u32,
    /// File range of the raw data; `None` for uninitialised data (`.bss`).
    pub data_range: Option<(u64, u64)>,
    /// File range of the relocation records, including the overflow count record if any.
    pub reloc_range: Option<(u64, u64)>,
    /// Whether `IMAGE_SCN_LNK_NRELOC_OVFL` is in use (first record holds the count).
    pub reloc_overflow: bool,
    /// File range of the COFF line numbers (obsolete, but moved like everything else).
    pub lines_range: Option<(u64, u64)>,
    /// The relocations (without the overflow count record).
    pub relocations: Vec<Relocation>,
}

impl Section {
    /// Whether the section is a COMDAT (`IMAGE_SCN_LNK_COMDAT`).
    pub fn is_comdat(&self) -> bool {
        self.flags & pe::IMAGE_SCN_LNK_COMDAT.0 != 0
    }
    /// Whether the loader maps the section writable (`IMAGE_SCN_MEM_WRITE`).
    pub fn is_writable(&self) -> bool {
        self.flags & pe::IMAGE_SCN_MEM_WRITE.0 != 0
    }
    /// Whether the loader maps the section readable (`IMAGE_SCN_MEM_READ`).
    pub fn is_readable(&self) -> bool {
        self.flags & pe::IMAGE_SCN_MEM_READ.0 != 0
    }
    /// The raw data, or an empty slice for `.bss`-like sections.
    pub fn data<'a>(&self, file: &'a [u8]) -> Result<&'a [u8], Error> {
        match self.data_range {
            None => Ok(&[]),
            Some((start, end)) => slice(file, start, end, "section data"),
        }
    }
}

/// One symbol table entry (not the auxiliary records that follow it).
#[derive(Debug, Clone)]
pub struct Symbol {
    /// 0-based index in the symbol table (auxiliary records count as entries).
    pub index: u32,
    pub name: Vec<u8>,
    pub value: u32,
    /// Raw section number: > 0 a 1-based section, 0 undefined, -1 absolute, -2 debug.
    pub section: i32,
    /// `IMAGE_SYM_CLASS_*`.
    pub storage_class: u8,
    /// `Type` field (`0x20` for functions).
    pub typ: u16,
    pub aux_count: u8,
    /// For a weak external: 0-based index of the default symbol.
    pub weak_default: Option<u32>,
    /// For a section symbol (static, type 0, with an aux section definition): the aux
    /// record's COMDAT `Selection` (`IMAGE_COMDAT_SELECT_*`; 0 when the section is no COMDAT).
    pub comdat_selection: Option<u8>,
}

impl Symbol {
    /// The 1-based section number when the symbol is defined in a section.
    pub fn defined_in(&self) -> Option<u32> {
        u32::try_from(self.section).ok().filter(|&s| s > 0)
    }

    /// Whether the type says "function" (`IMAGE_SYM_DTYPE_FUNCTION`, no base type: 0x20), as
    /// compilers type function symbols.
    pub fn is_function(&self) -> bool {
        pe::SymbolType(self.typ) == pe::IMAGE_SYM_DTYPE_FUNCTION.into()
    }
}

/// A parsed COFF object: everything the CodeView layer needs, with file offsets kept for patching.
#[derive(Debug, Clone)]
pub struct CoffObject {
    /// Whether the header is `ANON_OBJECT_HEADER_BIGOBJ`.
    pub bigobj: bool,
    /// `IMAGE_FILE_MACHINE_*`.
    pub machine: u16,
    pub sections: Vec<Section>,
    /// Symbols by 0-based index; auxiliary slots are `None`.
    pub symbols: Vec<Option<Symbol>>,
    /// File offset of the header's `PointerToSymbolTable` field.
    pub symtab_pointer_field: u64,
    /// File offset of the symbol table (0 when there is none).
    pub symtab_offset: u64,
    /// Size of one symbol table entry: 18, or 20 for `/bigobj`.
    pub symbol_size: u64,
    /// File range of the symbol table plus the string table.
    pub symtab_range: Option<(u64, u64)>,
}

/// File offset of `PointerToSymbolTable` in each header format (both headers start the file).
const REGULAR_SYMTAB_FIELD: u64 =
    std::mem::offset_of!(pe::ImageFileHeader, pointer_to_symbol_table) as u64;
const BIGOBJ_SYMTAB_FIELD: u64 =
    std::mem::offset_of!(pe::AnonObjectHeaderBigobj, pointer_to_symbol_table) as u64;
/// Sizes of the file structures, from `object`'s definitions of them (all unaligned, so these
/// are the on-disk sizes: 40, 10 and 6 bytes).
pub(crate) const SECTION_HEADER_SIZE: u64 = size_of::<pe::ImageSectionHeader>() as u64;
pub(crate) const RELOCATION_SIZE: u64 = size_of::<pe::ImageRelocation>() as u64;
const LINENUMBER_SIZE: u64 = size_of::<pe::ImageLinenumber>() as u64;

impl CoffObject {
    /// Parses `data`, a whole object file, in either header format.
    pub fn parse(data: &[u8]) -> Result<CoffObject, Error> {
        if is_bigobj(data) {
            parse_generic::<pe::AnonObjectHeaderBigobj>(data)
        } else {
            parse_generic::<pe::ImageFileHeader>(data)
        }
    }

    /// The section with 1-based number `number`.
    pub fn section(&self, number: u32) -> Option<&Section> {
        let i = usize::try_from(number.checked_sub(1)?).ok()?;
        self.sections.get(i)
    }

    /// The symbol at 0-based index `index` (not an auxiliary slot).
    pub fn symbol(&self, index: u32) -> Option<&Symbol> {
        self.symbols.get(usize::try_from(index).ok()?)?.as_ref()
    }

    /// Iterates over the real symbols (auxiliary slots skipped).
    pub fn iter_symbols(&self) -> impl Iterator<Item = &Symbol> {
        self.symbols.iter().flatten()
    }

    /// The section symbol (`IMAGE_SYM_CLASS_STATIC` with an aux section definition) of section
    /// `number`, whose aux record carries the section length and checksum.
    pub fn section_symbol(&self, number: u32) -> Option<&Symbol> {
        self.iter_symbols().find(|s| {
            s.storage_class == pe::IMAGE_SYM_CLASS_STATIC.0
                && s.typ == 0
                && s.aux_count > 0
                && s.defined_in() == Some(number)
                && s.value == 0
        })
    }

    /// The names of the functions this object defines, as written in its symbol table
    /// (x86's `_`, decorated names): every symbol defined in a section that is a function
    /// (`Type` 0x20) or lies in a code section, external, static or in a COMDAT, plus each weak
    /// external whose default is defined (GNU `__attribute__((weak))` functions).
    pub fn defined_functions(&self) -> impl Iterator<Item = &[u8]> {
        self.iter_symbols().filter_map(|s| {
            let defined = match s.defined_in() {
                Some(n) => {
                    pe::SymbolType(s.typ).derived_type() == pe::IMAGE_SYM_DTYPE_FUNCTION
                        || self
                            .section(n)
                            .is_some_and(|sec| sec.flags & pe::IMAGE_SCN_CNT_CODE.0 != 0)
                }
                None => {
                    s.storage_class == pe::IMAGE_SYM_CLASS_WEAK_EXTERNAL.0
                        && s.weak_default
                            .and_then(|d| self.symbol(d))
                            .and_then(Symbol::defined_in)
                            .is_some()
                }
            };
            // Section symbols (`.text$mn`) name no function.
            let section_symbol = s.storage_class == pe::IMAGE_SYM_CLASS_STATIC.0
                && s.typ == 0
                && s.aux_count > 0
                && s.value == 0;
            (defined && !section_symbol).then_some(s.name.as_slice())
        })
    }

    /// Human-readable machine name.
    pub fn machine_name(&self) -> &'static str {
        match pe::Machine(self.machine) {
            pe::IMAGE_FILE_MACHINE_AMD64 => "x86-64",
            pe::IMAGE_FILE_MACHINE_I386 => "x86",
            pe::IMAGE_FILE_MACHINE_ARM64 => "arm64",
            pe::IMAGE_FILE_MACHINE_ARMNT => "armnt",
            pe::IMAGE_FILE_MACHINE_ARM64EC => "arm64ec",
            _ => "unknown",
        }
    }
}

/// Whether `data` starts with an `ANON_OBJECT_HEADER_BIGOBJ`: an anonymous object header (`Sig1`
/// is `IMAGE_FILE_MACHINE_UNKNOWN`, `Sig2` 0xFFFF) with the bigobj class id.
fn is_bigobj(data: &[u8]) -> bool {
    object::pod::from_bytes::<pe::AnonObjectHeader>(data).is_ok_and(|(h, _)| {
        h.sig1.get(LE) == pe::IMAGE_FILE_MACHINE_UNKNOWN
            && h.sig2.get(LE) == 0xFFFF
            && h.class_id == pe::ANON_OBJECT_HEADER_BIGOBJ_CLASS_ID
    })
}

/// Little-endian `u32` at `at` in `bytes`, if it fits.
pub(crate) fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(b.try_into().ok()?))
}

fn slice<'a>(data: &'a [u8], start: u64, end: u64, what: &'static str) -> Result<&'a [u8], Error> {
    let s = usize::try_from(start).ok();
    let e = usize::try_from(end).ok();
    match (s, e) {
        (Some(s), Some(e)) if s <= e => data.get(s..e).ok_or(Error::Malformed {
            what,
            offset: start,
        }),
        _ => Err(Error::Malformed {
            what,
            offset: start,
        }),
    }
}

/// Reads the object under either header format `H`.
fn parse_generic<H: CoffHeader>(data: &[u8]) -> Result<CoffObject, Error> {
    let bigobj = H::is_type_bigobj();
    let mut offset = 0u64;
    let header = H::parse(data, &mut offset)?;
    let section_table = header.sections(data, offset)?;
    let symtab = header.symbols(data)?;
    let strings = symtab.strings();
    let symbol_size = size_of::<H::SymbolBytes>() as u64;

    let sections = section_table
        .iter()
        .enumerate()
        .map(|(i, h)| read_section(data, strings, offset, i, h))
        .collect::<Result<Vec<_>, _>>()?;
    let symbols = read_symbols(&symtab)?;
    let symtab_offset = u64::from(header.pointer_to_symbol_table());
    let symtab_range = symbol_table_range(data, symtab_offset, symtab.len() as u64 * symbol_size)?;

    Ok(CoffObject {
        bigobj,
        machine: header.machine().0,
        sections,
        symbols,
        symtab_pointer_field: if bigobj {
            BIGOBJ_SYMTAB_FIELD
        } else {
            REGULAR_SYMTAB_FIELD
        },
        symtab_offset,
        symbol_size,
        symtab_range,
    })
}

/// Section `i` (0-based) of the section table at `table_offset`: its header flattened, and the
/// file ranges of its data, relocations and line numbers checked to lie inside the file.
fn read_section(
    data: &[u8],
    strings: object::read::StringTable<'_>,
    table_offset: u64,
    i: usize,
    h: &pe::ImageSectionHeader,
) -> Result<Section, Error> {
    let file_len = data.len() as u64;
    let number = u32::try_from(i + 1).map_err(|_| Error::Parse("too many sections".into()))?;
    let header_offset = table_offset + (i as u64) * SECTION_HEADER_SIZE;
    let name = h.name(strings)?.to_vec();
    let flags = h.characteristics.get(LE).0;
    let data_range = match h.coff_file_range() {
        Some((off, size)) if size > 0 => {
            let end = u64::from(off) + u64::from(size);
            if end > file_len {
                return Err(Error::Malformed {
                    what: "section data past end of file",
                    offset: header_offset,
                });
            }
            Some((u64::from(off), end))
        }
        _ => None,
    };
    let relocs = h.coff_relocations(data)?;
    let reloc_overflow = h.number_of_relocations.get(LE) == u16::MAX
        && h.characteristics
            .get(LE)
            .contains(pe::IMAGE_SCN_LNK_NRELOC_OVFL);
    let reloc_count = relocs.len() as u64 + u64::from(reloc_overflow);
    let reloc_range = (reloc_count > 0).then(|| {
        let p = u64::from(h.pointer_to_relocations.get(LE));
        (p, p + reloc_count * RELOCATION_SIZE)
    });
    let nlines = u64::from(h.number_of_linenumbers.get(LE));
    let lines_range = (nlines > 0).then(|| {
        let p = u64::from(h.pointer_to_linenumbers.get(LE));
        (p, p + nlines * LINENUMBER_SIZE)
    });
    if let Some((_, end)) = lines_range {
        if end > file_len {
            return Err(Error::Malformed {
                what: "line numbers past end of file",
                offset: header_offset,
            });
        }
    }
    let relocations = relocs
        .iter()
        .map(|r| Relocation {
            offset: r.virtual_address.get(LE),
            symbol: r.symbol_table_index.get(LE),
            typ: r.typ.get(LE).0,
        })
        .collect();
    Ok(Section {
        number,
        name,
        flags,
        header_offset,
        size: h.size_of_raw_data.get(LE),
        data_range,
        reloc_range,
        reloc_overflow,
        lines_range,
        relocations,
    })
}

/// Every symbol record, by index: `Some` for a symbol, `None` for each of its auxiliary records.
fn read_symbols<'d, H: CoffHeader>(
    symtab: &object::read::coff::SymbolTable<'d, &'d [u8], H>,
) -> Result<Vec<Option<Symbol>>, Error> {
    let strings = symtab.strings();
    let nsyms = symtab.len();
    let mut symbols: Vec<Option<Symbol>> = Vec::with_capacity(nsyms);
    let mut i = 0usize;
    while i < nsyms {
        let index = object::SymbolIndex(i);
        let sym = symtab.symbol(index)?;
        let aux_count = sym.number_of_aux_symbols();
        let weak_default = if sym.has_aux_weak_external() {
            Some(symtab.aux_weak_external(index)?.default_symbol().0 as u32)
        } else {
            None
        };
        let comdat_selection = if sym.has_aux_section() {
            Some(symtab.aux_section(index)?.selection.0)
        } else {
            None
        };
        symbols.push(Some(Symbol {
            index: i as u32,
            name: sym.name(strings)?.to_vec(),
            value: sym.value(),
            section: sym.section_number().0,
            storage_class: sym.storage_class().0,
            typ: sym.typ().0,
            aux_count,
            weak_default,
            comdat_selection,
        }));
        for _ in 0..aux_count {
            if symbols.len() < nsyms {
                symbols.push(None);
            }
        }
        i += 1 + usize::from(aux_count);
    }
    Ok(symbols)
}

/// The file range of the symbol table at `symtab_offset` (`symbols_size` bytes of records) and
/// the string table after it; `None` when the object has no symbol table.
fn symbol_table_range(
    data: &[u8],
    symtab_offset: u64,
    symbols_size: u64,
) -> Result<Option<(u64, u64)>, Error> {
    if symtab_offset == 0 {
        return Ok(None);
    }
    // The string table follows the symbols; its first u32 is its own length.
    let strings_at = symtab_offset + symbols_size;
    let len_bytes = slice(data, strings_at, strings_at + 4, "string table length")?;
    let len = read_u32(len_bytes, 0).ok_or(Error::Malformed {
        what: "string table length",
        offset: strings_at,
    })?;
    let end = strings_at + u64::from(len.max(4));
    if end > data.len() as u64 {
        return Err(Error::Malformed {
            what: "string table past end of file",
            offset: strings_at,
        });
    }
    Ok(Some((symtab_offset, end)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbol_table_pointer_fields() {
        assert_eq!(REGULAR_SYMTAB_FIELD, 8);
        assert_eq!(BIGOBJ_SYMTAB_FIELD, 48);
    }

    #[test]
    fn structure_sizes_are_the_on_disk_sizes() {
        assert_eq!(SECTION_HEADER_SIZE, 40);
        assert_eq!(RELOCATION_SIZE, 10);
        assert_eq!(LINENUMBER_SIZE, 6);
        assert_eq!(size_of::<pe::ImageSymbolBytes>(), 18);
        assert_eq!(size_of::<pe::ImageSymbolExBytes>(), 20);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(CoffObject::parse(b"").is_err());
        assert!(CoffObject::parse(&[0u8; 3]).is_err());
        assert!(CoffObject::parse(&[0, 0, 0xff, 0xff, 2, 0]).is_err());
    }
}
