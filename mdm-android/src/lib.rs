//! The Android agent's side of mobile device management.
//!
//! This crate will own rendering a device's effective policy into the agent's
//! configuration, the sync protocol, QR provisioning payloads, managed
//! configuration schemas and the agent's package manifest (requirements
//! R-AN-1, R-PO-1, R-SY-1, R-IN-4).
#![forbid(unsafe_code)]
