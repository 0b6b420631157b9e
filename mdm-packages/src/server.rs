//! The management server's connection address (R-SV-2): what a standalone
//! package embeds and what an invitation link points at.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

pub use mdm_certs::ConnectionAddress;
use serde::{Deserialize, Serialize};

use crate::error::{PackagesError, Result};

/// A validated server address: host and port.
///
/// Written as `host:port`, `[v6]:port`; parsed from those and from a bare
/// host (taking a default port). DNS names compare case-insensitively (they
/// are stored lowercase), so `MDM.Example.com` and `mdm.example.com` are the
/// same server.
///
/// The host is `mdm-certs`' [`ConnectionAddress`], the same value the
/// server certificate must name (R-SV-2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerAddress {
    host: ConnectionAddress,
    port: u16,
}

impl ServerAddress {
    /// An address from checked parts.
    ///
    /// # Errors
    /// [`PackagesError::ServerAddress`] for port 0 or an invalid DNS name.
    pub fn new(host: ConnectionAddress, port: u16) -> Result<Self> {
        let host = match host {
            ConnectionAddress::Dns(name) => check_dns_name(&name)?,
            ip @ ConnectionAddress::Ip(_) => ip,
        };
        if port == 0 {
            return Err(PackagesError::ServerAddress {
                input: host.to_string(),
                problem: "port 0 is not a port a server listens on".to_owned(),
            });
        }
        Ok(Self { host, port })
    }

    /// Parses `host`, `host:port`, `ipv4`, `ipv4:port`, `ipv6`, `[ipv6]` or
    /// `[ipv6]:port`; a missing port is `default_port`.
    ///
    /// # Errors
    /// [`PackagesError::ServerAddress`] saying what is wrong with `input`.
    pub fn parse(input: &str, default_port: u16) -> Result<Self> {
        let bad = |problem: &str| PackagesError::ServerAddress {
            input: input.chars().take(300).collect(),
            problem: problem.to_owned(),
        };
        let text = input.trim();
        if text.is_empty() {
            return Err(bad("is empty"));
        }
        if text.contains("://") || text.contains('/') {
            return Err(bad(
                "give only the host and optional port, without scheme or path",
            ));
        }
        let (host_text, port_text) = if let Some(rest) = text.strip_prefix('[') {
            let (inside, after) = rest.split_once(']').ok_or_else(|| bad("`[` without `]`"))?;
            let port = match after {
                "" => None,
                p => Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| bad("unexpected text after `]`"))?,
                ),
            };
            let ip =
                Ipv6Addr::from_str(inside).map_err(|_| bad("not an IPv6 address inside `[…]`"))?;
            return Self::finish(ConnectionAddress::Ip(IpAddr::V6(ip)), port, default_port)
                .map_err(|p| bad(&p));
        } else if text.matches(':').count() > 1 {
            let ip = Ipv6Addr::from_str(text)
                .map_err(|_| bad("not an IPv6 address (write `[v6]:port` with a port)"))?;
            return Self::finish(ConnectionAddress::Ip(IpAddr::V6(ip)), None, default_port)
                .map_err(|p| bad(&p));
        } else {
            match text.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (text, None),
            }
        };
        if host_text.contains('[') || host_text.contains(']') {
            return Err(bad("brackets belong around an IPv6 address only"));
        }
        let host = check_dns_name(host_text).map_err(|e| match e {
            PackagesError::ServerAddress { problem, .. } => bad(&problem),
            other => other,
        })?;
        Self::finish(host, port_text, default_port).map_err(|p| bad(&p))
    }

    fn finish(
        host: ConnectionAddress,
        port: Option<&str>,
        default_port: u16,
    ) -> std::result::Result<Self, String> {
        let port = match port {
            None => default_port,
            Some(p) => {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return Err("the port is not a number".to_owned());
                }
                p.parse::<u16>()
                    .map_err(|_| "the port is above 65535".to_owned())?
            }
        };
        if port == 0 {
            return Err("port 0 is not a port a server listens on".to_owned());
        }
        Ok(Self { host, port })
    }

    /// The host.
    #[must_use]
    pub fn host(&self) -> &ConnectionAddress {
        &self.host
    }

    /// The port.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl fmt::Display for ServerAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            ConnectionAddress::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]:{}", self.port),
            host => write!(f, "{host}:{}", self.port),
        }
    }
}

