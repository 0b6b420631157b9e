//! Manifests through the public API: what seed 003 asks of the agent's
//! manifest, Google's sample manifest, refusals that say what is wrong,
//! and a parser that never panics.

use mdm_android::{AndroidManifest, ComponentKind};
use proptest::prelude::*;

fn agent() -> AndroidManifest {
    AndroidManifest::agent("io.mdmtoolkit.agent", 10400, "1.4.0").unwrap()
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
        .find(|c| c.permission.as_deref() == Some("android.permission.BIND_ACCESSIBILITY_SERVICE"))
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
