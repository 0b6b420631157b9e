//! Server certificates for the connection address (R-SV-2).

use core::fmt;
use core::str::FromStr;
use std::net::IpAddr;

use rand_core::CryptoRng;

use crate::authority::{CertificateAuthority, CertifiedKey, LeafKind, Validity};
use crate::certificate::{Certificate, SubjectAltName};
use crate::error::{CertError, Result};
use crate::key::{KeyAlgorithm, PrivateKey};
use crate::name::SubjectName;

/// The address devices use to reach the server: an IP address or an FQDN.
/// Each goes into the subjectAltName the right way (`iPAddress` / `dNSName`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ConnectionAddress {
    /// A host name, lower-cased, without a trailing dot.
    Dns(String),
    /// An IPv4 or IPv6 address.
    Ip(IpAddr),
}

impl ConnectionAddress {
    /// Parses an address as typed by the admin: an IP (IPv6 with or without
    /// brackets) or a host name (RFC 1123 labels, at most 253 characters).
    pub fn parse(input: &str) -> Result<Self> {
        let invalid = || CertError::InvalidAddress {
            address: input.to_owned(),
        };
        let text = input.trim();
        let unbracketed = text
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .unwrap_or(text);
        if let Ok(ip) = unbracketed.parse::<IpAddr>() {
            return Ok(Self::Ip(ip));
        }
        let host = text.strip_suffix('.').unwrap_or(text).to_ascii_lowercase();
        if host.is_empty() || host.len() > 253 {
            return Err(invalid());
        }
        let mut labels = 0;
        for label in host.split('.') {
            labels += 1;
            let bytes = label.as_bytes();
            let ok = !bytes.is_empty()
                && bytes.len() <= 63
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
                && bytes.first() != Some(&b'-')
                && bytes.last() != Some(&b'-');
            if !ok {
                return Err(invalid());
            }
        }
        // A name made only of digits and dots is a malformed IP, not a host.
        if labels > 0 && host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err(invalid());
        }
        Ok(Self::Dns(host))
    }

    pub(crate) fn san(&self) -> Result<rcgen::SanType> {
        match self {
            Self::Ip(ip) => Ok(rcgen::SanType::IpAddress(*ip)),
            Self::Dns(name) => rcgen::string::Ia5String::try_from(name.as_str())
                .map(rcgen::SanType::DnsName)
                .map_err(|_| CertError::InvalidAddress {
                    address: name.clone(),
                }),
        }
    }

    /// Whether `certificate` names this address in its subjectAltName.
    pub fn is_named_by(&self, certificate: &Certificate) -> bool {
        certificate
            .info()
            .subject_alt_names
            .iter()
            .any(|san| match (self, san) {
                (Self::Ip(a), SubjectAltName::Ip(b)) => a == b,
                (Self::Dns(a), SubjectAltName::Dns(b)) => a.eq_ignore_ascii_case(b),
                _ => false,
            })
    }
}

impl FromStr for ConnectionAddress {
    type Err = CertError;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl fmt::Display for ConnectionAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Dns(name) => f.write_str(name),
            Self::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

impl CertificateAuthority {
    /// Issues a server certificate for `address` with a new key of
    /// `algorithm` (R-SV-2): `CN` and subjectAltName name the address, EKU
    /// `serverAuth`. Changing the address means calling this again (seed 003
    /// §2 steps 8–11); [`ConnectionAddress::is_named_by`] tells whether the
    /// current certificate still fits.
    pub fn issue_server_certificate<R: CryptoRng + ?Sized>(
        &self,
        address: &ConnectionAddress,
        validity: Validity,
        algorithm: KeyAlgorithm,
        rng: &mut R,
    ) -> Result<CertifiedKey> {
        let key = PrivateKey::generate(algorithm, rng)?;
        let subject = SubjectName::common_name(address.to_string())?;
        let certificate = self.issue_leaf(
            LeafKind::Server,
            &subject,
            vec![address.san()?],
            &key,
            validity,
            rng,
        )?;
        Ok(CertifiedKey { certificate, key })
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::authority::test_ca;
    use crate::key::test_keys::rng;

    #[test]
    fn parses_addresses() {
        assert_eq!(
            ConnectionAddress::parse("MDM.Example.com.").unwrap(),
            ConnectionAddress::Dns("mdm.example.com".into())
        );
        assert!(matches!(
            ConnectionAddress::parse("10.0.0.7").unwrap(),
            ConnectionAddress::Ip(_)
        ));
        assert!(matches!(
            ConnectionAddress::parse("[::1]").unwrap(),
            ConnectionAddress::Ip(_)
        ));
        for bad in [
            "",
            "a..b",
            "-a.com",
            "a-.com",
            "300.1.1.1",
            "a b.com",
            "x_y.com",
            "http://x",
        ] {
            assert!(ConnectionAddress::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn server_certificate_names_the_address() {
        let ca = test_ca();
        let now = datetime!(2026-03-01 0:00 UTC);
        let v = Validity::days(now, 365).unwrap();
        let dns = ConnectionAddress::parse("mdm.example.com").unwrap();
        let ip = ConnectionAddress::parse("192.0.2.10").unwrap();
        let a = ca
            .issue_server_certificate(&dns, v, KeyAlgorithm::EcdsaP256, &mut rng(5))
            .unwrap();
        assert!(dns.is_named_by(&a.certificate));
        assert!(!ip.is_named_by(&a.certificate));
        assert!(a.certificate.is_signed_by(ca.certificate()));
        assert!(a.certificate.matches_key(&a.key));
        // Re-issue for a changed address.
        let b = ca
            .issue_server_certificate(&ip, v, KeyAlgorithm::EcdsaP256, &mut rng(6))
            .unwrap();
        assert!(ip.is_named_by(&b.certificate));
        assert_eq!(
            b.certificate.info().subject_alt_names,
            vec![SubjectAltName::Ip("192.0.2.10".parse().unwrap())]
        );
        assert_ne!(
            a.certificate.info().serial_hex,
            b.certificate.info().serial_hex
        );
    }

    #[test]
    fn refuses_to_outlive_the_ca() {
        let ca = test_ca();
        let v = Validity::days(datetime!(2026-03-01 0:00 UTC), 365 * 20).unwrap();
        let dns = ConnectionAddress::parse("mdm.example.com").unwrap();
        assert!(matches!(
            ca.issue_server_certificate(&dns, v, KeyAlgorithm::EcdsaP256, &mut rng(5)),
            Err(CertError::OutlivesIssuer { .. })
        ));
    }
}
