//! Flag tables and the command-line walker shared by the clang-cl and GNU drivers.
//!
//! A table is a sorted `static` slice of [`Spec`]: a spelling, how its value attaches and a
//! [`Class`] saying what the wrapper must do with the flag (not only what it means). The
//! walker turns raw `OsString`s into [`Arg`]s that keep their original spelling, so every
//! flag the tables do not know is forwarded byte for byte and in order.
//!
//! Not here: response files (`rsp.rs`), the tables themselves (`clang_cl.rs`, `gnu.rs`),
//! any I/O. Modelled on sccache's `ArgInfo` tables (`src/compiler/args.rs`).

use std::ffi::{OsStr, OsString};

/// The two driver families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverKind {
    /// clang-cl: MSVC-style flags.
    ClangCl,
    /// clang, clang++: GNU-style flags.
    Gnu,
}

/// How a flag's value attaches to its spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attach {
    /// No value: the argument must equal the spelling exactly.
    Flag,
    /// The value follows the spelling in the same argument (`/FoX`, `--target=X`, `/MP4`);
    /// the value may be empty.
    Joined,
    /// The value is the next argument (`-Xclang X`).
    Separate,
    /// Either joined (`-Ifoo`) or, when nothing follows the spelling, the next argument.
    JoinedOrSeparate,
    /// The spelling starts an argument that takes every argument after it (`/link …`).
    RemainingArgs,
}

/// What the wrapper does with a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// `-fms-hotpatch-functions-file=` and the clang 21+ spelling: a file of names.
    HotpatchFile,
    /// `-fms-hotpatch-functions-list=` and the clang 21+ spelling: comma-separated names.
    HotpatchList,
    /// `-fms-hotpatch-allow-direct-file=` (ours): a file of globals that keep direct access.
    AllowDirectFile,
    /// `-fms-hotpatch-allow-direct-list=` (ours): comma-separated globals that keep direct
    /// access.
    AllowDirectList,
    /// `/hotpatch`, `-fms-hotpatch`: the patchable prologue secure hot-patching needs. Kept
    /// on every command; the wrapper only checks that it is there.
    HotpatchPrologue,
    /// `/c`, `-c`: compile only, no link.
    CompileOnly,
    /// `-o X`: the output of the job (object, assembly, IR or executable).
    Output,
    /// `/FoX`: object file or directory (ending in a separator).
    ObjectOutput,
    /// `/FeX`: executable file or directory.
    ExeOutput,
    /// `/FA…`: also write an assembly listing.
    AsmListing,
    /// `/FaX`: assembly listing file or directory (implies `/FA`).
    AsmListingOutput,
    /// `-S`: assembly instead of an object.
    EmitAsm,
    /// `-emit-llvm`: LLVM IR instead of an object or assembly.
    EmitLlvm,
    /// `-flto…`: the code generator runs in the linker.
    Lto,
    /// `-fno-lto`: cancels an earlier `-flto`.
    NoLto,
    /// The job produces no object (`-E`, `/P`, `/Zs`, `-fsyntax-only`, `--version`, `-###`…).
    NoObject,
    /// `--target=X`, `-target X`: the target triple.
    Target,
    /// `/MP[N]`: parallel compiles (clang-cl ignores it; the wrapper honours it).
    Parallel,
    /// `/TC`, `/TP`, `-x X`: the language of the inputs; meaningless for the IR step.
    Language,
    /// `/TcX`: one C source file.
    SourceC,
    /// `/TpX`: one C++ source file.
    SourceCxx,
    /// `-MD`, `-MMD`: also write a dependency file (the source step only).
    DepGen,
    /// `-MF X`: the dependency file's path.
    DepFileName,
    /// `-MT X`, `-MQ X`: the target the dependency file names.
    DepTarget,
    /// Other dependency outputs (`-MP`, `-MJ X`, `/sourceDependencies X`): the source step
    /// only.
    DepOther,
    /// `/showIncludes`: the include tree on stdout (the source step prints it).
    ShowIncludes,
    /// `/Z7`, `/Zi`, `/ZI`, `-g…` (not `-g0`, not `-gno-…`): debug information; clang-cl then
    /// links with `-debug`.
    DebugInfo,
    /// `-fuse-ld=X`: the linker the driver runs.
    UseLinker,
    /// `/LD`, `/LDd`: the link makes a DLL.
    DllOutput,
    /// `/Yc[H]`: create a precompiled header (and compile the source).
    PchCreate,
    /// `/clang:X`: X is a GNU-style flag, re-parsed with the GNU table.
    ClangPayload,
    /// `-Xclang X`: X is a front-end flag, re-parsed with the GNU table.
    XclangPayload,
    /// `/link …`: every following argument goes to the linker.
    Link,
    /// `--`: every following argument is an input.
    EndOfOptions,
    /// A known flag the wrapper forwards unchanged (listed so its value is not taken for an
    /// input).
    Keep,
}

