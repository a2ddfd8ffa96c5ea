//! Names as programmers write them, read from mangled ones; and hints for hot-patch list
//! entries that name nothing: the mangled name a user probably meant.
//!
//! One reader of MSVC-mangled names (`MsvcName`: the name part only, never the type) gives
//! two answers: [`qualified_name`] (`S::f` for `?f@S@@QEAAHH@Z`, for the hints) and
//! [`identifier`] (`f`, the word that stands in source text where the function is defined, for
//! the routing hint of `driver::route::source_hint`). Users write `measure` or `S::f` where the list
//! wants the mangled `?measure@@YAHHH@Z` or `?f@S@@QEAAHH@Z`; [`hints`] pairs an unmatched
//! entry with the defined names it could stand for: same qualified name, same name
//! case-insensitively, or a small edit distance.
//!
//! Not done here: Itanium (GNU mode C++) demangling: only C names and MSVC names get hints.

/// The qualified name (`S::f`, `measure`) of an MSVC-mangled name (`?f@S@@QEAAHH@Z`);
/// `None` for names that are not MSVC-mangled C++ (C names, Itanium names) and for the shapes
/// `MsvcName` does not read.
///
/// Plain names, back-references (`?a@b@00@…` is `a::a::b::a`), constructors, destructors, the
/// operators and anonymous namespaces give a name; templates, local scopes (`?x@?1??f@@…`),
/// conversion operators and the compiler's special names (string literals, guards, vtables)
/// give `None`: a hint is never needed for them.
pub fn qualified_name(mangled: &[u8]) -> Option<String> {
    let mut name = MsvcName::read(mangled)?;
    let mut scopes = Vec::new();
    while let Some(scope) = name.next_scope()? {
        scopes.push(scope.ident()?);
    }
    let class = || scopes.first().map(|c| c.to_string());
    let own = match name.own {
        Own::Plain(fragment) => fragment.ident()?.to_string(),
        Own::Constructor => class()?,
        Own::Destructor => format!("~{}", class()?),
        Own::Operator(op) => format!("operator{op}"),
        Own::Conversion => return None,
    };
    let mut parts: Vec<String> = scopes.iter().rev().map(|s| s.to_string()).collect();
    parts.push(own);
    Some(parts.join("::"))
}

/// Whether `mangled` names MSVC's RTTI data (`??_R0…` type descriptors, `??_R4…` complete
/// object locators and the rest of `??_R`): emitted writable, never changed, and compared by
/// address at run time, so hot-patched code keeps reaching the base image's copy directly (as
/// clang 22 does). The redirect rule and `hotpatch verify` both ask this.
pub fn is_msvc_rtti(mangled: &[u8]) -> bool {
    mangled.starts_with(b"??_R")
}

/// The identifier a programmer writes where the function an MSVC-mangled name names is defined:
/// `f` for `?f@S@@…`, the class for a constructor or destructor (`??0S@@…`, `??1S@@…` give
/// `S`), the template's name for a template (`??$scaled@H@@…` gives `scaled`), `operator` for
/// an operator; `None` for names not MSVC-mangled and for the compiler's own names. Only the
/// name's first fragments are read, so the rest of the name may be anything. The bytes are not
/// checked to be an identifier.
pub fn identifier(mangled: &[u8]) -> Option<&[u8]> {
    let mut name = MsvcName::read(mangled)?;
    match name.own {
        Own::Plain(fragment) => fragment.text(),
        Own::Constructor | Own::Destructor => name.next_scope()??.text(),
        Own::Operator(_) | Own::Conversion => Some(b"operator"),
    }
}

/// The name part of an MSVC-mangled name, read from the front: what its first part names
/// ([`Own`]), then, on demand, its scopes innermost first, up to the `@` that ends them. The
/// type that follows is never read.
///
/// The reader is ours rather than a demangler's because these names are input: msvc-demangler
/// 0.11 overflows on damaged ones in several places (found by the `ir_rewrite` and
/// `source_hint` fuzz targets; docs/FUZZING.md), and negates a parsed number unchecked (the
/// `source_hint` target's `?area@??0Sh…`).
struct MsvcName<'m> {
    own: Own<'m>,
    /// What follows the part read so far.
    rest: &'m [u8],
    seen: Fragments<'m>,
}

impl<'m> MsvcName<'m> {
    /// Reads the first part of `mangled`; `None` when it does not start with `?` or its first
    /// part is none of [`Own`]'s shapes.
    fn read(mangled: &'m [u8]) -> Option<Self> {
        let rest = mangled.strip_prefix(b"?")?;
        let mut seen = Fragments::default();
        let (own, rest) = match rest {
            // `??$f@…`: a template function, named by a template fragment.
            [b'?', b'$', ..] => {
                let (name, after) = seen.fragment(rest)?;
                (Own::Plain(name), after)
            }
            [b'?', special @ ..] => special_name(special)?,
            _ => {
                let (name, after) = seen.fragment(rest)?;
                (Own::Plain(name), after)
            }
        };
        Some(MsvcName { own, rest, seen })
    }

