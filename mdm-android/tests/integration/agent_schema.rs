//! The agent's own managed-configuration schema validates good values and
//! refuses bad ones, naming the key.

use mdm_android::agent_restrictions;
use serde_json::json;

#[test]
fn agent_values_validate() {
    let (schema, resources) = agent_restrictions();
    let good = json!({
        "server_address": "mdm.example.com:13292",
        "definitions_update": "weekly",
        "definitions_update_day": "friday",
        "action_on_threat": "delete",
        "proxy": {"host": "proxy.example.com", "port": 3128},
        "trusted_certificates": [{"fingerprint": "ab", "label": "root"}],
    });
    schema.validate_values(&good, &resources).unwrap();
    let error = schema
        .validate_values(&json!({"definitions_update": "hourly"}), &resources)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("definitions_update") && error.contains("hourly"),
        "{error}"
    );
    let error = schema
        .validate_values(&json!({"proxy": {"port": "3128"}}), &resources)
        .unwrap_err()
        .to_string();
    assert!(error.contains("proxy/port"), "{error}");
}
