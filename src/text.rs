//! Text files as Windows tools write them: UTF-8 with or without a byte-order mark (Notepad,
//! PowerShell's `Out-File -Encoding utf8`), UTF-16 LE or BE with one (MSBuild's response
//! files, Windows PowerShell 5.1's `>`).
//!
//! The one decoder for every text file the project reads: response files (`driver/rsp.rs`)
//! and hot-patch list files ([`crate::hotlist::read_list_file`]). When the bytes are not text
//! in any of these encodings, [`NotText`] says on which line (1-based) and why. Line ends are
//! left as they are (`\r\n` stays): splitting lines is the reader's job.

/// How a file was encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 without a byte-order mark (ASCII included).
    Utf8,
    /// UTF-8 behind `EF BB BF`.
    Utf8Bom,
    /// UTF-16 little-endian behind `FF FE`.
    Utf16Le,
    /// UTF-16 big-endian behind `FE FF`.
    Utf16Be,
}

impl Encoding {
    /// The bytes a file holds for `text` in this encoding, byte-order mark included: what
    /// [`decode`] reads back as `text` with this encoding. The project only reads these
    /// files; this writes them the way Windows tools do, for tests and fixtures.
    pub fn encode(self, text: &str) -> Vec<u8> {
        let units = text.encode_utf16();
        match self {
            Encoding::Utf8 => text.as_bytes().to_vec(),
            Encoding::Utf8Bom => [&b"\xEF\xBB\xBF"[..], text.as_bytes()].concat(),
            Encoding::Utf16Le => [0xFF, 0xFE]
                .into_iter()
                .chain(units.flat_map(u16::to_le_bytes))
                .collect(),
            Encoding::Utf16Be => [0xFE, 0xFF]
                .into_iter()
                .chain(units.flat_map(u16::to_be_bytes))
                .collect(),
        }
    }
}

/// A file's text and how it was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The text, byte-order mark removed.
    pub text: String,
    pub encoding: Encoding,
}

impl Decoded {
    /// Whether the bytes on disk differ from [`Decoded::text`] (a mark, or UTF-16): a tool
    /// that reads plain UTF-8 needs a converted copy.
    pub fn converted(&self) -> bool {
        self.encoding != Encoding::Utf8
    }
}

/// Where and why bytes are not text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {why}")]
pub struct NotText {
    /// 1-based line of the first offending byte or code unit.
    pub line: usize,
    /// What is wrong, in a few words.
    pub why: String,
}

/// Decodes `raw`: UTF-8 (a mark is removed), or UTF-16 LE/BE when it starts with its mark.
pub fn decode(raw: &[u8]) -> Result<Decoded, NotText> {
    if let Some(rest) = raw.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(rest, u16::from_le_bytes, Encoding::Utf16Le);
    }
    if let Some(rest) = raw.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(rest, u16::from_be_bytes, Encoding::Utf16Be);
    }
    let (body, encoding) = match raw.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        Some(rest) => (rest, Encoding::Utf8Bom),
        None => (raw, Encoding::Utf8),
    };
    match std::str::from_utf8(body) {
        Ok(text) => Ok(Decoded {
            text: text.to_owned(),
            encoding,
        }),
        Err(e) => {
            let at = e.valid_up_to();
            let byte = body.get(at).copied().unwrap_or_default();
            Err(NotText {
                line: line_of(body.get(..at).unwrap_or_default()),
                why: format!(
                    "invalid UTF-8 (byte 0x{byte:02X}); save it as UTF-8, or as UTF-16 with a byte-order mark"
                ),
            })
        }
    }
}

/// Like [`decode`], and a NUL character is not text either (the usual sign of UTF-16
/// saved without its mark, or of a binary file).
pub fn decode_strict(raw: &[u8]) -> Result<Decoded, NotText> {
    let d = decode(raw)?;
    if let Some(at) = d.text.find('\0') {
        return Err(NotText {
            line: line_of(d.text.as_bytes().get(..at).unwrap_or_default()),
            why: "a NUL byte (binary data, or UTF-16 without a byte-order mark?)".into(),
        });
    }
    Ok(d)
}

/// The 1-based line on which the text after `before` starts.
fn line_of(before: &[u8]) -> usize {
    before.iter().filter(|&&b| b == b'\n').count() + 1
}

