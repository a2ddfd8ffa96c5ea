//! The `__ref_` rewrite inside one marked function, with clang 22's rules.
//!
//! Rules (LLVM's `WindowsSecureHotPatching.cpp`, measured in docs/clang22-facts.md,
//! "Which globals a marked function reaches through `__ref_`"):
//! - which globals need a redirect: [`needs_redirect`];
//! - every instruction operand that is such a global, or a constant *expression* that
//!   contains one anywhere in its tree, is rewritten; constant aggregates, metadata
//!   operands (`metadata ptr @g`), debug records (`#dbg_value`), functions and aliases are not;
//! - one `load ptr, ptr @__ref_G` per global per function at the very start of the entry
//!   block, followed by every rewritten constant expression turned into instructions (one
//!   copy per use, operands first), with the global replaced by the loaded pointer;
//! - `phi` operands are rewritten the same way (the entry block dominates every edge).
//!
//! The body is scanned as tokens: the engine does not parse each instruction's grammar,
//! it classifies brackets (call arguments and instruction lists are scanned; aggregates,
//! metadata and vectors are skipped) and parses constant expressions fully, since they
//! must be re-printed as instructions. New local names use a prefix that no existing local
//! name of the function starts with, so numbered locals (`%0`, `%1`…) keep their sequence.

use super::lex::{name_of, print_name, Name, Tok, Token};
use super::module::{lex_body, Function, GlobalVar, Module};
use super::optout::OptOut;
use super::types::{contains_pointer, is_scalar_type_word, parse_type, Cursor};
use super::{Edit, Error};
use std::collections::HashMap;

/// Whether accesses to global `index` of `m` from a marked function go through `__ref_`.
///
/// clang 22's decision, with these rules of ours on top:
/// - a global that is itself the redirect pointer of another (`@__ref_X = … ptr @X,
///   section ".rdata"`) is never redirected, so rewriting already-rewritten IR changes nothing;
/// - a thread-local is never redirected. Its `__ref_` could only hold the address of the
///   TLS *template* (what clang 22 does), so the patched code would read and write the
///   template instead of the current thread's copy; and `llvm.threadlocal.address` must
///   get the global itself. Kept direct, the patch uses its own image's thread-local
///   storage: a fresh copy per thread, which is reported as a warning;
/// - globals opted out in source (`hotpatch_allow_direct` annotation) or by the wrapper's
///   name lists ([`OptOut`]) are treated like the `allow_direct_access_in_hot_patch_function`
///   attribute;
/// - LLVM's own variables ([`is_llvm_variable`]) and whatever is never emitted
///   ([`is_never_emitted`]) are never redirected. (A malformed function that names
///   `@llvm.compiler.used` must not make the output of one rewrite, which may add that list,
///   rewrite differently a second time.)
pub fn needs_redirect(index: usize, m: &Module, opt_out: &OptOut) -> bool {
    let Some(g) = m.globals.get(index) else {
        return false;
    };
    if has_allow_direct_attr(g, m)
        || g.thread_local
        || opt_out.contains(index)
        || is_ref_pointer(g)
        || is_llvm_variable(g)
        || is_never_emitted(g)
    {
        return false;
    }
    if !g.constant {
        // MSVC RTTI data is emitted writable but never changes.
        return g.name.numbered || !crate::names::is_msvc_rtti(&g.name.bytes);
    }
    contains_pointer(&g.ty, &m.types)
}

/// Whether `g` carries `"allow_direct_access_in_hot_patch_function"` (inline or in a group).
pub fn has_allow_direct_attr(g: &GlobalVar, m: &Module) -> bool {
    g.inline_allow_direct
        || g.attr_groups
            .iter()
            .any(|n| m.groups.get(n).is_some_and(|grp| grp.allow_direct))
}

/// Whether `g` is one of LLVM's own variables: named `llvm.*`, a prefix LLVM reserves
/// (`llvm.used`, `llvm.compiler.used`, `llvm.global_ctors`…). No valid function uses one.
pub fn is_llvm_variable(g: &GlobalVar) -> bool {
    !g.name.numbered && g.name.bytes.starts_with(b"llvm.")
}

/// Whether `g` is placed in the "llvm.metadata" section, which the code generator never
/// emits: there is nothing at run time for a `__ref_` to point at. clang 22 redirects the
/// argument tuple of `__attribute__((annotate("x", 1, "y")))` on a local (`@.args`, a
/// private constant holding a pointer) and then cannot assemble its `__ref_.args`
/// (docs/differences-from-clang22.md); we leave it direct.
pub fn is_never_emitted(g: &GlobalVar) -> bool {
    g.section.as_deref() == Some(b"llvm.metadata")
}

