//! The top-level entities of an IR module that the rewrite needs, found in one pass.
//!
//! LLVM prints every top-level entity at column 0 and ends every function body with a
//! `}` line, so the index works line by line: global variable definitions (`@g = …
//! global|constant …`), named types (`%T = type …`) and attribute groups (`attributes #N
//! = { … }`) are lexed and parsed fully; for `define` only the header is parsed and the body
//! is skipped to its closing `}` line. Of a comdat (`$c = comdat any`) only the name is
//! kept. Everything else (declarations, aliases, metadata, module asm) is not looked at. What is not touched is later copied through as
//! the original bytes, so the index keeps byte offsets, not text.

use super::lex::{lex_all, name_of, Lexer, Name, Tok, Token};
use super::types::{parse_type, Cursor, Ty};
use super::Error;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

/// The attribute clang 22 reads to decide which functions to rewrite.
pub const MARK: &[u8] = b"marked_for_windows_hot_patching";
/// The global-variable attribute that opts a global out of the redirect.
pub const ALLOW_DIRECT: &[u8] = b"allow_direct_access_in_hot_patch_function";

/// A global variable definition or declaration (`global` or `constant`; not aliases, ifuncs).
#[derive(Debug)]
pub struct GlobalVar<'a> {
    pub name: Name<'a>,
    /// Byte range of its line(s), without the final newline.
    pub start: usize,
    pub end: usize,
    pub constant: bool,
    pub ty: Ty,
    pub thread_local: bool,
    /// The linkage word (`internal`, `external`, `linkonce_odr`…), `None` for the default.
    pub linkage: Option<&'a [u8]>,
    pub addrspace: u32,
    /// Attribute groups referenced (`#N`).
    pub attr_groups: Vec<u32>,
    /// Whether an inline string attribute opts it out of the redirect.
    pub inline_allow_direct: bool,
    pub section: Option<Cow<'a, [u8]>>,
    /// The initializer when it is a lone global (`ptr @X`).
    pub init_global: Option<Name<'a>>,
    /// End of its last token: where an inline attribute can be appended.
    pub attr_insert: usize,
}

/// A function definition: where its header and body are, and how it is marked.
#[derive(Debug)]
pub struct Function<'a> {
    pub name: Name<'a>,
    /// Offset of `define`.
    pub start: usize,
    /// Offset just after the header line (the first body line).
    pub body_start: usize,
    /// Offset of the closing `}` line.
    pub body_end: usize,
    pub available_externally: bool,
    /// `#N` references after the argument list: group number and token range.
    pub attr_refs: Vec<(u32, usize, usize)>,
    /// Range of an inline `"marked_for_windows_hot_patching"` attribute (with its value).
    pub inline_mark: Option<(usize, usize)>,
    /// Where an inline function attribute can be inserted (after `unnamed_addr`…).
    pub attr_insert: usize,
}

/// An attribute group `attributes #N = { … }`.
#[derive(Debug)]
pub struct AttrGroup {
    /// Offsets just after `{` and of `}`.
    pub open: usize,
    pub close: usize,
    /// Range of the mark attribute inside the braces, with its value if any.
    pub mark: Option<(usize, usize)>,
    pub allow_direct: bool,
}

/// The index of a module.
#[derive(Debug, Default)]
pub struct Module<'a> {
    pub globals: Vec<GlobalVar<'a>>,
    pub global_by_name: HashMap<Name<'a>, usize>,
    pub types: HashMap<Name<'static>, Ty>,
    pub functions: Vec<Function<'a>>,
    pub groups: BTreeMap<u32, AttrGroup>,
    /// Names of the comdats the module declares (`$name = comdat any`).
    pub comdats: HashSet<Name<'a>>,
    /// Offset just after the last global variable's line (its newline included).
    pub after_last_global: Option<usize>,
    /// Offset of the first `define`/`declare` line.
    pub first_function: Option<usize>,
    /// Offset just after the last attribute group's line.
    pub after_last_group: Option<usize>,
}

