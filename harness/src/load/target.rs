//! What `load` runs against: the target's base URL and kind, and the paths
//! of its check-in, command and API endpoints.

use std::str::FromStr;

use crate::HarnessError;

/// The kind of server under load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    /// A plain Apple MDM server with nanomdm's endpoints: check-ins and
    /// commands at `/mdm` (check-ins by their content type), commands queued
    /// through `/v1/enqueue/<ids>` with HTTP basic auth.
    Nanomdm,
    /// `mdm-harness serve`: invitation links, profiles, SCEP, `/mdm`.
    Ours,
}

impl FromStr for TargetKind {
    type Err = HarnessError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "nanomdm" => Ok(Self::Nanomdm),
            "ours" => Ok(Self::Ours),
            _ => Err(HarnessError::InvalidOption {
                option: "target-kind",
                reason: format!("{s:?}: nanomdm or ours"),
            }),
        }
    }
}

/// The target's address, read from its base URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The kind of server.
    pub kind: TargetKind,
    /// HTTPS (else plain HTTP).
    pub https: bool,
    /// Host name or IP address (no brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// The path prefix the server's routes sit under ("" for the root).
    pub base_path: String,
}

impl Target {
    /// Reads `http[s]://host[:port][/prefix]`.
    ///
    /// # Errors
    /// [`HarnessError::InvalidOption`] for anything else (a query, user
    /// info, another scheme, a bad port).
    pub fn parse(kind: TargetKind, url: &str) -> Result<Self, HarnessError> {
        let invalid = |reason: &str| HarnessError::InvalidOption {
            option: "target",
            reason: format!("{url:?}: {reason}"),
        };
        let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("http://") {
            (false, r)
        } else {
            return Err(invalid("not an http:// or https:// URL"));
        };
        if rest.contains(['?', '#', '@']) {
            return Err(invalid("no query, fragment or user info"));
        }
        let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, tail) = v6.split_once(']').ok_or_else(|| invalid("unclosed ["))?;
            (h, tail.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(invalid("no host"));
        }
        let port = match port {
            Some(p) => p.parse().map_err(|_| invalid("bad port"))?,
            None if https => 443,
            None => 80,
        };
        Ok(Self {
            kind,
            https,
            host: host.to_owned(),
            port,
            base_path: path.trim_end_matches('/').to_owned(),
        })
    }

    /// The path (with prefix) of a route, e.g. `path("/mdm")`.
    pub fn path(&self, route: &str) -> String {
        format!("{}{route}", self.base_path)
    }

    /// The URL of a route, as a profile names it.
    pub fn url(&self, route: &str) -> String {
        let scheme = if self.https { "https" } else { "http" };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!("{scheme}://{host}:{}{}", self.port, self.path(route))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_base_urls() {
        let t = Target::parse(TargetKind::Nanomdm, "http://127.0.0.1:9000").unwrap();
        assert_eq!(
            (t.https, t.host.as_str(), t.port),
            (false, "127.0.0.1", 9000)
        );
        assert_eq!(t.path("/mdm"), "/mdm");
        let t = Target::parse(TargetKind::Ours, "https://mdm.example.com/tenant/").unwrap();
        assert_eq!(
            (t.https, t.port, t.base_path.as_str()),
            (true, 443, "/tenant")
        );
        assert_eq!(t.url("/mdm"), "https://mdm.example.com:443/tenant/mdm");
        let t = Target::parse(TargetKind::Ours, "https://[::1]:8443").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 8443));
        assert_eq!(t.url("/x"), "https://[::1]:8443/x");
        for bad in [
            "ftp://x",
            "http://",
            "http://h:99999",
            "http://u@h",
            "http://h/?q",
            "http://[::1",
        ] {
            assert!(Target::parse(TargetKind::Ours, bad).is_err(), "{bad}");
        }
        assert!("nanomdm".parse::<TargetKind>().is_ok());
        assert!("mdmb".parse::<TargetKind>().is_err());
    }
}
