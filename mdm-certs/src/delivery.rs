//! Delivering a client certificate by one-time password (R-CL-1).

use core::fmt;

use rand_core::CryptoRng;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::certificate::Certificate;
use crate::error::{CertError, Result};
use crate::identity::CertifiedKey;
use crate::pkcs12::Pkcs12;

/// The OTP alphabet: digits and upper-case letters without `0 O 1 I`
/// (32 symbols, 5 bits each), so an OTP read aloud or off a screen is not
/// misread.
pub const OTP_ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// How one-time passwords are made and how long they hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtpPolicy {
    length: usize,
    lifetime: Duration,
    max_attempts: u32,
}

impl Default for OtpPolicy {
    /// 26 characters (130 bits, the workspace rule for secrets), valid 7 days,
    /// 5 attempts.
    fn default() -> Self {
        Self {
            length: 26,
            lifetime: Duration::days(7),
            max_attempts: 5,
        }
    }
}

impl OtpPolicy {
    /// A policy with `length` characters (8 to 64), `lifetime` (positive) and
    /// `max_attempts` wrong tries before locking (at least 1). Fewer than 26
    /// characters is below 128 bits: acceptable only because attempts are
    /// limited and the password expires.
    pub fn new(length: usize, lifetime: Duration, max_attempts: u32) -> Result<Self> {
        let bad = |reason: &str| {
            Err(CertError::InvalidOtpPolicy {
                reason: reason.to_owned(),
            })
        };
        if !(8..=64).contains(&length) {
            return bad("length must be 8 to 64 characters");
        }
        if lifetime <= Duration::ZERO {
            return bad("lifetime must be positive");
        }
        if max_attempts == 0 {
            return bad("at least one attempt must be allowed");
        }
        Ok(Self {
            length,
            lifetime,
            max_attempts,
        })
    }

    /// Characters per OTP.
    pub fn length(&self) -> usize {
        self.length
    }

    /// How long an OTP stays valid.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// Wrong attempts allowed before the delivery locks.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }
}

/// A one-time password as shown to the admin or e-mailed: secret, zeroised
/// on drop, never printed by `Debug`.
pub struct OneTimePassword(Zeroizing<String>);

impl OneTimePassword {
    pub(crate) fn generate<R: CryptoRng + ?Sized>(length: usize, rng: &mut R) -> Self {
        let mut otp = Zeroizing::new(String::with_capacity(length));
        let mut buf = [0u8; 1];
        while otp.len() < length {
            rng.fill_bytes(&mut buf);
            // 256 is a multiple of 32: masking keeps the draw uniform.
            let symbol = OTP_ALPHABET
                .get(usize::from(buf[0] & 0x1f))
                .copied()
                .unwrap_or(b'2');
            otp.push(char::from(symbol));
        }
        Self(otp)
    }

    /// The characters to show or send.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for OneTimePassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OneTimePassword(<redacted>)")
    }
}

/// What the device receives when it redeems the OTP.
#[derive(Clone, PartialEq, Eq)]
pub enum DeliveryPayload {
    /// A certificate for the key in the device's CSR.
    Certificate(Box<Certificate>),
    /// A password-protected PKCS#12 with a server-made key.
    Pkcs12(Zeroizing<Vec<u8>>),
}

impl fmt::Debug for DeliveryPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Certificate(c) => f
                .debug_tuple("Certificate")
                .field(&c.info().subject)
                .finish(),
            Self::Pkcs12(b) => write!(f, "Pkcs12({} bytes)", b.len()),
        }
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeliveryStatus {
    /// Waiting for the device to present the OTP.
    Pending {
        /// When the OTP expires.
        expires_at: OffsetDateTime,
        /// Wrong attempts still allowed.
        attempts_left: u32,
    },
    /// Redeemed: the certificate is *applied*.
    Applied {
        /// When.
        at: OffsetDateTime,
    },
    /// The OTP expired unused.
    Expired {
        /// When.
        at: OffsetDateTime,
    },
    /// Too many wrong attempts.
    Locked,
}

/// One client certificate waiting to be fetched with a one-time password.
///
/// Only a SHA-256 hash of the OTP is kept, compared in constant time.
/// Redeeming marks the delivery *applied*; a second redemption, a wrong, an
/// expired OTP or one past the attempt limit is a typed error.
pub struct ClientCertificateDelivery {
    payload: DeliveryPayload,
    created_at: OffsetDateTime,
    gate: OtpGate,
}

/// The rule of a one-time password, shared by the deliveries here and the
/// SCEP challenges ([`crate::ScepChallenges`]): only a SHA-256 hash of the
/// OTP is kept, compared in constant time; it is redeemed once, expires,
/// and locks after too many wrong attempts.
pub(crate) struct OtpGate {
    otp_hash: [u8; 32],
    expires_at: OffsetDateTime,
    attempts_left: u32,
    applied_at: Option<OffsetDateTime>,
}

