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
    #[error(
        "{field}: {url:?} must be an absolute https:// URL with a host, without whitespace or control characters"
    )]
    NotHttps {
        /// The profile key or parameter holding the URL.
        field: &'static str,
        /// The URL as given.
        url: String,
    },
    /// A `PayloadUUID` that is not in the 8-4-4-4-12 form, or a
    /// `CommandUUID` that is empty or holds control characters.
    #[error("{field}: {value:?} {rule}")]
    InvalidUuid {
        /// The key holding it.
        field: &'static str,
        /// The value as given.
        value: String,
        /// The rule it broke.
        rule: &'static str,
    },
    /// A required key is missing, empty or only whitespace.
    #[error("{payload}: required key {key} is missing, empty or only whitespace")]
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
    /// A SignedData beyond what this crate reads: too many SignerInfos
    /// ([`crate::MAX_CMS_SIGNERS`]) or certificates ([`crate::MAX_CMS_CERTIFICATES`]).
    #[error("CMS SignedData carries {count} {what}, more than the {max} accepted")]
    CmsLimit {
        /// What there were too many of.
        what: &'static str,
        /// How many there were.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// Signed attributes without exactly one `contentType` or exactly one
    /// `messageDigest` attribute of exactly one value (RFC 5652 §5.3).
    #[error(
        "CMS signed attributes hold {count} {attribute} attributes or values; exactly one is required"
    )]
    CmsAttributeCount {
        /// `contentType` or `messageDigest`.
        attribute: &'static str,
        /// How many attributes (or values of the one attribute) there were.
        count: usize,
    },
    /// The CMS signer does not chain to any of the caller's trust anchors.
    #[error("CMS signer {subject} is not trusted: {reason}")]
    UntrustedSigner {
        /// The signer certificate's subject.
        subject: String,
        /// Why no trusted path was found.
        reason: &'static str,
    },
    /// A certificate on the signer's path is expired or not yet valid at `now`.
    #[error("certificate {subject} is valid from {not_before} to {not_after}, not at {now}")]
    CertificateNotValidAt {
        /// The certificate's subject.
        subject: String,
        /// Start of its validity.
        not_before: time::OffsetDateTime,
        /// End of its validity.
        not_after: time::OffsetDateTime,
        /// The time it was checked at.
        now: time::OffsetDateTime,
    },
    /// A certificate on the signer's path used against its key usage (or
    /// an issuer that is not a CA).
    #[error("certificate {subject} may not be used for {usage}")]
    KeyUsageForbids {
        /// The certificate's subject.
        subject: String,
        /// The use that was refused.
        usage: &'static str,
    },
    /// An RSA key shorter than [`crate::MIN_RSA_BITS`] on a signer's path.
    #[error("certificate {subject} has a {bits}-bit RSA key; at least {min} bits are required")]
    WeakRsaKey {
        /// The certificate's subject.
        subject: String,
        /// The modulus length.
        bits: usize,
        /// The minimum.
        min: usize,
    },
    /// Bytes that are not a property list (malformed, truncated, not XML/binary plist).
    #[error("malformed plist: {reason}")]
    MalformedPlist {
        /// The parser's complaint.
        reason: String,
    },
    /// A plist body larger than [`crate::MAX_PLIST_BYTES`], refused unread.
    #[error("plist body of {len} bytes is larger than the {max} accepted")]
    PlistTooLarge {
        /// The body's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A plist that decodes to more values than [`crate::MAX_PLIST_NODES`]
    /// (or than its length in bytes): typically a binary plist whose
    /// objects reference the same collections over and over.
    #[error(
        "plist decodes to more than {max} values; at most 100,000 are accepted, and no more than one per byte of the body"
    )]
    PlistTooManyNodes {
        /// The limit that applied to this body.
        max: usize,
    },
    /// A plist whose strings and data add up to more than
    /// [`crate::MAX_PLIST_BYTES`] once decoded (a binary plist referencing
    /// one large object many times).
    #[error("plist decodes to more than {max} bytes of strings and data")]
    PlistContentTooLarge {
        /// The limit.
        max: usize,
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
    /// A required key is absent from a device message, a command or a
    /// profile's payload, or empty. `UDID` stands for the device's id: a
    /// non-empty `UDID` or `EnrollmentID`.
    #[error("{message}: required key {key} is missing or empty")]
    MissingField {
        /// The message kind (`TokenUpdate`, a command report…).
        message: &'static str,
        /// The key.
        key: &'static str,
    },
    /// A key of a device message, a command or a profile's payload has the
    /// wrong plist type.
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
    /// A command report from another device than the queue's (a forged or
    /// misrouted report naming another `UDID` or `EnrollmentID`).
    #[error("command report from {received}, but this queue belongs to {expected}")]
    ReportFromOtherDevice {
        /// The queue's device id.
        expected: String,
        /// The id the report carries.
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
    #[error(
        "command {uuid} is already pending or finished in this queue; a CommandUUID is queued once"
    )]
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
    /// An APNs push token of the wrong length (the rule is 1 to 100 bytes).
    #[error("APNs device token must be 1 to 100 bytes, got {len}")]
    InvalidPushToken {
        /// The length received.
        len: usize,
    },
    /// A command of a `RequestType` this crate models (read by
    /// [`crate::parse_command`]) with a key its typed form does not hold:
    /// refused rather than sent without it.
    #[error(
        "{request_type} command: {key} is not a key this crate models for it; the command is refused rather than sent without it"
    )]
    UnsupportedCommandKey {
        /// The command's `RequestType`.
        request_type: String,
        /// The key (or `Item …` for a `Settings` item).
        key: String,
    },
    /// Bytes read as a configuration profile ([`crate::read_profile`])
    /// that are not one: neither an XML or binary plist nor CMS
    /// SignedData, or a plist that is not a `Configuration`.
    #[error("not a configuration profile: {reason}")]
    NotAProfile {
        /// What the bytes are, or what is missing.
        reason: String,
    },
    /// The push certificate's topic (its subject's UID) is not the
    /// workspace's: APNs would refuse the pushes or wake nobody.
    #[error("push certificate topic {found:?} is not the workspace's topic {expected}")]
    PushCertificateTopic {
        /// The workspace's topic.
        expected: String,
        /// The certificate's UID, if it has one.
        found: Option<String>,
    },
    /// The push certificate is expired or not yet valid at `now`.
    #[error("push certificate {subject} is valid from {not_before} to {not_after}, not at {now}")]
    PushCertificateNotValid {
        /// Its subject.
        subject: String,
        /// Start of validity.
        not_before: time::OffsetDateTime,
        /// End of validity.
        not_after: time::OffsetDateTime,
        /// The caller's date.
        now: time::OffsetDateTime,
    },
    /// The provider client's settings or TLS set-up cannot work.
    #[error("APNs provider set-up: {reason}")]
    ProviderSetup {
        /// What was wrong.
        reason: String,
    },
    /// An identity given as PKCS#12 that is not a DER structure.
    #[error("PKCS#12 identity {name:?} must be one DER SEQUENCE (a PFX): {reason}")]
    InvalidPkcs12 {
        /// The payload's display name or file name.
        name: String,
        /// What was wrong.
        reason: String,
    },
    /// A check-in whose `MessageType` the service does not know.
    #[error("unknown check-in MessageType {message_type:?}")]
    UnknownMessageType {
        /// The `MessageType` sent.
        message_type: String,
    },
    /// A message sent to the wrong endpoint: a command report to the
    /// check-in URL, or a check-in to the command URL without the check-in
    /// content type.
    #[error("{message} cannot be sent to the {endpoint} endpoint")]
    WrongEndpoint {
        /// The message kind.
        message: String,
        /// `check-in` or `command`.
        endpoint: &'static str,
    },
    /// A check-in type the service decodes but does not serve.
    #[error("{message_type} is not served here: {reason}")]
    UnsupportedCheckin {
        /// The `MessageType`.
        message_type: &'static str,
        /// Why, and what would be needed.
        reason: String,
    },
    /// A request without any identity certificate (no `Mdm-Signature`,
    /// no trusted `Client-Cert`, no TLS peer certificate).
    #[error("the request carries no device identity certificate")]
    NoIdentity,
    /// An `Mdm-Signature` or `Client-Cert` header that cannot be decoded.
    #[error("{header} header: {reason}")]
    MalformedIdentityHeader {
        /// The header.
        header: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// An `Authenticate` whose identity certificate the integrator did not
    /// declare as issued for an enrollment ([`crate::AppleService::expect_identity`]).
    #[error("Authenticate from {device} with an identity not issued for any enrollment")]
    UnknownIdentity {
        /// The device id the message named.
        device: String,
    },
    /// A request for a device whose bound identity is another certificate:
    /// one device speaking for another.
    #[error("request for {device} signed by an identity that is not the one bound to it")]
    IdentityMismatch {
        /// The device id the message named.
        device: String,
    },
    /// A request from a device without an active enrollment (no
    /// `Authenticate`, checked out, or wiped).
    #[error("{message} from {device}, which has no active enrollment")]
    NotEnrolled {
        /// The message kind.
        message: String,
        /// The device id.
        device: String,
    },
    /// The model refused what the request would change.
    #[error("{operation}: {source}")]
    Model {
        /// What the service was recording.
        operation: &'static str,
        /// The model's refusal.
        source: mdm_model::ModelError,
    },
    /// The service's state store failed.
    #[error("Apple service store: {reason}")]
    Store {
        /// What failed.
        reason: String,
    },
}

/// Result alias used throughout the crate.
pub type Result<T, E = AppleError> = std::result::Result<T, E>;
