//! Standalone installation packages (R-AN-1): the agent with its server
//! address baked in.
//!
//! A package is a ZIP archive holding, in byte order of their names:
//!
//! | entry | content |
//! |---|---|
//! | `connection.json` | [`ConnectionSettings`]: server host and port, the CA's file name and SHA-256, workspace id, optional user binding and one-time enrollment token |
//! | `manifest.json` | product name, version, platform, the server the package was built for, and the SHA-256 and size of **every other entry** |
//! | `product.toml` | the [product description](crate::ProductDescription) it was built from |
//! | `product/<path>` | each file of the product (the agent APK …), checked against the description |
//! | `server-ca.pem` | the server's CA certificate |
//!
//! Every entry has the DOS timestamp 1980-01-01 00:00:00 and mode 0644, no
//! extra fields; JSON keys are sorted; files already compressed (`.apk`,
//! `.zip`, `.jar`, images) are stored, the rest deflated by a pure-Rust
//! encoder. So the same inputs give a byte-identical package (for a given
//! version of this crate and its deflate backend).
//!
//! The address is fixed at build time: the seed's drawback of this method is
//! that after the server's address changes a new package must be built and
//! reinstalled. [`StandalonePackage::freshness`] says whether a package —
//! one just built, or one read back with [`StandalonePackage::open`] — still
//! matches the server's current address and CA.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};

use mdm_model::InvitationToken;
use serde::{Deserialize, Serialize};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use crate::ca::CaCertificate;
use crate::error::{PackagesError, Result};
use crate::product::ProductDescription;
use mdm_model::Platform;
use mdm_model::Sha256Digest;
use mdm_model::{ServerAddress, ServerHost};

/// Format of `manifest.json` and `connection.json`.
pub const PACKAGE_FORMAT: u32 = 1;

const CONNECTION_ENTRY: &str = "connection.json";
const MANIFEST_ENTRY: &str = "manifest.json";
const PRODUCT_ENTRY: &str = "product.toml";
const CA_ENTRY: &str = "server-ca.pem";
const PRODUCT_DIR: &str = "product/";

/// What reading a package back may cost, whatever its headers claim
/// (issue #13): [`StandalonePackage::open_with`] counts what the archive
/// *does* — its entries, the bytes each one actually inflates to — and stops
/// with [`PackagesError::PackageLimit`] at the first limit passed. Sizes a
/// header declares are only ever used to refuse early, never to allocate.
///
/// Memory is bounded by the four small entries it parses (connection
/// settings, manifest, product description, CA: each at most
/// [`Self::max_metadata_bytes`], held while the package is checked) plus the
/// archive's index ([`Self::max_entries`]); product files (the agent APK …)
/// are streamed through SHA-256 and never held. Work is bounded by the
/// inflated bytes: [`Self::max_total_bytes`], and at most
/// [`Self::max_ratio`] inflated bytes per byte of archive (beyond
/// [`Self::ratio_allowance_bytes`]), which a deflate bomb passes long before
/// its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackageLimits {
    /// Most bytes of the archive itself.
    pub max_archive_bytes: u64,
    /// Most entries in the archive's central directory.
    pub max_entries: usize,
    /// Most bytes each of `connection.json`, `manifest.json`,
    /// `product.toml` and `server-ca.pem` inflates to.
    pub max_metadata_bytes: u64,
    /// Most bytes any other entry (a product file) inflates to.
    pub max_entry_bytes: u64,
    /// Most bytes all entries inflate to together.
    pub max_total_bytes: u64,
    /// Most inflated bytes, over all entries, per byte of archive.
    pub max_ratio: u64,
    /// Inflated bytes allowed whatever the ratio (a tiny package of text
    /// compresses well and is harmless).
    pub ratio_allowance_bytes: u64,
}

impl PackageLimits {
    /// The limits [`StandalonePackage::open`] applies: far above any package
    /// [`StandalonePackage::build`] writes for a real agent (tens of MiB,
    /// mostly a stored APK: a ratio near 1; a handful of entries), far below
    /// what a hostile archive would make us do.
    pub const DEFAULT: Self = Self {
        max_archive_bytes: 1 << 30,
        max_entries: 256,
        max_metadata_bytes: 1 << 20,
        max_entry_bytes: 1 << 30,
        max_total_bytes: 1 << 30,
        max_ratio: 20,
        ratio_allowance_bytes: 16 << 20,
    };
}

impl Default for PackageLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Which of the [`PackageLimits`] a package passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PackageLimit {
    /// [`PackageLimits::max_archive_bytes`].
    ArchiveBytes,
    /// [`PackageLimits::max_entries`].
    Entries,
    /// [`PackageLimits::max_metadata_bytes`].
    MetadataBytes,
    /// [`PackageLimits::max_entry_bytes`].
    EntryBytes,
    /// [`PackageLimits::max_total_bytes`].
    TotalBytes,
    /// [`PackageLimits::max_ratio`] (with its allowance).
    CompressionRatio,
}

impl std::fmt::Display for PackageLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::ArchiveBytes => "archive size",
            Self::Entries => "entry count",
            Self::MetadataBytes => "metadata entry size",
            Self::EntryBytes => "entry size",
            Self::TotalBytes => "total inflated size",
            Self::CompressionRatio => "inflated size for the archive's size (compression ratio)",
        })
    }
}