/// The name (unescaped bytes) of the redirect pointer of the global called `name`.
///
/// Named globals get `__ref_` + name, as clang 22 does. A numbered global (`@3`, which
/// clang 22 would turn into a bare `__ref_` with a uniquing suffix) gets `__ref_` + number.
pub fn ref_name(name: &Name) -> Vec<u8> {
    let mut v = b"__ref_".to_vec();
    v.extend_from_slice(&name.bytes);
    v
}

/// Whether `g` has the shape of a redirect pointer made by this engine or clang 22.
pub fn is_ref_pointer(g: &GlobalVar) -> bool {
    g.section.as_deref() == Some(b".rdata")
        && matches!(g.ty, super::types::Ty::Ptr(_))
        && g.init_global
            .as_ref()
            .is_some_and(|x| ref_name(x) == *g.name.bytes && !g.name.numbered)
}

/// Whether `name` is the `llvm.threadlocal.address` intrinsic (any overload).
fn is_tls_address_intrinsic(name: &Name) -> bool {
    !name.numbered && name.bytes.starts_with(b"llvm.threadlocal.address")
}

/// Words that start a constant expression when followed (after flags) by `(`.
fn is_constexpr_keyword(w: &[u8]) -> bool {
    matches!(
        w,
        b"getelementptr"
            | b"bitcast"
            | b"addrspacecast"
            | b"ptrtoint"
            | b"ptrtoaddr"
            | b"inttoptr"
            | b"trunc"
            | b"zext"
            | b"sext"
            | b"fptrunc"
            | b"fpext"
            | b"fptoui"
            | b"fptosi"
            | b"uitofp"
            | b"sitofp"
            | b"fneg"
    ) || is_binary_keyword(w)
        || matches!(
            w,
            b"select" | b"extractelement" | b"insertelement" | b"shufflevector"
        )
}

/// Constant expressions whose instruction form writes the operand type once.
fn is_binary_keyword(w: &[u8]) -> bool {
    matches!(
        w,
        b"add"
            | b"sub"
            | b"mul"
            | b"shl"
            | b"lshr"
            | b"ashr"
            | b"and"
            | b"or"
            | b"xor"
            | b"udiv"
            | b"sdiv"
            | b"urem"
            | b"srem"
            | b"fadd"
            | b"fsub"
            | b"fmul"
            | b"fdiv"
            | b"frem"
            | b"icmp"
            | b"fcmp"
    )
}

/// Flags and predicates between a constant-expression keyword and its `(`.
fn is_flag_word(w: &[u8]) -> bool {
    matches!(
        w,
        b"inbounds"
            | b"nuw"
            | b"nsw"
            | b"nusw"
            | b"exact"
            | b"disjoint"
            | b"samesign"
            | b"eq"
            | b"ne"
            | b"ugt"
            | b"uge"
            | b"ult"
            | b"ule"
            | b"sgt"
            | b"sge"
            | b"slt"
            | b"sle"
            | b"oeq"
            | b"ogt"
            | b"oge"
            | b"olt"
            | b"ole"
            | b"one"
            | b"ord"
            | b"ueq"
            | b"une"
            | b"uno"
            | b"true"
            | b"false"
    )
}

/// A value inside a constant expression.
#[derive(Debug)]
enum Val {
    /// `@name` (index of the token).
    Global(usize),
    Expr(Box<CExpr>),
    /// Anything else, kept as its source text.
    Other,
}

#[derive(Debug)]
struct Item {
    /// Byte range of the type (with a leading `inrange` of LLVM ≤ 18 excluded).
    ty: (usize, usize),
    /// The value and its byte range (none for a GEP's source element type).
    val: Option<(Val, usize, usize)>,
}

/// A parsed constant expression `KW flags (items [to T])`.
#[derive(Debug)]
struct CExpr {
    kw: (usize, usize),
    /// Flags kept in the instruction form (`inrange(…)` is dropped: instructions have none).
    flags: Vec<(usize, usize)>,
    items: Vec<Item>,
    to_ty: Option<(usize, usize)>,
    span: (usize, usize),
}

/// Whether the token at the cursor starts a constant expression.
fn at_constexpr(c: &Cursor) -> bool {
    let Some(t) = c.peek() else { return false };
    if t.kind != Tok::Word || !is_constexpr_keyword(t.text(c.src)) {
        return false;
    }
    let mut k = 1;
    loop {
        match c.peek_at(k) {
            Some(t) if t.is(b'(') => return true,
            Some(t)
                if t.is_word(c.src, b"inrange") && c.peek_at(k + 1).is_some_and(|n| n.is(b'(')) =>
            {
                // Skip `inrange(a, b)`.
                let mut j = k + 2;
                while c.peek_at(j).is_some_and(|n| !n.is(b')')) {
                    j += 1;
                }
                k = j + 1;
            }
            Some(t) if t.kind == Tok::Word && is_flag_word(t.text(c.src)) => k += 1,
            _ => return false,
        }
    }
}

