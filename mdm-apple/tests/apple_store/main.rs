//! The Apple store conformance suite (issue #18): the same assertions on
//! the memory store, SQLite (feature `sqlite`) and PostgreSQL (feature
//! `postgres`, database from `MDM_TEST_POSTGRES`), the service's requests
//! and the workspace committed in one transaction, retention, and a crash
//! test. One test binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod backends;
mod conformance;
#[cfg(feature = "sqlite")]
mod crash;
mod fixture;