impl OtpGate {
    pub(crate) fn new(otp: &OneTimePassword, policy: OtpPolicy, now: OffsetDateTime) -> Self {
        Self {
            otp_hash: hash(otp.expose()),
            expires_at: now.saturating_add(policy.lifetime),
            attempts_left: policy.max_attempts,
            applied_at: None,
        }
    }

    /// A gate as stored earlier (a SCEP challenge record): the same rule
    /// applies to it as to a fresh one, since the rule is only the fields.
    pub(crate) fn from_parts(
        otp_hash: [u8; 32],
        expires_at: OffsetDateTime,
        attempts_left: u32,
        applied_at: Option<OffsetDateTime>,
    ) -> Self {
        Self {
            otp_hash,
            expires_at,
            attempts_left,
            applied_at,
        }
    }

    /// The hash an OTP is kept and looked up by (case, spaces and dashes
    /// ignored).
    pub(crate) fn hash_of(otp: &str) -> [u8; 32] {
        hash(&normalise(otp))
    }

    pub(crate) fn otp_hash(&self) -> &[u8; 32] {
        &self.otp_hash
    }

    pub(crate) fn status(&self, now: OffsetDateTime) -> DeliveryStatus {
        if let Some(at) = self.applied_at {
            DeliveryStatus::Applied { at }
        } else if self.attempts_left == 0 {
            DeliveryStatus::Locked
        } else if now > self.expires_at {
            DeliveryStatus::Expired {
                at: self.expires_at,
            }
        } else {
            DeliveryStatus::Pending {
                expires_at: self.expires_at,
                attempts_left: self.attempts_left,
            }
        }
    }

    pub(crate) fn redeem(&mut self, otp: &str, now: OffsetDateTime) -> Result<()> {
        if let Some(used_at) = self.applied_at {
            return Err(CertError::OtpAlreadyUsed { used_at });
        }
        if self.attempts_left == 0 {
            return Err(CertError::OtpLocked);
        }
        if now > self.expires_at {
            return Err(CertError::OtpExpired {
                expired_at: self.expires_at,
            });
        }
        let presented = Self::hash_of(otp);
        if bool::from(presented.ct_eq(&self.otp_hash)) {
            self.applied_at = Some(now);
            Ok(())
        } else {
            self.attempts_left = self.attempts_left.saturating_sub(1);
            if self.attempts_left == 0 {
                Err(CertError::OtpLocked)
            } else {
                Err(CertError::OtpWrong {
                    attempts_left: self.attempts_left,
                })
            }
        }
    }

    pub(crate) fn expires_at(&self) -> OffsetDateTime {
        self.expires_at
    }

    pub(crate) fn applied_at(&self) -> Option<OffsetDateTime> {
        self.applied_at
    }

    pub(crate) fn attempts_left(&self) -> u32 {
        self.attempts_left
    }
}

impl fmt::Debug for ClientCertificateDelivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificateDelivery")
            .field("payload", &self.payload)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.gate.expires_at)
            .field("attempts_left", &self.gate.attempts_left)
            .field("applied_at", &self.gate.applied_at)
            .finish_non_exhaustive()
    }
}

fn normalise(otp: &str) -> Zeroizing<String> {
    Zeroizing::new(
        otp.chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect(),
    )
}

fn hash(otp: &str) -> [u8; 32] {
    Sha256::digest(otp.as_bytes()).into()
}

impl ClientCertificateDelivery {
    /// Starts a delivery of `payload` at `now`; returns it with the OTP to
    /// give the user (drawn from `rng`, uniformly over [`OTP_ALPHABET`]).
    pub fn new<R: CryptoRng + ?Sized>(
        payload: DeliveryPayload,
        policy: OtpPolicy,
        now: OffsetDateTime,
        rng: &mut R,
    ) -> (Self, OneTimePassword) {
        let otp = OneTimePassword::generate(policy.length, rng);
        (Self::with_otp(payload, &otp, policy, now), otp)
    }

    /// Delivers a server-made client identity as a PKCS#12 protected by the
    /// one-time password itself: the device presents the OTP to fetch the
    /// file, then opens it with the same OTP.
    pub fn with_pkcs12<R: CryptoRng + ?Sized>(
        identity: &CertifiedKey,
        chain: &[Certificate],
        friendly_name: &str,
        policy: OtpPolicy,
        now: OffsetDateTime,
        rng: &mut R,
    ) -> Result<(Self, OneTimePassword)> {
        let otp = OneTimePassword::generate(policy.length, rng);
        let p12 = Pkcs12::write(identity, chain, friendly_name, otp.expose())?;
        let delivery = Self::with_otp(
            DeliveryPayload::Pkcs12(Zeroizing::new(p12)),
            &otp,
            policy,
            now,
        );
        Ok((delivery, otp))
    }

