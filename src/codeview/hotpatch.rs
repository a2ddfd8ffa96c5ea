//! `S_HOTPATCHFUNC`: the record encoder, the name → `LF_FUNC_ID` mapping, and [`inject`].
//!
//! Where and how clang 22 writes the records (LLVM `CodeViewDebug::endModule` and
//! `emitSecureHotPatchInformation`): one Symbols subsection (0xF1) in the object's first
//! non-COMDAT `.debug$S`, right after the subsection that holds `S_OBJNAME` and `S_COMPILE3`,
//! one record per marked function in IR module order. A record is kind 0x1169, the `u32`
//! `LF_FUNC_ID` of the function, and the IR name NUL-terminated, zero-padded to 4.
//!
//! The function ID of a function is the `FunctionType` field of its `S_GPROC32_ID` /
//! `S_LPROC32_ID`, found through the `SECREL` relocation on that record's code offset, which
//! names the function's COFF symbol. That works for overloads, statics, and COMDAT functions
//! whose records sit in associative `.debug$S` sections.
//!
//! Module order is not stored in an object, so it is rebuilt from what is: code generation
//! emits functions in module order, so functions of one non-COMDAT section are in module order
//! by offset, and COMDAT sections (`/Gy`, inline functions, templates) are created in module
//! order, so they are in module order by section number. Those chains are interleaved by
//! `LF_FUNC_ID` index, which code generation allocates in module order apart from inlined
//! callees. With `/Gy` there is a single chain and the order is exact.
//!
//! Does not touch COFF bytes itself ([`crate::coff::patch`] does), nor `.debug$T`.

use super::{
    section_symbols, subsections, symbol_records, Error, InjectReport, Injected, Subsection, Where,
    DEBUG_S_SYMBOLS,
};
use crate::coff::{self, patch, CoffObject, Section};
use crate::hotlist::HotList;
use ms_codeview::syms::{Proc, SymKind};
use object::pe;
use std::collections::{HashMap, HashSet};

/// Longest name LLVM writes in a symbol record (`MaxRecordLength - 0xF00 - 1`); longer names
/// are cut, as `emitNullTerminatedSymbolName` does.
const MAX_NAME: usize = 0xFF00 - 0xF00 - 1;
/// Offset of `CodeOffset` in a `PROCSYM32` payload (after the kind), where the SECREL sits.
const PROC_CODE_OFFSET: usize = 28;

/// Encodes one `S_HOTPATCHFUNC` record: `u16` length, `u16` kind, `u32` function ID, the name
/// NUL-terminated, then zeros up to a multiple of 4 (the length counts them).
///
/// Hand-written: ms-codeview 0.1.7's `SymBuilder` stops 2 bytes short of the 4-byte alignment
/// and pads with `F1 F2 F3` where clang writes zeros.
pub fn encode_record(func_id: u32, name: &[u8]) -> Vec<u8> {
    let name = name.get(..MAX_NAME).unwrap_or(name);
    let unpadded = 2 + 2 + 4 + name.len() + 1;
    let total = unpadded.next_multiple_of(4);
    let mut out = Vec::with_capacity(total);
    // MAX_NAME keeps `total - 2` below 0xFF00.
    out.extend_from_slice(&((total - 2) as u16).to_le_bytes());
    out.extend_from_slice(&SymKind::S_HOTPATCHFUNC.0.to_le_bytes());
    out.extend_from_slice(&func_id.to_le_bytes());
    out.extend_from_slice(name);
    out.resize(total, 0);
    out
}

/// The payload of an `S_HOTPATCHFUNC` (after the kind): the function ID and the name up to its
/// NUL (or the end of the record if there is none); `None` when the ID does not fit.
pub fn parse_record(payload: &[u8]) -> Option<(u32, &[u8])> {
    let id = super::u32_at(payload, 0)?;
    let name = payload
        .get(4..)?
        .split(|&b| b == 0)
        .next()
        .unwrap_or_default();
    Some((id, name))
}

