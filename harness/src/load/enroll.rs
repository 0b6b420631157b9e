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
//! The device's side of SCEP (the payloads read from the profile, the
//! `PKCSReq`, the `CertRep`) is the simulator's own
//! (`crate::devices::scep`); here it goes over the wire. RSA-2048 keys as
//! iOS makes them, but from a small pool made once per run ([`rsa_pool`]).

use std::time::Instant;

use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use mdm_apple::{ProfileSigner, verify_signed_profile};
use mdm_certs::{Certificate, KeyAlgorithm, PrivateKey};
use rand_chacha::ChaCha20Rng;
use time::OffsetDateTime;

use super::admin::path_of;
use super::client::Connection;
use super::device::{Failure, Paths, WireDevice};
use super::exchange::{fail, refused, send};
use super::report::{Recorder, Step};
use crate::HarnessError;
use crate::devices::scep::{
    EnrollmentFault, EnrollmentPayloads, EnrollmentStep, ScepEnrollment, subject_name,
};

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
    crate::devices::scep::rsa_keys(KeyAlgorithm::Rsa2048, keys, seed)
}

impl From<EnrollmentFault> for Failure {
    fn from(f: EnrollmentFault) -> Self {
        let step = match f.step {
            EnrollmentStep::Profile => Step::Profile,
            EnrollmentStep::ScepCaCert => Step::ScepCaCert,
            EnrollmentStep::Scep => Step::Scep,
        };
        Failure::new(step, f.kind, f.detail)
    }
}

/// What the profile told the device.
#[derive(Debug, Clone)]
pub struct ProfileFacts {
    /// The SCEP endpoint's path.
    pub scep_path: String,
    /// The SCEP payload (its one-time challenge, the subject to ask for).
    pub scep: mdm_apple::ScepIdentity,
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
    let EnrollmentPayloads { scep, mdm } = EnrollmentPayloads::read(verified.content())?;
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
        scep,
        paths: Paths {
            check_in,
            server,
            topic: mdm.topic.clone(),
        },
    })
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
    let subject = subject_name(&facts.scep.subject)?;
    let challenge = facts.scep.challenge.as_deref().unwrap_or_default();
    let enrollment = ScepEnrollment::request(
        content_type,
        answer.body(),
        challenge,
        &subject,
        key,
        now,
        rng,
    )?;
    let step = Step::Scep;
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("{}?operation=PKIOperation", facts.scep_path))
        .header(header::CONTENT_TYPE, "application/x-pki-message")
        .body(Bytes::copy_from_slice(enrollment.message()));
    let answer = send(conn, recorder, step, request).await?;
    if answer.status() != StatusCode::OK {
        return Err(refused(step, &answer));
    }
    Ok(enrollment.finish(answer.body())?)
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
    fn an_unsigned_or_foreign_profile_is_refused() {
        let now = OffsetDateTime::now_utc();
        let failure = read_enrollment(b"<plist/>", &[], now).unwrap_err();
        assert_eq!(
            (failure.step, failure.kind.as_str()),
            (Step::Profile, "signature")
        );
    }
}