impl<'a> Module<'a> {
    /// The global variable called `name`, if the module has one.
    pub fn global(&self, name: &Name) -> Option<&GlobalVar<'a>> {
        self.global_by_name
            .get(name)
            .and_then(|&i| self.globals.get(i))
    }

    /// Indexes `src`.
    pub fn index(src: &'a [u8]) -> Result<Self, Error> {
        let mut m = Module::default();
        let mut toks = Vec::new();
        let mut pos = 0;
        while pos < src.len() {
            let line_end = memchr::memchr(b'\n', &src[pos..]).map_or(src.len(), |i| pos + i);
            let line = &src[pos..line_end];
            let next = match line.first() {
                Some(b'@') => {
                    let end = entity(src, pos, &mut toks)?;
                    if let Some(g) = parse_global(src, &toks, end)? {
                        if m.global_by_name.contains_key(&g.name) {
                            return Err(Error::at(src, pos, "global defined twice"));
                        }
                        m.global_by_name.insert(g.name.clone(), m.globals.len());
                        m.globals.push(g);
                        m.after_last_global = Some((end + 1).min(src.len()));
                    }
                    end
                }
                Some(b'%') => {
                    let end = entity(src, pos, &mut toks)?;
                    let mut c = Cursor::new(&toks, src, end);
                    let name = c.bump().map(|t| name_of(src, &t).into_owned());
                    c.expect(b'=')?;
                    if !c.eat_word(b"type") {
                        return Err(c.error("expected 'type'"));
                    }
                    let ty = parse_type(&mut c)?;
                    if c.peek().is_some() {
                        return Err(c.error("unexpected token after the type"));
                    }
                    if let Some(name) = name {
                        m.types.insert(name, ty);
                    }
                    end
                }
                Some(b'$') => {
                    // `$name = comdat KIND`: only the name is kept.
                    let mut lx = Lexer::new(src, pos, line_end, false);
                    let t = lx.next_token()?;
                    if t.kind == Tok::Comdat {
                        m.comdats.insert(name_of(src, &t));
                    }
                    line_end
                }
                Some(b'a') if line.starts_with(b"attributes ") => {
                    let end = entity(src, pos, &mut toks)?;
                    let (num, group) = parse_group(src, &toks, end)?;
                    m.groups.insert(num, group);
                    m.after_last_group = Some((end + 1).min(src.len()));
                    end
                }
                Some(b'd')
                    if line.starts_with(b"define")
                        && line.get(6).is_some_and(|b| !is_word_byte(*b)) =>
                {
                    m.first_function.get_or_insert(pos);
                    let f = parse_define(src, pos)?;
                    let close_end = memchr::memchr(b'\n', &src[f.body_end..])
                        .map_or(src.len(), |i| f.body_end + i);
                    m.functions.push(f);
                    close_end
                }
                Some(b'd') if line.starts_with(b"declare") => {
                    m.first_function.get_or_insert(pos);
                    line_end
                }
                _ => line_end,
            };
            pos = next + 1;
        }
        Ok(m)
    }
}

fn is_word_byte(b: u8) -> bool {
    super::lex::is_ident(b)
}

/// Lexes the entity starting at `start` up to the first line end outside brackets;
/// returns the offset of that line end (or of the end of input).
fn entity(src: &[u8], start: usize, toks: &mut Vec<Token>) -> Result<usize, Error> {
    toks.clear();
    let mut lx = Lexer::new(src, start, src.len(), true);
    let mut depth = 0usize;
    loop {
        let t = lx.next_token()?;
        match t.kind {
            Tok::Eof => return Ok(src.len()),
            Tok::Newline if depth == 0 => return Ok(t.start),
            Tok::Newline => continue,
            Tok::Punct(b'(' | b'[' | b'{' | b'<') => depth += 1,
            Tok::Punct(b')' | b']' | b'}' | b'>') => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| Error::at(src, t.start, "unbalanced closing bracket"))?
            }
            _ => {}
        }
        toks.push(t);
    }
}

/// Parses a global variable's definition (its tokens `toks`, ending at `end`); `None` for an
/// alias or ifunc.
fn parse_global<'a>(
    src: &'a [u8],
    toks: &[Token],
    end: usize,
) -> Result<Option<GlobalVar<'a>>, Error> {
    let mut c = Cursor::new(toks, src, end);
    let Some(name_tok) = c.bump() else {
        return Err(c.error("expected a global name"));
    };
    c.expect(b'=')?;
    let mut g = GlobalVar {
        name: name_of(src, &name_tok),
        start: name_tok.start,
        end,
        constant: false,
        ty: Ty::Leaf,
        thread_local: false,
        linkage: None,
        addrspace: 0,
        attr_groups: Vec::new(),
        inline_allow_direct: false,
        section: None,
        init_global: None,
        attr_insert: toks.last().map_or(end, |t| t.end),
    };
    if !read_global_keywords(&mut c, &mut g)? {
        return Ok(None);
    }
    g.ty = parse_type(&mut c)?;
    if let (Some(t), next) = (c.peek(), c.peek_at(1)) {
        if t.kind == Tok::Global && next.map_or(true, |n| n.is(b',') || n.kind == Tok::AttrRef) {
            g.init_global = Some(name_of(src, &t));
        }
    }
    read_global_attributes(&mut c, &mut g)?;
    Ok(Some(g))
}

