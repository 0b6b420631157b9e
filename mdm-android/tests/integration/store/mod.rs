//! The Android store (issue #18): the same assertions on the memory store,
//! SQLite (feature `sqlite`) and PostgreSQL (feature `postgres`, database
//! from `MDM_TEST_POSTGRES`); reopening after writes; the workspace and the
//! queues committed in one transaction; retention; bad databases; a SIGKILL
//! crash test; the queue as a state machine (proptest).

mod backends;
#[cfg(feature = "sqlite")]
mod bad_database;
mod conformance;
#[cfg(feature = "sqlite")]
mod crash;
mod fixture;
mod props;
