//! Installation packages and their distribution.
#![forbid(unsafe_code)]

mod ca;
mod error;
mod invitations;
mod link;
mod message;
mod package;
mod product;
mod qr;
mod routing;
mod server;
#[cfg(test)]
mod tools;
mod user_agent;

pub use ca::CaCertificate;
pub use error::{PackagesError, Result};
pub use invitations::{
    InstructionBatch, InstructionSettings, OutgoingInstruction, send_instructions,
};
pub use link::{ENROLL_SEGMENT, InvitationLink, LinkBase};
pub use message::{
    AndroidDelivery, Attachment, InstructionMessage, Language, MessageDetails, compose_instructions,
};
pub use package::{
    ConnectionSettings, Freshness, ManifestEntry, PACKAGE_FORMAT, PackageManifest, StaleReason,
    StandalonePackage,
};
pub use product::{
    PRODUCT_FORMAT, ProductDescription, ProductFile, ProductPath, ProductPlatform, Sha256Digest,
};
pub use qr::{DEFAULT_MODULE_PX, InvitationQr};
pub use routing::{
    AndroidRoute, AppleRoute, LinkAnswer, LinkRequest, LinkRoutes, MOBILECONFIG_CONTENT_TYPE,
    open_link,
};
pub use server::{ServerAddress, ServerHost};
pub use user_agent::{
    ClientHints, DetectedDevice, Detection, FormFactor, UnsupportedOs, detect_device,
    touch_probe_page,
};
