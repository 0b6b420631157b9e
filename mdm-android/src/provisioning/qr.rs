//! The QR code's form: a JSON object with ManagedProvisioning's JSON types
//! (strings, booleans, an int for the minimum version code, an object for
//! the admin extras).

use serde_json::{Map, Value};

use super::decode::{RawFields, RawValue, Typing};
use super::payload::Entry;
use super::{BundleValue, ProvisioningPayload, keys};
use crate::AndroidError;
use crate::restrictions::KeyPath;

impl ProvisioningPayload {
    /// The QR code's JSON text (keys sorted, compact).
    pub fn to_qr_json(&self) -> Result<String, AndroidError> {
        let map = self.to_json_map()?;
        serde_json::to_string(&Value::Object(map)).map_err(|e| {
            AndroidError::MalformedProvisioning {
                reason: e.to_string(),
            }
        })
    }

    /// The same JSON, indented (for documentation and snapshots).
    pub fn to_qr_json_pretty(&self) -> Result<String, AndroidError> {
        let map = self.to_json_map()?;
        serde_json::to_string_pretty(&Value::Object(map)).map_err(|e| {
            AndroidError::MalformedProvisioning {
                reason: e.to_string(),
            }
        })
    }

    fn to_json_map(&self) -> Result<Map<String, Value>, AndroidError> {
        self.validate()?;
        let mut map: Map<String, Value> = self
            .other
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect();
        for (key, value) in self.typed_entries() {
            let json = match value {
                Entry::Str(s) => Value::String(s),
                Entry::Bool(b) => Value::Bool(b),
                Entry::Int(i) => Value::from(i),
                Entry::Extras => Value::Object(self.admin_extras.to_json()),
            };
            map.insert(key.to_owned(), json);
        }
        Ok(map)
    }

    /// Reads a QR code's JSON. Checks every key we model for its JSON type
    /// and value; keeps unknown keys in [`Self::other`].
    pub fn parse_qr_json(text: &str) -> Result<Self, AndroidError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| AndroidError::MalformedProvisioning {
                reason: format!("not JSON: {e}"),
            })?;
        let Value::Object(object) = value else {
            return Err(AndroidError::MalformedProvisioning {
                reason: "the QR payload is not a JSON object".into(),
            });
        };
        let mut fields = RawFields::default();
        for (key, value) in object {
            let raw = match (key.as_str(), value) {
                (keys::ADMIN_EXTRAS_BUNDLE, Value::Object(map)) => RawValue::Extras(
                    map.iter()
                        .map(|(k, v)| {
                            Ok((
                                k.clone(),
                                BundleValue::from_json(
                                    &KeyPath::Root.key(keys::ADMIN_EXTRAS_BUNDLE).key(k),
                                    v,
                                )?,
                            ))
                        })
                        .collect::<Result<_, AndroidError>>()?,
                ),
                (keys::ADMIN_EXTRAS_BUNDLE, _) => {
                    return Err(AndroidError::provisioning_value(
                        key,
                        "expected a JSON object",
                    ));
                }
                (_, value) => {
                    RawValue::Json(BundleValue::from_json(&KeyPath::Root.key(&key), &value)?)
                }
            };
            fields.values.insert(key, raw);
        }
        fields.into_payload(Typing::Json)
    }
}
