//! Installation packages and their distribution.
#![forbid(unsafe_code)]

mod ca;
mod error;
mod link;
mod package;
mod product;
mod qr;
mod server;
mod token;
#[cfg(test)]
mod tools;

pub use ca::CaCertificate;
pub use error::{PackagesError, Result};
pub use link::{ENROLL_SEGMENT, InvitationLink, LinkBase};
pub use package::{
    ConnectionSettings, Freshness, ManifestEntry, PACKAGE_FORMAT, PackageManifest, StaleReason,
    StandalonePackage,
};
pub use product::{
    PRODUCT_FORMAT, ProductDescription, ProductFile, ProductPath, ProductPlatform, Sha256Digest,
};
pub use qr::{DEFAULT_MODULE_PX, InvitationQr};
pub use server::{ServerAddress, ServerHost};
pub use token::{InvitationToken, TOKEN_MAX_LEN, TOKEN_MIN_LEN};