fn last_end(c: &Cursor) -> usize {
    c.pos
        .checked_sub(1)
        .and_then(|i| c.toks.get(i))
        .map_or(c.end, |t| t.end)
}

fn parse_cexpr(c: &mut Cursor) -> Result<CExpr, Error> {
    c.nested(parse_cexpr_here)
}

fn parse_cexpr_here(c: &mut Cursor) -> Result<CExpr, Error> {
    let kw_tok = c
        .bump()
        .ok_or_else(|| c.error("expected a constant expression"))?;
    let mut e = CExpr {
        kw: (kw_tok.start, kw_tok.end),
        flags: Vec::new(),
        items: Vec::new(),
        to_ty: None,
        span: (kw_tok.start, kw_tok.end),
    };
    while let Some(t) = c.peek() {
        if t.is_word(c.src, b"inrange") && c.peek_at(1).is_some_and(|n| n.is(b'(')) {
            c.bump();
            c.skip_group()?;
        } else if t.kind == Tok::Word && is_flag_word(t.text(c.src)) {
            e.flags.push((t.start, t.end));
            c.bump();
        } else {
            break;
        }
    }
    c.expect(b'(')?;
    loop {
        // LLVM 15-18 mark a GEP index `inrange i32 0`; the instruction form has no such thing.
        if c.peek().is_some_and(|t| t.is_word(c.src, b"inrange")) {
            c.bump();
        }
        let ty_start = c.offset();
        parse_type(c)?;
        let ty = (ty_start, last_end(c));
        let val = match c.peek() {
            Some(t) if t.is(b',') || t.is(b')') || t.is_word(c.src, b"to") => None,
            Some(_) => {
                let start = c.offset();
                let v = parse_value(c)?;
                Some((v, start, last_end(c)))
            }
            None => return Err(c.error("unterminated constant expression")),
        };
        e.items.push(Item { ty, val });
        if c.eat_word(b"to") {
            let s = c.offset();
            parse_type(c)?;
            e.to_ty = Some((s, last_end(c)));
        }
        if c.eat(b')') {
            break;
        }
        c.expect(b',')?;
    }
    e.span.1 = last_end(c);
    Ok(e)
}

fn parse_value(c: &mut Cursor) -> Result<Val, Error> {
    let Some(t) = c.peek() else {
        return Err(c.error("expected a value"));
    };
    match t.kind {
        Tok::Global => {
            c.bump();
            Ok(Val::Global(c.pos - 1))
        }
        Tok::Word if at_constexpr(c) => Ok(Val::Expr(Box::new(parse_cexpr(c)?))),
        Tok::Word if matches!(t.text(c.src), b"splat" | b"blockaddress") => {
            c.bump();
            c.skip_group()?;
            Ok(Val::Other)
        }
        Tok::Word if matches!(t.text(c.src), b"dso_local_equivalent" | b"no_cfi") => {
            c.bump();
            c.bump();
            Ok(Val::Other)
        }
        Tok::Punct(b'(' | b'[' | b'{' | b'<') => {
            c.skip_group()?;
            Ok(Val::Other)
        }
        Tok::Punct(b'!') | Tok::Meta => Err(c.error("metadata is not a constant operand")),
        Tok::Punct(_) => Err(c.error("expected a value")),
        _ => {
            c.bump();
            Ok(Val::Other)
        }
    }
}

/// An operand of an instruction that may need the rewrite.
enum Use {
    /// A lone `@g` (token index).
    Direct(usize),
    Expr(CExpr),
    /// A global that must stay as it is whatever it is (the argument of
    /// `llvm.threadlocal.address`); listed for the thread-local warning.
    Keep(usize),
    /// Token range `start..end` of a constant aggregate (`{…}`, `<…>`, `[…]`,
    /// `splat(…)`): never rewritten, as clang 22; listed for the warning.
    Aggregate(usize, usize),
}

/// The module-wide state of the rewrite: redirect pointers created so far.
#[derive(Default)]
pub struct RefTable {
    /// Per global (index in `Module::globals`): the name bytes of its `__ref_`.
    refs: HashMap<usize, Vec<u8>>,
    /// New globals to add, in creation order: the definition lines.
    pub new_globals: Vec<u8>,
    /// The new `__ref_`s of internal linkage (address space 0), as printed (`@"__ref_…"`):
    /// they go into `@llvm.compiler.used` (see `keep_refs_unmerged` in `ir`).
    pub internal_refs: Vec<Vec<u8>>,
}

/// What rewriting one function produced.
pub struct FunctionEdits {
    /// Byte edits inside the body (and the new entry-block instructions).
    pub edits: Vec<Edit>,
    /// Names (unescaped) of the globals redirected, in first-use order.
    pub redirected: Vec<Vec<u8>>,
    pub warnings: Vec<String>,
}

