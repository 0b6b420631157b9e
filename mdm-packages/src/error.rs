//! The one error type of this crate.

use thiserror::Error;

/// Everything that can go wrong while describing, building, distributing or
/// opening an installation package.
///
/// Variants that come from bad *input* (a product description file, a package
/// downloaded from somewhere, a link pasted by a user, a request from a
/// device) say which input and where; variants that come from a caller
/// passing inconsistent arguments say which argument.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PackagesError {
    /// A product description is not well-formed TOML, or a value has the
    /// wrong type.
    #[error("product description, line {line}, column {column}: {message}")]
    ProductSyntax {
        /// 1-based line of the offending input.
        line: usize,
        /// 1-based column (in characters) of the offending input.
        column: usize,
        /// What the TOML reader reported.
        message: String,
    },

    /// A product description is well-formed but a field breaks a rule of the
    /// format (empty name, unknown platform, bad digest, duplicate file …).
    #[error("product description, line {line}, column {column}: field `{field}`: {problem}")]
    ProductField {
        /// Dotted path of the field, e.g. `files[2].sha256`.
        field: String,
        /// 1-based line of the field's value (or of the table missing it).
        line: usize,
        /// 1-based column of the field's value.
        column: usize,
        /// What is wrong with it.
        problem: String,
    },

    /// The bytes supplied for a product file do not match the product
    /// description, or a file of the description was not supplied.
    #[error("product file `{path}`: {problem}")]
    ProductFile {
        /// The file's path as named in the product description.
        path: String,
        /// What is wrong (missing, digest mismatch, not in the description).
        problem: String,
    },

    /// A server address (FQDN or IP, optional port) is not valid.
    #[error("server address `{input}`: {problem}")]
    ServerAddress {
        /// The address as given.
        input: String,
        /// Why it was refused.
        problem: String,
    },

    /// The server CA certificate supplied for a package is neither PEM nor a
    /// plausible DER certificate.
    #[error("server CA certificate: {problem}")]
    CaCertificate {
        /// Why it was refused.
        problem: String,
    },

    /// A value destined for the package's connection settings is not valid
    /// (an empty workspace id or user account, a control character …).
    #[error("connection setting `{field}`: {problem}")]
    ConnectionSetting {
        /// Which setting.
        field: &'static str,
        /// Why it was refused.
        problem: String,
    },

    /// A standalone package could not be written.
    #[error("writing package entry `{entry}`: {problem}")]
    PackageWrite {
        /// The archive entry being written.
        entry: String,
        /// What the ZIP writer reported.
        problem: String,
    },

    /// A standalone package read back is not one of ours or was altered.
    #[error("package is not valid ({entry}): {problem}")]
    PackageCorrupt {
        /// The archive entry at fault (or `archive` for the container).
        entry: String,
        /// What is wrong.
        problem: String,
    },

    /// A standalone package read back goes past one of the
    /// [`crate::PackageLimits`] it was opened with: what the archive *does*
    /// (entries counted, bytes actually inflated), not what its headers claim.
    #[error("package is too large ({entry}): {limit} {actual} exceeds {allowed}")]
    PackageLimit {
        /// The archive entry at fault (or `archive` for the container).
        entry: String,
        /// Which limit.
        limit: crate::PackageLimit,
        /// What was counted when reading stopped (a lower bound: reading
        /// stops one byte past the limit).
        actual: u64,
        /// The limit.
        allowed: u64,
    },

    /// An invitation link is not one this server issued (wrong scheme, host,
    /// path, or a malformed token).
    #[error("invitation link `{input}`: {problem}")]
    InvitationLink {
        /// The link as given (tokens are never secrets worth hiding from the
        /// person who pasted them, but see [`crate::InvitationLink`]'s
        /// `Debug`, which redacts).
        input: String,
        /// Why it was refused.
        problem: String,
    },

    /// The workspace model refused an operation (an unknown user, a full
    /// workspace …). Enrollment refusals are not errors: they are
    /// [`crate::LinkAnswer::Refused`].
    #[error("{action}: {source}")]
    Model {
        /// What this crate was doing.
        action: &'static str,
        /// The model's reason.
        #[source]
        source: mdm_model::ModelError,
    },

    /// The enrollment profile could not be built or signed by `mdm-apple`.
    #[error("building the enrollment profile: {problem}")]
    AppleProfile {
        /// What `mdm-apple` reported.
        problem: String,
    },

    /// The server's state could not be reached or kept (a store failed, a
    /// lock was poisoned): the request is not the problem.
    #[error("the server's state is unavailable: {problem}")]
    StateUnavailable {
        /// What failed.
        problem: String,
    },

    /// The link does not fit in a QR code, or the image could not be encoded.
    #[error("QR code: {problem}")]
    QrCode {
        /// What the encoder reported.
        problem: String,
    },
}

/// Shorthand used throughout the crate.
pub type Result<T> = std::result::Result<T, PackagesError>;
