//! The APNs certificate signing request made from the console form (R-AP-1).

use core::fmt;

use rand_core::CryptoRng;

use crate::csr::Csr;
use crate::error::{CertError, Result};
use crate::key::{KeyAlgorithm, PrivateKey};
use crate::name::{NameAttribute, SubjectName};

/// The officially assigned ISO 3166-1 alpha-2 codes (249).
const ISO_3166_ALPHA2: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ \
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR \
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP \
KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT \
MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW \
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG \
UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// Whether `code` (any case) is an assigned ISO 3166-1 alpha-2 country code.
pub fn is_iso3166_alpha2(code: &str) -> bool {
    code.len() == 2
        && code.bytes().all(|b| b.is_ascii_alphabetic())
        && ISO_3166_ALPHA2
            .split(' ')
            .any(|c| c.eq_ignore_ascii_case(code))
}

/// The six fields of the console's "Create CSR" page, all required (R-AP-1).
/// Company and Country are prefilled from the workspace by the caller.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApnsCsrForm {
    /// Name → `CN`.
    pub name: String,
    /// Company → `O`.
    pub company: String,
    /// Department → `OU`.
    pub department: String,
    /// City → `L`.
    pub city: String,
    /// State/Prefecture → `ST`.
    pub state: String,
    /// Country/Region, an ISO 3166 two-letter code → `C`.
    pub country: String,
}

impl ApnsCsrForm {
    /// Checks every field and returns the subject name: a missing or blank
    /// field is [`CertError::MissingField`] naming it; a country that is not
    /// an ISO 3166 code is [`CertError::InvalidCountry`].
    pub fn subject(&self) -> Result<SubjectName> {
        let fields: [(&'static str, &str, NameAttribute); 6] = [
            ("Name", &self.name, NameAttribute::CommonName),
            ("Company", &self.company, NameAttribute::Organization),
            (
                "Department",
                &self.department,
                NameAttribute::OrganizationalUnit,
            ),
            ("City", &self.city, NameAttribute::Locality),
            (
                "State/Prefecture",
                &self.state,
                NameAttribute::StateOrProvince,
            ),
            ("Country/Region", &self.country, NameAttribute::Country),
        ];
        for (field, value, _) in &fields {
            if value.trim().is_empty() {
                return Err(CertError::MissingField { field });
            }
        }
        if !is_iso3166_alpha2(self.country.trim()) {
            return Err(CertError::InvalidCountry {
                value: self.country.clone(),
            });
        }
        let mut subject = SubjectName::default();
        for (_, value, attribute) in fields {
            subject = subject.with(attribute, value)?;
        }
        Ok(subject)
    }
}

/// The customer side of the APNs flow: the RSA 2048 key (kept by the
/// workspace; it becomes the APNs client key) and the CSR sent for vendor
/// signing.
pub struct ApnsKeyRequest {
    key: PrivateKey,
    csr: Csr,
}

impl fmt::Debug for ApnsKeyRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApnsKeyRequest")
            .field("csr", &self.csr)
            .field("key", &self.key)
            .finish()
    }
}

impl ApnsKeyRequest {
    /// Validates `form`, makes an RSA 2048 key (what Apple's portal expects)
    /// from `rng`, and a SHA-256-with-RSA CSR.
    pub fn create<R: CryptoRng + ?Sized>(form: &ApnsCsrForm, rng: &mut R) -> Result<Self> {
        let subject = form.subject()?;
        let key = PrivateKey::generate(KeyAlgorithm::Rsa2048, rng)?;
        Self::with_key(&subject, key)
    }

    /// A request for an existing key (e.g. a renewal keeping its key, or
    /// tests that reuse a key).
    pub fn with_key(subject: &SubjectName, key: PrivateKey) -> Result<Self> {
        let csr = Csr::for_key(subject, &key)?;
        Ok(Self { key, csr })
    }

    /// The CSR (DER via [`Csr::der`], PEM via [`Csr::pem`]).
    pub fn csr(&self) -> &Csr {
        &self.csr
    }

    /// The private key to keep with the workspace.
    pub fn key(&self) -> &PrivateKey {
        &self.key
    }

    /// Takes the key out (to pair it with the uploaded certificate).
    pub fn into_key(self) -> PrivateKey {
        self.key
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::test_keys::rsa2048;

    pub(crate) fn form() -> ApnsCsrForm {
        ApnsCsrForm {
            name: "Jane Admin".into(),
            company: "Example Corp".into(),
            department: "IT".into(),
            city: "Tokyo".into(),
            state: "Tokyo".into(),
            country: "jp".into(),
        }
    }

    #[test]
    fn country_list_is_complete() {
        assert_eq!(ISO_3166_ALPHA2.split(' ').count(), 249);
        assert!(is_iso3166_alpha2("de") && is_iso3166_alpha2("US"));
        assert!(!is_iso3166_alpha2("XX") && !is_iso3166_alpha2("USA") && !is_iso3166_alpha2("UK"));
    }

    #[test]
    fn every_field_is_required_and_named() {
        type Blank = fn(&mut ApnsCsrForm);
        let cases: [(&str, Blank); 6] = [
            ("Name", |f| f.name.clear()),
            ("Company", |f| f.company = "  ".into()),
            ("Department", |f| f.department.clear()),
            ("City", |f| f.city.clear()),
            ("State/Prefecture", |f| f.state.clear()),
            ("Country/Region", |f| f.country.clear()),
        ];
        for (name, blank) in cases {
            let mut f = form();
            blank(&mut f);
            match f.subject() {
                Err(CertError::MissingField { field }) => assert_eq!(field, name),
                other => panic!("{name}: {other:?}"),
            }
        }
        let mut f = form();
        f.country = "Japan".into();
        assert!(matches!(f.subject(), Err(CertError::InvalidCountry { .. })));
    }

    #[test]
    fn csr_carries_the_form() {
        let req = ApnsKeyRequest::with_key(&form().subject().unwrap(), rsa2048(1)).unwrap();
        assert_eq!(
            req.csr().subject(),
            "CN=Jane Admin, O=Example Corp, OU=IT, L=Tokyo, ST=Tokyo, C=JP"
        );
        assert!(
            req.csr()
                .pem()
                .starts_with("-----BEGIN CERTIFICATE REQUEST-----\n")
        );
        assert_eq!(req.key().algorithm(), KeyAlgorithm::Rsa2048);
    }
}