/// The words before a global's type (linkage, `thread_local`, `addrspace(N)`…) up to `global`
/// or `constant`, into `g`; `false` for an alias or ifunc.
fn read_global_keywords<'a>(c: &mut Cursor<'_, 'a>, g: &mut GlobalVar<'a>) -> Result<bool, Error> {
    let src = c.src;
    loop {
        let Some(t) = c.peek() else {
            return Err(c.error("expected 'global', 'constant' or 'alias'"));
        };
        if t.kind != Tok::Word {
            return Err(c.error("expected 'global', 'constant' or 'alias'"));
        }
        c.bump();
        match t.text(src) {
            b"global" => return Ok(true),
            b"constant" => {
                g.constant = true;
                return Ok(true);
            }
            b"alias" | b"ifunc" => return Ok(false),
            b"thread_local" => {
                g.thread_local = true;
                if c.peek().is_some_and(|t| t.is(b'(')) {
                    c.skip_group()?;
                }
            }
            b"addrspace" => {
                c.expect(b'(')?;
                g.addrspace = c
                    .bump()
                    .filter(|t| t.kind == Tok::Num)
                    .and_then(|t| std::str::from_utf8(t.text(src)).ok()?.parse().ok())
                    .ok_or_else(|| c.error("expected an address space number"))?;
                c.expect(b')')?;
            }
            w @ (b"private"
            | b"internal"
            | b"available_externally"
            | b"linkonce"
            | b"weak"
            | b"common"
            | b"appending"
            | b"extern_weak"
            | b"linkonce_odr"
            | b"weak_odr"
            | b"external") => g.linkage = Some(w),
            _ => {}
        }
    }
}

/// What follows a global's type (initializer, `, section "…"`, comdat, align, metadata, `#N`):
/// its attribute groups, section and inline `allow_direct_access_in_hot_patch_function`, into
/// `g`.
fn read_global_attributes<'a>(c: &mut Cursor<'_, 'a>, g: &mut GlobalVar<'a>) -> Result<(), Error> {
    let src = c.src;
    c.each_outside_groups(|_, prev, t| {
        match t.kind {
            Tok::AttrRef => g.attr_groups.push(attr_number(src, &t)?),
            // Only a string attribute's `"key"="value"` has a `=` here; anything else would
            // hide what follows from the reading below (its attributes, so a rewrite would
            // add `allow_direct_access_in_hot_patch_function` again each time).
            Tok::Punct(b'=') if !prev.is_some_and(|p| p.kind == Tok::Str) => {
                return Err(Error::at(
                    src,
                    t.start,
                    "unexpected '=' in a global's definition",
                ));
            }
            Tok::Str => {
                // A string after `partition`/`code_model` is their value; after any other
                // word (a type: `external global i32 "…"`) it is an attribute.
                let after_word = prev
                    .is_some_and(|p| p.is_word(src, b"partition") || p.is_word(src, b"code_model"));
                if prev.is_some_and(|p| p.is_word(src, b"section")) {
                    let s = t.text(src);
                    g.section = Some(super::lex::unescape(
                        s.get(1..s.len() - 1).unwrap_or_default(),
                    ));
                } else if !after_word
                    && !prev.is_some_and(|p| p.is(b'='))
                    && t.text(src).get(1..t.end - t.start - 1) == Some(ALLOW_DIRECT)
                {
                    g.inline_allow_direct = true;
                }
            }
            _ => {}
        }
        Ok(())
    })
}

fn attr_number(src: &[u8], t: &Token) -> Result<u32, Error> {
    std::str::from_utf8(t.text(src).get(1..).unwrap_or_default())
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::at(src, t.start, "attribute group number out of range"))
}

