//! The manifest's XML: written with the android namespace, read into a
//! small element tree (depth bounded by the reader), then into the model.

use super::{
    AndroidManifest, Application, Component, ComponentKind, IntentFilter, MetaData, UsesPermission,
    UsesSdk,
};
use crate::AndroidError;
use crate::android_xml::{ANDROID_NS, Element, Node, XmlReader, XmlWriter};

impl AndroidManifest {
    /// Writes the manifest.
    pub fn to_xml(&self) -> Result<String, AndroidError> {
        self.check()?;
        let mut w = XmlWriter::new();
        let version_code = self.version_code.to_string();
        let mut root: Vec<(&str, &str)> = vec![("xmlns:android", ANDROID_NS)];
        if let Some(package) = &self.package {
            root.push(("package", package));
        }
        root.push(("android:versionCode", &version_code));
        root.push(("android:versionName", &self.version_name));
        w.open("manifest", &root);
        if let Some(sdk) = self.uses_sdk {
            let min = sdk.min.to_string();
            let target = sdk.target.map(|t| t.to_string());
            let max = sdk.max.map(|m| m.to_string());
            let mut attributes = vec![("android:minSdkVersion", min.as_str())];
            if let Some(target) = &target {
                attributes.push(("android:targetSdkVersion", target));
            }
            if let Some(max) = &max {
                attributes.push(("android:maxSdkVersion", max));
            }
            w.empty("uses-sdk", &attributes);
        }
        for permission in &self.permissions {
            let max = permission.max_sdk.map(|m| m.to_string());
            let mut attributes = vec![("android:name", permission.name.as_str())];
            if let Some(max) = &max {
                attributes.push(("android:maxSdkVersion", max));
            }
            w.empty("uses-permission", &attributes);
        }
        let app = &self.application;
        let mut attributes = Vec::new();
        if let Some(label) = &app.label {
            attributes.push(("android:label", label.as_str()));
        }
        if let Some(icon) = &app.icon {
            attributes.push(("android:icon", icon.as_str()));
        }
        w.open("application", &attributes);
        write_meta_data(&mut w, &app.meta_data);
        for component in &app.components {
            let exported = component.exported.map(|e| e.to_string());
            let mut attributes = vec![("android:name", component.name.as_str())];
            if let Some(exported) = &exported {
                attributes.push(("android:exported", exported));
            }
            if let Some(permission) = &component.permission {
                attributes.push(("android:permission", permission));
            }
            if let Some(kind) = &component.foreground_service_type {
                attributes.push(("android:foregroundServiceType", kind));
            }
            let tag = component.kind.tag();
            if component.intent_filters.is_empty() && component.meta_data.is_empty() {
                w.empty(tag, &attributes);
                continue;
            }
            w.open(tag, &attributes);
            write_meta_data(&mut w, &component.meta_data);
            for filter in &component.intent_filters {
                w.open("intent-filter", &[]);
                for action in &filter.actions {
                    w.empty("action", &[("android:name", action)]);
                }
                for category in &filter.categories {
                    w.empty("category", &[("android:name", category)]);
                }
                w.close("intent-filter");
            }
            w.close(tag);
        }
        w.close("application");
        w.close("manifest");
        w.finish()
    }

    /// Reads a source manifest. Elements we do not model (`uses-feature`,
    /// `queries`, `<data>` …) are skipped; the values we do model are checked.
    pub fn parse_xml(text: &str) -> Result<Self, AndroidError> {
        let mut reader = XmlReader::new(text, "AndroidManifest.xml");
        let root = read_tree(&mut reader)?;
        if root.element.name != "manifest" {
            return Err(reader.error(format!(
                "the root element is <{}>, not <manifest>",
                root.element.name
            )));
        }
        let invalid = |reason: String| AndroidError::InvalidManifest { reason };
        let number = |element: &Element, attribute: &str| -> Result<Option<u32>, AndroidError> {
            element
                .android(attribute)
                .map(|text| {
                    text.trim().parse::<u32>().map_err(|_| {
                        invalid(format!(
                            "android:{attribute} {text:?} is not a non-negative integer"
                        ))
                    })
                })
                .transpose()
        };
        let manifest_element = &root.element;
        let version_code = number(manifest_element, "versionCode")?
            .ok_or_else(|| invalid("android:versionCode is missing".into()))?;
        let version_name = manifest_element
            .android("versionName")
            .ok_or_else(|| invalid("android:versionName is missing".into()))?
            .to_owned();
        let mut manifest = Self {
            package: manifest_element.plain("package").map(str::to_owned),
            version_code,
            version_name,
            uses_sdk: None,
            permissions: Vec::new(),
            application: Application::default(),
        };
        let mut applications = 0;
        for child in &root.children {
            let element = &child.element;
            match element.name.as_str() {
                "uses-sdk" => {
                    manifest.uses_sdk = Some(UsesSdk {
                        min: number(element, "minSdkVersion")?.unwrap_or(1),
                        target: number(element, "targetSdkVersion")?,
                        max: number(element, "maxSdkVersion")?,
                    });
                }
                "uses-permission" => manifest.permissions.push(UsesPermission {
                    name: required_name(element)?,
                    max_sdk: number(element, "maxSdkVersion")?,
                }),
                "application" => {
                    applications += 1;
                    manifest.application = Application {
                        label: element.android("label").map(str::to_owned),
                        icon: element.android("icon").map(str::to_owned),
                        meta_data: Vec::new(),
                        components: Vec::new(),
                    };
                    for grandchild in &child.children {
                        let tag = grandchild.element.name.as_str();
                        if tag == "meta-data" {
                            manifest
                                .application
                                .meta_data
                                .push(meta_data(&grandchild.element)?);
                        } else if let Some(kind) = ComponentKind::from_tag(tag) {
                            manifest
                                .application
                                .components
                                .push(component(kind, grandchild)?);
                        }
                    }
                }
                _ => {}
            }
        }
        if applications != 1 {
            return Err(invalid(format!(
                "expected exactly one <application>, found {applications}"
            )));
        }
        manifest.check()?;
        Ok(manifest)
    }
}

