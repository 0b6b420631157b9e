//! mdm-apple's integration tests: one binary, one module per concern.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod integration {
    pub mod command_parse;
    pub mod fixtures;
    mod messages;
    mod profile_read;
    mod profiles;
    mod responses;
    pub mod schema;
    mod service_binding;
    mod service_fixtures;
    mod service_flow;
    #[cfg(feature = "http")]
    mod service_http;
    mod service_props;
    mod service_signatures;
    mod signing;
    mod snapshots;
    mod tools;
}
