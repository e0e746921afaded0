//! Files a command writes (a user list, a downloaded report), made to
//! appear only when complete.
//!
//! The text goes to a temporary file in the target's own folder, and is
//! renamed over the target at the end; a run that fails or is killed half
//! way leaves any older file of that name untouched and no half-written one.
//! On Unix the file is readable by its owner only (the temporary file's
//! mode): lists and reports hold people's names and emails.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// A file being written under a temporary name beside its final place.
/// Dropping it without [`PendingFile::commit`] removes the temporary file.
#[derive(Debug)]
pub struct PendingFile {
    temp: NamedTempFile,
    path: PathBuf,
}

impl PendingFile {
    /// Creates `.NAME.XXXXXX.part` in `path`'s folder (the current folder
    /// for a bare name), so the final rename stays on one file system.
    pub fn create(path: &Path) -> io::Result<PendingFile> {
        let folder = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".part")
            .tempfile_in(folder)?;
        Ok(PendingFile {
            temp,
            path: path.to_path_buf(),
        })
    }

    /// The temporary file, to write to.
    pub fn file(&self) -> &File {
        self.temp.as_file()
    }

    /// Where the file will be once committed.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes the text to disk and renames the file to its final name,
    /// replacing any file there. On failure the temporary file is removed.
    pub fn commit(self) -> io::Result<()> {
        self.temp.as_file().sync_all()?;
        self.temp
            .persist(&self.path)
            .map(drop)
            .map_err(|error| error.error)
    }
}

/// Writes `bytes` to `path` through a [`PendingFile`].
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let pending = PendingFile::create(path)?;
    pending.file().write_all(bytes)?;
    pending.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_committed_file_remains() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.csv");
        std::fs::write(&path, "old").unwrap();

        let pending = PendingFile::create(&path).unwrap();
        pending.file().write_all(b"half").unwrap();
        drop(pending);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

        write_atomically(&path, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
