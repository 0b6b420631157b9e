//! The report of a run: what happened, in numbers, and which invariants held.
//!
//! The JSON form is deterministic: the same seed and options give the same
//! bytes (no wall-clock figures in it; those are printed beside the summary).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::SimTime;

/// Devices per platform.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PerPlatform {
    /// Android devices.
    pub android: u64,
    /// iPhones.
    pub ios: u64,
    /// iPads.
    pub ipados: u64,
}

impl PerPlatform {
    /// The sum over platforms.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.android + self.ios + self.ipados
    }

    /// The counter of `platform`.
    pub fn of(&mut self, platform: mdm_model::Platform) -> &mut u64 {
        match platform {
            mdm_model::Platform::Android => &mut self.android,
            mdm_model::Platform::IOs => &mut self.ios,
            mdm_model::Platform::IPadOs => &mut self.ipados,
        }
    }
}

/// Percentiles of a duration, in hours.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Percentiles {
    /// How many samples.
    pub count: u64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

impl Percentiles {
    /// Percentiles of samples given in seconds, reported in hours (two decimals).
    #[must_use]
    pub fn of_seconds(samples: &mut [u32]) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        samples.sort_unstable();
        let at = |q: f64| {
            // An index into the sorted samples: non-negative and in range.
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )]
            let i = ((samples.len() - 1) as f64 * q).round() as usize;
            let secs = samples.get(i).copied().unwrap_or(0);
            (f64::from(secs) / 36.0).round() / 100.0
        };
        Self {
            count: samples.len() as u64,
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            max: at(1.0),
        }
    }
}

/// One hour of the run, for the charts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HourSample {
    /// Hours since the start.
    pub hour: u32,
    /// Devices enrolled so far, per platform.
    pub enrolled: PerPlatform,
    /// Devices that can reach the server now.
    pub connected: u64,
    /// Devices that have lost the connection (or were stranded) so far.
    pub lost: u64,
    /// Commands waiting for an answer.
    pub pending_commands: u64,
    /// Syncs and check-ins handled in this hour.
    pub syncs: u64,
}

/// A certificate event of the run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CertificateEvent {
    /// When.
    pub at: SimTime,
    /// What happened, in words.
    pub what: String,
}

/// The outcome of a reserve-certificate rotation (R-SV-1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RotationReport {
    /// When the reserve certificate was issued.
    pub issued_at: SimTime,
    /// When it became the active one.
    pub activates_at: SimTime,
    /// Android devices predicted at issuance to be lost: those that had not
    /// synced within two sync intervals then (dormant devices).
    pub predicted_lost: u64,
    /// Android devices that did lose the connection at activation.
    pub observed_lost: u64,
    /// Devices that had not synced since issuance, computed from their last sync times.
    pub not_synced_since_issuance: u64,
    /// Whether the activation happened within the run.
    pub activated: bool,
}

/// One invariant and whether it held.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InvariantResult {
    /// What must hold.
    pub invariant: &'static str,
    /// How many times it was checked.
    pub checks: u64,
    /// How many violations were seen.
    pub violations: u64,
    /// The first violation, described.
    pub first_violation: Option<String>,
}

impl InvariantResult {
    /// Whether it held every time.
    #[must_use]
    pub fn holds(&self) -> bool {
        self.violations == 0
    }
}

/// The whole report of a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// The scenario's name.
    pub scenario: String,
    /// The seed.
    pub seed: u64,
    /// Days simulated.
    pub days: u32,
    /// Devices in the fleet, per platform.
    pub fleet: PerPlatform,
    /// Users, and how many had no e-mail address.
    pub users: u64,
    /// Users without an e-mail address, reported and not invited (R-US-1).
    pub users_without_email: u64,
    /// Invitations sent.
    pub invitations_sent: u64,
    /// Devices enrolled, per platform.
    pub enrolled: PerPlatform,
    /// Hours from invitation to enrollment.
    pub time_to_enroll_hours: Percentiles,
    /// Enrollment refusals by reason.
    pub refusals: BTreeMap<String, u64>,
    /// Android installs by install path.
    pub installs: BTreeMap<String, u64>,
    /// Client certificates issued and applied by one-time password.
    pub client_certificates_applied: u64,
    /// Syncs handled (Android) and check-ins (Apple).
    pub syncs: u64,
    /// Messages lost or duplicated on the way, by kind.
    pub message_faults: BTreeMap<String, u64>,
    /// Commands by final outcome.
    pub commands: BTreeMap<String, u64>,
    /// Devices lost, by reason.
    pub lost: BTreeMap<String, u64>,
    /// Devices re-enrolled after being lost.
    pub reenrolled: u64,
    /// Certificate events.
    pub certificate_events: Vec<CertificateEvent>,
    /// The reserve-certificate rotation, in the `cert-rotation` scenario.
    pub rotation: Option<RotationReport>,
    /// Every invariant and whether it held.
    pub invariants: Vec<InvariantResult>,
    /// Simulated events handled.
    pub events: u64,
    /// Per simulated hour.
    pub timeseries: Vec<HourSample>,
}

