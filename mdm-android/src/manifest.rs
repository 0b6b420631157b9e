//! The agent's `AndroidManifest.xml` (source form): identity, SDK levels,
//! permissions and the components seed 003 §5.4 walks the user through
//! granting — all-files access, background location, camera, the device-admin
//! receiver, the accessibility service, notifications — plus the
//! `android.content.APP_RESTRICTIONS` pointer to the managed-configuration
//! schema and the Android 10+/12+ provisioning activities a DPC must offer.

use crate::android_xml::{ANDROID_NS, Element, Node, XmlReader, XmlWriter};
use crate::provisioning::is_package_name;
use crate::{AndroidError, ComponentName};

/// `<uses-sdk>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsesSdk {
    /// `android:minSdkVersion`.
    pub min: u32,
    /// `android:targetSdkVersion`.
    pub target: Option<u32>,
    /// `android:maxSdkVersion`.
    pub max: Option<u32>,
}

/// `<uses-permission>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsesPermission {
    /// `android:name`, e.g. `android.permission.CAMERA`.
    pub name: String,
    /// `android:maxSdkVersion`: not requested above this API level.
    pub max_sdk: Option<u32>,
}

impl UsesPermission {
    /// A permission requested on every API level.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.into(),
            max_sdk: None,
        }
    }
}

/// `<meta-data>`: a literal value or a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetaData {
    /// `android:value`.
    Value {
        /// `android:name`.
        name: String,
        /// `android:value`.
        value: String,
    },
    /// `android:resource`.
    Resource {
        /// `android:name`.
        name: String,
        /// `android:resource`, e.g. `@xml/app_restrictions`.
        resource: String,
    },
}

impl MetaData {
    /// The `android:name`.
    pub fn name(&self) -> &str {
        match self {
            Self::Value { name, .. } | Self::Resource { name, .. } => name,
        }
    }

    fn resource(name: &str, resource: &str) -> Self {
        Self::Resource {
            name: name.into(),
            resource: resource.into(),
        }
    }
}

/// `<intent-filter>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IntentFilter {
    /// `<action android:name>`s.
    pub actions: Vec<String>,
    /// `<category android:name>`s.
    pub categories: Vec<String>,
}

impl IntentFilter {
    fn action(action: &str) -> Self {
        Self {
            actions: vec![action.into()],
            categories: Vec::new(),
        }
    }
}

/// Which kind of application component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComponentKind {
    /// `<activity>`.
    Activity,
    /// `<service>`.
    Service,
    /// `<receiver>`.
    Receiver,
    /// `<provider>`.
    Provider,
}

impl ComponentKind {
    fn tag(self) -> &'static str {
        match self {
            Self::Activity => "activity",
            Self::Service => "service",
            Self::Receiver => "receiver",
            Self::Provider => "provider",
        }
    }

    fn from_tag(tag: &str) -> Option<Self> {
        Some(match tag {
            "activity" => Self::Activity,
            "service" => Self::Service,
            "receiver" => Self::Receiver,
            "provider" => Self::Provider,
            _ => return None,
        })
    }
}

/// An activity, service, receiver or provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// The element.
    pub kind: ComponentKind,
    /// `android:name`, absolute or `.Relative` to the package.
    pub name: String,
    /// `android:exported` (required from API 31 when there are intent filters).
    pub exported: Option<bool>,
    /// `android:permission` a caller must hold.
    pub permission: Option<String>,
    /// `android:foregroundServiceType` (services).
    pub foreground_service_type: Option<String>,
    /// Intent filters.
    pub intent_filters: Vec<IntentFilter>,
    /// Meta-data.
    pub meta_data: Vec<MetaData>,
}

/// `<application>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Application {
    /// `android:label`.
    pub label: Option<String>,
    /// `android:icon`.
    pub icon: Option<String>,
    /// Application-level meta-data (where APP_RESTRICTIONS lives).
    pub meta_data: Vec<MetaData>,
    /// Components, in document order.
    pub components: Vec<Component>,
}

