//! A `<restrictions>` document (`res/xml/app_restrictions.xml`): written
//! with quick-xml, parsed, and the entry point of its checks.

use serde_json::Value;

use super::restriction::check_siblings;
use super::validate::{Validation, check_resources_of};
use super::{KeyPath, ResourceText, Resources, Restriction, RestrictionType};
use crate::AndroidError;
use crate::android_xml::{ANDROID_NS, Node, XmlReader, XmlWriter};

/// A `<restrictions>` document: the managed-configuration schema of one app.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RestrictionSchema {
    /// Top-level restrictions, in document order.
    pub restrictions: Vec<Restriction>,
}

impl RestrictionSchema {
    /// Checks the structural rules: unique keys per level, a bundle_array
    /// holds exactly one bundle, no default on bundles, entries exactly on
    /// choice and multi-select, literal defaults fit their type.
    pub fn check(&self) -> Result<(), AndroidError> {
        check_siblings(&self.restrictions, &KeyPath::Root)
    }

    /// Writes `res/xml/app_restrictions.xml`.
    pub fn to_xml(&self) -> Result<String, AndroidError> {
        self.check()?;
        let mut writer = XmlWriter::new();
        writer.open("restrictions", &[("xmlns:android", ANDROID_NS)]);
        for restriction in &self.restrictions {
            write_restriction(&mut writer, restriction);
        }
        writer.close("restrictions");
        writer.finish()
    }

    /// Reads a restrictions document. Attributes are matched by namespace
    /// (any prefix bound to the Android namespace); unknown attributes are
    /// ignored as Android ignores them; unknown elements and stray text are
    /// errors. The structure is then [checked](Self::check).
    pub fn parse_xml(text: &str) -> Result<Self, AndroidError> {
        let mut reader = XmlReader::new(text, "restrictions");
        let root = reader.root_element()?;
        if root.name != "restrictions" {
            return Err(reader.error(format!(
                "the root element is <{}>, not <restrictions>",
                root.name
            )));
        }
        // A stack of open <restriction> elements; index 0 collects the top level.
        let mut stack: Vec<(Option<Restriction>, Vec<Restriction>)> = vec![(None, Vec::new())];
        if !root.empty {
            loop {
                match reader.next_node()? {
                    Node::Open(element) if element.name == "restriction" => {
                        let restriction = restriction_from(&reader, &element)?;
                        if element.empty {
                            if let Some((_, children)) = stack.last_mut() {
                                children.push(restriction);
                            }
                        } else {
                            stack.push((Some(restriction), Vec::new()));
                        }
                    }
                    Node::Open(element) => {
                        return Err(reader.error(format!("unexpected element <{}>", element.name)));
                    }
                    Node::Close(name) if name == "restriction" => {
                        let Some((Some(mut restriction), children)) = stack.pop() else {
                            return Err(reader.error("unbalanced </restriction>"));
                        };
                        restriction.children = children;
                        if let Some((_, siblings)) = stack.last_mut() {
                            siblings.push(restriction);
                        }
                    }
                    Node::Close(name) if name == "restrictions" && stack.len() == 1 => break,
                    Node::Close(name) => return Err(reader.error(format!("unexpected </{name}>"))),
                    Node::Text(text) => {
                        return Err(reader.error(format!("unexpected text {:?}", truncate(&text))));
                    }
                    Node::End => return Err(reader.error("<restrictions> is not closed")),
                }
            }
        }
        match reader.next_node()? {
            Node::End => {}
            _ => return Err(reader.error("content after the root element")),
        }
        let restrictions = stack.pop().map(|(_, top)| top).unwrap_or_default();
        let schema = Self { restrictions };
        schema.check()?;
        Ok(schema)
    }

    /// Checks the schema against the resources it references: every
    /// `@array/…` of `entries`/`entryValues` exists, both arrays of a
    /// restriction have the same length, and a choice's (or multi-select's)
    /// default is among its entry values. Errors name the key path.
    pub fn check_resources(&self, resources: &Resources) -> Result<(), AndroidError> {
        check_resources_of(&self.restrictions, &KeyPath::Root, resources)
    }

    /// Finds a top-level restriction by key.
    pub fn get(&self, key: &str) -> Option<&Restriction> {
        self.restrictions.iter().find(|r| r.key == key)
    }

