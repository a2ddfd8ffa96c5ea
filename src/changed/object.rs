//! One object of a build, read once and indexed for the comparison: each section's
//! relocations in offset order, the function symbols of each code section (one function a
//! section, or [`Error::SharedSection`]), where the pieces of each data section start, and the
//! named data at each position; and from these, the functions and globals it defines
//! ([`Place`], [`Global`]) under their [`Key`].
//!
//! Which sections are never compared ([`ignored`]) and which symbols have no name of their own
//! ([`unnamed`]) is decided here. What two versions of a function or global have in common is
//! not: see `print.rs`.

use super::fields::{field, Field};
use super::report::{Error, Side};
use super::{Global, GlobalKind, Key, Place};
use crate::coff::{CoffObject, Relocation};
use object::pe;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};

/// One parsed object and what the comparison needs to find its way in it.
pub(super) struct Obj<'a> {
    pub(super) name: &'a str,
    pub(super) data: &'a [u8],
    pub(super) coff: CoffObject,
    /// Relocations of each section (index: number − 1), in offset order; empty for ignored ones.
    pub(super) relocs: Vec<Vec<Relocation>>,
    /// Function symbols `(offset, symbol index)` of each code section, in offset order.
    pub(super) funcs: Vec<Vec<(u32, u32)>>,
    /// Where pieces of each data section start: symbols and positions that relocations through
    /// section symbols point at, in order.
    pub(super) bounds: Vec<Vec<u32>>,
    /// Named data symbol starting at `(section, offset)`; ordered, so that of two globals
    /// with one key (a damaged string table) the same one is taken in every run.
    pub(super) named_at: BTreeMap<(u32, u32), u32>,
    /// The pieces already hashed, by `(section, start)` (see [`Obj::piece`]).
    pub(super) memo: RefCell<HashMap<(u32, u32), Piece>>,
    /// How deep [`Obj::piece`] is nested (bounded, so that no input can exhaust the stack).
    pub(super) depth: Cell<u32>,
}

/// A memoised unnamed piece of data (see [`Obj::piece`]).
#[derive(Clone)]
pub(super) struct Piece {
    pub(super) hash: u64,
    pub(super) refs: Vec<u32>,
}

/// Symbols of one object sorted by the job they do in the comparison.
struct SymbolIndex {
    funcs: Vec<Vec<(u32, u32)>>,
    bounds: Vec<Vec<u32>>,
    named_at: BTreeMap<(u32, u32), u32>,
}

