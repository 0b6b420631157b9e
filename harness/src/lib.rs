//! A deterministic fleet simulator for mobile device management.
//!
//! QA engineers run it (as the `mdm-harness` command) to learn, before their
//! customers do, what a server-certificate rotation, an APNs renewal or a bad
//! week of connectivity does to a fleet; integrators script scenarios with it
//! in Rust. It is a discrete-event simulation on virtual time — a calendar
//! queue of (time, device, event), one seeded ChaCha stream per device and
//! purpose, no wall clock — and its devices use the same crates a real
//! integration would: they open invitation links routed by `mdm-packages`,
//! install standalone packages or signed enrollment profiles, make CSRs and
//! receive certificates from `mdm-certs`, send real `Authenticate` and
//! `TokenUpdate` plists that `mdm-apple` parses, and sync over
//! `mdm-android`'s JSON protocol into the `mdm-model` workspace. The harness
//! holds no rules of its own; it checks the invariants and reports.
//!
//! # Example
//!
//! ```
//! use harness::{Options, simulate};
//!
//! let options = Options::new("baseline", 40, 3, 7)?;
//! let report = simulate(&options, &mut |_, _| {})?;
//! assert!(report.all_invariants_hold());
//! assert!(report.enrolled.total() > 0);
//! // The same seed and options give the same report, byte for byte.
//! assert_eq!(report.to_json()?, simulate(&options, &mut |_, _| {})?.to_json()?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Where things live
//! - [`scenario`] — the scenarios and their faults; [`fleet`] — the fleet's
//!   shape and each device's plan; [`queue`] — the event queue; [`clock`] —
//!   virtual time; [`report`] — the report, its JSON and summary; [`html`] —
//!   the HTML page with SVG charts; [`artifacts`] — one workspace's real artifacts.
#![forbid(unsafe_code)]

pub mod apns_standin;
pub mod artifacts;
pub mod clock;
mod devices;
mod draw;
mod engine;
mod error;
pub mod fleet;
pub mod html;
pub mod load;
mod mdm_server;
mod overlap;
mod pki;
pub mod queue;
pub mod report;
pub mod scenario;
pub mod serve;
pub mod store_spec;
mod tally;

pub use clock::SimTime;
pub use error::HarnessError;
pub use mdm_server::store::StoreCheck;
pub use report::Report;
pub use scenario::{AdminAction, Faults, FleetCommand, Scenario};
pub use store_spec::StoreSpec;

use time::OffsetDateTime;
use time::macros::datetime;

/// What to simulate.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// The scenario.
    pub scenario: Scenario,
    /// Devices in the fleet.
    pub devices: u32,
    /// Days simulated.
    pub days: u32,
    /// The seed every random choice derives from.
    pub seed: u64,
    /// When the run starts (virtual time zero).
    pub start: OffsetDateTime,
    /// Fail the run (an invariant) when more devices than this are lost.
    pub max_lost: Option<u64>,
    /// Where the server's state is persisted (`None`: in memory only). With
    /// a store, every sync and command is committed, once per simulated
    /// hour, and the store is checked against the run at the end; the
    /// report is the same as in memory.
    pub store: Option<StoreSpec>,
    /// The PostgreSQL schema of a `postgres` store (it must not hold a
    /// workspace yet); default `mdm_simulation`.
    pub store_schema: String,
}

impl Options {
    /// The run's default start: 1 December 2026, 00:00 UTC.
    pub const DEFAULT_START: OffsetDateTime = datetime!(2026-12-01 00:00 UTC);

    /// The PostgreSQL schema a run's store is written to by default.
    pub const DEFAULT_STORE_SCHEMA: &'static str = "mdm_simulation";

    /// Options for a scenario by name.
    ///
    /// # Errors
    /// [`HarnessError::UnknownScenario`], or [`HarnessError::InvalidOption`]
    /// for zero devices or days, or more than 10 000 000 devices or 3 650 days.
    pub fn new(scenario: &str, devices: u32, days: u32, seed: u64) -> Result<Self, HarnessError> {
        let scenario = scenario::find(scenario)
            .ok_or_else(|| HarnessError::UnknownScenario(scenario.to_owned()))?;
        if devices == 0 || devices > 10_000_000 {
            return Err(HarnessError::InvalidOption {
                option: "devices",
                reason: "between 1 and 10 000 000".into(),
            });
        }
        if days == 0 || days > 3650 {
            return Err(HarnessError::InvalidOption {
                option: "days",
                reason: "between 1 and 3 650".into(),
            });
        }
        Ok(Self {
            scenario,
            devices,
            days,
            seed,
            start: Self::DEFAULT_START,
            max_lost: None,
            store: None,
            store_schema: Self::DEFAULT_STORE_SCHEMA.to_owned(),
        })
    }
}

/// Runs a simulation to its end and returns its report. `progress` is called
/// as virtual time advances with (now, end).
///
/// # Errors
/// [`HarnessError`] when a step that must not fail does (a bug or a broken
/// crate), including [`HarnessError::Panicked`] if anything panicked.
pub fn simulate(
    options: &Options,
    progress: &mut (dyn FnMut(SimTime, SimTime) + Send),
) -> Result<Report, HarnessError> {
    simulate_stored(options, progress).map(|(report, _)| report)
}

/// As [`simulate`], and with [`Options::store`] what the store held at the
/// end, read back and found equal to the run's state. The report is the
/// one [`simulate`] gives in memory, byte for byte.
///
/// # Errors
/// As [`simulate`]; [`HarnessError::Store`] when the store cannot be
/// opened (or already holds a workspace), a commit fails, or the reopened
/// store does not hold what the run holds.
pub fn simulate_stored(
    options: &Options,
    progress: &mut (dyn FnMut(SimTime, SimTime) + Send),
) -> Result<(Report, Option<StoreCheck>), HarnessError> {
    // The run itself is one of the worker threads, so the cores are shared by
    // exactly as many threads as there are workers: parallel steps split
    // between this thread and the others instead of waking one more.
    let run = rayon::scope(|_| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut world = engine::World::new(options.clone())?;
            world.run(progress)?;
            let check = world.store_check.take();
            Ok((world.into_report(), check))
        }))
    });
    let (mut report, check): (Report, _) = match run {
        Ok(result) => result?,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            return Err(HarnessError::Panicked(message));
        }
    };
    if let Some(max) = options.max_lost {
        let lost: u64 = report.lost.values().sum();
        report.invariants.push(report::InvariantResult {
            invariant: "no more devices lost than --max-lost",
            checks: 1,
            violations: u64::from(lost > max),
            first_violation: (lost > max)
                .then(|| format!("{lost} devices lost, at most {max} allowed")),
        });
    }
    Ok((report, check))
}
