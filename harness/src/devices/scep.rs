//! SCEP as a device runs it (RFC 8894), on bytes: the payloads a device
//! reads from its verified enrollment profile, the `PKCSReq` it builds for
//! its key and the profile's one-time challenge (R-CL-1), and the
//! certificate it reads back from the `CertRep`. The simulator hands these
//! bytes to the workspace's SCEP endpoint in-process
//! (`mdm_server::scep`); `load` carries the same bytes over HTTP. Both run
//! the code here.
//!
//! RSA keys of the size the profile's `Keysize` asks for, as iOS makes
//! them, but from a small pool made once per process ([`device_key`]): key
//! generation would otherwise dominate a run, and the server sees a
//! distinct certificate per device either way.

use std::sync::OnceLock;

use mdm_apple::{MdmPayload, PayloadContent, ScepIdentity, ScepKeySize, read_profile};
use mdm_certs::{
    Certificate, ContentCipher, KeyAlgorithm, NameAttribute, PrivateKey, ScepDigest, ScepOutcome,
    ScepReply, ScepRequest, ScepSigner, SubjectName, ca_certificates, csr_with_challenge,
};
use mdm_model::ClientCertificateRefusal;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use time::OffsetDateTime;

use super::DeviceView;
use crate::HarnessError;
use crate::SimTime;
use crate::draw::{CoinPurpose, Purpose};
use crate::mdm_server::scep::refusal_of;

/// The step of a device's enrollment a fault happened in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EnrollmentStep {
    /// Reading the verified profile.
    Profile,
    /// Reading the `GetCACert` answer.
    ScepCaCert,
    /// The `PKCSReq` and its `CertRep`.
    Scep,
}

/// Why a device's enrollment stopped: its step, a short kind (for counts
/// by kind) and the detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EnrollmentFault {
    pub(crate) step: EnrollmentStep,
    pub(crate) kind: &'static str,
    pub(crate) detail: String,
}

fn fault(
    step: EnrollmentStep,
    kind: &'static str,
    detail: impl std::fmt::Display,
) -> EnrollmentFault {
    EnrollmentFault {
        step,
        kind,
        detail: detail.to_string(),
    }
}

/// The two payloads an enrollment profile must carry.
#[derive(Debug, Clone)]
pub(crate) struct EnrollmentPayloads {
    /// `com.apple.security.scep`: where and how to get the identity.
    pub(crate) scep: ScepIdentity,
    /// `com.apple.mdm`: where to check in, the topic.
    pub(crate) mdm: MdmPayload,
}

impl EnrollmentPayloads {
    /// Reads the payloads of a verified profile's content (its plist).
    ///
    /// # Errors
    /// An [`EnrollmentFault`] of step `Profile`: an unreadable profile, no
    /// SCEP or MDM payload, no challenge.
    pub(crate) fn read(content: &[u8]) -> Result<Self, EnrollmentFault> {
        let step = EnrollmentStep::Profile;
        let read = read_profile(content).map_err(|e| fault(step, "unreadable", e))?;
        let mut scep = None;
        let mut mdm = None;
        for payload in &read.params().payloads {
            match &payload.content {
                PayloadContent::Scep(s) => scep = Some(s.clone()),
                PayloadContent::Mdm(m) => mdm = Some(m.clone()),
                _ => {}
            }
        }
        let scep = scep.ok_or_else(|| fault(step, "no SCEP payload", "com.apple.security.scep"))?;
        let mdm = mdm.ok_or_else(|| fault(step, "no MDM payload", "com.apple.mdm"))?;
        if scep.challenge.is_none() {
            return Err(fault(
                step,
                "no challenge",
                "the SCEP payload has no Challenge",
            ));
        }
        Ok(Self { scep, mdm })
    }

    /// The profile's one-time challenge (present: [`Self::read`] checks).
    pub(crate) fn challenge(&self) -> &str {
        self.scep.challenge.as_deref().unwrap_or_default()
    }
}

