//! LLVM IR text: mark hot-patched functions and redirect their global accesses.
//!
//! Input is the textual IR that LLVM/clang 15 to 22 print (opaque pointers; typed-pointer
//! IR is refused with an error naming that range). The engine reproduces clang 22's
//! `WindowsSecureHotPatching` pass on IR text, so that older compilers can build
//! hot-patchable code, and so that the rewrite is visible in a diff:
//!
//! - [`module`] indexes the top-level entities line by line (LLVM prints each at column 0);
//! - [`types`] answers "can this global's type hold a pointer";
//! - [`redirect`] rewrites the bodies of marked functions, and decides which globals need
//!   a `__ref_` pointer and what it is called;
//! - this file chooses the functions, handles the mark attribute, and applies the edits.
//!
//! Every byte outside the edits is copied unchanged. The edits are: the rewritten
//! operands and the new entry-block instructions of marked functions, their inline mark,
//! the inline allow-direct attribute of globals, the new `@__ref_*` globals (after the last
//! global) and the `@llvm.compiler.used` entries of internal ones.
//!
//! The mark `"marked_for_windows_hot_patching"` is added to every listed function and kept
//! on every function that had it, in both modes. Mark-only output is for an LLVM 21+ code
//! generator, which then does the rewrite itself. A full rewrite stays marked too, so that
//! `clang-22 -c` / `llc-22` on it writes the `S_HOTPATCHFUNC` records itself; its pass then
//! redirects nothing a second time, because every `__ref_` pointer (created or found) and
//! every global kept direct on purpose (thread-locals, opt-outs) carries
//! `"allow_direct_access_in_hot_patch_function"`, the attribute that pass honours. clang 15
//! to 20 ignore both attributes.
//!
//! Not done here: debug info for `__ref_` globals (clang 22 attaches a
//! `DIGlobalVariableExpression` that no compile unit lists, so it never reaches the
//! object), CodeView records (see `codeview`), reading files.

pub mod defined;
pub mod lex;
pub mod module;
pub mod optout;
pub mod redirect;
pub mod types;

use crate::hotlist::HotList;
use module::{Module, MARK};
use std::collections::BTreeMap;
use std::io::Write;

/// How to rewrite.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only add the `"marked_for_windows_hot_patching"` attribute (what `-emit-llvm`
    /// output gets); no `__ref_` redirect.
    pub mark_only: bool,
    /// Global variables (IR names, exact bytes) that keep direct access in hot-patched
    /// functions, as if they carried `"allow_direct_access_in_hot_patch_function"` (the
    /// `-fms-hotpatch-allow-direct-file=` / `-list=` wrapper flags). Names the module
    /// lacks are ignored: one list serves every translation unit.
    pub allow_direct: optout::AllowDirect,
}

/// What a rewrite did, for `-v` output and for the driver.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// IR names (unquoted, unescaped bytes) of the functions marked, in module order.
    pub marked: Vec<Vec<u8>>,
    /// `(function, global)` IR names of every redirected access, one per pair.
    pub redirected: Vec<(Vec<u8>, Vec<u8>)>,
    /// Warnings for the user (one line each, no prefix).
    pub warnings: Vec<String>,
}

/// The rewritten module and what was done to it.
#[derive(Debug, Clone)]
pub struct Rewritten {
    pub text: Vec<u8>,
    pub report: Report,
}

/// Errors of the IR layer. `Display` starts with `LINE:COL: ` where a position is known;
/// the caller prefixes the file name.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Malformed or unsupported IR at a position (1-based line and byte column).
    #[error("{line}:{col}: {message}")]
    Syntax {
        line: usize,
        col: usize,
        message: String,
    },
    /// A bug of the engine caught before any output (e.g. overlapping edits).
    #[error("internal error of the IR rewrite: {0}")]
    Internal(String),
}

impl Error {
    /// An error at byte `offset` of `src`.
    pub fn at(src: &[u8], offset: usize, message: &str) -> Error {
        let before = src.get(..offset).unwrap_or(src);
        let line = memchr::memchr_iter(b'\n', before).count() + 1;
        let col = offset
            - before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1)
            + 1;
        Error::Syntax {
            line,
            col,
            message: message.to_string(),
        }
    }
}

/// One edit of the input: bytes `start..end` replaced by `text` (an insertion when
/// `start == end`, a deletion when `text` is empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub text: Vec<u8>,
}

impl Edit {
    /// Replaces `start..end` by `text`.
    pub fn replace(start: usize, end: usize, text: Vec<u8>) -> Edit {
        Edit { start, end, text }
    }

    /// Inserts `text` before the byte at `at`.
    pub fn insert(at: usize, text: Vec<u8>) -> Edit {
        Edit {
            start: at,
            end: at,
            text,
        }
    }
}

/// The edits to make to an input, computed without copying it.
#[derive(Debug, Default)]
pub struct Plan {
    /// Sorted by `(start, end)`; never overlapping (checked by [`Plan::check`]). Insertions
    /// at one offset keep the order they were made in.
    edits: Vec<Edit>,
    pub report: Report,
}

