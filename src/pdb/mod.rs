//! PDB fix-up after `lld-link`: restore the `S_HOTPATCHFUNC` records it blanks out.
//!
//! `lld-link /debug` (up to version 22 at least) cannot remap the type index inside an
//! `S_HOTPATCHFUNC`, so it writes an `S_SKIP` of the same size with a zeroed payload in its
//! place (docs/clang22-facts.md, "Where clang 22 falls short", 3). [`fixup`] puts the records back: for every
//! module whose symbols hold blank `S_SKIP`s, it reads the module's object (a `.obj`, or a member
//! of a `.lib`), pairs the object's `S_HOTPATCHFUNC` records in order with blank `S_SKIP`s of the
//! same size, translates each function ID from the object's `.debug$T` item index to the index
//! of that function's `LF_FUNC_ID` / `LF_MFUNC_ID` in the PDB's ID (IPI) stream, and rewrites
//! the record in place. Same size means no offsets move (scope `pParent`/`pEnd`, `S_PROCREF`
//! offsets, the DBI `sym_byte_size` all stay valid); the edit goes through ms-pdb's MSF
//! copy-on-write and one commit, so an interrupted run leaves the old PDB.
//!
//! ID translation: the object's `LF_FUNC_ID` gives the name (and scope string); the PDB's IPI
//! stream is searched for ID records with the same kind, name and scope. Overloads leave several
//! candidates; then the function's type in the PDB is taken from its procedure record (lld turns
//! `S_GPROC32_ID` into `S_GPROC32`, whose type field is the TPI type, the same index the IPI
//! record's type field holds), found by name and position among the module's procedures.
//!
//! What is PDB lives here: the MSF container and its streams (through ms-pdb), the module
//! symbol substreams and the ID (IPI) stream's header (ms-pdb's `TypeStreamHeader`). Records
//! are walked and parsed by [`crate::codeview`]; the linked objects are read through
//! [`crate::coff`] and [`crate::codeview::hotpatch::scan`] ([`objects`]).
//!
//! Not done here: running the linker (the wrapper's link mode), PDBs in the MSFZ container
//! (read-only in ms-pdb), objects with type servers or precompiled headers.
//! References: LLVM `CodeViewDebug.cpp` (`S_HOTPATCHFUNC` emission), `cvinfo.h`,
//! <https://llvm.org/docs/PDB/ModiStream.html>, <https://llvm.org/docs/PDB/TpiStream.html>.

pub mod objects;

use crate::codeview::ids::{self, FuncRef, IdTable};
use crate::codeview::{self, Malformed, Record};
use ms_codeview::parser::Parser;
use ms_codeview::syms::{Proc, SymKind};
use ms_codeview::types::Leaf;
use ms_pdb::tpi::TypeStreamHeader;
use objects::{ObjHotpatch, ObjectDebug, ObjectFinder};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use sync_file::{RandomAccessFile, ReadAt, WriteAt};

/// Errors of the PDB fix-up; each names the file it is about.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// ms-pdb could not open or read the container.
    #[error("{path}: cannot read the PDB: {message}")]
    Read { path: PathBuf, message: String },
    /// A stream's contents are malformed.
    #[error("{path}: {stream}: {problem}")]
    Corrupt {
        path: PathBuf,
        stream: String,
        problem: String,
    },
    /// Writing the restored records failed (the PDB keeps its previous committed state).
    #[error("{path}: cannot write the PDB: {message}")]
    Write { path: PathBuf, message: String },
}

/// One record put back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Restored {
    pub module: String,
    /// The mangled name of the hot-patchable function.
    pub name: String,
    /// Its `LF_FUNC_ID` / `LF_MFUNC_ID` index in the PDB's ID stream.
    pub func_id: u32,
}

/// What [`fixup`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FixupReport {
    /// Records rewritten from `S_SKIP` to `S_HOTPATCHFUNC`, in module order.
    pub restored: Vec<Restored>,
    /// `S_HOTPATCHFUNC` records that were already in the PDB (fixed before, or another linker).
    pub already_present: usize,
    /// Blank `S_SKIP` records seen in module symbols.
    pub blank_skips: usize,
    /// Records or modules that could not be restored (object missing or unreadable, records
    /// that do not line up, IDs that do not resolve), one sentence each; they stay `S_SKIP`.
    pub problems: Vec<String>,
    /// Blank `S_SKIP`s that were never hot-patch records (their object has none): no action.
    pub notes: Vec<String>,
    /// Whether the PDB file was written (false: left byte-identical).
    pub written: bool,
}

