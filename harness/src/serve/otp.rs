//! A tenant's one-time SCEP passwords and the label each was issued for,
//! durable in the tenant's store (issue #19: a restart between a device
//! downloading its profile and its SCEP `PKCSReq` must not lose the
//! password the profile carries).
//!
//! In memory they are `mdm-certs`' [`ScepChallenges`] (journaled: it notes
//! each password issued or redeemed) and [`ScepLabels`] (the label a
//! profile's SCEP subject carries as its CN → the model device the profile
//! was downloaded for). [`ScepState`] is the companion of the workspace's
//! store that writes what they noted in the workspace's commit
//! transaction ([`super::store::TenantStore::commit`]): the link's answer
//! (the profile) and the SCEP `CertRep` leave only after that commit
//! ([`super::app`]'s `commit_after`), so a password handed out, or used, is
//! never forgotten. It is read back when the tenant opens, and again after
//! a conflict or a catch-up with another process's commits (so a device may
//! download its profile through one `serve` process and redeem it through
//! another over the same PostgreSQL store).
//!
//! # Table
//! Versioned as component `serve-scep` in `mdm_components`; migrations run
//! on open, a newer version is refused. Times are text as in the
//! workspace's tables (sorting as time).
//!
//! | table | columns |
//! |---|---|
//! | `serve_scep_challenges` | `otp_sha256` (the key: hex SHA-256 of the password, never the password), `label` (the subject's CN), `subject` (JSON `[["CN", …], ["OU", account]]`), `issued_at`, `expires_at`, `used_at` (null until redeemed), `attempts_left`, `hold` (0/1), `device_id` (the workspace's `devices.id` the profile was made for; null until the profile is answered) |
//!
//! ```sql
//! -- profiles downloaded but not redeemed yet
//! SELECT device_id, issued_at, expires_at FROM serve_scep_challenges WHERE used_at IS NULL;
//! ```
//!
//! # Retention
//! A password's row is kept until the password expires (7 days after it
//! was issued, `OtpPolicy::default`), used or not — so a replayed password
//! is refused as *used*, not *unknown* — and deleted in the first commit
//! that issues or redeems a password after that; memory drops it then too.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use mdm_certs::{
    CertError, ClientIdentity, Csr, ScepChallengeRecord, ScepChallengeStore, ScepChallenges,
    ScepGrant,
};
use mdm_model::storage::session::time_text;
use mdm_model::storage::{SqlDatabase, SqlRow, SqlSession, SqlValue, StoreCompanion};
use mdm_model::{DeviceId, ModelError, Sha256Digest};
use time::OffsetDateTime;

/// The component name of the table in `mdm_components`.
pub const SCEP_COMPONENT: &str = "serve-scep";

/// The migrations of the table, oldest first; never changed once released.
const MIGRATIONS: [&str; 1] = [
    "CREATE TABLE serve_scep_challenges (otp_sha256 TEXT PRIMARY KEY, label TEXT,
        subject TEXT NOT NULL, issued_at {time} NOT NULL, expires_at {time} NOT NULL,
        used_at {time}, attempts_left {int} NOT NULL, hold {int} NOT NULL, device_id {int});
     CREATE INDEX serve_scep_challenges_label ON serve_scep_challenges (label);
     CREATE INDEX serve_scep_challenges_expiry ON serve_scep_challenges (expires_at);",
];

const UPSERT: &str = "INSERT INTO serve_scep_challenges (otp_sha256, label, subject, issued_at, \
     expires_at, used_at, attempts_left, hold) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     ON CONFLICT (otp_sha256) DO UPDATE SET used_at = excluded.used_at, \
     attempts_left = excluded.attempts_left";
const BIND: &str = "UPDATE serve_scep_challenges SET device_id = $1 WHERE label = $2";
const PRUNE: &str = "DELETE FROM serve_scep_challenges WHERE expires_at < $1";
const SELECT: &str = "SELECT otp_sha256, subject, issued_at, expires_at, used_at, attempts_left, \
     hold, label, device_id FROM serve_scep_challenges ORDER BY issued_at, otp_sha256";

