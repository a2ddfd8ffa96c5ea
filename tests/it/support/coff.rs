//! Helpers for the CodeView injection tests: build objects from the fixtures with the real
//! compilers, read them back with llvm-readobj-22 and the `object` crate.

use crate::support::{compile_ir, run_ok, tool};
use object::{Object, ObjectSection, ObjectSymbol};
use std::path::{Path, PathBuf};

pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/coff");

/// A temporary directory holding a copy of one fixture source.
pub struct Work {
    pub dir: tempfile::TempDir,
    pub src: String,
}

impl Work {
    pub fn new(fixture: &str) -> Work {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(Path::new(FIXTURES).join(fixture), dir.path().join(fixture)).unwrap();
        Work {
            dir,
            src: fixture.to_string(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn stem(&self) -> &str {
        self.src
            .rsplit_once('.')
            .map(|(s, _)| s)
            .unwrap_or(&self.src)
    }

    /// `clang-cl-19 --target=T /c /Z7 /O2 EXTRA SRC /Fo OUT`; returns OUT.
    pub fn cl19(&self, target: &str, extra: &[&str], out: &str) -> PathBuf {
        let t = format!("--target={target}");
        let fo = format!("/Fo{out}");
        let mut args = vec![t.as_str(), "/c", "/Z7", "/O2", "-Wno-ignored-attributes"];
        args.extend_from_slice(extra);
        args.push(&fo);
        args.push("--");
        args.push(&self.src);
        run_ok(self.dir.path(), "clang-cl-19", &args);
        self.path(out)
    }

    /// The same compile stopped at LLVM IR (clang-cl writes STEM.ll); returns the renamed file.
    pub fn ll19(&self, target: &str, extra: &[&str], out: &str) -> PathBuf {
        let t = format!("--target={target}");
        let mut args = vec![
            t.as_str(),
            "/c",
            "/Z7",
            "/O2",
            "-Wno-ignored-attributes",
            "/clang:-S",
            "/clang:-emit-llvm",
        ];
        args.extend_from_slice(extra);
        args.push("--");
        args.push(&self.src);
        run_ok(self.dir.path(), "clang-cl-19", &args);
        std::fs::rename(self.path(&format!("{}.ll", self.stem())), self.path(out)).unwrap();
        self.path(out)
    }

    /// clang 22 code generation of `ll` (the optimizer off: the IR is already optimised), with
    /// its native hot-patch list when `list` is given (written to a file: names may hold 0x01).
    pub fn clang22(
        &self,
        ll: &Path,
        target: &str,
        function_sections: bool,
        list: Option<&[Vec<u8>]>,
        out: &str,
    ) -> PathBuf {
        let mut extra = Vec::new();
        if function_sections {
            extra.push("-ffunction-sections".to_owned());
        }
        if let Some(list) = list {
            let file = self.path(&format!("{out}.list"));
            std::fs::write(&file, list.join(&b'\n')).unwrap();
            extra.push("-mllvm".into());
            extra.push(format!(
                "-ms-secure-hotpatch-functions-file={}",
                file.display()
            ));
        }
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let (ll, o) = (ll.to_str().unwrap(), self.path(out));
        compile_ir(self.dir.path(), 22, target, ll, o.to_str().unwrap(), &extra);
        o
    }
}

/// Names of the functions an `.ll` file defines, in module order, unescaped to bytes.
pub fn defined_functions(ll: &Path) -> Vec<Vec<u8>> {
    let text = std::fs::read_to_string(ll).unwrap();
    let mut out = Vec::new();
    for line in text.lines().filter(|l| l.starts_with("define ")) {
        let at = line.find('@').unwrap();
        let rest = &line[at + 1..];
        let name = if let Some(q) = rest.strip_prefix('"') {
            let end = q.find('"').unwrap();
            unescape(&q[..end])
        } else {
            rest.as_bytes()[..rest.find('(').unwrap()].to_vec()
        };
        out.push(name);
    }
    out
}

fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 2 < b.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// One CodeView symbol as llvm-readobj-22 prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Printed {
    /// `S_HOTPATCHFUNC`: the record name; procedures: the LinkageName (COFF symbol).
    pub name: String,
    /// The function ID.
    pub id: u32,
    /// The name llvm-readobj resolves the ID to.
    pub resolved: String,
}

fn parse_ref(v: &str) -> (String, u32) {
    // "get (0x100B)"
    let (name, id) = v.rsplit_once(" (0x").unwrap();
    (
        name.to_string(),
        u32::from_str_radix(id.trim_end_matches(')'), 16).unwrap(),
    )
}

/// `(S_HOTPATCHFUNC records, S_GPROC32_ID/S_LPROC32_ID procedures)` from llvm-readobj-22.
pub fn readobj(obj: &Path) -> (Vec<Printed>, Vec<Printed>) {
    let out = run_ok(
        obj.parent().unwrap(),
        "llvm-readobj-22",
        &["--codeview", obj.to_str().unwrap()],
    );
    let (mut records, mut procs) = (Vec::new(), Vec::new());
    let mut lines = out.lines().map(str::trim);
    while let Some(l) = lines.next() {
        if l == "Kind: S_HOTPATCHFUNC (0x1169)" {
            let (resolved, id) =
                parse_ref(lines.next().unwrap().strip_prefix("Function: ").unwrap());
            let name = lines
                .next()
                .unwrap()
                .strip_prefix("Name: ")
                .unwrap()
                .to_string();
            records.push(Printed { name, id, resolved });
        } else if l.starts_with("Kind: S_GPROC32_ID") || l.starts_with("Kind: S_LPROC32_ID") {
            let mut id = None;
            for l in lines.by_ref() {
                if let Some(v) = l.strip_prefix("FunctionType: ") {
                    id = Some(parse_ref(v));
                } else if let Some(v) = l.strip_prefix("LinkageName: ") {
                    let (resolved, id) = id.take().unwrap();
                    procs.push(Printed {
                        name: v.to_string(),
                        id,
                        resolved,
                    });
                    break;
                }
            }
        }
    }
    (records, procs)
}

/// The S_HOTPATCHFUNC subsection of the first non-COMDAT `.debug$S` (header included) and its
/// index among that section's subsections, read with a walker independent of the crate's.
pub fn hotpatch_subsection(obj: &[u8]) -> Option<(usize, Vec<u8>)> {
    if obj.starts_with(&[0, 0, 0xff, 0xff]) {
        hotpatch_subsection_in(&object::read::coff::CoffBigFile::<&[u8]>::parse(obj).unwrap())
    } else {
        hotpatch_subsection_in(&object::read::coff::CoffFile::<&[u8]>::parse(obj).unwrap())
    }
}

fn hotpatch_subsection_in<'d, O: Object<'d>>(file: &O) -> Option<(usize, Vec<u8>)> {
    let s = file
        .sections()
        .find(|s| s.name() == Ok(".debug$S") && !matches!(s.flags(), object::SectionFlags::Coff { characteristics } if characteristics.0 & 0x1000 != 0))?;
    let d = s.data().unwrap();
    let mut at = 4;
    let mut index = 0;
    while at + 8 <= d.len() {
        let kind = u32::from_le_bytes(d[at..at + 4].try_into().unwrap());
        let len = u32::from_le_bytes(d[at + 4..at + 8].try_into().unwrap()) as usize;
        let body = &d[at + 8..at + 8 + len];
        if kind == 0xF1 && body.len() >= 4 && body[2..4] == [0x69, 0x11] {
            return Some((index, d[at..at + 8 + len].to_vec()));
        }
        at = (at + 8 + len + 3) & !3;
        index += 1;
    }
    None
}

/// Asserts that `after` differs from `before` only by a grown first `.debug$S`: same sections
/// (names, flags, data, relocations) except that one, whose relocations are the old ones shifted
/// past the insertion point, and the same symbols.
pub fn assert_only_debug_s_grew(before: &[u8], after: &[u8]) {
    if before.starts_with(&[0, 0, 0xff, 0xff]) {
        let b = object::read::coff::CoffBigFile::<&[u8]>::parse(before).unwrap();
        let a = object::read::coff::CoffBigFile::<&[u8]>::parse(after).unwrap();
        compare(&b, &a, after);
    } else {
        let b = object::read::coff::CoffFile::<&[u8]>::parse(before).unwrap();
        let a = object::read::coff::CoffFile::<&[u8]>::parse(after).unwrap();
        compare(&b, &a, after);
    }
}

fn compare<'d, O: Object<'d>>(b: &O, a: &O, after: &[u8]) {
    let grown = hotpatch_subsection(after).expect("no S_HOTPATCHFUNC subsection after injection");
    let bs: Vec<_> = b.sections().collect();
    let as_: Vec<_> = a.sections().collect();
    assert_eq!(bs.len(), as_.len(), "section count");
    let mut grown_seen = 0;
    for (x, y) in bs.iter().zip(&as_) {
        assert_eq!(x.name_bytes().unwrap(), y.name_bytes().unwrap());
        assert_eq!(x.flags(), y.flags(), "flags of {:?}", x.name());
        let (dx, dy) = (x.data().unwrap(), y.data().unwrap());
        let rx: Vec<_> = x
            .relocations()
            .map(|(o, r)| (o, format!("{:?}", r.target()), r.flags()))
            .collect();
        let ry: Vec<_> = y
            .relocations()
            .map(|(o, r)| (o, format!("{:?}", r.target()), r.flags()))
            .collect();
        if dx == dy {
            assert_eq!(rx, ry, "relocations of {:?}", x.name());
            continue;
        }
        grown_seen += 1;
        assert_eq!(x.name(), Ok(".debug$S"));
        let delta = dy.len() - dx.len();
        assert!(delta > 0 && delta % 4 == 0, "grew by {delta}");
        // The inserted bytes are one contiguous range; find it from the common prefix.
        let at = dx.iter().zip(dy).take_while(|(p, q)| p == q).count();
        let at = at.min(dx.len()) & !3;
        assert_eq!(&dy[..at], &dx[..at]);
        assert_eq!(
            &dy[at + delta..],
            &dx[at..],
            "bytes after the insertion moved unchanged"
        );
        assert!(grown.1.len() >= delta);
        let shifted: Vec<_> = rx
            .iter()
            .map(|(o, t, f)| {
                (
                    if (*o as usize) >= at {
                        o + delta as u64
                    } else {
                        *o
                    },
                    t.clone(),
                    *f,
                )
            })
            .collect();
        assert_eq!(shifted, ry, "relocations of the grown .debug$S");
    }
    assert_eq!(grown_seen, 1, "exactly one section grew");
    let sym = |f: &O| -> Vec<String> {
        f.symbols()
            .map(|s| {
                format!(
                    "{:?} {:#x} {:?} {:?} {:?}",
                    s.name_bytes().unwrap(),
                    s.address(),
                    s.section(),
                    s.kind(),
                    s.scope()
                )
            })
            .collect()
    };
    assert_eq!(sym(b), sym(a), "symbols");
}

/// Links `objs` into a DLL with lld-link-22 (freestanding: no entry point, no default libs).
pub fn link_dll(dir: &Path, objs: &[&Path], machine: &str) {
    let out = dir.join("out.dll");
    let mut args = vec![
        "/dll".to_string(),
        "/noentry".into(),
        "/nodefaultlib".into(),
        format!("/machine:{machine}"),
        format!("/out:{}", out.display()),
    ];
    args.extend(objs.iter().map(|o| o.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    tool("lld-link-22");
    run_ok(dir, "lld-link-22", &args);
    assert!(out.exists());
}

/// Asserts that every section symbol's aux checksum is LLVM's JamCRC of the section data, as
/// clang writes it (so the grown `.debug$S` got a correct new one). Regular headers only.
pub fn assert_checksums_match_data(obj: &[u8]) {
    use object::read::coff::{CoffFile, Symbol as _};
    use object::LittleEndian as LE;
    let file = CoffFile::<&[u8]>::parse(obj).unwrap();
    let table = file.coff_symbol_table();
    let sections = file.coff_section_table();
    let mut checked = 0;
    for (index, sym) in table.iter() {
        if !sym.has_aux_section() {
            continue;
        }
        let aux = table.aux_section(index).unwrap();
        let section = sections.section(sym.section().unwrap()).unwrap();
        let data = section.coff_data(obj).unwrap();
        if section.coff_file_range().is_none() {
            continue; // .bss: the aux length is the virtual size
        }
        assert_eq!(aux.length.get(LE) as usize, data.len(), "aux length");
        let sum = aux.check_sum.get(LE);
        if sum != 0 {
            assert_eq!(
                sum,
                hotpatch_cl::coff::patch::jamcrc(&[data]),
                "checksum of section {:?}",
                index
            );
            checked += 1;
        }
    }
    assert!(checked > 0, "no section carries a checksum");
}

/// Builds `big.obj` in `w` from 65,300 data sections plus `functions` (C source), so that
/// LLVM writes the `/bigobj` header (more than 65,279 sections), and returns its bytes.
pub fn build_bigobj(w: &Work, functions: &str) -> Vec<u8> {
    let mut src: String = (0..65300).map(|i| format!("int g{i} = {i};\n")).collect();
    src.push_str(functions);
    std::fs::write(w.path("big.c"), src).unwrap();
    let t = "--target=x86_64-pc-windows-msvc";
    run_ok(
        w.dir.path(),
        "clang-cl-19",
        &[t, "/c", "/Z7", "/O2", "/Gw", "/Fobig.obj", "--", "big.c"],
    );
    let data = std::fs::read(w.path("big.obj")).unwrap();
    assert_eq!(
        &data[..4],
        &[0, 0, 0xff, 0xff],
        "not an ANON_OBJECT_HEADER_BIGOBJ object"
    );
    data
}
