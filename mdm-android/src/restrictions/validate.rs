//! Validation: a schema against the resources it names, and a values
//! bundle (AMAPI `managedConfiguration` JSON) against the schema, each
//! lookup indexed once.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::{KeyPath, ResourceText, ResourceValue, Resources, Restriction, RestrictionType};
use crate::AndroidError;

/// Longest string value Android delivers in a managed configuration.
pub const MAX_STRING_LEN: usize = 65_535;

/// `"x" is not one of ["a", "b"]`, naming at most 16 of a long list.
fn not_one_of(value: &str, allowed: &[String]) -> String {
    const SHOWN: usize = 16;
    match allowed.get(..SHOWN) {
        Some(shown) if allowed.len() > SHOWN => format!(
            "{value:?} is not one of {shown:?} and {} more",
            allowed.len() - SHOWN
        ),
        _ => format!("{value:?} is not one of {allowed:?}"),
    }
}

pub(super) fn check_resources_of(
    restrictions: &[Restriction],
    parent: &KeyPath<'_>,
    resources: &Resources,
) -> Result<(), AndroidError> {
    for restriction in restrictions {
        let path = parent.key(&restriction.key);
        let invalid = |reason: String| AndroidError::InvalidRestriction {
            key: path.to_string(),
            reason,
        };
        if restriction.kind.has_entries() {
            let values = entry_values(restriction, &path, resources)?;
            let labels = match &restriction.entries {
                Some(ResourceText::Reference { kind, name }) if kind == "array" => {
                    resources.array(name)
                }
                _ => None,
            }
            .ok_or_else(|| {
                invalid(format!(
                    "android:entries {} is not an @array the resources hold",
                    restriction
                        .entries
                        .as_ref()
                        .map_or_else(String::new, ToString::to_string)
                ))
            })?;
            if labels.len() != values.len() {
                return Err(invalid(format!(
                    "{} entries but {} entry values",
                    labels.len(),
                    values.len()
                )));
            }
            let defaults: &[String] = match (&restriction.default_value, restriction.kind) {
                (None, _) => &[],
                (Some(ResourceText::Literal(text)), RestrictionType::Choice) => {
                    std::slice::from_ref(text)
                }
                (Some(ResourceText::Reference { kind, name }), RestrictionType::Choice) => {
                    match resources.get(kind, name) {
                        Some(ResourceValue::String(text)) => std::slice::from_ref(text),
                        _ => {
                            return Err(invalid(format!(
                                "default @{kind}/{name} is not a string the resources hold"
                            )));
                        }
                    }
                }
                (Some(ResourceText::Reference { kind, name }), _) if kind == "array" => {
                    resources.array(name).ok_or_else(|| {
                        invalid(format!(
                            "default @array/{name} is missing from the resources"
                        ))
                    })?
                }
                (Some(other), _) => {
                    return Err(invalid(format!(
                        "a multi-select default must be an @array, not {other}"
                    )));
                }
            };
            // One pass over each list: a set of the values, then each default.
            let known: HashSet<&str> = values.iter().map(String::as_str).collect();
            if let Some(stray) = defaults.iter().find(|d| !known.contains(d.as_str())) {
                return Err(invalid(format!("default {}", not_one_of(stray, values))));
            }
        }
        check_resources_of(&restriction.children, &path, resources)?;
    }
    Ok(())
}

/// One validation of a values bundle: what it looks up more than once is
/// indexed once (a level's restrictions by key, a choice's entry values as
/// a set), so the cost is linear in the schema, the resources and the values
/// together — 40,000 values against 40,000 keys or entry values were
/// 1.6 billion comparisons, and a `bundle_array` repeated them per item.
pub(super) struct Validation<'r> {
    resources: &'r Resources,
    /// A level's restrictions by key, by the level's address and length.
    levels: HashMap<(usize, usize), HashMap<&'r str, &'r Restriction>>,
    /// The entry values a choice or multi-select names, by the restriction's
    /// address (found once per restriction, not per value).
    entry_lists: HashMap<usize, &'r [String]>,
    /// Each entry-values array as a set, by the array's address: restrictions
    /// sharing one array share one set.
    allowed: HashMap<(usize, usize), HashSet<&'r str>>,
}

impl<'r> Validation<'r> {
    /// A validation against `resources`, nothing indexed yet.
    pub(super) fn new(resources: &'r Resources) -> Self {
        Self {
            resources,
            levels: HashMap::new(),
            entry_lists: HashMap::new(),
            allowed: HashMap::new(),
        }
    }

    pub(super) fn bundle(
        &mut self,
        schema: &'r [Restriction],
        values: &serde_json::Map<String, Value>,
        parent: &KeyPath<'_>,
    ) -> Result<(), AndroidError> {
        let level = (schema.as_ptr() as usize, schema.len());
        for (key, value) in values {
            let path = parent.key(key);
            let restriction = self
                .levels
                .entry(level)
                .or_insert_with(|| schema.iter().rev().map(|r| (r.key.as_str(), r)).collect())
                .get(key.as_str())
                .copied()
                .ok_or_else(|| AndroidError::InvalidRestrictionValue {
                    key: path.to_string(),
                    reason: "no restriction with this key in the schema".into(),
                })?;
            self.value(restriction, value, &path)?;
        }
        Ok(())
    }

