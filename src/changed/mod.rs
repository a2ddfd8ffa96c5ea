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
//!
//! The parts, in the order [`compare`] uses them: `report.rs` (what goes in and comes out),
//! `build.rs` and `object.rs` (each build's objects read and indexed), `fields.rs` (relocated
//! fields, per machine), `print.rs` (the comparable form of code and data), `rules.rs` (what is
//! listed, what is refused). This file holds [`compare`], the front door, and the names every
//! part shares: a function's or global's `Key`, and where it lives (`Place`, `Global`).

mod build;
mod fields;
mod object;
mod print;
mod report;
mod rules;

pub use report::{Error, Input, Listed, Reason, Refusal, RefusalKind, Report, Side};

use build::{parse, Build};

/// Compares the two builds. Objects pair up by [`Input::name`]; an object only in the patched
/// build contributes new functions, one only in the base build globals that may be dropped.
pub fn compare(base: &[Input<'_>], patched: &[Input<'_>]) -> Result<Report, Error> {
    let base_objects = parse(base, Side::Base)?;
    let patched_objects = parse(patched, Side::Patched)?;
    let base = Build::new(&base_objects);
    let patched = Build::new(&patched_objects);
    rules::check_machines(&base, &patched)?;
    let (mut refusals, changed_constants) = rules::compare_globals(&base, &patched);
    refusals.extend(rules::dropped_globals(&base, &patched));
    let mut listed = rules::changed_functions(&base, &patched, &changed_constants);
    rules::add_new_callees(&base, &patched, &changed_constants, &mut listed);

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

/// Where a global lives, which decides what a change of it means.
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

/// A named global (or common symbol) and its extent.
#[derive(Debug, Clone, Copy)]
struct Global {
    object: usize,
    /// 0 for a common symbol (no section, zero-filled).
    section: u32,
    start: u32,
    size: u32,
    kind: GlobalKind,
}

/// The name `-fms-hotpatch-functions-file` takes for the COFF symbol `name` of an object for
/// `machine`: the one mapping of [`crate::codeview::hotpatch::ir_name`], owned.
pub fn ir_name(machine: u16, name: &[u8]) -> Vec<u8> {
    crate::codeview::hotpatch::ir_name(machine, name).into_owned()
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
        let obj = include_bytes!("../../tests/fixtures/changed/damaged-names.obj");
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
