//! The SCEP challenge password: the one-time password of R-CL-1, checked
//! by a store the server asks.
//!
//! # Keeping the passwords across a restart
//! [`ScepChallenges`] keeps its passwords in memory. A server that must not
//! forget the passwords of profiles it already handed out (a restart
//! between the profile download and the device's `PKCSReq`) keeps a
//! durable copy of [`ScepChallengeRecord`]s: a store made with
//! [`ScepChallenges::journaled`] notes every password it issues or that is
//! redeemed, [`ScepChallenges::take_changed`] hands out the current record
//! of each (to be written before the profile, or the `CertRep`, is sent),
//! and [`ScepChallenges::restore`] (or [`ScepChallenges::reload`], in
//! place) rebuilds the store from them. A record holds the SHA-256 hash of
//! the password, never the password; a restored password is checked by the
//! same gate as a fresh one (looked up by hash, compared in constant time,
//! used once, expiring).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use mdm_model::Sha256Digest;
use rand_core::CryptoRng;
use subtle::ConstantTimeEq as _;
use time::OffsetDateTime;

use crate::certificate::Certificate;
use crate::client::ClientIdentity;
use crate::csr::Csr;
use crate::delivery::{DeliveryStatus, OneTimePassword, OtpGate, OtpPolicy};
use crate::error::{CertError, Result};
use crate::name::NameAttribute;

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
    issued_at: OffsetDateTime,
}

impl Challenge {
    fn record(&self) -> ScepChallengeRecord {
        ScepChallengeRecord {
            otp_sha256: Sha256Digest::from_bytes(*self.gate.otp_hash()),
            subject: self
                .identity
                .subject()
                .attributes()
                .iter()
                .map(|(attribute, value)| (attribute.label().to_owned(), value.clone()))
                .collect(),
            issued_at: self.issued_at,
            expires_at: self.gate.expires_at(),
            used_at: self.gate.applied_at(),
            attempts_left: self.gate.attempts_left(),
            hold: self.hold,
        }
    }

    /// What a redeem may change.
    fn state(&self) -> (Option<OffsetDateTime>, u32) {
        (self.gate.applied_at(), self.gate.attempts_left())
    }
}

/// The durable form of one SCEP challenge password, as a
/// [`ScepChallenges::journaled`] store hands it out and
/// [`ScepChallenges::restore`] takes it back.
///
/// It holds the SHA-256 hash of the password (normalised as the store
/// compares it: upper case, without spaces or dashes), never the password.
/// JSON form (stable):
///
/// ```json
/// {"otp_sha256": "<64 hex digits>",
///  "subject": [["CN", "3f9a…"], ["OU", "alice"]],
///  "issued_at": "2026-05-01T09:00:00Z", "expires_at": "2026-05-08T09:00:00Z",
///  "used_at": null, "attempts_left": 5, "hold": false}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScepChallengeRecord {
    /// SHA-256 of the normalised password (the key of the record).
    pub otp_sha256: Sha256Digest,
    /// The subject of the identity the certificate is issued for, in
    /// order, as (OpenSSL's short label, value): `CN` (the user), then
    /// `OU` (the device) when there is one.
    pub subject: Vec<(String, String)>,
    /// When the password was issued.
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    /// After this instant the password is refused as expired.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// When it was redeemed (`None`: not yet); a used password is refused.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub used_at: Option<OffsetDateTime>,
    /// Wrong attempts still allowed (0: locked).
    pub attempts_left: u32,
    /// Whether a request with it is held PENDING for approval
    /// ([`ScepChallenges::issue_held`]).
    pub hold: bool,
}

impl ScepChallengeRecord {
    /// Whether the password can no longer be redeemed at `now` (used,
    /// locked or expired): a durable copy may delete it.
    pub fn is_spent(&self, now: OffsetDateTime) -> bool {
        self.used_at.is_some() || self.attempts_left == 0 || now > self.expires_at
    }

