//! Workspace-level end-to-end tests: one test binary, one module per flow.

mod harness_scenarios;
mod model_flow;