struct Ctx<'s, 'm, 'a> {
    src: &'s [u8],
    m: &'m Module<'a>,
    toks: &'s [Token],
    opt_out: &'m OptOut,
}

impl Ctx<'_, '_, '_> {
    /// The global at token `i` when it needs a redirect.
    fn redirected_global(&self, i: usize) -> Option<usize> {
        let idx = self.global_at(i)?;
        needs_redirect(idx, self.m, self.opt_out).then_some(idx)
    }

    /// The global variable (index in `Module::globals`) named by token `i`.
    fn global_at(&self, i: usize) -> Option<usize> {
        let t = self.toks.get(i)?;
        self.m.global_by_name.get(&name_of(self.src, t)).copied()
    }

    /// Every global variable named anywhere in `e`.
    fn expr_all_globals(&self, e: &CExpr, out: &mut Vec<usize>) {
        self.expr_globals_by(e, out, Self::global_at);
    }

    /// Every redirected global variable named anywhere in `e`.
    fn expr_globals(&self, e: &CExpr, out: &mut Vec<usize>) {
        self.expr_globals_by(e, out, Self::redirected_global);
    }

    /// What `pick` makes of each global named anywhere in `e` (nested expressions too).
    fn expr_globals_by(
        &self,
        e: &CExpr,
        out: &mut Vec<usize>,
        pick: fn(&Self, usize) -> Option<usize>,
    ) {
        for it in &e.items {
            match &it.val {
                Some((Val::Global(i), ..)) => out.extend(pick(self, *i)),
                Some((Val::Expr(sub), ..)) => self.expr_globals_by(sub, out, pick),
                _ => {}
            }
        }
    }

    fn text(&self, (s, e): (usize, usize)) -> &[u8] {
        self.src.get(s..e).unwrap_or_default()
    }
}

/// Rewrites the body of `f`. `table` holds the redirect pointers of the whole module.
pub fn rewrite_function(
    src: &[u8],
    m: &Module,
    f: &Function,
    opt_out: &OptOut,
    table: &mut RefTable,
) -> Result<FunctionEdits, Error> {
    let mut toks = Vec::new();
    lex_body(src, f.body_start, f.body_end, &mut toks)?;
    let cx = Ctx {
        src,
        m,
        toks: &toks,
        opt_out,
    };
    let uses = collect_uses(&cx, f)?;
    let order = load_order(&cx, &uses);
    let mut out = FunctionEdits {
        edits: Vec::new(),
        redirected: Vec::new(),
        warnings: warnings(&cx, f, &uses),
    };
    if order.is_empty() {
        return Ok(out);
    }

    let prefix = free_prefix(src, f, &toks)?;
    let mut loads: HashMap<usize, Vec<u8>> = HashMap::new();
    let mut prologue = Vec::new();
    for &gi in &order {
        let Some(g) = m.globals.get(gi) else { continue };
        let rn = ensure_ref(src, m, gi, g, table)?;
        loads.insert(gi, emit_ref_load(&prefix, g, &rn, &mut prologue));
        out.redirected.push(g.name.bytes.to_vec());
    }

    let mut counter = 0usize;
    for u in &uses {
        match u {
            Use::Direct(i) => {
                if let (Some(g), Some(t)) = (cx.redirected_global(*i), toks.get(*i)) {
                    if let Some(l) = loads.get(&g) {
                        out.edits.push(Edit::replace(t.start, t.end, l.clone()));
                    }
                }
            }
            Use::Expr(e) => {
                if let Some(name) = emit_expr(&cx, e, &loads, &prefix, &mut counter, &mut prologue)
                {
                    out.edits.push(Edit::replace(e.span.0, e.span.1, name));
                }
            }
            Use::Keep(_) | Use::Aggregate(..) => {}
        }
    }
    out.edits
        .insert(0, Edit::insert(entry_insertion(src, f, &toks), prologue));
    Ok(out)
}

/// The redirected globals that `uses` name, alone or inside constant expressions, each once
/// in first-use order: the order of their loads at the start of the entry block.
fn load_order(cx: &Ctx, uses: &[Use]) -> Vec<usize> {
    let mut order: Vec<usize> = Vec::new();
    let mut found = Vec::new();
    for u in uses {
        found.clear();
        match u {
            Use::Direct(i) => found.extend(cx.redirected_global(*i)),
            Use::Expr(e) => cx.expr_globals(e, &mut found),
            Use::Keep(_) | Use::Aggregate(..) => {}
        }
        for g in &found {
            if !order.contains(g) {
                order.push(*g);
            }
        }
    }
    order
}

