//! Saving and loading a whole workspace as versioned JSON.
//!
//! The stored form is `{"format": "mdm-workspace", "version": 1, "workspace": {…}}`
//! where the workspace object holds its users, groups, devices, invitations
//! (token hashes only), policies, licenses, registrations, APNs record and audit
//! log. Times are RFC 3339 strings, hashes and fingerprints lower-case hex.
//! Indexes are not stored; they are rebuilt, and so checked, on load.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::{ModelError, Workspace};

/// The name in the `format` field of a saved workspace.
pub const FORMAT_NAME: &str = "mdm-workspace";
/// The version of the stored form this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
struct EnvelopeOut<'a> {
    format: &'static str,
    version: u32,
    workspace: &'a Workspace,
}

#[derive(Deserialize)]
struct Header {
    format: String,
    version: u32,
}

#[derive(Deserialize)]
struct EnvelopeIn {
    workspace: Workspace,
}

impl Workspace {
    /// The workspace in its stored JSON form (pretty-printed, deterministic).
    ///
    /// # Errors
    /// [`ModelError::CorruptedFile`] if serialisation fails (it does not for valid workspaces).
    pub fn to_json(&self) -> Result<String, ModelError> {
        serde_json::to_string_pretty(&EnvelopeOut {
            format: FORMAT_NAME,
            version: FORMAT_VERSION,
            workspace: self,
        })
        .map_err(|e| ModelError::CorruptedFile(e.to_string()))
    }

    /// Reads a workspace from its stored JSON form.
    ///
    /// # Errors
    /// [`ModelError::UnsupportedVersion`] for another version,
    /// [`ModelError::CorruptedFile`] for anything that is not a valid stored workspace.
    pub fn from_json(text: &str) -> Result<Self, ModelError> {
        let header: Header =
            serde_json::from_str(text).map_err(|e| ModelError::CorruptedFile(e.to_string()))?;
        if header.format != FORMAT_NAME {
            return Err(ModelError::CorruptedFile(format!(
                "format is {:?}, expected {FORMAT_NAME:?}",
                header.format
            )));
        }
        if header.version != FORMAT_VERSION {
            return Err(ModelError::UnsupportedVersion {
                found: header.version,
                supported: FORMAT_VERSION,
            });
        }
        let envelope: EnvelopeIn =
            serde_json::from_str(text).map_err(|e| ModelError::CorruptedFile(e.to_string()))?;
        Ok(envelope.workspace)
    }

    /// Saves the workspace to `path`: written to a new temporary file beside
    /// it (a name no other save uses, created only readable and writable by
    /// its owner — mode 0600 on Unix: the file holds e-mail addresses and the
    /// audit log), flushed to disk, renamed over `path`, and the directory
    /// flushed too, so a crash never leaves half a file and a finished save
    /// survives a power cut. Two saves at once never write the same file.
    ///
    /// # Errors
    /// [`ModelError::Storage`] naming the operation and file.
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        let storage = |operation: &'static str, p: &Path, e: std::io::Error| ModelError::Storage {
            operation,
            path: p.display().to_string(),
            message: e.to_string(),
        };
        let json = self.to_json()?;
        let (tmp, mut file) =
            create_temporary_beside(path).map_err(|(p, e)| storage("create", &p, e))?;
        let written = file
            .write_all(json.as_bytes())
            .map_err(|e| storage("write", &tmp, e))
            .and_then(|()| file.sync_all().map_err(|e| storage("flush", &tmp, e)));
        drop(file);
        if let Err(e) =
            written.and_then(|()| fs::rename(&tmp, path).map_err(|e| storage("rename", path, e)))
        {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        sync_directory_of(path).map_err(|e| storage("flush the directory of", path, e))
    }

    /// Loads a workspace saved by [`save`](Self::save).
    ///
    /// # Errors
    /// [`ModelError::Storage`] when the file cannot be read; the errors of
    /// [`from_json`](Self::from_json) otherwise.
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        let text = fs::read_to_string(path).map_err(|e| ModelError::Storage {
            operation: "read",
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::from_json(&text)
    }
}

/// Saves started by this process, so each picks its own temporary name.
static SAVES: AtomicU64 = AtomicU64::new(0);

/// Creates `<name>.<pid>.<n>.tmp` beside `path`, failing rather than
/// reusing a file that exists (another process's save, or a stale one).
fn create_temporary_beside(path: &Path) -> Result<(PathBuf, fs::File), (PathBuf, std::io::Error)> {
    let name = path
        .file_name()
        .map(std::ffi::OsStr::to_os_string)
        .unwrap_or_default();
    loop {
        let mut tmp_name = name.clone();
        tmp_name.push(format!(
            ".{}.{}.tmp",
            std::process::id(),
            SAVES.fetch_add(1, Ordering::Relaxed)
        ));
        let tmp = path.with_file_name(tmp_name);
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err((tmp, e)),
        }
    }
}

/// Flushes the directory entry of a renamed file (on Unix; elsewhere the
/// rename is as durable as the platform makes it).
fn sync_directory_of(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        fs::File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}