/// The entries parsed from memory; every other one is streamed and hashed.
const METADATA_ENTRIES: [&str; 4] = [CONNECTION_ENTRY, MANIFEST_ENTRY, PRODUCT_ENTRY, CA_ENTRY];

/// An entry as read back: held (metadata) or only measured (product files).
enum ReadEntry {
    Held(Vec<u8>),
    Hashed { size: u64, sha256: Sha256Digest },
}

impl ReadEntry {
    fn size_and_digest(&self) -> (u64, Sha256Digest) {
        match self {
            Self::Held(data) => (data.len() as u64, Sha256Digest::of(data)),
            Self::Hashed { size, sha256 } => (*size, *sha256),
        }
    }
}

/// Streams `reader` through SHA-256 and returns the size and digest. Stops
/// one byte past `cap`: a size above `cap` means the entry is too large (and
/// the digest is then meaningless).
fn hash_capped(reader: &mut impl Read, cap: u64) -> std::io::Result<(u64, Sha256Digest)> {
    use sha2::Digest as _;
    let mut hasher = sha2::Sha256::new();
    let mut buffer = [0u8; 16 * 1024];
    let mut size = 0u64;
    let mut limited = reader.take(cap.saturating_add(1));
    loop {
        let n = match limited.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        size += n as u64;
        if size > cap {
            break;
        }
        hasher.update(buffer.get(..n).unwrap_or_default());
    }
    Ok((size, Sha256Digest::from_bytes(hasher.finalize().into())))
}

/// What the agent needs to reach its management server without the user
/// typing anything (seed 003 §5 ①).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionSettings {
    /// Address and port the agent connects to.
    pub server: ServerAddress,
    /// The CA that issued the server's certificate.
    pub server_ca: CaCertificate,
    /// The workspace (tenant) the device will join.
    pub workspace_id: String,
    /// The user account the package is bound to, if any (R-AN-2).
    pub user: Option<String>,
    /// A one-time enrollment token, if the package is for one device.
    pub enrollment_token: Option<InvitationToken>,
}

impl ConnectionSettings {
    fn check(&self) -> Result<()> {
        check_text("workspace_id", &self.workspace_id, 128)?;
        if let Some(user) = &self.user {
            check_text("user", user, 256)?;
        }
        Ok(())
    }
}

fn check_text(field: &'static str, value: &str, max: usize) -> Result<()> {
    let bad = |problem: String| PackagesError::ConnectionSetting { field, problem };
    if value.trim().is_empty() {
        return Err(bad("is empty".to_owned()));
    }
    if value.chars().count() > max {
        return Err(bad(format!("is longer than {max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(bad("contains a control character".to_owned()));
    }
    Ok(())
}

/// Why a package no longer fits the server it was built for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StaleReason {
    /// The server's connection address changed (R-SV-2): the agent would
    /// knock on the old door.
    ServerAddressChanged {
        /// The address inside the package.
        built_for: ServerAddress,
        /// The server's address now.
        current: ServerAddress,
    },
    /// The server's CA changed: the agent would not trust the server.
    ServerCaChanged {
        /// Fingerprint of the CA inside the package.
        built_for: Sha256Digest,
        /// Fingerprint of the CA now.
        current: Sha256Digest,
    },
}

/// Whether a package still matches the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Freshness {
    /// The package reaches and trusts the current server.
    Current,
    /// The package must be rebuilt and reinstalled; every reason is listed.
    Stale(Vec<StaleReason>),
}

impl Freshness {
    /// `true` for [`Freshness::Stale`].
    #[must_use]
    pub fn is_stale(&self) -> bool {
        matches!(self, Self::Stale(_))
    }
}

/// One entry as the manifest records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestEntry {
    /// SHA-256 of the entry's uncompressed bytes.
    pub sha256: Sha256Digest,
    /// Uncompressed size in bytes.
    pub size: u64,
}

/// The package's `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageManifest {
    /// Always [`PACKAGE_FORMAT`].
    pub format: u32,
    /// Product name from the description.
    pub product_name: String,
    /// Product version from the description.
    pub product_version: String,
    /// Product platform from the description.
    pub platform: Platform,
    /// The server the package was built for.
    pub server: ServerAddress,
    /// SHA-256 of the embedded server CA certificate (DER).
    pub server_ca_sha256: Sha256Digest,
    /// Every other entry of the archive, by name.
    pub entries: BTreeMap<String, ManifestEntry>,
}

/// `connection.json` as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectionDocument {
    format: u32,
    server_host: String,
    server_port: u16,
    server_ca: String,
    server_ca_sha256: Sha256Digest,
    workspace_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    enrollment_token: Option<String>,
}

/// A standalone installation package: its bytes and what they say.
///
/// `Debug` shows the manifest and the (redacted) connection settings, and
/// only the size of the archive, whose `connection.json` holds the
/// enrollment token in clear.
#[derive(Clone, PartialEq, Eq)]
pub struct StandalonePackage {
    bytes: Vec<u8>,
    manifest: PackageManifest,
    connection: ConnectionSettings,
    product: ProductDescription,
}

impl std::fmt::Debug for StandalonePackage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StandalonePackage")
            .field("bytes", &format_args!("<{} bytes>", self.bytes.len()))
            .field("manifest", &self.manifest)
            .field("connection", &self.connection)
            .field("product", &self.product)
            .finish()
    }
}