    /// The next scope: `Some(None)` at the `@` that ends the scopes, `None` for a shape not
    /// read. A template's arguments are not read, so nothing follows a template.
    fn next_scope(&mut self) -> Option<Option<Fragment<'m>>> {
        if self.rest.starts_with(b"@") {
            return Some(None);
        }
        if matches!(self.own, Own::Plain(Fragment::Template(_))) {
            return None;
        }
        let (scope, after) = self.seen.fragment(self.rest)?;
        self.rest = match scope {
            Fragment::Template(_) => b"",
            _ => after,
        };
        Some(Some(scope))
    }
}

/// What a mangled name's first part names.
enum Own<'m> {
    Plain(Fragment<'m>),
    Constructor,
    Destructor,
    Operator(&'static str),
    /// `??B`: a conversion operator, named by the type it converts to (not read).
    Conversion,
}

/// One scope or name fragment: an identifier, an anonymous namespace (`?A0x1234abcd@`), or a
/// template (`?$name@`, its arguments not read).
#[derive(Clone, Copy, PartialEq)]
enum Fragment<'m> {
    Ident(&'m str),
    Anonymous(&'m [u8]),
    Template(&'m [u8]),
}

impl<'m> Fragment<'m> {
    /// The fragment as a part of a qualified name; `None` for a template.
    fn ident(self) -> Option<Self> {
        (!matches!(self, Fragment::Template(_))).then_some(self)
    }

    /// The identifier or template name as written; `None` for an anonymous namespace.
    fn text(self) -> Option<&'m [u8]> {
        match self {
            Fragment::Ident(s) => Some(s.as_bytes()),
            Fragment::Template(name) => Some(name),
            Fragment::Anonymous(_) => None,
        }
    }
}

impl std::fmt::Display for Fragment<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fragment::Ident(s) => f.write_str(s),
            Fragment::Anonymous(_) => f.write_str("`anonymous namespace'"),
            Fragment::Template(name) => write!(f, "{}<>", String::from_utf8_lossy(name)),
        }
    }
}

/// The fragments read so far that a digit can refer back to: the first ten distinct ones.
#[derive(Default)]
struct Fragments<'m>(Vec<Fragment<'m>>);

impl<'m> Fragments<'m> {
    /// Reads one fragment at the start of `s`; returns it and what follows (for a template,
    /// its arguments).
    fn fragment(&mut self, s: &'m [u8]) -> Option<(Fragment<'m>, &'m [u8])> {
        let (&first, tail) = s.split_first()?;
        if first.is_ascii_digit() {
            return Some((*self.0.get(usize::from(first - b'0'))?, tail));
        }
        let end = s.iter().position(|&b| b == b'@')?;
        let (text, after) = (&s[..end], &s[end + 1..]);
        let fragment = match text.strip_prefix(b"?A0x") {
            Some(hash) if !hash.is_empty() && hash.iter().all(u8::is_ascii_hexdigit) => {
                Fragment::Anonymous(text)
            }
            // A template's name; its arguments, which follow, are not read.
            _ if text.starts_with(b"?$") => return Some((Fragment::Template(&text[2..]), after)),
            // `?…` is a local scope or special name; `$…` a guard.
            _ if matches!(first, b'?' | b'$') || text.is_empty() => return None,
            _ => Fragment::Ident(std::str::from_utf8(text).ok()?),
        };
        if self.0.len() < 10 && !self.0.contains(&fragment) {
            self.0.push(fragment);
        }
        Some((fragment, after))
    }
}

