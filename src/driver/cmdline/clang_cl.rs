//! The clang-cl driver's flags, accepted with both the `-` and the `/` prefix.
//!
//! One list of spellings without prefix ([`CL_FLAGS`]) yields both the `/X` and the `-X`
//! entries; [`DASH_ONLY`] holds the GNU-style flags clang-cl also accepts (`--target=`,
//! `-Xclang`…). `/clang:X` and `-Xclang X` payloads are classified again with the GNU table
//! (`gnu.rs`), and a `/clang:-MF` whose value sits in the next `/clang:` argument is joined
//! with it. Not here: response files, I/O, deciding what to do (`classify.rs`).
//! Spellings checked against clang 19 and 22 (`clang-cl-19 /?`, `Options.td`).

use super::args::{lookup, spec, walk, Arg, Attach, Attach::*, Class, Class::*, Kind, Spec};
use super::gnu;
use std::ffi::OsString;
use std::sync::OnceLock;

/// Flags accepted as `/X` and `-X`, sorted (a unit test checks it).
pub static CL_FLAGS: &[Spec] = &[
    spec("?", Flag, NoObject),
    spec("D", JoinedOrSeparate, Keep),
    spec("E", Flag, NoObject),
    spec("EP", Flag, NoObject),
    spec("FA", Joined, AsmListing),
    spec("FI", JoinedOrSeparate, Keep),
    spec("Fa", Joined, AsmListingOutput),
    spec("Fd", Joined, Keep),
    spec("Fe", Joined, ExeOutput),
    spec("Fe:", JoinedOrSeparate, ExeOutput),
    spec("Fi", Joined, Keep),
    spec("Fo", Joined, ObjectOutput),
    spec("Fo:", JoinedOrSeparate, ObjectOutput),
    spec("Fp", Joined, Keep),
    spec("I", JoinedOrSeparate, Keep),
    spec("LD", Flag, DllOutput),
    spec("LDd", Flag, DllOutput),
    spec("MP", Joined, Parallel),
    spec("P", Flag, NoObject),
    spec("TC", Flag, Language),
    spec("TP", Flag, Language),
    spec("Tc", JoinedOrSeparate, SourceC),
    spec("Tp", JoinedOrSeparate, SourceCxx),
    spec("U", JoinedOrSeparate, Keep),
    spec("Xclang", Separate, XclangPayload),
    spec("Yc", Joined, PchCreate),
    spec("Z7", Flag, DebugInfo),
    spec("ZI", Flag, DebugInfo),
    spec("Zi", Flag, DebugInfo),
    spec("Zs", Flag, NoObject),
    spec("c", Flag, CompileOnly),
    spec("clang:", Joined, ClangPayload),
    spec("external:I", JoinedOrSeparate, Keep),
    spec("fms-hotpatch", Flag, HotpatchPrologue),
    spec("fms-hotpatch-allow-direct-file=", Joined, AllowDirectFile),
    spec("fms-hotpatch-allow-direct-list=", Joined, AllowDirectList),
    spec("fms-hotpatch-functions-file=", Joined, HotpatchFile),
    spec("fms-hotpatch-functions-list=", Joined, HotpatchList),
    spec("fms-secure-hotpatch-functions-file=", Joined, HotpatchFile),
    spec("fms-secure-hotpatch-functions-list=", Joined, HotpatchList),
    spec("help", Flag, NoObject),
    spec("hotpatch", Flag, HotpatchPrologue),
    spec("imsvc", JoinedOrSeparate, Keep),
    spec("link", RemainingArgs, Link),
    spec("o", JoinedOrSeparate, Output),
    spec("openmp", Flag, Keep),
    spec("openmp-", Flag, Keep),
    spec("openmp:experimental", Flag, Keep),
    spec("showIncludes", Flag, ShowIncludes),
    spec("sourceDependencies", JoinedOrSeparate, DepOther),
    spec("vctoolsdir", JoinedOrSeparate, Keep),
    spec("winsdkdir", JoinedOrSeparate, Keep),
    spec("winsysroot", JoinedOrSeparate, Keep),
];

/// GNU-style flags clang-cl accepts only with `-`, sorted.
pub static DASH_ONLY: &[Spec] = &[
    spec("-###", Flag, NoObject),
    spec("--", Flag, EndOfOptions),
    spec("--target=", Joined, Target),
    spec("--version", Flag, NoObject),
    spec("-flto", Flag, Lto),
    spec("-flto=", Joined, Lto),
    spec("-fno-lto", Flag, NoLto),
    spec("-fsyntax-only", Flag, NoObject),
    spec("-fuse-ld=", Joined, UseLinker),
    spec("-g", Joined, DebugInfo),
    spec("-g0", Flag, Keep),
    spec("-gno-", Joined, Keep),
    spec("-mllvm", Separate, Keep),
    spec("-target", Separate, Target),
];

/// The full lookup table: both prefixes of [`CL_FLAGS`] plus [`DASH_ONLY`], sorted.
pub fn table() -> &'static [Spec] {
    static TABLE: OnceLock<Vec<Spec>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t: Vec<Spec> = DASH_ONLY.to_vec();
        for s in CL_FLAGS {
            for prefix in ["-", "/"] {
                let name: &'static str = Box::leak(format!("{prefix}{}", s.name).into_boxed_str());
                t.push(Spec { name, ..*s });
            }
        }
        t.sort_by(|a, b| a.name.cmp(b.name));
        t.dedup_by(|a, b| a.name == b.name);
        t
    })
}

/// Whether a clang-cl argument is a flag. Like clang-cl, an absolute Unix path outside
/// `--` is read as a flag: build systems put such files after `--`.
pub fn is_flag(arg: &str) -> bool {
    arg.len() > 1 && (arg.starts_with('-') || arg.starts_with('/'))
}