/// Frames `records` (each already a multiple of 4 long) as one Symbols subsection.
pub fn encode_subsection<R: AsRef<[u8]>>(records: &[R]) -> Vec<u8> {
    let len: usize = records.iter().map(|r| r.as_ref().len()).sum();
    let mut out = Vec::with_capacity(8 + len);
    out.extend_from_slice(&DEBUG_S_SYMBOLS.to_le_bytes());
    out.extend_from_slice(&(len as u32).to_le_bytes());
    for r in records {
        out.extend_from_slice(r.as_ref());
    }
    out
}

/// A procedure of the object with CodeView records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Procedure {
    /// The name as in LLVM IR (and in `S_HOTPATCHFUNC`): the COFF name without x86 decoration.
    pub ir_name: Vec<u8>,
    /// The COFF symbol name.
    pub symbol_name: Vec<u8>,
    /// `LF_FUNC_ID` / `LF_MFUNC_ID` item index from the `S_*PROC32_ID`.
    pub func_id: u32,
    /// 1-based section and offset of the code.
    pub section: u32,
    pub offset: u32,
    /// Code length from the procedure record.
    pub code_len: u32,
    /// Whether the record is `S_LPROC32_ID` (a static function).
    pub local: bool,
}

/// An `S_HOTPATCHFUNC` record already present in the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotPatchRecord {
    pub func_id: u32,
    pub name: Vec<u8>,
    /// 1-based `.debug$S` section and the record's range in it.
    pub section: u32,
    pub range: (usize, usize),
}

/// Everything of the object's CodeView the injection and the dump need.
#[derive(Debug, Clone)]
pub struct Scan {
    pub obj: CoffObject,
    /// Procedures in (rebuilt) module order.
    pub procedures: Vec<Procedure>,
    pub hotpatch: Vec<HotPatchRecord>,
    /// Every procedure record (`SymKind::is_proc`) in record order: its type-or-ID field and
    /// display name. The PDB fix-up pairs them with the linked module's procedures.
    pub proc_records: Vec<(u32, Vec<u8>)>,
}

impl Scan {
    /// Every relocation inside the code of a function that has an `S_HOTPATCHFUNC` record,
    /// with that function: what `dump` and `verify` inspect for direct accesses.
    pub fn hotpatched_code_relocations(
        &self,
    ) -> impl Iterator<Item = (&Procedure, &crate::coff::Relocation)> + '_ {
        self.hotpatch.iter().flat_map(move |r| {
            let proc_and_code = self
                .procedures
                .iter()
                .find(|p| p.ir_name == r.name)
                .and_then(|p| Some((p, self.obj.section(p.section)?)));
            proc_and_code.into_iter().flat_map(|(p, code)| {
                let end = p.offset.saturating_add(p.code_len);
                code.relocations
                    .iter()
                    .filter(move |x| x.offset >= p.offset && x.offset < end)
                    .map(move |x| (p, x))
            })
        })
    }
}

fn is_debug_s(s: &Section) -> bool {
    s.name == b".debug$S"
}

fn where_of(s: &Section) -> Where<'_> {
    Where {
        section: s.number,
        name: &s.name,
    }
}

