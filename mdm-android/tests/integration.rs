//! mdm-android's integration tests: one binary, one module per concern,
//! each using only the crate's public API (unit tests of private helpers
//! stay beside the code).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod integration {
    mod agent_auth;
    mod agent_schema;
    mod configuration;
    pub mod fixtures;
    mod install_source;
    mod manifest;
    mod provisioning;
    mod restrictions;
    mod store;
    mod sync;
    #[cfg(feature = "http")]
    mod sync_http;
}