impl Plan {
    /// Length of the output in bytes.
    pub fn output_len(&self, input: &[u8]) -> usize {
        self.edits
            .iter()
            .fold(input.len(), |n, e| n + e.text.len() - (e.end - e.start))
    }

    /// Sorts the edits and checks that they fit an input of `len` bytes and that no two of
    /// them touch the same byte: applied, they then copy every other input byte exactly once.
    fn finish(&mut self, len: usize) -> Result<(), Error> {
        self.edits.sort_by_key(|e| (e.start, e.end));
        self.check(len).map_err(Error::Internal)
    }

    /// The first problem with the edits for an input of `len` bytes, if any.
    fn check(&self, len: usize) -> Result<(), String> {
        let mut prev: Option<&Edit> = None;
        for e in &self.edits {
            if e.start > e.end || e.end > len {
                return Err(format!(
                    "edit of bytes {}..{} outside the input ({len} bytes)",
                    e.start, e.end
                ));
            }
            if let Some(p) = prev {
                if e.start < p.end || (e.start, e.end) < (p.start, p.end) {
                    return Err(format!(
                        "edits of bytes {}..{} and {}..{} overlap",
                        p.start, p.end, e.start, e.end
                    ));
                }
            }
            prev = Some(e);
        }
        Ok(())
    }

    /// Writes the rewritten module: `input` with the edits applied. Fails (writing nothing)
    /// if the edits overlap or do not fit `input`, rather than drop or repeat input bytes.
    pub fn write_to(&self, input: &[u8], out: &mut dyn Write) -> std::io::Result<()> {
        self.check(input.len())
            .map_err(|m| std::io::Error::new(std::io::ErrorKind::InvalidInput, m))?;
        let mut pos = 0;
        for e in &self.edits {
            out.write_all(input.get(pos..e.start).unwrap_or_default())?;
            out.write_all(&e.text)?;
            pos = e.end;
        }
        out.write_all(input.get(pos..).unwrap_or_default())
    }
}

/// Marks the functions of `functions` (and those already marked) in `input`, and unless
/// `options.mark_only`, redirects their global accesses through `__ref_*` pointers.
pub fn rewrite(input: &[u8], functions: &HotList, options: &Options) -> Result<Rewritten, Error> {
    let plan = plan(input, functions, options)?;
    let mut text = Vec::with_capacity(plan.output_len(input));
    plan.write_to(input, &mut text)
        .map_err(|e| Error::Internal(e.to_string()))?;
    Ok(Rewritten {
        text,
        report: plan.report,
    })
}

/// Computes the edits of [`rewrite`] without producing the text (to stream it).
pub fn plan(input: &[u8], functions: &HotList, options: &Options) -> Result<Plan, Error> {
    let m = Module::index(input)?;
    let opt_out = optout::OptOut::build(input, &m, &options.allow_direct)?;
    let mut plan = Plan::default();
    let mut table = redirect::RefTable::default();

    for f in &m.functions {
        if f.available_externally {
            // Never code-generated here: neither marked nor rewritten (as clang 22).
            continue;
        }
        let in_groups = f
            .attr_refs
            .iter()
            .any(|(n, ..)| m.groups.get(n).is_some_and(|g| g.mark.is_some()));
        let carries = f.inline_mark.is_some() || in_groups;
        let listed = !f.name.numbered && functions.contains(&f.name.bytes);
        if !(carries || listed) {
            continue;
        }
        plan.report.marked.push(f.name.bytes.to_vec());
        if !carries {
            plan.edits
                .push(Edit::insert(f.attr_insert, quoted_attr(MARK)));
        }
        if options.mark_only {
            continue;
        }
        let fe = redirect::rewrite_function(input, &m, f, &opt_out, &mut table)?;
        for g in fe.redirected {
            plan.report.redirected.push((f.name.bytes.to_vec(), g));
        }
        plan.report.warnings.extend(fe.warnings);
        plan.edits.extend(fe.edits);
    }

    plan.report
        .warnings
        .extend(unmangled_entries(&m, functions));
    if !plan.report.marked.is_empty() {
        // An LLVM 21+ code generator runs its own pass on the marked functions: hand it our
        // decisions as the attribute it understands. Globals kept direct on purpose
        // (thread-locals, annotations, name lists, what is never emitted) and the `__ref_`
        // pointers already in the module must not be redirected (again); the new `__ref_`s
        // carry it from birth. LLVM's own `llvm.*` variables need nothing: no valid function
        // uses them (and the `llvm.compiler.used` we may add must read the same next time).
        for (i, g) in m.globals.iter().enumerate() {
            let keep = g.thread_local
                || opt_out.contains(i)
                || redirect::is_ref_pointer(g)
                || (redirect::is_never_emitted(g) && !redirect::is_llvm_variable(g));
            if keep && !redirect::has_allow_direct_attr(g, &m) {
                plan.edits.push(Edit::insert(
                    g.attr_insert,
                    quoted_attr(module::ALLOW_DIRECT),
                ));
            }
        }
    }

    if !table.internal_refs.is_empty() {
        keep_refs_unmerged(input, &m, &mut table, &mut plan.edits);
    }
    if !table.new_globals.is_empty() {
        let at = m
            .after_last_global
            .or(m.first_function)
            .unwrap_or(input.len());
        let mut text = table.new_globals;
        if at == input.len() && !input.is_empty() && !input.ends_with(b"\n") {
            text.insert(0, b'\n');
        }
        plan.edits.push(Edit::insert(at, text));
    }
    plan.finish(input.len())?;
    Ok(plan)
}