fn write_meta_data(w: &mut XmlWriter, meta_data: &[MetaData]) {
    for meta in meta_data {
        match meta {
            MetaData::Value { name, value } => {
                w.empty(
                    "meta-data",
                    &[("android:name", name), ("android:value", value)],
                );
            }
            MetaData::Resource { name, resource } => {
                w.empty(
                    "meta-data",
                    &[("android:name", name), ("android:resource", resource)],
                );
            }
        }
    }
}

fn required_name(element: &Element) -> Result<String, AndroidError> {
    element
        .android("name")
        .map(str::to_owned)
        .ok_or_else(|| AndroidError::InvalidManifest {
            reason: format!("a <{}> lacks android:name", element.name),
        })
}

fn meta_data(element: &Element) -> Result<MetaData, AndroidError> {
    let name = required_name(element)?;
    match (element.android("value"), element.android("resource")) {
        (Some(value), None) => Ok(MetaData::Value {
            name,
            value: value.into(),
        }),
        (None, Some(resource)) => Ok(MetaData::Resource {
            name,
            resource: resource.into(),
        }),
        _ => Err(AndroidError::InvalidManifest {
            reason: format!(
                "<meta-data> {name} needs exactly one of android:value and android:resource"
            ),
        }),
    }
}

fn component(kind: ComponentKind, node: &Tree) -> Result<Component, AndroidError> {
    let element = &node.element;
    let exported = match element.android("exported") {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => {
            return Err(AndroidError::InvalidManifest {
                reason: format!("android:exported {other:?} is not true or false"),
            });
        }
    };
    let mut component = Component {
        kind,
        name: required_name(element)?,
        exported,
        permission: element.android("permission").map(str::to_owned),
        foreground_service_type: element.android("foregroundServiceType").map(str::to_owned),
        intent_filters: Vec::new(),
        meta_data: Vec::new(),
    };
    for child in &node.children {
        match child.element.name.as_str() {
            "meta-data" => component.meta_data.push(meta_data(&child.element)?),
            "intent-filter" => {
                let mut filter = IntentFilter::default();
                for entry in &child.children {
                    match entry.element.name.as_str() {
                        "action" => filter.actions.push(required_name(&entry.element)?),
                        "category" => filter.categories.push(required_name(&entry.element)?),
                        _ => {}
                    }
                }
                component.intent_filters.push(filter);
            }
            _ => {}
        }
    }
    Ok(component)
}

/// A small element tree (the manifest is small; depth is bounded by the reader).
struct Tree {
    element: Element,
    children: Vec<Tree>,
}

fn read_tree(reader: &mut XmlReader<'_>) -> Result<Tree, AndroidError> {
    let root = reader.root_element()?;
    let mut stack: Vec<Tree> = Vec::new();
    let mut finished: Option<Tree> = None;
    if root.empty {
        finished = Some(Tree {
            element: root,
            children: Vec::new(),
        });
    } else {
        stack.push(Tree {
            element: root,
            children: Vec::new(),
        });
    }
    while finished.is_none() {
        match reader.next_node()? {
            Node::Open(element) => {
                let empty = element.empty;
                let tree = Tree {
                    element,
                    children: Vec::new(),
                };
                if empty {
                    if let Some(parent) = stack.last_mut() {
                        parent.children.push(tree);
                    }
                } else {
                    stack.push(tree);
                }
            }
            Node::Close(_) => {
                let Some(done) = stack.pop() else {
                    return Err(reader.error("unbalanced close tag"));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => finished = Some(done),
                }
            }
            Node::Text(text) => {
                return Err(reader.error(format!(
                    "unexpected text {:?}",
                    text.chars().take(40).collect::<String>()
                )));
            }
            Node::End => return Err(reader.error("the document ends inside an element")),
        }
    }
    match reader.next_node()? {
        Node::End => {}
        _ => return Err(reader.error("content after the root element")),
    }
    finished.ok_or_else(|| reader.error("no root element"))
}