fn parse_group(src: &[u8], toks: &[Token], end: usize) -> Result<(u32, AttrGroup), Error> {
    let mut c = Cursor::new(toks, src, end);
    c.bump(); // `attributes`
    let num = match c.bump() {
        Some(t) if t.kind == Tok::AttrRef => attr_number(src, &t)?,
        _ => {
            c.pos = c.pos.saturating_sub(1);
            return Err(c.error("expected '#N'"));
        }
    };
    c.expect(b'=')?;
    let open = c.expect(b'{')?.end;
    let mut g = AttrGroup {
        open,
        close: open,
        mark: None,
        allow_direct: false,
    };
    let mut depth = 0usize;
    let mut prev: Option<Token> = None;
    loop {
        let Some(t) = c.bump() else {
            return Err(c.error("expected '}'"));
        };
        match t.kind {
            Tok::Punct(b'}') if depth == 0 => {
                g.close = t.start;
                break;
            }
            Tok::Punct(b'(' | b'[' | b'{' | b'<') => depth += 1,
            Tok::Punct(b')' | b']' | b'}' | b'>') => depth = depth.saturating_sub(1),
            Tok::Str if depth == 0 && !prev.is_some_and(|p| p.is(b'=')) => {
                let key = t.text(src).get(1..t.end - t.start - 1).unwrap_or_default();
                if key == MARK {
                    let mut end = t.end;
                    if c.peek().is_some_and(|n| n.is(b'=')) {
                        if let Some(v) = c.peek_at(1).filter(|v| v.kind == Tok::Str) {
                            end = v.end;
                        }
                    }
                    g.mark = Some((t.start, end));
                } else if key == ALLOW_DIRECT {
                    g.allow_direct = true;
                }
            }
            _ => {}
        }
        prev = Some(t);
    }
    if c.peek().is_some() {
        return Err(c.error("unexpected token after the attribute group"));
    }
    Ok((num, g))
}

/// Parses a `define` header starting at `start` and finds the end of the body.
fn parse_define(src: &[u8], start: usize) -> Result<Function<'_>, Error> {
    let (toks, open) = define_header(src, start)?;
    let name_at = toks
        .iter()
        .position(|t| t.kind == Tok::Global)
        .ok_or_else(|| Error::at(src, start, "expected the function name"))?;
    let available_externally = toks[..name_at]
        .iter()
        .any(|t| t.is_word(src, b"available_externally"));
    let mut c = Cursor::new(&toks, src, open.start);
    c.pos = name_at + 1;
    if !c.peek().is_some_and(|t| t.is(b'(')) {
        return Err(c.error("expected '(' after the function name"));
    }
    c.skip_group()?;
    let mut f = Function {
        name: name_of(src, &toks[name_at]),
        start,
        body_start: 0,
        body_end: 0,
        available_externally,
        attr_refs: Vec::new(),
        inline_mark: None,
        attr_insert: toks[c.pos - 1].end,
    };
    // `unnamed_addr` and `addrspace(N)` come before the function attributes.
    loop {
        if c.eat_word(b"unnamed_addr") || c.eat_word(b"local_unnamed_addr") {
            f.attr_insert = toks[c.pos - 1].end;
        } else if c.peek().is_some_and(|t| t.is_word(src, b"addrspace"))
            && c.peek_at(1).is_some_and(|t| t.is(b'('))
        {
            c.bump();
            c.skip_group()?;
            f.attr_insert = toks[c.pos - 1].end;
        } else {
            break;
        }
    }
    c.each_outside_groups(|c, prev, t| {
        match t.kind {
            Tok::AttrRef => f.attr_refs.push((attr_number(src, &t)?, t.start, t.end)),
            Tok::Str
                if !prev.is_some_and(|p| p.is(b'=') || p.kind == Tok::Word)
                    && t.text(src).get(1..t.end - t.start - 1) == Some(MARK) =>
            {
                let mut end = t.end;
                if c.peek_at(1).is_some_and(|n| n.is(b'=')) {
                    if let Some(v) = c.peek_at(2).filter(|v| v.kind == Tok::Str) {
                        end = v.end;
                    }
                }
                f.inline_mark = Some((t.start, end));
            }
            _ => {}
        }
        Ok(())
    })?;
    f.body_start = memchr::memchr(b'\n', &src[open.end..]).map_or(src.len(), |i| open.end + i + 1);
    // The body ends at the first line that starts with `}`.
    let from = f.body_start.saturating_sub(1);
    f.body_end = memchr::memmem::find(&src[from..], b"\n}")
        .map(|i| from + i + 1)
        .ok_or_else(|| Error::at(src, open.start, "function body is not closed by a '}' line"))?;
    Ok(f)
}

/// Lexes the `define` header at `start` up to the `{` that ends its line outside brackets:
/// the header's tokens, and that `{`.
fn define_header(src: &[u8], start: usize) -> Result<(Vec<Token>, Token), Error> {
    let mut lx = Lexer::new(src, start, src.len(), false);
    let mut toks = Vec::new();
    let mut depth = 0usize;
    loop {
        let t = lx.next_token()?;
        match t.kind {
            Tok::Eof => {
                return Err(Error::at(
                    src,
                    start,
                    "expected '{' to open the function body",
                ))
            }
            Tok::Punct(b'{') if depth == 0 && rest_of_line_is_blank(src, t.end) => {
                return Ok((toks, t))
            }
            Tok::Punct(b'(' | b'[' | b'{' | b'<') => depth += 1,
            Tok::Punct(b')' | b']' | b'}' | b'>') => depth = depth.saturating_sub(1),
            _ => {}
        }
        toks.push(t);
    }
}

