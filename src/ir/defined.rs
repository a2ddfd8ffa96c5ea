//! The functions a module defines, read from its text without parsing it: one `define`
//! line per function, the first `@` name on it is the function's.
//!
//! For the wrapper's routing probe (`driver/route.rs`), which asks only "which names does
//! this module define" of the front end's unoptimized IR, where a full parse would cost as
//! much as the rewrite. `available_externally` definitions are left out: they never reach
//! the object. Not here: anything that edits IR (`mod.rs`).

use super::lex;

/// The unescaped names of the functions `text` defines (`\01` names keep their byte 1),
/// numbered names left out, in order of appearance.
pub fn defined_functions(text: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for line in text.split(|&b| b == b'\n') {
        let Some(rest) = line.strip_prefix(b"define ") else {
            continue;
        };
        let Some(at) = rest.iter().position(|&b| b == b'@') else {
            continue;
        };
        let head = rest.get(..at).unwrap_or_default();
        if head
            .split(|&b| b == b' ')
            .any(|w| w == b"available_externally")
        {
            continue;
        }
        let body = rest.get(at + 1..).unwrap_or_default();
        let raw = match body.strip_prefix(b"\"") {
            // Inside quotes LLVM escapes `"` as `\22`: the next quote ends the name.
            Some(q) => match q.iter().position(|&b| b == b'"') {
                Some(end) => lex::unescape(q.get(..end).unwrap_or_default()).into_owned(),
                None => continue,
            },
            None => {
                let end = body
                    .iter()
                    .position(|&c| !(c.is_ascii_alphanumeric() || b"-$._".contains(&c)))
                    .unwrap_or(body.len());
                let name = body.get(..end).unwrap_or_default();
                if name.is_empty() || name.iter().all(u8::is_ascii_digit) {
                    continue;
                }
                name.to_vec()
            }
        };
        out.push(raw);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_defined_functions_only() {
        let ir = br#"declare i32 @ext(i32)
define dso_local i32 @plain(i32 noundef %0) #0 {
define internal fastcc void @st.local() {
define linkonce_odr dso_local noundef ptr @"??0S@@QEAA@XZ"(ptr %this) comdat {
define dso_local x86_stdcallcc i32 @"\01_std_add@8"(i32 %a, i32 %b) {
define available_externally i32 @inl() {
define internal void @0() {
define weak void @"q\22uote"() {
  %x = call i32 @plain(i32 1)
"#;
        let got = defined_functions(ir);
        let want: Vec<&[u8]> = vec![
            b"plain",
            b"st.local",
            b"??0S@@QEAA@XZ",
            b"\x01_std_add@8",
            b"q\"uote",
        ];
        assert_eq!(got, want);
    }
}
