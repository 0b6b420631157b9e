//! An attribute's text: a literal or a resource reference (`@string/…`).

use std::fmt;

/// An attribute value: literal text or a resource reference (`@string/x`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceText {
    /// Literal text.
    Literal(String),
    /// A reference `@kind/name`.
    Reference {
        /// `string`, `bool`, `integer`, `array` …
        kind: String,
        /// The resource name.
        name: String,
    },
    /// `@null` (no value) or `@empty` (an empty value).
    Null {
        /// `true` for `@empty`.
        empty: bool,
    },
}

impl ResourceText {
    /// Reads an attribute value; `@kind/name` is a reference, `\@` escapes a literal `@`.
    pub fn parse(text: &str) -> Self {
        match text {
            "@null" => return Self::Null { empty: false },
            "@empty" => return Self::Null { empty: true },
            _ => {}
        }
        if let Some(reference) = text.strip_prefix('@')
            && let Some((kind, name)) = reference.split_once('/')
            && !kind.is_empty()
            && !name.is_empty()
        {
            let kind = kind.strip_prefix('+').unwrap_or(kind);
            return Self::Reference {
                kind: kind.to_owned(),
                name: name.to_owned(),
            };
        }
        Self::Literal(
            text.strip_prefix('\\')
                .filter(|t| t.starts_with(['@', '?']))
                .unwrap_or(text)
                .to_owned(),
        )
    }

    /// A reference to an `array` resource.
    pub fn array(name: &str) -> Self {
        Self::Reference {
            kind: "array".into(),
            name: name.into(),
        }
    }

    /// A literal.
    pub fn literal(text: &str) -> Self {
        Self::Literal(text.into())
    }

    pub(super) fn to_attribute(&self) -> String {
        match self {
            Self::Literal(text) if text.starts_with(['@', '?']) => format!("\\{text}"),
            Self::Literal(text) => text.clone(),
            Self::Reference { kind, name } => format!("@{kind}/{name}"),
            Self::Null { empty: false } => "@null".to_owned(),
            Self::Null { empty: true } => "@empty".to_owned(),
        }
    }
}

impl fmt::Display for ResourceText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_attribute())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_text_forms_round_trip() {
        for text in [
            "plain",
            "@string/x",
            "@android:string/ok",
            "\\@literal",
            "@null",
            "@empty",
            "?attr",
        ] {
            let parsed = ResourceText::parse(text);
            assert_eq!(
                ResourceText::parse(&parsed.to_attribute()),
                parsed,
                "{text}"
            );
        }
        assert_eq!(
            ResourceText::parse("\\@literal"),
            ResourceText::literal("@literal")
        );
        assert_eq!(
            ResourceText::parse("@null"),
            ResourceText::Null { empty: false }
        );
    }
}