/// Appends to `prologue` the `load` of `g`'s redirect pointer `ref_name` into a new local,
/// `%<prefix>.ref.<name of g>`, and returns that local's name as printed.
fn emit_ref_load(prefix: &[u8], g: &GlobalVar, ref_name: &[u8], prologue: &mut Vec<u8>) -> Vec<u8> {
    let mut local = prefix.to_vec();
    local.extend_from_slice(b".ref.");
    local.extend_from_slice(&g.name.bytes);
    let mut lname = Vec::new();
    print_name(&mut lname, b'%', &local);
    prologue.extend_from_slice(b"  ");
    prologue.extend_from_slice(&lname);
    prologue.extend_from_slice(b" = load ");
    prologue.extend_from_slice(&ptr_type(g.addrspace));
    prologue.extend_from_slice(b", ptr ");
    print_name(prologue, b'@', ref_name);
    prologue.push(b'\n');
    lname
}

/// The warnings of one function, one per (function, global) and kind, in first-use order:
/// thread-locals kept direct (clang 22 redirects them, wrongly) and globals that need a
/// redirect but sit inside a constant aggregate (clang 22 leaves them direct, silently).
fn warnings(cx: &Ctx, f: &Function, uses: &[Use]) -> Vec<String> {
    let mut tls: Vec<usize> = Vec::new();
    let mut in_aggregate: Vec<usize> = Vec::new();
    let mut found = Vec::new();
    for u in uses {
        found.clear();
        match u {
            Use::Direct(i) | Use::Keep(i) => found.extend(cx.global_at(*i)),
            Use::Expr(e) => cx.expr_all_globals(e, &mut found),
            Use::Aggregate(s, e) => {
                for i in *s..*e {
                    if cx.toks.get(i).is_some_and(|t| t.kind == Tok::Global) {
                        if let Some(g) = cx.redirected_global(i) {
                            if !in_aggregate.contains(&g) {
                                in_aggregate.push(g);
                            }
                        }
                    }
                }
            }
        }
        for &g in &found {
            let is_tls = cx.m.globals.get(g).is_some_and(|v| v.thread_local);
            if is_tls && !cx.opt_out.contains(g) && !tls.contains(&g) {
                tls.push(g);
            }
        }
    }
    let fname = display(b'@', &f.name.bytes);
    let gname = |g: usize| {
        cx.m.globals
            .get(g)
            .map_or_else(String::new, |v| display(b'@', &v.name.bytes))
    };
    let mut out = Vec::new();
    for g in tls {
        out.push(format!(
            "{fname}: thread-local {} keeps its direct TLS access (clang 22 would redirect it to the TLS template); the patch will use its own image's thread-local storage, not the base image's",
            gname(g)
        ));
    }
    for g in in_aggregate {
        out.push(format!(
            "{fname}: {} is used inside a constant aggregate, which is never redirected (clang 22 neither): the patch will reach its own copy of it",
            gname(g)
        ));
    }
    out
}

fn display(sigil: u8, name: &[u8]) -> String {
    let mut v = Vec::new();
    print_name(&mut v, sigil, name);
    String::from_utf8_lossy(&v).into_owned()
}

fn ptr_type(space: u32) -> Vec<u8> {
    if space == 0 {
        b"ptr".to_vec()
    } else {
        format!("ptr addrspace({space})").into_bytes()
    }
}

