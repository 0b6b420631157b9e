//! Workspace-level end-to-end tests: one test binary, one module per flow.

mod model_flow;
