//! The rules that decide what a patch carries and what it cannot, each over the two builds:
//! globals compared (a changed read-only global marks the functions that read it; a changed
//! writable or thread-local global, or one that moved between those kinds, is refused), globals
//! the patched build dropped while its code still names them (refused), functions whose code or
//! relocations changed or that read a changed constant, and the new functions listed code
//! reaches.

use super::build::Build;
use super::object::Obj;
use super::report::{Error, Listed, Reason, Refusal, RefusalKind};
use super::{GlobalKind, Key};
use object::pe;
use std::collections::{BTreeMap, BTreeSet};

/// The read-only globals whose content changed: key to IR name.
pub(super) type ChangedConstants<'o> = BTreeMap<Key<'o>, Vec<u8>>;

/// The objects that both builds have must be for one machine.
pub(super) fn check_machines(base: &Build<'_, '_>, patched: &Build<'_, '_>) -> Result<(), Error> {
    for po in patched.objects {
        if let Some(&bo) = base.by_name.get(po.name) {
            let (b, p) = (&base.objects[bo].coff, &po.coff);
            if b.machine != p.machine {
                return Err(Error::Machine {
                    object: po.name.to_string(),
                    base: b.machine_name(),
                    patched: p.machine_name(),
                });
            }
        }
    }
    Ok(())
}

/// Every global both builds define, compared: the refusals, and the read-only globals whose
/// content changed.
pub(super) fn compare_globals<'o>(
    base: &Build<'o, '_>,
    patched: &Build<'o, '_>,
) -> (Vec<Refusal>, ChangedConstants<'o>) {
    let mut refusals = Vec::new();
    let mut changed_constants = ChangedConstants::new();
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
    (refusals, changed_constants)
}

/// Globals the base defines, the patched build does not, and patched code still names.
pub(super) fn dropped_globals(base: &Build<'_, '_>, patched: &Build<'_, '_>) -> Vec<Refusal> {
    let mut refusals = Vec::new();
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
                .or_else(|| function_reaching(po, section))
                .map(|n| po.ir_name(n))
                .unwrap_or_else(|| po.section_name(section).into_bytes());
            refusals.push(Refusal {
                global: base.objects[g].ir_name(&sym.name),
                object: base.objects[g].name.to_string(),
                kind: RefusalKind::Dropped { used_by },
            });
        }
    }
    refusals
}

/// The first function of `obj` that refers to data of section `sec` (such as the `.refptr.X`
/// pointer through which GNU-mode code reaches an imported `X`).
fn function_reaching<'o>(obj: &'o Obj<'_>, sec: u32) -> Option<&'o [u8]> {
    for (i, list) in obj.funcs.iter().enumerate() {
        let fsec = i as u32 + 1;
        for &(start, s) in list {
            let p = obj.print(fsec, start, obj.section_size(fsec).max(start));
            let hit = p.refs.iter().any(|&r| {
                obj.coff
                    .symbol(r)
                    .is_some_and(|t| t.defined_in() == Some(sec))
            });
            if hit {
                return Some(&obj.coff.symbol(s)?.name);
            }
        }
    }
    None
}

/// Functions both builds define whose code bytes or relocations differ, or, when those agree,
/// that read a changed constant.
pub(super) fn changed_functions<'o>(
    base: &Build<'o, '_>,
    patched: &Build<'o, '_>,
    changed_constants: &ChangedConstants<'o>,
) -> BTreeMap<Key<'o>, Listed> {
    let mut listed = BTreeMap::new();
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
    listed
}

/// Adds to `listed` the new functions (only in the patched build) that listed code calls,
/// transitively, also through the constants that changed (a new table of function pointers
/// reaches new functions).
pub(super) fn add_new_callees<'o>(
    base: &Build<'o, '_>,
    patched: &Build<'o, '_>,
    changed_constants: &ChangedConstants<'o>,
    listed: &mut BTreeMap<Key<'o>, Listed>,
) {
    let mut work: Vec<(Key<'_>, Vec<u8>)> =
        listed.iter().map(|(k, l)| (*k, l.name.clone())).collect();
    let mut seen_constants = BTreeSet::new();
    while let Some((from, caller_ir)) = work.pop() {
        for callee in references(patched, &from) {
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
}

/// The functions and globals that the function or global `from` of `build` refers to.
fn references<'o>(build: &Build<'o, '_>, from: &Key<'o>) -> Vec<Key<'o>> {
    if let Some(f) = build.functions.get(from) {
        let obj = &build.objects[f.object];
        obj.print(f.section, f.start, f.end)
            .refs
            .into_iter()
            .map(|r| obj.key_of(r))
            .collect()
    } else if let Some(g) = build.globals.get(from).filter(|g| g.section != 0) {
        let obj = &build.objects[g.object];
        obj.print(g.section, g.start, g.start + g.size)
            .refs
            .into_iter()
            .map(|r| obj.key_of(r))
            .collect()
    } else {
        Vec::new()
    }
}