/// A source `AndroidManifest.xml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AndroidManifest {
    /// The `package` attribute. `None` only in AGP 7+ source manifests,
    /// where Gradle's `namespace` supplies it; ours always sets it.
    pub package: Option<String>,
    /// `android:versionCode`: positive, ordered across releases.
    pub version_code: u32,
    /// `android:versionName`: shown to people.
    pub version_name: String,
    /// `<uses-sdk>`.
    pub uses_sdk: Option<UsesSdk>,
    /// `<uses-permission>`s.
    pub permissions: Vec<UsesPermission>,
    /// `<application>`.
    pub application: Application,
}

/// The meta-data name under which the managed-configuration schema is declared.
pub const APP_RESTRICTIONS: &str = "android.content.APP_RESTRICTIONS";

/// The permissions of our agent, with why seed 003 §5.4 needs each.
pub const AGENT_PERMISSIONS: &[(&str, Option<u32>)] = &[
    // Talking to the administration server.
    ("android.permission.INTERNET", None),
    ("android.permission.ACCESS_NETWORK_STATE", None),
    // Step 7: "grant access to manage all files" (Android 11+), and the old storage permission below it.
    ("android.permission.MANAGE_EXTERNAL_STORAGE", None),
    ("android.permission.READ_EXTERNAL_STORAGE", Some(29)),
    // Step 8: run in the background.
    (
        "android.permission.REQUEST_IGNORE_BATTERY_OPTIMIZATIONS",
        None,
    ),
    ("android.permission.FOREGROUND_SERVICE", None),
    ("android.permission.FOREGROUND_SERVICE_DATA_SYNC", None),
    ("android.permission.RECEIVE_BOOT_COMPLETED", None),
    // Steps 12-17: camera, location while in use, then "allow all the time".
    ("android.permission.CAMERA", None),
    ("android.permission.ACCESS_COARSE_LOCATION", None),
    ("android.permission.ACCESS_FINE_LOCATION", None),
    ("android.permission.ACCESS_BACKGROUND_LOCATION", None),
    // Step 21: notifications (Android 13+).
    ("android.permission.POST_NOTIFICATIONS", None),
    // Scanning installed apps for threats.
    ("android.permission.QUERY_ALL_PACKAGES", None),
];

