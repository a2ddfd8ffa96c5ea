//! Which functions a hot-patch must carry: two builds of a program (base and patched) compared
//! function by function, plus the changes a hot-patch cannot carry.
//!
//! The inputs are COFF objects built with one section per function (`/Gy`,
//! `-ffunction-sections`), named so that the two builds pair up (a relative path, or
//! `lib.lib(member.obj)`). [`compare`] reads them with [`crate::coff`] and returns a
//! [`Report`]; it prints nothing.
//!
//! A function is identified by its symbol name (a `static` one also by its object). Two
//! versions are the same when their section bytes are the same outside relocated fields and
//! their relocations agree in type, offset and target. A target with a name of its own (a
//! function, a global, an MSVC `??_C@` string literal) is compared by name and addend; an
//! unnamed one (a section symbol plus addend: GNU-mode string literals, switch tables, private
//! constants) by the bytes and relocations of the piece of data it points at, recursively; a
//! position inside a function's code by that function's name and the offset. Debug sections are
//! never read, so a function that only moved lines is unchanged, and the order of sections and
//! symbols does not matter.
//!
//! Globals are compared the same way over their extent (from the symbol to the next symbol or
//! referenced position of its section). A changed read-only global lists the functions that read
//! it; a changed writable global (initial value, size, or a move between writable, read-only and
//! thread-local data), any changed thread-local, and a global the patched build dropped while
//! its code still names it are [`Refusal`]s. A global's C type is not in the object: a type change
//! shows as a change of size, section kind or initial bytes.

use crate::coff::{CoffObject, Relocation};
use object::pe;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};

/// One object of a build: its name (how the two builds pair up) and its bytes.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// Relative path, or `lib.lib(member.obj)` for an archive member.
    pub name: &'a str,
    pub data: &'a [u8],
}

/// Which of the two builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Base,
    Patched,
}

/// Why the two builds cannot be compared.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An object that the COFF layer refused.
    #[error("{object}: {source}")]
    Coff {
        side: Side,
        object: String,
        #[source]
        source: crate::coff::Error,
    },
    /// Two functions share a code section: the object was built without function-level sections.
    #[error(
        "{object}: functions {first} and {second} share section {section}: compile with /Gy \
         (clang-cl) or -ffunction-sections (clang) so that every function has its own section"
    )]
    SharedSection {
        side: Side,
        object: String,
        section: String,
        first: String,
        second: String,
    },
    /// The two builds of one object are for different machines.
    #[error("{object}: the base build is {base} but the patched build is {patched}")]
    Machine {
        object: String,
        base: &'static str,
        patched: &'static str,
    },
}

impl Error {
    /// The build the error is about (the patched one for a machine mismatch).
    pub fn side(&self) -> Side {
        match self {
            Error::Coff { side, .. } | Error::SharedSection { side, .. } => *side,
            Error::Machine { .. } => Side::Patched,
        }
    }
}

/// Why a function is on the list.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    /// Its code bytes differ (outside relocated fields).
    Bytes,
    /// Its relocations differ (type, offset or target).
    Relocations,
    /// It reads a read-only global whose content changed (the global's IR name).
    UsesChangedConstant(Vec<u8>),
    /// It exists only in the patched build and listed code calls it (the caller's IR name).
    New { called_by: Vec<u8> },
}

/// A function the patch must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The name `-fms-hotpatch-functions-file` takes (the IR name).
    pub name: Vec<u8>,
    /// The patched object that defines it.
    pub object: String,
    pub reasons: Vec<Reason>,
}

/// Why a change cannot be hot-patched.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum RefusalKind {
    /// A writable global's initial bytes changed.
    WritableValue,
    /// A writable global's size changed.
    WritableSize { base: u32, patched: u32 },
    /// A global moved between writable, read-only and thread-local data.
    Kind {
        base: &'static str,
        patched: &'static str,
    },
    /// A thread-local's initial value or size changed.
    ThreadLocal,
    /// The base build defines it, the patched build does not, and patched code names it.
    Dropped { used_by: Vec<u8> },
}

