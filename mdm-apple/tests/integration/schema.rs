//! Every key we emit exists in Apple's published schema
//! (`shared/apple-schema`) for that payload, command or check-in, with the
//! right type; required keys are present; values respect `rangelist`,
//! `range`, and the value lists the schema gives as string subkeys.

use mdm_model::PushTopic;
use std::collections::HashMap;
use std::path::Path;

use mdm_apple::*;
use plist::{Dictionary, Value};
use serde_yaml::Value as Yaml;

use super::fixtures::{TOPIC, every_command, every_payload_profile, shared};

struct Schema {
    /// payload type / request type / message type → payloadkeys.
    by_name: HashMap<String, Vec<Yaml>>,
    common: Vec<Yaml>,
}

fn load(dir: &Path, name_key: &str, out: &mut HashMap<String, Vec<Yaml>>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        // A few files use self-referential YAML anchors (a recursive
        // schema) that no tree can hold; none of them is a payload or
        // command we write, which the tests below would notice.
        let Ok(doc) = serde_yaml::from_str::<Yaml>(&std::fs::read_to_string(&path).unwrap()) else {
            continue;
        };
        let name = doc["payload"][name_key].as_str().map(str::to_owned);
        let keys = doc["payloadkeys"]
            .as_sequence()
            .cloned()
            .unwrap_or_default();
        if let Some(name) = name {
            out.insert(name, keys);
        }
    }
}

fn schema() -> Schema {
    let root = shared().join("apple-schema/mdm");
    let mut by_name = HashMap::new();
    load(&root.join("profiles"), "payloadtype", &mut by_name);
    load(&root.join("commands"), "requesttype", &mut by_name);
    // Check-in files name the message by their MessageType key's rangelist.
    for entry in std::fs::read_dir(root.join("checkin")).unwrap() {
        let path = entry.unwrap().path();
        let doc: Yaml = serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let keys = doc["payloadkeys"]
            .as_sequence()
            .cloned()
            .unwrap_or_default();
        let name = keys
            .iter()
            .find(|k| k["key"].as_str() == Some("MessageType"))
            .and_then(|k| k["rangelist"][0].as_str())
            .map(str::to_owned);
        if let Some(name) = name {
            by_name.insert(name, keys);
        }
    }
    let common = by_name.get("CommonPayloadKeys").cloned().unwrap();
    Schema { by_name, common }
}

/// Our dictionary as the plist crate reads what we write: the checker works
/// on an independent reader's view of our bytes.
fn as_read_by_plist(ours: &PlistDictionary) -> Dictionary {
    Value::from_reader_xml(ours.to_xml().unwrap().as_slice())
        .unwrap()
        .into_dictionary()
        .unwrap()
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "<string>",
        Value::Integer(_) => "<integer>",
        Value::Real(_) => "<real>",
        Value::Boolean(_) => "<boolean>",
        Value::Date(_) => "<date>",
        Value::Data(_) => "<data>",
        Value::Array(_) => "<array>",
        Value::Dictionary(_) => "<dictionary>",
        _ => "<other>",
    }
}

fn yaml_matches(allowed: &Yaml, v: &Value) -> bool {
    match v {
        Value::String(s) => allowed.as_str() == Some(s.as_str()),
        Value::Integer(i) => allowed.as_i64().is_some() && allowed.as_i64() == i.as_signed(),
        Value::Boolean(b) => allowed.as_bool() == Some(*b),
        _ => false,
    }
}