fn rest_of_line_is_blank(src: &[u8], mut i: usize) -> bool {
    loop {
        match src.get(i) {
            None | Some(b'\n' | b';') => return true,
            Some(b' ' | b'\t' | b'\r') => i += 1,
            Some(_) => return false,
        }
    }
}

/// Lexes `src[start..end]` with line ends (for function bodies).
pub fn lex_body(src: &[u8], start: usize, end: usize, toks: &mut Vec<Token>) -> Result<(), Error> {
    toks.clear();
    lex_all(src, start, end, true, toks)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = r#"; ModuleID = 'a.c'
%struct.S = type { i32, ptr }
%struct.Q = type opaque
$"?x@@3HA" = comdat any
@g = dso_local global i32 0, align 4, !dbg !0
@"?x@@3HA" = linkonce_odr dso_local thread_local(localdynamic) global [2 x %struct.S] [%struct.S { i32 1, ptr @g }, %struct.S zeroinitializer], comdat, align 8 #2
@s = private unnamed_addr constant [3 x i8] c"hi\00", align 1
@a = dso_local alias i32, ptr @g
@__ref_g = linkonce global ptr @g, section ".rdata"
@e = external addrspace(1) externally_initialized constant ptr

define dso_local i32 @f(i32 noundef %0) local_unnamed_addr #0 !dbg !9 {
entry:
  %1 = load i32, ptr @g, align 4
  ret i32 %1
}

define available_externally void @"h x"() "marked_for_windows_hot_patching"="" {
  ret void
}

declare void @d()

attributes #0 = { nounwind "marked_for_windows_hot_patching" "target-cpu"="x86-64" }
attributes #2 = { "allow_direct_access_in_hot_patch_function" }
!0 = !{}
"#;

    #[test]
    fn indexes_globals_types_functions_and_groups() {
        let m = Module::index(SRC.as_bytes()).unwrap();
        let names: Vec<_> = m
            .globals
            .iter()
            .map(|g| String::from_utf8_lossy(&g.name.bytes).into_owned())
            .collect();
        assert_eq!(names, ["g", "?x@@3HA", "s", "__ref_g", "e"]);
        let x = &m.globals[1];
        assert!(x.thread_local && !x.constant && x.linkage == Some(&b"linkonce_odr"[..]));
        assert_eq!(x.attr_groups, [2]);
        assert!(matches!(x.ty, Ty::Array(_)));
        let r = &m.globals[3];
        assert_eq!(r.section.as_deref(), Some(&b".rdata"[..]));
        assert_eq!(r.init_global.as_ref().map(|n| &*n.bytes), Some(&b"g"[..]));
        let e = &m.globals[4];
        assert!(e.constant && e.addrspace == 1 && e.ty == Ty::Ptr(0));
        assert_eq!(m.types.len(), 2);
        assert_eq!(m.functions.len(), 2);
        let f = &m.functions[0];
        assert_eq!(f.attr_refs.iter().map(|r| r.0).collect::<Vec<_>>(), [0]);
        assert_eq!(
            &SRC.as_bytes()[f.attr_insert - 18..f.attr_insert],
            b"local_unnamed_addr"
        );
        assert!(SRC[f.body_start..].starts_with("entry:"));
        assert!(SRC[f.body_end..].starts_with("}\n\ndefine available"));
        let h = &m.functions[1];
        assert!(h.available_externally);
        let (s, e) = h.inline_mark.unwrap();
        assert_eq!(&SRC[s..e], "\"marked_for_windows_hot_patching\"=\"\"");
        assert!(m.groups[&0].mark.is_some() && m.groups[&2].allow_direct);
        assert!(SRC[m.after_last_global.unwrap()..].starts_with("\ndefine"));
        assert!(SRC[m.after_last_group.unwrap()..].starts_with("!0"));
    }

    #[test]
    fn errors_carry_line_and_column() {
        let err = Module::index(b"@g = global i32 0\n@h = global\n").unwrap_err();
        assert!(
            err.to_string().starts_with("2:12: expected a type"),
            "{err}"
        );
        let err = Module::index(b"define void @f() {\n  ret void\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("1:18: function body is not closed"),
            "{err}"
        );
        let err = Module::index(b"%T = type { i32* }\n").unwrap_err();
        assert!(err.to_string().contains("LLVM/clang 15 to 22"), "{err}");
    }
}