/// A change a hot-patch cannot carry, and the global it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The global's IR name.
    pub global: Vec<u8>,
    /// The object that defines it (in the base build for a dropped global).
    pub object: String,
    pub kind: RefusalKind,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let g = String::from_utf8_lossy(&self.global);
        write!(f, "{}: global {}: ", self.object, g.escape_debug())?;
        match &self.kind {
            RefusalKind::WritableValue => write!(
                f,
                "writable global whose initial value changed (the running image keeps its value)"
            ),
            RefusalKind::WritableSize { base, patched } => write!(
                f,
                "writable global whose size changed from {base} to {patched} bytes"
            ),
            RefusalKind::Kind { base, patched } => {
                write!(f, "changed from {base} to {patched} data")
            }
            RefusalKind::ThreadLocal => {
                write!(f, "thread-local whose initial value or size changed")
            }
            RefusalKind::Dropped { used_by } => write!(
                f,
                "dropped by the patched build but still used by {}",
                String::from_utf8_lossy(used_by).escape_debug()
            ),
        }
    }
}

/// What [`compare`] found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Functions the patch must carry, sorted by name.
    pub functions: Vec<Listed>,
    /// Changes the patch cannot carry; the list is not usable when there is any.
    pub refusals: Vec<Refusal>,
    /// Objects read in each build.
    pub objects: (usize, usize),
}

