//! Reading objects back for assertions, always with an independent reader (llvm-readobj-22,
//! llvm-objdump-22), never with the crate's own COFF code: the symbol table, sections,
//! relocations, S_HOTPATCHFUNC records, and the read-only check on `__ref_` pointers.

use super::run_ok;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// An object's symbols, sections and relocations as `llvm-readobj-22` prints them.
#[derive(Debug, Default)]
pub struct Obj {
    /// Symbol → number of its section (0: undefined; absolute and debug symbols are absent).
    pub sym_section: BTreeMap<String, u32>,
    /// Symbol → name of its section (`IMAGE_SYM_UNDEFINED` and the like included).
    pub sym_section_name: BTreeMap<String, String>,
    /// Section number (1-based) → (name, writable).
    pub sections: BTreeMap<u32, (String, bool)>,
    /// Section number → the symbols its relocations refer to.
    pub relocs: BTreeMap<u32, BTreeSet<String>>,
    /// Every symbol name.
    pub symbols: BTreeSet<String>,
    /// Symbols with storage class Static (3).
    pub statics: BTreeSet<String>,
}

fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.trim().strip_prefix(key).map(str::trim)
}

impl Obj {
    /// `llvm-readobj-22 --sections --symbols --relocations OBJ`, run in `dir`, parsed.
    pub fn read(dir: &Path, obj: &str) -> Obj {
        let text = run_ok(
            dir,
            "llvm-readobj-22",
            &["--sections", "--symbols", "--relocations", obj],
        );
        let mut o = Obj::default();
        let (mut cur_sec, mut cur_sym, mut in_relocs): (Option<u32>, Option<String>, Option<u32>) =
            (None, None, None);
        for line in text.lines() {
            let t = line.trim();
            if let Some(n) = field(line, "Number:") {
                cur_sec = n.parse().ok();
            } else if let (Some(n), Some(sec)) = (field(line, "Name:"), cur_sec) {
                if cur_sym.is_none() && !o.sections.contains_key(&sec) {
                    let name = n.split(" (").next().unwrap_or(n).to_string();
                    o.sections.insert(sec, (name, false));
                }
            }
            if t.starts_with("IMAGE_SCN_MEM_WRITE") {
                if let Some(s) = cur_sec.and_then(|n| o.sections.get_mut(&n)) {
                    s.1 = true;
                }
            }
            if t == "Symbol {" {
                cur_sec = None;
                cur_sym = Some(String::new());
            }
            if let (Some(sym), Some(n)) = (cur_sym.as_mut(), field(line, "Name:")) {
                if sym.is_empty() {
                    *sym = n.to_string();
                    o.symbols.insert(n.to_string());
                }
            }
            if let (Some(sym), Some(c)) = (cur_sym.as_ref(), field(line, "StorageClass:")) {
                if c.starts_with("Static") {
                    o.statics.insert(sym.clone());
                }
            }
            if let (Some(sym), Some(s)) = (cur_sym.as_ref(), field(line, "Section:")) {
                // `Section: .text$mn (5)`
                o.sym_section_name
                    .insert(sym.clone(), s.split(" (").next().unwrap_or(s).to_owned());
                if let Some(num) = s
                    .rsplit_once('(')
                    .and_then(|(_, n)| n.trim_end_matches(')').parse().ok())
                {
                    o.sym_section.entry(sym.clone()).or_insert(num);
                }
            }
            if t.starts_with("Section (") && t.ends_with('{') {
                cur_sym = None;
                in_relocs = t["Section (".len()..]
                    .split(')')
                    .next()
                    .and_then(|n| n.parse().ok());
            } else if let Some(sec) = in_relocs {
                if t == "}" {
                    in_relocs = None;
                } else if t.starts_with("0x") {
                    // `0x6 IMAGE_REL_AMD64_REL32 __ref_g (17)`
                    let parts: Vec<_> = t.split_whitespace().collect();
                    if let Some(name) = parts.get(2) {
                        o.relocs.entry(sec).or_default().insert(name.to_string());
                    }
                }
            }
        }
        o
    }

    /// Every symbol a relocation of the object's code (`.text*` sections) refers to.
    pub fn code_relocation_targets(&self) -> BTreeSet<String> {
        self.relocs
            .iter()
            .filter(|(sec, _)| {
                self.sections
                    .get(sec)
                    .is_some_and(|(name, _)| name.starts_with(".text"))
            })
            .flat_map(|(_, targets)| targets.iter().cloned())
            .collect()
    }
}

/// Symbols of an object: name → section name (or "IMAGE_SYM_UNDEFINED" / other).
pub fn symbols(obj: &Path) -> BTreeMap<String, String> {
    Obj::read(Path::new("."), obj.to_str().unwrap()).sym_section_name
}