/// The label → device binding of the profiles handed out, each until its
/// password expires; notes each new binding for the next commit.
#[derive(Debug, Default)]
pub struct ScepLabels {
    inner: Mutex<LabelsInner>,
}

#[derive(Debug, Default)]
struct LabelsInner {
    devices: HashMap<String, (DeviceId, OffsetDateTime)>,
    journal: Vec<(String, DeviceId)>,
}

impl ScepLabels {
    /// The profile whose SCEP subject has CN `label` was made for `device`;
    /// its password expires at `expires_at`.
    pub fn bind(&self, label: String, device: DeviceId, expires_at: OffsetDateTime) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.journal.push((label.clone(), device));
            inner.devices.insert(label, (device, expires_at));
        }
    }

    /// The device the profile with CN `label` was made for.
    pub fn device(&self, label: &str) -> Option<DeviceId> {
        let inner = self.inner.lock().ok()?;
        inner.devices.get(label).map(|(device, _)| *device)
    }

    fn has_changed(&self) -> bool {
        self.inner.lock().is_ok_and(|i| !i.journal.is_empty())
    }

    fn take_changed(&self) -> Vec<(String, DeviceId)> {
        self.inner
            .lock()
            .map(|mut i| std::mem::take(&mut i.journal))
            .unwrap_or_default()
    }

    fn replace(&self, devices: HashMap<String, (DeviceId, OffsetDateTime)>) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.devices = devices;
            inner.journal.clear();
        }
    }

    fn purge_expired(&self, now: OffsetDateTime) {
        if let Ok(mut inner) = self.inner.lock() {
            inner
                .devices
                .retain(|_, (_, expires_at)| *expires_at >= now);
        }
    }
}

/// The challenge store the SCEP route asks: the tenant's passwords,
/// redeemed under the tenant's lock. The committer holds that lock while it
/// commits and reloads, so a redeem is never lost between a commit and a
/// reload that follows it (a catch-up with another process), and a redeem
/// that a conflict's reload drops is refused with a retryable 503
/// ([`super::app`]).
pub struct TenantOtp {
    /// The tenant's workspace and Apple service (its lock).
    pub apple: super::commit::TenantApple,
    /// The tenant's passwords.
    pub challenges: Arc<ScepChallenges>,
}

impl ScepChallengeStore for TenantOtp {
    fn redeem(
        &self,
        challenge: &str,
        csr: &Csr,
        now: OffsetDateTime,
    ) -> Result<ScepGrant, CertError> {
        let _guard = self.apple.lock().map_err(|_| CertError::ScepBadRequest {
            reason: "the tenant's state is unavailable".into(),
        })?;
        self.challenges.redeem(challenge, csr, now)
    }

    fn renew(
        &self,
        current: &mdm_certs::Certificate,
        identity: ClientIdentity,
        now: OffsetDateTime,
    ) -> Result<ScepGrant, CertError> {
        self.challenges.renew(current, identity, now)
    }
}

/// The handles the routes use (the same objects the companion writes).
#[derive(Debug, Clone)]
pub struct ScepHandles {
    /// The passwords.
    pub challenges: Arc<ScepChallenges>,
    /// The labels.
    pub labels: Arc<ScepLabels>,
}

/// The companion of the tenant's store that keeps [`ScepHandles`] durable
/// (see the [module documentation](self)).
pub struct ScepState {
    db: SqlDatabase,
    location: String,
    handles: ScepHandles,
    /// Taken from the journals, not yet committed (rewritten by the next
    /// commit when this one fails).
    records: Vec<ScepChallengeRecord>,
    bindings: Vec<(String, DeviceId)>,
    /// The newest time among the records written: what expired before it
    /// is pruned.
    prune_before: Option<OffsetDateTime>,
}

impl std::fmt::Debug for ScepState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScepState")
            .field("location", &self.location)
            .field("pending_records", &self.records.len())
            .finish_non_exhaustive()
    }
}