/// The `S_HOTPATCHFUNC` records of a PDB, per module.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PdbDump {
    /// Modules that hold `S_HOTPATCHFUNC` records or blank `S_SKIP`s, in DBI order.
    pub modules: Vec<ModuleDump>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModuleDump {
    /// 0-based index of the module in the DBI stream.
    pub index: usize,
    pub module: String,
    pub obj_file: String,
    pub records: Vec<HotpatchEntry>,
    /// `S_SKIP` records with a zeroed payload (what lld-link leaves of `S_HOTPATCHFUNC`).
    pub blank_skips: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HotpatchEntry {
    /// The mangled name stored in the record.
    pub name: String,
    /// The function ID as stored (an IPI index).
    #[serde(rename = "function_id")]
    pub func_id: u32,
    /// What the ID resolves to in the IPI stream (`scope::name`), `None` if it is not an
    /// `LF_FUNC_ID` / `LF_MFUNC_ID`.
    #[serde(rename = "function_id_name")]
    pub function: Option<String>,
}

/// The first bytes of an MSF 7.0 container (every PDB `lld-link` and MSVC write).
pub const MSF_MAGIC: &[u8] = b"Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0";
/// The start of a small-MSF (PDB 2.00) file, which the fix-up refuses.
const MSF_SMALL_MAGIC: &[u8] = b"Microsoft C/C++ program database 2.00\r\n\x1aJG\0\0";

/// Whether `path` is a PDB: its name ends in `.pdb` (any case) or it starts with the MSF magic.
pub fn looks_like_pdb(path: &Path) -> bool {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("pdb"))
    {
        return true;
    }
    let mut head = [0u8; 32];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok_and(|()| head.starts_with(MSF_MAGIC))
}

impl HotpatchEntry {
    /// What the function ID resolves to, if anything.
    pub fn function_id_name(&self) -> Option<&str> {
        self.function.as_deref()
    }
}

/// One module of the PDB with its stream contents.
struct Module {
    index: usize,
    name: Vec<u8>,
    obj_file: Vec<u8>,
    stream: u32,
    data: Vec<u8>,
    records: Vec<Record>,
}

impl Module {
    fn shown(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }

    fn is_blank_skip(&self, r: &Record) -> bool {
        SymKind(r.kind) == SymKind::S_SKIP && r.payload(&self.data).iter().all(|&b| b == 0)
    }

    /// How many blank `S_SKIP`s the module holds.
    fn blank_skips(&self) -> usize {
        self.records
            .iter()
            .filter(|r| self.is_blank_skip(r))
            .count()
    }

    /// `(TPI type, display name)` of each procedure, in stream order.
    fn procs(&self) -> Vec<(u32, &[u8])> {
        self.records
            .iter()
            .filter(|r| SymKind(r.kind).is_proc())
            .filter_map(|r| r.sym(&self.data).parse_as::<Proc>().ok())
            .map(|p| -> (u32, &[u8]) { (p.fixed.proc_type.get().0, p.name) })
            .collect()
    }
}

/// Validates the symbol substream of a module stream and returns its `S_SKIP`,
/// `S_HOTPATCHFUNC` and procedure records (offsets are from the start of the stream, as in
/// `S_*PROC32` parent/end fields).
pub fn module_records(stream: &[u8], sym_byte_size: u32) -> Result<Vec<Record>, Malformed> {
    let end = usize::try_from(sym_byte_size).unwrap_or(usize::MAX);
    if end == 0 {
        return Ok(Vec::new());
    }
    let Some(syms) = stream.get(..end) else {
        return Err(Malformed {
            offset: 0,
            what: "symbol substream is larger than the stream",
        });
    };
    codeview::check_signature(syms).map_err(|_| Malformed {
        offset: 0,
        what: "symbol substream lacks the C13 signature",
    })?;
    // Only the kinds the fix-up looks at are kept; every record is still bounds-checked.
    let mut out = Vec::new();
    codeview::for_each_record(syms, 4..syms.len(), true, |r| {
        let kind = SymKind(r.kind);
        if kind == SymKind::S_SKIP || kind == SymKind::S_HOTPATCHFUNC || kind.is_proc() {
            out.push(r);
        }
    })?;
    Ok(out)
}

/// The IPI stream: its bytes and record index.
pub struct IdStream {
    data: Vec<u8>,
    table: IdTable,
    by_name: HashMap<Vec<u8>, Vec<u32>>,
}

impl IdStream {
    /// Validates the TPI-format header of the ID stream and indexes its records.
    /// `wanted`: the names to index for [`IdStream::translate`] (`None`: none).
    pub fn parse(data: Vec<u8>, wanted: Option<&HashSet<Vec<u8>>>) -> Result<Self, Malformed> {
        let truncated = Malformed {
            offset: 0,
            what: "truncated stream header",
        };
        let header = Parser::new(&data)
            .get::<TypeStreamHeader>()
            .map_err(|_| truncated.clone())?;
        let field = |v: u32| usize::try_from(v).map_err(|_| truncated.clone());
        let header_size = field(header.header_size.get())?;
        let (begin, end) = (
            header.type_index_begin.get().0,
            header.type_index_end.get().0,
        );
        let bytes = field(header.type_record_bytes.get())?;
        let records_end = header_size
            .checked_add(bytes)
            .filter(|&e| e <= data.len() && header_size >= ms_pdb::tpi::TPI_STREAM_HEADER_LEN)
            .ok_or(Malformed {
                offset: 4,
                what: "record area lies outside the stream",
            })?;
        let table = IdTable::parse(&data, header_size..records_end, begin)?;
        let count = end.checked_sub(begin).and_then(|n| usize::try_from(n).ok());
        if count != Some(table.records.len()) {
            return Err(Malformed {
                offset: 12,
                what: "index range does not match the record count",
            });
        }
        let mut by_name: HashMap<Vec<u8>, Vec<u32>> = HashMap::new();
        for (index, r) in table.iter() {
            if let Some(f) = ids::func_id(r.kind, r.payload(&data)) {
                if wanted.is_some_and(|w| w.contains(f.name)) {
                    by_name.entry(f.name.to_vec()).or_default().push(index);
                }
            }
        }
        Ok(Self {
            data,
            table,
            by_name,
        })
    }