/// Compares the two builds. Objects pair up by [`Input::name`]; an object only in the patched
/// build contributes new functions, one only in the base build globals that may be dropped.
pub fn compare(base: &[Input<'_>], patched: &[Input<'_>]) -> Result<Report, Error> {
    let base_objects = parse(base, Side::Base)?;
    let patched_objects = parse(patched, Side::Patched)?;
    let base = Build::new(&base_objects);
    let patched = Build::new(&patched_objects);
    for (o, po) in patched.objects.iter().enumerate() {
        if let Some(&bo) = base.by_name.get(po.name) {
            let (b, p) = (&base.objects[bo].coff, &po.coff);
            if b.machine != p.machine {
                return Err(Error::Machine {
                    object: patched.objects[o].name.to_string(),
                    base: b.machine_name(),
                    patched: p.machine_name(),
                });
            }
        }
    }

    let mut refusals = Vec::new();
    // Globals: refusals, and the read-only ones whose content changed.
    let mut changed_constants: BTreeMap<Key<'_>, Vec<u8>> = BTreeMap::new();
    for (key, pg) in &patched.globals {
        let Some(bg) = base.globals.get(key) else {
            continue;
        };
        let (bobj, pobj) = (&base.objects[bg.object], &patched.objects[pg.object]);
        let same_size = bg.size == pg.size
            || bg.size.abs_diff(pg.size) < bobj.padding_slack(bg).min(pobj.padding_slack(pg));
        let same_content = same_size && bobj.extent_hash(bg) == pobj.extent_hash(pg);
        let ir = pobj.ir_name(key.1);
        let kind = if bg.kind != pg.kind {
            Some(RefusalKind::Kind {
                base: bg.kind.name(),
                patched: pg.kind.name(),
            })
        } else if same_content {
            None
        } else {
            match pg.kind {
                GlobalKind::ReadOnly => {
                    changed_constants.insert(*key, ir.clone());
                    None
                }
                GlobalKind::ThreadLocal => Some(RefusalKind::ThreadLocal),
                GlobalKind::Writable if !same_size => Some(RefusalKind::WritableSize {
                    base: bg.size,
                    patched: pg.size,
                }),
                GlobalKind::Writable => Some(RefusalKind::WritableValue),
            }
        };
        if let Some(kind) = kind {
            refusals.push(Refusal {
                global: ir,
                object: pobj.name.to_string(),
                kind,
            });
        }
    }

    // Globals the base defines, the patched build does not, and patched code still names.
    let mut dropped = BTreeSet::new();
    for po in patched.objects {
        for (section, r) in po.code_and_data_relocations() {
            let Some(sym) = po.coff.symbol(r.symbol) else {
                continue;
            };
            if sym.defined_in().is_some() || sym.storage_class != pe::IMAGE_SYM_CLASS_EXTERNAL.0 {
                continue;
            }
            let key: Key<'_> = (None, &sym.name);
            let Some(g) = base.definition(&key) else {
                continue;
            };
            if patched.definition(&key).is_some() || !dropped.insert(key) {
                continue;
            }
            let used_by = po
                .function_at(section, r.offset)
                .or_else(|| po.function_reaching(section))
                .map(|n| po.ir_name(n))
                .unwrap_or_else(|| po.section_name(section).into_bytes());
            refusals.push(Refusal {
                global: base.objects[g].ir_name(&sym.name),
                object: base.objects[g].name.to_string(),
                kind: RefusalKind::Dropped { used_by },
            });
        }
    }

    // Functions: changed, or reading a changed constant.
    let mut listed: BTreeMap<Key<'_>, Listed> = BTreeMap::new();
    for (key, pf) in &patched.functions {
        let pobj = &patched.objects[pf.object];
        let Some(bf) = base.functions.get(key) else {
            continue;
        };
        let bobj = &base.objects[bf.object];
        let bp = bobj.print(bf.section, bf.start, bf.end);
        let pp = pobj.print(pf.section, pf.start, pf.end);
        let mut reasons = Vec::new();
        if bp.bytes != pp.bytes {
            reasons.push(Reason::Bytes);
        }
        if bp.relocs != pp.relocs {
            reasons.push(Reason::Relocations);
        }
        if reasons.is_empty() {
            for r in &pp.refs {
                if let Some(ir) = changed_constants.get(&pobj.key_of(*r)) {
                    let reason = Reason::UsesChangedConstant(ir.clone());
                    if !reasons.contains(&reason) {
                        reasons.push(reason);
                    }
                }
            }
        }
        if !reasons.is_empty() {
            listed.insert(
                *key,
                Listed {
                    name: pobj.ir_name(key.1),
                    object: pobj.name.to_string(),
                    reasons,
                },
            );
        }
    }

    // New functions that listed code calls, transitively, also through the constants that
    // changed (a new table of function pointers reaches new functions).
    let mut work: Vec<(Key<'_>, Vec<u8>)> =
        listed.iter().map(|(k, l)| (*k, l.name.clone())).collect();
    let mut seen_constants = BTreeSet::new();
    while let Some((from, caller_ir)) = work.pop() {
        let refs = if let Some(f) = patched.functions.get(&from) {
            let obj = &patched.objects[f.object];
            obj.print(f.section, f.start, f.end)
                .refs
                .into_iter()
                .map(|r| obj.key_of(r))
                .collect::<Vec<_>>()
        } else if let Some(g) = patched.globals.get(&from).filter(|g| g.section != 0) {
            let obj = &patched.objects[g.object];
            obj.print(g.section, g.start, g.start + g.size)
                .refs
                .into_iter()
                .map(|r| obj.key_of(r))
                .collect()
        } else {
            Vec::new()
        };
        for callee in refs {
            if changed_constants.contains_key(&callee) && seen_constants.insert(callee) {
                work.push((callee, caller_ir.clone()));
                continue;
            }
            let Some(nf) = patched.functions.get(&callee) else {
                continue;
            };
            if base.functions.contains_key(&callee) || listed.contains_key(&callee) {
                continue;
            }
            let nobj = &patched.objects[nf.object];
            let name = nobj.ir_name(callee.1);
            listed.insert(
                callee,
                Listed {
                    name: name.clone(),
                    object: nobj.name.to_string(),
                    reasons: vec![Reason::New {
                        called_by: caller_ir.clone(),
                    }],
                },
            );
            work.push((callee, name));
        }
    }

    let mut functions: Vec<Listed> = listed.into_values().collect();
    functions.sort_by(|a, b| (&a.name, &a.object).cmp(&(&b.name, &b.object)));
    functions.dedup_by(|a, b| a.name == b.name);
    Ok(Report {
        functions,
        refusals,
        objects: (base.objects.len(), patched.objects.len()),
    })
}

/// A function or global: `(object name for a static, symbol name)`.
type Key<'a> = (Option<&'a str>, &'a [u8]);

/// Where a function or global lives in its object.
#[derive(Debug, Clone, Copy)]
struct Place {
    object: usize,
    section: u32,
    start: u32,
    end: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GlobalKind {
    Writable,
    ReadOnly,
    ThreadLocal,
}

impl GlobalKind {
    fn name(self) -> &'static str {
        match self {
            GlobalKind::Writable => "writable",
            GlobalKind::ReadOnly => "read-only",
            GlobalKind::ThreadLocal => "thread-local",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Global {
    object: usize,
    /// 0 for a common symbol (no section, zero-filled).
    section: u32,
    start: u32,
    size: u32,
    kind: GlobalKind,
}

/// Parses every object of one build.
fn parse<'a>(inputs: &[Input<'a>], side: Side) -> Result<Vec<Obj<'a>>, Error> {
    inputs
        .iter()
        .map(|i| Obj::new(i.name, i.data))
        .collect::<Result<_, _>>()
        .map_err(|e| match e {
            Error::Coff { object, source, .. } => Error::Coff {
                side,
                object,
                source,
            },
            Error::SharedSection {
                object,
                section,
                first,
                second,
                ..
            } => Error::SharedSection {
                side,
                object,
                section,
                first,
                second,
            },
            e => e,
        })
}

/// One build's functions and globals by [`Key`]. The first definition of a name wins, which is
/// the right one for COMDATs (inline functions, string literals) that several objects define.
struct Build<'o, 'a> {
    objects: &'o [Obj<'a>],
    by_name: HashMap<&'a str, usize>,
    functions: BTreeMap<Key<'o>, Place>,
    globals: BTreeMap<Key<'o>, Global>,
}

