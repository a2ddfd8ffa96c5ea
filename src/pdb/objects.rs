//! The linked objects as the fix-up needs them: their `S_HOTPATCHFUNC` records, procedures and
//! ID records, read from `.debug$S` / `.debug$T`, and how to find the object of a PDB module
//! (a plain `.obj`, or a member of a `.lib` archive).
//!
//! Does not modify objects. Objects compiled with a type server (`/Zi` + `LF_TYPESERVER2`) or
//! precompiled headers (`LF_PRECOMP`) keep their IDs elsewhere and are reported as unsupported.

use super::records::{self, FuncId, Malformed, Record, TypeTable};
use crate::coff::inputs;
use object::{Object, ObjectSection};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// `LF_TYPESERVER2` and `LF_PRECOMP`: the object's types live in another file.
const LF_TYPESERVER2: u16 = 0x1515;
const LF_PRECOMP: u16 = 0x1509;

/// One `S_HOTPATCHFUNC` of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjHotpatch {
    /// The object's item index of the function's `LF_FUNC_ID` / `LF_MFUNC_ID`.
    pub func_id: u32,
    pub name: Vec<u8>,
    /// Record size in bytes, the length field included.
    pub size: usize,
}

/// What the fix-up reads from one object.
#[derive(Debug, Default)]
pub struct ObjectDebug {
    /// `S_HOTPATCHFUNC` records in the order the linker meets them.
    pub hotpatch: Vec<ObjHotpatch>,
    /// `(item ID, display name)` of each procedure record, in the same order.
    pub procs: Vec<(u32, Vec<u8>)>,
    /// The bytes of the object's `.debug$T` and its record index.
    types: Vec<u8>,
    table: TypeTable,
}

impl ObjectDebug {
    /// Reads the CodeView data of a COFF object (regular or `/bigobj`).
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let file = object::File::parse(bytes).map_err(|e| format!("not a COFF object: {e}"))?;
        let mut out = ObjectDebug::default();
        let mut seen_types = false;
        for section in file.sections() {
            let name = section.name_bytes().map_err(|e| e.to_string())?;
            if name != b".debug$S" && name != b".debug$T" {
                continue;
            }
            let data = section
                .data()
                .map_err(|e| format!("section {}: {e}", section.index().0))?;
            let at = |m: Malformed| {
                format!(
                    "section {} ({}): {m}",
                    section.index().0,
                    String::from_utf8_lossy(name)
                )
            };
            if name == b".debug$T" {
                if seen_types {
                    return Err("more than one .debug$T section".into());
                }
                seen_types = true;
                if records::u32_at(data, 0) != Some(records::CV_SIGNATURE_C13) {
                    return Err(at(Malformed {
                        offset: 0,
                        what: "missing CodeView C13 signature",
                    }));
                }
                out.table = TypeTable::parse(data, 4, records::FIRST_INDEX).map_err(at)?;
                if let Some(first) = out.table.records.first() {
                    if first.kind == LF_TYPESERVER2 || first.kind == LF_PRECOMP {
                        return Err("the object's types are in a type server or precompiled header (not supported)".into());
                    }
                }
                out.types = data.to_vec();
                continue;
            }
            for sub in records::symbol_subsections(data).map_err(at)? {
                let body = data.get(sub.clone()).unwrap_or(&[]);
                records::for_each_record(body, 0, false, |r| out.note(body, &r)).map_err(|m| {
                    at(Malformed {
                        offset: m.offset + sub.start,
                        what: m.what,
                    })
                })?;
            }
        }
        Ok(out)
    }

    fn note(&mut self, body: &[u8], r: &Record) {
        let payload = r.payload(body);
        if r.kind == records::S_HOTPATCHFUNC {
            if let Some((func_id, name)) = records::parse_hotpatch(payload) {
                self.hotpatch.push(ObjHotpatch {
                    func_id,
                    name: name.to_vec(),
                    size: r.range.len(),
                });
            }
        } else if records::is_proc(r.kind) {
            if let Some((id, name)) = records::parse_proc(payload) {
                self.procs.push((id, name.to_vec()));
            }
        }
    }

    /// The object's `LF_FUNC_ID` / `LF_MFUNC_ID` at item index `id`.
    pub fn func_id(&self, id: u32) -> Option<FuncId<'_>> {
        self.table.func_id(&self.types, id)
    }

    /// The text of the object's `LF_STRING_ID` at `id`.
    pub fn string_id(&self, id: u32) -> Option<&[u8]> {
        self.table.string_id(&self.types, id)
    }
}