impl StandalonePackage {
    /// Builds a package from a product description, the bytes of each of its
    /// files, and the connection settings to embed.
    ///
    /// # Errors
    /// [`PackagesError::ProductFile`] when a file of the description is
    /// missing from `files`, does not match its digest, or `files` holds one
    /// the description does not list; [`PackagesError::ConnectionSetting`]
    /// for an empty workspace id or user; [`PackagesError::PackageWrite`] if
    /// the archive cannot be written.
    pub fn build(
        product: &ProductDescription,
        files: &[(&str, &[u8])],
        connection: &ConnectionSettings,
    ) -> Result<Self> {
        connection.check()?;
        let supplied: BTreeMap<&str, &[u8]> = files.iter().copied().collect();
        if supplied.len() != files.len() {
            let dup = files
                .iter()
                .map(|(p, _)| *p)
                .find(|p| files.iter().filter(|(q, _)| q == p).count() > 1)
                .unwrap_or_default();
            return Err(PackagesError::ProductFile {
                path: dup.to_owned(),
                problem: "supplied twice".to_owned(),
            });
        }
        if let Some(extra) = supplied.keys().find(|p| product.file(p).is_none()) {
            return Err(PackagesError::ProductFile {
                path: (*extra).to_owned(),
                problem: "supplied but not listed in the product description".to_owned(),
            });
        }

        let mut entries: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        for file in product.files() {
            let bytes =
                supplied
                    .get(file.path.as_str())
                    .ok_or_else(|| PackagesError::ProductFile {
                        path: file.path.to_string(),
                        problem: "listed in the product description but not supplied".to_owned(),
                    })?;
            file.verify(bytes)?;
            entries.insert(format!("{PRODUCT_DIR}{}", file.path), bytes.to_vec());
        }
        entries.insert(PRODUCT_ENTRY.to_owned(), product.to_toml().into_bytes());
        entries.insert(
            CA_ENTRY.to_owned(),
            connection.server_ca.to_pem().into_bytes(),
        );
        let document = ConnectionDocument {
            format: PACKAGE_FORMAT,
            server_host: connection.server.host_string(),
            server_port: connection.server.effective_port(),
            server_ca: CA_ENTRY.to_owned(),
            server_ca_sha256: connection.server_ca.sha256_fingerprint(),
            workspace_id: connection.workspace_id.clone(),
            user: connection.user.clone(),
            enrollment_token: connection
                .enrollment_token
                .as_ref()
                .map(|t| t.expose().to_owned()),
        };
        entries.insert(
            CONNECTION_ENTRY.to_owned(),
            to_json(CONNECTION_ENTRY, &document)?,
        );

        let manifest = PackageManifest {
            format: PACKAGE_FORMAT,
            product_name: product.name().to_owned(),
            product_version: product.version().to_owned(),
            platform: product.platform(),
            server: connection.server.clone(),
            server_ca_sha256: connection.server_ca.sha256_fingerprint(),
            entries: entries
                .iter()
                .map(|(name, bytes)| {
                    (
                        name.clone(),
                        ManifestEntry {
                            sha256: Sha256Digest::of(bytes),
                            size: bytes.len() as u64,
                        },
                    )
                })
                .collect(),
        };
        entries.insert(
            MANIFEST_ENTRY.to_owned(),
            to_json(MANIFEST_ENTRY, &manifest)?,
        );

        let bytes = write_zip(&entries)?;
        Ok(Self {
            bytes,
            manifest,
            connection: connection.clone(),
            product: product.clone(),
        })
    }

    /// Reads a package back and checks it: every entry is in the manifest
    /// with a matching SHA-256 and size, nothing is missing or extra, the
    /// connection settings, CA and product description agree with each other
    /// and with the product files. Applies [`PackageLimits::DEFAULT`].
    ///
    /// # Errors
    /// [`PackagesError::PackageCorrupt`] naming the entry at fault;
    /// [`PackagesError::PackageLimit`] for an archive past a limit.
    pub fn open(bytes: Vec<u8>) -> Result<Self> {
        Self::open_with(bytes, &PackageLimits::DEFAULT)
    }