    /// The challenge this record describes, checked: the subject must be a
    /// client identity's (`CN`, then optionally `OU`) and the times in
    /// order.
    fn challenge(&self) -> Result<Challenge> {
        let invalid = |reason: String| CertError::ScepChallengeRecordInvalid {
            otp_sha256: self.otp_sha256.to_hex(),
            reason,
        };
        let value = |i: usize, label: NameAttribute| {
            self.subject
                .get(i)
                .filter(|(l, _)| l == label.label())
                .map(|(_, v)| v.as_str())
        };
        let user = value(0, NameAttribute::CommonName)
            .ok_or_else(|| invalid("the subject does not start with CN".into()))?;
        let device = value(1, NameAttribute::OrganizationalUnit);
        let expected = 1 + usize::from(device.is_some());
        if self.subject.len() != expected {
            return Err(invalid(format!(
                "the subject {:?} is not CN[, OU]",
                self.subject
            )));
        }
        let identity =
            ClientIdentity::new(user, device).map_err(|e| invalid(format!("subject: {e}")))?;
        let rebuilt = identity.subject().attributes();
        let same = rebuilt.len() == self.subject.len()
            && rebuilt
                .iter()
                .zip(&self.subject)
                .all(|((a, v), (l, w))| a.label() == l && v == w);
        if !same {
            return Err(invalid(format!(
                "the subject {:?} is not as the store writes it",
                self.subject
            )));
        }
        if self.expires_at < self.issued_at {
            return Err(invalid(format!(
                "expires at {} before it was issued at {}",
                self.expires_at, self.issued_at
            )));
        }
        // A password is redeemed only up to its expiry.
        if let Some(used_at) = self.used_at
            && used_at > self.expires_at
        {
            return Err(invalid(format!(
                "used at {used_at}, after it expired at {}",
                self.expires_at
            )));
        }
        Ok(Challenge {
            identity,
            gate: OtpGate::from_parts(
                *self.otp_sha256.as_bytes(),
                self.expires_at,
                self.attempts_left,
                self.used_at,
            ),
            hold: self.hold,
            issued_at: self.issued_at,
        })
    }
}

/// The passwords issued or changed since the journal was last taken, in
/// the order they first changed.
#[derive(Default)]
struct Journal {
    order: Vec<[u8; 32]>,
    seen: HashSet<[u8; 32]>,
}

impl Journal {
    fn note(&mut self, hash: [u8; 32]) {
        if self.seen.insert(hash) {
            self.order.push(hash);
        }
    }
}

#[derive(Default)]
struct Inner {
    by_hash: HashMap<[u8; 32], Challenge>,
    /// `Some` for a [`ScepChallenges::journaled`] store.
    journal: Option<Journal>,
}

impl Inner {
    fn note(&mut self, hash: [u8; 32]) {
        if let Some(journal) = self.journal.as_mut() {
            journal.note(hash);
        }
    }
}

/// One-time SCEP challenge passwords in memory, each for one identity:
/// kept as SHA-256 hashes, looked up by hash and compared in constant
/// time, used once, expiring (the rule of [`crate::ClientCertificateDelivery`]).
///
/// A [`Self::journaled`] store also tells what to keep durable, and a
/// store can be rebuilt from what was kept (see the [module
/// documentation](self)).
#[derive(Default)]
pub struct ScepChallenges {
    inner: Mutex<Inner>,
}

impl core::fmt::Debug for ScepChallenges {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let n = self
            .inner
            .lock()
            .map(|m| m.by_hash.len())
            .unwrap_or_default();
        write!(f, "ScepChallenges({n} passwords)")
    }
}

fn unavailable() -> CertError {
    CertError::ScepBadRequest {
        reason: "the challenge store is unavailable".into(),
    }
}

impl ScepChallenges {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store that notes each password it issues or that is
    /// redeemed, for [`Self::take_changed`].
    pub fn journaled() -> Self {
        Self {
            inner: Mutex::new(Inner {
                by_hash: HashMap::new(),
                journal: Some(Journal::default()),
            }),
        }
    }

    /// A [`Self::journaled`] store holding `records` (kept earlier from
    /// [`Self::take_changed`] or [`Self::records`]): each password stands
    /// as it stood when its record was taken, under the same rule as a
    /// fresh one.
    ///
    /// # Errors
    /// [`CertError::ScepChallengeRecordInvalid`] for a record this crate
    /// would not have written (a subject that is not a client identity's,
    /// times out of order, two records of one password).
    pub fn restore(records: impl IntoIterator<Item = ScepChallengeRecord>) -> Result<Self> {
        let store = Self::journaled();
        store.reload(records)?;
        Ok(store)
    }

