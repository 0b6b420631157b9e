//! The part of handling a device request that needs no state: decoding the
//! body and checking an `Mdm-Signature` (the CMS signature over the body,
//! and its certificate's chain to a device CA). A server that keeps its
//! [`AppleService`](super::AppleService) behind a lock does this first,
//! outside the lock, so that only the state change is serialised: under
//! load the signature check is most of a check-in's work.

use mdm_model::Sha256Digest;
use time::OffsetDateTime;

use super::answer::DeviceRequest;
use super::identity::{PresentedIdentity, VerifiedIdentity};
use crate::error::Result;
use crate::message::{DeviceMessage, decode};

/// A device request whose stateless work is done: its body decoded and,
/// for an `Mdm-Signature`, the signature checked against the device CAs
/// at a given time. Hand it to
/// [`AppleService::handle_checked`](super::AppleService::handle_checked),
/// which uses the check when it was made against the service's own CAs at
/// the same `now`, and checks again otherwise.
///
/// A certificate the transport vouches for is not checked here: the
/// service may accept it from its binding without a chain check.
#[derive(Debug)]
pub struct CheckedRequest<'a> {
    pub(super) request: DeviceRequest<'a>,
    pub(super) decoded: Result<DeviceMessage>,
    pub(super) signature: Option<SignatureCheck>,
}

/// An `Mdm-Signature` checked at `at` against the CAs whose SHA-256 are
/// `anchors`, and what came of it.
#[derive(Debug)]
pub(super) struct SignatureCheck {
    anchors: Vec<Sha256Digest>,
    at: OffsetDateTime,
    pub(super) verified: Result<VerifiedIdentity>,
}

impl SignatureCheck {
    /// Whether the check holds for a service trusting `device_cas` at `now`.
    pub(super) fn holds_for(
        &self,
        device_cas: &[mdm_certs::Certificate],
        now: OffsetDateTime,
    ) -> bool {
        self.at == now
            && self.anchors.len() == device_cas.len()
            && self
                .anchors
                .iter()
                .zip(device_cas)
                .all(|(anchor, ca)| *anchor == ca.info().fingerprint)
    }
}

impl<'a> CheckedRequest<'a> {
    /// Decodes `request`'s body and checks its `Mdm-Signature`, if it has
    /// one, against `device_cas` at `now`. Nothing is refused here: the
    /// outcomes are kept, and the service answers (and audits) them when it
    /// handles the request, in the order it always does.
    pub fn check(
        request: DeviceRequest<'a>,
        device_cas: &[mdm_certs::Certificate],
        now: OffsetDateTime,
    ) -> Self {
        let signature = match request.identity {
            PresentedIdentity::MdmSignature(_) => Some(SignatureCheck {
                anchors: device_cas.iter().map(|ca| ca.info().fingerprint).collect(),
                at: now,
                verified: request.identity.verify(request.body, device_cas, now),
            }),
            PresentedIdentity::Certificate(_) | PresentedIdentity::None => None,
        };
        Self {
            request,
            decoded: decode(request.body),
            signature,
        }
    }

    /// The request.
    pub fn request(&self) -> &DeviceRequest<'a> {
        &self.request
    }
}