impl Class {
    /// The hot-patch flags: hotpatch-cl's to act on, never given to a compiler as written
    /// (the function set is handed to clang 21+ in its own spelling; the allow-direct
    /// names only ever reach the IR rewrite).
    pub fn is_hotpatch(self) -> bool {
        matches!(
            self,
            Class::HotpatchFile
                | Class::HotpatchList
                | Class::AllowDirectFile
                | Class::AllowDirectList
        )
    }
}

/// A compiler run the wrapper makes from the user's command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The user's command as it is, for a job the wrapper does not rewrite (a translation
    /// unit that defines no listed function, a job that makes no object, `/Yc`'s header).
    Plain,
    /// The routing probe: front end only, IR to a temporary, quiet (`route/`).
    Probe,
    /// Step 1 of the pipeline: optimized IR of one source.
    Ir,
    /// Step 3 of the pipeline: code generation from the rewritten IR.
    Codegen,
    /// The link of a compile-and-link job, sources replaced by their objects.
    Link,
}

/// What a step does with a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Passed on as the user wrote it.
    Keep,
    /// Left out.
    Drop,
    /// The step puts something else in its place: a source becomes the step's own input
    /// (`/TcX`, `/TpX`: the source argument; Link: the object), `/YcH` becomes `/YuH` in the
    /// IR step, `/link …` goes last in the link step.
    Replace,
}

impl Class {
    /// What `step` does with a flag of this class, for a command line of `driver`. The one
    /// place that says which flags reach which compiler run.
    pub fn rule(self, step: Step, driver: DriverKind) -> Rule {
        use Class::*;
        use Rule::{Drop, Replace};
        let gnu = driver == DriverKind::Gnu;
        if self.is_hotpatch() {
            // Ours: never given to a compiler as written.
            return Drop;
        }
        // Outputs and modes of the user's job, which the IR and probe steps replace with
        // their own.
        let job_output = matches!(
            self,
            CompileOnly
                | Output
                | ObjectOutput
                | ExeOutput
                | AsmListing
                | AsmListingOutput
                | EmitAsm
                | EmitLlvm
                | Link
                | Parallel
                | EndOfOptions
        );
        let dependency = matches!(self, DepGen | DepFileName | DepTarget | DepOther);
        match step {
            Step::Plain => Rule::Keep,
            Step::Ir | Step::Probe => match self {
                SourceC | SourceCxx => Replace,
                _ if job_output => Drop,
                // The source is given with `-x LANG` again (GNU); `/TC`, `/TP` stay.
                Language if gnu => Drop,
                PchCreate if step == Step::Ir => Replace,
                // The probe writes no dependency file and prints no include tree; its `/Yc`
                // would write the header.
                PchCreate | ShowIncludes if step == Step::Probe => Drop,
                _ if dependency && step == Step::Probe => Drop,
                _ => Rule::Keep,
            },
            Step::Codegen => match self {
                // The listing is of the rewritten code (its path is set explicitly).
                AsmListing => Rule::Keep,
                SourceC | SourceCxx | Language | PchCreate => Drop,
                _ if job_output || dependency => Drop,
                _ => Rule::Keep,
            },
            Step::Link => match self {
                SourceC | SourceCxx | Link => Replace,
                Parallel | Language => Drop,
                _ if dependency => Drop,
                // clang-cl's inputs are put before `/link` without `--`.
                EndOfOptions if !gnu => Drop,
                _ => Rule::Keep,
            },
        }
    }
}

/// One entry of a flag table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub name: &'static str,
    pub attach: Attach,
    pub class: Class,
}

/// Shorthand for table entries.
pub const fn spec(name: &'static str, attach: Attach, class: Class) -> Spec {
    Spec {
        name,
        attach,
        class,
    }
}

/// Whether `table` is sorted by name without duplicates (the lookup relies on it).
pub fn is_sorted_unique(table: &[Spec]) -> bool {
    table.windows(2).all(|w| w[0].name < w[1].name)
}