impl Report {
    /// Whether every invariant held.
    #[must_use]
    pub fn all_invariants_hold(&self) -> bool {
        self.invariants.iter().all(InvariantResult::holds)
    }

    /// The first broken invariant, if any.
    #[must_use]
    pub fn first_violation(&self) -> Option<&InvariantResult> {
        self.invariants.iter().find(|i| !i.holds())
    }

    /// The report as deterministic, pretty JSON.
    ///
    /// # Errors
    /// If serialisation fails (it does not for reports the harness makes).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// The human summary printed at the end of a run.
    #[must_use]
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let f = &self.fleet;
        let e = &self.enrolled;
        let t = &self.time_to_enroll_hours;
        let _ = writeln!(
            s,
            "scenario {} · seed {} · {} days · {} devices ({} Android, {} iPhone, {} iPad)",
            self.scenario,
            self.seed,
            self.days,
            f.total(),
            f.android,
            f.ios,
            f.ipados
        );
        let _ = writeln!(
            s,
            "users: {} ({} without e-mail, not invited); invitations sent: {}",
            self.users, self.users_without_email, self.invitations_sent
        );
        let _ = writeln!(
            s,
            "enrolled: {} ({} Android, {} iPhone, {} iPad)",
            e.total(),
            e.android,
            e.ios,
            e.ipados
        );
        let _ = writeln!(
            s,
            "time to enroll (h): p50 {:.2} · p90 {:.2} · p99 {:.2} · max {:.2}",
            t.p50, t.p90, t.p99, t.max
        );
        let _ = writeln!(s, "android installs: {}", join(&self.installs));
        let _ = writeln!(
            s,
            "client certificates applied: {}",
            self.client_certificates_applied
        );
        let _ = writeln!(s, "refusals: {}", join(&self.refusals));
        let _ = writeln!(
            s,
            "syncs and check-ins: {} · message faults: {}",
            self.syncs,
            join(&self.message_faults)
        );
        let _ = writeln!(s, "commands: {}", join(&self.commands));
        let _ = writeln!(
            s,
            "devices lost: {} · re-enrolled: {}",
            join(&self.lost),
            self.reenrolled
        );
        for c in &self.certificate_events {
            let _ = writeln!(s, "certificate: {} — {}", c.at, c.what);
        }
        if let Some(r) = &self.rotation {
            let _ = writeln!(
                s,
                "rotation: reserve issued {}, active {}{}: predicted lost {}, observed lost {}, not synced since issuance {}",
                r.issued_at,
                r.activates_at,
                if r.activated { "" } else { " (after the run)" },
                r.predicted_lost,
                r.observed_lost,
                r.not_synced_since_issuance
            );
        }
        let _ = writeln!(s, "events simulated: {}", self.events);
        let _ = writeln!(s, "invariants:");
        for i in &self.invariants {
            let mark = if i.holds() { "ok  " } else { "FAIL" };
            let _ = write!(s, "  {mark} {} ({} checks)", i.invariant, i.checks);
            if let Some(v) = &i.first_violation {
                let _ = write!(s, " — first violation: {v}");
            }
            s.push('\n');
        }
        s
    }
}

fn join(map: &BTreeMap<String, u64>) -> String {
    if map.is_empty() {
        return "none".into();
    }
    map.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_in_hours() {
        let mut samples = vec![3600, 7200, 36_000, 1800];
        let p = Percentiles::of_seconds(&mut samples);
        assert_eq!((p.count, p.p50, p.max), (4, 2.0, 10.0));
        assert_eq!(Percentiles::of_seconds(&mut []), Percentiles::default());
    }
}