/// Finds and reads the objects of PDB modules, caching each file (archives hold many modules).
pub struct ObjectFinder {
    explicit: Vec<PathBuf>,
    base_dir: PathBuf,
    files: HashMap<PathBuf, Vec<u8>>,
}

/// Where a module's object came from, for reports.
pub type Located = (String, ObjectDebug);

fn base_name(p: &[u8]) -> &[u8] {
    match p.iter().rposition(|&b| b == b'/' || b == b'\\') {
        Some(i) => p.get(i + 1..).unwrap_or(p),
        None => p,
    }
}

fn canonical(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}

impl ObjectFinder {
    /// `explicit`: the objects and archives given by the user (empty: use the paths the PDB
    /// records); `base_dir`: where relative recorded paths are also tried (the PDB's directory).
    pub fn new(explicit: &[PathBuf], base_dir: &Path) -> Self {
        Self {
            explicit: explicit.to_vec(),
            base_dir: base_dir.to_path_buf(),
            files: HashMap::new(),
        }
    }

    fn read(&mut self, path: &Path) -> Result<&[u8], String> {
        if !self.files.contains_key(path) {
            let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            self.files.insert(path.to_path_buf(), bytes);
        }
        Ok(self.files.get(path).map(Vec::as_slice).unwrap_or(&[]))
    }

    /// Which file holds `recorded` (the module's object or archive path as the PDB records it).
    fn resolve(&self, recorded: &[u8]) -> Result<PathBuf, String> {
        let text = std::str::from_utf8(recorded)
            .map_err(|_| "the recorded path is not UTF-8".to_string())?;
        let recorded_path = PathBuf::from(text.replace('\\', "/"));
        if self.explicit.is_empty() {
            if recorded_path.is_file() {
                return Ok(recorded_path);
            }
            let beside = self.base_dir.join(&recorded_path);
            if recorded_path.is_relative() && beside.is_file() {
                return Ok(beside);
            }
            return Err(format!(
                "{} not found (give the objects on the command line)",
                recorded_path.display()
            ));
        }
        let want = canonical(&recorded_path);
        if let Some(p) = self.explicit.iter().find(|p| canonical(p) == want) {
            return Ok(p.clone());
        }
        // Built elsewhere or moved: fall back to a unique file name match.
        let name = base_name(recorded);
        let same_name: Vec<&PathBuf> = self
            .explicit
            .iter()
            .filter(|p| p.file_name().map(|n| n.as_encoded_bytes()) == Some(name))
            .collect();
        match same_name.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(format!(
                "{} is not among the given objects",
                recorded_path.display()
            )),
            _ => Err(format!(
                "several given files are named {}",
                String::from_utf8_lossy(name)
            )),
        }
    }

    /// Reads the object of a module: `obj_file` is the path the PDB records (the archive for
    /// a library member) and `module_name` the object's name (the member name in an archive).
    pub fn load(&mut self, module_name: &[u8], obj_file: &[u8]) -> Result<Located, String> {
        let path = self.resolve(obj_file)?;
        let shown = path.display().to_string();
        let bytes = self.read(&path)?;
        if !inputs::is_archive(bytes) {
            let debug = ObjectDebug::parse(bytes).map_err(|e| format!("{shown}: {e}"))?;
            return Ok((shown, debug));
        }
        let members = inputs::archive_members(bytes).map_err(|e| format!("{shown}: {e}"))?;
        let mut by_base = None;
        for member in &members {
            let name = member.name.as_bytes();
            let exact = name == module_name;
            if exact || base_name(name) == base_name(module_name) {
                let data = bytes.get(member.range.clone()).unwrap_or(&[]);
                if exact {
                    return Self::member(&shown, name, data);
                }
                by_base.get_or_insert((name, data));
            }
        }
        match by_base {
            Some((name, data)) => Self::member(&shown, name, data),
            None => Err(format!(
                "{shown}: no member {}",
                String::from_utf8_lossy(module_name)
            )),
        }
    }

    fn member(shown: &str, name: &[u8], data: &[u8]) -> Result<Located, String> {
        let shown = format!("{shown}({})", String::from_utf8_lossy(name));
        let debug = ObjectDebug::parse(data).map_err(|e| format!("{shown}: {e}"))?;
        Ok((shown, debug))
    }
}
