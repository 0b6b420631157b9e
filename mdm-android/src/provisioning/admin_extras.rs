//! The admin extras bundle: our agent's connection settings (server,
//! enrollment token, CA fingerprint) and any other DPC's keys.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

use super::redact::RedactedBundle;
use super::{BundleValue, extras};
use mdm_model::InvitationToken;

use crate::{AndroidError, ServerAddress, Sha256Digest};

/// What our agent needs to reach and trust the server on first start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentConnection {
    /// Server host and port (the port is always written, defaulted if absent).
    pub server: ServerAddress,
    /// The enrollment token: the invitation's secret, the one type the
    /// model gives every secret (256 bits, constant-time equality, redacted
    /// `Debug`), which the agent presents on its first sync.
    pub enrollment_token: InvitationToken,
    /// SHA-256 of the server's CA certificate, which the agent pins.
    pub ca_fingerprint: Sha256Digest,
}

/// The admin extras bundle: our agent's connection settings, if present, and
/// any other keys (another DPC's, or future ones), kept as they came.
///
/// `Debug` redacts the token and the values of secret-named other keys.
#[derive(Clone, PartialEq, Default)]
pub struct AdminExtras {
    /// Our agent's settings.
    pub connection: Option<AgentConnection>,
    /// Every other key of the bundle.
    pub other: BTreeMap<String, BundleValue>,
}

impl fmt::Debug for AdminExtras {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminExtras")
            .field("connection", &self.connection)
            .field("other", &RedactedBundle(&self.other))
            .finish()
    }
}

impl AdminExtras {
    pub(super) fn is_empty(&self) -> bool {
        self.connection.is_none() && self.other.is_empty()
    }

    pub(super) fn to_json(&self) -> Map<String, Value> {
        let mut map: Map<String, Value> = self
            .other
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect();
        if let Some(connection) = &self.connection {
            map.insert(
                extras::SERVER_HOST.into(),
                connection.server.host_string().into(),
            );
            map.insert(
                extras::SERVER_PORT.into(),
                connection.server.effective_port().into(),
            );
            map.insert(
                extras::ENROLLMENT_TOKEN.into(),
                connection.enrollment_token.expose().into(),
            );
            map.insert(
                extras::CA_FINGERPRINT.into(),
                connection.ca_fingerprint.to_hex().into(),
            );
        }
        map
    }

    /// Splits a parsed bundle into our settings (all four keys, or none) and the rest.
    pub(super) fn from_bundle(
        mut bundle: BTreeMap<String, BundleValue>,
    ) -> Result<Self, AndroidError> {
        let ours = [
            extras::SERVER_HOST,
            extras::SERVER_PORT,
            extras::ENROLLMENT_TOKEN,
            extras::CA_FINGERPRINT,
        ];
        let present = ours.iter().filter(|k| bundle.contains_key(**k)).count();
        if present == 0 {
            return Ok(Self {
                connection: None,
                other: bundle,
            });
        }
        let mut take_string = |key: &'static str| -> Result<String, AndroidError> {
            match bundle.remove(key) {
                Some(BundleValue::String(s)) => Ok(s),
                Some(BundleValue::Integer(i)) if key == extras::SERVER_PORT => Ok(i.to_string()),
                Some(_) => Err(AndroidError::provisioning_value(key, "wrong JSON type")),
                None => Err(AndroidError::provisioning_value(
                    key,
                    "missing; the agent's connection settings must all be present",
                )),
            }
        };
        let host = take_string(extras::SERVER_HOST)?;
        let port = take_string(extras::SERVER_PORT)?;
        let token = take_string(extras::ENROLLMENT_TOKEN)?;
        let fingerprint = take_string(extras::CA_FINGERPRINT)?;
        let authority = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let server = ServerAddress::parse(&authority)
            .map_err(|e| AndroidError::provisioning_value(extras::SERVER_HOST, e.to_string()))?;
        let ca_fingerprint = Sha256Digest::from_hex(&fingerprint)
            .map_err(|reason| AndroidError::provisioning_value(extras::CA_FINGERPRINT, reason))?;
        Ok(Self {
            connection: Some(AgentConnection {
                server,
                enrollment_token: InvitationToken::parse(&token).map_err(|_| {
                    AndroidError::provisioning_value(
                        extras::ENROLLMENT_TOKEN,
                        "the enrollment token is not 43 characters of URL-safe base64 (an invitation token)",
                    )
                })?,
                ca_fingerprint,
            }),
            other: bundle,
        })
    }
}
