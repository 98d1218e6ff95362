//! Atomic output files: every file lstmkit writes (model files, arrays,
//! metrics, histories, forecasts, plots) goes through [`atomic_write`].
//!
//! The content is written to a temporary file in the destination's folder
//! (`.NAME.tmp-PID-N`), flushed and fsynced, renamed over the destination,
//! and the folder is fsynced so that the rename itself survives a crash. An
//! error (or a kill) before the rename leaves any previous file untouched and,
//! on error, no temporary file behind; after it the new file is complete.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// Distinguishes the temporary files of concurrent writes in one process.
static SEQ: AtomicU64 = AtomicU64::new(0);

/// The folder `path` is in (`.` for a bare file name).
fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A fresh temporary name next to `path`: `.NAME.tmp-PID-N`.
fn temp_path(path: &Path) -> Result<PathBuf> {
    let name = path
        .file_name()
        .ok_or_else(|| Error::Other(format!("{}: not a file name", path.display())))?;
    Ok(folder_of(path).join(format!(
        ".{}.tmp-{}-{}",
        name.to_string_lossy(),
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )))
}

/// Makes a completed rename in `dir` durable. Filesystems that cannot fsync
/// a folder (they answer EINVAL or "unsupported") are taken as they are.
fn sync_folder(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        match File::open(dir).and_then(|d| d.sync_all()) {
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::InvalidInput | std::io::ErrorKind::Unsupported
                ) =>
            {
                Ok(())
            }
            r => r,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Writes the file at `path` atomically and durably (see the module
/// documentation): `write` fills a buffered temporary file. A failure gives
/// an [`Error::Io`] naming `path` and leaves any previous file intact.
pub fn atomic_write(
    path: impl AsRef<Path>,
    write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<()> {
    let path = path.as_ref();
    let tmp = temp_path(path)?;
    let written = (|| -> std::io::Result<()> {
        let mut w = BufWriter::new(File::create(&tmp)?);
        write(&mut w)?;
        w.flush()?;
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    let dir = folder_of(path);
    sync_folder(&dir).map_err(|e| Error::io(&dir, e))
}

/// [`atomic_write`] of bytes already in memory.
pub fn atomic_write_bytes(path: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    atomic_write(path, |w| w.write_all(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn replaces_keeps_the_old_file_on_error_and_cleans_up() {
        let dir = crate::test_tmp_root().join(format!("lstmkit-aw-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("f.txt");
        atomic_write(&p, |w| w.write_all(b"one")).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"one");
        let err = atomic_write(&p, |w| {
            w.write_all(b"partial")?;
            Err(std::io::Error::other("boom"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("f.txt") && err.to_string().contains("boom"));
        assert_eq!(std::fs::read(&p).unwrap(), b"one", "old content kept");
        assert_eq!(entries(&dir), ["f.txt"], "no temporary file left behind");
        atomic_write_bytes(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(entries(&dir), ["f.txt"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_folder_is_an_error_naming_the_file() {
        let p = Path::new("/nonexistent-lstmkit-dir/out.json");
        let e = atomic_write_bytes(p, b"{}").unwrap_err();
        assert!(matches!(e, Error::Io { .. }));
        assert!(
            e.to_string().contains("/nonexistent-lstmkit-dir/out.json"),
            "{e}"
        );
    }

    #[test]
    fn temporary_names_are_hidden_and_distinct() {
        let a = temp_path(Path::new("out/m.lstmkit")).unwrap();
        let b = temp_path(Path::new("out/m.lstmkit")).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.parent(), Some(Path::new("out")));
        let name = a.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(".m.lstmkit.tmp-"), "{name}");
        assert_eq!(folder_of(Path::new("bare.csv")), Path::new("."));
        assert!(temp_path(Path::new("/")).is_err());
    }
}
