//! `hotpatch verify`: checks a whole build's objects against the hot-patch function list.
//!
//! For objects from hotpatch-cl and from native clang 21+ alike, it reports:
//! - a listed name that no object defines (with near matches: demangled names such as
//!   `S::f` for `?f@S@@QEAAHH@Z`, case and small typos) — clang 22 marks nothing, silently;
//! - a listed function defined in an object without an `S_HOTPATCHFUNC` record there (every
//!   copy counts: the linker may keep any COMDAT copy);
//! - a direct access from a hot-patched function's code to a symbol in a writable section
//!   (the access the `__ref_` redirect should have removed); undefined targets are looked
//!   up among the other objects' external definitions. MSVC's RTTI (`??_R…`) is not
//!   reported: clang 22 keeps it direct too. Thread-locals (`.tls*` sections)
//!   are not reported: their direct access is the right one (a `__ref_` could only reach
//!   the TLS template, see docs/differences-from-clang22.md), as hotpatch-cl keeps them;
//! - a `__ref_` pointer defined outside a read-only section (with a hint at `hotpatch seal` for
//!   the `__ref_` COMDATs that code generation outside hotpatch-cl leaves writable);
//! - a `__ref_` pointer to a thread-local (defined in a `.tls*` section by one of the
//!   objects, or MSVC's `_Init_thread_epoch`): clang 22's thread-local redirect;
//! - a `__ref_` pointer that is a plain COFF weak external (clang 22's `linkonce` without a
//!   comdat): a link hazard, since lld-link calls two objects' copies a duplicate symbol.
//!
//! Objects come from files or `.lib` archive members; archive members that are not COFF
//! objects (short import records, LLVM bitcode) are skipped and counted. Reading the CodeView
//! is `codeview::hotpatch::scan`'s job; printing is the CLI's.

use crate::codeview::hotpatch::{ir_name, scan, Scan};
use crate::hotlist::HotList;
use std::collections::{BTreeMap, BTreeSet};

/// Thread-local variables that objects reference but the CRT defines.
const KNOWN_THREAD_LOCALS: &[&[u8]] = &[b"_Init_thread_epoch"];

/// One object to check: a display name (`a.obj`, `lib.lib(a.obj)`) and its bytes.
#[derive(Debug, Clone)]
pub struct Object<'a> {
    pub name: String,
    pub data: &'a [u8],
}

/// Something wrong with the build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A listed name that no object defines; `hints` are defined names it may mean.
    NotDefined { name: String, hints: Vec<String> },
    /// A listed function defined in `object` without an `S_HOTPATCHFUNC` record.
    NoRecord { object: String, function: String },
    /// Hot-patched `function` references `target` (in writable `section`) directly.
    DirectAccess {
        object: String,
        function: String,
        target: String,
        section: String,
    },
    /// `symbol` (a `__ref_`) lives in `section`, which is writable or not readable;
    /// `sealable` when it is a `__ref_` COMDAT that `hotpatch seal` makes read-only.
    RefNotReadOnly {
        object: String,
        symbol: String,
        section: String,
        sealable: bool,
    },
    /// `symbol` (a `__ref_`) points at the thread-local `target`.
    ThreadLocalRef {
        object: String,
        symbol: String,
        target: String,
    },
    /// `symbol` (a `__ref_`) is a plain weak external; `others` are the other objects of
    /// the build that carry the same one.
    WeakRef {
        object: String,
        symbol: String,
        others: Vec<String>,
    },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::NotDefined { name, hints } if hints.is_empty() => {
                write!(f, "'{name}' is listed but no object defines it")
            }
            Problem::NotDefined { name, hints } => write!(
                f,
                "'{name}' is listed but no object defines it; did you mean {}?",
                hints
                    .iter()
                    .map(|h| format!("'{h}'"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            Problem::NoRecord { object, function } => write!(
                f,
                "{object}: '{function}' is listed but has no S_HOTPATCHFUNC record (built without the hot-patch flags or without CodeView /Z7, /Zi, -gcodeview?)"
            ),
            Problem::DirectAccess {
                object,
                function,
                target,
                section,
            } => write!(
                f,
                "{object}: hot-patched '{function}' accesses '{target}' (writable section {section}) directly, not through a __ref_ pointer"
            ),
            Problem::RefNotReadOnly {
                object,
                symbol,
                section,
                sealable,
            } => {
                write!(
                    f,
                    "{object}: '{symbol}' is in section {section}, which is not read-only"
                )?;
                if *sealable {
                    write!(
                        f,
                        "; hint: code generation outside hotpatch-cl leaves a __ref_ COMDAT writable: run `hotpatch seal` on the object or its library"
                    )?;
                }
                Ok(())
            }
            Problem::ThreadLocalRef {
                object,
                symbol,
                target,
            } => write!(
                f,
                "{object}: '{symbol}' redirects the thread-local '{target}': the patch would use the TLS template, not the thread's copy"
            ),
            Problem::WeakRef {
                object,
                symbol,
                others,
            } => {
                write!(
                    f,
                    "{object}: '{symbol}' is a plain weak external (clang 22's form): lld-link reports a duplicate symbol when two objects carry it"
                )?;
                if !others.is_empty() {
                    write!(f, " (here also {})", others.join(", "))?;
                }
                write!(
                    f,
                    "; hint: build through hotpatch-cl, whose __ref_ is a read-only COMDAT"
                )
            }
        }
    }
}

