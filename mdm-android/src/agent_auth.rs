//! How a sync proves it comes from the device's agent (issue #13).
//!
//! A sync names its device by a sequential id; the proof travels beside the
//! body, in the HTTP `Authorization` header:
//!
//! - `Invitation <token>` on the agent's first sync: the token of the link
//!   that enrolled the device. The answer carries the agent's credential
//!   ([`SyncResponse::agent_credential`](crate::SyncResponse::agent_credential)).
//! - `Bearer <credential>` on every later sync.
//!
//! The rules (which proof is accepted when, rotation, audit) are the model's:
//! [`Workspace::authenticate_agent`](mdm_model::Workspace::authenticate_agent).

use std::fmt;

use mdm_model::{AgentCredential, AgentProof, InvitationToken};
use serde::{Deserialize, Deserializer, Serializer};

use crate::AndroidError;

/// The proof an agent sends with a sync (the `Authorization` header).
#[derive(Clone, PartialEq, Eq)]
pub enum AgentAuthorization {
    /// `Invitation <token>`: the first sync.
    Invitation(InvitationToken),
    /// `Bearer <credential>`: every later sync.
    Bearer(AgentCredential),
}

impl AgentAuthorization {
    /// Parses an `Authorization` header value (scheme names are
    /// case-insensitive, as in RFC 9110 §11.1).
    ///
    /// # Errors
    /// [`AndroidError::MalformedAuthorization`] for another scheme or a
    /// secret that is not of the documented form (the value is not echoed).
    pub fn parse(header: &str) -> Result<Self, AndroidError> {
        let malformed = |reason: &'static str| AndroidError::MalformedAuthorization { reason };
        let (scheme, secret) = header.trim().split_once(' ').ok_or(malformed(
            "expected `Bearer <credential>` or `Invitation <token>`",
        ))?;
        let secret = secret.trim_start();
        if scheme.eq_ignore_ascii_case("bearer") {
            AgentCredential::parse(secret)
                .map(Self::Bearer)
                .map_err(|_| malformed("the credential is not 43 characters of URL-safe base64"))
        } else if scheme.eq_ignore_ascii_case("invitation") {
            InvitationToken::parse(secret)
                .map(Self::Invitation)
                .map_err(|_| {
                    malformed("the invitation token is not 43 characters of URL-safe base64")
                })
        } else {
            Err(malformed("the scheme is neither `Bearer` nor `Invitation`"))
        }
    }

    /// The header value (the agent's side). Carries the secret: send it, do not log it.
    #[must_use]
    pub fn header_value(&self) -> String {
        match self {
            Self::Invitation(token) => format!("Invitation {}", token.expose()),
            Self::Bearer(credential) => format!("Bearer {}", credential.expose()),
        }
    }

    /// The proof, as the model checks it.
    #[must_use]
    pub fn proof(&self) -> AgentProof<'_> {
        match self {
            Self::Invitation(token) => AgentProof::Invitation(token),
            Self::Bearer(credential) => AgentProof::Credential(credential),
        }
    }
}

impl fmt::Debug for AgentAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invitation(_) => f.write_str("Invitation(<secret>)"),
            Self::Bearer(_) => f.write_str("Bearer(<secret>)"),
        }
    }
}

/// Serde for the credential in a sync answer: its text form on the wire,
/// `<secret>` in `Debug` (the wrapped type's own).
pub(crate) mod credential_text {
    use super::*;

    #[allow(clippy::ref_option)]
    pub(crate) fn serialize<S: Serializer>(
        credential: &Option<AgentCredential>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match credential {
            Some(c) => s.serialize_some(&c.expose()),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<AgentCredential>, D::Error> {
        Option::<std::borrow::Cow<'de, str>>::deserialize(d)?
            .map(|text| AgentCredential::parse(&text).map_err(serde::de::Error::custom))
            .transpose()
    }
}