impl ScepState {
    /// Opens the table over `db` (a connection of its own to the
    /// workspace's database), creating or migrating it, and reads what it
    /// holds; passwords that expired before `now` are left out of memory.
    ///
    /// # Errors
    /// [`ModelError::StoreSchemaTooNew`] for a table of a newer build,
    /// [`ModelError::StoreCorrupt`] for rows that cannot be read,
    /// [`ModelError::StoreBackend`].
    pub fn open(mut db: SqlDatabase, now: OffsetDateTime) -> Result<Self, ModelError> {
        db.migrate(SCEP_COMPONENT, &MIGRATIONS)?;
        let location = db.location();
        let mut state = Self {
            db,
            location,
            handles: ScepHandles {
                challenges: Arc::new(ScepChallenges::journaled()),
                labels: Arc::new(ScepLabels::default()),
            },
            records: Vec::new(),
            bindings: Vec::new(),
            prune_before: None,
        };
        state.reload()?;
        state.handles.challenges.purge_expired(now);
        state.handles.labels.purge_expired(now);
        Ok(state)
    }

    /// The handles the routes use.
    pub fn handles(&self) -> &ScepHandles {
        &self.handles
    }

    /// Drops what was not committed and reads the table again (after a
    /// conflict, or when another process committed).
    ///
    /// # Errors
    /// [`ModelError::StoreCorrupt`] for rows that cannot be read (memory
    /// is then left as it was, with nothing pending),
    /// [`ModelError::StoreBackend`].
    pub fn reload(&mut self) -> Result<(), ModelError> {
        self.records.clear();
        self.bindings.clear();
        self.prune_before = None;
        let location = self.location.clone();
        let mut rows = Vec::new();
        self.db.query(SELECT, &[], &mut |row| {
            rows.push(row);
            Ok(())
        })?;
        let mut records = Vec::with_capacity(rows.len());
        let mut labels = HashMap::new();
        for row in rows {
            let (record, binding) = read_row(row, &location)?;
            if let Some((label, device)) = binding {
                labels.insert(label, (device, record.expires_at));
            }
            records.push(record);
        }
        let _ = self.handles.challenges.take_changed();
        let _ = self.handles.labels.take_changed();
        self.handles
            .challenges
            .reload(records)
            .map_err(|e| ModelError::StoreCorrupt {
                location: location.clone(),
                reason: format!("serve_scep_challenges: {e}"),
            })?;
        self.handles.labels.replace(labels);
        Ok(())
    }
}

/// A row of [`SELECT`]: the record and, once the profile was answered, the
/// label's binding.
fn read_row(
    values: Vec<SqlValue>,
    location: &str,
) -> Result<(ScepChallengeRecord, Option<(String, DeviceId)>), ModelError> {
    let mut r = SqlRow::new(values, "serve_scep_challenges", location);
    let hash = r.text("otp_sha256")?;
    let otp_sha256 = Sha256Digest::from_hex(&hash).map_err(|e| r.refusal(e))?;
    let subject = r.text("subject")?;
    let subject: Vec<(String, String)> =
        serde_json::from_str(&subject).map_err(|e| r.refusal(e))?;
    let issued_at = r.time("issued_at")?;
    let expires_at = r.time("expires_at")?;
    let used_at = r.opt_time("used_at")?;
    let attempts_left = r
        .opt_int("attempts_left")?
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| r.refusal("not a count"))?;
    let hold = r.opt_int("hold")?.is_some_and(|v| v != 0);
    let label = r.opt_text("label")?;
    let device = match r.opt_int("device_id")? {
        None => None,
        Some(v) => Some(
            u64::try_from(v)
                .ok()
                .and_then(|v| serde_json::from_value::<DeviceId>(v.into()).ok())
                .ok_or_else(|| r.refusal(format!("{v} is not a device id")))?,
        ),
    };
    Ok((
        ScepChallengeRecord {
            otp_sha256,
            subject,
            issued_at,
            expires_at,
            used_at,
            attempts_left,
            hold,
        },
        label.zip(device),
    ))
}

