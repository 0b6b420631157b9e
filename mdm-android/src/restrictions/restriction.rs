//! One `<restriction>` element and the structural rules of a level: unique
//! keys, a `bundle_array` of exactly one bundle, no default on bundles,
//! entries exactly on choice and multi-select, literal defaults that fit.

use std::collections::HashSet;

use super::{KeyPath, ResourceText, RestrictionType};
use crate::AndroidError;

/// One `<restriction>` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restriction {
    /// `android:key`: the key in the delivered bundle. Unique among siblings.
    pub key: String,
    /// `android:restrictionType`.
    pub kind: RestrictionType,
    /// `android:title`.
    pub title: Option<ResourceText>,
    /// `android:description`.
    pub description: Option<ResourceText>,
    /// `android:defaultValue` (not on bundles).
    pub default_value: Option<ResourceText>,
    /// `android:entries` (choice and multi-select).
    pub entries: Option<ResourceText>,
    /// `android:entryValues` (choice and multi-select).
    pub entry_values: Option<ResourceText>,
    /// Nested restrictions (bundle: its fields; bundle_array: exactly one bundle).
    pub children: Vec<Restriction>,
}

impl Restriction {
    /// A restriction of `kind` with a literal title and nothing else.
    pub fn new(key: &str, kind: RestrictionType, title: &str) -> Self {
        Self {
            key: key.into(),
            kind,
            title: Some(ResourceText::literal(title)),
            description: None,
            default_value: None,
            entries: None,
            entry_values: None,
            children: Vec::new(),
        }
    }

    /// Sets a literal default value.
    pub fn with_default(mut self, value: &str) -> Self {
        self.default_value = Some(ResourceText::parse(value));
        self
    }

    /// Sets a literal description.
    pub fn with_description(mut self, text: &str) -> Self {
        self.description = Some(ResourceText::literal(text));
        self
    }

    /// Points `entries` and `entryValues` at two `array` resources.
    pub fn with_entries(mut self, entries: &str, entry_values: &str) -> Self {
        self.entries = Some(ResourceText::array(entries));
        self.entry_values = Some(ResourceText::array(entry_values));
        self
    }

    /// Sets the children.
    pub fn with_children(mut self, children: Vec<Restriction>) -> Self {
        self.children = children;
        self
    }

    pub(super) fn check(&self, path: &KeyPath<'_>) -> Result<(), AndroidError> {
        let invalid = |reason: &str| AndroidError::InvalidRestriction {
            key: path.to_string(),
            reason: reason.to_owned(),
        };
        if self.key.is_empty() {
            return Err(invalid("android:key is empty"));
        }
        if self.kind.is_container() && self.default_value.is_some() {
            return Err(invalid(
                "bundle and bundle_array take no android:defaultValue",
            ));
        }
        if self.kind.has_entries() && (self.entries.is_none() || self.entry_values.is_none()) {
            return Err(invalid(
                "choice and multi-select need android:entries and android:entryValues",
            ));
        }
        if !self.kind.has_entries() && (self.entries.is_some() || self.entry_values.is_some()) {
            return Err(invalid("only choice and multi-select take entries"));
        }
        match self.kind {
            RestrictionType::BundleArray => {
                let [only] = self.children.as_slice() else {
                    return Err(invalid(
                        "a bundle_array holds exactly one bundle restriction",
                    ));
                };
                if only.kind != RestrictionType::Bundle {
                    return Err(invalid("the child of a bundle_array must be a bundle"));
                }
            }
            RestrictionType::Bundle => {}
            _ if !self.children.is_empty() => {
                return Err(invalid(
                    "only bundle and bundle_array hold nested restrictions",
                ));
            }
            _ => {}
        }
        if let Some(ResourceText::Literal(default)) = &self.default_value {
            let ok = match self.kind {
                RestrictionType::Bool => matches!(default.as_str(), "true" | "false"),
                RestrictionType::Integer => default.trim().parse::<i32>().is_ok(),
                RestrictionType::MultiSelect => false,
                _ => true,
            };
            if !ok {
                return Err(invalid(&format!(
                    "default value {default:?} does not fit type {}",
                    self.kind
                )));
            }
        }
        check_siblings(&self.children, path)
    }
}

pub(super) fn check_siblings(
    children: &[Restriction],
    parent: &KeyPath<'_>,
) -> Result<(), AndroidError> {
    let mut seen = HashSet::with_capacity(children.len());
    for child in children {
        let path = parent.key(&child.key);
        if !seen.insert(child.key.as_str()) {
            return Err(AndroidError::InvalidRestriction {
                key: path.to_string(),
                reason: "the key appears twice at this level".into(),
            });
        }
        child.check(&path)?;
    }
    Ok(())
}