    /// Replaces every password held with `records` (as [`Self::restore`])
    /// and empties the journal: after the durable copy changed under this
    /// store (another process wrote it, or what was not written yet is
    /// dropped). Returns how many passwords it holds. Nothing changes when
    /// a record is refused.
    ///
    /// # Errors
    /// As [`Self::restore`].
    pub fn reload(&self, records: impl IntoIterator<Item = ScepChallengeRecord>) -> Result<usize> {
        let mut by_hash = HashMap::new();
        for record in records {
            let challenge = record.challenge()?;
            if by_hash
                .insert(*record.otp_sha256.as_bytes(), challenge)
                .is_some()
            {
                return Err(CertError::ScepChallengeRecordInvalid {
                    otp_sha256: record.otp_sha256.to_hex(),
                    reason: "two records of one password".into(),
                });
            }
        }
        let mut inner = self.inner.lock().map_err(|_| unavailable())?;
        let n = by_hash.len();
        inner.by_hash = by_hash;
        if let Some(journal) = inner.journal.as_mut() {
            *journal = Journal::default();
        }
        Ok(n)
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
        if let Ok(mut inner) = self.inner.lock() {
            let hash = *gate.otp_hash();
            inner.by_hash.insert(
                hash,
                Challenge {
                    identity,
                    gate,
                    hold,
                    issued_at: now,
                },
            );
            inner.note(hash);
        }
        otp
    }

    /// Withdraws the password `otp` (a profile that was to carry it was
    /// not sent after all); whether it was held. It leaves the journal
    /// too, so a durable copy not yet written never sees it (one already
    /// written keeps its record until the password expires).
    pub fn withdraw(&self, otp: &str) -> bool {
        let Ok(mut inner) = self.inner.lock() else {
            return false;
        };
        let hash = OtpGate::hash_of(otp);
        let held = inner.by_hash.remove(&hash).is_some();
        if let Some(journal) = inner.journal.as_mut()
            && journal.seen.remove(&hash)
        {
            journal.order.retain(|h| *h != hash);
        }
        held
    }

    /// Where the password `otp` stands, if it was issued here.
    pub fn status(&self, otp: &str, now: OffsetDateTime) -> Option<DeliveryStatus> {
        let inner = self.inner.lock().ok()?;
        inner
            .by_hash
            .get(&OtpGate::hash_of(otp))
            .map(|c| c.gate.status(now))
    }

    /// Drops passwords used or expired before `now`; returns how many.
    /// (Only from memory: a durable copy keeps its own retention.)
    pub fn purge(&self, now: OffsetDateTime) -> usize {
        let Ok(mut inner) = self.inner.lock() else {
            return 0;
        };
        let before = inner.by_hash.len();
        inner
            .by_hash
            .retain(|_, c| matches!(c.gate.status(now), DeliveryStatus::Pending { .. }));
        before - inner.by_hash.len()
    }

    /// Drops the passwords whose expiry is before `now`, used or not;
    /// returns how many. A used password is kept until then, so that its
    /// replay is refused as used rather than unknown. (Only from memory:
    /// the durable copy deletes the same records by its own rule.)
    pub fn purge_expired(&self, now: OffsetDateTime) -> usize {
        let Ok(mut inner) = self.inner.lock() else {
            return 0;
        };
        let before = inner.by_hash.len();
        inner.by_hash.retain(|_, c| c.gate.expires_at() >= now);
        before - inner.by_hash.len()
    }

    /// Whether passwords were issued or changed since the journal was last
    /// taken (always `false` for a store that is not journaled).
    pub fn has_changed(&self) -> bool {
        self.inner
            .lock()
            .is_ok_and(|i| i.journal.as_ref().is_some_and(|j| !j.order.is_empty()))
    }

    /// The current record of each password issued or changed since the
    /// last call, in the order they first changed, and empties the journal
    /// (a password purged since is left out). Empty for a store that is
    /// not journaled.
    pub fn take_changed(&self) -> Vec<ScepChallengeRecord> {
        let Ok(mut inner) = self.inner.lock() else {
            return Vec::new();
        };
        let Some(journal) = inner.journal.take() else {
            return Vec::new();
        };
        let records = journal
            .order
            .iter()
            .filter_map(|hash| inner.by_hash.get(hash).map(Challenge::record))
            .collect();
        inner.journal = Some(Journal::default());
        records
    }

