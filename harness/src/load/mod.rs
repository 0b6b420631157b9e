//! `mdm-harness load`: a simulated fleet over real HTTP(S), in real time,
//! against a server we did not necessarily write.
//!
//! Each simulated device has a real P-256 identity (issued by the target's
//! CA), real `Authenticate`, `TokenUpdate`, `Idle` and command-result
//! plists from `mdm-apple`, each signed in an `Mdm-Signature` header; the
//! run queues a command through the target's API and every device fetches
//! and acknowledges it. The report gives requests and check-ins per
//! second, latency per step, errors by kind and the devices that never
//! completed.
//!
//! Against our own `serve` (`--target-kind ours`) the devices get there
//! the way real ones do ([`ours`]): the invitation link, the signed
//! profile, SCEP, the check-ins, woken by the pushes serve sends to the
//! APNs stand-in this process runs; Android agents through their sync
//! endpoint.
//!
//! - [`target`] — the target's URL and kind; [`client`] — one keep-alive
//!   HTTP(S) connection; [`exchange`] — one timed request of a step;
//!   [`device`] — one device's identity, messages and flow; [`api`] —
//!   queueing commands through nanomdm's API; [`runner`] — workers, phases,
//!   bounds; [`report`] — the report, JSON and HTML; [`latency`] — the
//!   histograms.
//! - Ours: [`ours`] — the run; [`admin`] — serve's administrator API;
//!   [`enroll`] — link, profile, SCEP; [`android`] — the Android agent;
//!   [`standin`] — the APNs stand-in in this process.

pub mod admin;
pub mod android;
pub mod api;
pub mod cli;
pub mod client;
pub mod device;
pub mod enroll;
pub mod exchange;
pub mod latency;
pub mod ours;
pub mod report;
pub mod runner;
pub mod standin;
pub mod target;

pub use report::LoadReport;
pub use runner::{Identities, LoadOptions, run};
pub use target::{Target, TargetKind};