impl<'a> Obj<'a> {
    /// Reads and indexes one object. Errors name [`Side::Base`]; the caller knows the side.
    pub(super) fn new(name: &'a str, data: &'a [u8]) -> Result<Obj<'a>, Error> {
        let coff = CoffObject::parse(data).map_err(|source| Error::Coff {
            side: Side::Base,
            object: name.to_string(),
            source,
        })?;
        let relocs = sorted_relocations(&coff);
        let SymbolIndex {
            funcs,
            bounds,
            named_at,
        } = index_symbols(&coff);
        check_one_function_per_section(name, &coff, &funcs)?;
        let mut obj = Obj {
            name,
            data,
            coff,
            relocs,
            funcs,
            bounds,
            named_at,
            memo: RefCell::new(HashMap::new()),
            depth: Cell::new(0),
        };
        obj.add_reached_bounds();
        Ok(obj)
    }

    /// Adds the piece starts that only relocations reveal: positions that relocations reach
    /// through section symbols, and the positions that relative lookup tables at those reach
    /// (see [`Obj::relative_entries`]).
    fn add_reached_bounds(&mut self) {
        let mut targets = Vec::new();
        for (sec, r) in self.code_and_data_relocations() {
            if let Some((tsec, off)) = self.unnamed_target(sec, r) {
                targets.push((tsec, off));
            }
        }
        self.add_bounds(&targets);
        let mut reached = Vec::new();
        for &(tsec, off) in &targets {
            if self.funcs[tsec as usize - 1].is_empty() {
                let end = self.piece_end(tsec, off);
                reached.extend(
                    self.relative_entries(tsec, off, end)
                        .into_iter()
                        .map(|a| (tsec, a)),
                );
            }
        }
        self.add_bounds(&reached);
    }

    pub(super) fn add_bounds(&mut self, at: &[(u32, u32)]) {
        for &(sec, off) in at {
            self.bounds[sec as usize - 1].push(off);
        }
        for b in &mut self.bounds {
            b.sort_unstable();
            b.dedup();
        }
    }

    /// Every relocation of a section that is not ignored, with its section number.
    pub(super) fn code_and_data_relocations(&self) -> impl Iterator<Item = (u32, &Relocation)> {
        self.relocs
            .iter()
            .enumerate()
            .flat_map(|(i, rs)| rs.iter().map(move |r| (i as u32 + 1, r)))
    }

    pub(super) fn section_data(&self, number: u32) -> &'a [u8] {
        self.coff
            .section(number)
            .and_then(|s| s.data(self.data).ok())
            .unwrap_or(&[])
    }

    pub(super) fn section_size(&self, number: u32) -> u32 {
        self.coff.section(number).map_or(0, |s| s.size)
    }

    pub(super) fn section_name(&self, number: u32) -> String {
        self.coff.section(number).map_or_else(String::new, |s| {
            String::from_utf8_lossy(&s.name).into_owned()
        })
    }

    /// The relocated field of `r` in section `sec`: addend and how to zero it.
    pub(super) fn field(&self, sec: u32, r: &Relocation) -> Option<Field> {
        field(self.coff.machine, r.typ, self.section_data(sec), r.offset)
    }

    /// `(section, offset)` that `r` points at when its symbol has no name of its own.
    pub(super) fn unnamed_target(&self, sec: u32, r: &Relocation) -> Option<(u32, u32)> {
        let sym = self.coff.symbol(r.symbol)?;
        let tsec = sym.defined_in()?;
        if !unnamed(&self.coff, sym) {
            return None;
        }
        let t = self.coff.section(tsec)?;
        if ignored(&t.name, t.flags) {
            return None;
        }
        let addend = self.field(sec, r).map_or(0, |f| f.addend);
        let off = i64::from(sym.value) + addend;
        Some((tsec, u32::try_from(off).ok()?))
    }

    /// The function whose code holds `offset` of section `sec`.
    pub(super) fn function_at(&self, sec: u32, offset: u32) -> Option<&[u8]> {
        let list = self.funcs.get(sec as usize - 1)?;
        let i = list.partition_point(|&(v, _)| v <= offset);
        let (_, s) = list.get(i.checked_sub(1)?)?;
        Some(&self.coff.symbol(*s)?.name)
    }

    /// End of the piece of section `sec` that starts at `start`.
    pub(super) fn piece_end(&self, sec: u32, start: u32) -> u32 {
        let b = &self.bounds[sec as usize - 1];
        let i = b.partition_point(|&x| x <= start);
        b.get(i)
            .copied()
            .unwrap_or_else(|| self.section_size(sec))
            .max(start)
    }

    /// Every function with its key and place.
    pub(super) fn functions(&self, object: usize) -> Vec<(Key<'_>, Place)> {
        let mut out = Vec::new();
        for (i, list) in self.funcs.iter().enumerate() {
            let sec = i as u32 + 1;
            let end = self.section_size(sec);
            for &(start, s) in list {
                let place = Place {
                    object,
                    section: sec,
                    start,
                    end: end.max(start),
                };
                out.push((self.key_of(s), place));
            }
        }
        out
    }

    /// Every named global (data symbol or common symbol) with its key and extent.
    pub(super) fn globals(&self, object: usize) -> Vec<(Key<'_>, Global)> {
        let mut out = Vec::new();
        for (&(sec, start), &s) in &self.named_at {
            let Some(section) = self.coff.section(sec) else {
                continue;
            };
            let kind = if section.name.starts_with(b".tls") {
                GlobalKind::ThreadLocal
            } else if section.is_writable() {
                GlobalKind::Writable
            } else {
                GlobalKind::ReadOnly
            };
            out.push((
                self.key_of(s),
                Global {
                    object,
                    section: sec,
                    start,
                    size: self.piece_end(sec, start) - start,
                    kind,
                },
            ));
        }
        for sym in self.coff.iter_symbols() {
            if sym.section == 0
                && sym.value > 0
                && sym.storage_class == pe::IMAGE_SYM_CLASS_EXTERNAL.0
            {
                out.push((
                    (None, &sym.name),
                    Global {
                        object,
                        section: 0,
                        start: 0,
                        size: sym.value,
                        kind: GlobalKind::Writable,
                    },
                ));
            }
        }
        out
    }

    /// The key of symbol `s`: a static is scoped to this object.
    pub(super) fn key_of(&self, s: u32) -> Key<'_> {
        match self.coff.symbol(s) {
            Some(sym) if sym.storage_class == pe::IMAGE_SYM_CLASS_STATIC.0 => {
                (Some(self.name), &sym.name)
            }
            Some(sym) => (None, &sym.name),
            None => (None, b""),
        }
    }

    /// The name `-fms-hotpatch-functions-file` takes for the COFF symbol `name`: x86 adds a
    /// `_` to C names (which the IR does not have) and the IR spells stdcall, fastcall and
    /// vectorcall names with a leading `\x01`; other machines use the names as they are.
    pub(super) fn ir_name(&self, name: &[u8]) -> Vec<u8> {
        crate::codeview::hotpatch::ir_name(self.coff.machine, name).into_owned()
    }

    /// The positions a relative lookup table at `[start, end)` points at. LLVM turns a switch
    /// over constants into a table of 32-bit offsets from the table's start (`switch.reltable`);
    /// the assembler resolves them, so no relocation names the strings they reach. A piece
    /// without relocations whose every 32-bit entry lands inside its section is read as such a
    /// table. Reading an ordinary array as one only compares more bytes than needed.
    pub(super) fn relative_entries(&self, sec: u32, start: u32, end: u32) -> Vec<u32> {
        let size = end - start;
        let data = self.section_data(sec);
        let Some(bytes) = data.get(start as usize..end as usize) else {
            return Vec::new();
        };
        let rs = &self.relocs[sec as usize - 1];
        let first = rs.partition_point(|r| r.offset < start);
        if size < 8 || size % 4 != 0 || rs.get(first).is_some_and(|r| r.offset < end) {
            return Vec::new();
        }
        let total = i64::from(self.section_size(sec));
        let table = i64::from(start)..i64::from(end);
        let mut out = Vec::with_capacity(bytes.len() / 4);
        for e in bytes.chunks_exact(4) {
            let off = i64::from(i32::from_le_bytes([e[0], e[1], e[2], e[3]]));
            let at = i64::from(start) + off;
            if !(0..total).contains(&at) || table.contains(&at) {
                return Vec::new();
            }
            out.push(at as u32);
        }
        out
    }
}