impl AndroidManifest {
    /// Our agent's manifest: package `package`, the given version, min SDK
    /// 26 / target 34, [`AGENT_PERMISSIONS`], and these components:
    /// the launcher activity; the Android 10+/12+ `GET_PROVISIONING_MODE`
    /// and `ADMIN_POLICY_COMPLIANCE` activities; the device-admin receiver
    /// (`BIND_DEVICE_ADMIN`, `@xml/device_admin`, `DEVICE_ADMIN_ENABLED`) that
    /// QR provisioning names as [`Self::admin_component`]; the accessibility
    /// service (`BIND_ACCESSIBILITY_SERVICE`, `@xml/accessibility_service`);
    /// the foreground sync service; the boot receiver; and
    /// `APP_RESTRICTIONS` → `@xml/app_restrictions`.
    pub fn agent(
        package: &str,
        version_code: u32,
        version_name: &str,
    ) -> Result<Self, AndroidError> {
        let component = |kind, name: &str, exported: bool, permission: Option<&str>| Component {
            kind,
            name: name.into(),
            exported: Some(exported),
            permission: permission.map(str::to_owned),
            foreground_service_type: None,
            intent_filters: Vec::new(),
            meta_data: Vec::new(),
        };
        let mut launcher = component(ComponentKind::Activity, ".MainActivity", true, None);
        launcher.intent_filters.push(IntentFilter {
            actions: vec!["android.intent.action.MAIN".into()],
            categories: vec!["android.intent.category.LAUNCHER".into()],
        });
        let mut provisioning_mode = component(
            ComponentKind::Activity,
            ".provisioning.ProvisioningModeActivity",
            true,
            Some("android.permission.BIND_DEVICE_ADMIN"),
        );
        provisioning_mode.intent_filters.push(IntentFilter {
            actions: vec!["android.app.action.GET_PROVISIONING_MODE".into()],
            categories: vec!["android.intent.category.DEFAULT".into()],
        });
        let mut compliance = component(
            ComponentKind::Activity,
            ".provisioning.PolicyComplianceActivity",
            true,
            Some("android.permission.BIND_DEVICE_ADMIN"),
        );
        compliance.intent_filters.push(IntentFilter {
            actions: vec!["android.app.action.ADMIN_POLICY_COMPLIANCE".into()],
            categories: vec!["android.intent.category.DEFAULT".into()],
        });
        let mut admin = component(
            ComponentKind::Receiver,
            ".AdminReceiver",
            true,
            Some("android.permission.BIND_DEVICE_ADMIN"),
        );
        admin.meta_data.push(MetaData::resource(
            "android.app.device_admin",
            "@xml/device_admin",
        ));
        admin.intent_filters.push(IntentFilter {
            actions: vec![
                "android.app.action.DEVICE_ADMIN_ENABLED".into(),
                "android.app.action.PROFILE_PROVISIONING_COMPLETE".into(),
            ],
            categories: Vec::new(),
        });
        let mut accessibility = component(
            ComponentKind::Service,
            ".ProtectionAccessibilityService",
            false,
            Some("android.permission.BIND_ACCESSIBILITY_SERVICE"),
        );
        accessibility.intent_filters.push(IntentFilter::action(
            "android.accessibilityservice.AccessibilityService",
        ));
        accessibility.meta_data.push(MetaData::resource(
            "android.accessibilityservice",
            "@xml/accessibility_service",
        ));
        let mut sync = component(ComponentKind::Service, ".SyncService", false, None);
        sync.foreground_service_type = Some("dataSync".into());
        let mut boot = component(ComponentKind::Receiver, ".BootReceiver", false, None);
        boot.intent_filters
            .push(IntentFilter::action("android.intent.action.BOOT_COMPLETED"));

        let manifest = Self {
            package: Some(package.into()),
            version_code,
            version_name: version_name.into(),
            uses_sdk: Some(UsesSdk {
                min: 26,
                target: Some(34),
                max: None,
            }),
            permissions: AGENT_PERMISSIONS
                .iter()
                .map(|(name, max_sdk)| UsesPermission {
                    name: (*name).into(),
                    max_sdk: *max_sdk,
                })
                .collect(),
            application: Application {
                label: Some("@string/app_name".into()),
                icon: Some("@mipmap/ic_launcher".into()),
                meta_data: vec![MetaData::resource(
                    APP_RESTRICTIONS,
                    "@xml/app_restrictions",
                )],
                components: vec![
                    launcher,
                    provisioning_mode,
                    compliance,
                    admin,
                    accessibility,
                    sync,
                    boot,
                ],
            },
        };
        manifest.check()?;
        Ok(manifest)
    }

    /// The device-admin receiver as a [`ComponentName`]: the first receiver
    /// guarded by `BIND_DEVICE_ADMIN`, resolved against the package. This is
    /// what QR provisioning puts in `PROVISIONING_DEVICE_ADMIN_COMPONENT_NAME`.
    pub fn admin_component(&self) -> Result<ComponentName, AndroidError> {
        let package = self
            .package
            .as_deref()
            .ok_or_else(|| AndroidError::InvalidManifest {
                reason: "no package attribute, so component names cannot be resolved".into(),
            })?;
        let receiver = self
            .application
            .components
            .iter()
            .find(|c| {
                c.kind == ComponentKind::Receiver
                    && c.permission.as_deref() == Some("android.permission.BIND_DEVICE_ADMIN")
            })
            .ok_or_else(|| AndroidError::InvalidManifest {
                reason: "no <receiver> guarded by android.permission.BIND_DEVICE_ADMIN".into(),
            })?;
        ComponentName::new(package, &receiver.name)
    }

    /// The resource named by the `APP_RESTRICTIONS` meta-data, if declared.
    pub fn restrictions_resource(&self) -> Option<&str> {
        self.application.meta_data.iter().find_map(|m| match m {
            MetaData::Resource { name, resource } if name == APP_RESTRICTIONS => {
                Some(resource.as_str())
            }
            _ => None,
        })
    }