/// The redirect pointer of global `gi`, created on first use (or reused when the module
/// already has it: an existing `__ref_X` is never redirected or redefined).
///
/// clang 22 makes every `__ref_` `linkonce` without a comdat: in the object a COFF weak
/// external with a `.weak.__ref_G.default.*` alias. Two objects carrying the same one do
/// not link with lld-link (`duplicate symbol: __ref_G`), and for an internal global two
/// files' patches would share one pointer even where a linker accepts it (MinGW ld.lld).
/// Ours, in two forms:
///
/// - a global of external linkage (defined here or elsewhere, C++ inline variables and
///   static locals of inline functions included) gets a COMDAT of its own:
///
///   ```text
///   $__ref_G = comdat any
///   @__ref_G = linkonce externally_initialized global ptr @G, comdat, section ".rdata"
///   ```
///
///   Every object may carry it and both lld-link and MinGW ld.lld keep one copy; all copies
///   are equal, since `G` has one definition program-wide. It is a non-constant `global`, as
///   clang 22's own `__ref_` is, because the code generator treats a load from a `constant`
///   as free to repeat: it rematerializes the load instead of keeping the pointer in a
///   register across calls (x86-64, x86) or sinks it into the paths that use it (ARM64), so
///   hot-patched functions would load `__ref_G` more often than clang 22's code does
///   (`tests/it/wrapper_oracle.rs`, `ref_loads_match_native_clang22_under_register_pressure`).
///   LLVM gives a non-constant global in an explicit `.rdata` COMDAT a writable section
///   (`IMAGE_SCN_MEM_WRITE`): the object step clears that bit afterwards
///   ([`crate::coff::seal`]; `hotpatch seal`/`hotpatch inject` for code generation run by
///   hand). `linkonce` (not `_odr`) and `externally_initialized` both tell the optimizer that
///   the initializer is not final, so the load stays in the code at -O2 (and under LTO): the
///   hot-patch loader rewrites it. `externally_initialized` changes no generated code
///   (measured: the same instructions and relocations with and without it on x64, x86, ARM64).
/// - a global of internal (or private) linkage gets an internal pointer: a static COFF
///   symbol of exactly the name `__ref_G` beside the static `G`, in the object's read-only
///   `.rdata` (not a COMDAT: it shares the object's `.rdata`, which stays read-only for a
///   non-constant global too, measured on x64, x86 and ARM64; nothing to seal). Nothing can clash across objects, and patch tools still pair `__ref_G` with
///   `G` by name, per object (a renamed external symbol would link too, but break that
///   pairing). `externally_initialized` keeps the load, as above.
///
/// Both are checked on x64, x86 and ARM64 by `tests/it/link_many.rs` and `tests/it/better.rs`.
fn ensure_ref(
    src: &[u8],
    m: &Module,
    gi: usize,
    g: &GlobalVar,
    table: &mut RefTable,
) -> Result<Vec<u8>, Error> {
    if let Some(r) = table.refs.get(&gi) {
        return Ok(r.clone());
    }
    let rn = ref_name(&g.name);
    let key = Name {
        numbered: false,
        bytes: rn.as_slice().into(),
    };
    match m.global(&key) {
        Some(existing) if is_ref_pointer(existing) => {}
        Some(existing) => {
            return Err(Error::at(
                src,
                existing.start,
                &format!(
                    "cannot redirect {}: the module already has a global {} that is not its redirect pointer",
                    display(b'@', &g.name.bytes),
                    display(b'@', &rn)
                ),
            ))
        }
        None => {
            let internal = matches!(g.linkage, Some(b"internal" | b"private"));
            if internal && g.addrspace == 0 {
                let mut printed = Vec::new();
                print_name(&mut printed, b'@', &rn);
                table.internal_refs.push(printed);
            }
            let t = &mut table.new_globals;
            if !internal && !m.comdats.contains(&key) {
                print_name(t, b'$', &rn);
                t.extend_from_slice(b" = comdat any\n");
            }
            print_name(t, b'@', &rn);
            t.extend_from_slice(if internal {
                b" = internal externally_initialized global "
            } else {
                b" = linkonce externally_initialized global "
            });
            t.extend_from_slice(&ptr_type(g.addrspace));
            t.push(b' ');
            if g.name.numbered {
                // A numbered global prints as `@N`, never quoted.
                t.push(b'@');
                t.extend_from_slice(&g.name.bytes);
            } else {
                print_name(t, b'@', &g.name.bytes);
            }
            t.extend_from_slice(if internal {
                &b", section \".rdata\""[..]
            } else {
                &b", comdat, section \".rdata\""[..]
            });
            // An LLVM 21+ code generator compiling the output must not redirect it again.
            t.extend_from_slice(b" \"");
            t.extend_from_slice(super::module::ALLOW_DIRECT);
            t.extend_from_slice(b"\"\n");
        }
    }
    table.refs.insert(gi, rn.clone());
    Ok(rn)
}

/// Turns `e` into instructions appended to `prologue` when it contains a redirected
/// global; returns the name of the instruction that replaces it.
fn emit_expr(
    cx: &Ctx,
    e: &CExpr,
    loads: &HashMap<usize, Vec<u8>>,
    prefix: &[u8],
    counter: &mut usize,
    prologue: &mut Vec<u8>,
) -> Option<Vec<u8>> {
    let replaced: Vec<Option<Vec<u8>>> = e
        .items
        .iter()
        .map(|it| match &it.val {
            Some((Val::Global(i), ..)) => cx
                .redirected_global(*i)
                .and_then(|g| loads.get(&g).cloned()),
            Some((Val::Expr(sub), ..)) => emit_expr(cx, sub, loads, prefix, counter, prologue),
            _ => None,
        })
        .collect();
    if replaced.iter().all(Option::is_none) {
        return None;
    }
    let mut local = prefix.to_vec();
    local.extend_from_slice(format!(".ce.{counter}").as_bytes());
    *counter += 1;
    let mut name = Vec::new();
    print_name(&mut name, b'%', &local);
    let kw = cx.text(e.kw);
    let binary = is_binary_keyword(kw);
    let p = prologue;
    p.extend_from_slice(b"  ");
    p.extend_from_slice(&name);
    p.extend_from_slice(b" = ");
    p.extend_from_slice(kw);
    for f in &e.flags {
        p.push(b' ');
        p.extend_from_slice(cx.text(*f));
    }
    for (k, (it, rep)) in e.items.iter().zip(&replaced).enumerate() {
        p.extend_from_slice(if k == 0 { b" " } else { b", " });
        if !(binary && k == 1) {
            p.extend_from_slice(cx.text(it.ty));
        }
        if let Some((_, s, end)) = &it.val {
            if !(binary && k == 1) {
                p.push(b' ');
            }
            match rep {
                Some(r) => p.extend_from_slice(r),
                None => p.extend_from_slice(cx.text((*s, *end))),
            }
        }
    }
    if let Some(t) = e.to_ty {
        p.extend_from_slice(b" to ");
        p.extend_from_slice(cx.text(t));
    }
    p.push(b'\n');
    Some(name)
}

