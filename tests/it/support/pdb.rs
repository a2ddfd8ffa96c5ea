//! Reading PDBs in tests: llvm-pdbutil-22's `dump --symbols` / `--ids` parsed into maps,
//! Microsoft's pdbtool, and the expectations for the PDB fixtures (tests/fixtures/pdb).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The fixture sources of the PDB tests.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pdb")
}

/// lld-link-22's flags for the fixtures' console program `app.exe` (the inputs follow).
pub const APP_LINK: [&str; 5] = [
    "/debug",
    "/nodefaultlib",
    "/entry:main",
    "/subsystem:console",
    "/out:app.exe",
];

/// The fixture's hot-patch list as one `A,B,…` value.
pub fn fixture_list() -> String {
    std::fs::read_to_string(fixtures().join("hotpatch.txt"))
        .unwrap()
        .lines()
        .collect::<Vec<_>>()
        .join(",")
}

/// Mangled name → (name of its LF_FUNC_ID / LF_MFUNC_ID, the signature pdbutil prints for
/// the function's type, the source file of its module).
pub fn expected() -> BTreeMap<&'static str, (&'static str, &'static str, &'static str)> {
    BTreeMap::from([
        ("bump", ("bump", "int (int)", "app")),
        ("twice", ("twice", "int (int)", "app")),
        ("plain", ("plain", "int (int)", "app")),
        ("main", ("main", "int ()", "app")),
        ("helper_b", ("helper_b", "int (int)", "helper")),
        ("?get@S@ns@@QEAAHH@Z", ("get", "int ns::S::(int)", "shapes")),
        ("?over@@YAHH@Z", ("over", "int (int)", "shapes")),
        ("?over@@YAHN@Z", ("over", "int (double)", "shapes")),
        ("?inl@@YAHH@Z", ("inl", "int (int)", "shapes")),
        ("fn_lib", ("fn_lib", "int (int)", "lib")),
    ])
}

/// One module of `llvm-pdbutil dump --symbols`: its name, S_HOTPATCHFUNC (ID, name) pairs,
/// S_SKIP sizes, and procedures (name → printed types).
#[derive(Debug, Default)]
pub struct ModSyms {
    pub hotpatch: Vec<(u32, String)>,
    pub skips: Vec<u32>,
    pub procs: Vec<(String, String)>,
}

pub fn hex(s: &str) -> u32 {
    u32::from_str_radix(s.trim_start_matches("0x"), 16).unwrap()
}

pub fn symbols(dir: &Path, pdb: &str) -> BTreeMap<String, ModSyms> {
    let text = super::run_ok(dir, "llvm-pdbutil-22", &["dump", "--symbols", pdb]);
    let module = regex::Regex::new(r"^\s*Mod \d+ \| `([^`]*)`").unwrap();
    let skip = regex::Regex::new(r"\| S_SKIP \[size = (\d+)\]").unwrap();
    let hp = regex::Regex::new(r"^\s*function = (0x[0-9A-F]+) .*, name = (\S+)$").unwrap();
    let proc_ = regex::Regex::new(r"\| S_[GL]PROC32 \[size = \d+\] `([^`]*)`").unwrap();
    let ty = regex::Regex::new(r"type = `(0x[0-9A-F]+) \((.*)\)`").unwrap();
    let mut out: BTreeMap<String, ModSyms> = BTreeMap::new();
    let mut cur = String::new();
    let mut pending_proc: Option<String> = None;
    for line in text.lines() {
        if let Some(c) = module.captures(line) {
            cur = c[1].rsplit('/').next().unwrap().to_owned();
            out.entry(cur.clone()).or_default();
        } else if let Some(c) = skip.captures(line) {
            out.get_mut(&cur).unwrap().skips.push(c[1].parse().unwrap());
        } else if let Some(c) = hp.captures(line) {
            out.get_mut(&cur)
                .unwrap()
                .hotpatch
                .push((hex(&c[1]), c[2].to_owned()));
        } else if let Some(c) = proc_.captures(line) {
            pending_proc = Some(c[1].to_owned());
        } else if let (Some(c), Some(name)) = (ty.captures(line), pending_proc.as_ref()) {
            let m = out.get_mut(&cur).unwrap();
            m.procs
                .push((name.clone(), format!("{} ({})", &c[1], &c[2])));
            pending_proc = None;
        }
    }
    out
}

