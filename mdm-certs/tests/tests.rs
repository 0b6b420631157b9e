//! Integration tests for `mdm-certs`: one test binary (links once).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod apns_flow;
mod fixture;
mod key_forms;
mod openssl;
mod proptests;
mod scep_flow;
#[cfg(feature = "http")]
mod scep_http;
mod scep_openssl;
mod secrets;
mod snapshots;