/// A local-name prefix `P` such that no local of `f` is called `P.…`.
fn free_prefix(src: &[u8], f: &Function, body: &[Token]) -> Result<Vec<u8>, Error> {
    let mut header = Vec::new();
    super::lex::lex_all(src, f.start, f.body_start, false, &mut header)?;
    let locals: Vec<Name> = header
        .iter()
        .chain(body)
        .filter(|t| t.kind == Tok::Local)
        .map(|t| name_of(src, t))
        .filter(|n| !n.numbered)
        .collect();
    for k in 0u32.. {
        let p = if k == 0 {
            b"hp".to_vec()
        } else {
            format!("hp{k}").into_bytes()
        };
        let mut dotted = p.clone();
        dotted.push(b'.');
        if !locals.iter().any(|n| n.bytes.starts_with(&dotted)) {
            return Ok(p);
        }
    }
    unreachable!("u32 prefixes cannot all be taken")
}

/// Where the new instructions go: the first body line, or after it when it is the entry label.
fn entry_insertion(src: &[u8], f: &Function, toks: &[Token]) -> usize {
    let mut i = 0;
    while toks.get(i).is_some_and(|t| t.kind == Tok::Newline) {
        i += 1;
    }
    let first = toks.get(i);
    let is_label = first.is_some_and(|t| matches!(t.kind, Tok::Word | Tok::Num | Tok::Str))
        && toks.get(i + 1).is_some_and(|t| t.is(b':'));
    match first {
        Some(t) if is_label => {
            memchr::memchr(b'\n', &src[t.start..f.body_end]).map_or(f.body_end, |k| t.start + k + 1)
        }
        Some(t) => src[..t.start]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(t.start, |k| k + 1),
        None => f.body_start,
    }
}

/// Finds every operand of the body that is a global or a constant expression.
fn collect_uses(cx: &Ctx, f: &Function) -> Result<Vec<Use>, Error> {
    let src = cx.src;
    let mut c = Cursor::new(cx.toks, src, f.body_end);
    let mut scan = UseScan::default();
    let mut line_start = true;
    while let Some(t) = c.peek() {
        if t.kind == Tok::Newline {
            c.bump();
            line_start = scan.stack.is_empty();
            continue;
        }
        if line_start {
            line_start = false;
            if scan.line_head(&mut c, t) {
                continue;
            }
        }
        if scan.skip_metadata(&mut c, t)? {
            continue;
        }
        scan.operand(&mut c, t)?;
        scan.prev = c.pos.checked_sub(1).and_then(|i| c.toks.get(i)).copied();
    }
    if !scan.stack.is_empty() {
        return Err(Error::at(
            src,
            f.body_end,
            "unclosed bracket in the function body",
        ));
    }
    Ok(scan.uses)
}

/// The state of [`collect_uses`] between tokens.
#[derive(Default)]
struct UseScan {
    uses: Vec<Use>,
    /// Open brackets of the instruction grammar (call arguments, phi pairs, switch tables).
    stack: Vec<u8>,
    is_phi: bool,
    /// Inside a `metadata …` argument: skip up to `,` or the closing bracket at this depth.
    meta_depth: Option<usize>,
    prev: Option<Token>,
}

impl UseScan {
    /// The start of a line `t`: skips debug records, labels, `%x =` and the opcode. True when
    /// the caller is to go on with the next token.
    fn line_head(&mut self, c: &mut Cursor, t: Token) -> bool {
        let src = c.src;
        let next = c.peek_at(1);
        if t.kind == Tok::DebugRecord {
            // `#dbg_value(…)`: debug records are never rewritten.
            while c.peek().is_some_and(|t| t.kind != Tok::Newline) {
                c.bump();
            }
            return true;
        }
        if matches!(t.kind, Tok::Word | Tok::Num | Tok::Str) && next.is_some_and(|n| n.is(b':')) {
            c.bump();
            c.bump();
            return true;
        }
        let at = if t.kind == Tok::Local && next.is_some_and(|n| n.is(b'=')) {
            c.pos + 2
        } else {
            c.pos
        };
        let opcode = c.toks.get(at).copied();
        self.is_phi = opcode.is_some_and(|o| o.is_word(src, b"phi"));
        self.prev = None;
        let result_name = at != c.pos;
        if result_name {
            c.bump();
            c.bump();
        }
        if opcode.is_some_and(|o| o.kind == Tok::Word) {
            // The opcode itself is never a constant expression.
            c.bump();
            self.prev = opcode;
            return true;
        }
        // Past `%x =` the caller's token is stale: it must look again (only malformed IR
        // has no opcode there; `%x = [ … ]` once lost its `[` and failed a second rewrite).
        result_name
    }

