//! Hints for hot-patch list entries that name nothing: the mangled name a user probably
//! meant.
//!
//! Users write `measure` or `S::f` where the list wants the mangled `?measure@@YAHHH@Z` or
//! `?f@S@@QEAAHH@Z`. [`qualified_name`] turns an MSVC-mangled name into its qualified
//! name only (no return type, no parameters) with `msvc-demangler`; [`hints`] pairs an
//! unmatched entry with the defined names it could stand for: same qualified name,
//! same name case-insensitively, or a small edit distance.
//!
//! Not done here: Itanium (GNU mode C++) demangling: only C names and MSVC names get hints.

/// The qualified name (`S::f`, `measure`) of an MSVC-mangled name (`?f@S@@QEAAHH@Z`);
/// `None` for names that are not MSVC-mangled C++ (C names, Itanium names, data).
pub fn qualified_name(mangled: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(mangled).ok()?;
    if !s.starts_with('?') {
        return None;
    }
    msvc_demangler::demangle(s, msvc_demangler::DemangleFlags::NAME_ONLY).ok()
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
        assert_eq!(qualified_name(b"measure"), None);
        assert_eq!(qualified_name(b"?bad"), None);
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
