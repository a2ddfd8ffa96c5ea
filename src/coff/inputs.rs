//! What a build produces, as the `hotpatch` commands read it: COFF objects, static libraries
//! (MSVC `.lib` and GNU `.a` archives, whose members are objects), import libraries, PDBs and
//! directories holding any of them.
//!
//! [`Inputs`] turns the paths a user gives into a flat sequence of [`Input`]s, each named the
//! way `llvm-readobj` and the linkers name archive members: `a.obj`, or `lib.lib(member.obj)`.
//! - An archive yields one item per member that is a COFF object, in archive order. Members
//!   that are not (short import records, LLVM bitcode) are yielded as [`Kind::Skipped`] with
//!   the reason, so callers can count them. Duplicate member names (GNU `ar q` keeps both) are
//!   both yielded; [`Input::occurrence`] tells them apart.
//! - An import library (every member an import member: a short import record, or an object
//!   with `.idata$` import data, as `llvm-lib /def`, `llvm-dlltool` and GNU `dlltool` write
//!   them) yields one [`Kind::ImportLibrary`] item: it has no code to check. mingw-w64's
//!   `libkernel32.a` also holds compiled intrinsics: it is a static library whose import
//!   members are yielded as [`Kind::ImportMember`].
//! - A directory is walked depth-first in byte order of the entry names (deterministic),
//!   keeping `.obj`, `.o`, `.lib` and `.a` files; symbolic links to directories are not
//!   followed.
//! - A PDB (the MSF magic, or a `.pdb` name) yields one [`Kind::Pdb`] item.
//!
//! A file that cannot be read or is none of these is an [`Error`] item naming it; iteration
//! goes on with the next path, so a caller can report every bad file and still process the
//! rest. Nothing here parses object contents beyond the file kind (that is [`super::CoffObject`]).

use object::read::archive::ArchiveFile;
use object::FileKind;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::fsutil::io_message;

/// The first bytes of an MSF (PDB) container.
const MSF_MAGIC: &[u8] = b"Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0";

/// File name extensions a directory walk keeps (compared without case).
const BUILD_EXTENSIONS: [&str; 4] = ["obj", "o", "lib", "a"];

/// What an [`Input`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A COFF object (regular or `/bigobj`), a file of its own or an archive member.
    Object,
    /// An import library: yielded once, for the whole file, with its bytes.
    ImportLibrary,
    /// A member of a static library that only describes a DLL import (a short import record
    /// or an `.idata$` object).
    ImportMember,
    /// A PDB (MSF container), or a file named `.pdb`.
    Pdb,
    /// An archive member that is not a COFF object; the text says what it is.
    Skipped(&'static str),
}

/// One item of a build: a file, or one member of an archive.
#[derive(Debug, Clone)]
pub struct Input {
    /// `dir/a.obj` or `dir/lib.lib(member.obj)`, the path as given or found by the walk.
    pub name: String,
    /// The file on disk (the archive for a member).
    pub path: PathBuf,
    /// The member name as the archive stores it; `None` for a file of its own.
    pub member: Option<String>,
    /// 0 for the first member of this name in its archive, 1 for the second, and so on.
    pub occurrence: usize,
    pub kind: Kind,
    bytes: Arc<[u8]>,
    range: std::ops::Range<usize>,
}

impl Input {
    /// The bytes of the object (the member's bytes for an archive member, the whole file
    /// otherwise).
    pub fn data(&self) -> &[u8] {
        self.bytes.get(self.range.clone()).unwrap_or(&[])
    }
}

/// A path that could not be read as an input; `Display` is `NAME: what went wrong`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The path (or `lib.lib(member)`) the problem is about.
    pub name: String,
    /// What went wrong, one cause.
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.message)
    }
}

impl std::error::Error for Error {}

/// One member of an archive, as [`archive_members`] lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The member name as stored (long GNU and MSVC names resolved).
    pub name: String,
    /// 0 for the first member of this name, 1 for the second, …
    pub occurrence: usize,
    /// The member's bytes within the archive.
    pub range: std::ops::Range<usize>,
    pub kind: Kind,
}