    /// Inside a `metadata …` argument: skips `t`. True when it did.
    fn skip_metadata(&mut self, c: &mut Cursor, t: Token) -> Result<bool, Error> {
        let Some(d) = self.meta_depth else {
            return Ok(false);
        };
        let closes = matches!(t.kind, Tok::Punct(b')' | b']' | b'}' | b'>'));
        if self.stack.len() == d && (t.is(b',') || closes) {
            self.meta_depth = None;
            return Ok(false);
        }
        if matches!(t.kind, Tok::Punct(b'(' | b'[' | b'{' | b'<')) {
            c.skip_group()?;
        } else {
            c.bump();
        }
        Ok(true)
    }

    /// One operand token `t` (or the group it opens): records it as a use when it is one.
    fn operand(&mut self, c: &mut Cursor, t: Token) -> Result<(), Error> {
        let src = c.src;
        match t.kind {
            Tok::Word if t.text(src) == b"metadata" => {
                self.meta_depth = Some(self.stack.len());
                c.bump();
            }
            Tok::Word if at_constexpr(c) => {
                let e = parse_cexpr(c)?;
                self.uses.push(Use::Expr(e));
            }
            Tok::Word if t.text(src) == b"splat" && c.peek_at(1).is_some_and(|n| n.is(b'(')) => {
                c.bump();
                self.aggregate(c)?;
            }
            Tok::Global
                if is_tls_address_intrinsic(&name_of(src, &t))
                    && c.peek_at(1).is_some_and(|n| n.is(b'(')) =>
            {
                self.tls_address_call(c)?;
            }
            Tok::Global => {
                self.uses.push(Use::Direct(c.pos));
                c.bump();
            }
            Tok::Punct(b'{' | b'<') => self.aggregate(c)?,
            Tok::Punct(b'!') | Tok::Meta => {
                c.bump();
                if c.peek().is_some_and(|n| n.is(b'{') || n.is(b'(')) {
                    c.skip_group()?;
                }
            }
            Tok::Punct(b'[') if self.opens_array_constant(src) => {
                // An array constant: an aggregate, never rewritten.
                self.aggregate(c)?;
            }
            Tok::Punct(b'[') => {
                self.stack.push(b']');
                c.bump();
            }
            Tok::Punct(b'(') => {
                self.stack.push(b')');
                c.bump();
            }
            Tok::Punct(close @ (b')' | b']' | b'}' | b'>')) => {
                if self.stack.pop() != Some(close) {
                    return Err(c.error("unbalanced brackets"));
                }
                c.bump();
            }
            _ => {
                c.bump();
            }
        }
        Ok(())
    }

    /// Skips the group that opens at the cursor (`{…}`, `<…>`, `[…]`, `(…)`) and records it
    /// as a constant aggregate: never rewritten, only looked into for the warning.
    fn aggregate(&mut self, c: &mut Cursor) -> Result<(), Error> {
        let open = c.pos;
        c.skip_group()?;
        self.uses.push(Use::Aggregate(open, c.pos));
        Ok(())
    }

    /// A call of `llvm.threadlocal.address` at the cursor: skips it, recording every global
    /// of its arguments as kept. The intrinsic requires the thread-local global itself as its
    /// argument: clang 22 replaces it with the loaded pointer and produces IR that its own
    /// verifier rejects (and wrong code when unverified).
    fn tls_address_call(&mut self, c: &mut Cursor) -> Result<(), Error> {
        c.bump();
        let open = c.pos;
        c.skip_group()?;
        for i in open..c.pos {
            if c.toks.get(i).is_some_and(|t| t.kind == Tok::Global) {
                self.uses.push(Use::Keep(i));
            }
        }
        Ok(())
    }

    /// Whether a `[` here opens an array constant rather than a list of the instruction to
    /// scan (a `phi`'s `[ value, %label ]` pairs, a `switch` table): it does right after a
    /// type (`[2 x i32] [`, `i8 [`…), except at the top level of a `phi`.
    fn opens_array_constant(&self, src: &[u8]) -> bool {
        let after_type = self.prev.is_some_and(|p| {
            p.is(b']')
                || p.is(b'}')
                || p.is(b'>')
                || (p.kind == Tok::Word && is_scalar_type_word(p.text(src)))
        });
        after_type && !(self.is_phi && self.stack.is_empty())
    }
}