/// Writes `records`, then `bindings`, then prunes, through `s` (the
/// commit's transaction).
fn write(
    records: &[ScepChallengeRecord],
    bindings: &[(String, DeviceId)],
    prune_before: Option<OffsetDateTime>,
    location: &str,
    s: &mut dyn SqlSession,
) -> Result<(), ModelError> {
    for record in records {
        let subject =
            serde_json::to_string(&record.subject).map_err(|e| ModelError::StoreBackend {
                backend: "serve",
                location: location.into(),
                operation: "encode a SCEP subject in",
                message: e.to_string(),
            })?;
        let label = record
            .subject
            .iter()
            .find(|(attribute, _)| attribute == "CN")
            .map(|(_, value)| value.clone());
        s.execute(
            UPSERT,
            &[
                SqlValue::Text(record.otp_sha256.to_hex()),
                SqlValue::opt_text(label),
                SqlValue::Text(subject),
                SqlValue::Text(time_text(record.issued_at)?),
                SqlValue::Text(time_text(record.expires_at)?),
                SqlValue::opt_text(record.used_at.map(time_text).transpose()?),
                SqlValue::Int(record.attempts_left.into()),
                SqlValue::Int(record.hold.into()),
            ],
        )?;
    }
    for (label, device) in bindings {
        s.execute(
            BIND,
            &[
                SqlValue::Int(device.get().into()),
                SqlValue::Text(label.clone()),
            ],
        )?;
    }
    if let Some(before) = prune_before {
        s.execute(PRUNE, &[SqlValue::Text(time_text(before)?)])?;
    }
    Ok(())
}

impl StoreCompanion for ScepState {
    fn has_pending(&self) -> bool {
        !self.records.is_empty()
            || !self.bindings.is_empty()
            || self.handles.challenges.has_changed()
            || self.handles.labels.has_changed()
    }

    fn write_pending(&mut self, session: &mut dyn SqlSession) -> Result<(), ModelError> {
        // What the routes noted since the last attempt joins what a failed
        // one left; a password written twice is upserted to its last state.
        self.records.extend(self.handles.challenges.take_changed());
        self.bindings.extend(self.handles.labels.take_changed());
        let newest = self
            .records
            .iter()
            .map(|r| r.used_at.unwrap_or(r.issued_at).max(r.issued_at))
            .max();
        self.prune_before = self.prune_before.max(newest);
        write(
            &self.records,
            &self.bindings,
            self.prune_before,
            &self.location,
            session,
        )
    }

