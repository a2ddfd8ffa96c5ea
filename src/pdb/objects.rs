//! The linked objects as the fix-up needs them: their `S_HOTPATCHFUNC` records, procedures and
//! ID records, read from `.debug$S` / `.debug$T`, and how to find the object of a PDB module
//! (a plain `.obj`, or a member of a `.lib` archive).
//!
//! Does not modify objects. Objects compiled with a type server (`/Zi` + `LF_TYPESERVER2`) or
//! precompiled headers (`LF_PRECOMP`) keep their IDs elsewhere and are reported as unsupported.

use crate::codeview::{self, ids::FuncRef, ids::IdTable};
use crate::coff::inputs;
use ms_codeview::types::Leaf;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

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
    table: IdTable,
}

impl ObjectDebug {
    /// Reads the CodeView data of a COFF object (regular or `/bigobj`) with
    /// [`codeview::hotpatch::scan`], and its `.debug$T`.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let scan = codeview::hotpatch::scan(bytes).map_err(|e| e.to_string())?;
        let mut out = ObjectDebug {
            hotpatch: scan
                .hotpatch
                .iter()
                .map(|r| ObjHotpatch {
                    func_id: r.func_id,
                    name: r.name.clone(),
                    size: r.range.1 - r.range.0,
                })
                .collect(),
            procs: scan.proc_records,
            ..ObjectDebug::default()
        };
        let mut types = scan.obj.sections.iter().filter(|s| s.name == b".debug$T");
        if let Some(section) = types.next() {
            if types.next().is_some() {
                return Err("more than one .debug$T section".into());
            }
            let data = section.data(bytes).map_err(|e| e.to_string())?;
            out.table = IdTable::parse_section(data).map_err(|m| {
                format!(
                    "section {} ({}): {m}",
                    section.number,
                    String::from_utf8_lossy(&section.name)
                )
            })?;
            if let Some(first) = out.table.records.first() {
                let kind = Leaf(first.kind);
                if kind == Leaf::LF_TYPESERVER2 || kind == Leaf::LF_PRECOMP {
                    return Err("the object's types are in a type server or precompiled header (not supported)".into());
                }
            }
            out.types = data.to_vec();
        }
        Ok(out)
    }

    /// The object's `LF_FUNC_ID` / `LF_MFUNC_ID` at item index `id`.
    pub fn func_id(&self, id: u32) -> Option<FuncRef<'_>> {
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
    /// The member list of each archive read.
    members: HashMap<PathBuf, Vec<inputs::Member>>,
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
            members: HashMap::new(),
        }
    }

    /// A finder over objects already in memory: `objects` pairs each with the path it stands
    /// for, and plays the role of the explicit list of [`ObjectFinder::new`].
    pub fn in_memory(objects: Vec<(PathBuf, Vec<u8>)>, base_dir: &Path) -> Self {
        Self {
            explicit: objects.iter().map(|(p, _)| p.clone()).collect(),
            base_dir: base_dir.to_path_buf(),
            files: objects.into_iter().collect(),
            members: HashMap::new(),
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
        self.read(&path)?;
        let bytes = self.files.get(&path).map(Vec::as_slice).unwrap_or_default();
        if !inputs::is_archive(bytes) {
            let debug = ObjectDebug::parse(bytes).map_err(|e| format!("{shown}: {e}"))?;
            return Ok((shown, debug));
        }
        if !self.members.contains_key(&path) {
            let members = inputs::archive_members(bytes).map_err(|e| format!("{shown}: {e}"))?;
            self.members.insert(path.clone(), members);
        }
        let members = self
            .members
            .get(&path)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let exact = members.iter().find(|m| m.name.as_bytes() == module_name);
        let by_base = || {
            members
                .iter()
                .find(|m| base_name(m.name.as_bytes()) == base_name(module_name))
        };
        match exact.or_else(by_base) {
            Some(m) => Self::member(
                &shown,
                &m.name,
                bytes.get(m.range.clone()).unwrap_or_default(),
            ),
            None => Err(format!(
                "{shown}: no member {}",
                String::from_utf8_lossy(module_name)
            )),
        }
    }

    fn member(shown: &str, name: &str, data: &[u8]) -> Result<Located, String> {
        let shown = format!("{shown}({name})");
        let debug = ObjectDebug::parse(data).map_err(|e| format!("{shown}: {e}"))?;
        Ok((shown, debug))
    }
}