    /// `scope::name` of the function ID at `index`.
    pub fn describe(&self, index: u32) -> Option<String> {
        let f = self.table.func_id(&self.data, index)?;
        let scope = match f.kind {
            Leaf::LF_FUNC_ID if f.scope != 0 => self.table.string_id(&self.data, f.scope),
            _ => None,
        };
        let name = String::from_utf8_lossy(f.name);
        Some(match scope {
            Some(s) => format!("{}::{name}", String::from_utf8_lossy(s)),
            None => name.into_owned(),
        })
    }

    /// The index of the object's function `h` in this ID stream (see the module docs).
    fn translate(
        &self,
        obj: &ObjectDebug,
        h: &ObjHotpatch,
        pdb_procs: &[(u32, &[u8])],
    ) -> Result<u32, String> {
        let shown = String::from_utf8_lossy(&h.name);
        let f = obj.func_id(h.func_id).ok_or_else(|| {
            format!(
                "`{shown}`: ID {:#x} is not an LF_FUNC_ID in the object",
                h.func_id
            )
        })?;
        let obj_scope = match f.kind {
            Leaf::LF_FUNC_ID if f.scope != 0 => Some(obj.string_id(f.scope).unwrap_or(&[])),
            _ => None,
        };
        let candidates: Vec<(u32, FuncRef<'_>)> = self
            .by_name
            .get(f.name)
            .into_iter()
            .flatten()
            .filter_map(|&i| Some((i, self.table.func_id(&self.data, i)?)))
            .filter(|(_, c)| c.kind == f.kind)
            .filter(|(_, c)| {
                f.kind != Leaf::LF_FUNC_ID
                    || obj_scope
                        == (c.scope != 0)
                            .then(|| self.table.string_id(&self.data, c.scope).unwrap_or(&[]))
            })
            .collect();
        match candidates.as_slice() {
            [] => {
                return Err(format!(
                    "`{shown}`: its function is not in the PDB's ID stream"
                ))
            }
            [(only, _)] => return Ok(*only),
            _ => {}
        }
        // Overloads: the function's TPI type, from its procedure record in the PDB.
        let ambiguous = || {
            format!(
                "`{shown}`: {} overloads in the ID stream and no procedure to tell them apart",
                candidates.len()
            )
        };
        let pos = obj
            .procs
            .iter()
            .position(|(id, _)| *id == h.func_id)
            .ok_or_else(ambiguous)?;
        let proc_name = obj.procs.get(pos).map(|(_, n)| n.as_slice()).unwrap_or(&[]);
        let nth = obj
            .procs
            .iter()
            .take(pos)
            .filter(|(_, n)| n == proc_name)
            .count();
        let in_obj = obj.procs.iter().filter(|(_, n)| n == proc_name).count();
        let in_pdb: Vec<u32> = pdb_procs
            .iter()
            .filter(|(_, n)| *n == proc_name)
            .map(|(t, _)| *t)
            .collect();
        if in_pdb.len() != in_obj {
            return Err(ambiguous());
        }
        let ty = in_pdb.get(nth).copied().ok_or_else(ambiguous)?;
        match candidates
            .iter()
            .filter(|(_, c)| c.ty == ty)
            .collect::<Vec<_>>()
            .as_slice()
        {
            [(only, _)] => Ok(*only),
            _ => Err(ambiguous()),
        }
    }
}

/// A read-only view of the parts of a PDB the fix-up uses; `F` is where ms-pdb reads it from
/// (the file, or bytes in memory).
struct PdbView<F = RandomAccessFile> {
    path: PathBuf,
    pdb: Box<ms_pdb::Pdb<F>>,
    modules: Vec<Module>,
}

impl PdbView {
    fn open(path: &Path) -> Result<Self, Error> {
        let mut head = Vec::new();
        let len = std::fs::File::open(path)
            .and_then(|f| {
                let len = f.metadata()?.len();
                std::io::Read::read_to_end(&mut std::io::Read::take(f, 48), &mut head)?;
                Ok(len)
            })
            .map_err(|e| read_error(path, e.into()))?;
        check_msf_header(path, &head, len)?;
        let pdb = ms_pdb::Pdb::open(path).map_err(|e| read_error(path, e))?;
        PdbView::read(path, pdb)
    }
}

/// The MSF header is checked before ms-pdb reads it, because ms-pdb trusts it: a claim of more
/// pages than the file holds made it size its page map from the claim (a 711-byte file claiming
/// 4 GB took 160 MB and seconds), and a page size of 1 with a huge stream directory overflows
/// its page arithmetic. Refused: a page size that is not a power of two from 512 to 65536, more
/// pages than the file holds, a stream directory larger than the file; and the small MSF 2.00
/// format of 1990s PDBs, whose header ms-pdb trusts the same way (a stream directory size
/// overflowed its page-pointer arithmetic) and which no linker of today writes.
fn check_msf_header(path: &Path, head: &[u8], file_len: u64) -> Result<(), Error> {
    if head.starts_with(MSF_SMALL_MAGIC) {
        return Err(Error::Corrupt {
            path: path.to_path_buf(),
            stream: "MSF header".into(),
            problem: "a small-MSF (PDB 2.00) file; only MSF 7.00 PDBs, as lld-link and link.exe \
                      write them, are read"
                .into(),
        });
    }
    if !head.starts_with(MSF_MAGIC) {
        return Ok(()); // not MSF 7.0: ms-pdb decides
    }
    let field = |at: usize| {
        head.get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map_or(0, |b| u64::from(u32::from_le_bytes(b)))
    };
    let (page_size, pages, dir_size) = (field(32), field(40), field(44));
    let problem = if !page_size.is_power_of_two() || !(512..=65536).contains(&page_size) {
        format!("page size {page_size} is not a power of two from 512 to 65536")
    } else if page_size.saturating_mul(pages) > file_len.next_multiple_of(page_size) {
        format!("claims {pages} pages of {page_size} bytes, but the file has {file_len} bytes")
    } else if dir_size > file_len {
        format!("claims a stream directory of {dir_size} bytes, but the file has {file_len} bytes")
    } else {
        return Ok(());
    };
    Err(Error::Corrupt {
        path: path.to_path_buf(),
        stream: "MSF header".into(),
        problem,
    })
}

fn read_error(path: &Path, e: anyhow::Error) -> Error {
    Error::Read {
        path: path.to_path_buf(),
        message: format!("{e:#}"),
    }
}

impl<F: ReadAt> PdbView<F> {
    /// Reads the modules of `pdb`; `path` names it in errors.
    fn read(path: &Path, pdb: Box<ms_pdb::Pdb<F>>) -> Result<Self, Error> {
        let read_err = |e: anyhow::Error| read_error(path, e);
        let mod_infos = pdb.read_modules().map_err(read_err)?;
        let mut modules = Vec::new();
        let mut iter = mod_infos.iter();
        for (index, info) in iter.by_ref().enumerate() {
            let Some(stream) = info.stream() else {
                continue;
            };
            let name = info.module_name().to_vec();
            // ms-pdb asserts (panics) on an index past the stream directory: check it first.
            if stream >= pdb.num_streams() {
                return Err(Error::Corrupt {
                    path: path.to_path_buf(),
                    stream: format!("module {index} `{}`", String::from_utf8_lossy(&name)),
                    problem: format!(
                        "names stream {stream}, but the PDB has {} streams",
                        pdb.num_streams()
                    ),
                });
            }
            // Only the symbol substream: line data and global refs are never touched, and
            // reading them would double the I/O of a fix-up.
            let want = u64::from(info.sym_size()).min(pdb.stream_len(stream));
            let mut data = vec![0u8; usize::try_from(want).unwrap_or(0)];
            let mut reader = pdb.get_stream_reader(stream).map_err(read_err)?;
            std::io::Read::read_exact(&mut reader, &mut data).map_err(|e| {
                read_err(anyhow::Error::from(e).context(format!("stream {stream}")))
            })?;
            let records = module_records(&data, info.sym_size()).map_err(|m| Error::Corrupt {
                path: path.to_path_buf(),
                stream: format!(
                    "module {index} `{}` (stream {stream})",
                    String::from_utf8_lossy(&name)
                ),
                problem: m.to_string(),
            })?;
            modules.push(Module {
                index,
                name,
                obj_file: info.obj_file().to_vec(),
                stream,
                data,
                records,
            });
        }
        if !iter.rest().is_empty() {
            return Err(Error::Corrupt {
                path: path.to_path_buf(),
                stream: "DBI module list".into(),
                problem: format!(
                    "{} bytes after the last readable module record",
                    iter.rest().len()
                ),
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            pdb,
            modules,
        })
    }

    fn ids(&self, wanted: &HashSet<Vec<u8>>) -> Result<IdStream, Error> {
        let corrupt = |problem: String| Error::Corrupt {
            path: self.path.clone(),
            stream: "ID stream (IPI)".into(),
            problem,
        };
        let data = self
            .pdb
            .read_stream_to_vec(ms_pdb::Stream::IPI.into())
            .map_err(|e| Error::Read {
                path: self.path.clone(),
                message: format!("{e:#}"),
            })?;
        IdStream::parse(data, Some(wanted)).map_err(|m| corrupt(m.to_string()))
    }
}

/// One planned in-place rewrite of a record in a module stream.
struct Patch {
    stream: u32,
    offset: usize,
    old: Vec<u8>,
    new: Vec<u8>,
}

/// Restores the `S_HOTPATCHFUNC` records that lld-link blanked in `pdb_path`.
///
/// `objects`: the linked objects and archives; empty means the paths the PDB records for its
/// modules. Only modules holding blank `S_SKIP`s need their object. A PDB that needs nothing is
/// not opened for writing; running the fix-up twice changes nothing the second time.
pub fn fixup(pdb_path: &Path, objects: &[PathBuf]) -> Result<FixupReport, Error> {
    fixup_impl(pdb_path, objects, true)
}

/// Like [`fixup`], but writes nothing unless every blanked record can be restored (then
/// `problems` is non-empty and `written` false): a link must not leave a half-fixed PDB.
pub fn fixup_all_or_nothing(pdb_path: &Path, objects: &[PathBuf]) -> Result<FixupReport, Error> {
    fixup_impl(pdb_path, objects, false)
}

/// [`fixup`] on a PDB held in memory: `pdb` is the file's bytes, `name` stands for its path
/// in messages, and `objects` are the linked objects and archives with the paths they stand
/// for (nothing is read from disk). Returns the report and the PDB's bytes afterwards (the
/// input unchanged when nothing was written).
pub fn fixup_bytes(
    name: &Path,
    pdb: &[u8],
    objects: Vec<(PathBuf, Vec<u8>)>,
) -> Result<(FixupReport, Vec<u8>), Error> {
    check_msf_header(name, pdb, pdb.len() as u64)?;
    let reader = ms_pdb::Pdb::open_from_random_file(pdb).map_err(|e| read_error(name, e))?;
    let view = PdbView::read(name, reader)?;
    let base_dir = name.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut finder = ObjectFinder::in_memory(objects, &base_dir);
    let (mut report, patches) = plan_fixup(&view, &mut finder)?;
    drop(view);
    if patches.is_empty() {
        return Ok((report, pdb.to_vec()));
    }
    let file = MemFile::default();
    file.0
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .extend_from_slice(pdb);
    let fail = |e: String| Error::Write {
        path: name.to_path_buf(),
        message: e,
    };
    let mut writer =
        ms_pdb::Pdb::modify_from_random_file(file.clone()).map_err(|e| fail(format!("{e:#}")))?;
    apply_patches(&mut writer, &patches, &fail)?;
    drop(writer);
    report.written = true;
    let bytes = std::mem::take(
        &mut *file
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    Ok((report, bytes))
}

/// A growable in-memory file that ms-pdb can read and write, for [`fixup_bytes`].
#[derive(Clone, Default)]
struct MemFile(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl ReadAt for MemFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        let data = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        data.read_at(buf, offset)
    }
}

impl WriteAt for MemFile {
    fn write_at(&self, buf: &[u8], offset: u64) -> std::io::Result<usize> {
        let mut data = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let start = usize::try_from(offset).map_err(|_| std::io::ErrorKind::InvalidInput)?;
        let end = start
            .checked_add(buf.len())
            .ok_or(std::io::ErrorKind::InvalidInput)?;
        if data.len() < end {
            data.resize(end, 0);
        }
        if let Some(dest) = data.get_mut(start..end) {
            dest.copy_from_slice(buf);
        }
        Ok(buf.len())
    }
}

fn fixup_impl(pdb_path: &Path, objects: &[PathBuf], partial: bool) -> Result<FixupReport, Error> {
    let view = PdbView::open(pdb_path)?;
    let base_dir = pdb_path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut finder = ObjectFinder::new(objects, &base_dir);
    let (mut report, patches) = plan_fixup(&view, &mut finder)?;
    if !patches.is_empty() && (partial || report.problems.is_empty()) {
        drop(view); // the read-only handle closes before the file is opened for writing
        write_patches(pdb_path, &patches)?;
        report.written = true;
    }
    Ok(report)
}

/// What the fix-up of `view` finds, and the record rewrites it would make.
fn plan_fixup<F: ReadAt>(
    view: &PdbView<F>,
    finder: &mut ObjectFinder,
) -> Result<(FixupReport, Vec<Patch>), Error> {
    let mut report = FixupReport::default();
    let mut patches = Vec::new();
    let jobs = modules_to_restore(view, finder, &mut report);
    if jobs.is_empty() {
        return Ok((report, patches));
    }
    // Only the names being restored are indexed: the ID stream of a big program is mostly
    // other functions' IDs and build strings.
    let wanted: HashSet<Vec<u8>> = jobs
        .iter()
        .flat_map(|(_, obj, _)| obj.hotpatch.iter().filter_map(|h| obj.func_id(h.func_id)))
        .map(|f| f.name.to_vec())
        .collect();
    let ids = view.ids(&wanted)?;
    for (module, obj, slots) in jobs {
        restore_module(module, &obj, slots, &ids, &mut report, &mut patches);
    }
    Ok((report, patches))
}

/// A module to restore: its object's debug information, and the module record each of the
/// object's `S_HOTPATCHFUNC` records goes to.
type Job<'v> = (&'v Module, ObjectDebug, Vec<&'v Record>);

/// The modules with blank `S_SKIP` records whose object has `S_HOTPATCHFUNC` records that line
/// up with them. Counts every module's blank and present records into `report`, and a
/// module that cannot be restored into its problems (or notes, when its object has nothing to
/// restore).
fn modules_to_restore<'v, F: ReadAt>(
    view: &'v PdbView<F>,
    finder: &mut ObjectFinder,
    report: &mut FixupReport,
) -> Vec<Job<'v>> {
    let mut jobs = Vec::new();
    for module in &view.modules {
        let blanks = module.blank_skips();
        report.blank_skips += blanks;
        report.already_present += module
            .records
            .iter()
            .filter(|r| SymKind(r.kind) == SymKind::S_HOTPATCHFUNC)
            .count();
        if blanks == 0 {
            continue;
        }
        let (obj_shown, obj) = match finder.load(&module.name, &module.obj_file) {
            Ok(found) => found,
            Err(why) => {
                report.problems.push(format!(
                    "module `{}`: {why}; its {blanks} S_SKIP record(s) left as is",
                    module.shown()
                ));
                continue;
            }
        };
        if obj.hotpatch.is_empty() {
            report.notes.push(format!(
                "module `{}`: {blanks} blank S_SKIP record(s), but {obj_shown} has no S_HOTPATCHFUNC",
                module.shown()
            ));
            continue;
        }
        let Some(slots) = pair_slots(module, &obj.hotpatch) else {
            report.problems.push(format!(
                "module `{}`: its S_SKIP records do not line up with the {} S_HOTPATCHFUNC record(s) of {obj_shown}; left as is",
                module.shown(),
                obj.hotpatch.len()
            ));
            continue;
        };
        jobs.push((module, obj, slots));
    }
    jobs
}

