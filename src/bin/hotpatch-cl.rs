//! `hotpatch-cl`: a drop-in clang-cl / clang wrapper that adds Windows Secure Hot-Patching.
//!
//! `hotpatch-cl COMPILER ARGS...` (the ccache/sccache convention), or installed as a link or
//! copy named `clang-cl`, `clang` or `clang++` (with or without `.exe`): then the real
//! compiler is `$HOTPATCH_COMPILER` or the next program of that name on `PATH` that is not
//! this executable. `hotpatch-cl lld-link ARGS...` (any lld-link name), or a link named
//! `lld-link`, is link mode (`driver::exec::link`): the real linker is `$HOTPATCH_LINKER` or the next
//! `lld-link` on `PATH`. `hotpatch-cl ccache|sccache|distcc COMPILER ARGS...` puts that tool in
//! front of the compiler runs, as `HOTPATCH_LAUNCHER` does (`driver::exec::launcher`).
//! `hotpatch-cl zig clang|cc|c++ ARGS...`: zig's compiler, its subcommand kept in front of
//! every run (GNU mode, or cl mode for `zig clang --driver-mode=cl`); all three hot-patch. The
//! compiler's arguments are never parsed by clap: they stay raw `OsString`s. All the work is
//! in `hotpatch_cl::driver`.

use hotpatch_cl::diag;
use hotpatch_cl::driver;
use hotpatch_cl::driver::cmdline::args::DriverKind;
use hotpatch_cl::driver::exec::env::{verbose_requested, Env, Mode, VERBOSE_ENV};
use hotpatch_cl::driver::exec::launcher::{self, Launcher, Tool};
use hotpatch_cl::driver::exec::{link, process, toolchain};
use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::ExitCode;

const USAGE: &str = "usage: hotpatch-cl [ccache|sccache|distcc] COMPILER [ARGS...]\n\
  COMPILER: clang-cl, clang, clang++ (a name on PATH or a path)\n\
  or: hotpatch-cl lld-link [ARGS...]: link, then restore S_HOTPATCHFUNC in the PDB\n\
  hot-patch flags: -fms-hotpatch-functions-file=F, -fms-hotpatch-functions-list=A,B\n\
  (and the clang 21+ spellings -fms-secure-hotpatch-functions-file=/-list=);\n\
  globals that keep direct access: -fms-hotpatch-allow-direct-file=F, -fms-hotpatch-allow-direct-list=A,B\n\
  environment: HOTPATCH_MODE=auto|rewrite|native, HOTPATCH_VERBOSE=1, HOTPATCH_WERROR=1,\n\
  HOTPATCH_COMPILER (the real compiler when installed under a compiler's name),\n\
  HOTPATCH_LAUNCHER (a cache or compile farm in front of the compiler: ccache, sccache, distcc),\n\
  HOTPATCH_LINKER (the real lld-link when installed as lld-link)";