impl<'o, 'a> Build<'o, 'a> {
    fn new(objects: &'o [Obj<'a>]) -> Self {
        let mut functions = BTreeMap::new();
        let mut globals = BTreeMap::new();
        for (i, o) in objects.iter().enumerate() {
            for (key, place) in o.functions(i) {
                functions.entry(key).or_insert(place);
            }
            for (key, g) in o.globals(i) {
                globals.entry(key).or_insert(g);
            }
        }
        let by_name = objects
            .iter()
            .enumerate()
            .map(|(i, o)| (o.name, i))
            .collect();
        Build {
            objects,
            by_name,
            functions,
            globals,
        }
    }

    /// The object that defines the external `key`, function or global.
    fn definition(&self, key: &Key<'o>) -> Option<usize> {
        self.functions
            .get(key)
            .map(|p| p.object)
            .or_else(|| self.globals.get(key).map(|g| g.object))
    }
}

/// The target of a relocation, as compared between the builds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Target<'o> {
    /// A symbol with a name of its own, plus the addend.
    Name(&'o [u8], i64),
    /// A position inside a function's code: the function's name and the offset.
    Code(&'o [u8], i64),
    /// An unnamed piece of data, by the hash of its bytes and relocations.
    Content(u64),
    /// A relocation whose symbol index is invalid.
    Invalid(u32),
}

/// A function's (or a piece of data's) comparable form.
struct Print<'o> {
    /// The bytes with every relocated field zeroed.
    bytes: Vec<u8>,
    /// `(offset from the start, type, target)`, in offset order.
    relocs: Vec<(u32, u16, Target<'o>)>,
    /// Symbol indices of the named functions and globals it refers to, also through unnamed
    /// data.
    refs: Vec<u32>,
}

/// A memoised unnamed piece of data.
#[derive(Clone)]
struct Piece {
    hash: u64,
    refs: Vec<u32>,
}

/// One parsed object and what the comparison needs to find its way in it.
struct Obj<'a> {
    name: &'a str,
    data: &'a [u8],
    coff: CoffObject,
    /// Relocations of each section (index: number − 1), in offset order; empty for ignored ones.
    relocs: Vec<Vec<Relocation>>,
    /// Function symbols `(offset, symbol index)` of each code section, in offset order.
    funcs: Vec<Vec<(u32, u32)>>,
    /// Where pieces of each data section start: symbols and positions that relocations through
    /// section symbols point at, in order.
    bounds: Vec<Vec<u32>>,
    /// Named data symbol starting at `(section, offset)`; ordered, so that of two globals
    /// with one key (a damaged string table) the same one is taken in every run.
    named_at: BTreeMap<(u32, u32), u32>,
    memo: RefCell<HashMap<(u32, u32), Piece>>,
    /// How deep [`Obj::piece`] is nested (bounded, so that no input can exhaust the stack).
    depth: std::cell::Cell<u32>,
}

/// How many unnamed pieces of data [`Obj::piece`] follows from one reference.
const MAX_DEPTH: u32 = 256;

/// Placeholder hash of a piece whose hash is being computed (a cycle of unnamed data).
const CYCLE: u64 = 0x0063_7963_6c65;