/// Finds the entry for `arg`: an exact match of a `Flag`/`Separate` spelling, or the
/// longest `Joined`/`JoinedOrSeparate`/`RemainingArgs` spelling that prefixes `arg`.
pub fn lookup<'t>(table: &'t [Spec], arg: &str) -> Option<&'t Spec> {
    debug_assert!(
        is_sorted_unique(table),
        "flag table must be sorted and unique"
    );
    if let Ok(i) = table.binary_search_by(|s| s.name.cmp(arg)) {
        return table.get(i);
    }
    // Every prefix of `arg` that is a Joined spelling sorts before `arg`: walk the
    // candidates from the longest prefix down.
    let mut best: Option<&Spec> = None;
    for (len, _) in arg.char_indices().skip(1) {
        let prefix = &arg[..len];
        if let Ok(i) = table.binary_search_by(|s| s.name.cmp(prefix)) {
            if let Some(s) = table.get(i) {
                if s.attach != Attach::Flag && s.attach != Attach::Separate {
                    best = Some(s);
                }
            }
        }
    }
    best
}

/// One parsed argument: the raw strings it came from and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    /// The original arguments (one, or two for a separated value; `/link` owns the rest).
    pub raw: Vec<OsString>,
    pub kind: Kind,
}

/// What one parsed argument is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A flag of the table, with its value (empty for `Flag`).
    Known {
        class: Class,
        /// The value as given (bytes kept as `OsString`).
        value: OsString,
        /// For `/clang:` and `-Xclang`: the payload's own classification.
        inner: Option<Box<Kind>>,
    },
    /// A flag the table does not know: forwarded verbatim.
    Unknown,
    /// A file operand.
    Input,
}

impl Arg {
    /// The class of a known flag as the table lists it: for `/clang:` and `-Xclang`, the class
    /// of that wrapper flag itself ([`Arg::effective`] gives the payload's).
    pub fn class(&self) -> Option<Class> {
        match &self.kind {
            Kind::Known { class, .. } => Some(*class),
            _ => None,
        }
    }

    /// The class that matters for behaviour: a payload's own class when it has one.
    pub fn effective(&self) -> Option<(Class, &OsStr)> {
        match &self.kind {
            Kind::Known {
                inner: Some(inner), ..
            } => match inner.as_ref() {
                Kind::Known { class, value, .. } => Some((*class, value.as_os_str())),
                _ => None,
            },
            Kind::Known { class, value, .. } => Some((*class, value.as_os_str())),
            _ => None,
        }
    }
}

impl Arg {
    /// The class as the compiler driver reads it: like [`Arg::effective`] for `/clang:`
    /// payloads, but `None` for an `-Xclang` payload (a front-end flag the driver never
    /// interprets: `-Xclang -MF` writes no dependency file of the driver's).
    pub fn driver_effective(&self) -> Option<(Class, &OsStr)> {
        if self.class() == Some(Class::XclangPayload) {
            return None;
        }
        self.effective()
    }

    /// What `step` does with this argument: inputs are each step's own business
    /// ([`Rule::Replace`]), unknown flags are kept, known ones follow their class's
    /// [`Class::rule`] (a payload's own class when it has one).
    pub fn rule(&self, step: Step, driver: DriverKind) -> Rule {
        match &self.kind {
            Kind::Input => Rule::Replace,
            Kind::Unknown => Rule::Keep,
            Kind::Known { class, .. } => self
                .effective()
                .map_or(*class, |(c, _)| c)
                .rule(step, driver),
        }
    }
}

/// Splits `args` with `table`. `is_flag` says whether an argument that no entry matches is
/// a flag (forwarded as unknown) or an input. A `Separate` flag at the end of the line
/// keeps an empty value (the compiler reports it).
pub fn walk(
    table: &[Spec],
    args: &[OsString],
    is_flag: &dyn Fn(&str) -> bool,
    reparse: &dyn Fn(Class, &OsStr) -> Option<Kind>,
) -> Vec<Arg> {
    let mut out = Vec::with_capacity(args.len());
    let mut i = 0;
    let mut only_inputs = false;
    while let Some(raw) = args.get(i) {
        i += 1;
        let entry = if only_inputs {
            Err(Kind::Input)
        } else {
            table_entry(table, raw, is_flag)
        };
        let (spec, joined) = match entry {
            Ok(found) => found,
            Err(kind) => {
                out.push(Arg {
                    raw: vec![raw.clone()],
                    kind,
                });
                continue;
            }
        };
        let mut raws = vec![raw.clone()];
        let value = flag_value(spec.attach, joined, args, &mut i, &mut raws);
        if spec.class == Class::EndOfOptions {
            only_inputs = true;
        }
        let inner = match spec.class {
            Class::ClangPayload | Class::XclangPayload => reparse(spec.class, &value).map(Box::new),
            _ => None,
        };
        out.push(Arg {
            raw: raws,
            kind: Kind::Known {
                class: spec.class,
                value,
                inner,
            },
        });
    }
    out
}