/// Checks one value against one schema key; `path` names it in failures.
fn check_value(spec: &Yaml, v: &Value, path: &str, errors: &mut Vec<String>) {
    let ty = spec["type"].as_str().unwrap_or("<any>");
    if ty != "<any>" && ty != type_name(v) {
        errors.push(format!(
            "{path}: schema type {ty}, we wrote {}",
            type_name(v)
        ));
        return;
    }
    if let Some(list) = spec["rangelist"].as_sequence()
        && !list.iter().any(|a| yaml_matches(a, v))
    {
        errors.push(format!("{path}: {v:?} not in rangelist {list:?}"));
    }
    if let (Some(i), Some(range)) = (v.as_signed_integer(), spec["range"].as_mapping()) {
        let min = range.get("min").and_then(Yaml::as_i64);
        let max = range.get("max").and_then(Yaml::as_i64);
        if min.is_some_and(|m| i < m) || max.is_some_and(|m| i > m) {
            errors.push(format!("{path}: {i} outside range {min:?}..{max:?}"));
        }
    }
    let subkeys = spec["subkeys"].as_sequence().cloned().unwrap_or_default();
    match v {
        Value::Dictionary(d) if !subkeys.is_empty() => check_dict(&subkeys, d, path, errors),
        Value::Array(items) if !subkeys.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                let p = format!("{path}[{i}]");
                // Several subkeys = alternatives (e.g. one dictionary shape per Settings item).
                let attempts: Vec<Vec<String>> = subkeys
                    .iter()
                    .map(|s| {
                        let mut e = Vec::new();
                        check_value(s, item, &p, &mut e);
                        e
                    })
                    .collect();
                if !attempts.iter().any(Vec::is_empty) {
                    errors.extend(attempts.into_iter().next().unwrap_or_default());
                }
            }
            if let Some(rep) = subkeys.first().and_then(|s| s["repetition"].as_mapping()) {
                let min = rep.get("min").and_then(Yaml::as_u64).unwrap_or(0) as usize;
                let max = rep
                    .get("max")
                    .and_then(Yaml::as_u64)
                    .map_or(usize::MAX, |m| m as usize);
                if items.len() < min || items.len() > max {
                    errors.push(format!(
                        "{path}: {} items, schema wants {min}..={max}",
                        items.len()
                    ));
                }
            }
        }
        // A string whose schema lists subkeys: the subkey names are the allowed values (Queries).
        Value::String(s)
            if !subkeys.is_empty()
                && !subkeys
                    .iter()
                    .any(|k| k["key"].as_str() == Some(s.as_str())) =>
        {
            errors.push(format!("{path}: {s:?} is not one of the schema's values"));
        }
        _ => {}
    }
}

/// Checks a dictionary against a list of schema keys.
fn check_dict(keys: &[Yaml], d: &Dictionary, path: &str, errors: &mut Vec<String>) {
    // The schema spells "any key of this type" as a lone `<Name>Item`
    // dictionary holding an `ANY` subkey (ConsentText).
    if let [only] = keys
        && only["key"].as_str().is_some_and(|k| k.ends_with("Item"))
        && only["type"].as_str() == Some("<dictionary>")
    {
        let inner = only["subkeys"].as_sequence().cloned().unwrap_or_default();
        return check_dict(&inner, d, path, errors);
    }
    let any = keys.iter().find(|k| k["key"].as_str() == Some("ANY"));
    for (k, v) in d {
        let p = format!("{path}.{k}");
        match keys
            .iter()
            .find(|s| s["key"].as_str() == Some(k.as_str()))
            .or(any)
        {
            Some(spec) => check_value(spec, v, &p, errors),
            None => errors.push(format!("{p}: key not in Apple's schema")),
        }
    }
    for spec in keys {
        let name = spec["key"].as_str().unwrap_or_default();
        if spec["presence"].as_str() == Some("required")
            && name != "ANY"
            && required_on_ios_device_channel(spec)
            && !d.contains_key(name)
        {
            errors.push(format!("{path}: required key {name} missing"));
        }
    }
}

/// `presence: required` holds per OS and enrollment mode: a key's own
/// `supportedOS` narrows it. We write for iOS/iPadOS device enrollments on
/// the device channel, so keys that iOS lacks, or that only user enrollment,
/// Shared iPad or the user channel require, are not required here.
fn required_on_ios_device_channel(spec: &Yaml) -> bool {
    let ios = &spec["supportedOS"]["iOS"];
    !(ios["introduced"].as_str() == Some("n/a")
        || ios["userenrollment"]["mode"].as_str() == Some("required")
        || ios["sharedipad"]["mode"].as_str() == Some("required")
        || ios["devicechannel"].as_bool() == Some(false))
}

