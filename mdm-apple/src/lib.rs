//! Apple MDM for iOS and iPadOS (R-IO-1, R-IO-2).
#![forbid(unsafe_code)]

mod cms;
mod error;
mod fields;
mod ids;
mod profile;

pub use cms::{ProfileSigner, VerifiedProfile, verify_signed_profile};
pub use error::{AppleError, Result};
pub use ids::{ApnsTopic, CommandUuid, HttpsUrl, PayloadUuid};
pub use profile::*;
pub use plist;
