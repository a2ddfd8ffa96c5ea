//! The cheapest routing hint: what the source file's own text says about the listed names.
//!
//! Routing (`mod.rs`) always checks the final object, so a hint only decides which compile
//! runs first, never what the object is. This one reads the main source file as text, with
//! no preprocessor: a listed function whose name stands there in the shape of a definition
//! (`name (…) {`) most likely lands in the object; a name that does not stand there at all
//! most likely does not (it would have to come from a header or a macro). Both guesses can be
//! wrong, and then the other compile follows: a unit pays for a wrong guess, never with a
//! wrong object.
//!
//! Names are reduced to the identifier a programmer writes: C names as they are (x86
//! decorations removed), MSVC and Itanium C++ names to their last component (`?f@S@@…` and
//! `_ZN1S1fEv` to `f`, constructors and destructors to the class name). An entry that cannot
//! be reduced makes the hint [`SourceHint::Unknown`].
//!
//! Not here: compilers, objects, the decision itself (`mod.rs`, `exec/pipeline.rs`).

use std::collections::HashSet;

/// What the text of a source file says about the listed functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceHint {
    /// A listed name stands in the shape of a function definition.
    Defines,
    /// A listed name stands in the text, never in the shape of a definition (a call, a
    /// declaration, a pointer taken).
    Mentions,
    /// No listed name stands in the text.
    Absent,
    /// The list holds a name this reader cannot reduce to an identifier.
    Unknown,
}

/// The identifiers that stand for a list's functions in source text.
pub struct Identifiers(Option<HashSet<Vec<u8>>>);

impl Identifiers {
    /// Reduces every list entry; one entry that cannot be reduced makes every hint
    /// [`SourceHint::Unknown`].
    pub fn new<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut set = HashSet::new();
        for entry in entries {
            match identifier_of(entry) {
                Some(id) => set.insert(id),
                None => return Identifiers(None),
            };
        }
        Identifiers(Some(set))
    }

    /// The hint for source text `text`.
    pub fn hint(&self, text: &[u8]) -> SourceHint {
        let Some(set) = &self.0 else {
            return SourceHint::Unknown;
        };
        let mut seen = false;
        let mut lex = Lexer { text, at: 0 };
        while let Some(tok) = lex.next() {
            if let Token::Ident(id) = tok {
                if set.contains(id) {
                    if lex.clone().looks_like_definition() {
                        return SourceHint::Defines;
                    }
                    seen = true;
                }
            }
        }
        if seen {
            SourceHint::Mentions
        } else {
            SourceHint::Absent
        }
    }
}

/// The identifier a programmer writes for the IR name `entry`, if it can be told.
pub fn identifier_of(entry: &[u8]) -> Option<Vec<u8>> {
    let (raw, entry) = match entry.strip_prefix(b"\x01") {
        Some(rest) => (true, rest),
        None => (false, entry),
    };
    if entry.starts_with(b"?") {
        return msvc_identifier(entry);
    }
    if entry.starts_with(b"_Z") {
        return itanium_identifier(entry);
    }
    if entry.windows(2).any(|w| w == b"::") {
        let last = entry.rsplit(|&b| b == b':').next()?;
        return ident_ok(last.strip_prefix(b"~").unwrap_or(last));
    }
    if !raw {
        return ident_ok(entry);
    }
    // A symbol spelled out (`\x01`): x86's `_f`, `_f@8` (stdcall), `@f@8` (fastcall).
    let name = entry
        .strip_prefix(b"_")
        .or_else(|| entry.strip_prefix(b"@"))
        .unwrap_or(entry);
    ident_ok(name.split(|&b| b == b'@').next()?)
}

fn ident_ok(s: &[u8]) -> Option<Vec<u8>> {
    let ok = !s.is_empty()
        && !s[0].is_ascii_digit()
        && s.iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$');
    ok.then(|| s.to_vec())
}

/// `?f@S@@…` → `f`, `??0S@@…` / `??1S@@…` → `S`, operators → `operator`: see
/// [`crate::names::identifier`].
fn msvc_identifier(mangled: &[u8]) -> Option<Vec<u8>> {
    ident_ok(crate::names::identifier(mangled)?)
}