/// Whether `data` is an archive (`!<arch>` or a thin `!<thin>` archive).
pub fn is_archive(data: &[u8]) -> bool {
    data.starts_with(b"!<arch>\n") || data.starts_with(b"!<thin>\n")
}

/// The kind of an archive member's bytes (or of a file's, outside archives).
fn member_kind(data: &[u8]) -> Kind {
    if data.starts_with(b"BC\xc0\xde") || data.starts_with(&[0xde, 0xc0, 0x17, 0x0b]) {
        return Kind::Skipped("LLVM bitcode");
    }
    match FileKind::parse(data) {
        Ok(FileKind::Coff | FileKind::CoffBig) if is_import_object(data) => Kind::ImportMember,
        Ok(FileKind::Coff | FileKind::CoffBig) => Kind::Object,
        Ok(FileKind::CoffImport) => Kind::ImportMember,
        _ => Kind::Skipped("not a COFF object"),
    }
}

/// Whether an object holds only import data: it has an `.idata$` section (import libraries'
/// descriptor and thunk objects from `llvm-lib`, `llvm-dlltool` and GNU `dlltool`).
fn is_import_object(data: &[u8]) -> bool {
    super::CoffObject::parse(data)
        .is_ok_and(|o| o.sections.iter().any(|s| s.name.starts_with(b".idata$")))
}

/// Lists the members of an archive: every member with a name, in archive order, linker
/// symbol tables and the long-name table left out. Thin archives (members stored elsewhere)
/// are refused.
pub fn archive_members(data: &[u8]) -> Result<Vec<Member>, String> {
    let archive = ArchiveFile::parse(data).map_err(|e| format!("not a valid archive: {e}"))?;
    if archive.is_thin() {
        return Err("a thin archive (its members are separate files): give those files".into());
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for m in archive.members() {
        let m = m.map_err(|e| format!("bad archive member: {e}"))?;
        let name = String::from_utf8_lossy(m.name()).into_owned();
        let bytes = m
            .data(data)
            .map_err(|e| format!("archive member {name}: {e}"))?;
        // `data` checked that the range lies inside the archive.
        let start = usize::try_from(m.file_range().0)
            .map_err(|_| format!("archive member {name}: offset too large"))?;
        let occurrence = seen.entry(name.clone()).or_insert(0);
        out.push(Member {
            occurrence: *occurrence,
            name,
            range: start..start + bytes.len(),
            kind: member_kind(bytes),
        });
        *occurrence += 1;
    }
    Ok(out)
}

/// Whether the members make an import library: not empty, and each one an import member.
fn is_import_library(members: &[Member]) -> bool {
    !members.is_empty() && members.iter().all(|m| m.kind == Kind::ImportMember)
}

/// The items of a build, from the paths a user gives; see the module documentation.
pub struct Inputs {
    /// Paths still to visit, with whether they were found by a directory walk.
    pending: VecDeque<(PathBuf, bool)>,
    /// Items of the file being expanded (an archive's members).
    ready: VecDeque<Result<Input, Error>>,
}

impl Inputs {
    /// Iterates over `paths` in order; directories are expanded where they stand.
    pub fn new<P: AsRef<Path>>(paths: impl IntoIterator<Item = P>) -> Inputs {
        Inputs {
            pending: paths
                .into_iter()
                .map(|p| (p.as_ref().to_path_buf(), false))
                .collect(),
            ready: VecDeque::new(),
        }
    }

    /// Expands one path into `self.ready` (or, for a directory, into `self.pending`).
    fn visit(&mut self, path: PathBuf, walked: bool) {
        let name = path.display().to_string();
        let error = |message: String| {
            Err(Error {
                name: name.clone(),
                message,
            })
        };
        if !walked && path.is_dir() {
            match walk(&path) {
                Ok(found) => {
                    for p in found.into_iter().rev() {
                        self.pending.push_front((p, true));
                    }
                }
                Err(e) => self.ready.push_back(Err(e)),
            }
            return;
        }
        let bytes: Arc<[u8]> = match std::fs::read(&path) {
            Ok(b) => b.into(),
            Err(e) => return self.ready.push_back(error(io_message(&e))),
        };
        let whole = 0..bytes.len();
        let item = |kind, member: Option<&Member>| Input {
            name: match member {
                Some(m) => format!("{name}({})", m.name),
                None => name.clone(),
            },
            path: path.clone(),
            member: member.map(|m| m.name.clone()),
            occurrence: member.map_or(0, |m| m.occurrence),
            kind,
            bytes: bytes.clone(),
            range: member.map_or(whole.clone(), |m| m.range.clone()),
        };
        let is_pdb_name = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("pdb"));
        if bytes.starts_with(MSF_MAGIC) || is_pdb_name {
            return self.ready.push_back(Ok(item(Kind::Pdb, None)));
        }
        if !is_archive(&bytes) {
            let result = match member_kind(&bytes) {
                Kind::Object => Ok(item(Kind::Object, None)),
                // A lone short import record is the smallest import library there is.
                Kind::ImportMember => Ok(item(Kind::ImportLibrary, None)),
                _ => error(describe(&bytes)),
            };
            return self.ready.push_back(result);
        }
        let members = match archive_members(&bytes) {
            Ok(m) => m,
            Err(e) => return self.ready.push_back(error(e)),
        };
        if is_import_library(&members) {
            return self.ready.push_back(Ok(item(Kind::ImportLibrary, None)));
        }
        for m in &members {
            self.ready.push_back(Ok(item(m.kind, Some(m))));
        }
    }
}

