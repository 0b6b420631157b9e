//! The crate's single error type.

use thiserror::Error;

/// Everything that can go wrong in `mdm-apple`.
///
/// Variants fall in two groups, as in rustls: the caller asked for something
/// the protocol forbids (an invalid profile, a bad topic, a duplicate command
/// UUID) — a bug to fix — or input from a device or a file was bad (a
/// truncated plist, a wrong-typed key, a signature that does not verify) — a
/// result to report. Each variant names the field or input at fault.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AppleError {
    /// An APNs topic that does not start with `com.apple.mgmt.` (or is otherwise unusable).
    #[error("invalid APNs topic {topic:?}: {reason}")]
    InvalidTopic {
        /// The topic as given.
        topic: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A URL that is not an absolute `https://` URL with a host.
    #[error("{field}: {url:?} is not an https URL")]
    NotHttps {
        /// The profile key or parameter holding the URL.
        field: &'static str,
        /// The URL as given.
        url: String,
    },
    /// A payload UUID or command UUID that is not in the 8-4-4-4-12 form.
    #[error("{field}: {value:?} is not a UUID")]
    InvalidUuid {
        /// The key holding it.
        field: &'static str,
        /// The value as given.
        value: String,
    },
    /// A required key is missing or empty.
    #[error("{payload}: required key {key} is missing or empty")]
    MissingKey {
        /// The payload type (or message type) that needs it.
        payload: String,
        /// The key.
        key: &'static str,
    },
    /// A value outside what the schema allows.
    #[error("{payload}: {key} = {value} is not allowed: {reason}")]
    InvalidValue {
        /// The payload type (or message type).
        payload: String,
        /// The key.
        key: &'static str,
        /// The rejected value, rendered.
        value: String,
        /// Which rule it broke.
        reason: &'static str,
    },
    /// `AccessRights` breaks the MDM payload's bit rules.
    #[error("AccessRights {bits}: {reason}")]
    InvalidAccessRights {
        /// The rejected bit set.
        bits: u32,
        /// Which rule it broke.
        reason: &'static str,
    },
    /// `IdentityCertificateUUID` does not name an identity payload of the profile.
    #[error(
        "IdentityCertificateUUID {uuid} does not name a PKCS#12 or SCEP payload in this profile"
    )]
    IdentityNotInProfile {
        /// The UUID the MDM payload points at.
        uuid: String,
    },
    /// Two payloads share a `PayloadIdentifier` or `PayloadUUID`.
    #[error("two payloads share the {key} {value:?}")]
    DuplicatePayload {
        /// `PayloadIdentifier` or `PayloadUUID`.
        key: &'static str,
        /// The shared value.
        value: String,
    },
    /// A profile with more than one `com.apple.mdm` payload.
    #[error("a profile may hold at most one com.apple.mdm payload, found {count}")]
    SeveralMdmPayloads {
        /// How many there were.
        count: usize,
    },
    /// A certificate given as DER that does not parse as X.509.
    #[error("{what}: not a DER X.509 certificate: {reason}")]
    InvalidCertificate {
        /// Which certificate (payload name, chain position…).
        what: String,
        /// The parser's complaint.
        reason: String,
    },
    /// A private key given as PKCS#8 DER that is neither RSA nor ECDSA P-256, or is malformed.
    #[error("signer private key: {reason}")]
    InvalidPrivateKey {
        /// Why it was refused (never the key material).
        reason: String,
    },
    /// The signer key does not match the public key of the first certificate of the chain.
    #[error("signer key does not match the certificate {subject}")]
    KeyCertificateMismatch {
        /// Subject of the leaf certificate.
        subject: String,
    },
    /// Building or encoding the CMS structure failed.
    #[error("CMS encoding failed: {reason}")]
    CmsEncoding {
        /// What failed.
        reason: String,
    },
    /// A signed profile that is not well-formed CMS SignedData (DER or BER).
    #[error("malformed CMS SignedData: {reason}")]
    MalformedCms {
        /// What was wrong, with the byte offset where known.
        reason: String,
    },
    /// CMS uses an algorithm this crate does not verify.
    #[error("unsupported CMS algorithm {oid} in {field}")]
    UnsupportedAlgorithm {
        /// Where it appeared.
        field: &'static str,
        /// The algorithm OID.
        oid: String,
    },
    /// The CMS signature does not verify.
    #[error("signature verification failed: {reason}")]
    BadSignature {
        /// Which check failed (digest, signature, signer lookup).
        reason: &'static str,
    },
    /// Bytes that are not a property list (malformed, truncated, not XML/binary plist).
    #[error("malformed plist: {reason}")]
    MalformedPlist {
        /// The parser's complaint.
        reason: String,
    },
    /// Serialising a plist failed.
    #[error("plist serialisation failed: {reason}")]
    PlistWrite {
        /// The writer's complaint.
        reason: String,
    },
    /// A plist whose root is not a dictionary.
    #[error("{what}: the plist root is not a dictionary")]
    NotADictionary {
        /// What was being parsed.
        what: &'static str,
    },
    /// A required key is absent from a device message.
    #[error("{message}: required key {key} is missing")]
    MissingField {
        /// The message kind (`TokenUpdate`, a command report…).
        message: &'static str,
        /// The key.
        key: &'static str,
    },
    /// A key of a device message has the wrong plist type.
    #[error("{message}: key {key} should be {expected}")]
    WrongType {
        /// The message kind.
        message: &'static str,
        /// The key.
        key: String,
        /// The plist type expected.
        expected: &'static str,
    },
    /// A device message that is neither a check-in (`MessageType`) nor a report (`Status`).
    #[error("device message has neither MessageType nor Status")]
    UnknownMessage,
    /// A check-in for a topic other than the workspace's.
    #[error("check-in for topic {received}, but this workspace's topic is {expected}")]
    TopicMismatch {
        /// The workspace's topic.
        expected: String,
        /// The topic the device sent.
        received: String,
    },
    /// A check-in from another device than the enrollment's.
    #[error("check-in from {received}, but this enrollment belongs to {expected}")]
    DeviceMismatch {
        /// The enrollment's device id.
        expected: String,
        /// The id the device sent.
        received: String,
    },
    /// A check-in that the enrollment state does not allow now.
    #[error("{message} check-in is not allowed while the enrollment is {state}")]
    CheckinOutOfOrder {
        /// The check-in message type.
        message: &'static str,
        /// The current state.
        state: &'static str,
    },
    /// A command enqueued with a `CommandUUID` the queue already holds or finished.
    #[error("command {uuid} is already in the queue")]
    DuplicateCommand {
        /// The UUID.
        uuid: String,
    },
    /// A command response parsed for a report of another request type.
    #[error("report for {found} cannot be read as a {expected} response")]
    ResponseTypeMismatch {
        /// The request type the caller asked for.
        expected: String,
        /// The request type the report carries.
        found: String,
    },
    /// An APNs push token of the wrong length.
    #[error("APNs device token must be 32 bytes, got {len}")]
    InvalidPushToken {
        /// The length received.
        len: usize,
    },
    /// An identity given as PKCS#12 that is not a DER structure.
    #[error("PKCS#12 identity {name:?} is not DER: {reason}")]
    InvalidPkcs12 {
        /// The payload's display name or file name.
        name: String,
        /// What was wrong.
        reason: String,
    },
}

/// Result alias used throughout the crate.
pub type Result<T, E = AppleError> = std::result::Result<T, E>;
