//! The SCEP server: GetCACaps, GetCACert and PKIOperation answered as bytes,
//! with the outcome of each request returned for the audit log.

use std::collections::BTreeMap;
use std::sync::Mutex;

use rand_core::CryptoRng;
use time::{Duration, OffsetDateTime};
use x509_parser::prelude::FromDer as _;
use zeroize::Zeroizing;

use super::caps::ScepCapabilities;
use super::challenge::{ScepChallengeStore, ScepGrant};
use super::envelope::{ContentCipher, open, seal_to};
use super::message::{
    FailInfo, MessageType, Nonce, PkiMessage, PkiStatus, ScepAttributes, ScepDigest, TransactionId,
};
use super::signed::{ScepSigner, certificates_only, sign};
use crate::authority::{CertificateAuthority, Validity};
use crate::certificate::Certificate;
use crate::client::ClientIdentity;
use crate::csr::Csr;
use crate::error::{CertError, Result};
use crate::identity::CertifiedKey;

/// The most requests held PENDING at once.
const MAX_PENDING: usize = 10_000;

/// How a [`ScepServer`] behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScepConfig {
    /// How long an issued certificate is valid (cut at the CA's own end).
    pub certificate_lifetime: Duration,
    /// How far a request's `signingTime` may be from the server's clock
    /// before it is refused with `badTime`.
    pub max_clock_skew: Duration,
    /// Whether single-DES content is read. On by default: it is the only
    /// cipher Debian's `scepclient` 2.1 uses. The answer is always in the
    /// request's own cipher, so turning it off only refuses such clients.
    pub allow_single_des: bool,
    /// What GetCACaps lists.
    pub capabilities: ScepCapabilities,
}

impl Default for ScepConfig {
    /// One year, a day of clock skew, single DES read, the default
    /// capabilities.
    fn default() -> Self {
        Self {
            certificate_lifetime: Duration::days(365),
            max_clock_skew: Duration::days(1),
            allow_single_des: true,
            capabilities: ScepCapabilities::default(),
        }
    }
}

/// The `operation=` of an HTTP SCEP request (RFC 8894 §4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScepOperation {
    /// `GetCACaps`.
    GetCaCaps,
    /// `GetCACert`.
    GetCaCert,
    /// `PKIOperation`.
    PkiOperation,
    /// Anything else, as given (`GetNextCACert` is not served).
    Other(String),
}

