//! The device's side of SCEP: the requests it sends and how it reads the
//! answers. Used by tests, the load client and the harness's simulated
//! devices, in-process or over HTTP.

use cms_02::cert::x509::Certificate as X509;
use cms_02::cert::x509::der::asn1::{Any, PrintableStringRef, SetOfVec, Utf8StringRef};
use cms_02::cert::x509::der::{Decode as _, Encode as _};
use cms_02::cert::x509::name::Name;
use rand_core::CryptoRng;
use time::OffsetDateTime;

use super::envelope::{ContentCipher, open, seal};
use super::malformed;
use super::message::{
    FailInfo, MessageType, Nonce, PkiMessage, PkiStatus, ScepAttributes, ScepDigest, TransactionId,
};
use super::signed::{ScepSigner, der_error, read_certificates, read_signed_data, sign};
use crate::certificate::Certificate;
use crate::error::{CertError, Result};
use crate::identity::CertifiedKey;
use crate::key::PrivateKey;
use crate::name::SubjectName;

/// Which request a [`ScepRequest`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScepRequestKind {
    /// A first certificate, with a challenge password.
    PkcsReq,
    /// A renewal, signed with the current certificate.
    RenewalReq,
    /// A poll for a pending request.
    CertPoll,
}

/// A pkiMessage a device sends (PKIOperation), with what it needs to read
/// the answer.
#[derive(Debug, Clone)]
pub struct ScepRequest {
    der: Vec<u8>,
    kind: ScepRequestKind,
    transaction_id: TransactionId,
    sender_nonce: Nonce,
}

impl ScepSigner {
    /// What a device signs its first request with: a self-signed
    /// certificate for `key` (RSA), `CN=<common_name>`, valid an hour
    /// either side of `now`.
    pub fn self_signed<R: CryptoRng + ?Sized>(
        key: PrivateKey,
        common_name: &str,
        now: OffsetDateTime,
        rng: &mut R,
    ) -> Result<Self> {
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name = SubjectName::common_name(common_name)?.to_rcgen();
        params.not_before = now - time::Duration::hours(1);
        params.not_after = now + time::Duration::hours(1);
        params.serial_number = Some(crate::authority::random_serial(rng));
        let cert = params.self_signed(&key).map_err(|e| CertError::Signing {
            artifact: "SCEP self-signed certificate",
            reason: e.to_string(),
        })?;
        Self::new(&CertifiedKey {
            certificate: Certificate::from_der(cert.der())?,
            key,
        })
    }
}

/// A CSR for `key` with `subject` and the SCEP `challengePassword`
/// attribute (PKCS #9), as a device sends in a PKCSReq (DER).
pub fn csr_with_challenge(
    subject: &SubjectName,
    key: &PrivateKey,
    challenge: &str,
) -> Result<Vec<u8>> {
    let err = der_error("challengePassword");
    let value = match PrintableStringRef::new(challenge) {
        Ok(p) => Any::encode_from(&p).map_err(&err)?,
        Err(_) => Any::encode_from(&Utf8StringRef::new(challenge).map_err(&err)?).map_err(&err)?,
    };
    let mut set = SetOfVec::new();
    set.insert(value).map_err(&err)?;
    let attr = rcgen::Attribute {
        oid: &[1, 2, 840, 113549, 1, 9, 7],
        values: set.to_der().map_err(&err)?,
    };
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = subject.to_rcgen();
    let csr = params
        .serialize_request_with_attributes(key, vec![attr])
        .map_err(|e| CertError::Signing {
            artifact: "certificate signing request",
            reason: e.to_string(),
        })?;
    Ok(csr.der().to_vec())
}

impl ScepRequest {
    /// A PKCSReq for `csr_der` (with its challengePassword, see
    /// [`csr_with_challenge`]), signed by `signer` (the device's
    /// self-signed certificate), encrypted with `cipher` to `recipient`
    /// (the certificate GetCACert named for encryption: the RA's, or the
    /// CA's). The transactionID is the hash of the CSR's key.
    #[allow(clippy::too_many_arguments)]
    pub fn pkcs_req<R: CryptoRng + ?Sized>(
        csr_der: &[u8],
        signer: &ScepSigner,
        recipient: &Certificate,
        cipher: ContentCipher,
        digest: ScepDigest,
        now: OffsetDateTime,
        rng: &mut R,
    ) -> Result<Self> {
        Self::with_csr(
            ScepRequestKind::PkcsReq,
            csr_der,
            signer,
            recipient,
            cipher,
            digest,
            now,
            rng,
        )
    }