/// Puts the internal `__ref_`s into `@llvm.compiler.used` (a new one, or the module's own
/// with them prepended).
///
/// Why: the ARM and AArch64 code generators run GlobalMerge, which packs internal globals
/// used by the same function into one object and addresses them as `.rdata`+offset. Two
/// internal `__ref_`s in one function (a thread-safe static's guard and the static, say)
/// would then be reached through the section symbol instead of their `__ref_` names, unlike
/// clang 22's (linkonce, never merged). GlobalMerge leaves `llvm.used`/`llvm.compiler.used`
/// members alone; `compiler.used` adds nothing to the object (no `/INCLUDE:`). An existing
/// list in a shape we do not recognise is left alone: merged `__ref_`s are still correct.
fn keep_refs_unmerged(
    input: &[u8],
    m: &Module,
    table: &mut redirect::RefTable,
    edits: &mut Vec<Edit>,
) {
    let refs = &table.internal_refs;
    let mut entries = Vec::new();
    for r in refs {
        entries.extend_from_slice(b"ptr ");
        entries.extend_from_slice(r);
        entries.extend_from_slice(b", ");
    }
    let key = lex::Name {
        numbered: false,
        bytes: (&b"llvm.compiler.used"[..]).into(),
    };
    match m.global(&key) {
        None => {
            let t = &mut table.new_globals;
            t.extend_from_slice(
                format!(
                    "@llvm.compiler.used = appending global [{} x ptr] [",
                    refs.len()
                )
                .as_bytes(),
            );
            entries.truncate(entries.len().saturating_sub(2));
            t.extend_from_slice(&entries);
            t.extend_from_slice(b"], section \"llvm.metadata\"\n");
        }
        Some(g) => {
            // `@llvm.compiler.used = appending global [K x ptr] [ptr @a, …], section …`
            let Some(line) = input.get(g.start..g.end) else {
                return;
            };
            let Some(at) = find(line, b" global [") else {
                return;
            };
            let count_at = at + b" global [".len();
            let digits = line
                .get(count_at..)
                .unwrap_or_default()
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            let rest = line.get(count_at + digits..).unwrap_or_default();
            let Some(count) = line
                .get(count_at..count_at + digits)
                .and_then(|d| std::str::from_utf8(d).ok())
                .and_then(|d| d.parse::<usize>().ok())
            else {
                return;
            };
            if !rest.starts_with(b" x ptr] [") || count == 0 {
                return;
            }
            let s = g.start + count_at;
            edits.push(Edit::replace(
                s,
                s + digits,
                (count + refs.len()).to_string().into_bytes(),
            ));
            let open = s + digits + b" x ptr] [".len();
            edits.push(Edit::insert(open, entries));
        }
    }
}

/// ` "attr"`: a string attribute as inserted after a function header or a global.
fn quoted_attr(name: &[u8]) -> Vec<u8> {
    let mut s = b" \"".to_vec();
    s.extend_from_slice(name);
    s.push(b'"');
    s
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Warnings for list entries that name no function of `m` while a function defined here
/// has that qualified name (`S::f` for `?f@S@@QEAAHH@Z`): clang 22 silently marks nothing.
/// An entry that matches nothing at all is normal (it is defined in another file).
fn unmangled_entries(m: &Module, functions: &HotList) -> Vec<String> {
    let defined: Vec<&[u8]> = m
        .functions
        .iter()
        .filter(|f| !f.available_externally && !f.name.numbered)
        .map(|f| &*f.name.bytes)
        .collect();
    let unmatched: Vec<&[u8]> = functions
        .iter()
        .filter(|e| !defined.contains(e) && !e.starts_with(b"?"))
        .collect();
    if unmatched.is_empty() {
        return Vec::new();
    }
    let mut by_qualified: BTreeMap<String, Vec<&[u8]>> = BTreeMap::new();
    for name in &defined {
        if let Some(q) = crate::names::qualified_name(name) {
            by_qualified.entry(q).or_default().push(name);
        }
    }
    let mut out = Vec::new();
    for e in unmatched {
        let Some(found) = std::str::from_utf8(e)
            .ok()
            .and_then(|e| by_qualified.get(e))
        else {
            continue;
        };
        let names: Vec<String> = found
            .iter()
            .map(|n| format!("'{}'", String::from_utf8_lossy(n)))
            .collect();
        out.push(format!(
            "hot-patch list entry '{}' is not a mangled name and marks nothing; this file defines {} (lists take mangled names)",
            String::from_utf8_lossy(e),
            names.join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod tests;
