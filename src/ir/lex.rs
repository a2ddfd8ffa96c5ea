//! Tokens of textual LLVM IR, with byte offsets into the whole input.
//!
//! Only what the engine parses is ever lexed (global variables, named types, attribute
//! groups, `define` headers and the bodies of marked functions); everything else is copied
//! through without being looked at. The lexer does not know the grammar: it splits bytes
//! into sigil names (`@g`, `%x`, `!dbg`, `#0`), words, numbers, strings and punctuation,
//! and skips whitespace and `;` comments.
//!
//! Name rules follow LLVM's `LLLexer` and `AsmWriter`: a quoted name `@"a\22b"` is
//! unescaped (`\\` and `\XX`), and [`print_name`] quotes and escapes a name exactly when
//! the printer would. A `*` is the mark of typed-pointer IR (clang 14 and older) and is
//! reported as such.

use super::Error;
use std::borrow::Cow;

/// Kind of a token. Offsets are in [`Token`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok {
    /// `@name`, `@"quoted"`, `@42`.
    Global,
    /// `%name`, `%"quoted"`, `%42` (a local value or a named type).
    Local,
    /// `$name` (a comdat).
    Comdat,
    /// `!name` or `!42`.
    Meta,
    /// `#42` (an attribute group reference).
    AttrRef,
    /// `#dbg_value` and the other debug records of LLVM 19+.
    DebugRecord,
    /// A bare word: keyword, type, flag, label name.
    Word,
    /// A number (integer, decimal or hex float).
    Num,
    /// `"..."`.
    Str,
    /// `c"..."`.
    CStr,
    /// One punctuation byte: `( ) [ ] { } < > , = : | ! ^`.
    Punct(u8),
    /// A line end (only when the lexer was asked for them).
    Newline,
    /// The end of the lexed range.
    Eof,
}

/// One token: its kind and its byte range `start..end` in the whole input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: Tok,
    pub start: usize,
    pub end: usize,
}

impl Token {
    /// The token's bytes.
    pub fn text<'a>(&self, src: &'a [u8]) -> &'a [u8] {
        src.get(self.start..self.end).unwrap_or_default()
    }

    /// Whether this is the punctuation byte `p`.
    pub fn is(&self, p: u8) -> bool {
        self.kind == Tok::Punct(p)
    }

    /// Whether this is the bare word `w`.
    pub fn is_word(&self, src: &[u8], w: &[u8]) -> bool {
        self.kind == Tok::Word && self.text(src) == w
    }
}

/// The identity of a global or local name: numbered (`@0`) and named (`@"0"`) differ.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name<'a> {
    pub numbered: bool,
    /// Unescaped bytes (the digits for a numbered name).
    pub bytes: Cow<'a, [u8]>,
}

impl Name<'_> {
    /// The name with an owned buffer.
    pub fn into_owned(self) -> Name<'static> {
        Name {
            numbered: self.numbered,
            bytes: Cow::Owned(self.bytes.into_owned()),
        }
    }
}

/// The name of a `@`, `%`, `$`, `!` token (without its sigil), unescaped.
pub fn name_of<'a>(src: &'a [u8], t: &Token) -> Name<'a> {
    let body = src.get(t.start + 1..t.end).unwrap_or_default();
    if let Some(quoted) = body.strip_prefix(b"\"").and_then(|b| b.strip_suffix(b"\"")) {
        return Name {
            numbered: false,
            bytes: unescape(quoted),
        };
    }
    Name {
        numbered: !body.is_empty() && body.iter().all(u8::is_ascii_digit),
        bytes: Cow::Borrowed(body),
    }
}

/// Undoes LLVM's string escapes: `\\` and `\XX` (two hex digits); any other `\` stays.
pub fn unescape(s: &[u8]) -> Cow<'_, [u8]> {
    if !s.contains(&b'\\') {
        return Cow::Borrowed(s);
    }
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        if b == b'\\' {
            if s.get(i + 1) == Some(&b'\\') {
                out.push(b'\\');
                i += 2;
                continue;
            }
            if let (Some(h), Some(l)) = (
                s.get(i + 1).and_then(|c| hex(*c)),
                s.get(i + 2).and_then(|c| hex(*c)),
            ) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    Cow::Owned(out)
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Appends `sigil` and `name` as LLVM prints them: bare when every byte is in
/// `[-a-zA-Z$._0-9]` and the first is not a digit, else quoted with `"`, `\` and
/// unprintable bytes written `\XX`.
pub fn print_name(out: &mut Vec<u8>, sigil: u8, name: &[u8]) {
    out.push(sigil);
    let bare = !name.is_empty()
        && !name.first().is_some_and(u8::is_ascii_digit)
        && name.iter().all(|&c| is_ident(c));
    if bare {
        out.extend_from_slice(name);
        return;
    }
    out.push(b'"');
    for &c in name {
        if (0x20..0x7f).contains(&c) && c != b'\\' && c != b'"' {
            out.push(c);
        } else {
            out.extend_from_slice(format!("\\{c:02X}").as_bytes());
        }
    }
    out.push(b'"');
}

/// A byte of a bare (unquoted) name.
pub fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'$' | b'.' | b'_')
}