/// `_Z1fv` → `f`, `_ZL1fv` → `f`, `_ZN1S1fEv` → `f`, `_ZN1SC2Ev` → `S`; `None` for other
/// shapes (operators, local entities).
fn itanium_identifier(mangled: &[u8]) -> Option<Vec<u8>> {
    let mut rest = mangled.strip_prefix(b"_Z")?;
    rest = rest.strip_prefix(b"L").unwrap_or(rest); // internal linkage
    let nested = rest.first() == Some(&b'N');
    if nested {
        rest = &rest[1..];
        while let Some((&q, tail)) = rest.split_first() {
            if matches!(q, b'r' | b'V' | b'K' | b'R' | b'O') {
                rest = tail;
            } else {
                break;
            }
        }
        if let Some(tail) = rest.strip_prefix(b"St") {
            rest = tail;
        }
    }
    let mut last: Option<&[u8]> = None;
    loop {
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > 0 {
            let len: usize = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
            let end = digits.checked_add(len)?;
            last = Some(rest.get(digits..end)?);
            rest = &rest[end..];
            if !nested {
                break;
            }
            continue;
        }
        // Constructors and destructors name their class.
        if nested && (rest.starts_with(b"C") || rest.starts_with(b"D")) {
            break;
        }
        if nested && (rest.starts_with(b"E") || rest.starts_with(b"I")) {
            break;
        }
        return None;
    }
    ident_ok(last?)
}

#[derive(Clone, Copy, Debug)]
enum Token<'t> {
    Ident(&'t [u8]),
    Punct(u8),
}

/// A C/C++ tokenizer good enough for a hint: identifiers and single punctuation bytes;
/// comments, string and character literals, numbers and preprocessor lines are skipped.
#[derive(Clone)]
struct Lexer<'t> {
    text: &'t [u8],
    at: usize,
}

