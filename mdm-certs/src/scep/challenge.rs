//! The SCEP challenge password: the one-time password of R-CL-1, checked
//! by a store the server asks.

use std::collections::HashMap;
use std::sync::Mutex;

use rand_core::CryptoRng;
use subtle::ConstantTimeEq as _;
use time::OffsetDateTime;

use crate::certificate::Certificate;
use crate::client::ClientIdentity;
use crate::csr::Csr;
use crate::delivery::{DeliveryStatus, OneTimePassword, OtpGate, OtpPolicy};
use crate::error::{CertError, Result};

/// What a store decides for a request whose password (or, for a renewal,
/// current certificate) it accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScepGrant {
    /// Issue a certificate for this identity now (its subject, not the CSR's).
    Issue(ClientIdentity),
    /// Hold the request for approval: the server answers PENDING, and the
    /// device polls (GetCertInitial) until [`super::ScepServer::approve`]
    /// or [`super::ScepServer::reject`] decides.
    Pending,
}

/// Where the SCEP server checks challenge passwords. Implementations keep
/// only hashes of the passwords, compare them in constant time, let each be
/// used once and expire; a refusal is a typed error (the server answers it
/// with a CertRep FAILURE and returns it as an audit fact).
pub trait ScepChallengeStore: Send + Sync {
    /// The device presents `challenge` with `csr` at `now` (PKCSReq).
    fn redeem(&self, challenge: &str, csr: &Csr, now: OffsetDateTime) -> Result<ScepGrant>;

    /// The device holding `current` (issued by this CA, valid at `now`)
    /// asks to renew it; `identity` is the one `current` names. The default
    /// grants it; a store that knows revoked devices refuses them here.
    fn renew(
        &self,
        current: &Certificate,
        identity: ClientIdentity,
        now: OffsetDateTime,
    ) -> Result<ScepGrant> {
        let _ = (current, now);
        Ok(ScepGrant::Issue(identity))
    }
}

struct Challenge {
    identity: ClientIdentity,
    gate: OtpGate,
    hold: bool,
}

/// One-time SCEP challenge passwords in memory, each for one identity:
/// kept as SHA-256 hashes, looked up by hash and compared in constant
/// time, used once, expiring (the rule of [`crate::ClientCertificateDelivery`]).
#[derive(Default)]
pub struct ScepChallenges {
    by_hash: Mutex<HashMap<[u8; 32], Challenge>>,
}

impl core::fmt::Debug for ScepChallenges {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let n = self.by_hash.lock().map(|m| m.len()).unwrap_or_default();
        write!(f, "ScepChallenges({n} passwords)")
    }
}

impl ScepChallenges {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Issues a one-time password for `identity` (drawn from `rng`, as
    /// long as `policy` says: 26 characters, 130 bits, by default): the
    /// challenge to put in the device's SCEP payload.
    pub fn issue<R: CryptoRng + ?Sized>(
        &self,
        identity: ClientIdentity,
        policy: OtpPolicy,
        now: OffsetDateTime,
        rng: &mut R,
    ) -> OneTimePassword {
        self.insert(identity, policy, now, false, rng)
    }

    /// Like [`Self::issue`], but a request with this password is held
    /// PENDING until the server approves or rejects it.
    pub fn issue_held<R: CryptoRng + ?Sized>(
        &self,
        identity: ClientIdentity,
        policy: OtpPolicy,
        now: OffsetDateTime,
        rng: &mut R,
    ) -> OneTimePassword {
        self.insert(identity, policy, now, true, rng)
    }

    fn insert<R: CryptoRng + ?Sized>(
        &self,
        identity: ClientIdentity,
        policy: OtpPolicy,
        now: OffsetDateTime,
        hold: bool,
        rng: &mut R,
    ) -> OneTimePassword {
        let otp = OneTimePassword::generate(policy.length(), rng);
        let gate = OtpGate::new(&otp, policy, now);
        if let Ok(mut map) = self.by_hash.lock() {
            map.insert(
                *gate.otp_hash(),
                Challenge {
                    identity,
                    gate,
                    hold,
                },
            );
        }
        otp
    }

    /// Where the password `otp` stands, if it was issued here.
    pub fn status(&self, otp: &str, now: OffsetDateTime) -> Option<DeliveryStatus> {
        let map = self.by_hash.lock().ok()?;
        map.get(&OtpGate::hash_of(otp)).map(|c| c.gate.status(now))
    }

    /// Drops passwords used or expired before `now`; returns how many.
    pub fn purge(&self, now: OffsetDateTime) -> usize {
        let Ok(mut map) = self.by_hash.lock() else {
            return 0;
        };
        let before = map.len();
        map.retain(|_, c| matches!(c.gate.status(now), DeliveryStatus::Pending { .. }));
        before - map.len()
    }
}

impl ScepChallengeStore for ScepChallenges {
    fn redeem(&self, challenge: &str, _csr: &Csr, now: OffsetDateTime) -> Result<ScepGrant> {
        let key = OtpGate::hash_of(challenge);
        let mut map = self.by_hash.lock().map_err(|_| CertError::ScepBadRequest {
            reason: "the challenge store is unavailable".into(),
        })?;
        // Looked up by hash; the gate compares the hash again in constant time.
        let entry = map
            .get_mut(&key)
            .filter(|c| bool::from(c.gate.otp_hash().ct_eq(&key)))
            .ok_or(CertError::ScepChallengeUnknown)?;
        entry.gate.redeem(challenge, now)?;
        Ok(if entry.hold {
            ScepGrant::Pending
        } else {
            ScepGrant::Issue(entry.identity.clone())
        })
    }
}
