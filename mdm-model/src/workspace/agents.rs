//! Every Android agent proves which device it is (issue #13).
//!
//! A sync names its device by id, which anyone can guess; the proof is a
//! secret. The agent's first sync presents the invitation token of the link
//! that enrolled it — the one secret it already holds — and is answered with
//! an [`AgentCredential`] (256 bits, stored hashed). Every later sync
//! presents that credential. Until the agent has presented it once, the
//! invitation token may ask for a new one (the answer carrying the first may
//! have been lost); the newest and the one before it are both accepted (a
//! request sent twice is answered twice, and the agent read one answer), and
//! the first presented is kept. After that, only that credential is accepted. A device enrolled again (after a wipe) is a new
//! device with a new credential. Every refusal is audited.

use std::fmt;

use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::Workspace;
use crate::device::AgentCredentialRecord;
use crate::{
    AgentCredential, AgentCredentialHash, AuditEvent, DeviceId, InvitationToken, ModelError,
    Platform,
};

/// What a sync presents to prove it comes from the device's agent.
#[derive(Clone, Copy, Debug)]
pub enum AgentProof<'a> {
    /// The first sync: the token of the invitation that enrolled the device.
    Invitation(&'a InvitationToken),
    /// Every later sync: the credential the first one was answered with.
    Credential(&'a AgentCredential),
}

/// Why a sync's proof was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AgentRefusal {
    /// No such Android device (or, for an invitation token, it has left management).
    UnknownDevice,
    /// The credential is not the one issued to this device.
    WrongCredential,
    /// The invitation token is not the one that enrolled this device.
    WrongInvitationToken,
    /// The agent already uses its credential; the invitation token no longer counts.
    CredentialAlreadyInUse,
}

impl fmt::Display for AgentRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AgentRefusal::UnknownDevice => "no such enrolled Android device",
            AgentRefusal::WrongCredential => "the credential is not this device's",
            AgentRefusal::WrongInvitationToken => {
                "the invitation token is not the one that enrolled this device"
            }
            AgentRefusal::CredentialAlreadyInUse => {
                "the agent already has a credential; the invitation token is no longer accepted"
            }
        })
    }
}

/// Why the agent's sync service refused a request before (or besides) the
/// proof check: what the wire binding saw wrong with it (issue #19).
/// Refused proofs are [`AuditEvent::AgentAuthenticationFailed`] instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AgentRequestRefusal {
    /// The body is not a sync request (not JSON, wrong shape, bad values).
    MalformedRequest,
    /// The body is larger than the service accepts.
    BodyTooLarge,
    /// The content type is not JSON.
    WrongContentType,
    /// No `Authorization` header, or one that is neither `Bearer` nor `Invitation`.
    MalformedAuthorization,
    /// An invitation token that enrolled no Android device.
    UnknownInvitation,
    /// The device is not an Android device.
    NotAndroid,
    /// The client certificate presented is not the device's.
    CertificateMismatch,
    /// The agent was installed through KNOX or another EMM (R-IN-4).
    UnmanageableInstall,
    /// The device has been wiped or retired.
    LeftManagement,
}

impl fmt::Display for AgentRequestRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MalformedRequest => "the body is not a well-formed sync request",
            Self::BodyTooLarge => "the body is too large",
            Self::WrongContentType => "the content type is not application/json",
            Self::MalformedAuthorization => {
                "no Authorization of the form `Bearer <credential>` or `Invitation <token>`"
            }
            Self::UnknownInvitation => "the invitation token enrolled no Android device",
            Self::NotAndroid => "not an Android device",
            Self::CertificateMismatch => "the client certificate is not the device's",
            Self::UnmanageableInstall => "the agent was installed through KNOX or another EMM",
            Self::LeftManagement => "the device has left management",
        })
    }
}

impl Workspace {
    /// Records in the audit log that the agent's sync service refused a
    /// request, for `device` when the request named one.
    pub fn record_agent_request_refusal(
        &mut self,
        device: Option<DeviceId>,
        reason: AgentRequestRefusal,
        now: OffsetDateTime,
    ) {
        self.log(now, AuditEvent::AgentRequestRefused { device, reason });
    }

    /// Records in the audit log an enrollment refused before the model saw
    /// the token (a link whose token is not even of the token's form).
    pub fn record_enrollment_refusal(&mut self, reason: crate::Refusal, now: OffsetDateTime) {
        self.log(
            now,
            AuditEvent::EnrollmentRefused {
                invitation: None,
                reason,
            },
        );
    }
}

