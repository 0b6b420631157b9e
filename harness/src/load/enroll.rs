//! How a simulated iPhone or iPad enrolls into our `serve` over the wire,
//! as the real one does: Safari opens the invitation link (a real
//! User-Agent) and gets the CMS-signed enrollment profile; the device
//! checks the signature up to the tenant's CA and reads the SCEP payload
//! (URL, one-time challenge, subject) and the MDM payload (ServerURL,
//! CheckInURL, Topic); SCEP `GetCACert`, then `PKCSReq` with the challenge,
//! signed with a self-signed certificate for its RSA key; the CertRep is
//! verified and decrypted, and the certificate issued becomes the identity
//! its check-ins are signed with (`Mdm-Signature`).
//!
//! RSA-2048 keys as iOS makes them, but from a small pool made once per
//! run ([`rsa_pool`]): key generation would otherwise dominate a run of a
//! thousand devices, and the server sees a distinct certificate (and CN)
//! per device either way.

use std::time::Instant;

use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use mdm_apple::{PayloadContent, ProfileSigner, read_profile, verify_signed_profile};
use mdm_certs::{
    Certificate, ContentCipher, KeyAlgorithm, NameAttribute, PrivateKey, ScepDigest, ScepReply,
    ScepRequest, ScepSigner, SubjectName, ca_certificates, csr_with_challenge,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use rayon::prelude::*;
use time::OffsetDateTime;

use super::admin::path_of;
use super::client::Connection;
use super::device::{Failure, Paths, WireDevice};
use super::exchange::{fail, refused, send};
use super::report::{Recorder, Step};
use crate::HarnessError;

/// Safari on an iPhone (iOS 17.4).
pub const IPHONE_USER_AGENT: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
/// Safari on an iPad in its mobile mode (iPadOS 17.4).
pub const IPAD_USER_AGENT: &str = "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
/// The content type of a configuration profile.
pub const PROFILE_CONTENT_TYPE: &str = "application/x-apple-aspen-config";

/// `keys` RSA-2048 keys, made in parallel from `seed`.
///
/// # Errors
/// [`HarnessError::Certificates`] when a key cannot be made.
pub fn rsa_pool(keys: usize, seed: u64) -> Result<Vec<PrivateKey>, HarnessError> {
    (0..keys.max(1))
        .into_par_iter()
        .map(|i| {
            let mut rng = ChaCha20Rng::seed_from_u64(seed ^ (i as u64).rotate_left(32));
            PrivateKey::generate(KeyAlgorithm::Rsa2048, &mut rng).map_err(|source| {
                HarnessError::Certificates {
                    step: "RSA key pool",
                    source,
                }
            })
        })
        .collect()
}

/// What the profile told the device.
#[derive(Debug, Clone)]
pub struct ProfileFacts {
    /// The SCEP endpoint's path.
    pub scep_path: String,
    /// The one-time challenge.
    pub challenge: String,
    /// The subject to ask for.
    pub subject: Vec<(String, String)>,
    /// Where check-ins and commands go, and the topic.
    pub paths: Paths,
}

/// Opens the invitation link at `path` as Safari does with `user_agent`;
/// returns the profile's bytes.
///
/// # Errors
/// The [`Failure`] of a status other than 200 or another content type.
pub async fn open_link(
    conn: &mut Connection,
    recorder: &Recorder,
    path: &str,
    user_agent: &'static str,
) -> Result<Bytes, Failure> {
    let request = Request::builder()
        .method(Method::GET)
        .uri(path)
        .header(header::USER_AGENT, user_agent)
        .header(header::ACCEPT, "text/html,application/xhtml+xml,*/*;q=0.8")
        .body(Bytes::new());
    let answer = send(conn, recorder, Step::Link, request).await?;
    if answer.status() != StatusCode::OK {
        return Err(refused(Step::Link, &answer));
    }
    let content_type = answer
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type != PROFILE_CONTENT_TYPE {
        return Err(fail(
            Step::Link,
            "not a profile",
            format!("content type {content_type:?}"),
        ));
    }
    Ok(answer.into_body())
}

/// Checks the profile's signature up to `trust` at `now` and reads its SCEP
/// and MDM payloads.
///
/// # Errors
/// A [`Failure`] of step `profile`: a bad signature, no SCEP or MDM
/// payload, no challenge, an MDM payload that does not sign its messages.
pub fn read_enrollment(
    profile: &[u8],
    trust: &[Certificate],
    now: OffsetDateTime,
) -> Result<ProfileFacts, Failure> {
    let step = Step::Profile;
    let verified =
        verify_signed_profile(profile, trust, now).map_err(|e| fail(step, "signature", e))?;
    let read = read_profile(verified.content()).map_err(|e| fail(step, "unreadable", e))?;
    let mut scep = None;
    let mut mdm = None;
    for payload in &read.params().payloads {
        match &payload.content {
            PayloadContent::Scep(s) => scep = Some(s),
            PayloadContent::Mdm(m) => mdm = Some(m),
            _ => {}
        }
    }
    let scep = scep.ok_or_else(|| fail(step, "no SCEP payload", "com.apple.security.scep"))?;
    let mdm = mdm.ok_or_else(|| fail(step, "no MDM payload", "com.apple.mdm"))?;
    if !mdm.sign_message {
        return Err(fail(step, "unsigned check-ins", "SignMessage is false"));
    }
    let path = |what: &str, url: &str| {
        path_of(url)
            .map(str::to_owned)
            .ok_or_else(|| fail(step, "bad URL", format!("{what} {url:?}")))
    };
    let server = path("ServerURL", mdm.server_url.as_str())?;
    let check_in = match &mdm.check_in_url {
        Some(url) => path("CheckInURL", url.as_str())?,
        None => server.clone(),
    };
    Ok(ProfileFacts {
        scep_path: path("SCEP URL", &scep.url)?,
        challenge: scep
            .challenge
            .clone()
            .ok_or_else(|| fail(step, "no challenge", "the SCEP payload has no Challenge"))?,
        subject: scep.subject.clone(),
        paths: Paths {
            check_in,
            server,
            topic: mdm.topic.clone(),
        },
    })
}

fn subject_name(pairs: &[(String, String)]) -> Result<SubjectName, Failure> {
    let step = Step::Scep;
    let cn = pairs
        .iter()
        .find(|(k, _)| k == "CN")
        .map(|(_, v)| v.as_str())
        .ok_or_else(|| fail(step, "no CN", "the SCEP subject names no CN"))?;
    let mut name = SubjectName::common_name(cn).map_err(|e| fail(step, "subject", e))?;
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
            .map_err(|e| fail(step, "subject", e))?;
    }
    Ok(name)
}

