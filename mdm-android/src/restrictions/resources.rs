//! Value resources (`res/values/*.xml`: `string`, `bool`, `integer`,
//! `string-array`) as a restrictions schema references them, with aapt's
//! escaping rules.

use std::collections::BTreeMap;

use super::ResourceText;
use super::schema::truncate;
use crate::AndroidError;
use crate::android_xml::{Node, XmlReader, XmlWriter};

/// One value in `res/values/*.xml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceValue {
    /// `<string>`.
    String(String),
    /// `<bool>`.
    Bool(bool),
    /// `<integer>`.
    Integer(i32),
    /// `<string-array>` (items already resolved when they were `@string/…`).
    StringArray(Vec<String>),
}

/// Value resources (`<resources>` with `string`, `bool`, `integer`,
/// `string-array`), as a restrictions schema references them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resources {
    values: BTreeMap<(String, String), ResourceValue>,
}

impl Resources {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a string.
    pub fn insert_string(&mut self, name: &str, value: &str) {
        self.values.insert(
            ("string".into(), name.into()),
            ResourceValue::String(value.into()),
        );
    }

    /// Adds a string array.
    pub fn insert_string_array(&mut self, name: &str, items: &[&str]) {
        self.values.insert(
            ("array".into(), name.into()),
            ResourceValue::StringArray(items.iter().map(|s| (*s).to_owned()).collect()),
        );
    }

    /// A string array by name.
    pub fn string_array(&self, name: &str) -> Option<Vec<&str>> {
        self.array(name)
            .map(|items| items.iter().map(String::as_str).collect())
    }

    /// A string array by name, as stored.
    pub(super) fn array(&self, name: &str) -> Option<&[String]> {
        match self.get("array", name) {
            Some(ResourceValue::StringArray(items)) => Some(items),
            _ => None,
        }
    }

    /// Looks a reference up: `kind` is `string`, `bool`, `integer` or `array`.
    pub fn get(&self, kind: &str, name: &str) -> Option<&ResourceValue> {
        self.values.get(&(kind.to_owned(), name.to_owned()))
    }

    /// Number of resources.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Writes `res/values/restriction_values.xml`.
    pub fn to_xml(&self) -> Result<String, AndroidError> {
        let mut writer = XmlWriter::new();
        writer.open("resources", &[]);
        for ((_, name), value) in &self.values {
            match value {
                ResourceValue::String(text) => {
                    writer.text_element("string", &[("name", name)], &escape_resource_string(text));
                }
                ResourceValue::Bool(b) => {
                    writer.text_element("bool", &[("name", name)], &b.to_string());
                }
                ResourceValue::Integer(i) => {
                    writer.text_element("integer", &[("name", name)], &i.to_string());
                }
                ResourceValue::StringArray(items) => {
                    writer.open("string-array", &[("name", name)]);
                    for item in items {
                        writer.text_element("item", &[], &escape_resource_string(item));
                    }
                    writer.close("string-array");
                }
            }
        }
        writer.close("resources");
        writer.finish()
    }

