//! The one error type of this crate.

use time::OffsetDateTime;

/// Everything that can go wrong in `mdm-certs`.
///
/// Variants fall in two groups, as in rustls: *bad input* (a file, a CSR, a
/// password or a one-time password that a person or a device supplied) is a
/// result to report to that person; *misuse* (an invalid validity window, an
/// unsupported key size) is a bug in the caller.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    // ----- APNs CSR form (R-AP-1) -----
    /// A required field of the APNs CSR form was missing or blank.
    #[error("the APNs request field `{field}` is required and was empty")]
    MissingField {
        /// The form field, as the console labels it (e.g. `"City"`).
        field: &'static str,
    },
    /// The Country/Region field is not an ISO 3166-1 alpha-2 code.
    #[error("country `{value}` is not an ISO 3166-1 two-letter code")]
    InvalidCountry {
        /// What was entered.
        value: String,
    },
    /// A field of a subject name is empty, too long, or holds control
    /// characters.
    #[error(
        "the {field} `{value}` cannot be used in a certificate name: it must have 1 to 256 bytes once trimmed, and no control characters"
    )]
    InvalidNameValue {
        /// Which attribute.
        field: &'static str,
        /// What was given.
        value: String,
    },

    // ----- Addresses (R-SV-2) -----
    /// The server connection address cannot be written into a certificate's
    /// subjectAltName.
    #[error(
        "`{address}` cannot be named in a certificate: a dNSName is ASCII (IA5String), so an internationalised name must be given in its `xn--` form"
    )]
    InvalidAddress {
        /// What was given.
        address: String,
    },

    // ----- Validity and keys (caller misuse) -----
    /// A validity window that ends before it starts.
    #[error("validity ends ({not_after}) before it starts ({not_before})")]
    InvalidValidity {
        /// Requested start.
        not_before: OffsetDateTime,
        /// Requested end.
        not_after: OffsetDateTime,
    },
    /// A certificate would outlive its issuing CA.
    #[error("requested validity ends {requested} after the CA's own end {ca_not_after}")]
    OutlivesIssuer {
        /// Requested end.
        requested: OffsetDateTime,
        /// The CA's end.
        ca_not_after: OffsetDateTime,
    },
    /// Key generation failed (the RNG failed, or the key size is unsupported).
    #[error("could not generate a {algorithm} key: {reason}")]
    KeyGeneration {
        /// The requested algorithm.
        algorithm: &'static str,
        /// What failed.
        reason: String,
    },
    /// A private key could not be read (bad PKCS#8, unsupported algorithm).
    #[error("could not read the private key: {reason}")]
    InvalidPrivateKey {
        /// What was wrong.
        reason: String,
    },
    /// A PEM private key block of a form not read here (e.g. `DSA PRIVATE
    /// KEY`, `OPENSSH PRIVATE KEY`).
    #[error(
        "`-----BEGIN {label}-----` is not a key form read here; accepted: PRIVATE KEY and ENCRYPTED PRIVATE KEY (PKCS#8), RSA PRIVATE KEY (PKCS#1), EC PRIVATE KEY (SEC1, P-256); convert it with `openssl pkey -in old.pem -out new.pem`"
    )]
    UnsupportedKeyFormat {
        /// The block's label.
        label: String,
    },
    /// An old-style encrypted PEM key (`Proc-Type: 4,ENCRYPTED`) whose
    /// `DEK-Info` cipher is not read here.
    #[error(
        "the key is encrypted the old OpenSSL way with {cipher}; only AES-128-CBC, AES-192-CBC, AES-256-CBC and DES-EDE3-CBC are read: convert it with `openssl pkey -in old.pem -out new.pem` (add `-aes256` to keep it encrypted)"
    )]
    UnsupportedPemCipher {
        /// The cipher the `DEK-Info` header names.
        cipher: String,
    },
    /// The private key file is encrypted and no password was given.
    #[error("the private key is encrypted: a password is required")]
    KeyPasswordRequired,
    /// The password for an encrypted private key is wrong.
    #[error("wrong password for the encrypted private key")]
    KeyPasswordWrong,
    /// The private key does not belong to the certificate it was loaded with.
    #[error(
        "the private key does not match the certificate `{subject}`: the key must be the one whose public key the certificate holds"
    )]
    KeyDoesNotMatchCertificate {
        /// The certificate's subject.
        subject: String,
    },
    /// Signing or encoding a certificate, CSR or signature failed.
    #[error("could not produce the {artifact}: {reason}")]
    Signing {
        /// What was being produced.
        artifact: &'static str,
        /// What failed.
        reason: String,
    },
    /// An RSA private-key decryption could not be done (a ciphertext of
    /// the wrong length for the key, or the engine failed).
    #[error("could not decrypt with the RSA key: {reason}")]
    Decryption {
        /// What failed.
        reason: String,
    },
    /// A certificate that is not a CA was offered as the issuer.
    #[error(
        "the certificate `{subject}` is not a CA certificate: an issuer needs basicConstraints CA:TRUE"
    )]
    NotACertificateAuthority {
        /// Its subject.
        subject: String,
    },

    // ----- Parsing input -----
    /// Bytes that are not a certificate (nor a PKCS#12 file holding one).
    #[error("`{source_name}` is not a certificate: {reason}")]
    NotACertificate {
        /// The file name or a description of the input.
        source_name: String,
        /// What the parser said.
        reason: String,
    },
    /// Bytes that are not a (valid, correctly self-signed) certificate signing request.
    #[error("invalid certificate signing request: {reason}")]
    InvalidCsr {
        /// What was wrong.
        reason: String,
    },
    /// A PKCS#12 file needs a password and none was given.
    #[error("`{source_name}` is password-protected: a password is required")]
    Pkcs12PasswordRequired {
        /// The file name.
        source_name: String,
    },
    /// The password given for a PKCS#12 file is wrong.
    #[error("wrong password for `{source_name}`")]
    Pkcs12PasswordWrong {
        /// The file name.
        source_name: String,
    },
    /// A PKCS#12 file opened but held no certificate, or was malformed inside.
    #[error("`{source_name}` is not a usable PKCS#12 file: {reason}")]
    InvalidPkcs12 {
        /// The file name.
        source_name: String,
        /// What was wrong.
        reason: String,
    },

    /// An encrypted key or PKCS#12 file asks for more key-derivation work
    /// than any real exporter writes (see the limits in the crate docs,
    /// e.g. [`MAX_PBKDF2_ITERATIONS`](crate::MAX_PBKDF2_ITERATIONS)).
    /// Refused before anything is derived.
    #[error(
        "`{source_name}` asks for {parameter} {value}; at most {limit} is accepted (no real exporter writes more)"
    )]
    KdfParameterTooLarge {
        /// The file name (or `"the private key"` for a PEM key).
        source_name: String,
        /// Which parameter, e.g. `"PBKDF2 iteration count"`, `"scrypt r"`.
        parameter: &'static str,
        /// What the file asked for.
        value: u64,
        /// The largest value accepted.
        limit: u64,
    },
    /// A PKCS#12 file without integrity MAC: decrypting it proves nothing
    /// about the password, so a wrong password cannot be told from a right
    /// one (every exporter writes a MAC unless told `-nomac`).
    #[error(
        "`{source_name}` has no integrity MAC, so a wrong password cannot be told from a right one"
    )]
    Pkcs12WithoutMac {
        /// The file name.
        source_name: String,
    },

    // ----- APNs certificate intake (R-AP-2, R-AP-4) -----
    /// The uploaded certificate is a CA certificate (for instance a
    /// self-signed CA in a PKCS#12 file), not a push certificate.
    #[error("the certificate `{subject}` is a CA certificate, not an APNs push certificate")]
    PushCertificateIsCa {
        /// Its subject.
        subject: String,
    },
    /// The uploaded certificate was not issued by the configured push CA
    /// (Apple's, or the simulator's in tests): not chained to the anchor.
    #[error(
        "the certificate `{subject}` was issued by `{issuer}`, not by the trusted APNs push CA"
    )]
    UntrustedPushIssuer {
        /// Its subject.
        subject: String,
        /// The issuer it names.
        issuer: String,
    },
    /// The UID is an MDM topic but not of the `com.apple.mgmt.External.<id>`
    /// form Apple's portal issues to customers.
    #[error("push topic `{topic}` is not of the form `com.apple.mgmt.External.<id>`")]
    PushTopicNotExternal {
        /// The UID found.
        topic: String,
    },
    /// The push certificate's subject has no UID attribute: no push topic.
    #[error("the certificate `{subject}` has no UID attribute (no push topic)")]
    MissingPushTopic {
        /// Its subject.
        subject: String,
    },
    /// The UID attribute is not an MDM push topic ([`mdm_model::PushTopic`]:
    /// `com.apple.mgmt.` then letters, digits, `.`, `-` or `_`, at most 255
    /// characters).
    #[error(
        "push topic `{topic}` {reason}: a topic is `com.apple.mgmt.` followed by letters, digits, '.', '-' or '_', at most 255 characters"
    )]
    InvalidPushTopic {
        /// The UID found.
        topic: String,
        /// The rule it breaks, as the model says it.
        reason: &'static str,
    },
    /// The certificate's validity has ended.
    #[error("the certificate `{subject}` expired on {not_after}")]
    CertificateExpired {
        /// Its subject.
        subject: String,
        /// When it expired.
        not_after: OffsetDateTime,
    },
    /// The certificate's validity has not started yet.
    #[error("the certificate `{subject}` is not valid before {not_before}")]
    CertificateNotYetValid {
        /// Its subject.
        subject: String,
        /// When it starts.
        not_before: OffsetDateTime,
    },
    /// The certificate's public key is not the one from this workspace's CSR.
    #[error("the certificate `{subject}` was not issued for this workspace's key")]
    PublicKeyMismatch {
        /// Its subject.
        subject: String,
    },
    /// No private key is kept for this workspace and the file brought none.
    #[error(
        "`{source_name}` holds no private key and none is kept for this workspace: a certificate made elsewhere comes as PKCS#12, or as PEM with its key block beside the certificate"
    )]
    MissingPrivateKey {
        /// The file name.
        source_name: String,
    },
    /// A renewal certificate carries a different push topic (R-AP-4).
    #[error(
        "the renewed certificate's topic `{found}` differs from the current `{expected}`: a renewal keeps the topic (renew the same certificate in Apple's portal, do not create a new one)"
    )]
    TopicChanged {
        /// The current topic.
        expected: String,
        /// The uploaded certificate's topic.
        found: String,
    },

    // ----- Vendor signing / push certificate request (R-AP-1, R-AP-4) -----
    /// The signed push certificate request is older than the allowed age.
    #[error(
        "the push certificate request signed at {signed_at} has expired: it must be uploaded within {max_age} of signing"
    )]
    RequestExpired {
        /// When it was signed.
        signed_at: OffsetDateTime,
        /// The allowed age.
        max_age: time::Duration,
    },
    /// A push certificate request (the base64 plist) could not be read.
    #[error("invalid push certificate request: {reason}")]
    InvalidPushRequest {
        /// What was wrong.
        reason: String,
    },
    /// A push certificate request larger than any real one.
    #[error("the push certificate request has {length} bytes; at most {limit} are read")]
    PushRequestTooLarge {
        /// Its length in bytes.
        length: usize,
        /// [`MAX_PUSH_REQUEST_LEN`](crate::MAX_PUSH_REQUEST_LEN).
        limit: usize,
    },
    /// A signature did not verify.
    #[error("the {what} signature does not verify")]
    BadSignature {
        /// Whose signature.
        what: &'static str,
    },

    // ----- Backup password (R-AP-3) -----
    /// The two entries of the backup password differ.
    #[error("the two passwords do not match")]
    PasswordMismatch,
    /// The backup password is shorter than the minimum.
    #[error("the password has {length} characters; at least {minimum} are required")]
    PasswordTooShort {
        /// Its length in characters.
        length: usize,
        /// The minimum.
        minimum: usize,
    },

    // ----- One-time password delivery (R-CL-1) -----
    /// The one-time password is wrong; `attempts_left` tries remain.
    #[error("wrong one-time password ({attempts_left} attempts left)")]
    OtpWrong {
        /// Remaining attempts before the delivery locks.
        attempts_left: u32,
    },
    /// The one-time password has expired.
    #[error("the one-time password expired at {expired_at}")]
    OtpExpired {
        /// When it expired.
        expired_at: OffsetDateTime,
    },
    /// The one-time password was already redeemed.
    #[error("the one-time password was already used at {used_at}")]
    OtpAlreadyUsed {
        /// When it was redeemed.
        used_at: OffsetDateTime,
    },
    /// Too many wrong attempts: the delivery is locked and must be re-issued.
    #[error("too many wrong one-time password attempts: delivery locked")]
    OtpLocked,
    /// An OTP policy outside the allowed bounds.
    #[error("invalid one-time password policy: {reason}")]
    InvalidOtpPolicy {
        /// What was wrong.
        reason: String,
    },

    // ----- Rotation (R-SV-1) -----
    /// The reserve certificate does not name the same address as the current one.
    #[error(
        "the reserve certificate names {reserve:?}, the current one {current:?}: a reserve must name the same addresses"
    )]
    ReserveAddressMismatch {
        /// Names in the current certificate.
        current: Vec<String>,
        /// Names in the reserve certificate.
        reserve: Vec<String>,
    },

    // ----- SCEP (RFC 8894, R-CL-1) -----
    /// The SCEP message is not a PKCS#7 `pkiMessage` at all (not DER, not a
    /// SignedData, no signer, no `transactionID` or `messageType`): nothing
    /// can be answered in SCEP, the HTTP layer answers 400 with this reason.
    #[error("not a SCEP pkiMessage: {reason}")]
    ScepMalformed {
        /// What was wrong.
        reason: String,
    },
    /// The pkiMessage's signature, its `messageDigest`, or its encrypted
    /// content does not check out (SCEP `badMessageCheck`).
    #[error("the SCEP message does not verify: {reason}")]
    ScepBadMessageCheck {
        /// What failed.
        reason: String,
    },
    /// An algorithm the SCEP server does not accept: a digest, a signature,
    /// a key transport or a content cipher (SCEP `badAlg`).
    #[error(
        "the SCEP message uses {algorithm}, which is not accepted: digests SHA-1, SHA-256, SHA-512; RSA PKCS #1 v1.5 signatures and key transport; AES-128/192/256-CBC, DES-EDE3-CBC (and DES-CBC when enabled)"
    )]
    ScepUnsupportedAlgorithm {
        /// The algorithm (name or OID) as found.
        algorithm: String,
    },
    /// The message's `signingTime` is too far from the server's clock
    /// (SCEP `badTime`).
    #[error("the SCEP message was signed at {signed_at}, more than {skew_seconds} s from {now}")]
    ScepBadTime {
        /// The message's signingTime.
        signed_at: OffsetDateTime,
        /// The server's time.
        now: OffsetDateTime,
        /// The skew allowed.
        skew_seconds: i64,
    },
    /// A certificate or transaction the server does not know: a renewal
    /// signed by a certificate this CA did not issue or that is no longer
    /// valid, a poll for an unknown transaction (SCEP `badCertId`).
    #[error("unknown certificate or transaction in the SCEP request: {reason}")]
    ScepUnknownCertificate {
        /// What was not found.
        reason: String,
    },
    /// A well-formed SCEP request the server will not answer as asked: no
    /// challenge password, a message type it does not serve (SCEP
    /// `badRequest`).
    #[error("the SCEP request was refused: {reason}")]
    ScepBadRequest {
        /// Why.
        reason: String,
    },
    /// The challenge password matches no one-time password issued (SCEP
    /// `badRequest`).
    #[error("the SCEP challenge password matches no one-time password issued")]
    ScepChallengeUnknown,
    /// A stored SCEP challenge record ([`crate::ScepChallengeRecord`]) that
    /// cannot be restored: a subject that is not a client identity's, times
    /// out of order (bad input from the integrator's database).
    #[error("cannot restore the SCEP challenge record {otp_sha256}: {reason}")]
    ScepChallengeRecordInvalid {
        /// The record's password hash (hex).
        otp_sha256: String,
        /// What was wrong.
        reason: String,
    },
    /// The SCEP server cannot be set up as asked (caller misuse): the
    /// certificate that decrypts requests needs an RSA key; an RA must be
    /// issued by the CA.
    #[error("cannot set up the SCEP server: {reason}")]
    ScepSetup {
        /// What was wrong.
        reason: String,
    },
    /// (Client side.) The SCEP server answered FAILURE.
    #[error("the SCEP server refused the request {transaction_id}: failInfo {fail_info}")]
    ScepFailed {
        /// The request's transactionID.
        transaction_id: String,
        /// The failInfo the server gave (`badRequest`, …).
        fail_info: String,
    },
}

/// Shorthand used throughout the crate.
pub type Result<T, E = CertError> = core::result::Result<T, E>;
