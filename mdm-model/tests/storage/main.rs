//! The storage conformance suite (issue #18): the same assertions against
//! every backend — memory, SQLite (feature `sqlite`) and PostgreSQL (feature
//! `postgres`, database from `MDM_TEST_POSTGRES`) — plus crash, bad-input
//! and scale tests. One test binary, so the suite links once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod backends;
#[cfg(feature = "sqlite")]
mod bad_input;
mod conformance;
#[cfg(feature = "sqlite")]
mod crash;
mod script;