impl From<&ServerAddress> for mdm_android::ServerAddress {
    /// The same address in `mdm-android`'s form, port always written: what
    /// the agent is handed as the address embedded in its package
    /// (`mdm_android::first_connection_address`).
    fn from(address: &ServerAddress) -> Self {
        let host = match &address.host {
            ConnectionAddress::Dns(name) => mdm_android::ServerHost::Name(name.clone()),
            ConnectionAddress::Ip(IpAddr::V4(ip)) => mdm_android::ServerHost::Ipv4(*ip),
            ConnectionAddress::Ip(IpAddr::V6(ip)) => mdm_android::ServerHost::Ipv6(*ip),
        };
        Self::new(host, std::num::NonZeroU16::new(address.port))
    }
}

impl Serialize for ServerAddress {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ServerAddress {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if !text.contains(':') {
            return Err(serde::de::Error::custom(
                "a serialised server address carries its port",
            ));
        }
        // The port is always present in serialised form, so the default is never used.
        Self::parse(&text, 1).map_err(serde::de::Error::custom)
    }
}

/// Checks a host name or IPv4 address with `mdm-certs`' rules (RFC 1123
/// labels, at most 253 characters, lower-cased, trailing dot dropped), and
/// also refuses a name whose last label is all digits (`1.2.3`): a mistyped
/// IP address, not a host name.
fn check_dns_name(name: &str) -> Result<ConnectionAddress> {
    let bad = |problem: &str| PackagesError::ServerAddress {
        input: name.chars().take(300).collect(),
        problem: problem.to_owned(),
    };
    let address = ConnectionAddress::parse(name).map_err(|_| {
        bad("not an IP address or a host name of letters, digits and hyphens (use punycode for internationalised names)")
    })?;
    if let ConnectionAddress::Dns(host) = &address
        && host
            .rsplit('.')
            .next()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad(
            "the last label is all digits: a mistyped IP address, not a host name",
        ));
    }
    Ok(address)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_the_forms_an_administrator_types() {
        let a = ServerAddress::parse("MDM.Example.com", 443).unwrap();
        assert_eq!(a.to_string(), "mdm.example.com:443");
        assert_eq!(
            ServerAddress::parse("mdm.example.com.:13292", 443)
                .unwrap()
                .port(),
            13292
        );
        assert_eq!(
            ServerAddress::parse("10.0.0.5:8443", 443)
                .unwrap()
                .to_string(),
            "10.0.0.5:8443"
        );
        assert_eq!(
            ServerAddress::parse("2001:db8::1", 443)
                .unwrap()
                .to_string(),
            "[2001:db8::1]:443"
        );
        assert_eq!(
            ServerAddress::parse("[2001:db8::1]:9", 443)
                .unwrap()
                .to_string(),
            "[2001:db8::1]:9"
        );
        assert_eq!(
            ServerAddress::parse("ksc", 443).unwrap().to_string(),
            "ksc:443"
        );
    }

    #[test]
    fn refuses_what_is_not_an_address() {
        for bad in [
            "",
            " ",
            "https://mdm.example.com",
            "mdm.example.com/x",
            "mdm..example.com",
            "-mdm.example.com",
            "mdm_example.com",
            "mdm.example.com:0",
            "mdm.example.com:70000",
            "mdm.example.com:",
            "mdm.example.com:x",
            "10.0.0.256",
            "1.2.3",
            "[2001:db8::1",
            "[nope]:1",
            "[::1]x",
            "テスト.jp",
            "2001:db8::g",
        ] {
            assert!(
                matches!(
                    ServerAddress::parse(bad, 443),
                    Err(PackagesError::ServerAddress { .. })
                ),
                "{bad:?} was accepted"
            );
        }
    }

    #[test]
    fn converts_to_the_agents_form() {
        for text in [
            "mdm.example.com:13292",
            "10.0.0.5:443",
            "[2001:db8::1]:8443",
        ] {
            let ours = ServerAddress::parse(text, 443).unwrap();
            let agent = mdm_android::ServerAddress::from(&ours);
            assert_eq!(agent.to_string(), text);
            assert_eq!(mdm_android::ServerAddress::parse(text).unwrap(), agent);
        }
    }

    #[test]
    fn serde_round_trip() {
        let a = ServerAddress::parse("[::1]:8443", 443).unwrap();
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, "\"[::1]:8443\"");
        assert_eq!(serde_json::from_str::<ServerAddress>(&json).unwrap(), a);
        assert!(serde_json::from_str::<ServerAddress>("\"mdm.example.com\"").is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in ".{0,80}") {
            let _ = ServerAddress::parse(&text, 443);
        }

        #[test]
        fn display_parses_back(text in "[a-z][a-z0-9-]{0,10}[a-z0-9](\\.[a-z]{2,5}){0,2}", port in 1u16..) {
            let a = ServerAddress::parse(&format!("{text}:{port}"), 443).unwrap();
            prop_assert_eq!(ServerAddress::parse(&a.to_string(), 1).unwrap(), a);
        }
    }
}
