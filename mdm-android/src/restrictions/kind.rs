//! `android:restrictionType`: the value types a managed configuration knows.

use std::fmt;

/// `android:restrictionType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RestrictionType {
    /// `bool`.
    Bool,
    /// `string`.
    String,
    /// `integer` (32-bit).
    Integer,
    /// `choice`: one of the entry values.
    Choice,
    /// `multi-select`: several of the entry values.
    MultiSelect,
    /// `hidden`: a string the administrator does not see.
    Hidden,
    /// `bundle`: nested restrictions.
    Bundle,
    /// `bundle_array`: a list of bundles shaped like its one child.
    BundleArray,
}

impl RestrictionType {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bool => "bool",
            Self::String => "string",
            Self::Integer => "integer",
            Self::Choice => "choice",
            Self::MultiSelect => "multi-select",
            Self::Hidden => "hidden",
            Self::Bundle => "bundle",
            Self::BundleArray => "bundle_array",
        }
    }

    pub(super) fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "bool" => Self::Bool,
            "string" => Self::String,
            "integer" => Self::Integer,
            "choice" => Self::Choice,
            "multi-select" => Self::MultiSelect,
            "hidden" => Self::Hidden,
            "bundle" => Self::Bundle,
            "bundle_array" => Self::BundleArray,
            _ => return None,
        })
    }

    pub(super) fn has_entries(self) -> bool {
        matches!(self, Self::Choice | Self::MultiSelect)
    }

    pub(super) fn is_container(self) -> bool {
        matches!(self, Self::Bundle | Self::BundleArray)
    }
}

impl fmt::Display for RestrictionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
