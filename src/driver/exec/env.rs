//! The `HOTPATCH_*` settings of one invocation: how hot-patching is done
//! (`HOTPATCH_MODE`), whether our warnings fail the compile, verbose output and the
//! launcher. The front door reads them from the environment once.

use super::launcher;
use std::ffi::OsStr;

/// How hot-patching is done (`HOTPATCH_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The rewrite pipeline for the units that define a listed function, a plain compile for
    /// the others (exact routing); with `-flto`, clang 21+'s own pass.
    Auto,
    /// The rewrite pipeline for every unit (no routing).
    Rewrite,
    /// Always native; an error if the compiler lacks support.
    Native,
}

impl Mode {
    /// Parses `HOTPATCH_MODE` (unset or empty is `auto`).
    pub fn from_env_value(v: Option<&OsStr>) -> Result<Mode, String> {
        match v
            .map(|v| v.to_string_lossy().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("") | Some("auto") => Ok(Mode::Auto),
            Some("rewrite") => Ok(Mode::Rewrite),
            Some("native") => Ok(Mode::Native),
            Some(other) => Err(format!(
                "HOTPATCH_MODE={other} is not one of auto, rewrite, native"
            )),
        }
    }
}

/// The first clang major version with native secure hot-patching.
pub const FIRST_NATIVE_MAJOR: u32 = 21;

/// The `HOTPATCH_*` settings the front door (`driver::run`) needs, read from the environment
/// once (so tests can set them explicitly). Which compiler runs (`PATH`, `HOTPATCH_COMPILER`)
/// is decided before, by [`super::toolchain`].
#[derive(Debug, Clone)]
pub struct Env {
    /// `HOTPATCH_MODE`.
    pub mode: Mode,
    /// `HOTPATCH_WERROR`: our warnings fail the compile (see [`crate::diag`]).
    pub werror: bool,
    /// `HOTPATCH_VERBOSE`: print each command, and what the PDB fix-up restored.
    pub verbose: bool,
    /// `HOTPATCH_LAUNCHER` (or `hotpatch-cl ccache clang …`): ccache, sccache, distcc…
    pub launcher: Option<launcher::Launcher>,
}

/// The variable that asks for verbose output.
pub const VERBOSE_ENV: &str = "HOTPATCH_VERBOSE";

/// Whether a `HOTPATCH_VERBOSE` value asks for verbose output: set, not empty and not `0`.
pub fn verbose_requested(value: Option<&OsStr>) -> bool {
    value.is_some_and(|v| v != "0" && !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        assert_eq!(Mode::from_env_value(None).unwrap(), Mode::Auto);
        assert_eq!(
            Mode::from_env_value(Some(OsStr::new("REWRITE"))).unwrap(),
            Mode::Rewrite
        );
        assert!(Mode::from_env_value(Some(OsStr::new("fast")))
            .unwrap_err()
            .contains("fast"));
    }
}