/// The subject a device asks for: the SCEP payload's `Subject` (it must
/// name a CN; attributes other than C, L, ST, O, OU and CN are left out).
///
/// # Errors
/// An [`EnrollmentFault`] of step `Scep` when there is no CN or a value
/// is not a valid name.
pub(crate) fn subject_name(pairs: &[(String, String)]) -> Result<SubjectName, EnrollmentFault> {
    let step = EnrollmentStep::Scep;
    let cn = pairs
        .iter()
        .find(|(k, _)| k == "CN")
        .map(|(_, v)| v.as_str())
        .ok_or_else(|| fault(step, "no CN", "the SCEP subject names no CN"))?;
    let mut name = SubjectName::common_name(cn).map_err(|e| fault(step, "subject", e))?;
    for (k, v) in pairs {
        let attribute = match k.as_str() {
            "O" => NameAttribute::Organization,
            "OU" => NameAttribute::OrganizationalUnit,
            "L" => NameAttribute::Locality,
            "ST" => NameAttribute::StateOrProvince,
            "C" => NameAttribute::Country,
            _ => continue,
        };
        name = name
            .with(attribute, v)
            .map_err(|e| fault(step, "subject", e))?;
    }
    Ok(name)
}

/// A `PKCSReq` a device sent, with what it needs to read the answer.
pub(crate) struct ScepEnrollment {
    message: ScepRequest,
    signer: ScepSigner,
    /// The certificate the request was encrypted to (the RA, or the CA).
    recipient: Certificate,
    /// The CA the issued certificate must chain to.
    ca: Certificate,
}

impl ScepEnrollment {
    /// After `GetCACert` answered `body` with `content_type`: a `PKCSReq`
    /// for `key` asking for `subject`, with the one-time `challenge`, signed with a
    /// self-signed certificate for the key (what iOS sends first), its CSR
    /// encrypted (AES-128-CBC) to the RA when there is one, else the CA.
    ///
    /// # Errors
    /// An [`EnrollmentFault`] of step `ScepCaCert` for an unreadable CA
    /// answer, of step `Scep` when the request cannot be built.
    pub(crate) fn request(
        content_type: &str,
        body: &[u8],
        challenge: &str,
        subject: &SubjectName,
        key: &PrivateKey,
        now: OffsetDateTime,
        rng: &mut ChaCha20Rng,
    ) -> Result<Self, EnrollmentFault> {
        let certificates = ca_certificates(content_type, body)
            .map_err(|e| fault(EnrollmentStep::ScepCaCert, "bad CA", e))?;
        let ca = certificates
            .iter()
            .find(|c| c.info().is_ca)
            .ok_or_else(|| fault(EnrollmentStep::ScepCaCert, "bad CA", "no CA certificate"))?;
        let recipient = certificates.iter().find(|c| !c.info().is_ca).unwrap_or(ca);

        let step = EnrollmentStep::Scep;
        let csr = csr_with_challenge(subject, key, challenge).map_err(|e| fault(step, "csr", e))?;
        let cn = subject.get(NameAttribute::CommonName).unwrap_or("device");
        let owned = key.try_clone().map_err(|e| fault(step, "key", e))?;
        let signer =
            ScepSigner::self_signed(owned, cn, now, rng).map_err(|e| fault(step, "signer", e))?;
        let message = ScepRequest::pkcs_req(
            &csr,
            &signer,
            recipient,
            ContentCipher::Aes128Cbc,
            ScepDigest::Sha256,
            now,
            rng,
        )
        .map_err(|e| fault(step, "pkcsreq", e))?;
        Ok(Self {
            message,
            signer,
            recipient: recipient.clone(),
            ca: ca.clone(),
        })
    }

    /// The `PKIOperation` message (DER) to send.
    pub(crate) fn message(&self) -> &[u8] {
        self.message.der()
    }