fn check_payload(schema: &Schema, d: &Dictionary, errors: &mut Vec<String>) {
    let ty = d
        .get("PayloadType")
        .and_then(Value::as_string)
        .unwrap_or_default()
        .to_owned();
    let Some(own) = schema.by_name.get(&ty) else {
        errors.push(format!("{ty}: no schema file"));
        return;
    };
    let mut keys = schema.common.clone();
    keys.extend(own.iter().cloned());
    check_dict(&keys, d, &ty, errors);
}

/// Every schema violation of a whole profile: its top-level keys against
/// `TopLevel.yaml`, and each payload against its own file plus the common keys.
pub fn profile_violations(profile: &Dictionary) -> Vec<String> {
    let schema = schema();
    let mut errors = Vec::new();
    let mut top = profile.clone();
    let content = top.remove("PayloadContent").unwrap_or(Value::Array(vec![]));
    // PayloadContent items are checked per payload type below.
    top.insert("PayloadContent".into(), Value::Array(vec![]));
    check_dict(
        schema.by_name.get("TopLevel").unwrap(),
        &top,
        "TopLevel",
        &mut errors,
    );
    for p in content.as_array().map(Vec::as_slice).unwrap_or_default() {
        match p.as_dictionary() {
            Some(d) => check_payload(&schema, d, &mut errors),
            None => errors.push("PayloadContent: an item is not a dictionary".into()),
        }
    }
    errors
}

#[test]
fn profile_and_every_payload_match_the_schema() {
    let profile = as_read_by_plist(&every_payload_profile().to_dictionary());
    assert_eq!(
        profile
            .get("PayloadContent")
            .and_then(Value::as_array)
            .map(Vec::len),
        Some(10)
    );
    let errors = profile_violations(&profile);
    assert!(
        errors.is_empty(),
        "schema violations:\n{}",
        errors.join("\n")
    );
}

#[test]
fn every_command_matches_the_schema() {
    let schema = schema();
    let mut errors = Vec::new();
    for req in every_command() {
        let d = as_read_by_plist(&req.to_dictionary());
        assert!(d.get("CommandUUID").and_then(Value::as_string).is_some());
        let cmd = d.get("Command").and_then(Value::as_dictionary).unwrap();
        let rt = cmd.get("RequestType").and_then(Value::as_string).unwrap();
        let Some(keys) = schema.by_name.get(rt) else {
            errors.push(format!("{rt}: no schema file"));
            continue;
        };
        let mut body = cmd.clone();
        body.remove("RequestType");
        check_dict(keys, &body, rt, &mut errors);
    }
    assert!(
        errors.is_empty(),
        "schema violations:\n{}",
        errors.join("\n")
    );
}

#[test]
fn built_checkins_match_the_schema() {
    let schema = schema();
    let topic = PushTopic::parse(TOPIC).unwrap();
    let device = AppleDeviceId::Udid("UDID-1".into());
    let mut auth = Authenticate::new(topic.clone(), device.clone());
    auth.serial_number = Some("SN".into());
    auth.os_version = Some("18.1".into());
    auth.build_version = Some("22B83".into());
    auth.product_name = Some("iPhone16,1".into());
    let mut tu = TokenUpdate::new(
        topic.clone(),
        device.clone(),
        PushToken::new(vec![1; 32]).unwrap(),
        PushMagic::new("m").unwrap(),
    );
    tu.unlock_token = Some(UnlockToken::new(vec![2; 16]));
    tu.awaiting_configuration = Some(false);
    let co = CheckOut { topic, device };
    let mut errors = Vec::new();
    for (name, xml) in [
        ("Authenticate", auth.to_xml()),
        ("TokenUpdate", tu.to_xml()),
        ("CheckOut", co.to_xml()),
    ] {
        let d = plist::Value::from_reader_xml(xml.unwrap().as_slice())
            .unwrap()
            .into_dictionary()
            .unwrap();
        check_dict(schema.by_name.get(name).unwrap(), &d, name, &mut errors);
    }
    assert!(
        errors.is_empty(),
        "schema violations:\n{}",
        errors.join("\n")
    );
}

