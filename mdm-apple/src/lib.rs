//! Apple MDM for iOS and iPadOS: everything a server says to an Apple
//! device and everything it reads back (requirements R-IO-1, R-IO-2).
//!
//! * **Profiles** — [`ProfileParams`] holds a configuration profile's
//!   top-level keys and typed payloads (MDM enrollment, PKCS#12 and SCEP
//!   identities, certificates, passcode policy, restrictions, Wi-Fi, web
//!   clip); [`ProfileParams::build`] checks the protocol's rules and gives
//!   a [`Profile`], written as an XML plist or signed as CMS SignedData by a
//!   [`ProfileSigner`]. [`enrollment_profile`] is the one call a workspace
//!   needs; [`verify_signed_profile`] reads a signed profile back (DER or
//!   OpenSSL's streaming BER) and checks that its signer chains to one of
//!   the caller's trust anchors at the caller's `now`.
//! * **Commands** — [`Command`] with typed requests, serialised by
//!   [`CommandRequest`]; [`CommandResult`] and the `…Response` types read
//!   the device's answers.
//! * **Reading commands** — [`parse_command`] reads a command as an API
//!   client (or nanomdm's `/v1/enqueue`) sends it: a `RequestType` this
//!   crate models becomes its typed [`Command`] (a key the type would drop
//!   refuses it), any other a [`RawCommand`] that [`CommandRequest::to_xml`]
//!   hands out byte for byte.
//! * **Reading profiles** — [`read_profile`] reads a `.mobileconfig` a
//!   vendor already has (Apple Configurator, another MDM, this crate),
//!   unsigned or signed, back into [`ProfileParams`]: each payload type
//!   this crate builds typed, any other as an [`OtherPayload`], the keys
//!   a typed form does not hold kept in the [`ReadProfile`]. It reads a
//!   signed profile's content without checking the signature; trust comes
//!   from [`verify_signed_profile`], whose content it reads the same way.
//! * **Device messages** — [`decode`] turns a device's PUT body into a
//!   [`DeviceMessage`]: [`Authenticate`], [`TokenUpdate`], [`CheckOut`] or a
//!   [`CommandReport`], each beside its raw bytes. The same types build
//!   and serialise messages, for device simulators.
//! * **Request signatures** — devices with `SignMessage` send an
//!   `Mdm-Signature` header: a detached CMS signature over the body.
//!   [`ProfileSigner::sign_detached`] makes one (simulated devices) and
//!   [`verify_detached_signature`] checks one (servers) against the CAs
//!   that issue device identities.
//! * **Plist values** — [`PlistValue`] and [`PlistDictionary`] are this
//!   crate's own: what a report's response keys, a device's
//!   `DeviceInformation` answers or a verified profile hold, and what
//!   `to_dictionary` gives; no plist library type appears in this API.
//! * **Hostile input** — every plist read here is bounded by its size
//!   ([`MAX_PLIST_BYTES`], [`MAX_PLIST_NODES`]), every SignedData by
//!   [`MAX_CMS_SIGNERS`], [`MAX_CMS_CERTIFICATES`] and
//!   [`MAX_SIGNED_ATTRIBUTES`]; `Debug` never prints a push magic, token,
//!   unlock token, PIN or raw device body.
//! * **State** — [`CommandQueue`] is the per-device queue (NotNow-safe,
//!   idempotent); [`AppleEnrollment`] follows check-ins and refuses a
//!   foreign topic.
//! * **Push** — [`push_request`] builds the APNs request that wakes a device.
//!   [`ApnsAnswer`] reads APNs's answer into a [`PushOutcome`] (the reasons
//!   Apple documents are [`ApnsReason`]). With the cargo feature `apns`
//!   (off by default), `ApnsClient` sends them: HTTP/2 over TLS with the
//!   push certificate (checked first by `ProviderIdentity`: the workspace's
//!   topic, valid at `now`), streams multiplexed up to the server's limit
//!   over a small pool of connections, bounded in-flight pushes, reconnects
//!   after GOAWAY, 429/5xx retried with capped backoff and jitter drawn
//!   from the caller's RNG, one outcome per push and their counts.
//! * **The server side** — [`AppleService`], held beside the model's
//!   `Workspace`, takes a device request (body, identity evidence, `now`)
//!   and answers status, body and the [`ServiceEvent`]s it recorded through
//!   the model: `Authenticate` binds the identity certificate's SHA-256 to
//!   the device id, the first `TokenUpdate` connects the device, `Idle` is
//!   a sync, an acknowledged `EraseDevice` a wipe, `CheckOut` the end.
//!   Identity comes as an `Mdm-Signature` (SHA-256 or SHA-1), or a
//!   certificate from TLS or a trusted proxy ([`PresentedIdentity`]), and
//!   must chain to the device CA; a device can never speak for another.
//!   State lives behind [`AppleStore`] ([`MemoryStore`] by default). With
//!   the `http` feature, `http::router` serves it at nanomdm's paths.
//!
//! Nothing here reads the clock or draws hidden randomness: dates come in
//! as `now`, UUIDs from a caller's [`rand_core::CryptoRng`].
//!
//! ```
//! use mdm_apple::*;
//! use mdm_model::PushTopic;
//! use rand_core::SeedableRng;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
//! let topic = PushTopic::parse("com.apple.mgmt.External.e0bd1eac-1f17-4c8e-8a63-dd17d3dd35d9")?;
//! let mut scep = ScepIdentity::new("https://mdm.example.com/scep");
//! scep.challenge = Some("one-time-challenge".into());
//! scep.subject = vec![("O".into(), "Example".into()), ("CN".into(), "%SerialNumber%".into())];
//! let profile = enrollment_profile(
//!     &EnrollmentParams {
//!         server_url: HttpsUrl::new("ServerURL", "https://mdm.example.com/mdm/connect")?,
//!         check_in_url: None,
//!         topic: topic.clone(),
//!         identity: EnrollmentIdentity::Scep(scep),
//!         server_root_ca_der: None,
//!         identifier_prefix: "com.example.mdm".into(),
//!         organization: "Example".into(),
//!     },
//!     &mut rng,
//! )?;
//! let xml = profile.to_xml()?;
//! assert!(String::from_utf8_lossy(&xml).contains("<string>com.apple.mdm</string>"));
//! // A profile reads back into what built it; a command as a client sends it, typed.
//! assert_eq!(read_profile(&xml)?.params(), profile.params());
//! let sent = br#"<plist version="1.0"><dict><key>CommandUUID</key><string>c-1</string>
//!   <key>Command</key><dict><key>RequestType</key><string>SecurityInfo</string></dict></dict></plist>"#;
//! assert_eq!(parse_command(sent)?.command, Command::SecurityInfo(SecurityInfo));
//!
//! // A device checks in; the enrollment follows.
//! let device = AppleDeviceId::Udid("663b07bb783e9ade1dae4fbb92ea12afc0ce5b69".into());
//! let mut enrollment = AppleEnrollment::new(topic.clone());
//! let auth = Authenticate::new(topic.clone(), device.clone()).to_xml()?;
//! let token = TokenUpdate::new(topic.clone(), device.clone(), PushToken::new(vec![7; 32])?, PushMagic::new("magic")?);
//! for body in [auth, token.to_xml()?] {
//!     enrollment.apply(&decode(&body)?)?;
//! }
//! assert_eq!(enrollment.state(), EnrollmentState::Enrolled);
//!
//! // Queue a command, push, hand it out, read the answer.
//! let mut queue = CommandQueue::new(device.clone());
//! let uuid = CommandUuid::random(&mut rng);
//! queue.enqueue(CommandRequest::new(uuid.clone(), Command::DeviceLock(DeviceLock::default())))?;
//! let target = enrollment.push_target().expect("enrolled");
//! let push = push_request(&topic, &target.token, &target.push_magic, &PushOptions::default());
//! assert_eq!(push.body, br#"{"mdm":"magic"}"#);
//! let (_, next) = queue.respond(&CommandReport::idle(device.clone()))?;
//! assert_eq!(next.map(|c| &c.uuid), Some(&uuid));
//! let ack = CommandReport::result(device, uuid, CommandStatus::Acknowledged, Default::default());
//! let (outcome, next) = queue.respond(&ack)?;
//! assert!(matches!(outcome, ReportOutcome::Finished(..)) && next.is_none());
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