    /// [`StandalonePackage::open`] with the caller's limits.
    ///
    /// # Errors
    /// [`PackagesError::PackageCorrupt`] naming the entry at fault;
    /// [`PackagesError::PackageLimit`] naming the entry and the limit it
    /// passed.
    pub fn open_with(bytes: Vec<u8>, limits: &PackageLimits) -> Result<Self> {
        let corrupt = |entry: &str, problem: String| PackagesError::PackageCorrupt {
            entry: entry.to_owned(),
            problem,
        };
        let too_large = |entry: &str, limit: PackageLimit, actual: u64, allowed: u64| {
            PackagesError::PackageLimit {
                entry: entry.to_owned(),
                limit,
                actual,
                allowed,
            }
        };
        let archive_bytes = bytes.len() as u64;
        if archive_bytes > limits.max_archive_bytes {
            return Err(too_large(
                "archive",
                PackageLimit::ArchiveBytes,
                archive_bytes,
                limits.max_archive_bytes,
            ));
        }
        let mut archive = ZipArchive::new(Cursor::new(bytes.as_slice()))
            .map_err(|e| corrupt("archive", format!("not a readable ZIP archive: {e}")))?;
        if archive.len() > limits.max_entries {
            return Err(too_large(
                "archive",
                PackageLimit::Entries,
                archive.len() as u64,
                limits.max_entries as u64,
            ));
        }
        // Entries sharing compressed bytes multiply what a small archive
        // inflates to; a package we write never does that.
        match archive.has_overlapping_entries() {
            Ok(false) => {}
            Ok(true) => {
                return Err(corrupt(
                    "archive",
                    "entries overlap each other or the central directory".to_owned(),
                ));
            }
            Err(e) => return Err(corrupt("archive", format!("unreadable entry offsets: {e}"))),
        }
        let mut contents: BTreeMap<String, ReadEntry> = BTreeMap::new();
        let mut total_left = limits.max_total_bytes;
        let mut ratio_left = archive_bytes
            .saturating_mul(limits.max_ratio)
            .max(limits.ratio_allowance_bytes);
        for index in 0..archive.len() {
            let mut file = archive
                .by_index(index)
                .map_err(|e| corrupt("archive", format!("entry #{index} is unreadable: {e}")))?;
            let name = file
                .name()
                .map_err(|e| {
                    corrupt(
                        "archive",
                        format!("entry #{index} has an unreadable name: {e}"),
                    )
                })?
                .into_owned();
            if file.is_dir() {
                return Err(corrupt(
                    &name,
                    "a directory entry; packages hold files only".to_owned(),
                ));
            }
            let held = METADATA_ENTRIES.contains(&name.as_str());
            let (own_limit, own_allowed) = if held {
                (PackageLimit::MetadataBytes, limits.max_metadata_bytes)
            } else {
                (PackageLimit::EntryBytes, limits.max_entry_bytes)
            };
            // A claim past the limit is refused at once; a smaller claim is
            // not trusted: the bytes are counted as they inflate.
            if file.size() > own_allowed {
                return Err(too_large(&name, own_limit, file.size(), own_allowed));
            }
            let cap = own_allowed.min(total_left).min(ratio_left);
            let read_error =
                |e: std::io::Error| corrupt(&name, format!("cannot be decompressed: {e}"));
            let (size, entry) = if held {
                let mut data = Vec::new();
                (&mut file)
                    .take(cap.saturating_add(1))
                    .read_to_end(&mut data)
                    .map_err(read_error)?;
                (data.len() as u64, ReadEntry::Held(data))
            } else {
                let (size, sha256) = hash_capped(&mut file, cap).map_err(read_error)?;
                (size, ReadEntry::Hashed { size, sha256 })
            };
            if size > cap {
                let consumed = |left: u64, allowed: u64| allowed - left + size;
                return Err(if cap == own_allowed {
                    too_large(&name, own_limit, size, own_allowed)
                } else if cap == total_left {
                    too_large(
                        &name,
                        PackageLimit::TotalBytes,
                        consumed(total_left, limits.max_total_bytes),
                        limits.max_total_bytes,
                    )
                } else {
                    let allowed = archive_bytes
                        .saturating_mul(limits.max_ratio)
                        .max(limits.ratio_allowance_bytes);
                    too_large(
                        &name,
                        PackageLimit::CompressionRatio,
                        consumed(ratio_left, allowed),
                        allowed,
                    )
                });
            }
            total_left -= size;
            ratio_left -= size;
            if contents.insert(name.clone(), entry).is_some() {
                return Err(corrupt(&name, "appears twice".to_owned()));
            }
        }

        let Some(ReadEntry::Held(manifest_bytes)) = contents.remove(MANIFEST_ENTRY) else {
            return Err(corrupt(MANIFEST_ENTRY, "missing".to_owned()));
        };
        let manifest: PackageManifest = serde_json::from_slice(&manifest_bytes)
            .map_err(|e| corrupt(MANIFEST_ENTRY, format!("not a package manifest: {e}")))?;
        if manifest.format != PACKAGE_FORMAT {
            return Err(corrupt(
                MANIFEST_ENTRY,
                format!("format {} is not {PACKAGE_FORMAT}", manifest.format),
            ));
        }
        for (name, entry) in &manifest.entries {
            let (size, sha256) = contents
                .get(name)
                .ok_or_else(|| corrupt(name, "listed in the manifest but absent".to_owned()))?
                .size_and_digest();
            if size != entry.size || sha256 != entry.sha256 {
                return Err(corrupt(
                    name,
                    "SHA-256 or size differs from the manifest".to_owned(),
                ));
            }
        }
        if let Some(extra) = contents.keys().find(|n| !manifest.entries.contains_key(*n)) {
            return Err(corrupt(
                extra,
                "present but not listed in the manifest".to_owned(),
            ));
        }

        let text = |name: &str| -> Result<&str> {
            match contents.get(name) {
                Some(ReadEntry::Held(data)) => {
                    std::str::from_utf8(data).map_err(|_| corrupt(name, "not UTF-8".to_owned()))
                }
                _ => Err(corrupt(name, "missing".to_owned())),
            }
        };
        let product = ProductDescription::from_toml(text(PRODUCT_ENTRY)?)
            .map_err(|e| corrupt(PRODUCT_ENTRY, e.to_string()))?;
        let server_ca = CaCertificate::from_pem(text(CA_ENTRY)?.as_bytes())
            .map_err(|e| corrupt(CA_ENTRY, e.to_string()))?;
        let document: ConnectionDocument = serde_json::from_str(text(CONNECTION_ENTRY)?)
            .map_err(|e| corrupt(CONNECTION_ENTRY, format!("not connection settings: {e}")))?;
        let host = ServerHost::parse(&document.server_host)
            .map_err(|e| corrupt(CONNECTION_ENTRY, format!("server host: {e}")))?;
        let port = std::num::NonZeroU16::new(document.server_port).ok_or_else(|| {
            corrupt(
                CONNECTION_ENTRY,
                "server port 0 is not a port a server listens on".to_owned(),
            )
        })?;
        let server = ServerAddress::new(host, Some(port));
        let enrollment_token = document
            .enrollment_token
            .as_deref()
            .map(InvitationToken::parse)
            .transpose()
            .map_err(|e| corrupt(CONNECTION_ENTRY, format!("enrollment token: {e}")))?;
        let connection = ConnectionSettings {
            server,
            server_ca,
            workspace_id: document.workspace_id,
            user: document.user,
            enrollment_token,
        };
        connection
            .check()
            .map_err(|e| corrupt(CONNECTION_ENTRY, e.to_string()))?;

        let agreement = [
            (
                document.format == PACKAGE_FORMAT,
                CONNECTION_ENTRY,
                "format differs",
            ),
            (
                document.server_ca == CA_ENTRY,
                CONNECTION_ENTRY,
                "names another CA file",
            ),
            (
                document.server_ca_sha256 == connection.server_ca.sha256_fingerprint()
                    && manifest.server_ca_sha256 == document.server_ca_sha256,
                CA_ENTRY,
                "fingerprint differs from connection.json or the manifest",
            ),
            (
                manifest.server == connection.server,
                MANIFEST_ENTRY,
                "server differs from connection.json",
            ),
            (
                manifest.product_name == product.name()
                    && manifest.product_version == product.version()
                    && manifest.platform == product.platform(),
                MANIFEST_ENTRY,
                "product differs from product.toml",
            ),
        ];
        if let Some((_, entry, problem)) = agreement.iter().find(|(ok, _, _)| !ok) {
            return Err(corrupt(entry, (*problem).to_owned()));
        }
        for file in product.files() {
            let name = format!("{PRODUCT_DIR}{}", file.path);
            let (size, sha256) = contents
                .get(&name)
                .ok_or_else(|| corrupt(&name, "listed in product.toml but absent".to_owned()))?
                .size_and_digest();
            file.verify_digest(size, &sha256)
                .map_err(|e| corrupt(&name, e.to_string()))?;
        }
        let expected: Vec<String> = [CONNECTION_ENTRY, PRODUCT_ENTRY, CA_ENTRY]
            .iter()
            .map(|n| (*n).to_owned())
            .chain(
                product
                    .files()
                    .iter()
                    .map(|f| format!("{PRODUCT_DIR}{}", f.path)),
            )
            .collect();
        if let Some(extra) = contents.keys().find(|n| !expected.contains(n)) {
            return Err(corrupt(extra, "not part of the product".to_owned()));
        }

        Ok(Self {
            bytes,
            manifest,
            connection,
            product,
        })
    }

