//! `fake-clang`: a stand-in compiler for the wrapper's tests. Not a cargo target (so
//! `cargo install` never installs it): `support::fake` builds it with rustc, std only.
//!
//! It appends its argv (after argv[0]) as one JSON array per line to `$FAKE_CLANG_LOG`,
//! prints `$FAKE_CLANG_STDOUT` / `$FAKE_CLANG_STDERR`, answers `--version` as clang
//! `$FAKE_CLANG_VERSION` (default 19.1.7) for `$FAKE_CLANG_TARGET`, fails with exit code
//! `$FAKE_CLANG_EXIT` (default 1) when an argument contains `$FAKE_CLANG_FAIL_IF_ARG`, and
//! writes canned outputs: IR (`$FAKE_CLANG_IR`, a file) for `-emit-llvm` jobs, the bytes of
//! `$FAKE_CLANG_OBJ` (or a placeholder) for object jobs, after sleeping `$FAKE_CLANG_SLEEP_MS`, to the path given by `-o X`,
//! `/clang:-oX` or `/FoX`. Which name it was called by (argv[0]) is logged first.

use std::ffi::OsString;
use std::io::Write;

const DEFAULT_IR: &str = "source_filename = \"fake.c\"\ntarget triple = \"x86_64-pc-windows-msvc\"\n\ndefine i32 @fake_function() {\n  ret i32 0\n}\n";

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
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
    let args: Vec<String> = argv
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if let Some(log) = env("FAKE_CLANG_LOG") {
        let mut entry = vec![argv
            .first()
            .map(|a| a.to_string_lossy().into_owned())
            .unwrap_or_default()];
        entry.extend(args.iter().cloned());
        let line = json_array(&entry);
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("FAKE_CLANG_LOG is writable");
        writeln!(f, "{line}").expect("log write");
    }
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
