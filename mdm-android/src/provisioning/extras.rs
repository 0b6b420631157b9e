//! The keys of our agent's connection settings inside the admin extras bundle.

/// Server host: DNS name or IP literal (IPv6 without brackets).
pub const SERVER_HOST: &str = "io.mdmtoolkit.agent.SERVER_HOST";
/// Server port (an int in the QR form).
pub const SERVER_PORT: &str = "io.mdmtoolkit.agent.SERVER_PORT";
/// The one-time enrollment token.
pub const ENROLLMENT_TOKEN: &str = "io.mdmtoolkit.agent.ENROLLMENT_TOKEN";
/// SHA-256 of the server CA certificate, lower-case hex.
pub const CA_FINGERPRINT: &str = "io.mdmtoolkit.agent.CA_FINGERPRINT";