    /// Reads the `CertRep` (`body`): the certificate issued, checked to be
    /// the CA's.
    ///
    /// # Errors
    /// An [`EnrollmentFault`] of step `Scep`: kind `refused` for a FAILURE
    /// (its failInfo in the detail), `not issued` for PENDING, `bad
    /// CertRep` for an answer that does not verify or decrypt, `foreign
    /// certificate` for one another CA issued.
    pub(crate) fn finish(&self, body: &[u8]) -> Result<Certificate, EnrollmentFault> {
        let step = EnrollmentStep::Scep;
        match ScepReply::parse(body, &self.message, &self.recipient, &self.signer) {
            Ok(ScepReply::Issued(certificate)) if certificate.is_signed_by(&self.ca) => {
                Ok(*certificate)
            }
            Ok(ScepReply::Issued(_)) => Err(fault(
                step,
                "foreign certificate",
                "not issued by the SCEP CA",
            )),
            Ok(ScepReply::Failed(info)) => Err(fault(step, "refused", format!("{info:?}"))),
            Ok(other) => Err(fault(step, "not issued", format!("{other:?}"))),
            Err(e) => Err(fault(step, "bad CertRep", e)),
        }
    }
}

/// What the workspace's SCEP endpoint did with a simulated device's
/// `PKCSReq`, as the device read it.
pub(crate) enum ScepResult {
    /// The certificate issued, read from the CertRep.
    Issued(Box<Certificate>),
    /// A CertRep FAILURE; the server's reason (for its audit log).
    Refused {
        reason: ClientCertificateRefusal,
        /// The first CertRep was lost and this answers the device's resend
        /// of the same request.
        after_lost_reply: bool,
    },
}

impl DeviceView {
    /// SCEP with the workspace's endpoint, in-process but on bytes: the
    /// device reads `GetCACert`, sends a `PKCSReq` for `key`, `subject` and
    /// `challenge` at `t`, and reads the `CertRep`; the endpoint answers
    /// with the code its HTTP route runs. When the message-loss fault
    /// strikes, the CertRep is lost and the device sends the same request
    /// again (its one-time password is then used). `rng` is the device's;
    /// the endpoint draws from device `i`'s own stream for its answer.
    ///
    /// # Errors
    /// [`HarnessError::Apple`] when the exchange breaks in a way no real
    /// server would answer (a request that does not build, a CertRep the
    /// device cannot read).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn scep(
        &self,
        i: u32,
        attempts: u8,
        t: SimTime,
        challenge: &str,
        subject: &SubjectName,
        key: &PrivateKey,
        rng: &mut ChaCha20Rng,
    ) -> Result<ScepResult, HarnessError> {
        let broken = |f: EnrollmentFault| HarnessError::Apple {
            step: "SCEP",
            message: format!("{}: {}", f.kind, f.detail),
        };
        let now = self.now(t);
        let ca = self.scep.ca_cert()?;
        let enrollment =
            ScepEnrollment::request(ca.content_type, &ca.body, challenge, subject, key, now, rng)
                .map_err(broken)?;
        let mut server_rng = self.stream(i, attempts, Purpose::Scep);
        let mut answer = self
            .scep
            .pki_operation(enrollment.message(), now, &mut server_rng)?;
        let lost = self.coin(i, t, CoinPurpose::CertRepLost, self.faults.drop_chance);
        if lost {
            answer = self
                .scep
                .pki_operation(enrollment.message(), now, &mut server_rng)?;
        }
        match (answer.outcome, enrollment.finish(&answer.response.body)) {
            (ScepOutcome::Issued { .. }, Ok(certificate)) => {
                Ok(ScepResult::Issued(Box::new(certificate)))
            }
            (ScepOutcome::Refused { error, .. }, Err(f)) if f.kind == "refused" => {
                Ok(ScepResult::Refused {
                    reason: refusal_of(&error),
                    after_lost_reply: lost,
                })
            }
            (_, Err(f)) => Err(broken(f)),
            (outcome, Ok(_)) => Err(HarnessError::Apple {
                step: "SCEP",
                message: format!("a certificate read from a CertRep whose outcome is {outcome:?}"),
            }),
        }
    }
}

