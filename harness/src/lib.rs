//! A deterministic fleet simulator for mobile device management.
//!
//! This crate will own the virtual clock, simulated Android and Apple
//! devices, scenarios, fault injection and run reports (requirement R-HA-1),
//! driving the real crates of this workspace rather than re-implementing them.
#![forbid(unsafe_code)]
