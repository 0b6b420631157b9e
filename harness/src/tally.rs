//! Counting what happens during a run, and checking invariants as it goes.

use std::collections::BTreeMap;

use crate::report::{CertificateEvent, HourSample, InvariantResult, PerPlatform, RotationReport};

/// The invariants a run checks, in report order.
pub const INVARIANTS: [&str; 9] = [
    "an invitation enrolls at most one device",
    "no device is managed without passing through a group",
    "licensed devices never exceed seats",
    "no iOS or iPadOS device enrolls without a valid APNs certificate",
    "every command ends acknowledged, errored, or pending with a reason",
    "devices lost in a certificate rotation are exactly those that did not sync in time",
    "the model's own invariants hold (checked daily)",
    "no panic anywhere",
    "every device certificate is the one SCEP issued for its own enrollment's one-time password",
];

/// Index of an invariant in [`INVARIANTS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum Inv {
    /// See [`INVARIANTS`].
    InvitationOnce = 0,
    /// See [`INVARIANTS`].
    ThroughGroup = 1,
    /// See [`INVARIANTS`].
    Seats = 2,
    /// See [`INVARIANTS`].
    AppleNeedsApns = 3,
    /// See [`INVARIANTS`].
    CommandsEnd = 4,
    /// See [`INVARIANTS`].
    RotationExact = 5,
    /// See [`INVARIANTS`].
    Model = 6,
    /// See [`INVARIANTS`].
    NoPanic = 7,
    /// See [`INVARIANTS`].
    OwnCertificate = 8,
}

/// The running counts of a simulation.
#[derive(Debug, Default)]
pub struct Tally {
    pub(crate) invitations_sent: u64,
    pub(crate) users_without_email: u64,
    pub(crate) enrolled: PerPlatform,
    pub(crate) enroll_secs: Vec<u32>,
    pub(crate) refusals: BTreeMap<String, u64>,
    pub(crate) installs: BTreeMap<String, u64>,
    pub(crate) client_certificates_applied: u64,
    pub(crate) syncs: u64,
    pub(crate) message_faults: BTreeMap<String, u64>,
    pub(crate) commands: BTreeMap<String, u64>,
    pub(crate) lost: BTreeMap<String, u64>,
    pub(crate) reenrolled: u64,
    pub(crate) certificate_events: Vec<CertificateEvent>,
    pub(crate) rotation: Option<RotationReport>,
    pub(crate) events: u64,
    pub(crate) connected: u64,
    pub(crate) lost_total: u64,
    pub(crate) pending_commands: u64,
    pub(crate) syncs_this_hour: u64,
    pub(crate) timeseries: Vec<HourSample>,
    checks: [u64; INVARIANTS.len()],
    violations: [u64; INVARIANTS.len()],
    first: [Option<String>; INVARIANTS.len()],
}

impl Tally {
    /// Records one check of an invariant; `violation` describes a breach.
    pub fn check(&mut self, inv: Inv, violation: Option<String>) {
        let i = inv as usize;
        self.checks[i] += 1;
        if let Some(v) = violation {
            self.violations[i] += 1;
            if self.first[i].is_none() {
                self.first[i] = Some(v);
            }
        }
    }

    /// Counts one occurrence under `key` of a map.
    pub fn count(map: &mut BTreeMap<String, u64>, key: &str) {
        *map.entry(key.to_owned()).or_default() += 1;
    }

    /// The invariants with their results.
    #[must_use]
    pub fn invariants(&self) -> Vec<InvariantResult> {
        INVARIANTS
            .iter()
            .enumerate()
            .map(|(i, name)| InvariantResult {
                invariant: name,
                checks: self.checks[i],
                violations: self.violations[i],
                first_violation: self.first[i].clone(),
            })
            .collect()
    }
}
