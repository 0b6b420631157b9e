//! Where the device downloads the agent during provisioning, and how it checks it.

use std::fmt;

use super::keys;
use super::redact::Redacted;
use crate::{AndroidError, Sha256Digest};

/// How the device checks the downloaded agent APK. ManagedProvisioning needs
/// at least one when it downloads a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageChecksum {
    /// SHA-256 of the APK file (changes with every build).
    Package(Sha256Digest),
    /// SHA-256 of a signing certificate (stable across releases; API 23+).
    Signature(Sha256Digest),
    /// Both.
    Both {
        /// SHA-256 of the APK file.
        package: Sha256Digest,
        /// SHA-256 of a signing certificate.
        signature: Sha256Digest,
    },
}

/// Where the device downloads the agent from during provisioning.
///
/// `Debug` does not show the cookie header (it authenticates the download).
#[derive(Clone, PartialEq, Eq)]
pub struct PackageDownload {
    /// An `https://` URL.
    location: String,
    /// How the download is verified.
    pub checksum: PackageChecksum,
    /// Optional cookie header sent with the download.
    pub cookie_header: Option<String>,
    /// Download even if installed, when the installed version code is lower.
    pub minimum_version_code: Option<i32>,
}

impl fmt::Debug for PackageDownload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PackageDownload")
            .field("location", &self.location)
            .field("checksum", &self.checksum)
            .field(
                "cookie_header",
                &self.cookie_header.as_ref().map(|_| Redacted),
            )
            .field("minimum_version_code", &self.minimum_version_code)
            .finish()
    }
}

impl PackageDownload {
    /// A download from an `https://` URL, checked by `checksum`.
    pub fn new(location: &str, checksum: PackageChecksum) -> Result<Self, AndroidError> {
        validate_https_url(keys::DOWNLOAD_LOCATION, location)?;
        Ok(Self {
            location: location.to_owned(),
            checksum,
            cookie_header: None,
            minimum_version_code: None,
        })
    }

    /// The download URL.
    pub fn location(&self) -> &str {
        &self.location
    }
}

pub(super) fn validate_https_url(key: &str, url: &str) -> Result<(), AndroidError> {
    let rest = url
        .get(..8)
        .filter(|scheme| scheme.eq_ignore_ascii_case("https://"))
        .and_then(|_| url.get(8..))
        .ok_or_else(|| {
            AndroidError::provisioning_value(key, format!("{url:?} is not an https:// URL"))
        })?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AndroidError::provisioning_value(
            key,
            format!("{url:?} has no host or holds whitespace"),
        ));
    }
    Ok(())
}