    /// Whether `permission` is requested.
    pub fn requests(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p.name == permission)
    }

    /// Checks the values a manifest must hold: a valid package name when
    /// present, a version code in `1..=2_100_000_000` (Google Play's ceiling),
    /// a non-empty version name, target ≥ min SDK, non-empty component names,
    /// no permission requested twice.
    pub fn check(&self) -> Result<(), AndroidError> {
        let invalid = |reason: String| AndroidError::InvalidManifest { reason };
        if let Some(package) = &self.package
            && !is_package_name(package)
        {
            return Err(invalid(format!(
                "package {package:?} is not a valid Android package name"
            )));
        }
        if !(1..=2_100_000_000).contains(&self.version_code) {
            return Err(invalid(format!(
                "android:versionCode {} is outside 1..=2100000000",
                self.version_code
            )));
        }
        if self.version_name.trim().is_empty() {
            return Err(invalid("android:versionName is empty".into()));
        }
        if let Some(sdk) = self.uses_sdk
            && let Some(target) = sdk.target
            && target < sdk.min
        {
            return Err(invalid(format!(
                "targetSdkVersion {target} is below minSdkVersion {}",
                sdk.min
            )));
        }
        let mut seen = std::collections::BTreeSet::new();
        for permission in &self.permissions {
            if permission.name.is_empty() {
                return Err(invalid(
                    "a <uses-permission> has an empty android:name".into(),
                ));
            }
            if !seen.insert(permission.name.as_str()) {
                return Err(invalid(format!(
                    "permission {} is requested twice",
                    permission.name
                )));
            }
        }
        for component in &self.application.components {
            if component.name.is_empty() {
                return Err(invalid(format!(
                    "a <{}> has an empty android:name",
                    component.kind.tag()
                )));
            }
        }
        Ok(())
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::android_xml::{python_etree_root, python3};
    use proptest::prelude::*;

    fn agent() -> AndroidManifest {
        AndroidManifest::agent("io.mdmtoolkit.agent", 10400, "1.4.0").unwrap()
    }

    #[test]
    fn agent_manifest_snapshot_parses_back_and_in_python() {
        let manifest = agent();
        let xml = manifest.to_xml().unwrap();
        insta::assert_snapshot!("agent_manifest", xml);
        assert_eq!(AndroidManifest::parse_xml(&xml).unwrap(), manifest);
        if let Some(out) = python_etree_root(&xml) {
            assert!(out.starts_with("manifest\n"), "{out}");
        }
        // xml.etree sees the android: attributes in the Android namespace.
        if let Some(out) = python3(
            "import sys, xml.etree.ElementTree as ET\n\
             r = ET.fromstring(sys.stdin.buffer.read())\n\
             A = '{http://schemas.android.com/apk/res/android}'\n\
             print(r.get('package'), r.get(A + 'versionCode'), r.get(A + 'versionName'))\n\
             print(len(r.findall('uses-permission')))\n\
             m = r.find('application/meta-data')\n\
             print(m.get(A + 'name'), m.get(A + 'resource'))\n",
            &xml,
        ) {
            assert_eq!(
                out,
                format!(
                    "io.mdmtoolkit.agent 10400 1.4.0\n{}\nandroid.content.APP_RESTRICTIONS @xml/app_restrictions\n",
                    AGENT_PERMISSIONS.len()
                )
            );
        }
    }

    #[test]
    fn agent_has_what_seed_003_asks_for() {
        let manifest = agent();
        for permission in [
            "android.permission.MANAGE_EXTERNAL_STORAGE",
            "android.permission.ACCESS_BACKGROUND_LOCATION",
            "android.permission.CAMERA",
            "android.permission.POST_NOTIFICATIONS",
        ] {
            assert!(manifest.requests(permission), "{permission}");
        }
        assert_eq!(
            manifest.admin_component().unwrap().to_string(),
            "io.mdmtoolkit.agent/io.mdmtoolkit.agent.AdminReceiver"
        );
        assert_eq!(
            manifest.restrictions_resource(),
            Some("@xml/app_restrictions")
        );
        let accessibility = manifest
            .application
            .components
            .iter()
            .find(|c| {
                c.permission.as_deref() == Some("android.permission.BIND_ACCESSIBILITY_SERVICE")
            })
            .unwrap();
        assert_eq!(accessibility.kind, ComponentKind::Service);
    }

    #[test]
    fn google_sample_manifest_parses() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/vectors/android/enterprise_samples_AndroidManifest.xml"
        );
        let Ok(text) = std::fs::read_to_string(path) else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "shared vectors missing in CI"
            );
            return;
        };
        let manifest = AndroidManifest::parse_xml(&text).unwrap();
        assert_eq!(manifest.package, None);
        assert_eq!(manifest.version_code, 1);
        assert_eq!(manifest.version_name, "1.0");
        assert_eq!(
            manifest.restrictions_resource(),
            Some("@xml/app_restrictions")
        );
        let main = &manifest.application.components[0];
        assert_eq!(main.name, ".MainActivity");
        assert_eq!(main.exported, Some(true));
        assert_eq!(
            main.intent_filters[0].categories,
            ["android.intent.category.LAUNCHER"]
        );
        assert!(manifest.admin_component().is_err());
    }

    #[test]
    fn refusals_say_what_is_wrong() {
        let ns = r#"xmlns:android="http://schemas.android.com/apk/res/android""#;
        let rows = [
            (
                format!(
                    r#"<manifest {ns} package="a.b" android:versionName="1"><application/></manifest>"#
                ),
                "versionCode is missing",
            ),
            (
                format!(
                    r#"<manifest {ns} package="a.b" android:versionCode="x" android:versionName="1"><application/></manifest>"#
                ),
                "\"x\"",
            ),
            (
                format!(
                    r#"<manifest {ns} package="a.b" android:versionCode="0" android:versionName="1"><application/></manifest>"#
                ),
                "outside",
            ),
            (
                format!(
                    r#"<manifest {ns} package="ab" android:versionCode="1" android:versionName="1"><application/></manifest>"#
                ),
                "package",
            ),
            (
                format!(
                    r#"<manifest {ns} package="a.b" android:versionCode="1" android:versionName="1"/>"#
                ),
                "exactly one <application>",
            ),
            (
                format!(
                    r#"<manifest {ns} package="a.b" android:versionCode="1" android:versionName="1"><application><activity/></application></manifest>"#
                ),
                "lacks android:name",
            ),
            (
                format!(
                    r#"<manifest {ns} package="a.b" android:versionCode="1" android:versionName="1"><application><meta-data android:name="m"/></application></manifest>"#
                ),
                "exactly one of",
            ),
            (
                format!(
                    r#"<manifest {ns} package="a.b" android:versionCode="1" android:versionName="1"><uses-sdk android:minSdkVersion="30" android:targetSdkVersion="26"/><application/></manifest>"#
                ),
                "below",
            ),
            (
                format!(
                    r#"<manifest {ns} package="a.b" android:versionCode="1" android:versionName="1"><application><service android:name=".S" android:exported="yes"/></application></manifest>"#
                ),
                "exported",
            ),
            (r#"<restrictions/>"#.to_owned(), "not <manifest>"),
            (r#"<manifest"#.to_owned(), "AndroidManifest.xml"),
        ];
        for (xml, needle) in rows {
            let error = AndroidManifest::parse_xml(&xml).unwrap_err().to_string();
            assert!(error.contains(needle), "{xml}: {error}");
        }
    }

    proptest! {
        #[test]
        fn parser_never_panics(text in "\\PC{0,300}") {
            let _ = AndroidManifest::parse_xml(&text);
        }

        #[test]
        fn agent_manifest_round_trips(code in 1u32..=2_100_000_000, name in "[0-9a-z.&<>\"' -]{1,12}") {
            prop_assume!(!name.trim().is_empty());
            let manifest = AndroidManifest::agent("io.mdmtoolkit.agent", code, &name).unwrap();
            prop_assert_eq!(AndroidManifest::parse_xml(&manifest.to_xml().unwrap()).unwrap(), manifest);
        }
    }
}