/// The entry of `table` that spells `raw`, with the value joined to it; `Err` with the
/// argument's kind when there is none: an input, or a flag the table does not know.
fn table_entry<'t, 'a>(
    table: &'t [Spec],
    raw: &'a OsStr,
    is_flag: &dyn Fn(&str) -> bool,
) -> Result<(&'t Spec, &'a str), Kind> {
    // Non-UTF-8 arguments cannot match a flag spelling: they are inputs or unknown
    // flags, kept as bytes.
    let Some(text) = raw.to_str() else {
        return Err(if looks_like_flag_bytes(raw) {
            Kind::Unknown
        } else {
            Kind::Input
        });
    };
    if !is_flag(text) {
        return Err(Kind::Input);
    }
    let spec = lookup(table, text).ok_or(Kind::Unknown)?;
    Ok((spec, &text[spec.name.len()..]))
}

/// A known flag's value, as `attach` says: `joined` to its spelling, or taken from the
/// arguments after it (from `i` on, which moves past them; they join `raws`).
fn flag_value(
    attach: Attach,
    joined: &str,
    args: &[OsString],
    i: &mut usize,
    raws: &mut Vec<OsString>,
) -> OsString {
    let joined = OsString::from(joined);
    match attach {
        Attach::Flag => OsString::new(),
        Attach::Joined => joined,
        Attach::Separate => take_next(args, i, raws),
        Attach::JoinedOrSeparate => {
            if joined.is_empty() {
                take_next(args, i, raws)
            } else {
                joined
            }
        }
        Attach::RemainingArgs => {
            raws.extend(args.iter().skip(*i).cloned());
            *i = args.len();
            joined
        }
    }
}

fn take_next(args: &[OsString], i: &mut usize, raws: &mut Vec<OsString>) -> OsString {
    match args.get(*i) {
        Some(v) => {
            *i += 1;
            raws.push(v.clone());
            v.clone()
        }
        None => OsString::new(),
    }
}

fn looks_like_flag_bytes(raw: &OsStr) -> bool {
    raw.as_encoded_bytes().first() == Some(&b'-')
}

/// The arguments with every hot-patch flag (function set and allow-direct names) removed,
/// also inside `/clang:` and `-Xclang`: the [`Step::Plain`] command line.
pub fn without_hotpatch_flags(kind: DriverKind, args: &[Arg]) -> Vec<OsString> {
    args.iter()
        .filter(|a| a.rule(Step::Plain, kind) != Rule::Drop)
        .flat_map(|a| a.raw.iter().cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &[Spec] = &[
        spec("-I", Attach::JoinedOrSeparate, Class::Keep),
        spec("-Xclang", Attach::Separate, Class::XclangPayload),
        spec("-c", Attach::Flag, Class::CompileOnly),
        spec(
            "-fms-hotpatch-functions-list=",
            Attach::Joined,
            Class::HotpatchList,
        ),
        spec("-o", Attach::JoinedOrSeparate, Class::Output),
    ];

    use crate::driver::os;

    #[test]
    fn lookup_prefers_exact_then_longest_joined_prefix() {
        assert_eq!(lookup(T, "-c").unwrap().class, Class::CompileOnly);
        assert!(
            lookup(T, "-cc").is_none(),
            "Flag entries never match a prefix"
        );
        assert_eq!(lookup(T, "-Idir").unwrap().class, Class::Keep);
        assert_eq!(
            lookup(T, "-fms-hotpatch-functions-list=a,b").unwrap().class,
            Class::HotpatchList
        );
        assert!(
            lookup(T, "-Xclangx").is_none(),
            "Separate entries never match a prefix"
        );
        assert!(lookup(T, "-").is_none());
        assert!(lookup(T, "").is_none());
    }

    #[test]
    fn walk_keeps_raw_spelling_and_takes_separate_values() {
        let args = os(&["-I", "inc", "-ofoo.o", "a.c", "-Xclang", "-c", "-q", "-o"]);
        let got = walk(T, &args, &|s| s.starts_with('-'), &|_, _| None);
        assert_eq!(got.len(), 6);
        assert_eq!(got[0].raw, os(&["-I", "inc"]));
        assert_eq!(
            got[1].effective().unwrap(),
            (Class::Output, OsStr::new("foo.o"))
        );
        assert_eq!(got[2].kind, Kind::Input);
        assert_eq!(got[3].raw, os(&["-Xclang", "-c"]));
        assert_eq!(got[4].kind, Kind::Unknown);
        assert_eq!(got[5].effective().unwrap(), (Class::Output, OsStr::new("")));
    }

    #[test]
    fn sortedness_check_catches_disorder_and_duplicates() {
        assert!(is_sorted_unique(T));
        let bad = [T[1], T[0]];
        assert!(!is_sorted_unique(&bad));
        let dup = [T[0], T[0]];
        assert!(!is_sorted_unique(&dup));
    }
}