    /// Whether `text` is among the restriction's entry values; the error
    /// when it is not, or when the values cannot be found.
    fn check_choice(
        &mut self,
        restriction: &'r Restriction,
        text: &str,
        path: &KeyPath<'_>,
    ) -> Result<(), AndroidError> {
        let values = self.entry_values(restriction, path)?;
        let allowed = self
            .allowed
            .entry((values.as_ptr() as usize, values.len()))
            .or_insert_with(|| values.iter().map(String::as_str).collect());
        if allowed.contains(text) {
            return Ok(());
        }
        Err(AndroidError::InvalidRestrictionValue {
            key: path.to_string(),
            reason: not_one_of(text, values),
        })
    }

    /// [`entry_values`], looked up once per restriction.
    fn entry_values(
        &mut self,
        restriction: &'r Restriction,
        path: &KeyPath<'_>,
    ) -> Result<&'r [String], AndroidError> {
        let address = std::ptr::from_ref(restriction) as usize;
        if let Some(values) = self.entry_lists.get(&address) {
            return Ok(values);
        }
        let values = entry_values(restriction, path, self.resources)?;
        self.entry_lists.insert(address, values);
        Ok(values)
    }

    fn value(
        &mut self,
        restriction: &'r Restriction,
        value: &Value,
        path: &KeyPath<'_>,
    ) -> Result<(), AndroidError> {
        let invalid = |reason: String| AndroidError::InvalidRestrictionValue {
            key: path.to_string(),
            reason,
        };
        let expected = |what: &str| {
            invalid(format!(
                "{} expects {what}, got {}",
                restriction.kind,
                json_kind(value)
            ))
        };
        match restriction.kind {
            RestrictionType::Bool => {
                value.as_bool().ok_or_else(|| expected("a boolean"))?;
            }
            RestrictionType::String | RestrictionType::Hidden => {
                let text = value.as_str().ok_or_else(|| expected("a string"))?;
                if text.len() > MAX_STRING_LEN && text.chars().count() > MAX_STRING_LEN {
                    return Err(invalid(format!("longer than {MAX_STRING_LEN} characters")));
                }
            }
            RestrictionType::Integer => {
                let number = value.as_i64().ok_or_else(|| expected("an integer"))?;
                i32::try_from(number)
                    .map_err(|_| invalid(format!("{number} does not fit in 32 bits")))?;
            }
            RestrictionType::Choice => {
                let choice = value.as_str().ok_or_else(|| expected("a string"))?;
                self.check_choice(restriction, choice, path)?;
            }
            RestrictionType::MultiSelect => {
                let items = value
                    .as_array()
                    .ok_or_else(|| expected("an array of strings"))?;
                // The entry values must exist even for an empty selection.
                self.entry_values(restriction, path)?;
                for (index, item) in items.iter().enumerate() {
                    let text = item.as_str().ok_or_else(|| {
                        invalid(format!("item {index} is {}, not a string", json_kind(item)))
                    })?;
                    self.check_choice(restriction, text, path)?;
                }
            }
            RestrictionType::Bundle => {
                let map = value.as_object().ok_or_else(|| expected("an object"))?;
                self.bundle(&restriction.children, map, path)?;
            }
            RestrictionType::BundleArray => {
                let items = value
                    .as_array()
                    .ok_or_else(|| expected("an array of objects"))?;
                let item_schema = restriction
                    .children
                    .first()
                    .map(|b| b.children.as_slice())
                    .unwrap_or(&[]);
                for (index, item) in items.iter().enumerate() {
                    let item_path = path.index(index);
                    let map =
                        item.as_object()
                            .ok_or_else(|| AndroidError::InvalidRestrictionValue {
                                key: item_path.to_string(),
                                reason: format!(
                                    "bundle_array items are objects, got {}",
                                    json_kind(item)
                                ),
                            })?;
                    self.bundle(item_schema, map, &item_path)?;
                }
            }
        }
        Ok(())
    }
}

fn entry_values<'r>(
    restriction: &'r Restriction,
    path: &KeyPath<'_>,
    resources: &'r Resources,
) -> Result<&'r [String], AndroidError> {
    match &restriction.entry_values {
        Some(ResourceText::Reference { kind, name }) if kind == "array" => resources
            .array(name)
            .ok_or_else(|| AndroidError::InvalidRestriction {
                key: path.to_string(),
                reason: format!(
                    "android:entryValues names @array/{name}, which the resources lack"
                ),
            }),
        Some(other) => Err(AndroidError::InvalidRestriction {
            key: path.to_string(),
            reason: format!("android:entryValues must be an @array resource, not {other}"),
        }),
        None => Err(AndroidError::InvalidRestriction {
            key: path.to_string(),
            reason: "android:entryValues is missing".into(),
        }),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