    /// A RenewalReq for `csr_der`, signed with the device's current
    /// certificate and key (`signer`).
    #[allow(clippy::too_many_arguments)]
    pub fn renewal_req<R: CryptoRng + ?Sized>(
        csr_der: &[u8],
        signer: &ScepSigner,
        recipient: &Certificate,
        cipher: ContentCipher,
        digest: ScepDigest,
        now: OffsetDateTime,
        rng: &mut R,
    ) -> Result<Self> {
        Self::with_csr(
            ScepRequestKind::RenewalReq,
            csr_der,
            signer,
            recipient,
            cipher,
            digest,
            now,
            rng,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn with_csr<R: CryptoRng + ?Sized>(
        kind: ScepRequestKind,
        csr_der: &[u8],
        signer: &ScepSigner,
        recipient: &Certificate,
        cipher: ContentCipher,
        digest: ScepDigest,
        now: OffsetDateTime,
        rng: &mut R,
    ) -> Result<Self> {
        let csr = crate::csr::Csr::from_der(csr_der)?;
        let transaction_id = TransactionId::for_public_key(&csr.public_key_der());
        Self::build(
            kind,
            csr_der,
            transaction_id,
            signer,
            recipient,
            cipher,
            digest,
            now,
            rng,
        )
    }

    /// A poll (GetCertInitial) for the pending request `transaction_id`,
    /// whose CSR asked for `subject`; `issuer` is the CA certificate.
    #[allow(clippy::too_many_arguments)]
    pub fn cert_poll<R: CryptoRng + ?Sized>(
        transaction_id: TransactionId,
        subject_der: &[u8],
        issuer: &Certificate,
        signer: &ScepSigner,
        recipient: &Certificate,
        cipher: ContentCipher,
        digest: ScepDigest,
        now: OffsetDateTime,
        rng: &mut R,
    ) -> Result<Self> {
        let err = der_error("IssuerAndSubject");
        let ca = X509::from_der(issuer.der()).map_err(&err)?;
        // IssuerAndSubject (RFC 8894 §3.3.3) ::= SEQUENCE { issuer Name, subject Name }
        let subject = Name::from_der(subject_der).map_err(&err)?;
        let body = vec![
            Any::encode_from(&ca.tbs_certificate.subject).map_err(&err)?,
            Any::encode_from(&subject).map_err(&err)?,
        ]
        .to_der()
        .map_err(&err)?;
        Self::build(
            ScepRequestKind::CertPoll,
            &body,
            transaction_id,
            signer,
            recipient,
            cipher,
            digest,
            now,
            rng,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn build<R: CryptoRng + ?Sized>(
        kind: ScepRequestKind,
        content: &[u8],
        transaction_id: TransactionId,
        signer: &ScepSigner,
        recipient: &Certificate,
        cipher: ContentCipher,
        digest: ScepDigest,
        now: OffsetDateTime,
        rng: &mut R,
    ) -> Result<Self> {
        let recipient = X509::from_der(recipient.der()).map_err(der_error("SCEP recipient"))?;
        let sealed = seal(content, &recipient, cipher, rng)?;
        let sender_nonce = Nonce::random(rng);
        let attrs = ScepAttributes {
            message_type: match kind {
                ScepRequestKind::PkcsReq => MessageType::PkcsReq,
                ScepRequestKind::RenewalReq => MessageType::RenewalReq,
                ScepRequestKind::CertPoll => MessageType::CertPoll,
            },
            transaction_id: transaction_id.clone(),
            sender_nonce: Some(sender_nonce.clone()),
            recipient_nonce: None,
            pki_status: None,
            fail_info: None,
        };
        let der = sign(signer, digest, Some(&sealed), attrs.to_attributes()?, now)?;
        Ok(Self {
            der,
            kind,
            transaction_id,
            sender_nonce,
        })
    }

    /// The pkiMessage (DER): the body of a POST, or base64 for a GET.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Which request it is.
    pub fn kind(&self) -> ScepRequestKind {
        self.kind
    }

    /// Its transactionID.
    pub fn transaction_id(&self) -> &TransactionId {
        &self.transaction_id
    }

    /// Its senderNonce (the answer's recipientNonce must equal it).
    pub fn sender_nonce(&self) -> &Nonce {
        &self.sender_nonce
    }
}

/// What the server answered, read and checked by the device.
#[derive(Debug)]
#[non_exhaustive]
pub enum ScepReply {
    /// SUCCESS: the certificate issued (decrypted with the device's key).
    Issued(Box<Certificate>),
    /// PENDING: poll again later.
    Pending,
    /// FAILURE, and why.
    Failed(FailInfo),
}

impl ScepReply {
    /// Reads a CertRep `der` answering `request`: signed by `responder`
    /// (the certificate the request was encrypted to), its transactionID
    /// the request's, its recipientNonce the request's senderNonce, and
    /// on SUCCESS its content decrypted with `device`'s key.
    pub fn parse(
        der: &[u8],
        request: &ScepRequest,
        responder: &Certificate,
        device: &ScepSigner,
    ) -> Result<Self> {
        let reply = PkiMessage::parse(der)?;
        reply.verify()?;
        let check = |reason: &str| CertError::ScepBadMessageCheck {
            reason: reason.to_owned(),
        };
        if reply.signer_certificate_der() != responder.der() {
            return Err(check(
                "the CertRep is not signed by the server's certificate",
            ));
        }
        if reply.message_type() != &MessageType::CertRep {
            return Err(check("the answer is not a CertRep"));
        }
        if reply.transaction_id() != request.transaction_id() {
            return Err(check("the CertRep's transactionID is not the request's"));
        }
        if reply.recipient_nonce() != Some(request.sender_nonce()) {
            return Err(check(
                "the CertRep's recipientNonce is not the request's senderNonce",
            ));
        }
        match reply.pki_status() {
            Some(PkiStatus::Success) => {
                let content = reply
                    .content()
                    .ok_or_else(|| check("SUCCESS without content"))?;
                let (plain, _) = open(content, device, true)?;
                let signed = read_signed_data(&plain)?;
                let certs = read_certificates(&signed)?;
                let mine = certs
                    .iter()
                    .filter_map(|d| Certificate::from_der(d).ok())
                    .find(|c| c.info().public_key_raw.as_slice() == device_key_raw(device))
                    .or_else(|| certs.first().and_then(|d| Certificate::from_der(d).ok()))
                    .ok_or_else(|| check("SUCCESS without a certificate"))?;
                Ok(Self::Issued(Box::new(mine)))
            }
            Some(PkiStatus::Pending) => Ok(Self::Pending),
            Some(PkiStatus::Failure) => Ok(Self::Failed(
                reply.fail_info().unwrap_or(FailInfo::BadRequest),
            )),
            _ => Err(check("the CertRep has no known pkiStatus")),
        }
    }

    /// The certificate, on SUCCESS; a FAILURE is [`CertError::ScepFailed`].
    pub fn into_certificate(self, transaction_id: &TransactionId) -> Result<Option<Certificate>> {
        match self {
            Self::Issued(c) => Ok(Some(*c)),
            Self::Pending => Ok(None),
            Self::Failed(f) => Err(CertError::ScepFailed {
                transaction_id: transaction_id.to_string(),
                fail_info: f.name().to_owned(),
            }),
        }
    }
}

fn device_key_raw(device: &ScepSigner) -> &[u8] {
    &device.certificate().info().public_key_raw
}

/// The certificates of a GetCACert answer: a DER certificate
/// (`application/x-x509-ca-cert`) or a degenerate PKCS#7
/// (`application/x-x509-ca-ra-cert`), in order.
pub fn ca_certificates(content_type: &str, body: &[u8]) -> Result<Vec<Certificate>> {
    if content_type.starts_with("application/x-x509-ca-ra-cert") {
        let signed = read_signed_data(body)?;
        read_certificates(&signed)?
            .iter()
            .map(|d| Certificate::from_der(d))
            .collect()
    } else if content_type.starts_with("application/x-x509-ca-cert") {
        Ok(vec![Certificate::from_der(body)?])
    } else {
        Err(malformed(format!("GetCACert answered `{content_type}`")))
    }
}
