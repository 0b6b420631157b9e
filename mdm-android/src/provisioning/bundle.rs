//! `PersistableBundle` values as provisioning JSON carries them.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::AndroidError;
use crate::restrictions::KeyPath;

/// A value of a `PersistableBundle` as it appears in provisioning JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum BundleValue {
    /// JSON `true`/`false`.
    Bool(bool),
    /// A JSON integer (int or long).
    Integer(i64),
    /// A JSON number with a fraction.
    Double(f64),
    /// A JSON string.
    String(String),
    /// A JSON array of strings.
    StringArray(Vec<String>),
    /// A nested JSON object.
    Bundle(BTreeMap<String, BundleValue>),
}

impl BundleValue {
    /// Reads a JSON value found at `key` (a path, written out only for an
    /// error: formatting every nested key's full path was quadratic).
    pub(super) fn from_json(key: &KeyPath<'_>, value: &Value) -> Result<Self, AndroidError> {
        Ok(match value {
            Value::Bool(b) => Self::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Self::Integer(i),
                None => Self::Double(n.as_f64().ok_or_else(|| {
                    AndroidError::provisioning_value(key.to_string(), "number out of range")
                })?),
            },
            Value::String(s) => Self::String(s.clone()),
            Value::Array(items) => Self::StringArray(
                items
                    .iter()
                    .map(|item| {
                        item.as_str().map(str::to_owned).ok_or_else(|| {
                            AndroidError::provisioning_value(
                                key.to_string(),
                                "only arrays of strings are supported",
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => Self::Bundle(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), Self::from_json(&key.key(k), v)?)))
                    .collect::<Result<_, AndroidError>>()?,
            ),
            Value::Null => {
                return Err(AndroidError::provisioning_value(
                    key.to_string(),
                    "null is not a bundle value",
                ));
            }
        })
    }

    pub(super) fn to_json(&self) -> Value {
        match self {
            Self::Bool(b) => Value::Bool(*b),
            Self::Integer(i) => Value::from(*i),
            Self::Double(d) => Value::from(*d),
            Self::String(s) => Value::String(s.clone()),
            Self::StringArray(items) => {
                Value::Array(items.iter().cloned().map(Value::String).collect())
            }
            Self::Bundle(map) => {
                Value::Object(map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }

    /// The NFC (all-strings) form, or `None` for values NFC cannot carry.
    pub(super) fn to_nfc_string(&self) -> Option<String> {
        match self {
            Self::Bool(b) => Some(b.to_string()),
            Self::Integer(i) => Some(i.to_string()),
            Self::Double(d) => Some(d.to_string()),
            Self::String(s) => Some(s.clone()),
            Self::StringArray(_) | Self::Bundle(_) => None,
        }
    }
}
