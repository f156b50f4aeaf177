//! Writing a file so that the file at its path is always whole: the bytes go to a partial
//! file beside it, which is synced to the disk and only then renamed over the target (a
//! rename within a directory is atomic). A failed or interrupted write leaves the earlier
//! file as it was; the partial file is removed when the write fails.

use std::ffi::OsString;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// A file being written for `target`; nothing appears at `target` until [`finish`].
///
/// [`finish`]: StagedFile::finish
#[derive(Debug)]
pub struct StagedFile {
    target: PathBuf,
    partial: PathBuf,
    out: Option<BufWriter<File>>,
}

/// The partial file written for `target`: the same folder (so the rename stays within one
/// file system), the name with a suffix no reader takes for its format.
pub fn partial_path(target: &Path) -> PathBuf {
    let mut name: OsString = target.file_name().unwrap_or_default().to_os_string();
    name.push(".onemap-partial");
    target.with_file_name(name)
}

impl StagedFile {
    /// Starts writing for `target` (a leftover partial file from an earlier crash is
    /// replaced).
    pub fn create(target: &Path) -> std::io::Result<StagedFile> {
        if target.is_dir() {
            return Err(std::io::Error::other("is a folder"));
        }
        let partial = partial_path(target);
        let file = File::create(&partial)?;
        Ok(StagedFile {
            target: target.to_owned(),
            partial,
            out: Some(BufWriter::new(file)),
        })
    }

    /// The path the file will have.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes and syncs the bytes, then renames the partial file over the target.
    pub fn finish(mut self) -> std::io::Result<()> {
        let Some(out) = self.out.take() else {
            return Ok(());
        };
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        // Windows refuses to rename over an existing file (Unix replaces it atomically).
        #[cfg(windows)]
        if self.target.exists() {
            std::fs::remove_file(&self.target)?;
        }
        std::fs::rename(&self.partial, &self.target)?;
        sync_folder(&self.target);
        Ok(())
    }
}

impl StagedFile {
    fn out(&mut self) -> std::io::Result<&mut BufWriter<File>> {
        self.out
            .as_mut()
            .ok_or_else(|| std::io::Error::other("the file was already finished"))
    }
}

impl Write for StagedFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out()?.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out()?.flush()
    }
}

impl std::io::Seek for StagedFile {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        self.out()?.seek(pos)
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            // Not finished: the write failed part-way; the target keeps its earlier bytes.
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

/// Syncs the folder holding `path` so the rename itself survives a power loss (where the
/// platform can; a failure here loses nothing already written).
fn sync_folder(path: &Path) {
    #[cfg(unix)]
    if let Some(folder) = path.parent() {
        let folder = if folder.as_os_str().is_empty() {
            Path::new(".")
        } else {
            folder
        };
        if let Ok(dir) = File::open(folder) {
            let _ = dir.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Writes `bytes` to `target` through a [`StagedFile`].
pub fn write_all(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut staged = StagedFile::create(target)?;
    staged.write_all(bytes)?;
    staged.finish()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_target_appears_whole_only_when_finished() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.geojson");
        std::fs::write(&target, b"old").unwrap();
        let mut staged = StagedFile::create(&target).unwrap();
        staged.write_all(b"new contents").unwrap();
        staged.flush().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        assert!(partial_path(&target).exists());
        staged.finish().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new contents");
        assert!(!partial_path(&target).exists());
    }

    #[test]
    fn an_abandoned_write_keeps_the_old_file_and_removes_the_partial_one() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.csv");
        std::fs::write(&target, b"old").unwrap();
        {
            let mut staged = StagedFile::create(&target).unwrap();
            staged.write_all(b"half a fi").unwrap();
            // Dropped without finish, as when a writer returns an error.
        }
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        assert!(!partial_path(&target).exists());
    }

    #[test]
    fn a_folder_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        assert!(StagedFile::create(dir.path()).is_err());
        write_all(&dir.path().join("a.prj"), b"GEOGCS").unwrap();
        assert_eq!(std::fs::read(dir.path().join("a.prj")).unwrap(), b"GEOGCS");
    }
}
