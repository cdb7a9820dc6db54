//! Bounded reads and atomic writes of files.
//!
//! Everything cos reads from outside goes through [`read_limited`] (regular
//! files only, see [`open_regular`], and at most a limit), and every
//! file it writes goes through [`write_atomic`], so a crash or a full disk
//! never leaves a half-written key, envelope or bundle behind.

use std::io::{Read, Write};
use std::path::Path;

use crate::error::{Error, Result};

/// What a file that is not a regular file is, for an error message.
fn kind_of(ft: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO";
        } else if ft.is_socket() {
            return "a socket";
        } else if ft.is_char_device() {
            return "a character device";
        } else if ft.is_block_device() {
            return "a block device";
        }
    }
    if ft.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

/// Opens a file for reading, refusing anything that is not a regular file
/// once symbolic links are followed: a FIFO would block the reader (in
/// `open` itself) until something writes to it, a device may never end,
/// and a directory is no input. The refusal is an [`Error::Io`] (code
/// `io`) whose message names the kind of file, e.g. `open x: not a
/// regular file (a FIFO)`.
///
/// The type is checked before opening (so a FIFO is never opened) and
/// again on the opened handle; a file swapped for a FIFO between the two
/// can still make `open` wait, as the pack loader accepts too.
pub fn open_regular(path: impl AsRef<Path>) -> Result<std::fs::File> {
    let path = path.as_ref();
    let io = |source| Error::Io {
        op: "open",
        path: path.to_owned(),
        source,
    };
    let refuse = |ft: std::fs::FileType| {
        io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("not a regular file ({})", kind_of(ft)),
        ))
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(refuse(meta.file_type()));
    }
    let file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(refuse(meta.file_type()));
    }
    Ok(file)
}

/// Reads at most `limit` bytes from a regular file ([`open_regular`]); a
/// larger file is an error ([`Error::TooLarge`]) rather than a truncated
/// read.
pub fn read_limited(path: impl AsRef<Path>, limit: u64) -> Result<Vec<u8>> {
    let path = path.as_ref();
    let io = |op, source| Error::Io {
        op,
        path: path.to_owned(),
        source,
    };
    let file = open_regular(path)?;
    read_reader_limited(file, limit, &path.display().to_string()).map_err(|e| match e {
        Error::Io { op, source, .. } => io(op, source),
        other => other,
    })
}

/// Reads at most `limit` bytes from a reader (e.g. standard input); `what`
/// names the source in errors.
pub fn read_reader_limited<R: Read>(reader: R, limit: u64, what: &str) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|source| Error::Io {
            op: "read",
            path: what.into(),
            source,
        })?;
    if buf.len() as u64 > limit {
        return Err(Error::TooLarge {
            what: what.to_owned(),
            limit,
        });
    }
    Ok(buf)
}

/// How [`write_atomic`] treats an existing file at the destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overwrite {
    /// Replace it.
    Replace,
    /// Fail with an `AlreadyExists` I/O error.
    Refuse,
}

/// Writes `data` to `path` atomically: a temporary file in the same directory
/// is written, flushed to disk and renamed over `path`. On any error the
/// temporary file is removed and `path` is untouched.
///
/// `mode` sets Unix permissions (e.g. `0o600` for private keys) before any
/// byte is written; it is ignored on other platforms.
pub fn write_atomic(
    path: impl AsRef<Path>,
    data: &[u8],
    mode: Option<u32>,
    overwrite: Overwrite,
) -> Result<()> {
    let path = path.as_ref();
    let io = |op, source| Error::Io {
        op,
        path: path.to_owned(),
        source,
    };
    if overwrite == Overwrite::Refuse && path.symlink_metadata().is_ok() {
        return Err(io(
            "create",
            std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "file exists (not overwritten)",
            ),
        ));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path.file_name().ok_or_else(|| {
        io(
            "create",
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"),
        )
    })?;
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).map_err(|e| io("create", std::io::Error::other(e.to_string())))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        hex::encode(nonce)
    ));

    let result = (|| -> std::io::Result<()> {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        if let Some(m) = mode {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(m);
        }
        #[cfg(not(unix))]
        let _ = mode;
        let mut f = opts.open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        drop(f);
        if overwrite == Overwrite::Refuse {
            // Hard-link then unlink: fails if the destination appeared meanwhile.
            std::fs::hard_link(&tmp, path)?;
            std::fs::remove_file(&tmp)?;
        } else {
            std::fs::rename(&tmp, path)?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(io("write", e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_atomicity() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x");
        write_atomic(&p, b"hello", Some(0o600), Overwrite::Refuse).unwrap();
        assert_eq!(read_limited(&p, 5).unwrap(), b"hello");
        assert_eq!(read_limited(&p, 4).unwrap_err().code(), "too_large");
        let e = write_atomic(&p, b"other", None, Overwrite::Refuse).unwrap_err();
        assert_eq!(e.code(), "io");
        assert_eq!(std::fs::read(&p).unwrap(), b"hello");
        write_atomic(&p, b"other", None, Overwrite::Replace).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"other");
        // No temporary files left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let q = dir.path().join("k");
            write_atomic(&q, b"secret", Some(0o600), Overwrite::Refuse).unwrap();
            assert_eq!(
                std::fs::metadata(&q).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        // Writing into a missing directory fails cleanly.
        assert!(write_atomic(dir.path().join("no/such"), b"x", None, Overwrite::Replace).is_err());
    }

    #[test]
    fn only_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_limited(dir.path(), 10).unwrap_err();
        assert_eq!(e.code(), "io");
        assert!(
            e.to_string().contains("not a regular file (a directory)"),
            "{e}"
        );
        assert_eq!(
            read_limited(dir.path().join("none"), 10)
                .unwrap_err()
                .code(),
            "io"
        );
        #[cfg(unix)]
        {
            // A symbolic link to a regular file is read; one to a device is not.
            let target = dir.path().join("t");
            std::fs::write(&target, b"x").unwrap();
            let link = dir.path().join("l");
            std::os::unix::fs::symlink(&target, &link).unwrap();
            assert_eq!(read_limited(&link, 10).unwrap(), b"x");
            let e = read_limited("/dev/zero", 10).unwrap_err();
            assert!(e.to_string().contains("(a character device)"), "{e}");
            // A FIFO with no writer: refused at once instead of blocking.
            let fifo = dir.path().join("fifo");
            let made = std::process::Command::new("mkfifo").arg(&fifo).status();
            if made.is_ok_and(|s| s.success()) {
                let e = read_limited(&fifo, 10).unwrap_err();
                assert!(e.to_string().contains("not a regular file (a FIFO)"), "{e}");
                assert!(open_regular(&fifo).is_err());
            }
        }
    }
}
