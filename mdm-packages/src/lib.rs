//! Installation packages and their distribution.
//!
//! This crate will own product descriptions, standalone installation packages
//! with the server address embedded, invitation links and their QR images,
//! localised instruction messages, and the routing of an opened link by the
//! device's operating system (requirements R-IN-1…5, R-AN-1, R-AN-2).
#![forbid(unsafe_code)]
