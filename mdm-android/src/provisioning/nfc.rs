//! The NFC record's form: `java.util.Properties` text, every value a
//! string, the admin extras a nested Properties text (what
//! `PropertiesProvisioningDataParser` reads), short `a.a.e.*` aliases accepted.

use std::collections::BTreeMap;

use serde_json::Value;

use super::decode::{RawFields, RawValue, Typing};
use super::payload::Entry;
use super::{BundleValue, ProvisioningPayload, keys};
use crate::{AndroidError, properties};

impl ProvisioningPayload {
    /// The NFC record's text: `java.util.Properties`, every value a string,
    /// the admin extras as a nested Properties text. Nested bundles and
    /// arrays cannot be carried and are refused, naming the key.
    pub fn to_nfc_properties(&self) -> Result<String, AndroidError> {
        self.validate()?;
        let mut pairs: BTreeMap<String, String> = BTreeMap::new();
        for (key, value) in &self.other {
            let text = value.to_nfc_string().ok_or_else(|| {
                AndroidError::provisioning_value(
                    key.clone(),
                    "NFC cannot carry arrays or nested bundles",
                )
            })?;
            pairs.insert(key.clone(), text);
        }
        for (key, value) in self.typed_entries() {
            let text = match value {
                Entry::Str(s) => s,
                Entry::Bool(b) => b.to_string(),
                Entry::Int(i) => i.to_string(),
                Entry::Extras => {
                    let mut inner: BTreeMap<String, String> = BTreeMap::new();
                    for (k, v) in self.admin_extras.to_json() {
                        let text = match v {
                            Value::String(s) => s,
                            Value::Bool(b) => b.to_string(),
                            Value::Number(n) => n.to_string(),
                            _ => {
                                return Err(AndroidError::provisioning_value(
                                    format!("{}/{k}", keys::ADMIN_EXTRAS_BUNDLE),
                                    "NFC cannot carry arrays or nested bundles",
                                ));
                            }
                        };
                        inner.insert(k, text);
                    }
                    properties::store(inner.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                }
            };
            pairs.insert(key.to_owned(), text);
        }
        Ok(properties::store(
            pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        ))
    }

    /// Reads an NFC record's Properties text. Long keys and the short
    /// `a.a.e.*` aliases are accepted; values are parsed from strings the way
    /// ManagedProvisioning does (`true`/`false`, decimal integers).
    pub fn parse_nfc_properties(text: &str) -> Result<Self, AndroidError> {
        let pairs =
            properties::load(text).map_err(|reason| AndroidError::MalformedProvisioning {
                reason: format!("not Properties text: {reason}"),
            })?;
        let mut fields = RawFields::default();
        for (key, value) in pairs {
            let key = keys::SHORT_ALIASES
                .iter()
                .find(|(short, _)| *short == key)
                .map_or(key, |(_, long)| (*long).to_owned());
            let raw = if key == keys::ADMIN_EXTRAS_BUNDLE {
                let inner = properties::load(&value).map_err(|reason| {
                    AndroidError::provisioning_value(keys::ADMIN_EXTRAS_BUNDLE, reason)
                })?;
                RawValue::Extras(
                    inner
                        .into_iter()
                        .map(|(k, v)| (k, BundleValue::String(v)))
                        .collect(),
                )
            } else {
                RawValue::Json(BundleValue::String(value))
            };
            fields.values.insert(key, raw);
        }
        fields.into_payload(Typing::Nfc)
    }
}
