//! The generic manifest: identity, SDK levels, permissions, the
//! application's components and meta-data, and what can be asked of it
//! (its device-admin receiver, its managed-configuration schema, its
//! consistency).

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

    pub(super) fn resource(name: &str, resource: &str) -> Self {
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
    pub(super) fn action(action: &str) -> Self {
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
    pub(super) fn tag(self) -> &'static str {
        match self {
            Self::Activity => "activity",
            Self::Service => "service",
            Self::Receiver => "receiver",
            Self::Provider => "provider",
        }
    }

    pub(super) fn from_tag(tag: &str) -> Option<Self> {
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

impl AndroidManifest {
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
}