/// SCEP as iOS runs it: `GetCACert`, then a `PKCSReq` for `key` with the
/// profile's challenge; returns the identity certificate, checked to be
/// issued by the CA `GetCACert` named.
///
/// # Errors
/// The [`Failure`] of the first step that did not work (a FAILURE CertRep
/// is kind `refused`).
pub async fn scep_identity(
    conn: &mut Connection,
    recorder: &Recorder,
    facts: &ProfileFacts,
    key: &PrivateKey,
    now: OffsetDateTime,
    rng: &mut ChaCha20Rng,
) -> Result<Certificate, Failure> {
    let request = Request::builder()
        .method(Method::GET)
        .uri(format!("{}?operation=GetCACert", facts.scep_path))
        .body(Bytes::new());
    let answer = send(conn, recorder, Step::ScepCaCert, request).await?;
    if answer.status() != StatusCode::OK {
        return Err(refused(Step::ScepCaCert, &answer));
    }
    let content_type = answer
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let certificates = ca_certificates(content_type, answer.body())
        .map_err(|e| fail(Step::ScepCaCert, "bad CA", e))?;
    let ca = certificates
        .iter()
        .find(|c| c.info().is_ca)
        .ok_or_else(|| fail(Step::ScepCaCert, "bad CA", "no CA certificate"))?;
    let recipient = certificates.iter().find(|c| !c.info().is_ca).unwrap_or(ca);

    let step = Step::Scep;
    let subject = subject_name(&facts.subject)?;
    let csr =
        csr_with_challenge(&subject, key, &facts.challenge).map_err(|e| fail(step, "csr", e))?;
    let cn = subject.get(NameAttribute::CommonName).unwrap_or("device");
    let owned = key.try_clone().map_err(|e| fail(step, "key", e))?;
    let signer =
        ScepSigner::self_signed(owned, cn, now, rng).map_err(|e| fail(step, "signer", e))?;
    let message = ScepRequest::pkcs_req(
        &csr,
        &signer,
        recipient,
        ContentCipher::Aes128Cbc,
        ScepDigest::Sha256,
        now,
        rng,
    )
    .map_err(|e| fail(step, "pkcsreq", e))?;
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("{}?operation=PKIOperation", facts.scep_path))
        .header(header::CONTENT_TYPE, "application/x-pki-message")
        .body(Bytes::copy_from_slice(message.der()));
    let answer = send(conn, recorder, step, request).await?;
    if answer.status() != StatusCode::OK {
        return Err(refused(step, &answer));
    }
    match ScepReply::parse(answer.body(), &message, recipient, &signer) {
        Ok(ScepReply::Issued(certificate)) if certificate.is_signed_by(ca) => Ok(*certificate),
        Ok(ScepReply::Issued(_)) => Err(fail(
            step,
            "foreign certificate",
            "not issued by the SCEP CA",
        )),
        Ok(ScepReply::Failed(info)) => Err(fail(step, "refused", format!("{info:?}"))),
        Ok(other) => Err(fail(step, "not issued", format!("{other:?}"))),
        Err(e) => Err(fail(step, "bad CertRep", e)),
    }
}

/// The whole enrollment up to the identity: link, profile, SCEP. Returns
/// the device (its `udid`, the identity) and where it checks in.
///
/// # Errors
/// The [`Failure`] of the first step that did not work.
#[allow(clippy::too_many_arguments)]
pub async fn enroll_over_the_wire(
    conn: &mut Connection,
    recorder: &Recorder,
    link_path: &str,
    user_agent: &'static str,
    trust: &[Certificate],
    key: &PrivateKey,
    udid: String,
    rng: &mut ChaCha20Rng,
) -> Result<(WireDevice, Paths), Failure> {
    let profile = open_link(conn, recorder, link_path, user_agent).await?;
    let now = OffsetDateTime::now_utc();
    let started = Instant::now();
    let facts = read_enrollment(&profile, trust, now)?;
    recorder.span(Step::Profile, started.elapsed());
    let certificate = scep_identity(conn, recorder, &facts, key, now, rng).await?;
    let signer = ProfileSigner::new(&[certificate.der()], key.pkcs8_der_secret())
        .map_err(|e| fail(Step::Scep, "identity", e))?;
    Ok((WireDevice::with_signer(udid, signer, rng), facts.paths))
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
        assert!(subject_name(&[("O".into(), "acme".into())]).is_err());
    }

    #[test]
    fn an_unsigned_or_foreign_profile_is_refused() {
        let now = OffsetDateTime::now_utc();
        let failure = read_enrollment(b"<plist/>", &[], now).unwrap_err();
        assert_eq!(
            (failure.step, failure.kind.as_str()),
            (Step::Profile, "signature")
        );
    }
}