/// The IR name of a COFF symbol name, as clang names functions in IR (and in
/// `S_HOTPATCHFUNC`).
///
/// - C++ names (`?…`) are the same in IR and COFF.
/// - Names with calling-convention decoration are spelled in IR as the decorated name behind
///   LLVM's "do not mangle" byte 0x01: x86 `__stdcall` `_f@8` and `__fastcall` `@f@8`, and
///   `__vectorcall` `f@@8` on every machine (measured: clang-cl 19 and 22 name them
///   `"\01_std_add@8"` in IR and clang 22 writes that byte into the record's name).
/// - Other x86 names lose the C underscore (`_bump` → `bump`).
pub fn ir_name(machine: u16, coff_name: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    use std::borrow::Cow;
    if coff_name.first() == Some(&b'?') {
        return Cow::Borrowed(coff_name);
    }
    // Whether `n` ends in `sep` followed by one or more decimal digits.
    let ends_with_count = |n: &[u8], sep: &[u8]| -> bool {
        n.windows(sep.len())
            .rposition(|w| w == sep)
            .is_some_and(|at| {
                let digits = n.get(at + sep.len()..).unwrap_or_default();
                !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
            })
    };
    let unmangled = |n: &[u8]| Cow::Owned([&[1u8][..], n].concat());
    if ends_with_count(coff_name, b"@@") {
        return unmangled(coff_name);
    }
    if machine != pe::IMAGE_FILE_MACHINE_I386.0 {
        return Cow::Borrowed(coff_name);
    }
    match coff_name.split_first() {
        // A C++ name inside (`___ref_??_B?1??f@@YAHXZ@51`, the `__ref_` of a static local's
        // guard) is not a `__stdcall`/`__fastcall` C name, whatever it ends with.
        Some((b'_' | b'@', rest)) if ends_with_count(rest, b"@") && !rest.contains(&b'?') => {
            unmangled(coff_name)
        }
        Some((b'_', rest)) => Cow::Borrowed(rest),
        _ => Cow::Borrowed(coff_name),
    }
}

/// Reads the procedures and existing `S_HOTPATCHFUNC` records of `data`.
pub fn scan(data: &[u8]) -> Result<Scan, Error> {
    let obj = CoffObject::parse(data)?;
    let mut procedures = Vec::new();
    let mut hotpatch = Vec::new();
    let mut proc_records = Vec::new();
    for section in obj.sections.iter().filter(|s| is_debug_s(s)) {
        let w = where_of(section);
        let bytes = section.data(data)?;
        // Relocations by offset, sorted: cheaper than hashing for the 10^5 relocations of a
        // big .debug$S (LLVM writes them in order already, so the sort is a quick check).
        let mut relocs: Vec<&coff::Relocation> = section.relocations.iter().collect();
        relocs.sort_by_key(|r| r.offset);
        for rec in section_symbols(bytes).map_err(|m| w.malformed(m))? {
            let kind = SymKind(rec.kind);
            if kind.is_proc() {
                // Objects hold the `_ID` forms; the others are only listed, as a linker would.
                let with_id = kind == SymKind::S_GPROC32_ID || kind == SymKind::S_LPROC32_ID;
                match rec.sym(bytes).parse_as::<Proc>() {
                    Ok(proc) => {
                        proc_records.push((proc.fixed.proc_type.get().0, proc.name.to_vec()));
                        if with_id {
                            procedures.push(procedure(&obj, &relocs, w, &rec, &proc)?);
                        }
                    }
                    Err(_) if with_id => {
                        return Err(w.err(rec.range.start, "truncated procedure record"));
                    }
                    Err(_) => {}
                }
            } else if kind == SymKind::S_HOTPATCHFUNC {
                let (func_id, name) = parse_record(rec.payload(bytes))
                    .ok_or_else(|| w.err(rec.range.start, "truncated S_HOTPATCHFUNC record"))?;
                hotpatch.push(HotPatchRecord {
                    func_id,
                    name: name.to_vec(),
                    section: section.number,
                    range: (rec.range.start, rec.range.end),
                });
            }
        }
    }
    module_order(&mut procedures, &obj);
    Ok(Scan {
        obj,
        procedures,
        hotpatch,
        proc_records,
    })
}

