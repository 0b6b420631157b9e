//! What `mdm-harness serve` is asked for: where to listen, where each
//! tenant's workspace is stored, which tenants, where the certificates and
//! token hashes live.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use rand_chacha::ChaCha20Rng;
use time::OffsetDateTime;

use crate::HarnessError;

pub use crate::store_spec::StoreSpec;

/// A tenant's name: it is a URL path segment (`/t/<name>/…`), a file name
/// and a PostgreSQL schema suffix, so it is 1–32 of `a-z`, `0-9`, `-`,
/// starting with a letter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TenantName(String);

impl TenantName {
    /// Checks a tenant name.
    ///
    /// # Errors
    /// [`HarnessError::InvalidOption`] naming the rule.
    pub fn parse(text: &str) -> Result<Self, HarnessError> {
        let ok = (1..=32).contains(&text.len())
            && text.starts_with(|c: char| c.is_ascii_lowercase())
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(invalid(
                "tenant",
                "1-32 characters of a-z, 0-9 and -, starting with a letter",
            ))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The PostgreSQL schema of this tenant.
    pub fn schema(&self) -> String {
        format!("mdm_{}", self.0.replace('-', "_"))
    }
}

impl std::fmt::Display for TenantName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A fresh CSPRNG for one piece of work (keys, tokens, one-time passwords,
/// nonces). The binary seeds it from the operating system; a test may seed
/// it from anything.
pub type RngSource = Arc<dyn Fn() -> ChaCha20Rng + Send + Sync>;

/// Everything `serve` needs.
#[derive(Clone)]
pub struct ServeOptions {
    /// Where to listen (port 0: any free port; the bound address is printed).
    pub listen: SocketAddr,
    /// The connection address devices use (a DNS name or an IP): the server
    /// certificate names it and the profiles' URLs carry it. Default: the
    /// listen IP.
    pub host: Option<String>,
    /// The port devices connect to when it is not the listen port (behind
    /// a load balancer or a TCP proxy that several `serve` processes share).
    pub public_port: Option<u16>,
    /// Where workspaces are kept.
    pub store: StoreSpec,
    /// The tenants served (at least one).
    pub tenants: Vec<TenantName>,
    /// CAs, server certificates, SCEP responders, APNs certificates and the
    /// hashes of the administrator tokens, one folder per tenant.
    pub state_dir: PathBuf,
    /// Certificates of the CA that issues push certificates, which an
    /// uploaded APNs certificate must come from (Apple's in production).
    pub apns_issuers: Vec<PathBuf>,
    /// The APNs host (`https://api.push.apple.com` by default); tests point
    /// it at the stand-in.
    pub apns_url: String,
    /// A CA (PEM) trusted for the APNs host's TLS certificate besides the
    /// public roots (the stand-in's).
    pub apns_ca: Option<PathBuf>,
    /// How long in-flight requests may take to finish after a shutdown signal.
    pub grace: std::time::Duration,
    /// The wall clock (only a binary reads one).
    pub clock: fn() -> OffsetDateTime,
    /// Randomness.
    pub rng: RngSource,
}

impl std::fmt::Debug for ServeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeOptions")
            .field("listen", &self.listen)
            .field("host", &self.host)
            .field("public_port", &self.public_port)
            .field("store", &self.store)
            .field("tenants", &self.tenants)
            .field("state_dir", &self.state_dir)
            .field("apns_url", &self.apns_url)
            .finish_non_exhaustive()
    }
}

pub(crate) fn invalid(option: &'static str, reason: &str) -> HarnessError {
    HarnessError::InvalidOption {
        option,
        reason: reason.to_owned(),
    }
}

pub(crate) fn serve_error<E: std::fmt::Display>(step: &'static str) -> impl Fn(E) -> HarnessError {
    move |e| HarnessError::Serve {
        step,
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_names_are_checked() {
        assert_eq!(TenantName::parse("acme-2").unwrap().schema(), "mdm_acme_2");
        for bad in ["", "Acme", "2acme", "a/b", "a..b", &"a".repeat(33)] {
            assert!(TenantName::parse(bad).is_err(), "{bad}");
        }
    }
}