/// Names of the redirect pointers (`__ref_G`, without the x86 C underscore).
pub fn ref_symbols(obj: &Path) -> BTreeSet<String> {
    symbols(obj)
        .keys()
        .filter(|n| !n.starts_with(".weak."))
        .filter_map(|n| n.find("__ref_").map(|i| n[i..].to_owned()))
        .collect()
}

/// `(function name, record name)` of every S_HOTPATCHFUNC, in object order.
pub fn hotpatch_records(obj: &Path) -> Vec<(String, String)> {
    let text = run_ok(
        Path::new("."),
        "llvm-readobj-22",
        &["--codeview", obj.to_str().unwrap()],
    );
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        if l.contains("Kind: S_HOTPATCHFUNC (0x1169)") {
            let func = lines.next().unwrap_or_default().trim().to_owned();
            let name = lines.next().unwrap_or_default().trim().to_owned();
            let func = func.strip_prefix("Function: ").unwrap_or(&func);
            let func = func.rsplit_once(" (").map_or(func, |(f, _)| f).to_owned();
            out.push((
                func,
                name.strip_prefix("Name: ").unwrap_or(&name).to_owned(),
            ));
        }
    }
    out
}

/// Relocation targets per function (`llvm-objdump-22 -dr`).
pub fn relocations_by_function(obj: &Path) -> BTreeMap<String, BTreeSet<String>> {
    relocation_counts_by_function(obj)
        .into_iter()
        .map(|(f, targets)| (f, targets.into_keys().collect()))
        .collect()
}

/// Relocation targets per function with how often each occurs (`llvm-objdump-22 -dr`): a
/// `__ref_` loaded twice counts twice (on ARM64 each load is an `ADRP` and an `LDR`
/// relocation).
pub fn relocation_counts_by_function(obj: &Path) -> BTreeMap<String, BTreeMap<String, usize>> {
    let text = run_ok(
        Path::new("."),
        "llvm-objdump-22",
        &["-dr", obj.to_str().unwrap()],
    );
    let mut out: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut current = None;
    for l in text.lines() {
        if let Some(label) = l
            .strip_suffix(">:")
            .and_then(|l| l.split_once(" <"))
            .map(|(_, n)| n.to_owned())
        {
            out.entry(label.clone()).or_default();
            current = Some(label);
        } else if l.contains("IMAGE_REL_") {
            if let (Some(f), Some(target)) = (&current, l.split_whitespace().last()) {
                *out.entry(f.clone())
                    .or_default()
                    .entry(target.to_owned())
                    .or_default() += 1;
            }
        }
    }
    out
}

/// Functions defined (in a code section) by `objs`, from `llvm-objdump-22 -t`.
pub fn defined_functions(objs: &[std::path::PathBuf]) -> BTreeSet<String> {
    let mut args = vec!["-t"];
    args.extend(objs.iter().map(|o| o.to_str().unwrap()));
    // COFF lines: [ n](sec  1)(fl 0x00)(ty  20)(scl   2) (nx 0) 0x00000000 name
    // type 0x20 is "function"; sec 0 is undefined.
    run_ok(Path::new("."), "llvm-objdump-22", &args)
        .lines()
        .filter(|l| l.contains("(ty  20)") && !l.contains("(sec  0)") && !l.contains("(sec -"))
        .filter_map(|l| l.rsplit(' ').next())
        .map(str::to_owned)
        .collect()
}

/// Every given `__ref_` pointer (`refs`, as [`ref_symbols`] names them) and every weak
/// default `.weak.__ref_*.default.*` of `obj` is defined in a `.rdata` section (the pointer
/// itself when static, else its weak default), and no `.rdata` section is writable.
#[track_caller]
pub fn assert_refs_read_only(obj: &Path, refs: &BTreeSet<String>) {
    let o = Obj::read(Path::new("."), obj.to_str().unwrap());
    let syms = &o.sym_section_name;
    for r in refs {
        let placed = syms.iter().any(|(n, sec)| {
            let is_def = n.ends_with(r.as_str()) && sec != "IMAGE_SYM_UNDEFINED"
                || n.starts_with(".weak.") && n.contains(&format!("{r}.default."));
            is_def && sec == ".rdata"
        });
        assert!(
            placed,
            "{}: {r} not defined in .rdata: {syms:?}",
            obj.display()
        );
    }
    for (n, s) in syms
        .iter()
        .filter(|(n, _)| n.contains(".weak.") && n.contains("__ref_"))
    {
        assert_eq!(s, ".rdata", "{}: {n} in {s}", obj.display());
    }
    let writable: Vec<_> = o
        .sections
        .iter()
        .filter(|(_, (name, w))| name.starts_with(".rdata") && *w)
        .collect();
    assert!(
        writable.is_empty(),
        "{}: a .rdata section is writable: {writable:?}",
        obj.display()
    );
}