impl Iterator for Inputs {
    type Item = Result<Input, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some(item);
            }
            let (path, walked) = self.pending.pop_front()?;
            self.visit(path, walked);
        }
    }
}

/// What a file that is not an object, library or PDB is, for the error message.
fn describe(data: &[u8]) -> String {
    let what = if data.starts_with(b"MZ") {
        "a linked image (.exe/.dll), not an object or library"
    } else if data.starts_with(b"\x7fELF") {
        "an ELF file, not a COFF object"
    } else if member_kind(data) == Kind::Skipped("LLVM bitcode") {
        "LLVM bitcode, not a COFF object (built with -flto?)"
    } else {
        "not a COFF object, library or PDB"
    };
    what.to_string()
}

/// The object and library files under `dir`, depth-first, entries in byte order of their names.
fn walk(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    walk_into(dir, &mut out)?;
    Ok(out)
}

fn walk_into(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let cannot_list = |e: std::io::Error| Error {
        name: dir.display().to_string(),
        message: format!("cannot list the directory: {}", io_message(&e)),
    };
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(cannot_list)? {
        entries.push(entry.map_err(cannot_list)?);
    }
    entries.sort_by(|a, b| {
        a.file_name()
            .as_encoded_bytes()
            .cmp(b.file_name().as_encoded_bytes())
    });
    for entry in entries {
        let path = entry.path();
        // file_type() does not follow symbolic links: a linked directory is not entered.
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir {
            walk_into(&path, out)?;
        } else if path.is_file()
            && path
                .extension()
                .is_some_and(|e| BUILD_EXTENSIONS.iter().any(|k| e.eq_ignore_ascii_case(k)))
        {
            out.push(path);
        }
    }
    Ok(())
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Object => f.write_str("object"),
            Kind::ImportLibrary => f.write_str("import library"),
            Kind::ImportMember => f.write_str("import member"),
            Kind::Pdb => f.write_str("PDB"),
            Kind::Skipped(why) => f.write_str(why),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A GNU archive member header: name (`/N` for a long name), size.
    fn header(name: &str, size: usize) -> Vec<u8> {
        format!("{name:<16}{:<12}{:<6}{:<6}{:<8}{size:<10}`\n", 0, 0, 0, 644).into_bytes()
    }

    fn gnu_archive(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut names = Vec::new();
        let mut stored = Vec::new();
        for (n, _) in members {
            if n.len() > 15 {
                stored.push(format!("/{}", names.len()));
                names.extend_from_slice(n.as_bytes());
                names.extend_from_slice(b"/\n");
            } else {
                stored.push(format!("{n}/"));
            }
        }
        let mut out = b"!<arch>\n".to_vec();
        if !names.is_empty() {
            out.extend(header("//", names.len()));
            out.extend(&names);
            if names.len() % 2 == 1 {
                out.push(b'\n');
            }
        }
        for ((_, data), name) in members.iter().zip(stored) {
            out.extend(header(&name, data.len()));
            out.extend_from_slice(data);
            if data.len() % 2 == 1 {
                out.push(b'\n');
            }
        }
        out
    }

    /// A minimal valid x86-64 COFF object: header only, no sections or symbols.
    fn empty_object() -> Vec<u8> {
        let mut o = vec![0u8; 20];
        o[0..2].copy_from_slice(&0x8664u16.to_le_bytes());
        o
    }

    #[test]
    fn long_and_duplicate_member_names() {
        let obj = empty_object();
        let ar = gnu_archive(&[
            ("a_rather_long_member_name.o", &obj),
            ("x.o", &obj),
            ("x.o", b"BC\xc0\xde and more bitcode"),
        ]);
        let m = archive_members(&ar).unwrap();
        let seen: Vec<_> = m
            .iter()
            .map(|m| (m.name.as_str(), m.occurrence, m.kind))
            .collect();
        assert_eq!(
            seen,
            [
                ("a_rather_long_member_name.o", 0, Kind::Object),
                ("x.o", 0, Kind::Object),
                ("x.o", 1, Kind::Skipped("LLVM bitcode")),
            ]
        );
        assert_eq!(&ar[m[1].range.clone()], obj.as_slice());
    }

    #[test]
    fn truncated_archives_are_errors_not_panics() {
        let obj = empty_object();
        let ar = gnu_archive(&[("a_rather_long_member_name.o", &obj), ("x.o", &obj)]);
        for end in 0..ar.len() {
            let _ = archive_members(&ar[..end]);
        }
        assert!(archive_members(&ar[..ar.len() - 3]).is_err());
        assert!(archive_members(b"!<thin>\n").is_err());
    }

    #[test]
    fn bad_files_are_errors_naming_them_and_iteration_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.obj");
        std::fs::write(&junk, b"this is not an object at all").unwrap();
        let good = dir.path().join("good.obj");
        std::fs::write(&good, empty_object()).unwrap();
        let missing = dir.path().join("missing.obj");
        let items: Vec<_> = Inputs::new([&missing, &junk, &good]).collect();
        assert_eq!(items.len(), 3);
        let e0 = items[0].as_ref().unwrap_err();
        assert_eq!(e0.name, missing.display().to_string());
        assert_eq!(e0.message, crate::fsutil::file_not_found_message());
        let e1 = items[1].as_ref().unwrap_err();
        assert_eq!(e1.message, "not a COFF object, library or PDB");
        let ok = items[2].as_ref().unwrap();
        assert_eq!((ok.kind, ok.data().len()), (Kind::Object, 20));
    }

    #[test]
    fn directories_are_walked_sorted_keeping_objects_and_libraries() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("b/sub")).unwrap();
        for f in [
            "z.obj",
            "a.o",
            "b/sub/c.OBJ",
            "b/readme.txt",
            "b/app.pdb",
            "b/x.exe",
        ] {
            std::fs::write(d.join(f), empty_object()).unwrap();
        }
        std::fs::write(d.join("b/lib.a"), gnu_archive(&[("m.o", &empty_object())])).unwrap();
        let names: Vec<_> = Inputs::new([d])
            .map(|i| i.unwrap().name)
            .map(|n| {
                n.strip_prefix(&d.display().to_string())
                    .unwrap()
                    .to_string()
            })
            .collect();
        let want = ["/a.o", "/b/lib.a(m.o)", "/b/sub/c.OBJ", "/z.obj"];
        // Names are joined with the system's separator.
        let want = want.map(|w| w.replace('/', std::path::MAIN_SEPARATOR_STR));
        assert_eq!(names, want);
    }
}
