//! Content digests of a task's input files and DICOM series folders, remembered per file by
//! (path, size, modification time) so that a resubmission does not read every CT again.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use super::hex;

/// Content digests of input files, remembered by (path, size, modification time).
#[derive(Debug, Default)]
pub struct DigestCache {
    known: HashMap<(PathBuf, u64, Option<SystemTime>), String>,
}

impl DigestCache {
    /// Hex SHA-256 of a file's content; for a folder (a DICOM series) of the names and content
    /// digests of the files directly in it, in name order (what the series reader reads); or
    /// `missing:<path>` when nothing is there (the task that reads it then fails with a clear
    /// error, and a file that appears later changes the key).
    pub fn digest(&mut self, path: &Path) -> std::io::Result<String> {
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(format!("missing:{}", path.display())),
            Err(e) => return Err(e),
        };
        if meta.is_dir() {
            return self.folder(path);
        }
        let id = (path.to_path_buf(), meta.len(), meta.modified().ok());
        if let Some(d) = self.known.get(&id) {
            return Ok(d.clone());
        }
        let mut file = std::fs::File::open(path)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        let d = hex(&hasher.finalize());
        self.known.insert(id, d.clone());
        Ok(d)
    }

    /// The folder's digest: each file's name and content digest (each remembered on its own, as a
    /// folder's modification time does not change when a file in it is rewritten).
    fn folder(&mut self, dir: &Path) -> std::io::Result<String> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_file() {
                files.push(path);
            }
        }
        files.sort();
        let mut hasher = Sha256::new();
        hasher.update(b"folder\0");
        for file in files {
            hasher.update(file.file_name().unwrap_or_default().as_encoded_bytes());
            hasher.update(b"\0");
            hasher.update(self.digest(&file)?.as_bytes());
            hasher.update(b"\0");
        }
        Ok(hex(&hasher.finalize()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_series_folder_is_digested_by_its_files() {
        let dir = std::env::temp_dir().join(format!("tacefusion-digest-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let series = dir.join("arterial_dcm");
        std::fs::create_dir_all(series.join("nested")).unwrap();
        for (name, content) in [("IM0001.dcm", "slice one"), ("IM0002.dcm", "slice two")] {
            std::fs::write(series.join(name), content).unwrap();
        }
        // the series reader looks at the folder's own files only
        std::fs::write(series.join("nested/other.dcm"), "not read").unwrap();
        let first = DigestCache::default().digest(&series).unwrap();
        assert_eq!(first.len(), 64, "{first}");
        let mut cache = DigestCache::default();
        assert_eq!(cache.digest(&series).unwrap(), first, "the same content gives the same digest");
        std::fs::write(series.join("nested/other.dcm"), "changed").unwrap();
        assert_eq!(cache.digest(&series).unwrap(), first, "a nested folder is not part of the series");

        // a slice rewritten in place (same size; the folder's own time need not change), a slice
        // added, a slice renamed: each is another digest
        std::fs::write(series.join("IM0002.dcm"), "slice 2wo").unwrap();
        let rewritten = DigestCache::default().digest(&series).unwrap();
        std::fs::write(series.join("IM0003.dcm"), "slice three").unwrap();
        let added = DigestCache::default().digest(&series).unwrap();
        std::fs::rename(series.join("IM0003.dcm"), series.join("IM0004.dcm")).unwrap();
        let renamed = DigestCache::default().digest(&series).unwrap();
        let all = [&first, &rewritten, &added, &renamed];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert!(DigestCache::default().digest(&dir.join("gone_dcm")).unwrap().starts_with("missing:"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