fn main() -> ExitCode {
    let mut argv = std::env::args_os();
    let argv0 = argv.next().unwrap_or_default();
    let rest: Vec<OsString> = argv.collect();
    match real_main(&argv0, rest) {
        Ok(code) => match u8::try_from(code) {
            Ok(c) => ExitCode::from(c),
            // Windows exit codes have 32 bits (a crash's 0xC0000005, Ctrl-C's 0xC000013A):
            // relay the compiler's whole. Everything of ours is dropped by now.
            Err(_) if cfg!(windows) => std::process::exit(code),
            Err(_) => ExitCode::from(1),
        },
        Err(e) => {
            eprintln!("hotpatch-cl: error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn real_main(argv0: &OsString, rest: Vec<OsString>) -> anyhow::Result<i32> {
    let me = toolchain::current_exe();
    let stem = toolchain::stem(argv0).to_ascii_lowercase();
    let path = std::env::var_os("PATH");
    let verbose = verbose_requested(std::env::var_os(VERBOSE_ENV).as_deref());
    // The compiler probes and link mode run before `driver::run`: verbose from the start.
    process::set_verbose(verbose);
    // Link mode: `hotpatch-cl lld-link… ARGS`, or installed under the name `lld-link`.
    let link_masquerade = link::is_lld_link(argv0.as_os_str());
    if link_masquerade || rest.first().is_some_and(|a| link::is_lld_link(a)) {
        let (name, args) = if link_masquerade {
            (OsString::from(&stem), rest)
        } else {
            let mut it = rest.into_iter();
            (it.next().unwrap_or_default(), it.collect())
        };
        let linker = link::resolve(
            &name,
            link_masquerade,
            std::env::var_os("HOTPATCH_LINKER"),
            std::env::var_os("HOTPATCH_COMPILER"),
            path.as_deref(),
            me.as_deref(),
        )?;
        return link::run(&linker, &args);
    }
    let masquerade = matches!(stem.as_str(), "clang-cl" | "clang" | "clang++");
    let mut launcher = Launcher::from_env_value(
        std::env::var_os(launcher::ENV).as_deref(),
        path.as_deref(),
        me.as_deref(),
    )?;
    let (name, args) = if masquerade {
        match std::env::var_os("HOTPATCH_COMPILER").filter(|v| !v.is_empty()) {
            Some(explicit) => (explicit, rest),
            None => (OsString::from(&stem), rest),
        }
    } else {
        match named_compiler(rest, &mut launcher, path.as_deref(), me.as_deref())? {
            Some(named) => named,
            None => return Ok(0),
        }
    };
    let mode = Mode::from_env_value(std::env::var_os("HOTPATCH_MODE").as_deref())
        .map_err(anyhow::Error::msg)?;
    // `zig cc`, `zig c++`, `zig clang`: zig's subcommand starts every run of the compiler.
    let zig = toolchain::zig_subcommand(&name, &args);
    let args = if zig.is_some() {
        args[1..].to_vec()
    } else {
        args
    };
    let compiler = toolchain::resolve(&name, path.as_deref(), me.as_deref(), masquerade)?;
    let kind = match zig {
        Some("clang") => toolchain::driver_kind(OsStr::new("clang"), &args),
        Some(_) => DriverKind::Gnu,
        None => toolchain::driver_kind(&name, &args),
    };
    if let Some(sub) = zig {
        process::set_subcommand(compiler.clone(), vec![OsString::from(sub)]);
    }
    let werror = diag::werror_requested(std::env::var_os(diag::WERROR_ENV).as_deref());
    let env = Env {
        mode,
        werror,
        verbose,
        launcher,
    };
    driver::run(&compiler, kind, &args, &env)
}

/// `hotpatch-cl [ccache|sccache|distcc] COMPILER ARGS...`: the compiler named and its
/// arguments, a launcher named before it replacing `launcher`; `None` once `--help` or
/// `--version` is answered.
fn named_compiler(
    rest: Vec<OsString>,
    launcher: &mut Option<Launcher>,
    path: Option<&OsStr>,
    me: Option<&Path>,
) -> anyhow::Result<Option<(OsString, Vec<OsString>)>> {
    let mut it = rest.into_iter();
    Ok(Some(match it.next() {
        None => anyhow::bail!("no compiler given\n{USAGE}"),
        Some(a) if a == "--help" || a == "-h" => {
            println!("{USAGE}");
            return Ok(None);
        }
        Some(a) if a == "--version" || a == "-V" => {
            println!("hotpatch-cl {}", env!("CARGO_PKG_VERSION"));
            return Ok(None);
        }
        // The ccache spelling: `hotpatch-cl ccache clang-19 …`.
        Some(tool) if Tool::of(&tool) != Tool::Other => {
            let Some(c) = it.next() else {
                anyhow::bail!(
                    "no compiler given after {}\n{USAGE}",
                    tool.to_string_lossy()
                );
            };
            *launcher = Some(Launcher::new(&tool, Vec::new(), path, me)?);
            (c, it.collect())
        }
        Some(c) => (c, it.collect()),
    }))
}