/// `llvm-pdbutil dump --ids`: ID index → (kind, name, type index).
pub fn ids(dir: &Path, pdb: &str) -> BTreeMap<u32, (String, String, u32)> {
    let text = super::run_ok(dir, "llvm-pdbutil-22", &["dump", "--ids", pdb]);
    let head = regex::Regex::new(r"^\s*(0x[0-9A-F]+) \| (LF_M?FUNC_ID) ").unwrap();
    let body = regex::Regex::new(r"^\s*name = (\S+), type = (0x[0-9A-F]+),").unwrap();
    let mut out = BTreeMap::new();
    let mut pending: Option<(u32, String)> = None;
    for line in text.lines() {
        if let Some(c) = head.captures(line) {
            pending = Some((hex(&c[1]), c[2].to_owned()));
        } else if let (Some(c), Some((id, kind))) = (body.captures(line), pending.take()) {
            out.insert(id, (kind, c[1].to_owned(), hex(&c[2])));
        }
    }
    out
}

static PDBTOOL: OnceLock<PathBuf> = OnceLock::new();

/// Microsoft's pdbtool: from PATH, or installed once into target/tools with cargo.
pub fn pdbtool() -> &'static Path {
    PDBTOOL.get_or_init(|| {
        if let Ok(p) = which::which("pdbtool") {
            return p;
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tools");
        let exe = root.join("bin/pdbtool");
        if !exe.is_file() {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let st = Command::new(cargo)
                .args([
                    "install",
                    "pdbtool",
                    "--version",
                    "0.1.22",
                    "--locked",
                    "--root",
                ])
                .arg(&root)
                .status()
                .expect("cannot run cargo install pdbtool");
            assert!(
                st.success(),
                "cargo install pdbtool --version 0.1.22 failed"
            );
        }
        exe
    })
}

pub fn assert_readers_accept(dir: &Path, pdb: &str) {
    let all = super::run(dir, "llvm-pdbutil-22", &["dump", "--all", pdb]);
    assert!(
        all.status.success() && all.stderr.is_empty(),
        "llvm-pdbutil dump --all: {}",
        String::from_utf8_lossy(&all.stderr)
    );
    let tool = pdbtool().to_str().unwrap().to_owned();
    let check = super::run(dir, &tool, &["check", pdb]);
    let text = String::from_utf8_lossy(&check.stdout).into_owned()
        + &String::from_utf8_lossy(&check.stderr);
    assert!(check.status.success(), "pdbtool check: {text}");
    assert!(
        regex::Regex::new(r"PDBs with errors\s*:\s*0\b")
            .unwrap()
            .is_match(&text),
        "pdbtool check found errors: {text}"
    );
}

/// Every fixture function has its S_HOTPATCHFUNC back in its own module of `pdb` (no S_SKIP
/// left), and each function ID names, in the ID stream, an ID record of that function whose
/// type is the type of the function's own procedure record.
pub fn assert_fully_restored(dir: &Path, pdb: &str) {
    let after = symbols(dir, pdb);
    let ids = ids(dir, pdb);
    let mut seen = Vec::new();
    for (module, syms) in &after {
        assert!(syms.skips.is_empty(), "{module} still has S_SKIP: {syms:?}");
        for (id, mangled) in &syms.hotpatch {
            let (name, signature, source) = expected()[mangled.as_str()];
            // The module: `lib.obj` for the archive member, `<source>.obj` otherwise.
            assert_eq!(module, &format!("{source}.obj"), "{mangled}");
            let (kind, id_name, ty) = ids
                .get(id)
                .unwrap_or_else(|| panic!("{mangled}: ID {id:#x} not in --ids"));
            assert_eq!(id_name, name, "{mangled}: ID {id:#x} is {kind} {id_name}");
            let want_kind = if mangled.contains("@S@ns@") {
                "LF_MFUNC_ID"
            } else {
                "LF_FUNC_ID"
            };
            assert_eq!(kind, want_kind, "{mangled}");
            // The ID's type is the type of this function's own procedure record.
            let proc_ty = format!("{ty:#06X} ({signature})").replace("0X", "0x");
            assert!(
                syms.procs
                    .iter()
                    .any(|(n, t)| n.ends_with(name) && *t == proc_ty),
                "{mangled}: no procedure `{name}` of type {proc_ty} in {module}: {:?}",
                syms.procs
            );
            seen.push(mangled.clone());
        }
    }
    seen.sort();
    let mut want: Vec<String> = expected().keys().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(seen, want);
}