/// The rewrite of each blank `S_SKIP` of `module` into the `S_HOTPATCHFUNC` its object has for
/// it, with the function's ID translated to `ids`; what cannot be restored goes to the
/// report's problems.
fn restore_module(
    module: &Module,
    obj: &ObjectDebug,
    slots: Vec<&Record>,
    ids: &IdStream,
    report: &mut FixupReport,
    patches: &mut Vec<Patch>,
) {
    let procs = module.procs();
    for (h, r) in obj.hotpatch.iter().zip(slots) {
        if !module.is_blank_skip(r) {
            continue; // already an S_HOTPATCHFUNC of the same name (counted above)
        }
        match ids.translate(obj, h, &procs) {
            Ok(func_id) => {
                let Some(new) = encode_in_slot(r.range.len(), func_id, &h.name) else {
                    report.problems.push(format!(
                        "module `{}`: `{}` does not fit its slot",
                        module.shown(),
                        String::from_utf8_lossy(&h.name)
                    ));
                    continue;
                };
                let old = module.data.get(r.range.clone()).unwrap_or(&[]).to_vec();
                patches.push(Patch {
                    stream: module.stream,
                    offset: r.range.start,
                    old,
                    new,
                });
                report.restored.push(Restored {
                    module: module.shown(),
                    name: String::from_utf8_lossy(&h.name).into_owned(),
                    func_id,
                });
            }
            Err(why) => report.problems.push(format!(
                "module `{}`: {why}; left as S_SKIP",
                module.shown()
            )),
        }
    }
}