#[test]
fn the_checker_catches_violations() {
    // The checker must be able to fail: an unknown key, a wrong type, a value off the list.
    let schema = schema();
    let mut d = Dictionary::new();
    d.insert(
        "PayloadType".into(),
        Value::String("com.apple.security.scep".into()),
    );
    d.insert("PayloadIdentifier".into(), Value::String("x".into()));
    d.insert("PayloadUUID".into(), Value::String("x".into()));
    d.insert("PayloadVersion".into(), Value::Integer(1.into()));
    let mut inner = Dictionary::new();
    inner.insert("URL".into(), Value::String("https://x".into()));
    inner.insert("Keysize".into(), Value::Integer(3000.into()));
    inner.insert("KeyUsage".into(), Value::Integer(5.into()));
    inner.insert("Challenge".into(), Value::Integer(5.into()));
    d.insert("PayloadContent".into(), Value::Dictionary(inner));
    let mut errors = Vec::new();
    check_payload(&schema, &d, &mut errors);
    let all = errors.join("\n");
    assert!(
        all.contains("Keysize") && all.contains("KeyUsage") && all.contains("Challenge"),
        "{all}"
    );
    let mut missing = Dictionary::new();
    missing.insert(
        "PayloadType".into(),
        Value::String("com.apple.webClip.managed".into()),
    );
    let mut errors = Vec::new();
    check_payload(&schema, &missing, &mut errors);
    assert!(
        errors.iter().any(|e| e.contains("required key Label")),
        "{errors:?}"
    );
}

#[test]
fn nanomdm_reference_enrollment_profile_passes_the_checker_and_matches_our_shape() {
    // A real-world enrollment profile (nanomdm's docs) passes the same checker…
    let path = shared().join("vectors/nanomdm/docs/enroll.mobileconfig");
    let theirs = plist::Value::from_file(path)
        .unwrap()
        .into_dictionary()
        .unwrap();
    let violations = profile_violations(&theirs);
    assert!(violations.is_empty(), "{violations:?}");
    // …and ours, built from the same facts, has the same payload types and MDM keys.
    let mut scep = ScepIdentity::new("https://mdm.example.org/scep");
    scep.challenge = Some("SCEP-CHALLENGE-HERE".into());
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(3);
    let ours = as_read_by_plist(
        &enrollment_profile(
            &EnrollmentParams {
                server_url: HttpsUrl::new("ServerURL", "https://mdm.example.org/mdm").unwrap(),
                check_in_url: None,
                topic: PushTopic::parse(TOPIC).unwrap(),
                identity: EnrollmentIdentity::Scep(scep),
                server_root_ca_der: None,
                identifier_prefix: "com.example".into(),
                organization: "Example".into(),
            },
            &mut rng,
        )
        .unwrap()
        .to_dictionary(),
    );
    let shape = |d: &Dictionary| -> Vec<(String, Vec<String>)> {
        d.get("PayloadContent")
            .and_then(Value::as_array)
            .unwrap()
            .iter()
            .map(|p| {
                let p = p.as_dictionary().unwrap();
                let t = p
                    .get("PayloadType")
                    .and_then(Value::as_string)
                    .unwrap()
                    .to_owned();
                let mut keys: Vec<String> = p
                    .keys()
                    .filter(|k| !k.starts_with("Payload") && *k != "ServerCapabilities")
                    .cloned()
                    .collect();
                if let Some(inner) = p.get("PayloadContent").and_then(Value::as_dictionary) {
                    keys.extend(inner.keys().map(|k| format!("PayloadContent.{k}")));
                }
                keys.sort();
                (t, keys)
            })
            .collect()
    };
    assert_eq!(shape(&ours), shape(&theirs));
}