/// The name after `??`: a constructor, destructor or operator and what follows its code.
fn special_name(s: &[u8]) -> Option<(Own<'static>, &[u8])> {
    let (code, rest) = match s {
        [b'_', c, rest @ ..] => ([b'_', *c], rest),
        [c, rest @ ..] => ([*c, 0], rest),
        [] => return None,
    };
    let op = match &code {
        b"0\0" => return Some((Own::Constructor, rest)),
        b"1\0" => return Some((Own::Destructor, rest)),
        b"B\0" => return Some((Own::Conversion, rest)),
        b"2\0" => " new",
        b"3\0" => " delete",
        b"4\0" => "=",
        b"5\0" => ">>",
        b"6\0" => "<<",
        b"7\0" => "!",
        b"8\0" => "==",
        b"9\0" => "!=",
        b"A\0" => "[]",
        b"C\0" => "->",
        b"D\0" => "*",
        b"E\0" => "++",
        b"F\0" => "--",
        b"G\0" => "-",
        b"H\0" => "+",
        b"I\0" => "&",
        b"J\0" => "->*",
        b"K\0" => "/",
        b"L\0" => "%",
        b"M\0" => "<",
        b"N\0" => "<=",
        b"O\0" => ">",
        b"P\0" => ">=",
        b"Q\0" => ",",
        b"R\0" => "()",
        b"S\0" => "~",
        b"T\0" => "^",
        b"U\0" => "|",
        b"V\0" => "&&",
        b"W\0" => "||",
        b"X\0" => "*=",
        b"Y\0" => "+=",
        b"Z\0" => "-=",
        b"_0" => "/=",
        b"_1" => "%=",
        b"_2" => ">>=",
        b"_3" => "<<=",
        b"_4" => "&=",
        b"_5" => "|=",
        b"_6" => "^=",
        b"_U" => " new[]",
        b"_V" => " delete[]",
        // The rest of `??_` are the compiler's own (string literals, vtables, guards, RTTI).
        _ => return None,
    };
    Some((Own::Operator(op), rest))
}

/// Levenshtein distance, bounded: returns `None` once every path exceeds `max`.
fn distance(a: &[u8], b: &[u8], max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, &x) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &y) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(x != y);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        if cur.iter().all(|&d| d > max) {
            return None;
        }
        prev = cur;
    }
    prev.last().copied().filter(|&d| d <= max)
}