/// The procedure of an `S_GPROC32_ID` / `S_LPROC32_ID` record `rec`: its code is where the
/// `SECREL` relocation on the record's code offset points.
fn procedure(
    obj: &CoffObject,
    relocs: &[&coff::Relocation],
    w: Where,
    rec: &super::Record,
    proc: &Proc,
) -> Result<Procedure, Error> {
    let field = u32::try_from(rec.range.start + 4 + PROC_CODE_OFFSET)
        .map_err(|_| w.err(rec.range.start, "record offset too large"))?;
    let found = relocs.binary_search_by_key(&field, |r| r.offset).ok();
    let Some(reloc) = found.and_then(|i| relocs.get(i)) else {
        return Err(w.err(
            rec.range.start,
            "procedure record without a relocation on its code offset",
        ));
    };
    let target = obj.symbol(reloc.symbol).ok_or_else(|| {
        w.err(
            rec.range.start,
            format!("relocation to missing symbol {}", reloc.symbol),
        )
    })?;
    let Some(code_section) = target.defined_in() else {
        return Err(w.err(
            rec.range.start,
            "procedure relocation targets an undefined symbol",
        ));
    };
    Ok(Procedure {
        ir_name: ir_name(obj.machine, &target.name).into_owned(),
        symbol_name: target.name.clone(),
        func_id: proc.fixed.proc_type.get().0,
        section: code_section,
        offset: target
            .value
            .wrapping_add(proc.fixed.offset_segment.offset.get()),
        code_len: proc.fixed.proc_len.get(),
        local: SymKind(rec.kind) == SymKind::S_LPROC32_ID,
    })
}

/// Puts `procs` in module order (see the module documentation for why this works).
fn module_order(procs: &mut Vec<Procedure>, obj: &CoffObject) {
    let comdat = |p: &Procedure| obj.section(p.section).is_some_and(Section::is_comdat);
    // Chain key: every COMDAT section in one chain (u32::MAX), else one chain per section.
    let mut chains: Vec<(u32, Vec<Procedure>)> = Vec::new();
    let mut sorted = std::mem::take(procs);
    sorted.sort_by_key(|p| (p.section, p.offset, p.func_id));
    for p in sorted {
        let key = if comdat(&p) { u32::MAX } else { p.section };
        match chains.iter_mut().find(|(k, _)| *k == key) {
            Some((_, chain)) => chain.push(p),
            None => chains.push((key, vec![p])),
        }
    }
    let mut heads: Vec<std::collections::VecDeque<Procedure>> =
        chains.into_iter().map(|(_, c)| c.into()).collect();
    while let Some(best) = heads
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.front().map(|p| (p.func_id, i)))
        .min()
        .map(|(_, i)| i)
    {
        if let Some(p) = heads.get_mut(best).and_then(|c| c.pop_front()) {
            procs.push(p);
        }
    }
}

/// Adds an `S_HOTPATCHFUNC` record for every function of `functions` that `object` (a COFF
/// object file's bytes) defines with CodeView debug info, exactly where clang 22 puts them.
/// Idempotent: names that already have a record get no second one, and when nothing is
/// missing the output is the input, byte for byte.
pub fn inject(object: &[u8], functions: &HotList) -> Result<Injected, Error> {
    let scan = scan(object)?;
    let obj = &scan.obj;
    let Plan {
        report,
        new_records,
        position,
    } = plan(&scan, functions);
    if new_records.is_empty() {
        return Ok(Injected {
            bytes: object.to_vec(),
            report,
        });
    }

    let target = obj
        .sections
        .iter()
        .find(|s| is_debug_s(s) && !s.is_comdat())
        .ok_or(Error::NoDebugSection)?;
    let w = where_of(target);
    let bytes = target.data(object)?;
    if bytes.is_empty() {
        return Err(w.err(0, "the .debug$S section is empty"));
    }
    let subs = subsections(bytes).map_err(|m| w.malformed(m))?;
    let (at, merge) = insertion_point(bytes, &subs).map_err(|m| w.malformed(m))?;
    let remove = merge.map_or(0, |sub| sub.end - sub.start);
    let records =
        records_in_module_order(&scan, target.number, bytes, merge, &position, new_records);
    let insert = encode_subsection(&records);

    let to_u32 = |v: usize| u32::try_from(v).map_err(|_| w.err(v, "section too large"));
    let splice = patch::Splice {
        section: target.number,
        at: to_u32(at)?,
        remove: to_u32(remove)?,
        insert,
    };
    let bytes = patch::splice(object, obj, &splice)?;
    Ok(Injected { bytes, report })
}

