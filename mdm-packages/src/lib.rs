//! Installation packages and their distribution (R-IN-1…3, R-AN-1, R-AN-2).
//!
//! An administrator selects users and *sends instructions*: each user with
//! an e-mail address gets one invitation from `mdm-model`, an HTTPS link
//! carrying its token, the link as a QR code, and a message in English,
//! Japanese or Russian that walks through the steps of the vendor manuals.
//! The user opens the link on the device to connect; the request's
//! User-Agent tells Android from iOS and iPadOS (an iPad posing as a Mac is
//! settled by its touch points), the model decides whether the invitation
//! and the workspace allow it and consumes the invitation, and the answer is
//! the agent's store listing or a standalone package for Android, the
//! enrollment profile from `mdm-apple` for iOS and iPadOS, or a refusal that
//! says why.
//!
//! The standalone package is the other way to install the Android agent: a
//! deterministic ZIP built from a [product description](ProductDescription)
//! and the agent's files, with the server address, its CA and the workspace
//! baked in and a manifest hashing every entry; after the server moves, the
//! package is reported stale.
//!
//! On the wire (cargo feature `http`, off by default), `http::link_router`
//! serves `GET /enroll/{token}` and `GET /packages/{file}` over a state the
//! server keeps (`http::LinkState`): the store redirect with the link as
//! install referrer, the package or the enrollment profile as a download,
//! or a page that explains.
//!
//! Who uses it: a console back end (sending instructions, serving the link),
//! and the fleet harness, which drives the same calls for simulated devices.
//!
//! ```
//! use mdm_model::{EmailAddress, Workspace};
//! use mdm_packages::*;
//! use rand_chacha::ChaCha20Rng;
//! use rand_core::SeedableRng;
//! use time::macros::datetime;
//!
//! # fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
//! let now = datetime!(2026-11-28 09:00 UTC);
//! let mut rng = ChaCha20Rng::seed_from_u64(1); // production: the OS generator
//! let mut workspace = Workspace::new("acme", "Acme Corp", Some("JP"), now)?;
//! let taro = workspace.add_user("taro", Some(EmailAddress::parse("taro@acme.example")?), now)?;
//! let hanako = workspace.add_user("hanako", None, now)?;
//!
//! // Send instructions: one invitation, link, QR code and message per user.
//! let base = LinkBase::parse("https://mdm.acme.example")?;
//! let settings = InstructionSettings {
//!     link_base: &base,
//!     service_name: "Acme MDM",
//!     agent_name: "Acme Agent for Android",
//!     android: AndroidDelivery::Store,
//!     language: Language::Japanese,
//! };
//! let batch = send_instructions(&mut workspace, &[taro, hanako], &settings, now, &mut rng)?;
//! assert_eq!(batch.without_email, vec![(hanako, "hanako".to_owned())]);
//! let outgoing = &batch.messages[0];
//! assert!(outgoing.message.text.contains("添付の QR コード"));
//! assert!(outgoing.message.qr.bytes.starts_with(b"\x89PNG"));
//!
//! // Taro opens the link on an Android phone: off to the store, invitation used.
//! // (the web front end receives the request path and its User-Agent)
//! let link = outgoing.link.to_string();
//! let path = link.strip_prefix("https://mdm.acme.example").unwrap_or_default();
//! let request = LinkRequest {
//!     token: base.token_in_path(path).unwrap_or_default(),
//!     user_agent: "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 \
//!                  (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
//!     hints: ClientHints::default(),
//! };
//! # let apple = mdm_apple::EnrollmentParams {
//! #     server_url: mdm_apple::HttpsUrl::new("ServerURL", "https://mdm.acme.example/mdm")?,
//! #     check_in_url: None,
//! #     topic: mdm_model::PushTopic::parse("com.apple.mgmt.placeholder")?,
//! #     identity: mdm_apple::EnrollmentIdentity::Scep(mdm_apple::ScepIdentity::new("https://mdm.acme.example/scep")),
//! #     server_root_ca_der: None,
//! #     identifier_prefix: "example.acme.mdm".into(),
//! #     organization: "Acme Corp".into(),
//! # };
//! let routes = LinkRoutes {
//!     android: AndroidRoute::StoreListing { url: "https://play.google.com/store/apps/details?id=example.agent" },
//!     apple: AppleRoute { params: &apple, signer: None },
//! };
//! let answer = open_link(&mut workspace, &request, &routes, now, &mut rng)?;
//! assert!(matches!(answer, LinkAnswer::AndroidStore { .. }));
//!
//! // The same link on a second device is refused by the model (R-IN-1).
//! let again = open_link(&mut workspace, &request, &routes, now, &mut rng)?;
//! assert!(matches!(again, LinkAnswer::Refused(mdm_model::Refusal::InvitationAlreadyUsed)));
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

mod ca;
mod error;
#[cfg(feature = "http")]
pub mod http;
mod invitations;
mod link;
mod message;
mod package;
mod product;
mod qr;
mod routing;
#[cfg(test)]
mod tools;
mod user_agent;

pub use ca::CaCertificate;
pub use error::{PackagesError, Result};
pub use invitations::{
    InstructionBatch, InstructionSettings, IssuedInstructions, OutgoingInstruction,
    PendingInstruction, issue_instructions, send_instructions,
};
pub use link::{ENROLL_SEGMENT, InvitationLink, LinkBase};
pub use message::{
    AndroidDelivery, Attachment, InstructionMessage, Language, MessageDetails, compose_instructions,
};
pub use package::{
    ConnectionSettings, Freshness, ManifestEntry, PACKAGE_FORMAT, PackageLimit, PackageLimits,
    PackageManifest, StaleReason, StandalonePackage,
};
pub use product::{PRODUCT_FORMAT, ProductDescription, ProductFile, ProductPath, platform_tag};
pub use qr::{DEFAULT_MODULE_PX, InvitationQr, MAX_MODULE_PX, MAX_PAYLOAD_BYTES};
pub use routing::{
    AndroidRoute, AppleRoute, BuiltLink, LinkAnswer, LinkRequest, LinkRoutes, LinkStep,
    MOBILECONFIG_CONTENT_TYPE, PendingLink, begin_link, finish_link, open_link,
};
pub use user_agent::{
    ClientHints, DetectedDevice, Detection, FormFactor, UnsupportedOs, detect_device,
    touch_probe_page,
};
