//! Where uploaded files live. [`Storage`] is the interface (put / get / delete by generated name);
//! [`LocalDisk`] keeps files under `MEDIA_ROOT` (directories 0750, files 0640, as the original), writing
//! each to a temporary file that is renamed into place, so a failed write leaves nothing behind.
//! An S3-compatible implementation for several instances (D19) can sit behind the same trait.

use std::{
    fmt, io,
    path::{Path, PathBuf},
    pin::Pin,
    task::Poll,
};

use axum::body::Bytes;
use futures_util::{
    Stream,
    future::BoxFuture,
    stream::{self, BoxStream},
};
use tokio::io::{AsyncRead, ReadBuf};

/// A top-level folder of the store. Each feature keeps its files in its own area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Area {
    /// Product images and their thumbnails (served publicly under `/media/products/`).
    Products,
    /// Campaign resources customers hand over (served only through `/api/secure-files/`).
    Resources,
}

impl Area {
    pub fn dir(self) -> &'static str {
        match self {
            Area::Products => "products",
            Area::Resources => "resources",
        }
    }
}

/// A file name the server generated: `<32 hex>.<ext>` or `thumb_<32 hex>.jpg` (plus the original
/// backend's `<32 hex>_<8 hex>.<ext>` so imported rows keep working). Never a path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StoredName(String);

impl StoredName {
    /// A fresh random name with the given extension (taken from the sniffed type, never the client's).
    pub fn generate(extension: &str) -> Self {
        Self(format!(
            "{}.{}",
            uuid::Uuid::new_v4().simple(),
            extension.to_ascii_lowercase()
        ))
    }

    /// The thumbnail's name for this file: `thumb_<stem>.jpg`.
    pub fn thumbnail(&self) -> Self {
        let stem = self.0.split('.').next().unwrap_or(&self.0);
        let stem = stem.strip_prefix("thumb_").unwrap_or(stem);
        Self(format!("thumb_{stem}.jpg"))
    }

    /// Accepts only names of the generated shapes (lowercase hex, a short lowercase extension).
    pub fn parse(value: &str) -> Option<Self> {
        let (stem, extension) = value.split_once('.')?;
        let extension_ok = (1..=5).contains(&extension.len())
            && extension
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        let hex = |s: &str, n: usize| {
            s.len() == n
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        let stem = stem.strip_prefix("thumb_").unwrap_or(stem);
        let stem_ok = match stem.split_once('_') {
            None => hex(stem, 32),
            Some((main, suffix)) => hex(main, 32) && hex(suffix, 8),
        };
        (extension_ok && stem_ok).then(|| Self(value.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lowercase extension (`png`, `jpg`, …).
    pub fn extension(&self) -> &str {
        self.0.rsplit('.').next().unwrap_or("")
    }
}

impl fmt::Display for StoredName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stored file being read: its length and its bytes as a stream.
pub struct StoredObject {
    pub len: u64,
    pub body: BoxStream<'static, io::Result<Bytes>>,
}

impl fmt::Debug for StoredObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredObject")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// The storage interface. Names are always server-generated ([`StoredName`]).
pub trait Storage: Send + Sync + fmt::Debug {
    /// Stores `bytes` under the name; either the whole file is there afterwards or nothing is.
    fn put<'a>(
        &'a self,
        area: Area,
        name: &'a StoredName,
        bytes: Bytes,
    ) -> BoxFuture<'a, io::Result<()>>;

    /// The file, or `None` when there is no such file.
    fn get<'a>(
        &'a self,
        area: Area,
        name: &'a StoredName,
    ) -> BoxFuture<'a, io::Result<Option<StoredObject>>>;

    /// Removes the file; a missing file is not an error.
    fn delete<'a>(&'a self, area: Area, name: &'a StoredName) -> BoxFuture<'a, io::Result<()>>;
}

/// Files on the local disk under `root/<area>/<name>`.
#[derive(Debug, Clone)]
pub struct LocalDisk {
    root: PathBuf,
}

impl LocalDisk {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, area: Area, name: &StoredName) -> PathBuf {
        self.root.join(area.dir()).join(name.as_str())
    }
}

/// Creates the directory (and missing parents) with mode 0750.
fn create_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o750);
    }
    builder.create(dir)
}