fn utf16(raw: &[u8], unit: fn([u8; 2]) -> u16, encoding: Encoding) -> Result<Decoded, NotText> {
    let units: Vec<u16> = raw.chunks_exact(2).map(|c| unit([c[0], c[1]])).collect();
    let lines_before = |n: usize| units.iter().take(n).filter(|&&u| u == 0x0A).count() + 1;
    if raw.len() % 2 != 0 {
        return Err(NotText {
            line: lines_before(units.len()),
            why: "UTF-16 with an odd number of bytes (the file is cut short)".into(),
        });
    }
    let mut text = String::with_capacity(units.len());
    for (i, c) in char::decode_utf16(units.iter().copied()).enumerate() {
        match c {
            Ok(c) => text.push(c),
            Err(e) => {
                // The index counts chars, not units: find the unit itself.
                let bad = e.unpaired_surrogate();
                let at = units
                    .iter()
                    .enumerate()
                    .skip(i)
                    .find(|(_, &u)| u == bad)
                    .map_or(units.len(), |(k, _)| k);
                return Err(NotText {
                    line: lines_before(at),
                    why: format!("an unpaired UTF-16 surrogate (0x{bad:04X})"),
                });
            }
        }
    }
    Ok(Decoded { text, encoding })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str) -> Vec<u8> {
        Encoding::Utf16Le.encode(s)
    }

    fn utf16be(s: &str) -> Vec<u8> {
        Encoding::Utf16Be.encode(s)
    }

    #[test]
    fn encode_writes_what_decode_reads_back() {
        let text = "?f@@YAHXZ\r\né \u{1F600}\n";
        for encoding in [
            Encoding::Utf8,
            Encoding::Utf8Bom,
            Encoding::Utf16Le,
            Encoding::Utf16Be,
        ] {
            let bytes = encoding.encode(text);
            let back = decode(&bytes).unwrap();
            assert_eq!((back.text.as_str(), back.encoding), (text, encoding));
        }
        assert_eq!(Encoding::Utf16Be.encode("a"), [0xFE, 0xFF, 0, b'a']);
        assert_eq!(Encoding::Utf16Le.encode("a"), [0xFF, 0xFE, b'a', 0]);
    }

    #[test]
    fn the_four_encodings() {
        let plain = decode(b"f\r\ng\n").unwrap();
        assert_eq!(
            (plain.text.as_str(), plain.converted()),
            ("f\r\ng\n", false)
        );
        let bom = decode(b"\xEF\xBB\xBFf\r\n").unwrap();
        assert_eq!(
            (bom.text.as_str(), bom.encoding),
            ("f\r\n", Encoding::Utf8Bom)
        );
        let le = decode(&utf16le("?f@@YAHXZ\r\né\r\n")).unwrap();
        assert_eq!(le.text, "?f@@YAHXZ\r\né\r\n");
        assert_eq!(le.encoding, Encoding::Utf16Le);
        let be = decode(&utf16be("g\r\n")).unwrap();
        assert_eq!(
            (be.text.as_str(), be.encoding),
            ("g\r\n", Encoding::Utf16Be)
        );
        assert!(be.converted());
    }

    #[test]
    fn what_is_not_text_says_its_line() {
        let e = decode(b"a\nb\ncaf\xE9\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.why.starts_with("invalid UTF-8 (byte 0xE9)"), "{e}");
        let e = decode_strict(b"a\r\nb\0c\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.why.starts_with("a NUL byte"), "{e}");
        // UTF-16 without its mark: NULs on the first line.
        let no_mark = &utf16le("f\r\n")[2..];
        assert_eq!(decode_strict(no_mark).unwrap_err().line, 1);
        assert!(
            decode(no_mark).is_ok(),
            "NUL is valid UTF-8; only the strict form refuses it"
        );
        let mut odd = utf16le("a\nb\n");
        odd.push(b'c');
        let e = decode(&odd).unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.why.contains("odd number of bytes"), "{e}");
        let mut lone = utf16be("a\nb\n");
        lone.extend([0xD8, 0x00, 0x00, b'x']);
        let e = decode(&lone).unwrap_err();
        assert_eq!(
            (e.line, e.why.as_str()),
            (3, "an unpaired UTF-16 surrogate (0xD800)")
        );
        // A surrogate pair is one character, not an error.
        assert_eq!(decode(&utf16le("\u{1F600}\n")).unwrap().text, "\u{1F600}\n");
    }
}
