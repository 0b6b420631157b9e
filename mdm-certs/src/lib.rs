//! X.509 for mobile device management.
//!
//! This crate will own the workspace certificate authority, server, reserve
//! and client certificates and their rotation, the APNs certificate flow
//! (CSR, vendor signing, intake, password-protected PKCS#12 backup) and the
//! expiry watch (requirements R-AP-1…4, R-SV-1, R-SV-2, R-CL-1). It knows
//! nothing of workspaces: it takes names, dates, keys and bytes, and returns
//! certificates and facts about them.
#![forbid(unsafe_code)]