/// Encodes an `S_HOTPATCHFUNC` record (the object side's encoder, so both write the same
/// bytes) when it is exactly `size` bytes long, length field included: the size of the
/// `S_SKIP` it replaces. `None` when it is not.
fn encode_in_slot(size: usize, func_id: u32, name: &[u8]) -> Option<Vec<u8>> {
    let rec = codeview::hotpatch::encode_record(func_id, name);
    (rec.len() == size).then_some(rec)
}

/// Pairs each object record, in order, with the next module record of the same size that is a
/// blank `S_SKIP` or already the same `S_HOTPATCHFUNC`; `None` unless every record finds one.
fn pair_slots<'m>(module: &'m Module, hotpatch: &[ObjHotpatch]) -> Option<Vec<&'m Record>> {
    let mut out = Vec::with_capacity(hotpatch.len());
    let mut wanted = hotpatch.iter().peekable();
    for r in &module.records {
        let Some(h) = wanted.peek() else { break };
        if r.range.len() != h.size {
            continue;
        }
        let restored_already = SymKind(r.kind) == SymKind::S_HOTPATCHFUNC
            && codeview::hotpatch::parse_record(r.payload(&module.data)).map(|(_, n)| n)
                == Some(h.name.as_slice());
        if module.is_blank_skip(r) || restored_already {
            out.push(r);
            wanted.next();
        }
    }
    (out.len() == hotpatch.len()).then_some(out)
}

