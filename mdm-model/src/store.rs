//! Saving and loading a whole workspace as versioned JSON.
//!
//! The stored form is `{"format": "mdm-workspace", "version": 1, "workspace": {…}}`
//! where the workspace object holds its users, groups, devices, invitations
//! (token hashes only), policies, licenses, registrations, APNs record and audit
//! log. Times are RFC 3339 strings, hashes and fingerprints lower-case hex.
//! Indexes are not stored; they are rebuilt, and so checked, on load.

use std::fs;
use std::io::Write as _;
use std::path::Path;

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

    /// Saves the workspace to `path`: written to a temporary file beside it,
    /// flushed, then renamed over `path`, so a crash never leaves half a file.
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
        let mut tmp_name = path
            .file_name()
            .map(std::ffi::OsStr::to_os_string)
            .unwrap_or_default();
        tmp_name.push(".tmp");
        let tmp = path.with_file_name(tmp_name);
        let mut file = fs::File::create(&tmp).map_err(|e| storage("create", &tmp, e))?;
        file.write_all(json.as_bytes())
            .map_err(|e| storage("write", &tmp, e))?;
        file.sync_all().map_err(|e| storage("flush", &tmp, e))?;
        drop(file);
        fs::rename(&tmp, path).map_err(|e| storage("rename", path, e))
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