/// What [`inject`] is to do, decided from the scan before any byte is touched.
struct Plan<'s> {
    /// What becomes of each name of the list.
    report: InjectReport,
    /// The records to add, each with the module position of its function.
    new_records: Vec<(usize, Vec<u8>)>,
    /// The module position (index in `Scan::procedures`) of each IR name's first procedure.
    position: HashMap<&'s [u8], usize>,
}

/// Decides which functions of `functions` get a new record (those the object defines with a
/// procedure record and that have no `S_HOTPATCHFUNC` yet, once per name) and reports every
/// name of the list.
fn plan<'s>(scan: &'s Scan, functions: &HotList) -> Plan<'s> {
    let existing: HashSet<&[u8]> = scan.hotpatch.iter().map(|r| r.name.as_slice()).collect();
    let mut report = InjectReport::default();
    let mut seen: HashSet<&[u8]> = HashSet::new();
    let mut new_records: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut position: HashMap<&[u8], usize> = HashMap::new();
    for (pos, p) in scan.procedures.iter().enumerate() {
        position.entry(p.ir_name.as_slice()).or_insert(pos);
        if !functions.contains(&p.ir_name) || !seen.insert(&p.ir_name) {
            continue;
        }
        report.recorded.push(p.ir_name.clone());
        if !existing.contains(p.ir_name.get(..MAX_NAME).unwrap_or(&p.ir_name)) {
            new_records.push((pos, encode_record(p.func_id, &p.ir_name)));
        }
    }
    report_without_procedure(&scan.obj, functions, &seen, &existing, &mut report);
    Plan {
        report,
        new_records,
        position,
    }
}

/// Reports the names of `functions` that no procedure record answers (not in `seen`): recorded
/// when an `S_HOTPATCHFUNC` of that name is already there (`existing`), without debug info
/// when a code section of `obj` defines the symbol, else not defined.
fn report_without_procedure(
    obj: &CoffObject,
    functions: &HotList,
    seen: &HashSet<&[u8]>,
    existing: &HashSet<&[u8]>,
    report: &mut InjectReport,
) {
    let code_symbols: HashSet<Vec<u8>> = obj
        .iter_symbols()
        .filter(|s| {
            s.defined_in()
                .and_then(|n| obj.section(n))
                .is_some_and(|sec| sec.flags & pe::IMAGE_SCN_CNT_CODE.0 != 0)
        })
        .map(|s| ir_name(obj.machine, &s.name).into_owned())
        .collect();
    for name in functions.iter() {
        if seen.contains(name) {
            continue;
        }
        if existing.contains(name) {
            report.recorded.push(name.to_vec());
        } else if code_symbols.contains(name) {
            report.no_debug_info.push(name.to_vec());
        } else {
            report.not_defined.push(name.to_vec());
        }
    }
}

