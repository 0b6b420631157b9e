//! Hostile input for the model side: saved workspaces that hold values the
//! API refuses, or JSON shaped to make a reader recurse or allocate.

use mdm_model::{EmailAddress, ModelError, PolicySettings, Workspace};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::{MIB, measure};

const NOW: OffsetDateTime = datetime!(2026-12-01 09:00 UTC);

fn saved() -> String {
    let mut ws = Workspace::new("acme", "ACME Corp", Some("JP"), NOW).unwrap();
    ws.add_user(
        "alice",
        Some(EmailAddress::parse("alice@acme.example").unwrap()),
        NOW,
    )
    .unwrap();
    ws.add_policy(
        "Default",
        Workspace::MANAGED,
        PolicySettings::default(),
        NOW,
    )
    .unwrap();
    ws.to_json().unwrap()
}

#[test]
fn a_saved_interval_of_i64_max_seconds_is_refused_on_load() {
    let _alone = crate::alone();
    let json = saved();
    for key in ["\"invitation_validity\": ", "\"sync_interval\": "] {
        let at = json.find(key).unwrap() + key.len();
        let end = at + json[at..].find([',', '\n']).unwrap();
        let bad = format!("{}{}{}", &json[..at], i64::MAX, &json[end..]);
        let (result, cost) = measure(16 * MIB, || Workspace::from_json(&bad));
        assert!(
            matches!(result, Err(ModelError::CorruptedFile(ref m)) if m.contains("between")),
            "{key}: {result:?}"
        );
        assert!(cost.allocated < 64 * bad.len() + MIB, "{key}: {cost:?}");
    }
}

#[test]
fn deeply_nested_json_is_refused_without_recursing_away() {
    let _alone = crate::alone();
    // 200k nested arrays where the users list should be: serde_json stops at
    // its recursion limit (128) with an error, never the stack.
    let json = saved();
    let key = "\"users\": ";
    let at = json.find(key).unwrap() + key.len();
    let depth = 200_000;
    let bad = format!(
        "{}{}{}{}",
        &json[..at],
        "[".repeat(depth),
        "]".repeat(depth),
        &json[at + 2..]
    );
    let (result, cost) = measure(16 * MIB, || Workspace::from_json(&bad));
    assert!(
        matches!(result, Err(ModelError::CorruptedFile(_))),
        "{result:?}"
    );
    assert!(cost.allocated < 4 * MIB, "{cost:?}");
}

#[test]
fn a_long_corrupt_audit_log_costs_what_the_file_holds() {
    let _alone = crate::alone();
    // 100k bad audit records: refused at the first, for what was read.
    let json = saved();
    let key = "\"audit\": [";
    let at = json.find(key).unwrap() + key.len();
    let bad = format!(
        "{}{}{}",
        &json[..at],
        "{\"at\": 1},".repeat(100_000),
        &json[at..]
    );
    let (result, cost) = measure(64 * MIB, || Workspace::from_json(&bad));
    assert!(
        matches!(result, Err(ModelError::CorruptedFile(_))),
        "{result:?}"
    );
    assert!(
        cost.allocated < 16 * bad.len() + MIB,
        "{cost:?} for {} bytes",
        bad.len()
    );
}