/// Splits a clang-cl command line.
pub fn parse(args: &[OsString]) -> Vec<Arg> {
    let parsed = walk(table(), args, &is_flag, &|_, payload| {
        let text = payload.to_str()?;
        if !gnu::is_flag(text) {
            return None;
        }
        lookup(gnu::TABLE, text).map(|s| Kind::Known {
            class: s.class,
            value: OsString::from(&text[s.name.len()..]),
            inner: None,
        })
    });
    join_split_payloads(parsed)
}

/// `/clang:-MF /clang:dep.d`: the value of a separated GNU flag is the next payload.
fn join_split_payloads(parsed: Vec<Arg>) -> Vec<Arg> {
    let mut out: Vec<Arg> = Vec::with_capacity(parsed.len());
    let mut pending = false;
    for arg in parsed {
        if pending {
            pending = false;
            if let (
                Some(prev),
                Kind::Known {
                    class: ClangPayload,
                    value: next_value,
                    ..
                },
            ) = (out.last_mut(), &arg.kind)
            {
                if let Kind::Known {
                    inner: Some(inner), ..
                } = &mut prev.kind
                {
                    if let Kind::Known { value, .. } = inner.as_mut() {
                        *value = next_value.clone();
                        prev.raw.extend(arg.raw);
                        continue;
                    }
                }
            }
        }
        if let Kind::Known {
            class: ClangPayload,
            value,
            inner: Some(inner),
        } = &arg.kind
        {
            if let (Kind::Known { value: v, .. }, Some(text)) = (inner.as_ref(), value.to_str()) {
                let attach = lookup(gnu::TABLE, text).map(|s| s.attach);
                pending = v.is_empty()
                    && matches!(attach, Some(Attach::Separate | Attach::JoinedOrSeparate));
            }
        }
        out.push(arg);
    }
    out
}

/// The class of a spelling in the full table (for tests and diagnostics).
pub fn class_of(arg: &str) -> Option<Class> {
    lookup(table(), arg).map(|s| s.class)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::cmdline::args::is_sorted_unique;

    #[test]
    fn tables_are_sorted_without_duplicates() {
        assert!(is_sorted_unique(CL_FLAGS));
        assert!(is_sorted_unique(DASH_ONLY));
        assert!(is_sorted_unique(table()));
        assert_eq!(table().len(), DASH_ONLY.len() + 2 * CL_FLAGS.len());
    }

    #[test]
    fn both_prefixes_and_case_matter() {
        assert_eq!(class_of("/Foout/"), Some(ObjectOutput));
        assert_eq!(class_of("-Foout/"), Some(ObjectOutput));
        assert_eq!(class_of("/FAcs"), Some(AsmListing));
        assert_eq!(class_of("/Fax.asm"), Some(AsmListingOutput));
        assert_eq!(class_of("/MP"), Some(Parallel));
        assert_eq!(class_of("/MD"), None);
        assert_eq!(class_of("/openmp"), Some(Keep), "not -o penmp");
    }

    #[test]
    fn what_the_pipeline_and_link_need_has_its_own_class() {
        assert_eq!(class_of("/Tcx.txt"), Some(SourceC));
        assert_eq!(class_of("-Tpx.txt"), Some(SourceCxx));
        assert_eq!(class_of("/LD"), Some(DllOutput));
        assert_eq!(class_of("-LDd"), Some(DllOutput));
        assert_eq!(class_of("/Zi"), Some(DebugInfo));
        assert_eq!(class_of("-gline-tables-only"), Some(DebugInfo));
        assert_eq!(class_of("-g0"), Some(Keep));
        assert_eq!(class_of("-gno-codeview-command-line"), Some(Keep));
        assert_eq!(class_of("-fuse-ld=lld-link"), Some(UseLinker));
        let payload = parse(&["/clang:-MQ".into(), "/clang:t".into()]);
        assert_eq!(
            payload[0].effective(),
            Some((DepTarget, std::ffi::OsStr::new("t")))
        );
    }

    #[test]
    fn each_step_keeps_what_it_needs() {
        use crate::driver::cmdline::args::DriverKind::{ClangCl, Gnu};
        use crate::driver::cmdline::args::{Rule, Step};
        // Ours never reach a compiler; the plain run keeps everything else.
        for step in [
            Step::Plain,
            Step::Probe,
            Step::Ir,
            Step::Codegen,
            Step::Link,
        ] {
            assert_eq!(HotpatchList.rule(step, ClangCl), Rule::Drop);
        }
        for (class, step, driver, rule) in [
            (ObjectOutput, Step::Plain, ClangCl, Rule::Keep),
            (ObjectOutput, Step::Ir, ClangCl, Rule::Drop),
            // The dependency file is the source step's: kept there, not in the probe.
            (DepGen, Step::Ir, Gnu, Rule::Keep),
            (DepGen, Step::Probe, Gnu, Rule::Drop),
            (DepGen, Step::Codegen, Gnu, Rule::Drop),
            (ShowIncludes, Step::Probe, ClangCl, Rule::Drop),
            (AsmListing, Step::Codegen, ClangCl, Rule::Keep),
            (PchCreate, Step::Ir, ClangCl, Rule::Replace),
            (Language, Step::Ir, ClangCl, Rule::Keep),
            (Language, Step::Ir, Gnu, Rule::Drop),
            (EndOfOptions, Step::Link, Gnu, Rule::Keep),
            (EndOfOptions, Step::Link, ClangCl, Rule::Drop),
            (Link, Step::Link, ClangCl, Rule::Replace),
        ] {
            assert_eq!(
                class.rule(step, driver),
                rule,
                "{class:?} in {step:?} for {driver:?}"
            );
        }
    }
}