/// `keys` RSA keys of `algorithm`, made from `seed` on scoped threads of
/// their own (one per core), not on rayon's pool: the simulator's pools are
/// first asked for from inside a parallel batch, where a rayon worker
/// holding the pool's `OnceLock` would steal another device's job that
/// waits for the same lock.
///
/// # Errors
/// [`HarnessError::Certificates`] when a key cannot be made.
pub(crate) fn rsa_keys(
    algorithm: KeyAlgorithm,
    keys: usize,
    seed: u64,
) -> Result<Vec<PrivateKey>, HarnessError> {
    let keys = keys.max(1);
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let make = |i: usize| {
        let mut rng = ChaCha20Rng::seed_from_u64(seed ^ (i as u64).rotate_left(32));
        PrivateKey::generate(algorithm, &mut rng).map_err(|source| HarnessError::Certificates {
            step: "RSA key pool",
            source,
        })
    };
    let mut made: Vec<Option<Result<PrivateKey, HarnessError>>> = Vec::new();
    made.resize_with(keys, || None);
    std::thread::scope(|scope| {
        for (t, slots) in made.chunks_mut(keys.div_ceil(threads)).enumerate() {
            let first = t * keys.div_ceil(threads);
            scope.spawn(move || {
                for (k, slot) in slots.iter_mut().enumerate() {
                    *slot = Some(make(first + k));
                }
            });
        }
    });
    made.into_iter()
        .map(|key| key.unwrap_or(Err(HarnessError::Internal("a key thread panicked"))))
        .collect()
}

/// How many keys of each size the simulator's devices share.
const POOL_KEYS: usize = 8;

type Pool = OnceLock<Result<Vec<PrivateKey>, String>>;

/// Device `i`'s SCEP key for the profile's `Keysize`: one of a pool made
/// once per process (the same keys for every run, so a run's report does
/// not depend on them). 1024-bit keys are not made (too weak to issue for).
///
/// # Errors
/// [`HarnessError::Apple`] for a 1024-bit `Keysize` or a pool that could
/// not be made.
pub(crate) fn device_key(size: ScepKeySize, i: u32) -> Result<&'static PrivateKey, HarnessError> {
    static RSA_2048: Pool = OnceLock::new();
    static RSA_4096: Pool = OnceLock::new();
    let (pool, algorithm) = match size {
        ScepKeySize::Rsa2048 => (&RSA_2048, KeyAlgorithm::Rsa2048),
        ScepKeySize::Rsa4096 => (&RSA_4096, KeyAlgorithm::Rsa4096),
        ScepKeySize::Rsa1024 => {
            return Err(HarnessError::Apple {
                step: "SCEP key",
                message: "the profile asks for a 1024-bit key".into(),
            });
        }
    };
    let keys = pool
        .get_or_init(|| {
            rsa_keys(
                algorithm,
                POOL_KEYS,
                0x5CE9_D3F1_CE00_0000 | u64::from(size.bits()),
            )
            .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|message| HarnessError::Apple {
            step: "SCEP key pool",
            message: message.clone(),
        })?;
    keys.get(i as usize % keys.len().max(1))
        .ok_or_else(|| HarnessError::Apple {
            step: "SCEP key pool",
            message: "the pool is empty".into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_keep_the_profiles_attributes() {
        let name = subject_name(&[
            ("O".into(), "acme".into()),
            ("CN".into(), "0a1b".into()),
            ("X".into(), "ignored".into()),
        ])
        .unwrap();
        assert_eq!(name.get(NameAttribute::CommonName), Some("0a1b"));
        assert_eq!(name.get(NameAttribute::Organization), Some("acme"));
        let failure = subject_name(&[("O".into(), "acme".into())]).unwrap_err();
        assert_eq!(
            (failure.step, failure.kind),
            (EnrollmentStep::Scep, "no CN")
        );
    }

    #[test]
    fn a_profile_without_payloads_is_refused() {
        let failure = EnrollmentPayloads::read(b"<plist/>").unwrap_err();
        assert_eq!(failure.step, EnrollmentStep::Profile);
    }

    #[test]
    fn weak_keys_are_not_made() {
        assert!(device_key(ScepKeySize::Rsa1024, 0).is_err());
    }
}