impl<'t> Lexer<'t> {
    fn next(&mut self) -> Option<Token<'t>> {
        let t = self.text;
        let mut line_start = self.at == 0 || t.get(self.at - 1) == Some(&b'\n');
        while self.at < t.len() {
            let c = t[self.at];
            match c {
                b'\n' => {
                    line_start = true;
                    self.at += 1;
                }
                b' ' | b'\t' | b'\r' | b'\x0c' | b'\x0b' => self.at += 1,
                b'#' if line_start => self.skip_directive(),
                b'/' if t.get(self.at + 1) == Some(&b'/') => self.skip_until(b"\n"),
                b'/' if t.get(self.at + 1) == Some(&b'*') => {
                    self.at += 2;
                    self.skip_until(b"*/");
                    self.at = (self.at + 2).min(t.len());
                }
                b'"' | b'\'' => self.skip_literal(c),
                b'0'..=b'9' => {
                    while self.at < t.len()
                        && (t[self.at].is_ascii_alphanumeric() || matches!(t[self.at], b'.' | b'_'))
                    {
                        self.at += 1;
                    }
                    line_start = false;
                }
                c if c.is_ascii_alphabetic() || c == b'_' || c == b'$' || c >= 0x80 => {
                    let start = self.at;
                    while self.at < t.len()
                        && (t[self.at].is_ascii_alphanumeric()
                            || matches!(t[self.at], b'_' | b'$')
                            || t[self.at] >= 0x80)
                    {
                        self.at += 1;
                    }
                    return Some(Token::Ident(&t[start..self.at]));
                }
                _ => {
                    self.at += 1;
                    return Some(Token::Punct(c));
                }
            }
        }
        None
    }

    /// A preprocessor line, with its continuations and comments.
    fn skip_directive(&mut self) {
        let t = self.text;
        while self.at < t.len() {
            match t[self.at] {
                b'\\' if t.get(self.at + 1) == Some(&b'\n') => self.at += 2,
                b'\\' if t.get(self.at + 1..self.at + 3) == Some(b"\r\n") => self.at += 3,
                b'\n' => return,
                b'/' if t.get(self.at + 1) == Some(&b'*') => {
                    self.at += 2;
                    self.skip_until(b"*/");
                    self.at = (self.at + 2).min(t.len());
                }
                _ => self.at += 1,
            }
        }
    }

    fn skip_until(&mut self, end: &[u8]) {
        self.at = memchr::memmem::find(&self.text[self.at..], end)
            .map_or(self.text.len(), |p| self.at + p);
    }

    fn skip_literal(&mut self, quote: u8) {
        let t = self.text;
        self.at += 1;
        while self.at < t.len() {
            match t[self.at] {
                b'\\' => self.at += 2,
                b'\n' => return, // unterminated: stop at the line's end
                c if c == quote => {
                    self.at += 1;
                    return;
                }
                _ => self.at += 1,
            }
        }
        self.at = self.at.min(t.len());
    }

    /// After an identifier: `)`s (as in `int (name) (…)`), a parenthesized parameter list,
    /// then qualifiers up to `{`.
    fn looks_like_definition(&mut self) -> bool {
        let mut tok = self.next();
        while let Some(Token::Punct(b')')) = tok {
            tok = self.next();
        }
        if !matches!(tok, Some(Token::Punct(b'('))) {
            return false;
        }
        let mut depth = 1usize;
        while depth > 0 {
            match self.next() {
                Some(Token::Punct(b'(')) => depth += 1,
                Some(Token::Punct(b')')) => depth -= 1,
                Some(Token::Punct(b';' | b'{' | b'}')) | None => return false,
                Some(_) => {}
            }
        }
        // `const`, `noexcept`, `override`, `&`, a trailing return type… then the body.
        for _ in 0..16 {
            match self.next() {
                Some(Token::Punct(b'{')) => return true,
                Some(Token::Punct(b';' | b',' | b')' | b'=' | b'}' | b'?' | b'|')) | None => {
                    return false
                }
                Some(_) => {}
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint(list: &[&str], text: &str) -> SourceHint {
        Identifiers::new(list.iter().map(|s| s.as_bytes())).hint(text.as_bytes())
    }

    #[test]
    fn names_reduce_to_the_identifier_in_the_source() {
        let id = |s: &str| identifier_of(s.as_bytes()).map(|v| String::from_utf8(v).unwrap());
        assert_eq!(id("luaH_get").as_deref(), Some("luaH_get"));
        assert_eq!(id("\x01_f@8").as_deref(), Some("f"));
        assert_eq!(id("\x01@g@12").as_deref(), Some("g"));
        assert_eq!(id("_private").as_deref(), Some("_private"));
        assert_eq!(id("S::f").as_deref(), Some("f"));
        assert_eq!(id("S::~S").as_deref(), Some("S"));
        assert_eq!(id("?f@S@@QEAAHH@Z").as_deref(), Some("f"));
        assert_eq!(id("??0S@@QEAA@XZ").as_deref(), Some("S"));
        assert_eq!(id("??1S@@QEAA@XZ").as_deref(), Some("S"));
        assert_eq!(id("??$scaled@H@@YAHH@Z").as_deref(), Some("scaled"));
        assert_eq!(id("??HS@@QEAAHH@Z").as_deref(), Some("operator"));
        assert_eq!(id("??0?$vec@H@@QEAA@XZ").as_deref(), Some("vec"));
        assert_eq!(id("??_GS@@UEAAPEAXI@Z").as_deref(), None);
        // Found by the `source_hint` fuzz target: this made msvc-demangler overflow.
        assert_eq!(id("?area@??0Shaarq").as_deref(), Some("area"));
        assert_eq!(id("_Z5twicei").as_deref(), Some("twice"));
        assert_eq!(id("_ZN1S1fEv").as_deref(), Some("f"));
        assert_eq!(id("_ZNK2ns5Shape4areaEv").as_deref(), Some("area"));
        assert_eq!(id("_ZN1SC2Ev").as_deref(), Some("S"));
        assert_eq!(id("_Z6scaledIiET_S0_").as_deref(), Some("scaled"));
        assert_eq!(id("_ZL6helperv").as_deref(), Some("helper"));
        assert_eq!(id("_ZdlPv").as_deref(), None, "operators: not read");
        // Found by the `source_hint` fuzz target: a length of usize::MAX overflowed.
        assert_eq!(id("_Z018446744073709551615MMMM").as_deref(), None);
        assert_eq!(id("_Z99f").as_deref(), None, "a length past the end");
    }

    #[test]
    fn the_shape_of_a_definition_is_told_from_calls_and_declarations() {
        let list = ["luaH_get", "?area@Shape@@QEBAHXZ"];
        assert_eq!(
            hint(
                &list,
                "const TValue *luaH_get (Table *t, const TValue *key) {\n}"
            ),
            SourceHint::Defines
        );
        assert_eq!(
            hint(
                &list,
                "LUA_API int (luaH_get) (lua_State *L)\n{ return 0; }"
            ),
            SourceHint::Defines
        );
        assert_eq!(
            hint(&list, "int Shape::area() const noexcept { return w * h; }"),
            SourceHint::Defines
        );
        assert_eq!(
            hint(
                &list,
                "int f(void) { if (luaH_get(t, k)) { return 1; } return luaH_get(t, k) ? 1 : 0; }"
            ),
            SourceHint::Mentions
        );
        assert_eq!(
            hint(
                &list,
                "LUAI_FUNC const TValue *luaH_get (Table *t, const TValue *key);"
            ),
            SourceHint::Mentions
        );
        assert_eq!(
            hint(&list, "/* luaH_get (t, k) { */ const char *s = \"luaH_get(x) {\";\n#define X luaH_get(a) {\n"),
            SourceHint::Absent
        );
        assert_eq!(hint(&list, "int luaH_getint(void) { }"), SourceHint::Absent);
        assert_eq!(hint(&["_ZdlPv"], "int helper() {}"), SourceHint::Unknown);
    }

    #[test]
    fn any_bytes_give_a_hint_without_a_panic() {
        let ids = Identifiers::new([&b"f"[..]]);
        for text in [
            &b""[..],
            b"f",
            b"f(",
            b"f)",
            b"\"",
            b"'\\",
            b"/*",
            b"#",
            b"f((((",
            b"f() \xff\xfe",
            b"#define f \\",
        ] {
            let _ = ids.hint(text);
        }
    }
}
