//! Android component names (`package/class`) and the package-name rule.

use std::fmt;

use super::keys;
use crate::AndroidError;

/// An Android component name, `package/class`, as
/// `ComponentName.unflattenFromString` reads it (a class starting with `.` is
/// relative to the package). Stored with the full class name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ComponentName {
    package: String,
    class: String,
}

impl ComponentName {
    /// Builds one from a package name and a class name (full or `.Relative`).
    pub fn new(package: &str, class: &str) -> Result<Self, AndroidError> {
        let input = format!("{package}/{class}");
        let invalid = |reason: &str| {
            AndroidError::provisioning_value(
                keys::ADMIN_COMPONENT_NAME,
                format!("{input:?}: {reason}"),
            )
        };
        if !is_package_name(package) {
            return Err(invalid(
                "the package is not a valid Android package name (dot-separated Java identifiers, at least two)",
            ));
        }
        let class = match class.strip_prefix('.') {
            Some(relative) => format!("{package}.{relative}"),
            None => class.to_owned(),
        };
        if !is_class_name(&class) {
            return Err(invalid("the class is not a valid Java class name"));
        }
        Ok(Self {
            package: package.to_owned(),
            class,
        })
    }

    /// Reads the flattened form `package/class` or `package/.Class`.
    pub fn parse(flattened: &str) -> Result<Self, AndroidError> {
        let (package, class) = flattened.split_once('/').ok_or_else(|| {
            AndroidError::provisioning_value(
                keys::ADMIN_COMPONENT_NAME,
                format!("{flattened:?}: expected package/class"),
            )
        })?;
        Self::new(package, class)
    }

    /// The package name.
    pub fn package(&self) -> &str {
        &self.package
    }

    /// The full class name.
    pub fn class(&self) -> &str {
        &self.class
    }
}

impl fmt::Display for ComponentName {
    /// `ComponentName.flattenToString()`: `package/full.Class`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.package, self.class)
    }
}

fn is_java_identifier(segment: &str) -> bool {
    let mut chars = segment.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// An Android package name: at least two dot-separated segments, each a
/// letter followed by letters, digits or `_` (what `PackageParser` enforces).
pub(crate) fn is_package_name(name: &str) -> bool {
    let mut count = 0;
    for segment in name.split('.') {
        let mut chars = segment.chars();
        if !matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
            || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return false;
        }
        count += 1;
    }
    count >= 2
}

fn is_class_name(name: &str) -> bool {
    !name.is_empty() && name.split('.').all(is_java_identifier)
}