/// A lexer over `src[start..end]`; offsets stay relative to the whole `src`.
pub struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
    end: usize,
    newlines: bool,
}

impl<'a> Lexer<'a> {
    /// Lexes `src[start..end]`. With `newlines`, line ends become [`Tok::Newline`] tokens.
    pub fn new(src: &'a [u8], start: usize, end: usize, newlines: bool) -> Self {
        Lexer {
            src,
            pos: start,
            end: end.min(src.len()),
            newlines,
        }
    }

    /// Offset of the next byte to lex.
    pub fn pos(&self) -> usize {
        self.pos
    }

    fn byte(&self, i: usize) -> Option<u8> {
        if i < self.end {
            self.src.get(i).copied()
        } else {
            None
        }
    }

    fn tok(&mut self, kind: Tok, start: usize, end: usize) -> Token {
        self.pos = end;
        Token { kind, start, end }
    }

    /// The next token ([`Tok::Eof`] at the end of the range).
    pub fn next_token(&mut self) -> Result<Token, Error> {
        loop {
            let start = self.pos;
            let Some(c) = self.byte(start) else {
                return Ok(Token {
                    kind: Tok::Eof,
                    start: self.end,
                    end: self.end,
                });
            };
            match c {
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'\n' if self.newlines => return Ok(self.tok(Tok::Newline, start, start + 1)),
                b'\n' => self.pos += 1,
                b';' => self.skip_comment(start),
                b'@' | b'%' | b'$' => {
                    let kind = match c {
                        b'@' => Tok::Global,
                        b'%' => Tok::Local,
                        _ => Tok::Comdat,
                    };
                    let end = self.name_end(start + 1)?;
                    return Ok(self.tok(kind, start, end));
                }
                b'!' => return Ok(self.metadata(start)),
                b'#' => return self.hash_ref(start),
                b'"' => {
                    let end = self.string_end(start)?;
                    return Ok(self.tok(Tok::Str, start, end));
                }
                b'c' if self.byte(start + 1) == Some(b'"') => {
                    let end = self.string_end(start + 1)?;
                    return Ok(self.tok(Tok::CStr, start, end));
                }
                b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'<' | b'>' | b',' | b'=' | b':'
                | b'|' | b'^' => return Ok(self.tok(Tok::Punct(c), start, start + 1)),
                b'*' => return Err(self.err(start, TYPED_POINTERS)),
                b'0'..=b'9' | b'-' | b'+' => return self.number(start),
                c if c.is_ascii_alphabetic() || c == b'_' || c == b'.' => {
                    let mut i = start + 1;
                    while self.byte(i).is_some_and(is_ident) {
                        i += 1;
                    }
                    return Ok(self.tok(Tok::Word, start, i));
                }
                _ => return Err(self.err(start, "unexpected character")),
            }
        }
    }

    /// Skips a `;` comment starting at `start`, up to its line end.
    fn skip_comment(&mut self, start: usize) {
        let mut i = start;
        while self.byte(i).is_some_and(|b| b != b'\n') {
            i += 1;
        }
        self.pos = i;
    }

    /// `!name`, `!0`: metadata; a `!` alone (as in `!{` or `!"…"`) is punctuation.
    fn metadata(&mut self, start: usize) -> Token {
        let mut i = start + 1;
        while self.byte(i).is_some_and(|b| is_ident(b) || b == b'\\') {
            i += 1;
        }
        let kind = if i > start + 1 {
            Tok::Meta
        } else {
            Tok::Punct(b'!')
        };
        self.tok(kind, start, i)
    }

    /// `#N` (an attribute group) or `#dbg_…` (a debug record).
    fn hash_ref(&mut self, start: usize) -> Result<Token, Error> {
        let mut i = start + 1;
        let digits = self.byte(i).is_some_and(|b| b.is_ascii_digit());
        while self.byte(i).is_some_and(is_ident) {
            i += 1;
        }
        if i == start + 1 {
            return Err(self.err(start, "expected a number or a name after '#'"));
        }
        let kind = if digits {
            Tok::AttrRef
        } else {
            Tok::DebugRecord
        };
        Ok(self.tok(kind, start, i))
    }

