//! What [`compare`](super::compare) takes and gives: the objects of a build ([`Input`]), why a
//! comparison cannot be made ([`Error`]), and its [`Report`]: the functions a patch must carry
//! and why ([`Listed`], [`Reason`]), the changes it cannot carry ([`Refusal`]). Nothing here
//! reads an object.

/// One object of a build: its name (how the two builds pair up) and its bytes.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// Relative path, or `lib.lib(member.obj)` for an archive member.
    pub name: &'a str,
    pub data: &'a [u8],
}

/// Which of the two builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Base,
    Patched,
}

/// Why the two builds cannot be compared.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An object that the COFF layer refused.
    #[error("{object}: {source}")]
    Coff {
        side: Side,
        object: String,
        #[source]
        source: crate::coff::Error,
    },
    /// Two functions share a code section: the object was built without function-level sections.
    #[error(
        "{object}: functions {first} and {second} share section {section}: compile with /Gy \
         (clang-cl) or -ffunction-sections (clang) so that every function has its own section"
    )]
    SharedSection {
        side: Side,
        object: String,
        section: String,
        first: String,
        second: String,
    },
    /// The two builds of one object are for different machines.
    #[error("{object}: the base build is {base} but the patched build is {patched}")]
    Machine {
        object: String,
        base: &'static str,
        patched: &'static str,
    },
}

impl Error {
    /// The build the error is about (the patched one for a machine mismatch).
    pub fn side(&self) -> Side {
        match self {
            Error::Coff { side, .. } | Error::SharedSection { side, .. } => *side,
            Error::Machine { .. } => Side::Patched,
        }
    }
}

/// Why a function is on the list.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    /// Its code bytes differ (outside relocated fields).
    Bytes,
    /// Its relocations differ (type, offset or target).
    Relocations,
    /// It reads a read-only global whose content changed (the global's IR name).
    UsesChangedConstant(Vec<u8>),
    /// It exists only in the patched build and listed code calls it (the caller's IR name).
    New { called_by: Vec<u8> },
}

/// A function the patch must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The name `-fms-hotpatch-functions-file` takes (the IR name).
    pub name: Vec<u8>,
    /// The patched object that defines it.
    pub object: String,
    pub reasons: Vec<Reason>,
}

/// Why a change cannot be hot-patched.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum RefusalKind {
    /// A writable global's initial bytes changed.
    WritableValue,
    /// A writable global's size changed.
    WritableSize { base: u32, patched: u32 },
    /// A global moved between writable, read-only and thread-local data.
    Kind {
        base: &'static str,
        patched: &'static str,
    },
    /// A thread-local's initial value or size changed.
    ThreadLocal,
    /// The base build defines it, the patched build does not, and patched code names it.
    Dropped { used_by: Vec<u8> },
}

/// A change a hot-patch cannot carry, and the global it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The global's IR name.
    pub global: Vec<u8>,
    /// The object that defines it (in the base build for a dropped global).
    pub object: String,
    pub kind: RefusalKind,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let g = String::from_utf8_lossy(&self.global);
        write!(f, "{}: global {}: ", self.object, g.escape_debug())?;
        match &self.kind {
            RefusalKind::WritableValue => write!(
                f,
                "writable global whose initial value changed (the running image keeps its value)"
            ),
            RefusalKind::WritableSize { base, patched } => write!(
                f,
                "writable global whose size changed from {base} to {patched} bytes"
            ),
            RefusalKind::Kind { base, patched } => {
                write!(f, "changed from {base} to {patched} data")
            }
            RefusalKind::ThreadLocal => {
                write!(f, "thread-local whose initial value or size changed")
            }
            RefusalKind::Dropped { used_by } => write!(
                f,
                "dropped by the patched build but still used by {}",
                String::from_utf8_lossy(used_by).escape_debug()
            ),
        }
    }
}

/// What [`compare`](super::compare) found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Functions the patch must carry, sorted by name.
    pub functions: Vec<Listed>,
    /// Changes the patch cannot carry; the list is not usable when there is any.
    pub refusals: Vec<Refusal>,
    /// Objects read in each build.
    pub objects: (usize, usize),
}