    /// Checks a values bundle (AMAPI `managedConfiguration`: a JSON object
    /// keyed by restriction keys) against the schema. Unknown keys, wrong JSON
    /// types, integers outside 32 bits, strings over 65,535 characters, choices
    /// outside the entry values and malformed bundle arrays are errors naming
    /// the key path (`items[1]/key`). Missing keys are allowed: the app uses
    /// its defaults. Entry values given as `@array/…` references are looked up
    /// in `resources`.
    pub fn validate_values(
        &self,
        values: &Value,
        resources: &Resources,
    ) -> Result<(), AndroidError> {
        let Value::Object(map) = values else {
            return Err(AndroidError::InvalidRestrictionValue {
                key: String::new(),
                reason: "a managed configuration is a JSON object".into(),
            });
        };
        Validation::new(resources).bundle(&self.restrictions, map, &KeyPath::Root)
    }
}

pub(super) fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}

fn restriction_from(
    reader: &XmlReader<'_>,
    element: &crate::android_xml::Element,
) -> Result<Restriction, AndroidError> {
    let key = element
        .android("key")
        .ok_or_else(|| reader.error("a <restriction> lacks android:key"))?;
    let kind_text =
        element
            .android("restrictionType")
            .ok_or_else(|| AndroidError::InvalidRestriction {
                key: key.to_owned(),
                reason: "android:restrictionType is missing".into(),
            })?;
    let kind =
        RestrictionType::parse(kind_text).ok_or_else(|| AndroidError::InvalidRestriction {
            key: key.to_owned(),
            reason: format!("unknown android:restrictionType {kind_text:?}"),
        })?;
    let text = |name: &str| element.android(name).map(ResourceText::parse);
    Ok(Restriction {
        key: key.to_owned(),
        kind,
        title: text("title"),
        description: text("description"),
        default_value: text("defaultValue"),
        entries: text("entries"),
        entry_values: text("entryValues"),
        children: Vec::new(),
    })
}

fn write_restriction(writer: &mut XmlWriter, restriction: &Restriction) {
    let mut owned: Vec<(&str, String)> = vec![
        ("android:key", restriction.key.clone()),
        (
            "android:restrictionType",
            restriction.kind.as_str().to_owned(),
        ),
    ];
    for (name, value) in [
        ("android:title", &restriction.title),
        ("android:description", &restriction.description),
        ("android:defaultValue", &restriction.default_value),
        ("android:entries", &restriction.entries),
        ("android:entryValues", &restriction.entry_values),
    ] {
        if let Some(value) = value {
            owned.push((name, value.to_attribute()));
        }
    }
    let attributes: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    if restriction.children.is_empty() {
        writer.empty("restriction", &attributes);
    } else {
        writer.open("restriction", &attributes);
        for child in &restriction.children {
            write_restriction(writer, child);
        }
        writer.close("restriction");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::android_xml::{python_etree_root, vector};

    #[test]
    fn google_sample_parses_with_every_type() {
        let Some(text) = vector("enterprise_samples_app_restrictions.xml") else {
            return;
        };
        let schema = RestrictionSchema::parse_xml(&text).unwrap();
        let kinds: Vec<_> = schema
            .restrictions
            .iter()
            .map(|r| (r.key.as_str(), r.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                ("can_say_hello", RestrictionType::Bool),
                ("message", RestrictionType::String),
                ("number", RestrictionType::Integer),
                ("rank", RestrictionType::Choice),
                ("approvals", RestrictionType::MultiSelect),
                ("secret_code", RestrictionType::Hidden),
                ("items", RestrictionType::BundleArray),
            ]
        );
        let items = schema.get("items").unwrap();
        let item = &items.children[0];
        assert_eq!(item.kind, RestrictionType::Bundle);
        assert_eq!(
            item.children
                .iter()
                .map(|c| c.key.as_str())
                .collect::<Vec<_>>(),
            ["key", "value"]
        );
        assert_eq!(
            schema.get("rank").unwrap().entry_values,
            Some(ResourceText::array("entry_values_rank"))
        );
        // Write it back: our XML parses in xml.etree and reads back identical.
        let xml = schema.to_xml().unwrap();
        assert_eq!(RestrictionSchema::parse_xml(&xml).unwrap(), schema);
        if let Some(out) = python_etree_root(&xml) {
            assert!(out.starts_with("restrictions\n"), "{out}");
        }
    }
}