/// Errors: an object that cannot be read. The cause is part of the message, not a `source`,
/// so that error chains print it once.
#[derive(Debug, thiserror::Error)]
#[error("{object}: {cause}")]
pub struct Error {
    pub object: String,
    pub cause: crate::codeview::Error,
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn is_tls_section(name: &[u8]) -> bool {
    name.starts_with(b".tls")
}

/// Checks `objects` against `list`; problems in a stable order (by kind, then input order).
pub fn verify(objects: &[Object], list: &HotList) -> Result<Vec<Problem>, Error> {
    let mut scans = Vec::with_capacity(objects.len());
    for o in objects {
        let s = scan(o.data).map_err(|cause| Error {
            object: o.name.clone(),
            cause,
        })?;
        scans.push(s);
    }
    let program = Program::of(&scans);

    // Objects (by index) carrying each plain weak `__ref_`, by COFF symbol name.
    let mut weak_refs: BTreeMap<&[u8], Vec<usize>> = BTreeMap::new();
    for (i, s) in scans.iter().enumerate() {
        for sym in s.obj.iter_symbols() {
            if sym.weak_default.is_some()
                && ir_name(s.obj.machine, &sym.name).starts_with(b"__ref_")
            {
                weak_refs.entry(sym.name.as_slice()).or_default().push(i);
            }
        }
    }

    let mut problems = Vec::new();
    for name in list.iter() {
        if !program.functions.contains(name) {
            problems.push(Problem::NotDefined {
                name: text(name),
                hints: crate::names::hints(name, program.functions.iter().map(Vec::as_slice))
                    .into_iter()
                    .map(text)
                    .collect(),
            });
        }
    }
    for (oi, (o, s)) in objects.iter().zip(&scans).enumerate() {
        missing_records(&o.name, s, list, &mut problems);
        direct_accesses(&o.name, s, &program, &mut problems);
        let others = |sym: &[u8]| -> Vec<String> {
            weak_refs
                .get(sym)
                .into_iter()
                .flatten()
                .filter(|&&j| j != oi)
                .filter_map(|&j| objects.get(j).map(|x| x.name.clone()))
                .collect()
        };
        ref_pointers(&o.name, s, &program, &others, &mut problems);
    }
    problems.sort_by_key(|p| match p {
        Problem::NotDefined { .. } => 0,
        Problem::NoRecord { .. } => 1,
        Problem::DirectAccess { .. } => 2,
        Problem::RefNotReadOnly { .. } => 3,
        Problem::ThreadLocalRef { .. } => 4,
        Problem::WeakRef { .. } => 5,
    });
    Ok(problems)
}

/// What the whole program defines, over all its objects.
struct Program {
    /// External definitions: IR name → (section name, writable).
    externals: BTreeMap<Vec<u8>, (Vec<u8>, bool)>,
    /// Every defined function (IR names), for "defined?" and hints.
    functions: BTreeSet<Vec<u8>>,
    thread_locals: BTreeSet<Vec<u8>>,
}

impl Program {
    fn of(scans: &[Scan]) -> Program {
        let mut p = Program {
            externals: BTreeMap::new(),
            functions: BTreeSet::new(),
            thread_locals: KNOWN_THREAD_LOCALS.iter().map(|n| n.to_vec()).collect(),
        };
        for s in scans {
            let obj = &s.obj;
            for sym in obj.iter_symbols() {
                let Some(sec) = sym.defined_in().and_then(|n| obj.section(n)) else {
                    continue;
                };
                let name = ir_name(obj.machine, &sym.name).into_owned();
                if is_tls_section(&sec.name) && sym.aux_count == 0 {
                    p.thread_locals.insert(name.clone());
                }
                if sym.is_function() {
                    p.functions.insert(name.clone());
                }
                if sym.storage_class == object::pe::IMAGE_SYM_CLASS_EXTERNAL.0 {
                    p.externals
                        .entry(name)
                        .or_insert((sec.name.clone(), sec.is_writable()));
                }
            }
            for proc in &s.procedures {
                p.functions.insert(proc.ir_name.clone());
            }
        }
        p
    }
}

/// Listed functions that object `name` defines without an `S_HOTPATCHFUNC` record.
fn missing_records(name: &str, s: &Scan, list: &HotList, problems: &mut Vec<Problem>) {
    let obj = &s.obj;
    let recorded: BTreeSet<&[u8]> = s.hotpatch.iter().map(|r| r.name.as_slice()).collect();
    let mut defined_here: BTreeSet<Vec<u8>> = obj
        .iter_symbols()
        .filter(|sym| sym.is_function() && sym.defined_in().is_some())
        .map(|sym| ir_name(obj.machine, &sym.name).into_owned())
        .collect();
    defined_here.extend(s.procedures.iter().map(|p| p.ir_name.clone()));
    for f in &defined_here {
        if list.contains(f) && !recorded.contains(f.as_slice()) {
            problems.push(Problem::NoRecord {
                object: name.to_owned(),
                function: text(f),
            });
        }
    }
}

/// Accesses from hot-patched code of object `name` to writable, non-TLS data, one report per
/// (function, target) however often the code reaches it.
fn direct_accesses(name: &str, s: &Scan, program: &Program, problems: &mut Vec<Problem>) {
    let obj = &s.obj;
    let mut seen = BTreeSet::new();
    for (p, reloc) in s.hotpatched_code_relocations() {
        let Some(target) = obj.symbol(reloc.symbol) else {
            continue;
        };
        let home = match target.defined_in().and_then(|n| obj.section(n)) {
            Some(sec) => Some((sec.name.clone(), sec.is_writable())),
            None => program
                .externals
                .get(ir_name(obj.machine, &target.name).as_ref())
                .cloned(),
        };
        let Some((section, writable)) = home else {
            continue;
        };
        let target_ir = ir_name(obj.machine, &target.name);
        // A writable `__ref_` is reported once, as itself (`RefNotReadOnly`).
        if writable && target_ir.starts_with(b"__ref_") {
            continue;
        }
        // MSVC's RTTI (`??_R…`, writable `.data`) stays direct, as clang 22 keeps it.
        if writable
            && !is_tls_section(&section)
            && !crate::names::is_msvc_rtti(&target_ir)
            && seen.insert((p.ir_name.clone(), target.name.clone()))
        {
            problems.push(Problem::DirectAccess {
                object: name.to_owned(),
                function: text(&p.ir_name),
                target: text(&target.name),
                section: text(&section),
            });
        }
    }
}

/// `__ref_` pointers of object `name` that are writable or point at a thread-local.
/// The `__ref_` pointers of one object: read-only, not of a thread-local, and not clang 22's
/// plain weak form (`others` names the other objects carrying the same weak symbol).
fn ref_pointers(
    name: &str,
    s: &Scan,
    program: &Program,
    others: &dyn Fn(&[u8]) -> Vec<String>,
    problems: &mut Vec<Problem>,
) {
    let obj = &s.obj;
    let sealable: BTreeSet<u32> = crate::coff::seal::ref_sections(obj)
        .into_iter()
        .filter(|r| r.writable)
        .map(|r| r.section)
        .collect();
    for sym in obj.iter_symbols() {
        let ir = ir_name(obj.machine, &sym.name);
        let Some(pointee) = ir.strip_prefix(b"__ref_") else {
            continue;
        };
        let home = match sym.weak_default {
            Some(d) => obj.symbol(d),
            None => Some(sym),
        };
        if sym.weak_default.is_some() {
            problems.push(Problem::WeakRef {
                object: name.to_owned(),
                symbol: text(&sym.name),
                others: others(&sym.name),
            });
        }
        if let Some(sec) = home
            .and_then(|h| h.defined_in())
            .and_then(|n| obj.section(n))
        {
            if sec.is_writable() || !sec.is_readable() {
                problems.push(Problem::RefNotReadOnly {
                    object: name.to_owned(),
                    symbol: text(&sym.name),
                    section: text(&sec.name),
                    sealable: sealable.contains(&sec.number),
                });
            }
            if program.thread_locals.contains(pointee) {
                problems.push(Problem::ThreadLocalRef {
                    object: name.to_owned(),
                    symbol: text(&sym.name),
                    target: text(pointee),
                });
            }
        }
    }
}
