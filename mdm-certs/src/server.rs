//! Server certificates for the connection address (R-SV-2).

use mdm_model::ServerHost;
use rand_core::CryptoRng;

use crate::authority::{CertificateAuthority, LeafKind, Validity};
use crate::certificate::{Certificate, SubjectAltName};
use crate::error::{CertError, Result};
use crate::identity::CertifiedKey;
use crate::key::{KeyAlgorithm, PrivateKey};
use crate::name::SubjectName;

/// The subjectAltName entry that names `host`: `iPAddress` for an IP
/// literal, `dNSName` for a name.
fn san(host: &ServerHost) -> Result<rcgen::SanType> {
    match host {
        ServerHost::Name(name) => rcgen::string::Ia5String::try_from(name.as_str())
            .map(rcgen::SanType::DnsName)
            .map_err(|_| CertError::InvalidAddress {
                address: name.clone(),
            }),
        ServerHost::Ipv4(ip) => Ok(rcgen::SanType::IpAddress((*ip).into())),
        ServerHost::Ipv6(ip) => Ok(rcgen::SanType::IpAddress((*ip).into())),
    }
}

/// The host as a certificate's common name: a name or a bare IP literal.
fn common_name(host: &ServerHost) -> String {
    match host.ip() {
        Some(ip) => ip.to_string(),
        None => host.to_string(),
    }
}

impl Certificate {
    /// Whether this certificate names `host` in its subjectAltName (a server
    /// certificate fits the connection address, R-SV-2).
    #[must_use]
    pub fn names_host(&self, host: &ServerHost) -> bool {
        self.info()
            .subject_alt_names
            .iter()
            .any(|san| match (host, san) {
                (ServerHost::Name(a), SubjectAltName::Dns(b)) => a.eq_ignore_ascii_case(b),
                (host, SubjectAltName::Ip(b)) => host.ip() == Some(*b),
                _ => false,
            })
    }
}

impl CertificateAuthority {
    /// Issues a server certificate for `address` with a new key of
    /// `algorithm` (R-SV-2): `CN` and subjectAltName name the address, EKU
    /// `serverAuth`. Changing the address means calling this again (seed 003
    /// §2 steps 8–11); [`Certificate::names_host`] tells whether the
    /// current certificate still fits.
    pub fn issue_server_certificate<R: CryptoRng + ?Sized>(
        &self,
        address: &ServerHost,
        validity: Validity,
        algorithm: KeyAlgorithm,
        rng: &mut R,
    ) -> Result<CertifiedKey> {
        let key = PrivateKey::generate(algorithm, rng)?;
        let subject = SubjectName::common_name(common_name(address))?;
        let certificate = self.issue_leaf(
            LeafKind::Server,
            &subject,
            vec![san(address)?],
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
            ServerHost::parse("MDM.Example.com.").unwrap(),
            ServerHost::Name("mdm.example.com".into())
        );
        assert!(matches!(
            ServerHost::parse("10.0.0.7").unwrap(),
            ServerHost::Ipv4(_)
        ));
        assert!(matches!(
            ServerHost::parse("[::1]").unwrap(),
            ServerHost::Ipv6(_)
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
            assert!(ServerHost::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn server_certificate_names_the_address() {
        let ca = test_ca();
        let now = datetime!(2026-03-01 0:00 UTC);
        let v = Validity::days(now, 365).unwrap();
        let dns = ServerHost::parse("mdm.example.com").unwrap();
        let ip = ServerHost::parse("192.0.2.10").unwrap();
        let a = ca
            .issue_server_certificate(&dns, v, KeyAlgorithm::EcdsaP256, &mut rng(5))
            .unwrap();
        assert!(a.certificate.names_host(&dns));
        assert!(!a.certificate.names_host(&ip));
        assert!(a.certificate.is_signed_by(ca.certificate()));
        assert!(a.certificate.matches_key(&a.key));
        // Re-issue for a changed address.
        let b = ca
            .issue_server_certificate(&ip, v, KeyAlgorithm::EcdsaP256, &mut rng(6))
            .unwrap();
        assert!(b.certificate.names_host(&ip));
        // An IPv6 host is its bare literal in the common name, bracketless.
        let v6 = ServerHost::parse("[2001:db8::1]").unwrap();
        let c = ca
            .issue_server_certificate(&v6, v, KeyAlgorithm::EcdsaP256, &mut rng(7))
            .unwrap();
        assert!(c.certificate.names_host(&v6));
        assert_eq!(
            c.certificate.info().subject_common_name.as_deref(),
            Some("2001:db8::1")
        );
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
        let dns = ServerHost::parse("mdm.example.com").unwrap();
        assert!(matches!(
            ca.issue_server_certificate(&dns, v, KeyAlgorithm::EcdsaP256, &mut rng(5)),
            Err(CertError::OutlivesIssuer { .. })
        ));
    }
}