impl ScepOperation {
    /// Reads the query value.
    pub fn parse(operation: &str) -> Self {
        match operation {
            "GetCACaps" => Self::GetCaCaps,
            "GetCACert" => Self::GetCaCert,
            "PKIOperation" => Self::PkiOperation,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// An answer to send back: its HTTP `Content-Type` and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScepResponse {
    /// `text/plain`, `application/x-x509-ca-cert`,
    /// `application/x-x509-ca-ra-cert` or `application/x-pki-message`.
    pub content_type: &'static str,
    /// The body.
    pub body: Vec<u8>,
}

/// What a PKIOperation did: the fact to audit.
#[derive(Debug)]
#[non_exhaustive]
pub enum ScepOutcome {
    /// A certificate was issued (PKCSReq, RenewalReq, or a poll of an
    /// approved request).
    Issued {
        /// The request's transactionID.
        transaction_id: TransactionId,
        /// What the request was.
        message_type: MessageType,
        /// The certificate issued.
        certificate: Box<Certificate>,
    },
    /// The request is held for approval.
    Pending {
        /// The request's transactionID.
        transaction_id: TransactionId,
    },
    /// The request was refused with a CertRep FAILURE.
    Refused {
        /// The request's transactionID.
        transaction_id: TransactionId,
        /// What the request was.
        message_type: MessageType,
        /// The failInfo sent.
        fail_info: FailInfo,
        /// Why, as a typed error.
        error: CertError,
    },
}

struct Held {
    csr: Csr,
    requester_key: Vec<u8>,
    decision: Option<Option<ClientIdentity>>,
}

/// A SCEP server for one CA (RFC 8894).
///
/// Requests are decrypted and answers signed by the CA's RSA key, or by an
/// RA certificate's when the CA's key is not RSA (SCEP's key transport
/// needs RSA; the workspace CA is P-256 by default). Certificates are
/// issued by the CA with the subject of the [`ClientIdentity`] the
/// challenge store grants and the client key usages (digitalSignature,
/// keyEncipherment; EKU clientAuth), whatever the CSR asks.
pub struct ScepServer {
    ca: CertificateAuthority,
    responder: ScepSigner,
    ra: bool,
    config: ScepConfig,
    held: Mutex<BTreeMap<TransactionId, Held>>,
}

impl core::fmt::Debug for ScepServer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ScepServer")
            .field("ca", &self.ca.certificate().info().subject)
            .field("responder", &self.responder)
            .field("ra", &self.ra)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn ca_end_validity(
    ca: &CertificateAuthority,
    now: OffsetDateTime,
    lifetime: Duration,
) -> Result<Validity> {
    let end = now
        .saturating_add(lifetime)
        .min(ca.certificate().info().not_after);
    Validity::new(now, end)
}

impl ScepServer {
    /// A server whose CA has an RSA key and answers itself.
    pub fn new(ca: CertificateAuthority, config: ScepConfig) -> Result<Self> {
        let responder = ScepSigner::new(&CertifiedKey {
            certificate: ca.certificate().clone(),
            key: ca.key().try_clone()?,
        })?;
        Ok(Self {
            ca,
            responder,
            ra: false,
            config,
            held: Mutex::new(BTreeMap::new()),
        })
    }

    /// A server whose RA (an RSA certificate issued by `ca`) decrypts the
    /// requests and signs the answers; GetCACert returns both certificates.
    pub fn with_ra(
        ca: CertificateAuthority,
        ra: &CertifiedKey,
        config: ScepConfig,
    ) -> Result<Self> {
        if !ra.certificate.is_signed_by(ca.certificate()) {
            return Err(CertError::ScepSetup {
                reason: format!(
                    "the RA certificate `{}` is not issued by the CA `{}`",
                    ra.certificate.info().subject,
                    ca.certificate().info().subject
                ),
            });
        }
        Ok(Self {
            responder: ScepSigner::new(ra)?,
            ca,
            ra: true,
            config,
            held: Mutex::new(BTreeMap::new()),
        })
    }

    /// Issues an RA certificate for `ca` with a new RSA 2048 key from `rng`
    /// (digitalSignature and keyEncipherment), to pass to [`Self::with_ra`].
    pub fn issue_ra<R: CryptoRng + ?Sized>(
        ca: &CertificateAuthority,
        common_name: &str,
        validity: Validity,
        rng: &mut R,
    ) -> Result<CertifiedKey> {
        let key = crate::key::PrivateKey::generate(crate::key::KeyAlgorithm::Rsa2048, rng)?;
        let certificate = ca.issue_leaf(
            crate::authority::LeafKind::Client,
            &crate::name::SubjectName::common_name(common_name)?,
            Vec::new(),
            &key,
            validity,
            rng,
        )?;
        Ok(CertifiedKey { certificate, key })
    }

    /// The CA.
    pub fn authority(&self) -> &CertificateAuthority {
        &self.ca
    }

    /// The certificate requests are encrypted to and answers signed by
    /// (the CA's, or the RA's).
    pub fn responder_certificate(&self) -> &Certificate {
        self.responder.certificate()
    }

    /// The GetCACaps answer.
    pub fn ca_caps(&self) -> ScepResponse {
        ScepResponse {
            content_type: "text/plain",
            body: self.config.capabilities.to_string().into_bytes(),
        }
    }

    /// The GetCACert answer: the CA certificate (DER), or with an RA a
    /// degenerate PKCS#7 holding the CA and RA certificates.
    pub fn ca_cert(&self) -> Result<ScepResponse> {
        if self.ra {
            Ok(ScepResponse {
                content_type: "application/x-x509-ca-ra-cert",
                body: certificates_only(&[
                    self.ca.certificate().der(),
                    self.responder.certificate().der(),
                ])?,
            })
        } else {
            Ok(ScepResponse {
                content_type: "application/x-x509-ca-cert",
                body: self.ca.certificate().der().to_vec(),
            })
        }
    }

    /// Answers a PKIOperation `message` at `now`. A message that is not a
    /// pkiMessage is [`CertError::ScepMalformed`] (HTTP 400); anything else
    /// gets a CertRep — SUCCESS with the certificate encrypted to the
    /// requester, PENDING, or FAILURE with its failInfo — and the outcome.
    pub fn pki_operation<S: ScepChallengeStore + ?Sized, R: CryptoRng + ?Sized>(
        &self,
        message: &[u8],
        store: &S,
        now: OffsetDateTime,
        rng: &mut R,
    ) -> Result<(ScepResponse, ScepOutcome)> {
        let request = PkiMessage::parse(message)?;
        let transaction_id = request.transaction_id().clone();
        let message_type = request.message_type().clone();
        let verified = request.verify();
        let digest = if verified.is_ok() {
            request.digest()
        } else {
            ScepDigest::Sha256
        };
        let answer = verified.and_then(|()| self.answer(&request, store, now, rng));
        let (status, fail_info, content, outcome) = match answer {
            Ok(Answer::Issued {
                certificate,
                cipher,
            }) => {
                let degenerate = certificates_only(&[certificate.der()])?;
                let sealed = seal_to(
                    &degenerate,
                    request.signer(),
                    request.signer_key()?,
                    cipher,
                    rng,
                )?;
                let outcome = ScepOutcome::Issued {
                    transaction_id: transaction_id.clone(),
                    message_type,
                    certificate,
                };
                (PkiStatus::Success, None, Some(sealed), outcome)
            }
            Ok(Answer::Pending) => (
                PkiStatus::Pending,
                None,
                None,
                ScepOutcome::Pending {
                    transaction_id: transaction_id.clone(),
                },
            ),
            Err(error) => {
                let fail_info = FailInfo::for_error(&error);
                let outcome = ScepOutcome::Refused {
                    transaction_id: transaction_id.clone(),
                    message_type,
                    fail_info,
                    error,
                };
                (PkiStatus::Failure, Some(fail_info), None, outcome)
            }
        };
        let attrs = ScepAttributes {
            message_type: MessageType::CertRep,
            transaction_id,
            sender_nonce: Some(Nonce::random(rng)),
            recipient_nonce: request.sender_nonce().cloned(),
            pki_status: Some(status),
            fail_info,
        };
        let body = sign(
            &self.responder,
            digest,
            content.as_deref(),
            attrs.to_attributes()?,
            now,
        )?;
        Ok((
            ScepResponse {
                content_type: "application/x-pki-message",
                body,
            },
            outcome,
        ))
    }

    fn answer<S: ScepChallengeStore + ?Sized, R: CryptoRng + ?Sized>(
        &self,
        request: &PkiMessage,
        store: &S,
        now: OffsetDateTime,
        rng: &mut R,
    ) -> Result<Answer> {
        if let Some(signed_at) = request.signing_time() {
            let skew = self.config.max_clock_skew;
            if signed_at > now + skew || signed_at < now - skew {
                return Err(CertError::ScepBadTime {
                    signed_at,
                    now,
                    skew_seconds: skew.whole_seconds(),
                });
            }
        }
        let requester_key = request.signer_public_key()?;
        match request.message_type() {
            MessageType::PkcsReq => {
                let (csr, challenge, cipher) = self.open_csr(request)?;
                let challenge = challenge.ok_or_else(|| CertError::ScepBadRequest {
                    reason: "the CSR has no challengePassword".into(),
                })?;
                let grant = store.redeem(&challenge, &csr, now)?;
                self.grant(request, grant, csr, requester_key, cipher, now, rng)
            }
            MessageType::RenewalReq => {
                let current = Certificate::from_der(request.signer_certificate_der())?;
                if !current.is_signed_by(self.ca.certificate()) || current.info().is_ca {
                    return Err(CertError::ScepUnknownCertificate {
                        reason: format!("`{}` was not issued by this CA", current.info().subject),
                    });
                }
                if !current.info().is_valid_at(now) {
                    return Err(CertError::ScepUnknownCertificate {
                        reason: format!(
                            "`{}` is not valid at {now} (it ends {})",
                            current.info().subject,
                            current.info().not_after
                        ),
                    });
                }
                let identity = identity_of(&current)?;
                let (csr, _, cipher) = self.open_csr(request)?;
                let grant = store.renew(&current, identity, now)?;
                self.grant(request, grant, csr, requester_key, cipher, now, rng)
            }
            MessageType::CertPoll => {
                let content = request
                    .content()
                    .ok_or_else(|| CertError::ScepBadMessageCheck {
                        reason: "the poll has no content".into(),
                    })?;
                let (_, cipher) = open(content, &self.responder, self.config.allow_single_des)?;
                self.poll(request.transaction_id(), &requester_key, cipher, now, rng)
            }
            other => Err(CertError::ScepBadRequest {
                reason: format!("message type {} is not served", other.code()),
            }),
        }
    }

    fn open_csr(
        &self,
        request: &PkiMessage,
    ) -> Result<(Csr, Option<Zeroizing<String>>, ContentCipher)> {
        let content = request
            .content()
            .ok_or_else(|| CertError::ScepBadMessageCheck {
                reason: "the request has no content".into(),
            })?;
        let (plain, cipher) = open(content, &self.responder, self.config.allow_single_des)?;
        let csr = Csr::from_der(&plain)?;
        Ok((csr, challenge_password(&plain), cipher))
    }

    #[allow(clippy::too_many_arguments)]
    fn grant<R: CryptoRng + ?Sized>(
        &self,
        request: &PkiMessage,
        grant: ScepGrant,
        csr: Csr,
        requester_key: Vec<u8>,
        cipher: ContentCipher,
        now: OffsetDateTime,
        rng: &mut R,
    ) -> Result<Answer> {
        match grant {
            ScepGrant::Issue(identity) => {
                let validity = ca_end_validity(&self.ca, now, self.config.certificate_lifetime)?;
                let certificate = self
                    .ca
                    .issue_client_certificate(&csr, &identity, validity, rng)?;
                Ok(Answer::Issued {
                    certificate: Box::new(certificate),
                    cipher,
                })
            }
            ScepGrant::Pending => {
                let mut held = self.held.lock().map_err(|_| CertError::ScepBadRequest {
                    reason: "the pending-request table is unavailable".into(),
                })?;
                if held.len() >= MAX_PENDING && !held.contains_key(request.transaction_id()) {
                    return Err(CertError::ScepBadRequest {
                        reason: format!("{MAX_PENDING} requests are already pending"),
                    });
                }
                held.insert(
                    request.transaction_id().clone(),
                    Held {
                        csr,
                        requester_key,
                        decision: None,
                    },
                );
                Ok(Answer::Pending)
            }
        }
    }

    fn poll<R: CryptoRng + ?Sized>(
        &self,
        transaction_id: &TransactionId,
        requester_key: &[u8],
        cipher: ContentCipher,
        now: OffsetDateTime,
        rng: &mut R,
    ) -> Result<Answer> {
        let mut held = self.held.lock().map_err(|_| CertError::ScepBadRequest {
            reason: "the pending-request table is unavailable".into(),
        })?;
        let unknown = || CertError::ScepUnknownCertificate {
            reason: format!("no pending request {transaction_id} from this key"),
        };
        let entry = held.get(transaction_id).ok_or_else(unknown)?;
        if entry.requester_key != requester_key {
            return Err(unknown());
        }
        match &entry.decision {
            None => Ok(Answer::Pending),
            Some(None) => {
                held.remove(transaction_id);
                Err(CertError::ScepBadRequest {
                    reason: format!("request {transaction_id} was rejected"),
                })
            }
            Some(Some(identity)) => {
                let validity = ca_end_validity(&self.ca, now, self.config.certificate_lifetime)?;
                let certificate = self
                    .ca
                    .issue_client_certificate(&entry.csr, identity, validity, rng)?;
                held.remove(transaction_id);
                Ok(Answer::Issued {
                    certificate: Box::new(certificate),
                    cipher,
                })
            }
        }
    }

    /// Approves the pending request `transaction_id` for `identity`: the
    /// device's next poll gets its certificate.
    pub fn approve(&self, transaction_id: &TransactionId, identity: ClientIdentity) -> Result<()> {
        self.decide(transaction_id, Some(identity))
    }

    /// Rejects the pending request `transaction_id`: the device's next poll
    /// gets a FAILURE.
    pub fn reject(&self, transaction_id: &TransactionId) -> Result<()> {
        self.decide(transaction_id, None)
    }

    /// The transactionIDs of the requests waiting for a decision.
    pub fn pending(&self) -> Vec<TransactionId> {
        self.held
            .lock()
            .map(|h| {
                h.iter()
                    .filter(|(_, e)| e.decision.is_none())
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn decide(
        &self,
        transaction_id: &TransactionId,
        decision: Option<ClientIdentity>,
    ) -> Result<()> {
        let mut held = self.held.lock().map_err(|_| CertError::ScepBadRequest {
            reason: "the pending-request table is unavailable".into(),
        })?;
        let entry =
            held.get_mut(transaction_id)
                .ok_or_else(|| CertError::ScepUnknownCertificate {
                    reason: format!("no pending request {transaction_id}"),
                })?;
        entry.decision = Some(decision);
        Ok(())
    }
}

enum Answer {
    Issued {
        certificate: Box<Certificate>,
        cipher: ContentCipher,
    },
    Pending,
}

/// The challengePassword of a CSR (DER), if it has one.
fn challenge_password(csr_der: &[u8]) -> Option<Zeroizing<String>> {
    use x509_parser::cri_attributes::ParsedCriAttribute;
    let (_, csr) =
        x509_parser::certification_request::X509CertificationRequest::from_der(csr_der).ok()?;
    csr.certification_request_info
        .iter_attributes()
        .find_map(|attr| match attr.parsed_attribute() {
            ParsedCriAttribute::ChallengePassword(p) => Some(Zeroizing::new(p.0.clone())),
            _ => None,
        })
}

/// The identity a client certificate names: its CN (the user) and OU (the
/// device), as [`ClientIdentity`] writes them.
fn identity_of(cert: &Certificate) -> Result<ClientIdentity> {
    let bad = || CertError::ScepUnknownCertificate {
        reason: format!("`{}` names no user (CN)", cert.info().subject),
    };
    let (_, parsed) =
        x509_parser::certificate::X509Certificate::from_der(cert.der()).map_err(|_| bad())?;
    let subject = parsed.subject();
    let cn = subject
        .iter_common_name()
        .next()
        .and_then(|a| a.as_str().ok())
        .ok_or_else(bad)?
        .to_owned();
    let ou = subject
        .iter_organizational_unit()
        .next()
        .and_then(|a| a.as_str().ok())
        .map(str::to_owned);
    ClientIdentity::new(&cn, ou.as_deref())
}
