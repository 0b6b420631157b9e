//! Managed configurations through the public API: Google's sample values
//! validated (and refused, naming the key), a schema checked against its
//! resources, structural rules, the android namespace by any prefix, deep
//! nesting refused, and parsers and validation that never panic.

use mdm_android::{
    MAX_STRING_LEN, ResourceText, ResourceValue, Resources, Restriction, RestrictionSchema,
    RestrictionType,
};
use proptest::prelude::*;
use serde_json::{Value, json};

use super::fixtures::vector;

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
fn deep_nesting_is_refused_not_recursed() {
    let ns = r#"xmlns:android="http://schemas.android.com/apk/res/android""#;
    let open = r#"<restriction android:key="b" android:restrictionType="bundle">"#.repeat(200);
    let close = "</restriction>".repeat(200);
    let xml = format!("<restrictions {ns}>{open}{close}</restrictions>");
    let error = RestrictionSchema::parse_xml(&xml).unwrap_err().to_string();
    assert!(error.contains("deeper"), "{error}");
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