/// Each section's relocations (index: number − 1) in offset order; none for ignored sections.
fn sorted_relocations(coff: &CoffObject) -> Vec<Vec<Relocation>> {
    let mut relocs = vec![Vec::new(); coff.sections.len()];
    for s in &coff.sections {
        if !ignored(&s.name, s.flags) {
            let mut r = s.relocations.clone();
            r.sort_by_key(|r| r.offset);
            relocs[s.number as usize - 1] = r;
        }
    }
    relocs
}

/// The named external and static symbols of compared sections: functions in code sections (in
/// offset order), piece starts and named data in data sections.
fn index_symbols(coff: &CoffObject) -> SymbolIndex {
    let n = coff.sections.len();
    let mut funcs = vec![Vec::new(); n];
    let mut bounds = vec![vec![0u32]; n];
    let mut named_at = BTreeMap::new();
    for sym in coff.iter_symbols() {
        let Some(sec) = sym.defined_in().and_then(|n| coff.section(n)) else {
            continue;
        };
        let i = sec.number as usize - 1;
        if ignored(&sec.name, sec.flags) || unnamed(coff, sym) {
            continue;
        }
        if sym.storage_class != pe::IMAGE_SYM_CLASS_EXTERNAL.0
            && sym.storage_class != pe::IMAGE_SYM_CLASS_STATIC.0
        {
            continue;
        }
        if is_code(sec.flags) && sym.typ >> 4 == pe::IMAGE_SYM_DTYPE_FUNCTION.0 {
            funcs[i].push((sym.value, sym.index));
        } else if !is_code(sec.flags) {
            bounds[i].push(sym.value);
            named_at.entry((sec.number, sym.value)).or_insert(sym.index);
        }
    }
    for list in &mut funcs {
        list.sort();
    }
    SymbolIndex {
        funcs,
        bounds,
        named_at,
    }
}

/// Two functions at different offsets of one code section: the object was built without
/// function-level sections, and a function's extent cannot be told.
fn check_one_function_per_section(
    name: &str,
    coff: &CoffObject,
    funcs: &[Vec<(u32, u32)>],
) -> Result<(), Error> {
    for (i, list) in funcs.iter().enumerate() {
        if let Some(w) = list.windows(2).find(|w| w[0].0 != w[1].0) {
            let nm = |s: u32| {
                let n = coff.symbol(s).map(|s| s.name.as_slice()).unwrap_or(b"?");
                String::from_utf8_lossy(n).into_owned()
            };
            return Err(Error::SharedSection {
                side: Side::Base,
                object: name.to_string(),
                section: String::from_utf8_lossy(&coff.sections[i].name).into_owned(),
                first: nm(w[0].1),
                second: nm(w[1].1),
            });
        }
    }
    Ok(())
}

/// Sections never compared: debug information, linker directives, the address-significance
/// table, and anything the linker drops.
pub(super) fn ignored(name: &[u8], flags: u32) -> bool {
    name.starts_with(b".debug")
        || name == b".llvm_addrsig"
        || name == b".drectve"
        || flags & (pe::IMAGE_SCN_LNK_REMOVE.0 | pe::IMAGE_SCN_LNK_INFO.0) != 0
}

pub(super) fn is_code(flags: u32) -> bool {
    flags & pe::IMAGE_SCN_CNT_CODE.0 != 0
}

/// Whether `sym` has no name of its own: a section symbol or a private label.
pub(super) fn unnamed(coff: &CoffObject, sym: &crate::coff::Symbol) -> bool {
    if sym.storage_class == pe::IMAGE_SYM_CLASS_LABEL.0 || sym.name.starts_with(b".L") {
        return true;
    }
    sym.storage_class == pe::IMAGE_SYM_CLASS_STATIC.0
        && sym.value == 0
        && sym.aux_count > 0
        && sym
            .defined_in()
            .and_then(|n| coff.section(n))
            .is_some_and(|s| s.name == sym.name)
}