    /// Whether the package still reaches and trusts the server as it is now.
    #[must_use]
    pub fn freshness(
        &self,
        current_server: &ServerAddress,
        current_ca: &CaCertificate,
    ) -> Freshness {
        let mut reasons = Vec::new();
        if &self.connection.server != current_server {
            reasons.push(StaleReason::ServerAddressChanged {
                built_for: self.connection.server.clone(),
                current: current_server.clone(),
            });
        }
        let built_for = self.connection.server_ca.sha256_fingerprint();
        let current = current_ca.sha256_fingerprint();
        if built_for != current {
            reasons.push(StaleReason::ServerCaChanged { built_for, current });
        }
        if reasons.is_empty() {
            Freshness::Current
        } else {
            Freshness::Stale(reasons)
        }
    }

    /// The ZIP bytes, to serve or save.
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Takes the ZIP bytes.
    #[must_use]
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The manifest.
    #[must_use]
    pub fn manifest(&self) -> &PackageManifest {
        &self.manifest
    }

    /// The embedded connection settings.
    #[must_use]
    pub fn connection(&self) -> &ConnectionSettings {
        &self.connection
    }

    /// The product description the package was built from.
    #[must_use]
    pub fn product(&self) -> &ProductDescription {
        &self.product
    }

    /// A file name for downloads: `<product>-<version>.zip`, lowercase ASCII
    /// letters, digits, dots and hyphens only.
    #[must_use]
    pub fn file_name(&self) -> String {
        let slug = |s: &str| {
            let mut out = String::new();
            for c in s.chars() {
                if c.is_ascii_alphanumeric() || c == '.' {
                    out.push(c.to_ascii_lowercase());
                } else if !out.ends_with('-') {
                    out.push('-');
                }
            }
            let trimmed = out.trim_matches(|c| c == '-' || c == '.').to_owned();
            if trimmed.is_empty() {
                "package".to_owned()
            } else {
                trimmed
            }
        };
        format!(
            "{}-{}.zip",
            slug(self.product.name()),
            slug(self.product.version())
        )
    }
}

fn to_json<T: Serialize>(entry: &str, value: &T) -> Result<Vec<u8>> {
    let mut out = serde_json::to_vec_pretty(value).map_err(|e| PackagesError::PackageWrite {
        entry: entry.to_owned(),
        problem: e.to_string(),
    })?;
    out.push(b'\n');
    Ok(out)
}

