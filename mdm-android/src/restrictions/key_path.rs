//! Key paths (`parent/child`, `items[2]/key`) for errors, written out only
//! when an error names one.

use std::fmt;

/// A key path (`parent/child`, `items[2]/key`), kept as a chain of borrowed
/// segments on the stack and written out only when an error names it.
/// (Joining every path eagerly cost depth × key length per value: quadratic
/// for deep schemas with long keys.)
#[derive(Clone, Copy)]
pub(crate) enum KeyPath<'a> {
    /// The top level (an empty path).
    Root,
    /// `parent/key` (or `key` at the top).
    Key(&'a KeyPath<'a>, &'a str),
    /// `parent[index]`.
    Index(&'a KeyPath<'a>, usize),
}

impl<'a> KeyPath<'a> {
    /// The path of `key` under this one.
    pub(crate) fn key(&'a self, key: &'a str) -> Self {
        Self::Key(self, key)
    }

    /// The path of item `index` of this one.
    pub(crate) fn index(&'a self, index: usize) -> Self {
        Self::Index(self, index)
    }
}

impl fmt::Display for KeyPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Root => Ok(()),
            Self::Key(KeyPath::Root, key) => f.write_str(key),
            Self::Key(parent, key) => write!(f, "{parent}/{key}"),
            Self::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}
