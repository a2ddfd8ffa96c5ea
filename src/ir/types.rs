//! The IR type grammar, as far as the rewrite needs it, and the "contains a pointer" query.
//!
//! clang 22 redirects a `constant` global only when its value type can hold a pointer:
//! a pointer, or an array or struct (named or literal) with such an element, recursively;
//! vectors never count (`TypeContainsPointers` in LLVM's `WindowsSecureHotPatching.cpp`).
//! This module parses types from tokens ([`parse_type`]) into a small tree that keeps
//! exactly that distinction, and answers the query with named structs resolved.
//! It does not model sizes or layouts.

use super::lex::{name_of, Name, Tok, Token};
use super::Error;
use std::collections::{HashMap, HashSet};

/// How deep types and constant expressions may nest. clang never comes near it (aggregates
/// nest as deep as the source's initializers; deeper structure goes through named types);
/// the limit keeps the recursive parsers, and dropping what they build, within even a 1 MB
/// Windows main-thread stack on hostile input.
pub const MAX_NESTING: u32 = 256;

/// A parsed type, reduced to what the pointer query needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    /// `ptr` in any address space.
    Ptr(u32),
    /// Integers, floats, vectors, `void`, `label`, `token`, target types, opaque structs.
    Leaf,
    /// `[N x T]`.
    Array(Box<Ty>),
    /// `{ … }` or `<{ … }>`.
    Struct(Vec<Ty>),
    /// `%name`: resolved through the module's type table.
    Named(Name<'static>),
}

/// A cursor over a token slice, with errors that carry the input position.
pub struct Cursor<'t, 's> {
    pub toks: &'t [Token],
    pub pos: usize,
    pub src: &'s [u8],
    /// Offset reported when the tokens run out.
    pub end: usize,
    /// Types and constant expressions open at the cursor (see [`MAX_NESTING`]).
    depth: u32,
}

impl<'t, 's> Cursor<'t, 's> {
    pub fn new(toks: &'t [Token], src: &'s [u8], end: usize) -> Self {
        Cursor {
            toks,
            pos: 0,
            src,
            end,
            depth: 0,
        }
    }

    /// Runs `parse` one nesting level deeper; an error past [`MAX_NESTING`] levels.
    pub fn nested<T>(
        &mut self,
        parse: impl FnOnce(&mut Self) -> Result<T, Error>,
    ) -> Result<T, Error> {
        if self.depth >= MAX_NESTING {
            return Err(self.error(format!(
                "types or constant expressions nested deeper than {MAX_NESTING} levels"
            )));
        }
        self.depth += 1;
        let r = parse(self);
        self.depth -= 1;
        r
    }

    pub fn peek(&self) -> Option<Token> {
        self.toks.get(self.pos).copied()
    }

    pub fn peek_at(&self, k: usize) -> Option<Token> {
        self.toks.get(self.pos + k).copied()
    }