/// Entries shorter than this are stored, not deflated. A package is built per
/// invitation; deflating its few small text entries (connection settings,
/// manifest, product description, CA certificate) saved about 650 bytes next
/// to an agent of megabytes, and cost a compressor's setup (hundreds of
/// kilobytes of tables cleared) per entry, to build and again to read.
const STORE_BELOW_BYTES: usize = 1024;

/// Whether an entry is written as is: already compressed, or too small to gain.
fn stored(name: &str, len: usize) -> bool {
    len < STORE_BELOW_BYTES || is_precompressed(name)
}

/// Entries whose content is already compressed are stored as-is.
fn is_precompressed(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".apk", ".zip", ".jar", ".png", ".jpg", ".gz", ".xz"]
        .iter()
        .any(|ext| lower.ends_with(ext))
}

fn write_zip(entries: &BTreeMap<String, Vec<u8>>) -> Result<Vec<u8>> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        let write_err = |e: &dyn std::fmt::Display| PackagesError::PackageWrite {
            entry: name.clone(),
            problem: e.to_string(),
        };
        let method = if stored(name, bytes.len()) {
            CompressionMethod::Stored
        } else {
            CompressionMethod::Deflated
        };
        let options = SimpleFileOptions::DEFAULT
            .compression_method(method)
            .last_modified_time(DateTime::DEFAULT)
            .unix_permissions(0o644)
            .large_file(bytes.len() as u64 >= u64::from(u32::MAX));
        writer
            .start_file(name.as_str(), options)
            .map_err(|e| write_err(&e))?;
        writer.write_all(bytes).map_err(|e| write_err(&e))?;
    }
    let cursor = writer.finish().map_err(|e| PackagesError::PackageWrite {
        entry: "archive".to_owned(),
        problem: e.to_string(),
    })?;
    Ok(cursor.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `text` as a package carries it: with `default_port` where it names none.
    fn address(text: &str, default_port: u16) -> ServerAddress {
        ServerAddress::parse(text)
            .unwrap()
            .with_default_port(std::num::NonZeroU16::new(default_port).unwrap())
    }
    use crate::product::{ProductFile, ProductPath};
    use crate::tools::run_tool;

    pub(crate) const CA_1: &str = include_str!("../tests/fixtures/server-ca-1.pem");
    pub(crate) const CA_2: &str = include_str!("../tests/fixtures/server-ca-2.pem");

    /// Stand-in agent bytes: an APK is itself a ZIP, so make a small real one.
    fn fake_apk() -> Vec<u8> {
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        w.start_file(
            "AndroidManifest.xml",
            SimpleFileOptions::DEFAULT.last_modified_time(DateTime::DEFAULT),
        )
        .unwrap();
        w.write_all(b"<manifest package=\"com.example.agent\"/>")
            .unwrap();
        w.finish().unwrap().into_inner()
    }

    fn product(apk: &[u8], eula: &[u8]) -> ProductDescription {
        ProductDescription::new(
            "Endpoint Agent for Android",
            "10.4.2",
            Platform::Android,
            vec![
                ProductFile {
                    path: ProductPath::new("agent.apk").unwrap(),
                    sha256: Sha256Digest::of(apk),
                    size: Some(apk.len() as u64),
                },
                ProductFile {
                    path: ProductPath::new("docs/eula.txt").unwrap(),
                    sha256: Sha256Digest::of(eula),
                    size: None,
                },
            ],
        )
        .unwrap()
    }

    fn settings(server: &str, ca: &str) -> ConnectionSettings {
        ConnectionSettings {
            server: address(server, 13292),
            server_ca: CaCertificate::from_pem(ca.as_bytes()).unwrap(),
            workspace_id: "ws-0001".to_owned(),
            user: Some("taro.yamada".to_owned()),
            enrollment_token: Some(
                InvitationToken::parse("owE8CCx17ckTWYw7qsGvoY92M_6PAUiWqy8acv-D2Lo").unwrap(),
            ),
        }
    }

    const EULA: &[u8] = b"End-user licence agreement.\n";

    fn build(server: &str, ca: &str) -> StandalonePackage {
        let apk = fake_apk();
        StandalonePackage::build(
            &product(&apk, EULA),
            &[("agent.apk", &apk), ("docs/eula.txt", EULA)],
            &settings(server, ca),
        )
        .unwrap()
    }

    #[test]
    fn same_inputs_give_byte_identical_packages() {
        let a = build("mdm.example.com", CA_1);
        let b = build("mdm.example.com", CA_1);
        assert_eq!(a.bytes(), b.bytes());
        let c = build("mdm2.example.com", CA_1);
        assert_ne!(a.bytes(), c.bytes());
    }

    #[test]
    fn entries_are_sorted_with_fixed_timestamps() {
        let package = build("mdm.example.com", CA_1);
        let mut archive = ZipArchive::new(Cursor::new(package.bytes())).unwrap();
        let names: Vec<String> = archive
            .file_names()
            .map(|n| n.unwrap().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "connection.json",
                "manifest.json",
                "product.toml",
                "product/agent.apk",
                "product/docs/eula.txt",
                "server-ca.pem"
            ]
        );
        for i in 0..archive.len() {
            let f = archive.by_index(i).unwrap();
            assert_eq!(f.last_modified(), Some(DateTime::DEFAULT), "{:?}", f.name());
            assert_eq!(f.unix_mode().map(|m| m & 0o777), Some(0o644));
            let expected = if f.name().unwrap().ends_with(".apk") || f.size() < 1024 {
                CompressionMethod::Stored
            } else {
                CompressionMethod::Deflated
            };
            assert_eq!(f.compression(), expected);
        }
    }

    #[test]
    fn small_entries_are_stored_and_larger_text_deflated() {
        let apk = fake_apk();
        let eula = "End-user licence agreement. ".repeat(200);
        let package = StandalonePackage::build(
            &product(&apk, eula.as_bytes()),
            &[("agent.apk", &apk), ("docs/eula.txt", eula.as_bytes())],
            &settings("mdm.example.com", CA_1),
        )
        .unwrap();
        let mut archive = ZipArchive::new(Cursor::new(package.bytes())).unwrap();
        let eula_entry = archive.by_name("product/docs/eula.txt").unwrap();
        assert_eq!(eula_entry.compression(), CompressionMethod::Deflated);
        assert!(eula_entry.compressed_size() < eula_entry.size() / 10);
        drop(eula_entry);
        let small = archive.by_name("connection.json").unwrap();
        assert_eq!(small.compression(), CompressionMethod::Stored);
        drop(small);
        let opened = StandalonePackage::open(package.bytes().to_vec()).unwrap();
        assert_eq!(opened, package);
    }

    #[test]
    fn reads_back_what_it_wrote() {
        let package = build("mdm.example.com:8443", CA_1);
        let opened = StandalonePackage::open(package.bytes().to_vec()).unwrap();
        assert_eq!(opened, package);
        assert_eq!(
            opened.connection().server.to_string(),
            "mdm.example.com:8443"
        );
        assert_eq!(opened.connection().user.as_deref(), Some("taro.yamada"));
        assert_eq!(opened.file_name(), "endpoint-agent-for-android-10.4.2.zip");
        let v6 = build("[2001:db8::5]:443", CA_1);
        assert_eq!(StandalonePackage::open(v6.bytes().to_vec()).unwrap(), v6);
    }

    #[test]
    fn manifest_snapshot() {
        let package = build("mdm.example.com", CA_1);
        let mut archive = ZipArchive::new(Cursor::new(package.bytes())).unwrap();
        let mut manifest = String::new();
        archive
            .by_name(MANIFEST_ENTRY)
            .unwrap()
            .read_to_string(&mut manifest)
            .unwrap();
        insta::assert_snapshot!("manifest_json", manifest);
        let mut connection = String::new();
        archive
            .by_name(CONNECTION_ENTRY)
            .unwrap()
            .read_to_string(&mut connection)
            .unwrap();
        insta::assert_snapshot!("connection_json", connection);
    }

    #[test]
    fn a_package_for_an_old_address_is_stale() {
        let package = build("mdm.example.com", CA_1);
        let ca1 = CaCertificate::from_pem(CA_1.as_bytes()).unwrap();
        let ca2 = CaCertificate::from_pem(CA_2.as_bytes()).unwrap();
        let same = address("MDM.example.com:13292", 443);
        assert_eq!(package.freshness(&same, &ca1), Freshness::Current);

        let moved = address("mdm-new.example.com", 13292);
        let reopened = StandalonePackage::open(package.bytes().to_vec()).unwrap();
        match reopened.freshness(&moved, &ca1) {
            Freshness::Stale(reasons) => assert_eq!(
                reasons,
                [StaleReason::ServerAddressChanged {
                    built_for: address("mdm.example.com:13292", 1),
                    current: moved.clone(),
                }]
            ),
            Freshness::Current => panic!("a moved server must make the package stale"),
        }
        let port_changed = address("mdm.example.com:13293", 443);
        assert!(package.freshness(&port_changed, &ca1).is_stale());
        match package.freshness(&moved, &ca2) {
            Freshness::Stale(reasons) => assert_eq!(reasons.len(), 2),
            Freshness::Current => panic!("stale expected"),
        }
    }

    #[test]
    fn build_refuses_files_that_do_not_match_the_description() {
        let apk = fake_apk();
        let p = product(&apk, EULA);
        let s = settings("mdm.example.com", CA_1);
        let err = StandalonePackage::build(
            &p,
            &[("agent.apk", b"tampered"), ("docs/eula.txt", EULA)],
            &s,
        );
        assert!(
            matches!(err, Err(PackagesError::ProductFile { ref path, .. }) if path == "agent.apk")
        );
        let err = StandalonePackage::build(&p, &[("agent.apk", &apk)], &s);
        assert!(
            matches!(err, Err(PackagesError::ProductFile { ref path, .. }) if path == "docs/eula.txt")
        );
        let err = StandalonePackage::build(
            &p,
            &[("agent.apk", &apk), ("docs/eula.txt", EULA), ("x", b"")],
            &s,
        );
        assert!(matches!(err, Err(PackagesError::ProductFile { ref path, .. }) if path == "x"));
        let err = StandalonePackage::build(
            &p,
            &[
                ("agent.apk", &apk),
                ("agent.apk", &apk),
                ("docs/eula.txt", EULA),
            ],
            &s,
        );
        assert!(
            matches!(err, Err(PackagesError::ProductFile { ref path, .. }) if path == "agent.apk")
        );
        let mut no_ws = s.clone();
        no_ws.workspace_id = " ".to_owned();
        let err =
            StandalonePackage::build(&p, &[("agent.apk", &apk), ("docs/eula.txt", EULA)], &no_ws);
        assert!(matches!(
            err,
            Err(PackagesError::ConnectionSetting {
                field: "workspace_id",
                ..
            })
        ));
    }

    /// Rewrites one entry of a package (keeping everything else) to test
    /// that tampering is caught.
    fn tamper(
        package: &[u8],
        entry: &str,
        new: Option<&[u8]>,
        extra: Option<(&str, &[u8])>,
    ) -> Vec<u8> {
        let mut archive = ZipArchive::new(Cursor::new(package)).unwrap();
        let mut entries = BTreeMap::new();
        for i in 0..archive.len() {
            let mut f = archive.by_index(i).unwrap();
            let name = f.name().unwrap().into_owned();
            let mut data = Vec::new();
            f.read_to_end(&mut data).unwrap();
            entries.insert(name, data);
        }
        match new {
            Some(bytes) => {
                entries.insert(entry.to_owned(), bytes.to_vec());
            }
            None => {
                entries.remove(entry);
            }
        }
        if let Some((name, bytes)) = extra {
            entries.insert(name.to_owned(), bytes.to_vec());
        }
        write_zip(&entries).unwrap()
    }

    #[test]
    fn open_detects_tampering() {
        let package = build("mdm.example.com", CA_1);
        let bytes = package.bytes();
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (
                tamper(bytes, "product/agent.apk", Some(b"evil"), None),
                "product/agent.apk",
            ),
            (
                tamper(bytes, "server-ca.pem", Some(CA_2.as_bytes()), None),
                "server-ca.pem",
            ),
            (
                tamper(bytes, "connection.json", None, None),
                "connection.json",
            ),
            (tamper(bytes, "manifest.json", None, None), "manifest.json"),
            (
                tamper(bytes, "manifest.json", Some(b"{}"), None),
                "manifest.json",
            ),
            (
                tamper(bytes, "x", None, Some(("extra.bin", b"1"))),
                "extra.bin",
            ),
            (b"PK\x03\x04 not really".to_vec(), "archive"),
            (Vec::new(), "archive"),
        ];
        for (bytes, expected_entry) in cases {
            match StandalonePackage::open(bytes) {
                Err(PackagesError::PackageCorrupt { entry, .. }) => {
                    assert_eq!(entry, expected_entry);
                }
                other => panic!("expected corruption in {expected_entry}, got {other:?}"),
            }
        }
    }

    #[test]
    fn manifest_rewritten_consistently_is_still_cross_checked() {
        // An attacker who rewrites the CA *and* the manifest's entry hash
        // still trips the fingerprint in connection.json.
        let package = build("mdm.example.com", CA_1);
        let mut manifest = package.manifest().clone();
        let ca2 = CaCertificate::from_pem(CA_2.as_bytes()).unwrap().to_pem();
        manifest.entries.insert(
            CA_ENTRY.to_owned(),
            ManifestEntry {
                sha256: Sha256Digest::of(ca2.as_bytes()),
                size: ca2.len() as u64,
            },
        );
        let manifest_json = to_json(MANIFEST_ENTRY, &manifest).unwrap();
        let once = tamper(package.bytes(), CA_ENTRY, Some(ca2.as_bytes()), None);
        let twice = tamper(&once, MANIFEST_ENTRY, Some(&manifest_json), None);
        assert!(matches!(
            StandalonePackage::open(twice),
            Err(PackagesError::PackageCorrupt { entry, .. }) if entry == CA_ENTRY
        ));
    }

    const PY_CHECK: &str = r#"