fn write_patches(path: &Path, patches: &[Patch]) -> Result<(), Error> {
    let fail = |e: String| Error::Write {
        path: path.to_path_buf(),
        message: e,
    };
    let mut pdb = ms_pdb::Pdb::modify(path).map_err(|e| fail(format!("{e:#}")))?;
    apply_patches(&mut pdb, patches, &fail)
}

/// Rewrites the records of `patches` and commits, through ms-pdb's copy-on-write MSF.
fn apply_patches<F: ReadAt + WriteAt>(
    pdb: &mut ms_pdb::Pdb<F>,
    patches: &[Patch],
    fail: &dyn Fn(String) -> Error,
) -> Result<(), Error> {
    let msf = pdb.msf_mut_err().map_err(|e| fail(format!("{e:#}")))?;
    for p in patches {
        // The file must still hold what was read: never write over something else.
        let current = msf
            .read_stream_to_vec(p.stream)
            .map_err(|e| fail(format!("{e:#}")))?;
        if current.get(p.offset..p.offset + p.old.len()) != Some(p.old.as_slice()) {
            return Err(fail(format!(
                "stream {} changed while it was being fixed",
                p.stream
            )));
        }
        let mut w = msf
            .write_stream(p.stream)
            .map_err(|e| fail(format!("{e:#}")))?;
        w.write_all_at_mut(&p.new, p.offset as u64)
            .map_err(|e| fail(e.to_string()))?;
    }
    msf.commit().map_err(|e| fail(format!("{e:#}")))?;
    Ok(())
}