    pub fn bump(&mut self) -> Option<Token> {
        let t = self.peek();
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    /// Offset of the next token, or of the end.
    pub fn offset(&self) -> usize {
        self.peek().map_or(self.end, |t| t.start)
    }

    pub fn error(&self, message: impl AsRef<str>) -> Error {
        Error::at(self.src, self.offset(), message.as_ref())
    }

    pub fn expect(&mut self, p: u8) -> Result<Token, Error> {
        match self.peek() {
            Some(t) if t.is(p) => {
                self.pos += 1;
                Ok(t)
            }
            _ => Err(self.error(format!("expected '{}'", p as char))),
        }
    }

    pub fn eat(&mut self, p: u8) -> bool {
        if self.peek().is_some_and(|t| t.is(p)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub fn eat_word(&mut self, w: &[u8]) -> bool {
        if self.peek().is_some_and(|t| t.is_word(self.src, w)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Skips one balanced bracket group starting at the current opener.
    pub fn skip_group(&mut self) -> Result<(), Error> {
        let mut depth = 0usize;
        let start = self.offset();
        while let Some(t) = self.bump() {
            match t.kind {
                Tok::Punct(b'(' | b'[' | b'{' | b'<') => depth += 1,
                Tok::Punct(b')' | b']' | b'}' | b'>') => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return Ok(());
                    }
                }
                _ => {}
            }
            if depth == 0 {
                return Ok(());
            }
        }
        Err(Error::at(self.src, start, "unbalanced brackets"))
    }

    /// Walks the rest of the tokens, skipping each bracket group whole, and calls
    /// `visit(cursor, previous, token)` for every token outside the groups, the cursor still at
    /// `token` (to peek beyond it). A token right after a group has no previous one.
    pub fn each_outside_groups(
        &mut self,
        mut visit: impl FnMut(&Self, Option<Token>, Token) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut prev: Option<Token> = None;
        while let Some(t) = self.peek() {
            if let Tok::Punct(b'(' | b'[' | b'{' | b'<') = t.kind {
                self.skip_group()?;
                prev = None;
                continue;
            }
            visit(self, prev, t)?;
            prev = Some(t);
            self.bump();
        }
        Ok(())
    }
}

/// Scalar type keywords (also used to tell an array constant `[` after a type).
pub fn is_scalar_type_word(w: &[u8]) -> bool {
    matches!(
        w,
        b"ptr"
            | b"void"
            | b"half"
            | b"bfloat"
            | b"float"
            | b"double"
            | b"x86_fp80"
            | b"fp128"
            | b"ppc_fp128"
            | b"label"
            | b"metadata"
            | b"token"
            | b"x86_amx"
            | b"x86_mmx"
    ) || (w.len() > 1 && w.first() == Some(&b'i') && w.iter().skip(1).all(u8::is_ascii_digit))
}

/// Parses one type at the cursor.
pub fn parse_type(c: &mut Cursor) -> Result<Ty, Error> {
    c.nested(parse_type_here)
}

fn parse_type_here(c: &mut Cursor) -> Result<Ty, Error> {
    let Some(t) = c.peek() else {
        return Err(c.error("expected a type"));
    };
    let ty = match t.kind {
        Tok::Word => {
            let w = t.text(c.src);
            c.bump();
            if w == b"ptr" {
                let mut space = 0;
                if c.eat_word(b"addrspace") {
                    c.expect(b'(')?;
                    let n = c.bump().filter(|t| t.kind == Tok::Num);
                    space = n
                        .and_then(|n| std::str::from_utf8(n.text(c.src)).ok()?.parse().ok())
                        .ok_or_else(|| c.error("expected an address space number"))?;
                    c.expect(b')')?;
                }
                Ty::Ptr(space)
            } else if w == b"target" {
                if c.peek().is_some_and(|t| t.is(b'(')) {
                    c.skip_group()?;
                }
                Ty::Leaf
            } else if is_scalar_type_word(w) || w == b"opaque" {
                Ty::Leaf
            } else {
                c.pos -= 1;
                return Err(c.error("expected a type"));
            }
        }
        Tok::Local => {
            c.bump();
            Ty::Named(name_of(c.src, &t).into_owned())
        }
        Tok::Punct(b'[') => {
            c.bump();
            expect_count_x(c)?;
            let elem = parse_type(c)?;
            c.expect(b']')?;
            Ty::Array(Box::new(elem))
        }
        Tok::Punct(b'{') => {
            c.bump();
            Ty::Struct(parse_members(c, b'}')?)
        }
        Tok::Punct(b'<') => {
            c.bump();
            if c.eat(b'{') {
                let m = parse_members(c, b'}')?;
                c.expect(b'>')?;
                Ty::Struct(m)
            } else {
                if c.eat_word(b"vscale") && !c.eat_word(b"x") {
                    return Err(c.error("expected 'x'"));
                }
                expect_count_x(c)?;
                parse_type(c)?;
                c.expect(b'>')?;
                // A vector of pointers does not count: clang 22 only looks into arrays and structs.
                Ty::Leaf
            }
        }
        _ => return Err(c.error("expected a type")),
    };
    Ok(ty)
}

fn expect_count_x(c: &mut Cursor) -> Result<(), Error> {
    if c.bump().map_or(true, |t| t.kind != Tok::Num) {
        c.pos = c.pos.saturating_sub(1);
        return Err(c.error("expected an element count"));
    }
    if !c.eat_word(b"x") {
        return Err(c.error("expected 'x'"));
    }
    Ok(())
}

fn parse_members(c: &mut Cursor, close: u8) -> Result<Vec<Ty>, Error> {
    let mut v = Vec::new();
    if c.eat(close) {
        return Ok(v);
    }
    loop {
        v.push(parse_type(c)?);
        if c.eat(close) {
            return Ok(v);
        }
        c.expect(b',')?;
    }
}

/// Whether `ty` can hold a pointer, with named structs looked up in `named`: whether a
/// pointer is reachable through arrays, structs and named types (each named type is looked
/// into once, so a cyclic one ends). An unknown named type holds no pointer (LLVM would
/// reject the module). A walk with its own stack: named types may chain arbitrarily deep.
pub fn contains_pointer(ty: &Ty, named: &HashMap<Name<'static>, Ty>) -> bool {
    let mut todo = vec![ty];
    let mut seen: HashSet<&Name<'static>> = HashSet::new();
    while let Some(ty) = todo.pop() {
        match ty {
            Ty::Ptr(_) => return true,
            Ty::Leaf => {}
            Ty::Array(e) => todo.push(e),
            Ty::Struct(m) => todo.extend(m),
            Ty::Named(n) => {
                if seen.insert(n) {
                    todo.extend(named.get(n));
                }
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::super::lex::lex_all;
    use super::*;

    fn parse(s: &str) -> Ty {
        let mut toks = Vec::new();
        lex_all(s.as_bytes(), 0, s.len(), false, &mut toks).unwrap();
        let mut c = Cursor::new(&toks, s.as_bytes(), s.len());
        let t = parse_type(&mut c).unwrap();
        assert_eq!(c.pos, toks.len(), "{s}");
        t
    }

    /// Named types (`%name = type …`) from (name, type) pairs.
    fn named_types(types: &[(&str, &str)]) -> HashMap<Name<'static>, Ty> {
        types
            .iter()
            .map(|(name, ty)| {
                let name = Name {
                    numbered: false,
                    bytes: name.as_bytes().to_vec().into(),
                };
                (name, parse(ty))
            })
            .collect()
    }

    #[test]
    fn pointer_query_follows_arrays_structs_and_names_not_vectors() {
        let named = named_types(&[
            ("struct.P", "{ i32, [2 x ptr] }"),
            ("struct.N", "{ i32, <4 x ptr> }"),
        ]);
        for (s, want) in [
            ("ptr", true),
            ("ptr addrspace(1)", true),
            ("i32", false),
            ("[4 x [2 x ptr]]", true),
            ("[13 x i8]", false),
            ("{ i32, { i8, ptr } }", true),
            ("<{ i8, ptr }>", true),
            ("<2 x ptr>", false),
            ("<vscale x 2 x i64>", false),
            ("%struct.P", true),
            ("%struct.N", false),
            ("[3 x %struct.P]", true),
            ("%struct.Unknown", false),
            ("{}", false),
            ("target(\"x\", i8, 1)", false),
        ] {
            assert_eq!(contains_pointer(&parse(s), &named), want, "{s}");
        }
    }

    #[test]
    fn cyclic_named_types_terminate() {
        let named = named_types(&[("A", "{ %B }"), ("B", "{ %A }")]);
        assert!(!contains_pointer(&parse("%A"), &named));
    }
}
