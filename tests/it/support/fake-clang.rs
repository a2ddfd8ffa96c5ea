//! `fake-clang`: a stand-in compiler for the wrapper's tests. Not a cargo target (so
//! `cargo install` never installs it): `support::fake` builds it with rustc, std only.
//!
//! It appends its argv (after argv[0]) as one JSON array per line to `$FAKE_CLANG_LOG`,
//! prints `$FAKE_CLANG_STDOUT` / `$FAKE_CLANG_STDERR`, answers `--version` as clang
//! `$FAKE_CLANG_VERSION` (default 19.1.7) for `$FAKE_CLANG_TARGET`, fails with exit code
//! `$FAKE_CLANG_EXIT` (default 1) when an argument contains `$FAKE_CLANG_FAIL_IF_ARG`, and
//! writes canned outputs: IR (`$FAKE_CLANG_IR`, a file) for `-emit-llvm` jobs, the bytes of
//! `$FAKE_CLANG_OBJ` (or a placeholder) for object jobs, after sleeping `$FAKE_CLANG_SLEEP_MS`, to the path given by `-o X`,
//! `/clang:-oX` or `/FoX`; with `-###` it writes nothing and prints a front-end command with
//! `-object-file-name=` (the absolute output path) as clang's driver does. Which name it was
//! called by (argv[0]) is logged first.
//! `@file` arguments naming a file are expanded as clang-cl does (Windows quoting, UTF-8 or
//! UTF-16 with a BOM) before anything else, so the log holds the arguments clang would see;
//! each such `@file` argument is also appended to `$FAKE_CLANG_RSP_LOG`. Its own splitter, so
//! that the wrapper's response files are checked against a second reading of the rules.

use std::ffi::OsString;
use std::io::Write;

const DEFAULT_IR: &str = "source_filename = \"fake.c\"\ntarget triple = \"x86_64-pc-windows-msvc\"\n\ndefine i32 @fake_function() {\n  ret i32 0\n}\n";

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Appends `line` to the file that the environment variable `var` names, when it is set.
fn append_to_log(var: &str, line: &str) {
    if let Some(log) = env(var) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap_or_else(|e| panic!("{var} ({log}) is not writable: {e}"));
        writeln!(f, "{line}").expect("log write");
    }
}

/// `items` as a JSON array of strings.
fn json_array(items: &[String]) -> String {
    let mut out = String::from("[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        for c in item.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push(']');
    out
}

fn main() {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let args: Vec<String> = expand_response_files(
        argv.iter()
            .skip(1)
            .map(|a| a.to_string_lossy().into_owned()),
    );
    let mut entry = vec![argv
        .first()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_default()];
    entry.extend(args.iter().cloned());
    append_to_log("FAKE_CLANG_LOG", &json_array(&entry));
    if let Some(s) = env("FAKE_CLANG_STDOUT") {
        print!("{s}");
    }
    if let Some(s) = env("FAKE_CLANG_STDERR") {
        eprint!("{s}");
    }
    if args.iter().any(|a| a == "--version") {
        let v = env("FAKE_CLANG_VERSION").unwrap_or_else(|| "19.1.7".into());
        let t = env("FAKE_CLANG_TARGET").unwrap_or_else(|| "x86_64-pc-windows-msvc".into());
        println!("fake clang version {v}\nTarget: {t}\nThread model: posix");
        return;
    }
    if let Some(ms) = env("FAKE_CLANG_SLEEP_MS").and_then(|v| v.parse().ok()) {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
    if let Some(needle) = env("FAKE_CLANG_FAIL_IF_ARG") {
        if args.iter().any(|a| a.contains(&needle)) {
            eprintln!("fake-clang: error: failing as asked ({needle})");
            let code = env("FAKE_CLANG_EXIT")
                .and_then(|c| c.parse().ok())
                .unwrap_or(1);
            std::process::exit(code);
        }
    }
    // Output path: the last -o X, /clang:-oX or /FoX.
    let mut out: Option<String> = None;
    let mut it = args.iter().peekable();
    while let Some(a) = it.next() {
        if a == "--" {
            break;
        }
        if a == "-o" {
            out = it.peek().map(|s| s.to_string());
        } else if let Some(p) = a
            .strip_prefix("/clang:-o")
            .or_else(|| a.strip_prefix("/Fo"))
        {
            out = Some(p.to_owned());
        }
    }
    let Some(out) = out else { return };
    if args.iter().any(|a| a == "-###") {
        // A dry run writes nothing: it prints the front end's command, with the absolute
        // object name clang's driver gives it, quoted as clang quotes it.
        let abs = std::path::absolute(&out).expect("absolute output path");
        let quote = |s: &str| {
            let mut q = String::from("\"");
            for c in s.chars() {
                if matches!(c, '"' | '\\' | '$') {
                    q.push('\\');
                }
                q.push(c);
            }
            q.push('"');
            q
        };
        eprintln!(
            " \"fake-cc1\" \"-cc1\" {} \"-o\" {}",
            quote(&format!("-object-file-name={}", abs.display())),
            quote(&out)
        );
        return;
    }
    let bytes = if args.iter().any(|a| a.ends_with("-emit-llvm")) {
        match env("FAKE_CLANG_IR") {
            Some(p) => std::fs::read(p).expect("FAKE_CLANG_IR readable"),
            None => DEFAULT_IR.as_bytes().to_vec(),
        }
    } else {
        match env("FAKE_CLANG_OBJ") {
            Some(p) => std::fs::read(p).expect("FAKE_CLANG_OBJ readable"),
            None => b"fake object\n".to_vec(),
        }
    };
    std::fs::write(&out, bytes).expect("output writable");
}

/// `@file` arguments replaced by the arguments in the file (one level, as the wrapper writes).
fn expand_response_files(args: impl Iterator<Item = String>) -> Vec<String> {
    let mut out = Vec::new();
    for a in args {
        let Some(bytes) = a.strip_prefix('@').and_then(|p| std::fs::read(p).ok()) else {
            out.push(a);
            continue;
        };
        append_to_log("FAKE_CLANG_RSP_LOG", &a);
        let text = match bytes.as_slice() {
            [0xFF, 0xFE, rest @ ..] => String::from_utf16_lossy(
                &rest
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .collect::<Vec<_>>(),
            ),
            [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8_lossy(rest).into_owned(),
            _ => String::from_utf8_lossy(&bytes).into_owned(),
        };
        out.extend(split_windows(&text));
    }
    out
}

/// The Windows C runtime's splitting: `2n` backslashes and a quote give `n` backslashes and
/// open or close quoting, `2n+1` give `n` and a literal quote, other backslashes are
/// literal, `""` inside quotes is a quote.
fn split_windows(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut any) = (false, false);
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            let run = chars[i..].iter().take_while(|&&c| c == '\\').count();
            i += run;
            if chars.get(i) == Some(&'"') {
                cur.extend(std::iter::repeat('\\').take(run / 2));
                if run % 2 == 1 {
                    cur.push('"');
                    i += 1;
                }
            } else {
                cur.extend(std::iter::repeat('\\').take(run));
            }
            any = true;
            continue;
        }
        if c == '"' {
            if quoted && chars.get(i + 1) == Some(&'"') {
                cur.push('"');
                i += 2;
                continue;
            }
            quoted = !quoted;
            any = true;
        } else if !quoted && c.is_whitespace() {
            if any {
                out.push(std::mem::take(&mut cur));
                any = false;
            }
        } else {
            cur.push(c);
            any = true;
        }
        i += 1;
    }
    if any {
        out.push(cur);
    }
    out
}
