//! Our agent's manifest: the permissions and components seed 003 §5.4
//! walks the user through granting, the provisioning activities a DPC must
//! offer, and the `APP_RESTRICTIONS` pointer.

use super::{
    APP_RESTRICTIONS, AndroidManifest, Application, Component, ComponentKind, IntentFilter,
    MetaData, UsesPermission, UsesSdk,
};
use crate::AndroidError;

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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::android_xml::{python_etree_root, python3};

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
}