/// Lists the `S_HOTPATCHFUNC` records of every module of `pdb_path`, with the function each
/// ID names in the PDB's ID stream.
pub fn dump(pdb_path: &Path) -> Result<PdbDump, Error> {
    let view = PdbView::open(pdb_path)?;
    let mut out = PdbDump::default();
    let mut ids: Option<IdStream> = None;
    for module in &view.modules {
        let blank_skips = module.blank_skips();
        let mut entries = Vec::new();
        for r in module
            .records
            .iter()
            .filter(|r| SymKind(r.kind) == SymKind::S_HOTPATCHFUNC)
        {
            let Some((func_id, name)) = codeview::hotpatch::parse_record(r.payload(&module.data))
            else {
                continue;
            };
            if ids.is_none() {
                ids = Some(view.ids(&HashSet::new())?);
            }
            entries.push(HotpatchEntry {
                func_id,
                name: String::from_utf8_lossy(name).into_owned(),
                function: ids.as_ref().and_then(|i| i.describe(func_id)),
            });
        }
        if entries.is_empty() && blank_skips == 0 {
            continue;
        }
        out.modules.push(ModuleDump {
            index: module.index,
            module: module.shown(),
            obj_file: String::from_utf8_lossy(&module.obj_file).into_owned(),
            records: entries,
            blank_skips,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A module symbol substream: signature, S_OBJNAME-like filler, a blank S_SKIP of 16 bytes.
    #[rustfmt::skip]
    fn module_stream() -> Vec<u8> {
        vec![
            4, 0, 0, 0,                         // CV_SIGNATURE_C13
            0x0a, 0x00, 0x01, 0x11,             // length 10, S_OBJNAME
            0, 0, 0, 0, b'a', b'.', b'o', 0,    // signature, name "a.o"
            0x0e, 0x00, 0x07, 0x00,             // length 14, S_SKIP
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // zeroed payload
        ]
    }

    #[test]
    fn module_records_find_the_blank_skip_and_reject_bad_sizes() {
        let s = module_stream();
        let recs = module_records(&s, s.len() as u32).unwrap();
        assert_eq!(
            recs.iter()
                .map(|r| (r.kind, r.range.clone()))
                .collect::<Vec<_>>(),
            vec![(SymKind::S_SKIP.0, 16..32)],
            "the S_OBJNAME is walked over, not kept"
        );
        assert!(module_records(&s, s.len() as u32 + 4).is_err());
        assert_eq!(module_records(&s, 30).unwrap_err().offset, 16);
        assert!(module_records(&s, 0).unwrap().is_empty());
    }

    #[test]
    fn slot_encoder_writes_clang_bytes_only_when_they_fit() {
        #[rustfmt::skip]
        let bump: [u8; 16] = [
            0x0e, 0x00, 0x69, 0x11,       // length 14, S_HOTPATCHFUNC
            0x00, 0x10, 0x00, 0x00,       // function ID 0x1000
            b'b', b'u', b'm', b'p', 0x00, // name, NUL
            0x00, 0x00, 0x00,             // zero padding to 4
        ];
        assert_eq!(encode_in_slot(16, 0x1000, b"bump").unwrap(), bump);
        assert_eq!(
            codeview::hotpatch::parse_record(&bump[4..]),
            Some((0x1000, &b"bump"[..]))
        );
        // 8 header+ID bytes, 4 name bytes and the NUL need 13: 12 is too small.
        assert!(encode_in_slot(12, 1, b"bump").is_none());
    }

    #[rustfmt::skip]
    fn id_stream() -> Vec<u8> {
        let mut v = vec![
            0x0b, 0xca, 0x31, 0x01, // version V80
            56, 0, 0, 0,            // header size
            0x00, 0x10, 0, 0,       // first index 0x1000
            0x02, 0x10, 0, 0,       // end index 0x1002
            28, 0, 0, 0,            // record bytes
        ];
        v.resize(56, 0);
        v.extend_from_slice(&[
            0x0a, 0x00, 0x05, 0x16, 0, 0, 0, 0, b'n', b's', 0, 0xf1, // LF_STRING_ID "ns"
            0x0e, 0x00, 0x01, 0x16, 0x00, 0x10, 0, 0, 0x74, 0, 0, 0, b'f', 0, 0xf2, 0xf1, // LF_FUNC_ID ns::f
        ]);
        v
    }

    #[test]
    fn id_stream_describes_scoped_function_ids() {
        let ids = IdStream::parse(id_stream(), None).unwrap();
        assert_eq!(ids.describe(0x1001).as_deref(), Some("ns::f"));
        assert_eq!(
            ids.describe(0x1000),
            None,
            "an LF_STRING_ID is not a function"
        );
        assert_eq!(ids.describe(0x0fff), None);
        let mut short = id_stream();
        short.truncate(70);
        assert!(IdStream::parse(short, None).is_err());
    }

    /// Found by the `pdb_fixup` fuzz target: 711 bytes whose MSF header claims far more pages
    /// than the file holds made ms-pdb allocate its page map for the claim (160 MB, seconds).
    #[test]
    fn header_claiming_more_pages_than_the_file_is_refused_before_opening() {
        let mut pdb = MSF_MAGIC.to_vec();
        pdb.extend_from_slice(&4096u32.to_le_bytes()); // page size
        pdb.extend_from_slice(&1u32.to_le_bytes()); // free page map
        pdb.extend_from_slice(&0x4d00_0012u32.to_le_bytes()); // page count
        pdb.resize(711, 0xff);
        let err = fixup_bytes(Path::new("x.pdb"), &pdb, Vec::new()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("x.pdb: MSF header: claims 1291845650 pages of 4096 bytes"),
            "{err}"
        );
        // A header whose pages fit the file goes on to ms-pdb (which refuses these bytes).
        pdb[40..44].copy_from_slice(&1u32.to_le_bytes());
        pdb[44..48].copy_from_slice(&4u32.to_le_bytes()); // stream directory size
        assert!(matches!(
            fixup_bytes(Path::new("x.pdb"), &pdb, Vec::new()),
            Err(Error::Read { .. })
        ));
    }

    /// Found by the `pdb_fixup` fuzz target in CI: page size 1 and a stream directory of
    /// 1.8 GB overflowed ms-pdb's page arithmetic (a panic with overflow checks on).
    #[test]
    fn header_with_a_tiny_page_size_or_a_huge_directory_is_refused_before_opening() {
        let header = |page_size: u32, pages: u32, dir_size: u32| {
            let mut pdb = MSF_MAGIC.to_vec();
            for v in [page_size, 2, pages, dir_size] {
                pdb.extend_from_slice(&v.to_le_bytes());
            }
            pdb.resize(4096, 0xff);
            fixup_bytes(Path::new("x.pdb"), &pdb, Vec::new())
                .unwrap_err()
                .to_string()
        };
        let crash = header(1, 18, 0x6e2f_0074);
        assert_eq!(
            crash,
            "x.pdb: MSF header: page size 1 is not a power of two from 512 to 65536"
        );
        assert!(header(4096, 1, 0x6e2f_0074).starts_with(
            "x.pdb: MSF header: claims a stream directory of 1848574068 bytes, but the file has 4096"
        ));
        assert!(header(3000, 1, 4).contains("page size 3000 is not a power of two"));
    }

    /// A small-MSF (PDB 2.00) header overflowed ms-pdb's page-pointer arithmetic (found by the
    /// pdb_fixup campaign): the format is refused before ms-pdb reads it.
    #[test]
    fn a_small_msf_pdb_is_refused_before_opening() {
        let mut pdb = MSF_SMALL_MAGIC.to_vec();
        pdb.extend_from_slice(&[2, 0, 0, 0, b'M', b'i']);
        pdb.resize(520, 0xff);
        let e = fixup_bytes(Path::new("old.pdb"), &pdb, Vec::new()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "old.pdb: MSF header: a small-MSF (PDB 2.00) file; only MSF 7.00 PDBs, as lld-link \
             and link.exe write them, are read"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// Any bytes: a result or an error with an offset, never a panic.
        #[test]
        fn parsers_survive_corruption(
            which in 0usize..3,
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut data = match which { 0 => module_stream(), 1 => id_stream(), _ => vec![0; 64] };
            for (i, b) in &edits {
                let at = i.index(data.len());
                data[at] = *b;
            }
            data.truncate(cut.index(data.len() + 1));
            let _ = module_records(&data, data.len() as u32).map(|recs| recs.iter().map(|r| r.payload(&data).len()).sum::<usize>());
            if let Ok(ids) = IdStream::parse(data.clone(), None) {
                for i in 0x0ff0..0x1010 { let _ = ids.describe(i); }
            }
            let _ = objects::ObjectDebug::parse(&data);
        }
    }
}