    /// A number (integer, float, hex), signed or not; a sign must be followed by a digit.
    fn number(&mut self, start: usize) -> Result<Token, Error> {
        let c = self.byte(start).unwrap_or_default();
        if !c.is_ascii_digit() && !self.byte(start + 1).is_some_and(|b| b.is_ascii_digit()) {
            return Err(self.err(start, "unexpected character"));
        }
        let mut i = start + 1;
        while self
            .byte(i)
            .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-' | b'_'))
        {
            i += 1;
        }
        Ok(self.tok(Tok::Num, start, i))
    }

    /// End of a name starting at `i` (just after its sigil).
    fn name_end(&self, i: usize) -> Result<usize, Error> {
        if self.byte(i) == Some(b'"') {
            return self.string_end(i);
        }
        let mut j = i;
        while self.byte(j).is_some_and(is_ident) {
            j += 1;
        }
        if j == i {
            return Err(self.err(i.saturating_sub(1), "expected a name after the sigil"));
        }
        Ok(j)
    }

    /// End (exclusive) of the string whose opening quote is at `i`.
    fn string_end(&self, i: usize) -> Result<usize, Error> {
        let mut j = i + 1;
        loop {
            match self.byte(j) {
                Some(b'"') => return Ok(j + 1),
                Some(b'\n') | None => return Err(self.err(i, "unterminated string")),
                Some(_) => j += 1,
            }
        }
    }

    fn err(&self, at: usize, message: &str) -> Error {
        Error::at(self.src, at, message)
    }
}

/// The message for typed-pointer IR.
pub const TYPED_POINTERS: &str = "typed pointer ('*') found: this IR predates opaque pointers; \
     hotpatch-cl supports the IR of LLVM/clang 15 to 22";

/// Lexes `src[start..end]` completely.
pub fn lex_all(
    src: &[u8],
    start: usize,
    end: usize,
    newlines: bool,
    out: &mut Vec<Token>,
) -> Result<(), Error> {
    let mut lx = Lexer::new(src, start, end, newlines);
    loop {
        let t = lx.next_token()?;
        if t.kind == Tok::Eof {
            return Ok(());
        }
        out.push(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<(Tok, String)> {
        let mut v = Vec::new();
        lex_all(s.as_bytes(), 0, s.len(), true, &mut v).unwrap();
        v.iter()
            .map(|t| {
                (
                    t.kind,
                    String::from_utf8_lossy(t.text(s.as_bytes())).into_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn sigils_strings_comments_and_numbers() {
        let k =
            kinds("@\"a\\22b\" = global i32 -1, align 4 ; c\n#0 #dbg_value !12 c\"x\\00\" 0x1p3");
        let got: Vec<_> = k.iter().map(|(k, _)| *k).collect();
        use Tok::*;
        assert_eq!(
            got,
            [
                Global,
                Punct(b'='),
                Word,
                Word,
                Num,
                Punct(b','),
                Word,
                Num,
                Newline,
                AttrRef,
                DebugRecord,
                Meta,
                CStr,
                Num
            ]
        );
    }

    #[test]
    fn names_unescape_and_print_back() {
        let src = br#"@"a\22b" @"x y" @42 @"42" @plain"#;
        let mut toks = Vec::new();
        lex_all(src, 0, src.len(), false, &mut toks).unwrap();
        let names: Vec<_> = toks.iter().map(|t| name_of(src, t)).collect();
        assert_eq!(&*names[0].bytes, b"a\"b");
        assert_eq!(&*names[1].bytes, b"x y");
        assert!(names[2].numbered && !names[3].numbered);
        let mut out = Vec::new();
        print_name(&mut out, b'@', b"__ref_a\"b");
        assert_eq!(out, br#"@"__ref_a\22b""#);
        out.clear();
        print_name(&mut out, b'@', b"__ref_x y");
        assert_eq!(out, br#"@"__ref_x y""#);
        out.clear();
        print_name(&mut out, b'%', b"hp.ref.?x@@3HA");
        assert_eq!(out, br#"%"hp.ref.?x@@3HA""#);
        out.clear();
        print_name(&mut out, b'@', b"__ref_g.1");
        assert_eq!(out, b"@__ref_g.1");
    }

    #[test]
    fn typed_pointer_and_bad_bytes_are_errors_with_position() {
        let e = Lexer::new(b"@g = global i32* null", 0, 21, false);
        let mut e = e;
        let err = loop {
            match e.next_token() {
                Err(err) => break err,
                Ok(t) if t.kind == Tok::Eof => panic!("no error"),
                Ok(_) => {}
            }
        };
        assert!(err.to_string().starts_with("1:16: typed pointer"), "{err}");
        let mut v = Vec::new();
        let err = lex_all(b"\n  @\"open", 0, 9, false, &mut v).unwrap_err();
        assert!(err.to_string().starts_with("2:4: unterminated"), "{err}");
    }
}
