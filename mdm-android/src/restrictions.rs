//! Managed configurations: the `<restrictions>` schema an app declares
//! (`res/xml/app_restrictions.xml`), the string resources it points to, and
//! checking a values bundle (AMAPI `managedConfiguration` JSON) against it.
//!
//! Type names, nesting rules and the JSON mapping follow `RestrictionsManager`
//! and the AMAPI `ManagedProperty` documentation: `bool` → JSON boolean,
//! `string`/`hidden`/`choice` → string, `integer` → number, `multi-select` →
//! array of strings, `bundle` → object, `bundle_array` → array of objects.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use serde_json::Value;

use crate::AndroidError;
use crate::android_xml::{ANDROID_NS, Node, XmlReader, XmlWriter};

/// Longest string value Android delivers in a managed configuration.
pub const MAX_STRING_LEN: usize = 65_535;

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

    fn parse(text: &str) -> Option<Self> {
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

    fn has_entries(self) -> bool {
        matches!(self, Self::Choice | Self::MultiSelect)
    }

    fn is_container(self) -> bool {
        matches!(self, Self::Bundle | Self::BundleArray)
    }
}

impl fmt::Display for RestrictionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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

    fn to_attribute(&self) -> String {
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

    fn check(&self, path: &KeyPath<'_>) -> Result<(), AndroidError> {
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

fn check_siblings(children: &[Restriction], parent: &KeyPath<'_>) -> Result<(), AndroidError> {
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
        Validation {
            resources,
            levels: HashMap::new(),
            entry_lists: HashMap::new(),
            allowed: HashMap::new(),
        }
        .bundle(&self.restrictions, map, &KeyPath::Root)
    }
}

fn check_resources_of(
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

fn truncate(text: &str) -> String {
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

/// One validation of a values bundle: what it looks up more than once is
/// indexed once (a level's restrictions by key, a choice's entry values as
/// a set), so the cost is linear in the schema, the resources and the values
/// together — 40,000 values against 40,000 keys or entry values were
/// 1.6 billion comparisons, and a `bundle_array` repeated them per item.
struct Validation<'r> {
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
    fn bundle(
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
    fn array(&self, name: &str) -> Option<&[String]> {
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
    use proptest::prelude::*;
    use serde_json::json;

    const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors/android/");

    fn vector(name: &str) -> Option<String> {
        let text = std::fs::read_to_string(format!("{VECTORS}{name}")).ok();
        if text.is_none() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "shared vectors missing in CI"
            );
        }
        text
    }

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

    #[test]
    fn google_sample_values_validate() {
        let (Some(schema), Some(values)) = (
            vector("enterprise_samples_app_restrictions.xml"),
            vector("enterprise_samples_restriction_values.xml"),
        ) else {
            return;
        };
        let schema = RestrictionSchema::parse_xml(&schema).unwrap();
        let resources = Resources::parse_xml(&values).unwrap();
        assert_eq!(
            resources.string_array("entries_rank").unwrap(),
            ["Apprentice", "Intermediate", "Master"]
        );
        assert_eq!(
            resources.get("integer", "default_number"),
            Some(&ResourceValue::Integer(32_582_657))
        );
        assert_eq!(
            resources.string_array("default_approvals").unwrap(),
            Vec::<&str>::new()
        );
        let good = json!({
            "can_say_hello": true,
            "message": "hi",
            "number": 7,
            "rank": "master",
            "approvals": ["read", "execute"],
            "secret_code": "x",
            "items": [{"key": "a", "value": "b"}, {}],
        });
        schema.validate_values(&good, &resources).unwrap();
        schema.check_resources(&resources).unwrap();
        let rows = [
            (json!({"nope": 1}), "nope"),
            (json!({"can_say_hello": "yes"}), "can_say_hello"),
            (json!({"number": 1.5}), "number"),
            (json!({"number": 4_294_967_296_i64}), "32 bits"),
            (json!({"rank": "boss"}), "rank"),
            (json!({"approvals": ["read", "fly"]}), "fly"),
            (json!({"approvals": [1]}), "approvals"),
            (
                json!({"items": [{"key": "a"}, {"colour": "red"}]}),
                "items[1]/colour",
            ),
            (json!({"items": [{"key": 5}]}), "items[0]/key"),
            (json!({"items": {"key": "a"}}), "items"),
            (json!({"message": "x".repeat(MAX_STRING_LEN + 1)}), "65535"),
            (json!([1]), "JSON object"),
        ];
        for (values, needle) in rows {
            let error = schema
                .validate_values(&values, &resources)
                .unwrap_err()
                .to_string();
            assert!(error.contains(needle), "{values}: {error}");
        }
        // Without the resources, a choice cannot be checked and says why.
        let error = schema
            .validate_values(&json!({"rank": "master"}), &Resources::new())
            .unwrap_err()
            .to_string();
        assert!(error.contains("entry_values_rank"), "{error}");
    }

    #[test]
    fn schema_is_checked_against_its_resources() {
        let mut resources = Resources::new();
        resources.insert_string_array("labels", &["One", "Two"]);
        resources.insert_string_array("values", &["1", "2"]);
        resources.insert_string_array("short", &["1"]);
        let schema = |default: &str, values: &str| RestrictionSchema {
            restrictions: vec![
                Restriction::new("b", RestrictionType::Bundle, "B").with_children(vec![
                    Restriction::new("c", RestrictionType::Choice, "C")
                        .with_entries("labels", values)
                        .with_default(default),
                ]),
            ],
        };
        schema("2", "values").check_resources(&resources).unwrap();
        let rows = [
            (schema("3", "values"), "\"3\""),
            (schema("1", "short"), "2 entries but 1"),
            (schema("1", "missing"), "@array/missing"),
            (schema("@string/none", "values"), "@string/none"),
        ];
        for (schema, needle) in rows {
            let error = schema.check_resources(&resources).unwrap_err().to_string();
            assert!(
                error.contains("\"b/c\"") && error.contains(needle),
                "{error}"
            );
        }
    }

    #[test]
    fn structural_rules_name_the_key() {
        let ns = r#"xmlns:android="http://schemas.android.com/apk/res/android""#;
        let rows = [
            (
                format!(
                    r#"<restrictions {ns}><restriction android:restrictionType="bool"/></restrictions>"#
                ),
                "android:key",
            ),
            (
                format!(r#"<restrictions {ns}><restriction android:key="a"/></restrictions>"#),
                "restrictionType",
            ),
            (
                format!(
                    r#"<restrictions {ns}><restriction android:key="a" android:restrictionType="float"/></restrictions>"#
                ),
                "float",
            ),
            (
                format!(
                    r#"<restrictions {ns}><restriction android:key="a" android:restrictionType="bool"/><restriction android:key="a" android:restrictionType="bool"/></restrictions>"#
                ),
                "twice",
            ),
            (
                format!(
                    r#"<restrictions {ns}><restriction android:key="b" android:restrictionType="bundle_array"/></restrictions>"#
                ),
                "exactly one",
            ),
            (
                format!(
                    r#"<restrictions {ns}><restriction android:key="b" android:restrictionType="bundle_array"><restriction android:key="s" android:restrictionType="string"/></restriction></restrictions>"#
                ),
                "must be a bundle",
            ),
            (
                format!(
                    r#"<restrictions {ns}><restriction android:key="b" android:restrictionType="bundle" android:defaultValue="x"/></restrictions>"#
                ),
                "defaultValue",
            ),
            (
                format!(
                    r#"<restrictions {ns}><restriction android:key="c" android:restrictionType="choice"/></restrictions>"#
                ),
                "entries",
            ),
            (
                format!(
                    r#"<restrictions {ns}><restriction android:key="i" android:restrictionType="integer" android:defaultValue="ten"/></restrictions>"#
                ),
                "\"ten\"",
            ),
            (
                format!(
                    r#"<restrictions {ns}><restriction android:key="s" android:restrictionType="string"><restriction android:key="t" android:restrictionType="string"/></restriction></restrictions>"#
                ),
                "nested",
            ),
            (
                format!(r#"<restrictions {ns}><bogus/></restrictions>"#),
                "bogus",
            ),
            (format!(r#"<restrictions {ns}>text</restrictions>"#), "text"),
            (
                format!(
                    r#"<restrictions {ns}><restriction android:key="a" android:restrictionType="bool">"#
                ),
                "ends inside",
            ),
            (r#"<resources/>"#.to_owned(), "not <restrictions>"),
            (
                r#"<restrictions><x:restriction/></restrictions>"#.to_owned(),
                "restrictions",
            ),
            (format!(r#"<restrictions {ns}/><extra/>"#), "after the root"),
        ];
        for (xml, needle) in rows {
            let error = RestrictionSchema::parse_xml(&xml).unwrap_err().to_string();
            assert!(error.contains(needle), "{xml}: {error}");
        }
        // Nested keys are named with their path.
        let xml = format!(
            r#"<restrictions {ns}><restriction android:key="p" android:restrictionType="bundle"><restriction android:key="q" android:restrictionType="bool" android:defaultValue="yes"/></restriction></restrictions>"#
        );
        let error = RestrictionSchema::parse_xml(&xml).unwrap_err().to_string();
        assert!(error.contains("\"p/q\""), "{error}");
    }

    #[test]
    fn any_prefix_bound_to_the_android_namespace_works() {
        let xml = r#"<restrictions xmlns:a="http://schemas.android.com/apk/res/android"><restriction a:key="k" a:restrictionType="string" a:title="T &amp; U"/></restrictions>"#;
        let schema = RestrictionSchema::parse_xml(xml).unwrap();
        assert_eq!(
            schema.restrictions[0].title,
            Some(ResourceText::literal("T & U"))
        );
        // An android-looking prefix bound elsewhere is not android:.
        let xml = r#"<restrictions xmlns:android="urn:other"><restriction android:key="k" android:restrictionType="string"/></restrictions>"#;
        assert!(RestrictionSchema::parse_xml(xml).is_err());
    }

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

    #[test]
    fn deep_nesting_is_refused_not_recursed() {
        let ns = r#"xmlns:android="http://schemas.android.com/apk/res/android""#;
        let open = r#"<restriction android:key="b" android:restrictionType="bundle">"#.repeat(200);
        let close = "</restriction>".repeat(200);
        let xml = format!("<restrictions {ns}>{open}{close}</restrictions>");
        let error = RestrictionSchema::parse_xml(&xml).unwrap_err().to_string();
        assert!(error.contains("deeper"), "{error}");
    }

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

    proptest! {
        #[test]
        fn parser_never_panics(text in "\\PC{0,400}") {
            let _ = RestrictionSchema::parse_xml(&text);
            let _ = Resources::parse_xml(&text);
        }

        #[test]
        fn parser_never_panics_on_xml_like_input(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("<restrictions xmlns:android=\"http://schemas.android.com/apk/res/android\">".to_owned()),
                    Just("</restrictions>".to_owned()),
                    Just("<restriction android:key=\"k\" android:restrictionType=\"bundle\">".to_owned()),
                    Just("<restriction android:key=\"a\" android:restrictionType=\"bundle_array\">".to_owned()),
                    Just("<restriction android:key=\"s\" android:restrictionType=\"string\"/>".to_owned()),
                    Just("</restriction>".to_owned()),
                    Just("<!-- c -->".to_owned()),
                    Just("&amp;".to_owned()),
                    "\\PC{0,8}",
                ],
                0..20,
            )
        ) {
            let text = parts.concat();
            if let Ok(schema) = RestrictionSchema::parse_xml(&text) {
                let xml = schema.to_xml().unwrap();
                prop_assert_eq!(RestrictionSchema::parse_xml(&xml).unwrap(), schema);
            }
        }

        #[test]
        fn validate_never_panics(values in proptest::collection::btree_map(
            prop_oneof![Just("items".to_owned()), Just("rank".to_owned()), Just("number".to_owned()), "[a-z]{1,5}"],
            prop_oneof![
                Just(json!(null)), Just(json!([{"key": 1}])), Just(json!({"x": []})),
                any::<i64>().prop_map(|i| json!(i)), "\\PC{0,5}".prop_map(|s| json!(s)),
            ],
            0..4,
        )) {
            let schema = RestrictionSchema {
                restrictions: vec![
                    Restriction::new("number", RestrictionType::Integer, "N"),
                    Restriction::new("rank", RestrictionType::Choice, "R").with_entries("e", "v"),
                    Restriction::new("items", RestrictionType::BundleArray, "I").with_children(vec![
                        Restriction::new("item", RestrictionType::Bundle, "I").with_children(vec![
                            Restriction::new("key", RestrictionType::String, "K"),
                        ]),
                    ]),
                ],
            };
            let value = Value::Object(values.into_iter().collect());
            let _ = schema.validate_values(&value, &Resources::new());
        }
    }
}
