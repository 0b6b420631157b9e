//! Our agent's own managed-configuration schema: what an EMM console (or our
//! server, through `ApplicationPolicy.managedConfiguration`) may set on it.

use crate::{Resources, Restriction, RestrictionSchema, RestrictionType};

/// The agent's `res/xml/app_restrictions.xml` and the
/// `res/values/restriction_values.xml` its choices point to.
///
/// Keys: the connection (`server_address`, hidden `enrollment_token` and
/// `ca_fingerprint`, a `proxy` bundle), the R-PO-1 settings
/// (`sync_interval_minutes`, `definitions_update` off/daily/weekly with
/// `definitions_update_time` and `_day`, `detect_adware`,
/// `detect_auto_dialers`, `detect_riskware`, `action_on_threat`,
/// `scan_after_update`) and `trusted_certificates`, a bundle array of
/// `{fingerprint, label}`.
pub fn agent_restrictions() -> (RestrictionSchema, Resources) {
    use RestrictionType as T;
    let restrictions = vec![
        Restriction::new("server_address", T::String, "Administration server")
            .with_description("FQDN or IP address, optionally with :port"),
        Restriction::new("enrollment_token", T::Hidden, "Enrollment token").with_default(""),
        Restriction::new("ca_fingerprint", T::Hidden, "Server CA SHA-256").with_default(""),
        Restriction::new(
            "sync_interval_minutes",
            T::Integer,
            "Sync interval (minutes)",
        )
        .with_default("360"),
        Restriction::new("definitions_update", T::Choice, "Definitions update")
            .with_entries("definitions_update_entries", "definitions_update_values")
            .with_default("daily"),
        Restriction::new("definitions_update_time", T::String, "Update time (HH:MM)")
            .with_default("08:00"),
        Restriction::new("definitions_update_day", T::Choice, "Update day (weekly)")
            .with_entries("weekday_entries", "weekday_values")
            .with_default("monday"),
        Restriction::new("detect_adware", T::Bool, "Detect adware").with_default("true"),
        Restriction::new("detect_auto_dialers", T::Bool, "Detect auto-dialers")
            .with_default("true"),
        Restriction::new("detect_riskware", T::Bool, "Detect riskware").with_default("true"),
        Restriction::new("action_on_threat", T::Choice, "Action on threat")
            .with_entries("threat_action_entries", "threat_action_values")
            .with_default("quarantine"),
        Restriction::new(
            "scan_after_update",
            T::Bool,
            "Scan after definitions update",
        )
        .with_default("true"),
        Restriction::new("proxy", T::Bundle, "Proxy").with_children(vec![
            Restriction::new("host", T::String, "Proxy host"),
            Restriction::new("port", T::Integer, "Proxy port"),
        ]),
        Restriction::new(
            "trusted_certificates",
            T::BundleArray,
            "Trusted certificates",
        )
        .with_children(vec![
            Restriction::new("certificate", T::Bundle, "Certificate").with_children(vec![
                Restriction::new("fingerprint", T::String, "SHA-256 fingerprint"),
                Restriction::new("label", T::String, "Label"),
            ]),
        ]),
    ];
    let mut resources = Resources::new();
    resources.insert_string_array(
        "definitions_update_entries",
        &["Off", "Once a day", "Once a week"],
    );
    resources.insert_string_array("definitions_update_values", &["off", "daily", "weekly"]);
    let days = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    resources.insert_string_array(
        "weekday_entries",
        &[
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
        ],
    );
    resources.insert_string_array("weekday_values", &days);
    resources.insert_string_array(
        "threat_action_entries",
        &["Quarantine", "Delete", "Report only"],
    );
    resources.insert_string_array("threat_action_values", &["quarantine", "delete", "report"]);
    (RestrictionSchema { restrictions }, resources)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::android_xml::{python_etree_root, python3};

    #[test]
    fn agent_schema_snapshot_round_trip_and_python() {
        let (schema, resources) = agent_restrictions();
        schema.check().unwrap();
        schema.check_resources(&resources).unwrap();
        let xml = schema.to_xml().unwrap();
        insta::assert_snapshot!("agent_restrictions", xml);
        assert_eq!(RestrictionSchema::parse_xml(&xml).unwrap(), schema);
        let values = resources.to_xml().unwrap();
        insta::assert_snapshot!("agent_restriction_values", values);
        assert_eq!(Resources::parse_xml(&values).unwrap(), resources);
        for document in [&xml, &values] {
            if let Some(out) = python_etree_root(document) {
                assert!(
                    out.starts_with("restrictions\n") || out.starts_with("resources\n"),
                    "{out}"
                );
            }
        }
        // Every restriction has the android:-namespaced key Python sees.
        if let Some(out) = python_keys(&xml) {
            assert_eq!(
                out.lines().collect::<Vec<_>>(),
                [
                    "server_address",
                    "enrollment_token",
                    "ca_fingerprint",
                    "sync_interval_minutes",
                    "definitions_update",
                    "definitions_update_time",
                    "definitions_update_day",
                    "detect_adware",
                    "detect_auto_dialers",
                    "detect_riskware",
                    "action_on_threat",
                    "scan_after_update",
                    "proxy",
                    "host",
                    "port",
                    "trusted_certificates",
                    "certificate",
                    "fingerprint",
                    "label",
                ]
            );
        }
    }

    fn python_keys(xml: &str) -> Option<String> {
        python3(
            "import sys, xml.etree.ElementTree as ET\n\
             r = ET.fromstring(sys.stdin.buffer.read())\n\
             A = '{http://schemas.android.com/apk/res/android}'\n\
             print('\\n'.join(e.get(A + 'key') for e in r.iter('restriction')))\n",
            xml,
        )
    }
}