    fn committed(&mut self) {
        self.records.clear();
        self.bindings.clear();
        if let Some(before) = self.prune_before.take() {
            self.handles.challenges.purge_expired(before);
            self.handles.labels.purge_expired(before);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use mdm_certs::{ClientIdentity, OtpPolicy, ScepChallengeStore as _};
    use rand_core::SeedableRng as _;
    use time::Duration;

    use super::super::config::{StoreSpec, TenantName};
    use super::super::store::TenantStore;
    use super::super::store::tests::temp_dir;
    use super::*;

    fn csr() -> mdm_certs::Csr {
        mdm_certs::Csr::for_device("d", &mut rand_chacha::ChaCha20Rng::seed_from_u64(3))
            .unwrap()
            .1
    }

    #[test]
    fn passwords_and_labels_survive_a_reopen_used_ones_stay_refused_and_expired_ones_are_pruned() {
        let dir = temp_dir("otp");
        let spec = StoreSpec::Sqlite(dir.clone());
        let name = TenantName::parse("acme").unwrap();
        let now = OffsetDateTime::now_utc();
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(11);
        let device = serde_json::from_value::<DeviceId>(7.into()).unwrap();

        let mut one = TenantStore::open(&spec, &name, now).unwrap();
        let scep = one.scep.clone();
        let policy = OtpPolicy::default();
        let fresh = scep.challenges.issue(
            ClientIdentity::new("label-fresh", Some("alice")).unwrap(),
            policy,
            now,
            &mut rng,
        );
        scep.labels
            .bind("label-fresh".into(), device, now + policy.lifetime());
        let used = scep.challenges.issue(
            ClientIdentity::new("label-used", None).unwrap(),
            policy,
            now,
            &mut rng,
        );
        scep.challenges.redeem(used.expose(), &csr(), now).unwrap();
        let short = OtpPolicy::new(26, Duration::minutes(5), 5).unwrap();
        let expiring = scep.challenges.issue(
            ClientIdentity::new("label-short", None).unwrap(),
            short,
            now,
            &mut rng,
        );
        assert!(
            one.store
                .commit(&mut one.workspace, &mut one.apple, None)
                .unwrap()
        );
        drop(one);

        // Reopened (a restart): the fresh password works once, for the
        // device its label names; the used one stays refused.
        let later = now + Duration::minutes(10);
        let mut two = TenantStore::open(&spec, &name, later).unwrap();
        let scep = two.scep.clone();
        assert_eq!(scep.labels.device("label-fresh"), Some(device));
        assert!(matches!(
            scep.challenges.redeem(used.expose(), &csr(), later),
            Err(mdm_certs::CertError::OtpAlreadyUsed { .. })
        ));
        // Expired before the reopen: not in memory any more.
        assert!(matches!(
            scep.challenges.redeem(expiring.expose(), &csr(), later),
            Err(mdm_certs::CertError::ScepChallengeUnknown)
        ));
        assert!(
            scep.challenges
                .redeem(fresh.expose(), &csr(), later)
                .is_ok()
        );
        // Its use and the pruning of the expired row are committed.
        assert!(
            two.store
                .commit(&mut two.workspace, &mut two.apple, None)
                .unwrap()
        );
        let three = TenantStore::open(&spec, &name, later).unwrap();
        assert!(matches!(
            three.scep.challenges.redeem(fresh.expose(), &csr(), later),
            Err(mdm_certs::CertError::OtpAlreadyUsed { .. })
        ));
        let mut db = SqlDatabase::sqlite(
            &dir.join("acme.sqlite3"),
            mdm_model::SqliteOptions::default(),
        )
        .unwrap();
        let mut rows = Vec::new();
        db.query(
            "SELECT label, used_at IS NOT NULL, device_id FROM serve_scep_challenges ORDER BY label",
            &[],
            &mut |row| {
                rows.push(row);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(
            rows,
            vec![
                vec![
                    SqlValue::Text("label-fresh".into()),
                    SqlValue::Int(1),
                    SqlValue::Int(7)
                ],
                vec![
                    SqlValue::Text("label-used".into()),
                    SqlValue::Int(1),
                    SqlValue::Null
                ],
            ],
            "the expired row is pruned; no password is stored"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_conflict_drops_the_uncommitted_passwords_and_reads_the_other_processs() {
        let dir = temp_dir("otp-conflict");
        let spec = StoreSpec::Sqlite(dir.clone());
        let name = TenantName::parse("acme").unwrap();
        let now = OffsetDateTime::now_utc();
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(12);
        let mut one = TenantStore::open(&spec, &name, now).unwrap();
        let mut two = TenantStore::open(&spec, &name, now).unwrap();

        // `two` issues and commits a password; `one`'s own loses the race.
        let theirs = two.scep.challenges.issue(
            ClientIdentity::new("theirs", None).unwrap(),
            OtpPolicy::default(),
            now,
            &mut rng,
        );
        assert!(
            two.store
                .commit(&mut two.workspace, &mut two.apple, None)
                .unwrap()
        );
        let mine = one.scep.challenges.issue(
            ClientIdentity::new("mine", None).unwrap(),
            OtpPolicy::default(),
            now,
            &mut rng,
        );
        one.workspace.add_user("alice", None, now).unwrap();
        let refused = one.store.commit(&mut one.workspace, &mut one.apple, None);
        assert!(
            matches!(refused, Err(ModelError::StoreConflict { .. })),
            "{refused:?}"
        );
        one.store
            .reload(&mut one.workspace, &mut one.apple)
            .unwrap();
        assert!(one.scep.challenges.status(mine.expose(), now).is_none());
        assert!(one.scep.challenges.status(theirs.expose(), now).is_some());
        assert!(
            !one.store
                .commit(&mut one.workspace, &mut one.apple, None)
                .unwrap(),
            "nothing left to write"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