impl Workspace {
    /// Checks that a sync for `device` comes from its agent.
    ///
    /// Returns the new credential when the proof was the invitation token
    /// (the agent must keep it and present it from now on), `None` when it
    /// was the credential. Comparisons are of SHA-256 hashes, in constant time.
    ///
    /// # Errors
    /// [`ModelError::AgentNotAuthenticated`] with the [`AgentRefusal`], also
    /// recorded in the audit log.
    pub fn authenticate_agent<R: CryptoRng + ?Sized>(
        &mut self,
        device: DeviceId,
        proof: AgentProof<'_>,
        now: OffsetDateTime,
        rng: &mut R,
    ) -> Result<Option<AgentCredential>, ModelError> {
        match self.check_agent_proof(device, proof) {
            Ok(Checked::Credential(hash)) => {
                if let Ok(d) = self.device_mut(device)
                    && let Some(record) = &mut d.agent_credential
                    && !record.confirmed
                {
                    *record = AgentCredentialRecord {
                        hash,
                        previous: None,
                        confirmed: true,
                    };
                }
                Ok(None)
            }
            Ok(Checked::MayIssue) => {
                let credential = AgentCredential::generate(rng);
                let d = self.device_mut(device)?;
                d.agent_credential = Some(AgentCredentialRecord {
                    hash: credential.hash(),
                    previous: d.agent_credential.map(|r| r.hash),
                    confirmed: false,
                });
                self.log(now, AuditEvent::AgentCredentialIssued { device });
                Ok(Some(credential))
            }
            Err(reason) => {
                self.log(
                    now,
                    AuditEvent::AgentAuthenticationFailed { device, reason },
                );
                Err(ModelError::AgentNotAuthenticated { device, reason })
            }
        }
    }

    fn check_agent_proof(
        &self,
        device: DeviceId,
        proof: AgentProof<'_>,
    ) -> Result<Checked, AgentRefusal> {
        let d = self
            .device(device)
            .ok()
            .filter(|d| d.platform == Platform::Android)
            .ok_or(AgentRefusal::UnknownDevice)?;
        // A wiped or retired device's agent may still prove itself (to be
        // told it left management), but is issued nothing new.
        if d.state.is_terminal() && matches!(proof, AgentProof::Invitation(_)) {
            return Err(AgentRefusal::UnknownDevice);
        }
        match proof {
            AgentProof::Credential(credential) => {
                let presented = credential.hash();
                match d.agent_credential {
                    Some(r) if r.hash == presented => Ok(Checked::Credential(presented)),
                    Some(r) if !r.confirmed && r.previous == Some(presented) => {
                        Ok(Checked::Credential(presented))
                    }
                    _ => Err(AgentRefusal::WrongCredential),
                }
            }
            AgentProof::Invitation(token) => {
                let enrolled_by = self
                    .invitation(d.invitation)
                    .map_err(|_| AgentRefusal::WrongInvitationToken)?;
                if enrolled_by.token_hash != token.hash() {
                    Err(AgentRefusal::WrongInvitationToken)
                } else if d.agent_credential.is_some_and(|r| r.confirmed) {
                    Err(AgentRefusal::CredentialAlreadyInUse)
                } else {
                    Ok(Checked::MayIssue)
                }
            }
        }
    }
}

/// What a proof that holds allows.
enum Checked {
    /// The credential of this hash is the device's.
    Credential(AgentCredentialHash),
    /// The invitation token may be answered with a new credential.
    MayIssue,
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use time::macros::datetime;

    use crate::*;

    const NOW: time::OffsetDateTime = datetime!(2026-12-01 09:00 UTC);

    fn enrolled(
        ws: &mut Workspace,
        rng: &mut ChaCha20Rng,
        account: &str,
    ) -> (DeviceId, InvitationToken) {
        let user = ws
            .add_user(
                account,
                Some(EmailAddress::parse(&format!("{account}@acme.example")).unwrap()),
                NOW,
            )
            .unwrap();
        let invitation = ws.issue_invitation(user, NOW, rng).unwrap();
        let request = EnrollmentRequest {
            platform: Platform::Android,
            os_version: OsVersion::new(14, 0, 0),
            model: "Pixel 8".into(),
            identification_number: None,
            install_source: InstallSource::StandalonePackage,
        };
        let device = ws.enroll(&invitation.token, request, NOW).unwrap();
        (device, invitation.token)
    }

