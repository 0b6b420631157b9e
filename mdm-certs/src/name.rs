//! Distinguished names, built from ordered attributes.

use core::fmt;

use crate::error::{CertError, Result};

/// OID of the LDAP `UID` attribute (0.9.2342.19200300.100.1.1), where Apple's
/// push certificate carries its topic.
pub const UID_OID: [u64; 7] = [0, 9, 2342, 19_200_300, 100, 1, 1];

/// One attribute of a subject or issuer name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NameAttribute {
    /// `CN`
    CommonName,
    /// `O`
    Organization,
    /// `OU`
    OrganizationalUnit,
    /// `L`
    Locality,
    /// `ST`
    StateOrProvince,
    /// `C` (two letters)
    Country,
    /// `UID` (0.9.2342.19200300.100.1.1)
    UserId,
}

impl NameAttribute {
    /// The short label OpenSSL prints, e.g. `"CN"`.
    pub fn label(self) -> &'static str {
        match self {
            Self::CommonName => "CN",
            Self::Organization => "O",
            Self::OrganizationalUnit => "OU",
            Self::Locality => "L",
            Self::StateOrProvince => "ST",
            Self::Country => "C",
            Self::UserId => "UID",
        }
    }

    fn dn_type(self) -> rcgen::DnType {
        match self {
            Self::CommonName => rcgen::DnType::CommonName,
            Self::Organization => rcgen::DnType::OrganizationName,
            Self::OrganizationalUnit => rcgen::DnType::OrganizationalUnitName,
            Self::Locality => rcgen::DnType::LocalityName,
            Self::StateOrProvince => rcgen::DnType::StateOrProvinceName,
            Self::Country => rcgen::DnType::CountryName,
            Self::UserId => rcgen::DnType::CustomDnType(UID_OID.to_vec()),
        }
    }
}

/// A subject name: attributes in the order given (no default `CN`, unlike
/// `rcgen::CertificateParams::new`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubjectName {
    attributes: Vec<(NameAttribute, String)>,
}

impl SubjectName {
    /// A name with only a common name.
    pub fn common_name(cn: impl Into<String>) -> Result<Self> {
        Self::default().with(NameAttribute::CommonName, cn)
    }

    /// Adds an attribute. Empty values, control characters and (for
    /// `Country`) anything but two ASCII letters are refused.
    pub fn with(mut self, attribute: NameAttribute, value: impl Into<String>) -> Result<Self> {
        let value = value.into();
        let trimmed = value.trim();
        if trimmed.is_empty() || trimmed.len() > 256 || trimmed.chars().any(char::is_control) {
            return Err(CertError::InvalidNameValue {
                field: attribute.label(),
                value,
            });
        }
        let stored = if attribute == NameAttribute::Country {
            if !(trimmed.len() == 2 && trimmed.bytes().all(|b| b.is_ascii_alphabetic())) {
                return Err(CertError::InvalidCountry { value });
            }
            trimmed.to_ascii_uppercase()
        } else {
            trimmed.to_owned()
        };
        self.attributes.push((attribute, stored));
        Ok(self)
    }

    /// The attributes in order.
    pub fn attributes(&self) -> &[(NameAttribute, String)] {
        &self.attributes
    }

    /// The first value of `attribute`.
    pub fn get(&self, attribute: NameAttribute) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(a, _)| *a == attribute)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn to_rcgen(&self) -> rcgen::DistinguishedName {
        let mut dn = rcgen::DistinguishedName::new();
        for (attribute, value) in &self.attributes {
            let dn_value = if *attribute == NameAttribute::Country {
                match rcgen::string::PrintableString::try_from(value.as_str()) {
                    Ok(p) => rcgen::DnValue::PrintableString(p),
                    Err(_) => rcgen::DnValue::Utf8String(value.clone()),
                }
            } else {
                rcgen::DnValue::Utf8String(value.clone())
            };
            dn.push(attribute.dn_type(), dn_value);
        }
        dn
    }
}

impl fmt::Display for SubjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (attribute, value)) in self.attributes.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}={}", attribute.label(), value)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_empty_and_bad_country() {
        assert!(SubjectName::common_name("  ").is_err());
        assert!(matches!(
            SubjectName::default().with(NameAttribute::Country, "USA"),
            Err(CertError::InvalidCountry { .. })
        ));
        let name = SubjectName::common_name("x")
            .unwrap()
            .with(NameAttribute::Country, "DE")
            .unwrap();
        assert_eq!(name.to_string(), "CN=x, C=DE");
        assert_eq!(name.get(NameAttribute::Country), Some("DE"));
    }
}
