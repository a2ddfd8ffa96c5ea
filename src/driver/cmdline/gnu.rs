//! The GNU-style clang driver's flags (`clang`, `clang++`, and payloads of `/clang:` and
//! `-Xclang` in clang-cl).
//!
//! Only flags the wrapper acts on, or whose separated value must not be taken for an input,
//! are listed; every other flag is forwarded unchanged. Not here: the walk itself
//! (`args.rs`), clang-cl spellings (`clang_cl.rs`). Spellings checked against clang 19 and
//! 22's `Options.td`.

use super::args::{spec, walk, Arg, Attach::*, Class::*, Spec};
use std::ffi::OsString;

/// Sorted by byte order (a unit test checks it).
pub static TABLE: &[Spec] = &[
    spec("-###", Flag, NoObject),
    spec("--", Flag, EndOfOptions),
    spec("--help", Flag, NoObject),
    spec("--sysroot", Separate, Keep),
    spec("--sysroot=", Joined, Keep),
    spec("--target=", Joined, Target),
    spec("--version", Flag, NoObject),
    spec("-D", JoinedOrSeparate, Keep),
    spec("-E", Flag, NoObject),
    spec("-I", JoinedOrSeparate, Keep),
    spec("-L", JoinedOrSeparate, Keep),
    spec("-M", Flag, NoObject),
    spec("-MD", Flag, DepGen),
    spec("-MF", JoinedOrSeparate, DepFileName),
    spec("-MJ", JoinedOrSeparate, DepOther),
    spec("-MM", Flag, NoObject),
    spec("-MMD", Flag, DepGen),
    spec("-MP", Flag, DepOther),
    spec("-MQ", JoinedOrSeparate, DepTarget),
    spec("-MT", JoinedOrSeparate, DepTarget),
    spec("-S", Flag, EmitAsm),
    spec("-T", JoinedOrSeparate, Keep),
    spec("-U", JoinedOrSeparate, Keep),
    spec("-Xassembler", Separate, Keep),
    spec("-Xclang", Separate, XclangPayload),
    spec("-Xlinker", Separate, Keep),
    spec("-Xpreprocessor", Separate, Keep),
    spec("-arch", Separate, Keep),
    spec("-c", Flag, CompileOnly),
    spec("-dumpmachine", Flag, NoObject),
    spec("-dumpversion", Flag, NoObject),
    spec("-emit-llvm", Flag, EmitLlvm),
    spec("-flto", Flag, Lto),
    spec("-flto=", Joined, Lto),
    spec("-fms-hotpatch", Flag, HotpatchPrologue),
    spec("-fms-hotpatch-allow-direct-file=", Joined, AllowDirectFile),
    spec("-fms-hotpatch-allow-direct-list=", Joined, AllowDirectList),
    spec("-fms-hotpatch-functions-file=", Joined, HotpatchFile),
    spec("-fms-hotpatch-functions-list=", Joined, HotpatchList),
    spec("-fms-secure-hotpatch-functions-file=", Joined, HotpatchFile),
    spec("-fms-secure-hotpatch-functions-list=", Joined, HotpatchList),
    spec("-fno-lto", Flag, NoLto),
    spec("-fsyntax-only", Flag, NoObject),
    spec("-fuse-ld=", Joined, UseLinker),
    spec("-g", Joined, DebugInfo),
    spec("-g0", Flag, Keep),
    spec("-gno-", Joined, Keep),
    spec("-help", Flag, NoObject),
    spec("-idirafter", JoinedOrSeparate, Keep),
    spec("-imacros", JoinedOrSeparate, Keep),
    spec("-include", JoinedOrSeparate, Keep),
    spec("-include-pch", Separate, Keep),
    spec("-iprefix", JoinedOrSeparate, Keep),
    spec("-iquote", JoinedOrSeparate, Keep),
    spec("-isysroot", JoinedOrSeparate, Keep),
    spec("-isystem", JoinedOrSeparate, Keep),
    spec("-iwithprefix", JoinedOrSeparate, Keep),
    spec("-l", JoinedOrSeparate, Keep),
    spec("-mllvm", Separate, Keep),
    spec("-o", JoinedOrSeparate, Output),
    spec("-print-", Joined, NoObject),
    spec("-target", Separate, Target),
    spec("-u", JoinedOrSeparate, Keep),
    spec("-x", JoinedOrSeparate, Language),
    spec("-z", Separate, Keep),
];

/// Whether a GNU-driver argument is a flag (`-` alone is the standard input, a file).
pub fn is_flag(arg: &str) -> bool {
    arg.len() > 1 && arg.starts_with('-')
}

/// Splits a GNU-style command line. `-Xclang` payloads are classified with this table.
pub fn parse(args: &[OsString]) -> Vec<Arg> {
    walk(TABLE, args, &is_flag, &|_, payload| {
        let text = payload.to_str()?;
        super::args::lookup(TABLE, text).map(|s| super::args::Kind::Known {
            class: s.class,
            value: OsString::from(&text[s.name.len()..]),
            inner: None,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::cmdline::args::is_sorted_unique;

    #[test]
    fn table_is_sorted_without_duplicates() {
        assert!(
            is_sorted_unique(TABLE),
            "{:?}",
            TABLE.windows(2).find(|w| w[0].name >= w[1].name)
        );
    }

    #[test]
    #[should_panic(expected = "sorted")]
    #[cfg(debug_assertions)]
    fn lookup_on_an_unsorted_table_panics_in_debug_builds() {
        let bad = [TABLE[1], TABLE[0]];
        let _ = super::super::args::lookup(&bad, "-c");
    }
}