    fn with_otp(
        payload: DeliveryPayload,
        otp: &OneTimePassword,
        policy: OtpPolicy,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            payload,
            created_at: now,
            gate: OtpGate::new(otp, policy, now),
        }
    }

    /// Where the delivery stands at `now`.
    pub fn status(&self, now: OffsetDateTime) -> DeliveryStatus {
        self.gate.status(now)
    }

    /// The device presents `otp` at `now`. Case, spaces and dashes are
    /// ignored. On success the delivery becomes *applied* and the payload is
    /// returned; a wrong OTP uses up an attempt.
    pub fn redeem(&mut self, otp: &str, now: OffsetDateTime) -> Result<&DeliveryPayload> {
        self.gate.redeem(otp, now)?;
        Ok(&self.payload)
    }

    /// The payload (for the admin console; the device gets it via [`Self::redeem`]).
    pub fn payload(&self) -> &DeliveryPayload {
        &self.payload
    }

    /// When the delivery was created.
    pub fn created_at(&self) -> OffsetDateTime {
        self.created_at
    }

    /// When the OTP expires.
    pub fn expires_at(&self) -> OffsetDateTime {
        self.gate.expires_at()
    }

    /// When it was applied, if it was.
    pub fn applied_at(&self) -> Option<OffsetDateTime> {
        self.gate.applied_at()
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::key::test_keys::rng;

    fn payload() -> DeliveryPayload {
        DeliveryPayload::Pkcs12(Zeroizing::new(vec![1, 2, 3]))
    }

    const T0: OffsetDateTime = datetime!(2026-05-01 9:00 UTC);

    #[test]
    fn otp_shape() {
        let (_, otp) =
            ClientCertificateDelivery::new(payload(), OtpPolicy::default(), T0, &mut rng(1));
        assert_eq!(otp.expose().len(), 26);
        assert!(otp.expose().bytes().all(|b| OTP_ALPHABET.contains(&b)));
        assert!(!format!("{otp:?}").contains(otp.expose()));
        let (_, other) =
            ClientCertificateDelivery::new(payload(), OtpPolicy::default(), T0, &mut rng(2));
        assert_ne!(otp.expose(), other.expose());
    }

    #[test]
    fn redeem_once() {
        let (mut d, otp) =
            ClientCertificateDelivery::new(payload(), OtpPolicy::default(), T0, &mut rng(1));
        let typed = otp.expose().to_ascii_lowercase();
        assert_eq!(
            d.redeem(&typed, T0 + Duration::hours(1)).unwrap(),
            &payload()
        );
        assert!(matches!(d.status(T0), DeliveryStatus::Applied { .. }));
        assert!(matches!(
            d.redeem(otp.expose(), T0 + Duration::hours(2)),
            Err(CertError::OtpAlreadyUsed { .. })
        ));
    }

    #[test]
    fn wrong_then_locked() {
        let policy = OtpPolicy::new(8, Duration::days(1), 2).unwrap();
        let (mut d, otp) = ClientCertificateDelivery::new(payload(), policy, T0, &mut rng(1));
        assert_eq!(otp.expose().len(), 8);
        assert!(matches!(
            d.redeem("WRONG", T0),
            Err(CertError::OtpWrong { attempts_left: 1 })
        ));
        assert!(matches!(d.redeem("WRONG", T0), Err(CertError::OtpLocked)));
        assert!(matches!(
            d.redeem(otp.expose(), T0),
            Err(CertError::OtpLocked)
        ));
        assert_eq!(d.status(T0), DeliveryStatus::Locked);
    }

    #[test]
    fn expired() {
        let (mut d, otp) =
            ClientCertificateDelivery::new(payload(), OtpPolicy::default(), T0, &mut rng(1));
        let late = T0 + Duration::days(7) + Duration::seconds(1);
        assert!(matches!(
            d.redeem(otp.expose(), late),
            Err(CertError::OtpExpired { .. })
        ));
        assert!(matches!(d.status(late), DeliveryStatus::Expired { .. }));
    }

    #[test]
    fn pkcs12_opens_with_the_otp() {
        use crate::authority::{Validity, test_ca};
        let ca = test_ca();
        let issued = ca
            .issue_client_certificate_with_key(
                &crate::ClientIdentity::new("erin", None).unwrap(),
                Validity::days(T0, 30).unwrap(),
                crate::KeyAlgorithm::EcdsaP256,
                &mut rng(3),
            )
            .unwrap();
        let policy = OtpPolicy::new(10, Duration::days(1), 3).unwrap();
        let (mut d, otp) = ClientCertificateDelivery::with_pkcs12(
            &issued,
            &[ca.certificate().clone()],
            "erin",
            policy,
            T0,
            &mut rng(4),
        )
        .unwrap();
        let DeliveryPayload::Pkcs12(bytes) = d.redeem(otp.expose(), T0).unwrap().clone() else {
            panic!("expected a PKCS#12");
        };
        let opened = Pkcs12::read(&bytes, otp.expose(), "erin.p12").unwrap();
        assert_eq!(opened.certificate, issued.certificate);
    }

    #[test]
    fn policy_bounds() {
        assert!(OtpPolicy::new(7, Duration::days(1), 1).is_err());
        assert!(OtpPolicy::new(8, Duration::ZERO, 1).is_err());
        assert!(OtpPolicy::new(8, Duration::days(1), 0).is_err());
    }
}
