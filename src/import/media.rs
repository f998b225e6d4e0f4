//! The original's uploaded files. Its storage saved every upload flat, as `<32 hex>_<8 hex>.<ext>`,
//! a shape our storage accepts ([`StoredName`]), so those names are kept as they are. Any other
//! value (an `upload_to` directory, a Cloudinary path) becomes `<32 hex of its SHA-256>.<ext>`: the
//! same name on every run, so a rerun compares equal. With `--media DIR` the files are copied into
//! our storage under those names; without it the names are kept and the files reported as not
//! copied.

use std::path::{Component, Path, PathBuf};

use axum::body::Bytes;
use sha2::{Digest, Sha256};

use super::model::{FileCounts, FileRef, ImportError};
use crate::uploads::{Storage, StoredName};

/// Our stored name for the original's file value.
pub fn stored_name(original: &str) -> String {
    let base = original.rsplit(['/', '\\']).next().unwrap_or(original);
    if StoredName::parse(base).is_some() {
        return base.to_string();
    }
    let extension = base
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .filter(|ext| {
            (1..=5).contains(&ext.len()) && ext.bytes().all(|b| b.is_ascii_alphanumeric())
        })
        .unwrap_or_else(|| "bin".to_string());
    let digest = Sha256::digest(original.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{hex}.{extension}")
}

/// A content type for a stored name's extension (product images are served with it).
pub fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "doc" => "application/msword",
        _ => "application/octet-stream",
    }
}

/// The original's media directory (`--media`).
#[derive(Debug, Clone)]
pub struct MediaDir {
    root: PathBuf,
}

impl MediaDir {
    pub fn open(root: &Path) -> Result<Self, ImportError> {
        if !root.is_dir() {
            return Err(ImportError::Media {
                path: root.display().to_string(),
                error: std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory"),
            });
        }
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    /// The file for the original's value: at its relative path, else by its base name at the top
    /// (the original's secure storage kept every file there). Never outside the directory.
    pub fn find(&self, original: &str) -> Option<PathBuf> {
        let relative = Path::new(original);
        let plain = relative
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
        let mut candidates = Vec::new();
        if plain {
            candidates.push(self.root.join(relative));
        }
        if let Some(base) = relative.file_name().filter(|b| !b.is_empty()) {
            let base = Path::new(base);
            if base.components().all(|c| matches!(c, Component::Normal(_))) {
                candidates.push(self.root.join(base));
            }
        }
        candidates.into_iter().find(|p| p.is_file())
    }

    /// The size of the original's file, when it is there.
    pub fn size(&self, original: &str) -> Option<u64> {
        let path = self.find(original)?;
        std::fs::metadata(path).ok().map(|m| m.len())
    }
}

/// What became of a file a row names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Copied from `--media` (or, on a dry run, would be).
    Copied,
    /// Already in our storage.
    Present,
    /// Not in the `--media` directory.
    Missing,
    /// No `--media` given.
    NotCopied,
}

impl FileCounts {
    pub fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Copied => self.copied += 1,
            Outcome::Present => self.present += 1,
            Outcome::Missing => self.missing += 1,
            Outcome::NotCopied => self.not_copied += 1,
        }
    }
}

/// Makes sure the file a row names is in our storage: copied from `--media` when it is missing
/// there (unless `write` is false, the dry run, which only looks).
pub async fn ensure(
    storage: &dyn Storage,
    media: Option<&MediaDir>,
    file: &FileRef,
    write: bool,
) -> Result<Outcome, ImportError> {
    let Some(media) = media else {
        return Ok(Outcome::NotCopied);
    };
    let Some(name) = StoredName::parse(&file.name) else {
        return Ok(Outcome::Missing);
    };
    let io = |path: &Path, error| ImportError::Media {
        path: path.display().to_string(),
        error,
    };
    if storage
        .get(file.area, &name)
        .await
        .map_err(|e| io(Path::new(&file.name), e))?
        .is_some()
    {
        return Ok(Outcome::Present);
    }
    let Some(path) = media.find(&file.original) else {
        return Ok(Outcome::Missing);
    };
    if write {
        let bytes = tokio::fs::read(&path).await.map_err(|e| io(&path, e))?;
        storage
            .put(file.area, &name, Bytes::from(bytes))
            .await
            .map_err(|e| io(&path, e))?;
    }
    Ok(Outcome::Copied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn original_names_are_kept_and_others_mapped_stably() {
        let flat = "7c8518601afe400f9ace71de0c4dae1f_82d85576.jpg";
        assert_eq!(stored_name(flat), flat);
        assert_eq!(stored_name(&format!("products/images/{flat}")), flat);
        let odd = stored_name("products/images/Party Logo.PNG");
        assert!(StoredName::parse(&odd).is_some(), "{odd}");
        assert!(odd.ends_with(".png"));
        assert_eq!(odd, stored_name("products/images/Party Logo.PNG"));
        assert_ne!(odd, stored_name("products/images/Party Logo2.PNG"));
        assert!(stored_name("no-extension").ends_with(".bin"));
    }

    #[test]
    fn lookups_stay_inside_the_media_directory() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::create_dir_all(dir.path().join("products/images")).expect("mkdir");
        std::fs::write(dir.path().join("products/images/a.jpg"), b"x").expect("write");
        std::fs::write(dir.path().join("b.jpg"), b"yy").expect("write");
        let media = MediaDir::open(dir.path()).expect("open");
        assert_eq!(media.size("products/images/a.jpg"), Some(1));
        assert_eq!(media.size("user_resources/photos/b.jpg"), Some(2));
        assert_eq!(media.size("../b.jpg"), Some(2), "by base name only");
        assert_eq!(media.find("/etc/passwd"), None);
        assert_eq!(media.find(".."), None);
    }
}