import hashlib, io, json, sys, zipfile
z = zipfile.ZipFile(io.BytesIO(sys.stdin.buffer.read()))
assert z.testzip() is None, "CRC error"
names = z.namelist()
assert names == sorted(names), names
manifest = json.loads(z.read("manifest.json"))
for info in z.infolist():
    assert info.date_time == (1980, 1, 1, 0, 0, 0), info
    if info.filename == "manifest.json":
        continue
    data = z.read(info.filename)
    entry = manifest["entries"][info.filename]
    assert hashlib.sha256(data).hexdigest() == entry["sha256"], info.filename
    assert len(data) == entry["size"], info.filename
assert set(manifest["entries"]) == set(names) - {"manifest.json"}
conn = json.loads(z.read("connection.json"))
print(json.dumps({"entries": len(names), "server": manifest["server"], "host": conn["server_host"]}, sort_keys=True))
"#;

    #[test]
    fn python_zipfile_opens_the_package_and_hashes_match() {
        let package = build("mdm.example.com", CA_1);
        let Some((ok, out, err)) = run_tool("python3", &["-c", PY_CHECK], package.bytes()) else {
            return;
        };
        assert!(ok, "python3 zipfile check failed: {err}");
        assert_eq!(
            out.trim(),
            r#"{"entries": 6, "host": "mdm.example.com", "server": "mdm.example.com:13292"}"#
        );
    }

    proptest::proptest! {
        #[test]
        fn open_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let _ = StandalonePackage::open(bytes);
        }

        #[test]
        fn open_never_panics_on_corrupted_packages(at in 0usize..4000, byte in proptest::prelude::any::<u8>()) {
            let mut bytes = build("mdm.example.com", CA_1).into_bytes();
            let len = bytes.len();
            if let Some(b) = bytes.get_mut(at % len) { *b ^= byte | 1; }
            let _ = StandalonePackage::open(bytes);
        }
    }
}