/// The records of the subsection to insert, in module order (the position of their
/// function): the new ones, and the ones already in `merge` (the `S_HOTPATCHFUNC` subsection
/// at the insertion point in `.debug$S` section `section`, whose bytes are `bytes`), which
/// keep their bytes; records whose name has no procedure go last, in their order.
fn records_in_module_order(
    scan: &Scan,
    section: u32,
    bytes: &[u8],
    merge: Option<&Subsection>,
    position: &HashMap<&[u8], usize>,
    new_records: Vec<(usize, Vec<u8>)>,
) -> Vec<Vec<u8>> {
    let mut records: Vec<(usize, usize, Vec<u8>)> = Vec::new();
    if let Some(sub) = merge {
        for (seq, rec) in scan
            .hotpatch
            .iter()
            .filter(|r| r.section == section)
            .enumerate()
        {
            if rec.range.0 >= sub.data.0 && rec.range.1 <= sub.data.1 {
                let pos = position
                    .get(rec.name.as_slice())
                    .copied()
                    .unwrap_or(usize::MAX);
                let raw = bytes
                    .get(rec.range.0..rec.range.1)
                    .unwrap_or_default()
                    .to_vec();
                records.push((pos, seq, raw));
            }
        }
    }
    records.extend(new_records.into_iter().map(|(pos, r)| (pos, 0, r)));
    records.sort_by_key(|(pos, seq, _)| (*pos, *seq));
    records.into_iter().map(|(_, _, r)| r).collect()
}