/// Names among `defined` (mangled, exact bytes) that the unmatched `entry` probably meant,
/// best first, at most three: those whose qualified name is `entry`, then those equal to
/// it ignoring case or within a small edit distance (also on the qualified name); when
/// some qualified name is exactly `entry`, only those.
pub fn hints<'d>(entry: &[u8], defined: impl IntoIterator<Item = &'d [u8]>) -> Vec<&'d [u8]> {
    let max = (entry.len() / 4).clamp(1, 3);
    let mut scored: Vec<(usize, &[u8])> = Vec::new();
    for name in defined {
        if name == entry {
            continue;
        }
        let q = qualified_name(name);
        let qb = q.as_deref().map(str::as_bytes);
        let score = if qb == Some(entry) {
            0
        } else if name.eq_ignore_ascii_case(entry)
            || qb.is_some_and(|q| q.eq_ignore_ascii_case(entry))
        {
            1
        } else {
            let d = [Some(name), qb]
                .into_iter()
                .flatten()
                .filter_map(|n| distance(n, entry, max))
                .min();
            match d {
                Some(d) => 1 + d,
                None => continue,
            }
        };
        scored.push((score, name));
    }
    scored.sort();
    scored.dedup();
    if scored.first().is_some_and(|(s, _)| *s == 0) {
        // The demangled name matches: only those are meant.
        scored.retain(|(s, _)| *s == 0);
    }
    scored.into_iter().take(3).map(|(_, n)| n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualified_names_of_functions_and_methods() {
        assert_eq!(
            qualified_name(b"?measure@@YAHHH@Z").as_deref(),
            Some("measure")
        );
        assert_eq!(qualified_name(b"?f@S@@QEAAHH@Z").as_deref(), Some("S::f"));
        assert_eq!(qualified_name(b"??1S@@QEAA@XZ").as_deref(), Some("S::~S"));
        assert_eq!(
            qualified_name(b"?a@b@00@QEAAXXZ").as_deref(),
            Some("a::a::b::a")
        );
        assert_eq!(qualified_name(b"measure"), None);
        assert_eq!(qualified_name(b"?bad"), None);
        assert_eq!(qualified_name(b"?f@?$T1@H@@QEAAHXZ"), None);
        // msvc-demangler 0.11 overflows on the first (a damaged string literal, found by the
        // `ir_rewrite` fuzz target) and, reading its code showed, on the next two (a template
        // parameter index of i32::MIN in the type, which is never read here; a guard number).
        assert_eq!(qualified_name(b"??_C@_01FJMABOPO@x?$      Z"), None);
        assert_eq!(
            qualified_name(b"?f@@YAX??IAAAAAAA@@Z").as_deref(),
            Some("f")
        );
        assert_eq!(qualified_name(b"?$TSS99999999999@?f@@4HA"), None);
        // A back-reference to a fragment not read yet.
        assert_eq!(qualified_name(b"?a@9@Z"), None);
    }

    /// Names clang-cl 22 gives C++ functions and variables (`/Od`, x64), and two made by hand
    /// for back-references into nested scopes: where the reader gives a name it is
    /// msvc-demangler's, and it gives one for every non-template, non-local shape. (Compiled
    /// fresh for three targets: `tests/it/names.rs`.)
    #[test]
    fn qualified_names_agree_with_msvc_demangler_on_clang_names() {
        let covered: &[&str] = &[
            "??0S@@QEAA@XZ",
            "??1S@@QEAA@XZ",
            "??2S@@SAPEAX_K@Z",
            "??3S@@SAXPEAX@Z",
            "??4S@@QEAAAEAU0@AEBU0@@Z",
            "??8S@@QEBA_NAEBU0@@Z",
            "??RS@@QEAAHH@Z",
            "??YS@@QEAAAEAU0@H@Z",
            "??_US@@SAPEAX_K@Z",
            "?S2@S@m@n@@QEAAXXZ",
            "?a@b@00@QEAAXXZ",
            "?f@S@@QEAAHH@Z",
            "?g@m@n@@YAHH@Z",
            "?h2@q@?A0x6F05DDB8@@YAHXZ",
            "?h@?A0x6F05DDB8@@YAHH@Z",
            "?k@@YAHPEAUS@@@Z",
            "?measure@@YAHHH@Z",
            "?st@S@@2HA",
            "?v@B@@UEAAHXZ",
            "?x_global@@3HA",
            "?z@a2@1?A0x6F05DDB8@@QEAAHXZ",
            "?f@?A0x1@1@YAXXZ",
        ];
        for name in covered {
            let theirs = msvc_demangler::demangle(name, msvc_demangler::DemangleFlags::NAME_ONLY)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(qualified_name(name.as_bytes()), Some(theirs), "{name}");
        }
        let not_covered: &[&str] = &[
            "??$tf@D@@YAHD@Z",
            "??BS@@QEAAHXZ",
            "??R<lambda_0>@?0??k@@YAHPEAUS@@@Z@QEBA?A?<auto>@@H@Z",
            "?f@?$T1@H@@QEAAHXZ",
            "?loc@?1??k@@YAHPEAUS@@@Z@4HA",
            "??_C@_01FJMABOPO@x?$AA@",
        ];
        for name in not_covered {
            assert_eq!(qualified_name(name.as_bytes()), None, "{name}");
        }
    }

    /// The second answer of the one reader: the word the source text has where the function
    /// is defined (the routing hint's; more in `driver::route::source_hint`'s tests).
    #[test]
    fn identifiers_are_the_words_that_stand_where_the_function_is_defined() {
        let id =
            |s: &str| identifier(s.as_bytes()).map(|b| String::from_utf8_lossy(b).into_owned());
        assert_eq!(id("?f@S@@QEAAHH@Z").as_deref(), Some("f"));
        assert_eq!(id("??0S@@QEAA@XZ").as_deref(), Some("S"));
        assert_eq!(id("??1?$vec@H@@QEAA@XZ").as_deref(), Some("vec"));
        assert_eq!(id("??$scaled@H@@YAHH@Z").as_deref(), Some("scaled"));
        assert_eq!(id("??HS@@QEAAHH@Z").as_deref(), Some("operator"));
        // `operator int() {` and `operator new[](…) {`.
        assert_eq!(id("??BS@@QEAAHXZ").as_deref(), Some("operator"));
        assert_eq!(id("??_US@@SAPEAX_K@Z").as_deref(), Some("operator"));
        // Only the first fragments are read (found by the `source_hint` fuzz target).
        assert_eq!(id("?area@??0Shaarq").as_deref(), Some("area"));
        // The compiler's own names and guards stand nowhere in the source.
        assert_eq!(id("??_GS@@UEAAPEAXI@Z"), None);
        assert_eq!(id("??_C@_01FJMABOPO@x?$AA@"), None);
        assert_eq!(id("?$TSS0@?1??f@@YAXXZ@4HA"), None);
        assert_eq!(id("??0?A0x1@@QEAA@XZ"), None);
        assert_eq!(id("??0"), None);
        assert_eq!(id("measure"), None);
    }

    #[test]
    fn hints_prefer_the_demangled_match() {
        let defined: Vec<&[u8]> = vec![b"?f@S@@QEAAHH@Z", b"?g@S@@QEAAHH@Z", b"bump", b"bumps"];
        assert_eq!(hints(b"S::f", defined.clone()), [b"?f@S@@QEAAHH@Z"]);
        assert_eq!(hints(b"bunp", defined.clone()), [&b"bump"[..]]);
        assert_eq!(hints(b"bumpss", defined.clone()), [&b"bumps"[..]]);
        assert_eq!(hints(b"BUMP", defined.clone())[0], b"bump");
        assert!(hints(b"totally_unrelated", defined).is_empty());
    }

    #[test]
    fn distance_is_bounded() {
        assert_eq!(distance(b"kitten", b"sitting", 3), Some(3));
        assert_eq!(distance(b"kitten", b"sitting", 2), None);
        assert_eq!(distance(b"", b"ab", 2), Some(2));
    }
}
