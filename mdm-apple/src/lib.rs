//! Apple MDM for iOS and iPadOS.
//!
//! This crate will own `.mobileconfig` enrollment and configuration profiles,
//! their CMS signatures, the MDM command payloads, parsing of device check-in
//! messages and command reports, per-device command queues, and APNs push
//! requests (requirements R-IO-1, R-IO-2).
#![forbid(unsafe_code)]