/// Writes `bytes` to a temporary file (mode 0640) beside `target`, syncs it and renames it into place.
fn write_atomically(target: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;

    let dir = target
        .parent()
        .ok_or_else(|| io::Error::other("storage path has no parent"))?;
    create_dir(dir)?;
    let temp = dir.join(format!(".tmp-{}", uuid::Uuid::new_v4().simple()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o640);
    }
    let result = (|| {
        let mut file = options.open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temp, target)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

impl Storage for LocalDisk {
    fn put<'a>(
        &'a self,
        area: Area,
        name: &'a StoredName,
        bytes: Bytes,
    ) -> BoxFuture<'a, io::Result<()>> {
        let target = self.path(area, name);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || write_atomically(&target, &bytes))
                .await
                .map_err(io::Error::other)?
        })
    }

    fn get<'a>(
        &'a self,
        area: Area,
        name: &'a StoredName,
    ) -> BoxFuture<'a, io::Result<Option<StoredObject>>> {
        let path = self.path(area, name);
        Box::pin(async move {
            let file = match tokio::fs::File::open(&path).await {
                Ok(file) => file,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e),
            };
            let metadata = file.metadata().await?;
            if !metadata.is_file() {
                return Ok(None);
            }
            Ok(Some(StoredObject {
                len: metadata.len(),
                body: Box::pin(file_stream(file)),
            }))
        })
    }

    fn delete<'a>(&'a self, area: Area, name: &'a StoredName) -> BoxFuture<'a, io::Result<()>> {
        let path = self.path(area, name);
        Box::pin(async move {
            match tokio::fs::remove_file(&path).await {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            }
        })
    }
}

const CHUNK: usize = 64 * 1024;

/// The file's bytes in 64 KiB chunks.
fn file_stream(file: tokio::fs::File) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
    stream::try_unfold(file, |mut file| async move {
        let mut buf = vec![0u8; CHUNK];
        let filled = std::future::poll_fn(|cx| {
            let mut read = ReadBuf::new(&mut buf);
            match Pin::new(&mut file).poll_read(cx, &mut read) {
                Poll::Ready(Ok(())) => Poll::Ready(Ok(read.filled().len())),
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            }
        })
        .await?;
        if filled == 0 {
            return Ok(None);
        }
        buf.truncate(filled);
        Ok(Some((Bytes::from(buf), file)))
    })
}

#[cfg(test)]
mod tests {
    use futures_util::TryStreamExt;

    use super::*;

    #[test]
    fn generated_names_parse_and_paths_do_not() {
        let name = StoredName::generate("png");
        assert_eq!(StoredName::parse(name.as_str()), Some(name.clone()));
        assert_eq!(name.extension(), "png");
        let thumb = name.thumbnail();
        assert!(thumb.as_str().starts_with("thumb_") && thumb.as_str().ends_with(".jpg"));
        assert_eq!(StoredName::parse(thumb.as_str()), Some(thumb.clone()));
        assert_eq!(thumb.thumbnail(), thumb);
        assert!(StoredName::parse("7c8518601afe400f9ace71de0c4dae1f_82d85576.jpg").is_some());
        for bad in [
            "",
            "../x.png",
            "x.png",
            "7C8518601AFE400F9ACE71DE0C4DAE1F.png",
            "7c8518601afe400f9ace71de0c4dae1f",
            "7c8518601afe400f9ace71de0c4dae1f.png/",
            "7c8518601afe400f9ace71de0c4dae1f.png.exe",
            "7c8518601afe400f9ace71de0c4dae1f.PNG",
            "/7c8518601afe400f9ace71de0c4dae1f.png",
            "7c8518601afe400f9ace71de0c4dae1f_x.png",
        ] {
            assert!(StoredName::parse(bad).is_none(), "{bad}");
        }
    }

    #[tokio::test]
    async fn local_disk_round_trip_with_restrictive_modes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let disk = LocalDisk::new(dir.path().join("media"));
        let name = StoredName::generate("gif");
        let data = Bytes::from(vec![7u8; CHUNK * 2 + 5]);
        disk.put(Area::Products, &name, data.clone())
            .await
            .expect("put");
        let object = disk
            .get(Area::Products, &name)
            .await
            .expect("get")
            .expect("exists");
        assert_eq!(object.len, data.len() as u64);
        let chunks: Vec<Bytes> = object.body.try_collect().await.expect("read");
        assert_eq!(chunks.concat(), data.to_vec());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let path = dir.path().join("media/products").join(name.as_str());
            let mode = std::fs::metadata(&path).expect("file").permissions().mode();
            assert_eq!(mode & 0o077 & !0o040, 0, "file mode {mode:o}");
            let dir_mode = std::fs::metadata(path.parent().expect("dir"))
                .expect("dir")
                .permissions()
                .mode();
            assert_eq!(dir_mode & 0o007, 0, "dir mode {dir_mode:o}");
        }
        // Only the file itself: no temporary left behind.
        let entries: Vec<_> = std::fs::read_dir(dir.path().join("media/products"))
            .expect("dir")
            .collect();
        assert_eq!(entries.len(), 1);
        disk.delete(Area::Products, &name).await.expect("delete");
        disk.delete(Area::Products, &name)
            .await
            .expect("missing is fine");
        assert!(
            disk.get(Area::Products, &name)
                .await
                .expect("get")
                .is_none()
        );
    }
}