mod cms;
mod command;
mod enrollment_state;
mod error;
mod fields;
#[cfg(feature = "http")]
pub mod http;
mod ids;
mod message;
mod profile;
mod provider;
mod push;
mod queue;
mod service;
mod value;

// Configuration profiles: the parameters, each payload, the built profile.
pub use profile::{
    AccessRights, CertificateFormat, CertificatePayload, EnrollmentIdentity, EnrollmentParams,
    MdmPayload, PasscodePolicy, Payload, PayloadContent, PayloadScope, Pkcs12Identity, Profile,
    ProfileParams, RemovalRules, Restrictions, ScepIdentity, ScepKeySize, ScepKeyUsage,
    ScepSubjectAltName, ServerCapability, WebClip, WifiEncryption, WifiPayload, enrollment_profile,
};
// Reading a `.mobileconfig` back: typed payloads, the others kept as read.
pub use profile::{OtherPayload, ReadProfile, read_profile};
// CMS: signing profiles and request bodies, verifying them, and the bounds.
pub use cms::{
    MAX_CHAIN_DEPTH, MAX_CMS_CERTIFICATES, MAX_CMS_SIGNERS, MAX_SIGNED_ATTRIBUTES, MIN_RSA_BITS,
    ProfileSigner, VerifiedProfile, verify_detached_signature, verify_signed_profile,
};
// Commands: the request envelope and each command's request keys.
pub use command::{
    CertificateList, ClearPasscode, Command, CommandRequest, DeviceInformation, DeviceLock,
    EraseDevice, InstallApplication, InstallProfile, InstalledApplicationList, ProfileList,
    RemoveApplication, RemoveProfile, RequestType, RestartDevice, SecurityInfo, Setting, Settings,
    ShutDownDevice,
};
// Reading a command an API client sends: typed, or kept byte for byte.
pub use command::{RawCommand, parse_command};
// Command responses, read from an `Acknowledged` report.
pub use command::{
    AppInstallState, CertificateListResponse, CommandResult, DeviceInformationResponse,
    DeviceLockResponse, InstallApplicationResponse, InstalledApplication,
    InstalledApplicationListResponse, InstalledCertificate, InstalledPayload, InstalledProfile,
    ProfileListResponse, SecurityInfoResponse, SettingResult, SettingsResponse,
};
// Device messages: check-ins and command reports, decoded beside their bytes.
pub use message::{
    AppleDeviceId, Authenticate, BootstrapToken, CheckOut, CommandReport, CommandStatus,
    DeclarativeManagement, DeviceMessage, ErrorChainItem, GetBootstrapToken, GetToken, PushMagic,
    PushToken, Received, SetBootstrapToken, TokenUpdate, UnlockToken, UserAuthenticate,
    UserChannel, decode,
};
// Identifiers and URLs checked when built.
pub use ids::{CommandUuid, HttpsUrl, PayloadUuid};
// Plist values as read and written here, and the bounds on reading them.
pub use value::{MAX_PLIST_BYTES, MAX_PLIST_NODES, PlistDictionary, PlistValue};
// Server-side state: one enrollment's check-ins, one device's command queue.
pub use enrollment_state::{AppleEnrollment, EnrollmentEvent, EnrollmentState, PushTarget};
pub use queue::{CommandQueue, FinishedCommand, PendingCommand, ReportOutcome};
// The server side: the check-in and command service, its identity checks and its store.
pub use service::{
    AppleService, AppleStore, CheckedRequest, CheckedWindow, DeviceRequest, Endpoint,
    EnrollmentRecord, Handled, MemoryStore, PresentedIdentity, QueueStep, Retention, ServiceEvent,
    VerifiedIdentity, decode_client_cert, decode_mdm_signature, refusal_of, status_of,
};
// The durable Apple store, in the workspace's database (features `sqlite`, `postgres`).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use service::{APPLE_COMPONENT, SqlAppleStore};
// APNs: the push that wakes a device.
pub use push::{ApnsEnvironment, PushOptions, PushPriority, PushRequest, push_request};
// APNs answers, and (feature `apns`) the provider client that sends pushes.
pub use provider::{ApnsAnswer, ApnsReason, Failure, OutcomeCounts, PushOutcome, unix_ms};
#[cfg(feature = "apns")]
pub use provider::{
    ApnsClient, BatchReport, ProviderConfig, ProviderIdentity, PushResult, RetryPolicy, TlsClock,
};
// Errors.
pub use error::{AppleError, Result};