    /// The record of every password held, oldest first.
    pub fn records(&self) -> Vec<ScepChallengeRecord> {
        let Ok(inner) = self.inner.lock() else {
            return Vec::new();
        };
        let mut records: Vec<ScepChallengeRecord> =
            inner.by_hash.values().map(Challenge::record).collect();
        records.sort_by(|a, b| {
            (a.issued_at, a.otp_sha256.as_bytes()).cmp(&(b.issued_at, b.otp_sha256.as_bytes()))
        });
        records
    }
}

impl ScepChallengeStore for ScepChallenges {
    fn redeem(&self, challenge: &str, _csr: &Csr, now: OffsetDateTime) -> Result<ScepGrant> {
        let key = OtpGate::hash_of(challenge);
        let mut inner = self.inner.lock().map_err(|_| unavailable())?;
        // Looked up by hash; the gate compares the hash again in constant time.
        let entry = inner
            .by_hash
            .get_mut(&key)
            .filter(|c| bool::from(c.gate.otp_hash().ct_eq(&key)))
            .ok_or(CertError::ScepChallengeUnknown)?;
        let before = entry.state();
        let redeemed = entry.gate.redeem(challenge, now);
        let changed = entry.state() != before;
        let grant = if entry.hold {
            ScepGrant::Pending
        } else {
            ScepGrant::Issue(entry.identity.clone())
        };
        if changed {
            inner.note(key);
        }
        redeemed.map(|()| grant)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use time::Duration;
    use time::macros::datetime;

    use super::*;
    use crate::key::test_keys::rng;

    const T0: OffsetDateTime = datetime!(2026-05-01 9:00 UTC);

    fn csr() -> Csr {
        Csr::for_device("d", &mut rng(90)).unwrap().1
    }

    fn identity(user: &str, device: Option<&str>) -> ClientIdentity {
        ClientIdentity::new(user, device).unwrap()
    }

    /// A durable copy as an integrator keeps one: upserted by hash.
    fn keep(table: &mut BTreeMap<[u8; 32], String>, store: &ScepChallenges) {
        for record in store.take_changed() {
            let json = serde_json::to_string(&record).unwrap();
            table.insert(*record.otp_sha256.as_bytes(), json);
        }
    }

    fn restored(table: &BTreeMap<[u8; 32], String>) -> ScepChallenges {
        ScepChallenges::restore(table.values().map(|j| serde_json::from_str(j).unwrap())).unwrap()
    }

    #[test]
    fn a_restored_store_refuses_a_used_password_accepts_a_fresh_one_once_and_refuses_an_expired_one()
     {
        let store = ScepChallenges::journaled();
        let mut r = rng(1);
        let policy = OtpPolicy::default();
        let used = store.issue(identity("used", Some("d1")), policy, T0, &mut r);
        let fresh = store.issue(identity("fresh", None), policy, T0, &mut r);
        let short = OtpPolicy::new(26, Duration::hours(1), 5).unwrap();
        let expiring = store.issue(identity("expiring", None), short, T0, &mut r);
        store.redeem(used.expose(), &csr(), T0).unwrap();
        let mut table = BTreeMap::new();
        keep(&mut table, &store);
        assert_eq!(table.len(), 3);
        // The durable copy holds hashes, never a password.
        for json in table.values() {
            for otp in [&used, &fresh, &expiring] {
                assert!(!json.contains(otp.expose()), "{json}");
            }
        }
        drop(store);

        let later = T0 + Duration::hours(2);
        let again = restored(&table);
        assert!(matches!(
            again.redeem(used.expose(), &csr(), later),
            Err(CertError::OtpAlreadyUsed { used_at }) if used_at == T0
        ));
        assert!(matches!(
            again.redeem(expiring.expose(), &csr(), later),
            Err(CertError::OtpExpired { expired_at }) if expired_at == T0 + Duration::hours(1)
        ));
        // Typed as a person would, once.
        let typed = fresh.expose().to_ascii_lowercase();
        assert_eq!(
            again.redeem(&typed, &csr(), later).unwrap(),
            ScepGrant::Issue(identity("fresh", None))
        );
        assert!(matches!(
            again.redeem(fresh.expose(), &csr(), later),
            Err(CertError::OtpAlreadyUsed { .. })
        ));
        assert!(matches!(
            again.redeem("NOT-ISSUED-ANYWHERE", &csr(), later),
            Err(CertError::ScepChallengeUnknown)
        ));
        // Only the redeemed one is journaled again, and a restart after it
        // refuses it too.
        let changed = again.take_changed();
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].used_at, Some(later));
        for record in changed {
            table.insert(
                *record.otp_sha256.as_bytes(),
                serde_json::to_string(&record).unwrap(),
            );
        }
        assert!(matches!(
            restored(&table).redeem(fresh.expose(), &csr(), later),
            Err(CertError::OtpAlreadyUsed { .. })
        ));
    }

    #[test]
    fn the_journal_gives_each_changed_password_once_as_it_stands() {
        let store = ScepChallenges::journaled();
        let mut r = rng(2);
        let held = store.issue_held(identity("h", None), OtpPolicy::default(), T0, &mut r);
        assert!(store.has_changed());
        assert_eq!(
            store.redeem(held.expose(), &csr(), T0).unwrap(),
            ScepGrant::Pending
        );
        let records = store.take_changed();
        assert_eq!(records.len(), 1, "{records:?}");
        let record = &records[0];
        assert_eq!(
            record.otp_sha256,
            Sha256Digest::of(held.expose().as_bytes())
        );
        assert_eq!(record.subject, vec![("CN".to_owned(), "h".to_owned())]);
        assert_eq!((record.issued_at, record.used_at), (T0, Some(T0)));
        assert_eq!(record.expires_at, T0 + Duration::days(7));
        assert!(record.hold && record.attempts_left == 5);
        assert!(record.is_spent(T0));
        assert!(!store.has_changed());
        // A refused replay changes nothing: nothing to write.
        assert!(store.redeem(held.expose(), &csr(), T0).is_err());
        assert!(store.take_changed().is_empty());
        // The stable JSON form.
        let json: serde_json::Value = serde_json::to_value(record).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "otp_sha256": record.otp_sha256.to_hex(),
                "subject": [["CN", "h"]],
                "issued_at": "2026-05-01T09:00:00Z",
                "expires_at": "2026-05-08T09:00:00Z",
                "used_at": "2026-05-01T09:00:00Z",
                "attempts_left": 5,
                "hold": true,
            })
        );
        // A plain store keeps no journal.
        let plain = ScepChallenges::new();
        let _ = plain.issue(identity("p", None), OtpPolicy::default(), T0, &mut r);
        assert!(!plain.has_changed() && plain.take_changed().is_empty());
        assert_eq!(plain.records().len(), 1);
    }

    #[test]
    fn records_that_this_store_would_not_write_are_refused_and_nothing_changes() {
        let store = ScepChallenges::journaled();
        let otp = store.issue(
            identity("u", Some("d")),
            OtpPolicy::default(),
            T0,
            &mut rng(3),
        );
        let good = store.take_changed().remove(0);
        let bad = |edit: fn(&mut ScepChallengeRecord)| {
            let mut record = good.clone();
            edit(&mut record);
            record
        };
        let cases = [
            bad(|r| r.subject = vec![("OU".into(), "d".into())]),
            bad(|r| r.subject.push(("O".into(), "x".into()))),
            bad(|r| r.subject = vec![("CN".into(), " ".into())]),
            bad(|r| r.subject = vec![("CN".into(), " padded ".into())]),
            bad(|r| r.expires_at = r.issued_at - Duration::seconds(1)),
            bad(|r| r.used_at = Some(r.expires_at + Duration::seconds(1))),
        ];
        for case in cases {
            let refused = store.reload([good.clone(), case.clone()]);
            assert!(
                matches!(refused, Err(CertError::ScepChallengeRecordInvalid { .. })),
                "{case:?}: {refused:?}"
            );
        }
        let twice = store.reload([good.clone(), good.clone()]);
        assert!(matches!(
            twice,
            Err(CertError::ScepChallengeRecordInvalid { .. })
        ));
        // Still holding the password, unused.
        assert!(matches!(
            store.status(otp.expose(), T0),
            Some(DeliveryStatus::Pending { .. })
        ));
        assert_eq!(store.reload([good]).unwrap(), 1);
    }

    #[test]
    fn purge_expired_keeps_used_passwords_until_their_expiry() {
        let store = ScepChallenges::journaled();
        let mut r = rng(4);
        let short = OtpPolicy::new(26, Duration::hours(1), 5).unwrap();
        let used = store.issue(identity("a", None), short, T0, &mut r);
        let _waiting = store.issue(identity("b", None), OtpPolicy::default(), T0, &mut r);
        store.redeem(used.expose(), &csr(), T0).unwrap();
        assert_eq!(store.purge_expired(T0 + Duration::minutes(30)), 0);
        assert!(matches!(
            store.redeem(used.expose(), &csr(), T0),
            Err(CertError::OtpAlreadyUsed { .. })
        ));
        assert_eq!(store.purge_expired(T0 + Duration::hours(2)), 1);
        assert_eq!(store.records().len(), 1);
        // Purged passwords are left out of the journal.
        assert_eq!(store.take_changed().len(), 1);
    }

    #[test]
    fn a_withdrawn_password_is_refused_and_never_journaled() {
        let store = ScepChallenges::journaled();
        let mut r = rng(5);
        let kept = store.issue(identity("k", None), OtpPolicy::default(), T0, &mut r);
        let gone = store.issue(identity("g", None), OtpPolicy::default(), T0, &mut r);
        assert!(store.withdraw(gone.expose()));
        assert!(!store.withdraw(gone.expose()));
        assert!(matches!(
            store.redeem(gone.expose(), &csr(), T0),
            Err(CertError::ScepChallengeUnknown)
        ));
        let records = store.take_changed();
        assert_eq!(records.len(), 1);
        assert_eq!(
            records[0].otp_sha256,
            Sha256Digest::of(kept.expose().as_bytes())
        );
        // Issued again later, it is journaled again.
        let _ = store.issue(identity("n", None), OtpPolicy::default(), T0, &mut r);
        assert_eq!(store.take_changed().len(), 1);
    }

    /// One step of the proptest below.
    #[derive(Debug, Clone)]
    enum Op {
        Issue { hold: bool, minutes: i64 },
        Redeem(usize),
        RedeemUnknown,
        Wait(i64),
        Restart,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (any::<bool>(), 1i64..180).prop_map(|(hold, minutes)| Op::Issue { hold, minutes }),
            4 => (0usize..8).prop_map(Op::Redeem),
            1 => Just(Op::RedeemUnknown),
            2 => (0i64..120).prop_map(Op::Wait),
            2 => Just(Op::Restart),
        ]
    }

    fn outcome(result: Result<ScepGrant>) -> String {
        match result {
            Ok(grant) => format!("{grant:?}"),
            Err(e) => e.to_string(),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// A store kept durable after every step and rebuilt from that copy
        /// at random points answers every redeem, and tells every status,
        /// exactly as one that never restarted.
        #[test]
        fn a_store_rebuilt_from_its_records_behaves_as_one_that_never_restarted(
            ops in proptest::collection::vec(op(), 1..40),
        ) {
            let reference = ScepChallenges::new();
            let mut durable = ScepChallenges::journaled();
            let mut table = BTreeMap::new();
            let (mut r1, mut r2) = (rng(7), rng(7));
            let mut issued: Vec<OneTimePassword> = Vec::new();
            let mut now = T0;
            let csr = csr();
            for op in ops {
                match op {
                    Op::Issue { hold, minutes } => {
                        let policy = OtpPolicy::new(26, Duration::minutes(minutes), 5).unwrap();
                        let who = identity(&format!("u{}", issued.len()), Some("dev"));
                        let (a, b) = if hold {
                            (reference.issue_held(who.clone(), policy, now, &mut r1),
                             durable.issue_held(who, policy, now, &mut r2))
                        } else {
                            (reference.issue(who.clone(), policy, now, &mut r1),
                             durable.issue(who, policy, now, &mut r2))
                        };
                        prop_assert_eq!(a.expose(), b.expose());
                        issued.push(a);
                    }
                    Op::Redeem(i) => {
                        if let Some(otp) = issued.get(i % issued.len().max(1)) {
                            prop_assert_eq!(
                                outcome(reference.redeem(otp.expose(), &csr, now)),
                                outcome(durable.redeem(otp.expose(), &csr, now))
                            );
                        }
                    }
                    Op::RedeemUnknown => prop_assert_eq!(
                        outcome(reference.redeem("UNKNOWN", &csr, now)),
                        outcome(durable.redeem("UNKNOWN", &csr, now))
                    ),
                    Op::Wait(minutes) => now += Duration::minutes(minutes),
                    Op::Restart => durable = restored(&table),
                }
                keep(&mut table, &durable);
                for otp in &issued {
                    prop_assert_eq!(
                        reference.status(otp.expose(), now),
                        durable.status(otp.expose(), now)
                    );
                }
            }
            prop_assert_eq!(reference.records(), durable.records());
        }
    }
}