    fn refusal(result: Result<Option<AgentCredential>, ModelError>) -> AgentRefusal {
        match result {
            Err(ModelError::AgentNotAuthenticated { reason, .. }) => reason,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn an_agent_proves_itself_with_its_invitation_then_its_credential() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let mut ws = Workspace::new("acme", "ACME", None, NOW).unwrap();
        let (alice_phone, alice_token) = enrolled(&mut ws, &mut rng, "alice");
        let (bob_phone, bob_token) = enrolled(&mut ws, &mut rng, "bob");

        // Bob's token cannot speak for Alice's phone, nor a guessed credential.
        let guessed = AgentCredential::generate(&mut rng);
        assert_eq!(
            refusal(ws.authenticate_agent(
                alice_phone,
                AgentProof::Invitation(&bob_token),
                NOW,
                &mut rng
            )),
            AgentRefusal::WrongInvitationToken
        );
        assert_eq!(
            refusal(ws.authenticate_agent(
                alice_phone,
                AgentProof::Credential(&guessed),
                NOW,
                &mut rng
            )),
            AgentRefusal::WrongCredential
        );

        // Answers get lost, requests sent twice: the token asks again, and
        // the newest two credentials stay valid until one is presented.
        let mut ask = |ws: &mut Workspace| {
            ws.authenticate_agent(
                alice_phone,
                AgentProof::Invitation(&alice_token),
                NOW,
                &mut rng,
            )
            .unwrap()
            .unwrap()
        };
        let oldest = ask(&mut ws);
        let kept = ask(&mut ws);
        let newest = ask(&mut ws);
        assert_ne!(oldest, kept);
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let mut present = |ws: &mut Workspace, credential: &AgentCredential| {
            ws.authenticate_agent(
                alice_phone,
                AgentProof::Credential(credential),
                NOW,
                &mut rng,
            )
        };
        assert_eq!(
            refusal(present(&mut ws, &oldest)),
            AgentRefusal::WrongCredential
        );
        assert_eq!(present(&mut ws, &kept).unwrap(), None);
        // The one presented is kept; the other is void from now on.
        assert_eq!(
            refusal(present(&mut ws, &newest)),
            AgentRefusal::WrongCredential
        );
        assert_eq!(present(&mut ws, &kept).unwrap(), None);
        // Once used, the credential is the only proof.
        assert_eq!(
            refusal(ws.authenticate_agent(
                alice_phone,
                AgentProof::Invitation(&alice_token),
                NOW,
                &mut rng
            )),
            AgentRefusal::CredentialAlreadyInUse
        );
        // Alice's credential does not open Bob's phone; unknown devices are refused.
        let bob_credential = ws
            .authenticate_agent(bob_phone, AgentProof::Invitation(&bob_token), NOW, &mut rng)
            .unwrap()
            .unwrap();
        assert_ne!(bob_credential, kept);
        assert_eq!(
            refusal(ws.authenticate_agent(bob_phone, AgentProof::Credential(&kept), NOW, &mut rng)),
            AgentRefusal::WrongCredential
        );
        assert_eq!(
            refusal(ws.authenticate_agent(
                DeviceId::from_index(99),
                AgentProof::Credential(&kept),
                NOW,
                &mut rng
            )),
            AgentRefusal::UnknownDevice
        );
        // A wiped device's agent can still prove itself (to hear that it
        // left management), but its invitation gets it nothing new.
        ws.complete_enrollment(alice_phone, NOW).unwrap();
        ws.wipe_device(alice_phone, NOW).unwrap();
        assert_eq!(
            ws.authenticate_agent(alice_phone, AgentProof::Credential(&kept), NOW, &mut rng)
                .unwrap(),
            None
        );
        assert_eq!(
            refusal(ws.authenticate_agent(
                alice_phone,
                AgentProof::Invitation(&alice_token),
                NOW,
                &mut rng
            )),
            AgentRefusal::UnknownDevice
        );
        let failures = ws
            .audit_log()
            .iter()
            .filter(|r| matches!(r.event, AuditEvent::AgentAuthenticationFailed { .. }))
            .count();
        assert_eq!(failures, 8);
        // The credential survives save and load, as a hash.
        let json = ws.to_json().unwrap();
        assert!(!json.contains(&bob_credential.expose()));
        let mut loaded = Workspace::from_json(&json).unwrap();
        assert_eq!(
            loaded
                .authenticate_agent(
                    bob_phone,
                    AgentProof::Credential(&bob_credential),
                    NOW,
                    &mut rng
                )
                .unwrap(),
            None
        );
    }

    #[test]
    fn refused_agent_requests_and_malformed_links_are_audited_in_a_stable_form() {
        let mut ws = Workspace::new("acme", "ACME", None, NOW).unwrap();
        ws.record_agent_request_refusal(None, AgentRequestRefusal::BodyTooLarge, NOW);
        ws.record_agent_request_refusal(
            Some(DeviceId::from_index(3)),
            AgentRequestRefusal::MalformedRequest,
            NOW,
        );
        ws.record_enrollment_refusal(Refusal::UnknownInvitation, NOW);
        let json: Vec<String> = ws
            .audit_log()
            .iter()
            .map(|r| serde_json::to_string(&r.event).unwrap())
            .collect();
        assert_eq!(
            json,
            [
                r#"{"event":"agent_request_refused","device":null,"reason":"body_too_large"}"#,
                r#"{"event":"agent_request_refused","device":3,"reason":"malformed_request"}"#,
                r#"{"event":"enrollment_refused","invitation":null,"reason":"unknown_invitation"}"#,
            ]
        );
        let loaded = Workspace::from_json(&ws.to_json().unwrap()).unwrap();
        assert_eq!(loaded.audit_log(), ws.audit_log());
    }
}