    /// Reads a `<resources>` document. Other resource types (`color`,
    /// `dimen`, `plurals` …) are skipped. `@string/…` items of a string array
    /// are resolved against strings of the same document.
    pub fn parse_xml(text: &str) -> Result<Self, AndroidError> {
        let mut reader = XmlReader::new(text, "resources");
        let root = reader.root_element()?;
        if root.name != "resources" {
            return Err(reader.error(format!(
                "the root element is <{}>, not <resources>",
                root.name
            )));
        }
        let mut resources = Self::new();
        let mut pending_arrays: Vec<(String, Vec<String>)> = Vec::new();
        if !root.empty {
            loop {
                match reader.next_node()? {
                    Node::Open(element) => {
                        let known = matches!(
                            element.name.as_str(),
                            "string" | "bool" | "integer" | "string-array"
                        );
                        if !known {
                            reader.skip_element(&element)?;
                            continue;
                        }
                        let name = element.plain("name").map(str::to_owned).ok_or_else(|| {
                            reader.error(format!("<{}> lacks a name", element.name))
                        })?;
                        match element.name.as_str() {
                            "string" | "bool" | "integer" => {
                                let text = if element.empty {
                                    String::new()
                                } else {
                                    reader.text_until_close(&element.name)?
                                };
                                let value = match element.name.as_str() {
                                    "string" => {
                                        ResourceValue::String(unescape_resource_string(&text))
                                    }
                                    "bool" => ResourceValue::Bool(match text.trim() {
                                        "true" => true,
                                        "false" => false,
                                        other => {
                                            return Err(
                                                reader.error(format!("bool {name} is {other:?}"))
                                            );
                                        }
                                    }),
                                    _ => ResourceValue::Integer(text.trim().parse().map_err(
                                        |_| {
                                            reader.error(format!(
                                                "integer {name} is {:?}",
                                                text.trim()
                                            ))
                                        },
                                    )?),
                                };
                                let kind = element.name.clone();
                                resources.values.insert((kind, name), value);
                            }
                            "string-array" => {
                                let mut items = Vec::new();
                                if !element.empty {
                                    loop {
                                        match reader.next_node()? {
                                            Node::Open(item) if item.name == "item" => {
                                                let text = if item.empty {
                                                    String::new()
                                                } else {
                                                    reader.text_until_close("item")?
                                                };
                                                items.push(unescape_resource_string(&text));
                                            }
                                            Node::Close(close) if close == "string-array" => break,
                                            _ => {
                                                return Err(reader.error(format!(
                                                    "unexpected content in string-array {name}"
                                                )));
                                            }
                                        }
                                    }
                                }
                                pending_arrays.push((name, items));
                            }
                            _ => reader.skip_element(&element)?,
                        }
                    }
                    Node::Close(name) if name == "resources" => break,
                    Node::Close(name) => return Err(reader.error(format!("unexpected </{name}>"))),
                    Node::Text(text) => {
                        return Err(reader.error(format!("unexpected text {:?}", truncate(&text))));
                    }
                    Node::End => return Err(reader.error("<resources> is not closed")),
                }
            }
        }
        match reader.next_node()? {
            Node::End => {}
            _ => return Err(reader.error("content after the root element")),
        }
        for (name, items) in pending_arrays {
            let resolved = items
                .into_iter()
                .map(|item| match ResourceText::parse(&item) {
                    ResourceText::Reference { kind, name: target } if kind == "string" => {
                        match resources.get("string", &target) {
                            Some(ResourceValue::String(s)) => Ok(s.clone()),
                            _ => Err(AndroidError::MalformedXml {
                                document: "resources",
                                position: 0,
                                reason: format!(
                                    "string-array {name} refers to missing @string/{target}"
                                ),
                            }),
                        }
                    }
                    _ => Ok(item),
                })
                .collect::<Result<Vec<_>, _>>()?;
            resources
                .values
                .insert(("array".into(), name), ResourceValue::StringArray(resolved));
        }
        Ok(resources)
    }
}

/// Android resource strings treat `'`, `"`, `\` and a leading `@`/`?` specially.
fn escape_resource_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (index, c) in text.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '@' | '?' if index == 0 => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// The inverse of [`escape_resource_string`], plus aapt's whitespace rules:
/// outside double quotes, runs of whitespace collapse to one space and the
/// ends are trimmed.
fn unescape_resource_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.trim().chars();
    let mut quoted = false;
    let mut last_space = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                last_space = false;
                match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(other) => out.push(other),
                    None => {}
                }
            }
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !last_space {
                    out.push(' ');
                }
                last_space = true;
            }
            c => {
                last_space = false;
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::android_xml::python_etree_root;

    #[test]
    fn resource_strings_round_trip() {
        let mut resources = Resources::new();
        resources.insert_string("s", "@not a ref 'quoted' \"double\" back\\slash\nnew");
        resources.insert_string_array("a", &["x & y", "<z>"]);
        let xml = resources.to_xml().unwrap();
        assert_eq!(Resources::parse_xml(&xml).unwrap(), resources);
        if let Some(out) = python_etree_root(&xml) {
            assert!(out.starts_with("resources\n"), "{out}");
        }
    }
}