impl<'a> Obj<'a> {
    fn new(name: &'a str, data: &'a [u8]) -> Result<Obj<'a>, Error> {
        let coff = CoffObject::parse(data).map_err(|source| Error::Coff {
            side: Side::Base,
            object: name.to_string(),
            source,
        })?;
        let n = coff.sections.len();
        let mut relocs = vec![Vec::new(); n];
        let mut funcs = vec![Vec::new(); n];
        let mut bounds = vec![vec![0u32]; n];
        let mut named_at = BTreeMap::new();
        for s in &coff.sections {
            if !ignored(&s.name, s.flags) {
                let mut r = s.relocations.clone();
                r.sort_by_key(|r| r.offset);
                relocs[s.number as usize - 1] = r;
            }
        }
        for sym in coff.iter_symbols() {
            let Some(sec) = sym.defined_in().and_then(|n| coff.section(n)) else {
                continue;
            };
            let i = sec.number as usize - 1;
            if ignored(&sec.name, sec.flags) || unnamed(&coff, sym) {
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
        for (i, list) in funcs.iter_mut().enumerate() {
            list.sort();
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
        let mut obj = Obj {
            name,
            data,
            coff,
            relocs,
            funcs,
            bounds,
            named_at,
            memo: RefCell::new(HashMap::new()),
            depth: std::cell::Cell::new(0),
        };
        // Positions that relocations reach through section symbols start pieces too.
        let mut targets = Vec::new();
        for (sec, r) in obj.code_and_data_relocations() {
            if let Some((tsec, off)) = obj.unnamed_target(sec, r) {
                targets.push((tsec, off));
            }
        }
        obj.add_bounds(&targets);
        // So do the positions that relative lookup tables reach (see `relative_entries`).
        let mut reached = Vec::new();
        for &(tsec, off) in &targets {
            if obj.funcs[tsec as usize - 1].is_empty() {
                let end = obj.piece_end(tsec, off);
                reached.extend(
                    obj.relative_entries(tsec, off, end)
                        .into_iter()
                        .map(|a| (tsec, a)),
                );
            }
        }
        obj.add_bounds(&reached);
        Ok(obj)
    }

    fn add_bounds(&mut self, at: &[(u32, u32)]) {
        for &(sec, off) in at {
            self.bounds[sec as usize - 1].push(off);
        }
        for b in &mut self.bounds {
            b.sort_unstable();
            b.dedup();
        }
    }

    /// Every relocation of a section that is not ignored, with its section number.
    fn code_and_data_relocations(&self) -> impl Iterator<Item = (u32, &Relocation)> {
        self.relocs
            .iter()
            .enumerate()
            .flat_map(|(i, rs)| rs.iter().map(move |r| (i as u32 + 1, r)))
    }

    fn section_data(&self, number: u32) -> &'a [u8] {
        self.coff
            .section(number)
            .and_then(|s| s.data(self.data).ok())
            .unwrap_or(&[])
    }

    fn section_size(&self, number: u32) -> u32 {
        self.coff.section(number).map_or(0, |s| s.size)
    }

    fn section_name(&self, number: u32) -> String {
        self.coff.section(number).map_or_else(String::new, |s| {
            String::from_utf8_lossy(&s.name).into_owned()
        })
    }

    /// The relocated field of `r` in section `sec`: addend and how to zero it.
    fn field(&self, sec: u32, r: &Relocation) -> Option<Field> {
        field(self.coff.machine, r.typ, self.section_data(sec), r.offset)
    }

    /// `(section, offset)` that `r` points at when its symbol has no name of its own.
    fn unnamed_target(&self, sec: u32, r: &Relocation) -> Option<(u32, u32)> {
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
    fn function_at(&self, sec: u32, offset: u32) -> Option<&[u8]> {
        let list = self.funcs.get(sec as usize - 1)?;
        let i = list.partition_point(|&(v, _)| v <= offset);
        let (_, s) = list.get(i.checked_sub(1)?)?;
        Some(&self.coff.symbol(*s)?.name)
    }

    /// The first function that refers to data of section `sec` (such as the `.refptr.X`
    /// pointer through which GNU-mode code reaches an imported `X`).
    fn function_reaching(&self, sec: u32) -> Option<&[u8]> {
        for (i, list) in self.funcs.iter().enumerate() {
            let fsec = i as u32 + 1;
            for &(start, s) in list {
                let p = self.print(fsec, start, self.section_size(fsec).max(start));
                let hit = p.refs.iter().any(|&r| {
                    self.coff
                        .symbol(r)
                        .is_some_and(|t| t.defined_in() == Some(sec))
                });
                if hit {
                    return Some(&self.coff.symbol(s)?.name);
                }
            }
        }
        None
    }

    /// End of the piece of section `sec` that starts at `start`.
    fn piece_end(&self, sec: u32, start: u32) -> u32 {
        let b = &self.bounds[sec as usize - 1];
        let i = b.partition_point(|&x| x <= start);
        b.get(i)
            .copied()
            .unwrap_or_else(|| self.section_size(sec))
            .max(start)
    }

    /// Every function with its key and place.
    fn functions(&self, object: usize) -> Vec<(Key<'_>, Place)> {
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
    fn globals(&self, object: usize) -> Vec<(Key<'_>, Global)> {
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
    fn key_of(&self, s: u32) -> Key<'_> {
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
    fn ir_name(&self, name: &[u8]) -> Vec<u8> {
        ir_name(self.coff.machine, name)
    }

    /// The comparable form of `[start, end)` of section `sec`.
    fn print(&self, sec: u32, start: u32, end: u32) -> Print<'_> {
        let data = self.section_data(sec);
        let mut bytes = data
            .get(start as usize..(end as usize).min(data.len()))
            .unwrap_or(&[])
            .to_vec();
        let rs = &self.relocs[sec as usize - 1];
        let first = rs.partition_point(|r| r.offset < start);
        let mut relocs = Vec::new();
        let mut refs = Vec::new();
        for r in rs[first..].iter().take_while(|r| r.offset < end) {
            let f = self.field(sec, r);
            if let Some(f) = &f {
                f.clear(&mut bytes, (r.offset - start) as usize);
            }
            let addend = f.map_or(0, |f| f.addend);
            let target = self.target(sec, r, addend, &mut refs);
            relocs.push((r.offset - start, r.typ, target));
        }
        Print {
            bytes,
            relocs,
            refs,
        }
    }

    /// How relocation `r` (with `addend`) of section `sec` compares; the named symbols it
    /// reaches go to `refs`.
    fn target(&self, sec: u32, r: &Relocation, addend: i64, refs: &mut Vec<u32>) -> Target<'_> {
        let Some(sym) = self.coff.symbol(r.symbol) else {
            return Target::Invalid(r.symbol);
        };
        if !unnamed(&self.coff, sym) || sym.defined_in().is_none() {
            refs.push(sym.index);
            return Target::Name(&sym.name, addend);
        }
        let Some((tsec, off)) = self.unnamed_target(sec, r) else {
            return Target::Name(&sym.name, addend);
        };
        let list = &self.funcs[tsec as usize - 1];
        if !list.is_empty() {
            let i = list.partition_point(|&(v, _)| v <= off).max(1);
            let (v, s) = list[i - 1];
            if let Some(f) = self.coff.symbol(s) {
                refs.push(s);
                return Target::Code(&f.name, i64::from(off) - i64::from(v));
            }
        }
        if let Some(&s) = self.named_at.get(&(tsec, off)) {
            refs.push(s);
            return Target::Name(self.coff.symbol(s).map_or(&[][..], |s| &s.name), 0);
        }
        let piece = self.piece(tsec, off);
        refs.extend(piece.refs);
        Target::Content(piece.hash)
    }

    /// The hash and references of the unnamed piece at `(sec, start)`, memoised.
    fn piece(&self, sec: u32, start: u32) -> Piece {
        if let Some(p) = self.memo.borrow().get(&(sec, start)) {
            return p.clone();
        }
        if self.depth.get() >= MAX_DEPTH {
            // Unnamed data this deeply chained is not what compilers emit; compare its size.
            return Piece {
                hash: u64::from(self.piece_end(sec, start) - start),
                refs: Vec::new(),
            };
        }
        self.depth.set(self.depth.get() + 1);
        self.memo.borrow_mut().insert(
            (sec, start),
            Piece {
                hash: CYCLE,
                refs: Vec::new(),
            },
        );
        let end = self.piece_end(sec, start);
        let p = self.print(sec, start, end);
        // The zeros that end a piece may be padding before the next one: they do not count.
        let mut h = DefaultHasher::new();
        trim_zeros(&p.bytes).hash(&mut h);
        p.relocs.hash(&mut h);
        let entries = self.relative_entries(sec, start, end);
        let mut refs = p.refs;
        for at in entries {
            let target = self.piece(sec, at);
            target.hash.hash(&mut h);
            refs.extend(target.refs);
        }
        let piece = Piece {
            hash: h.finish(),
            refs,
        };
        self.memo.borrow_mut().insert((sec, start), piece.clone());
        self.depth.set(self.depth.get() - 1);
        piece
    }

    /// The positions a relative lookup table at `[start, end)` points at. LLVM turns a switch
    /// over constants into a table of 32-bit offsets from the table's start (`switch.reltable`);
    /// the assembler resolves them, so no relocation names the strings they reach. A piece
    /// without relocations whose every 32-bit entry lands inside its section is read as such a
    /// table. Reading an ordinary array as one only compares more bytes than needed.
    fn relative_entries(&self, sec: u32, start: u32, end: u32) -> Vec<u32> {
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

    /// Hash of a global's extent: its bytes up to the last non-zero one (the zeros after it may
    /// be padding, see [`Obj::padding_slack`]) and its relocations.
    fn extent_hash(&self, g: &Global) -> u64 {
        if g.section == 0 {
            return 0;
        }
        let p = self.print(g.section, g.start, g.start + g.size);
        let mut h = DefaultHasher::new();
        trim_zeros(&p.bytes).hash(&mut h);
        p.relocs.hash(&mut h);
        h.finish()
    }

    /// By how much a global's extent may differ between builds without its size changing.
    /// Several globals share a section unless each has its own (`/Gw`, `-fdata-sections`,
    /// COMDATs), and an extent runs to the next symbol, so it includes the padding that aligns
    /// that symbol: fewer bytes than the section's alignment. A global alone in its section, or
    /// a common symbol, has its exact size (slack 0, sizes must match).
    fn padding_slack(&self, g: &Global) -> u32 {
        let Some(s) = self.coff.section(g.section) else {
            return 0;
        };
        let alone = self.bounds[g.section as usize - 1].len() == 1;
        if alone {
            return 0;
        }
        match (s.flags & pe::IMAGE_SCN_ALIGN_MASK) >> 20 {
            0 => 16,
            n => 1 << (n - 1),
        }
    }
}

/// `bytes` without its trailing zero bytes.
fn trim_zeros(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    &bytes[..end]
}

/// Sections never compared: debug information, linker directives, the address-significance
/// table, and anything the linker drops.
fn ignored(name: &[u8], flags: u32) -> bool {
    name.starts_with(b".debug")
        || name == b".llvm_addrsig"
        || name == b".drectve"
        || flags & (pe::IMAGE_SCN_LNK_REMOVE.0 | pe::IMAGE_SCN_LNK_INFO.0) != 0
}

fn is_code(flags: u32) -> bool {
    flags & pe::IMAGE_SCN_CNT_CODE.0 != 0
}

/// Whether `sym` has no name of its own: a section symbol or a private label.
fn unnamed(coff: &CoffObject, sym: &crate::coff::Symbol) -> bool {
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

/// See [`Obj::ir_name`]: the one mapping of [`crate::codeview::hotpatch::ir_name`], owned.
pub fn ir_name(machine: u16, name: &[u8]) -> Vec<u8> {
    crate::codeview::hotpatch::ir_name(machine, name).into_owned()
}

/// A relocated field: where its bits are and the addend they hold.
#[derive(Debug, Clone, Copy)]
struct Field {
    /// Bytes, little-endian, starting at the relocation's offset.
    width: usize,
    /// Bits of those bytes that the linker writes.
    mask: u64,
    addend: i64,
}

impl Field {
    fn clear(&self, bytes: &mut [u8], at: usize) {
        if let Some(b) = bytes.get_mut(at..at + self.width) {
            let mut v = 0u64;
            for (i, x) in b.iter().enumerate() {
                v |= u64::from(*x) << (8 * i);
            }
            v &= !self.mask;
            for (i, x) in b.iter_mut().enumerate() {
                *x = (v >> (8 * i)) as u8;
            }
        }
    }
}

fn sext(v: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

/// The field relocation type `typ` writes at `offset` of `data`, for `machine`; `None` for types
/// without a field or unknown ones (their bytes are then compared as they are).
fn field(machine: u16, typ: u16, data: &[u8], offset: u32) -> Option<Field> {
    let at = offset as usize;
    let read = |width: usize| -> Option<u64> {
        let b = data.get(at..at.checked_add(width)?)?;
        Some(b.iter().rev().fold(0u64, |v, &x| (v << 8) | u64::from(x)))
    };
    let plain = |width: usize| -> Option<Field> {
        let v = read(width)?;
        let bits = 8 * width as u32;
        Some(Field {
            width,
            mask: if bits == 64 {
                u64::MAX
            } else {
                (1 << bits) - 1
            },
            addend: sext(v, bits),
        })
    };
    let insn = |mask: u64, addend: i64| -> Option<Field> {
        Some(Field {
            width: 4,
            mask,
            addend,
        })
    };
    match pe::Machine(machine) {
        pe::IMAGE_FILE_MACHINE_AMD64 => match typ {
            1 => plain(8),
            2..=9 | 0xB | 0xD | 0xE | 0x10 => plain(4),
            0xA => plain(2),
            0xC => Some(Field {
                width: 1,
                mask: 0x7f,
                addend: (read(1)? & 0x7f) as i64,
            }),
            _ => None,
        },
        pe::IMAGE_FILE_MACHINE_I386 => match typ {
            6 | 7 | 0xB | 0xC | 0x14 => plain(4),
            1 | 2 | 0xA => plain(2),
            0xD => Some(Field {
                width: 1,
                mask: 0x7f,
                addend: (read(1)? & 0x7f) as i64,
            }),
            _ => None,
        },
        pe::IMAGE_FILE_MACHINE_ARM64 => {
            let v = read(4);
            match typ {
                1 | 2 | 8 | 0xC | 0x11 => plain(4),
                0xE => plain(8),
                0xD => plain(2),
                // BRANCH26
                3 => insn(0x03ff_ffff, sext(v? & 0x03ff_ffff, 26) * 4),
                // PAGEBASE_REL21, REL21: immlo (bits 29–30), immhi (bits 5–23)
                4 | 5 => {
                    let v = v?;
                    let imm = ((v >> 29) & 3) | (((v >> 5) & 0x7_ffff) << 2);
                    insn((3 << 29) | (0x7_ffff << 5), sext(imm, 21))
                }
                // PAGEOFFSET_12A, SECREL_LOW12A, SECREL_HIGH12A: imm12 of ADD
                6 | 9 | 0xA => insn(0xfff << 10, ((v? >> 10) & 0xfff) as i64),
                // PAGEOFFSET_12L, SECREL_LOW12L: imm12 of LDR/STR, scaled by the access size
                7 | 0xB => {
                    let v = v?;
                    let mut size = v >> 30;
                    if v & 0x0480_0000 == 0x0480_0000 {
                        size += 4;
                    }
                    insn(0xfff << 10, (((v >> 10) & 0xfff) << size) as i64)
                }
                // BRANCH19
                0xF => insn(0x7_ffff << 5, sext((v? >> 5) & 0x7_ffff, 19) * 4),
                // BRANCH14
                0x10 => insn(0x3fff << 5, sext((v? >> 5) & 0x3fff, 14) * 4),
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `changed_compare` fuzz target: an object whose damaged string table gives
    /// several static `.rdata` globals one empty name was reported as differing from itself,
    /// because which of the same-keyed globals stood for the key depended on a hash map's
    /// random order (a different one in each build).
    #[test]
    fn an_object_with_same_keyed_globals_does_not_differ_from_itself() {
        let obj = include_bytes!("../tests/fixtures/changed/damaged-names.obj");
        let one = [Input {
            name: "a.obj",
            data: obj,
        }];
        for _ in 0..16 {
            let same = compare(&one, &one).unwrap();
            assert!(same.functions.is_empty(), "{:?}", same.functions);
            assert!(same.refusals.is_empty(), "{:?}", same.refusals);
        }
    }

    #[test]
    fn arm64_fields_hold_their_addends() {
        let arm = pe::IMAGE_FILE_MACHINE_ARM64.0;
        // adrp x8, #0x1000 with immlo = 1, immhi = 0x400: addend 0x1001.
        let adrp: u32 = 0x9000_0008 | (1 << 29) | (0x400 << 5);
        let f = field(arm, 4, &adrp.to_le_bytes(), 0).unwrap();
        assert_eq!(f.addend, 0x1001);
        let mut b = adrp.to_le_bytes().to_vec();
        f.clear(&mut b, 0);
        assert_eq!(u32::from_le_bytes(b.try_into().unwrap()), 0x9000_0008);
        // ldr x0, [x8, #16]: imm12 = 2, 8-byte access.
        let ldr: u32 = 0xf940_0100 | (2 << 10);
        assert_eq!(field(arm, 7, &ldr.to_le_bytes(), 0).unwrap().addend, 16);
        // bl -4
        let bl: u32 = 0x97ff_ffff;
        assert_eq!(field(arm, 3, &bl.to_le_bytes(), 0).unwrap().addend, -4);
        // A field past the end is no field, not a panic.
        assert!(field(arm, 0xE, &[0; 4], 0).is_none());
    }

    #[test]
    fn garbage_is_an_error() {
        let r = compare(
            &[Input {
                name: "a.obj",
                data: b"nope",
            }],
            &[],
        );
        assert!(matches!(r, Err(Error::Coff { .. })));
    }
}
