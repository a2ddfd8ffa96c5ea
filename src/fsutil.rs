//! Filesystem helpers shared by every layer that writes an output file, and the one way an
//! I/O error is worded in messages ([`io_message`]).
//!
//! Outputs are written to a temporary file in the destination's directory and renamed
//! over the destination, so a crash or an error never leaves a truncated file behind.
//!
//! On Windows a rename cannot replace a read-only file, nor one that another program has
//! open without `FILE_SHARE_DELETE`: the read-only attribute moves from the old file to the
//! new one around the rename, and a sharing conflict is retried for a moment (virus
//! scanners and indexers hold new files briefly) before it is reported.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `dest` atomically: a sibling temporary file, then a rename.
///
/// On error the destination is untouched (it keeps its old content, or stays absent).
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(dest, |w| w.write_all(bytes))
}

/// Like [`write_atomic`], for output produced by a writer (so it need not sit in memory):
/// `fill` writes the content; on any error the destination is untouched.
///
/// The file gets the permissions a compiler's output would get (`0666` less the umask), or
/// keeps those of the file it replaces. There is no `fsync`: like the compilers it wraps,
/// a build tool's outputs are reproducible, and a sync per object costs milliseconds.
pub fn write_atomic_with(
    dest: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMP_PREFIX).suffix(".tmp");
    let existing = std::fs::metadata(dest).ok().map(|m| m.permissions());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The mode passes through open(2), so the umask applies as for any new file.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, tmp.as_file_mut());
        fill(&mut w)?;
        w.flush()?;
    }
    #[cfg(not(windows))]
    {
        if let Some(perms) = existing {
            tmp.as_file().set_permissions(perms)?;
        }
        tmp.persist(dest).map_err(|e| e.error)?;
    }
    #[cfg(windows)]
    {
        // A read-only temporary could not be deleted if the rename failed: the attribute
        // goes on after the rename, through the handle that is still open.
        let file = windows::replace(tmp, dest, existing.as_ref().is_some_and(|p| p.readonly()))?;
        if let Some(perms) = existing.filter(|p| p.readonly()) {
            file.set_permissions(perms)?;
        }
    }
    Ok(())
}

/// The prefix of every temporary file hotpatch-cl makes next to an output (here and in
/// the pipeline's staging files): a stray one left by a killed process is recognisably ours.
pub const TEMP_PREFIX: &str = ".hotpatch-";

/// Renames the complete file `from` over `to` (same directory, so one atomic step): what a
/// staged output does last. On Windows `std::fs::rename` is `MoveFileExW` with
/// `MOVEFILE_REPLACE_EXISTING`, retried for a moment while another program holds `to` open.
pub fn rename_over(from: &Path, to: &Path) -> std::io::Result<()> {
    #[cfg(windows)]
    {
        windows::rename_patiently(from, to)
    }
    #[cfg(not(windows))]
    {
        std::fs::rename(from, to)
    }
}

/// An I/O error's text without the `(os error N)` suffix that `std` appends.
pub fn io_message(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

#[cfg(windows)]
mod windows {
    use std::path::Path;
    use std::time::{Duration, Instant};

    const ERROR_ACCESS_DENIED: i32 = 5;
    const ERROR_SHARING_VIOLATION: i32 = 32;
    const ERROR_LOCK_VIOLATION: i32 = 33;

    /// How long a destination held open by another program is waited for.
    const PATIENCE: Duration = Duration::from_millis(1500);

    fn set_readonly(path: &Path, readonly: bool) -> std::io::Result<()> {
        let mut perms = std::fs::metadata(path)?.permissions();
        perms.set_readonly(readonly);
        std::fs::set_permissions(path, perms)
    }

    /// Renames `from` over `to`, waiting a moment while another program holds `to` open.
    ///
    /// `std::fs::rename`, not `persist` (`MoveFileEx` alone): where `MoveFileEx` is refused
    /// because `to` is open, std renames with POSIX semantics (Windows 10 1809 and later),
    /// which replaces a file that others have open with `FILE_SHARE_DELETE`.
    pub(super) fn rename_patiently(from: &Path, to: &Path) -> std::io::Result<()> {
        let start = Instant::now();
        loop {
            match std::fs::rename(from, to) {
                Ok(()) => return Ok(()),
                Err(e) => {
                    let busy = matches!(
                        e.raw_os_error(),
                        Some(ERROR_ACCESS_DENIED | ERROR_SHARING_VIOLATION | ERROR_LOCK_VIOLATION)
                    );
                    if busy && start.elapsed() < PATIENCE {
                        std::thread::sleep(Duration::from_millis(50));
                        continue;
                    }
                    if busy {
                        return Err(std::io::Error::new(
                            e.kind(),
                            format!("{} (is it open in another program?)", super::io_message(&e)),
                        ));
                    }
                    return Err(e);
                }
            }
        }
    }

    /// Renames `tmp` over `dest`; `dest_readonly` says that `dest` exists and is read-only.
    /// On failure `dest` keeps its content and attribute and `tmp` is deleted.
    pub(super) fn replace(
        tmp: tempfile::NamedTempFile,
        dest: &Path,
        dest_readonly: bool,
    ) -> std::io::Result<std::fs::File> {
        let (file, path) = tmp.into_parts();
        if dest_readonly {
            set_readonly(dest, false)?;
        }
        match rename_patiently(&path, dest) {
            Ok(()) => {
                // Now `dest`: no longer ours to delete.
                let _ = path.keep();
                Ok(file)
            }
            Err(e) => {
                if dest_readonly {
                    let _ = set_readonly(dest, true);
                }
                // `path` deletes the temporary when it goes.
                drop(file);
                drop(path);
                Err(e)
            }
        }
    }
}

#[cfg(test)]
pub(crate) fn file_not_found_message() -> String {
    if cfg!(windows) {
        io_message(&std::io::Error::from_raw_os_error(2))
    } else {
        "No such file or directory".to_string()
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn io_message_drops_the_os_error_number() {
        let e = std::fs::read("/nonexistent/for/sure").unwrap_err();
        if cfg!(windows) {
            // ERROR_PATH_NOT_FOUND, in whatever words the system has for it.
            let full = e.to_string();
            assert_eq!(e.raw_os_error(), Some(3), "{full}");
            assert_eq!(super::io_message(&e) + " (os error 3)", full);
        } else {
            assert_eq!(super::io_message(&e), "No such file or directory");
        }
    }

    use super::*;

    #[test]
    fn replaces_content_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.bin");
        write_atomic(&dest, b"one").unwrap();
        write_atomic(&dest, b"two").unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "only the destination remains");
    }

    #[cfg(unix)]
    #[test]
    fn new_files_get_ordinary_permissions_and_replaced_files_keep_theirs() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.obj");
        write_atomic(&dest, b"one").unwrap();
        let plain = dir.path().join("plain.obj");
        std::fs::write(&plain, b"x").unwrap();
        let mode_of = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode_of(&dest), mode_of(&plain), "same mode as any new file");
        std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&dest, b"two").unwrap();
        assert_eq!(mode_of(&dest), 0o640);
    }

    #[test]
    fn missing_directory_is_an_error_and_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("no/such/dir/out.bin");
        assert!(write_atomic(&dest, b"x").is_err());
        assert!(!dest.exists());
    }

    #[test]
    fn streamed_write_failing_midway_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.bin");
        let r = write_atomic_with(&dest, |w| {
            w.write_all(b"half")?;
            Err(std::io::Error::other("boom"))
        });
        assert!(r.is_err() && !dest.exists());
        write_atomic_with(&dest, |w| w.write_all(b"whole")).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"whole");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