/// Where the new subsection goes: after the Symbols subsection holding `S_OBJNAME` /
/// `S_COMPILE3` (or right after the signature if there is none). If an all-`S_HOTPATCHFUNC`
/// subsection already sits there, it is returned for merging.
fn insertion_point<'s>(
    bytes: &[u8],
    subs: &'s [Subsection],
) -> Result<(usize, Option<&'s Subsection>), super::Malformed> {
    let mut at = 4;
    let mut next = 0;
    for (i, sub) in subs.iter().enumerate() {
        if sub.kind != DEBUG_S_SYMBOLS {
            continue;
        }
        let recs = symbol_records(bytes, sub)?;
        if recs.iter().any(|r| {
            SymKind(r.kind) == SymKind::S_OBJNAME || SymKind(r.kind) == SymKind::S_COMPILE3
        }) {
            at = sub.end;
            next = i + 1;
            break;
        }
    }
    let merge = match subs.get(next) {
        Some(sub) if sub.start == at && sub.kind == DEBUG_S_SYMBOLS => {
            let recs = symbol_records(bytes, sub)?;
            let all_hotpatch = recs
                .iter()
                .all(|r| SymKind(r.kind) == SymKind::S_HOTPATCHFUNC);
            (!recs.is_empty() && all_hotpatch).then_some(sub)
        }
        _ => None,
    };
    Ok((at, merge))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[rustfmt::skip]
    fn record_is_zero_padded_and_length_counts_padding() {
        assert_eq!(encode_record(0x1002, b"bump"), [
            0x0e, 0x00,             // length 14: kind + id + "bump\0" + 3 zeros
            0x69, 0x11,             // S_HOTPATCHFUNC
            0x02, 0x10, 0x00, 0x00, // LF_FUNC_ID 0x1002
            b'b', b'u', b'm', b'p', 0x00,
            0x00, 0x00, 0x00,       // padding: zeros, not F1 F2 F3
        ]);
        for n in 0..9 {
            let name = vec![b'x'; n];
            let r = encode_record(7, &name);
            assert_eq!(r.len() % 4, 0, "name length {n}");
            assert_eq!(usize::from(u16::from_le_bytes([r[0], r[1]])) + 2, r.len());
            assert!(r[9 + n..].iter().all(|&b| b == 0));
        }
    }

    #[test]
    fn overlong_names_are_cut_like_llvm() {
        let r = encode_record(1, &vec![b'a'; 70_000]);
        assert_eq!(r.len(), (8 + MAX_NAME + 1).next_multiple_of(4));
        assert!(u16::from_le_bytes([r[0], r[1]]) < 0xFF00);
    }

    #[test]
    fn subsection_header_counts_records() {
        let s = encode_subsection(&[encode_record(1, b"a"), encode_record(2, b"bcdefgh")]);
        assert_eq!(&s[..8], &[0xF1, 0, 0, 0, 28, 0, 0, 0]);
        assert_eq!(s.len(), 36);
    }

    fn section(number: u32, comdat: bool) -> Section {
        Section {
            number,
            name: b".text".to_vec(),
            flags: pe::IMAGE_SCN_CNT_CODE.0
                | if comdat {
                    pe::IMAGE_SCN_LNK_COMDAT.0
                } else {
                    0
                },
            header_offset: 0,
            size: 0,
            data_range: None,
            reloc_range: None,
            reloc_overflow: false,
            lines_range: None,
            relocations: Vec::new(),
        }
    }

    fn proc(name: &str, section: u32, offset: u32, func_id: u32) -> Procedure {
        Procedure {
            ir_name: name.into(),
            symbol_name: name.into(),
            func_id,
            section,
            offset,
            code_len: 1,
            local: false,
        }
    }

    /// The layout clang gives a C++ file without /Gy (measured on a sample): `first` and `later`
    /// in .text, then the inline `inl` and a template (COMDAT sections 5, 6), then `st` and
    /// `mid` in .text, then another template (section 7). `later` got its ID before `first`.
    #[test]
    fn module_order_merges_text_and_comdat_chains_by_function_id() {
        let obj = CoffObject {
            bigobj: false,
            machine: pe::IMAGE_FILE_MACHINE_AMD64.0,
            sections: vec![
                section(1, false),
                section(2, false),
                section(3, false),
                section(4, false),
                section(5, true),
                section(6, true),
                section(7, true),
            ],
            symbols: Vec::new(),
            symtab_pointer_field: 8,
            symtab_offset: 0,
            symbol_size: 18,
            symtab_range: None,
        };
        let mut procs = vec![
            proc("tmplJ", 7, 0, 0x100B),
            proc("st", 1, 0x60, 0x1006),
            proc("inl", 5, 0, 0x1004),
            proc("later", 1, 0x30, 0x1002),
            proc("mid", 1, 0x70, 0x1009),
            proc("first", 1, 0, 0x1003),
            proc("tmplH", 6, 0, 0x1005),
        ];
        module_order(&mut procs, &obj);
        let names: Vec<_> = procs
            .iter()
            .map(|p| String::from_utf8_lossy(&p.ir_name).into_owned())
            .collect();
        assert_eq!(
            names,
            ["first", "later", "inl", "tmplH", "st", "mid", "tmplJ"]
        );
    }

    #[test]
    fn ir_names_from_coff_names() {
        let x86 = pe::IMAGE_FILE_MACHINE_I386.0;
        let x64 = pe::IMAGE_FILE_MACHINE_AMD64.0;
        // (COFF name, IR name) per machine.
        let x86_names: &[(&[u8], &[u8])] = &[
            (b"_bump", b"bump"),
            (b"_std_add@8", b"\x01_std_add@8"),
            (b"@fast_add@8", b"\x01@fast_add@8"),
            (b"vec_add@@8", b"\x01vec_add@@8"),
            (b"?f@@YAHH@Z", b"?f@@YAHH@Z"),
            (b"___ref_table", b"__ref_table"),
            (b"___ref_??_B?1??f@@YAHXZ@51", b"__ref_??_B?1??f@@YAHXZ@51"),
            (b"_f@x", b"f@x"),
            // Itanium names (GNU mode): one `_` added by the target, the rest is the name.
            (b"__Z2ppi", b"_Z2ppi"),
            (b"_Z2vci@@4", b"\x01_Z2vci@@4"),
        ];
        let x64_names: &[(&[u8], &[u8])] = &[
            (b"bump", b"bump"),
            (b"_bump", b"_bump"),
            (b"vec_add@@16", b"\x01vec_add@@16"),
            (b"?g@@YAXXZ", b"?g@@YAXXZ"),
        ];
        for (machine, names) in [(x86, x86_names), (x64, x64_names)] {
            for &(coff, ir) in names {
                let got = ir_name(machine, coff);
                let shown = String::from_utf8_lossy(coff);
                assert_eq!(got.as_ref(), ir, "{machine:#x} {shown}");
            }
        }
    }
}
