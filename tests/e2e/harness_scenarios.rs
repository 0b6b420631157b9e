//! The fleet simulator end to end: every scenario at small N, asserting the
//! invariants and the scenario's own numbers; determinism; the command's
//! exit status; the HTML report.

use harness::{Options, Report, simulate};

fn run(scenario: &str, devices: u32, days: u32, seed: u64) -> Report {
    let options = Options::new(scenario, devices, days, seed).unwrap();
    simulate(&options, &mut |_, _| {}).unwrap()
}

fn assert_all_hold(report: &Report) {
    for i in &report.invariants {
        assert!(
            i.holds(),
            "{}: {:?}\n{}",
            i.invariant,
            i.first_violation,
            report.summary()
        );
    }
}

#[test]
fn baseline_enrolls_everyone_invited_and_keeps_every_invariant() {
    let r = run("baseline", 150, 20, 11);
    assert_all_hold(&r);
    assert_eq!(r.fleet.total(), 150);
    // Everyone whose user has an e-mail address is invited and enrolls.
    let invited_devices = r.invitations_sent;
    assert_eq!(r.enrolled.total(), invited_devices, "{}", r.summary());
    assert!(r.enrolled.android > 0 && r.enrolled.ios > 0 && r.enrolled.ipados > 0);
    assert!(r.lost.is_empty(), "{:?}", r.lost);
    // Standalone installs get a client certificate; plain APKs do not (R-AN-1).
    let standalone = r.installs.get("standalone package").copied().unwrap_or(0);
    assert_eq!(r.client_certificates_applied, standalone);
    assert!(r.installs.get("plain APK").copied().unwrap_or(0) > 0);
    // Every Apple identity and every standalone agent's client certificate
    // came through SCEP, each checked to be its own enrollment's (R-CL-1).
    let own = r
        .invariants
        .iter()
        .find(|i| i.invariant.contains("SCEP issued for its own enrollment"))
        .expect("the SCEP invariant");
    assert_eq!(
        own.checks,
        r.enrolled.ios + r.enrolled.ipados + standalone,
        "{}",
        r.summary()
    );
    assert!(!r.refusals.keys().any(|k| k.starts_with("SCEP refused")));
    // Android devices sync about every 6 hours: at least 3 a day each.
    assert!(r.syncs > r.enrolled.total() * 3 * 10, "{} syncs", r.syncs);
    // Apple commands were answered.
    assert!(
        r.commands
            .keys()
            .any(|k| k.starts_with("apple DeviceInformation Acknowledged"))
    );
    assert_eq!(r.timeseries.len(), 20 * 24 + 1);
}

#[test]
fn cert_rotation_loses_exactly_the_devices_that_did_not_sync_in_time() {
    let r = run("cert-rotation", 200, 45, 5);
    assert_all_hold(&r);
    let rotation = r.rotation.expect("a rotation");
    assert!(rotation.activated);
    assert!(rotation.observed_lost > 0, "{}", r.summary());
    assert_eq!(rotation.observed_lost, rotation.not_synced_since_issuance);
    assert_eq!(
        r.lost
            .get("missed the server-certificate rotation")
            .copied(),
        Some(rotation.observed_lost)
    );
    // The lost devices reinstall and come back once they are online again.
    assert!(r.reenrolled > 0);
}

#[test]
fn apns_renewal_with_the_same_topic_loses_no_device() {
    let r = run("apns-renewal", 150, 30, 3);
    assert_all_hold(&r);
    assert!(r.lost.is_empty(), "{:?}", r.lost);
    assert!(
        r.certificate_events
            .iter()
            .any(|e| e.what.contains("renewed, topic kept"))
    );
    // After the old certificate's expiry (day 20) pushes still work.
    assert!(
        !r.message_faults
            .contains_key("push refused: APNs certificate expired")
    );
}

#[test]
fn apns_new_topic_strands_every_enrolled_apple_device() {
    let r = run("apns-new-topic", 150, 30, 3);
    assert_all_hold(&r);
    let stranded = r
        .lost
        .get("stranded: APNs topic changed")
        .copied()
        .unwrap_or(0);
    // Every Apple device enrolled before the change (day 10) is stranded.
    let apple_before =
        r.timeseries[10 * 24 + 9].enrolled.ios + r.timeseries[10 * 24 + 9].enrolled.ipados;
    assert!(apple_before > 0);
    assert_eq!(stranded, apple_before, "{}", r.summary());
    assert!(
        r.certificate_events
            .iter()
            .any(|e| e.what.contains("renewal refused"))
    );
    assert_eq!(r.lost.get("missed the server-certificate rotation"), None);
}

#[test]
fn chaos_refuses_what_must_be_refused_and_keeps_every_invariant() {
    let r = run("chaos", 300, 20, 9);
    assert_all_hold(&r);
    assert!(r.certificate_events.iter().any(|e| {
        e.what
            .contains("another workspace was uploaded and refused")
    }));
    assert!(
        r.refusals.keys().any(|k| k.starts_with("second device")),
        "{:?}",
        r.refusals
    );
    assert!(
        r.refusals.keys().any(|k| k.contains("expired")),
        "{:?}",
        r.refusals
    );
    assert!(
        r.lost
            .contains_key("agent installed through KNOX or another EMM"),
        "{:?}",
        r.lost
    );
    assert!(
        r.message_faults.contains_key("malformed check-in refused"),
        "{:?}",
        r.message_faults
    );
    assert!(r.message_faults.contains_key("sync request lost"));
    assert!(r.message_faults.contains_key("sync request duplicated"));
    // A lost CertRep: the device resends its PKCSReq, whose one-time
    // password is used by then (R-CL-1).
    assert!(
        r.message_faults.contains_key("SCEP answer lost"),
        "{:?}",
        r.message_faults
    );
    assert!(
        r.refusals
            .contains_key("SCEP refused: the one-time password was used already"),
        "{:?}",
        r.refusals
    );
    assert!(
        r.commands.keys().any(|k| k.contains("Error")),
        "{:?}",
        r.commands
    );
    // Remote wipes (R-WP-1): both platforms confirm, the devices leave
    // management and enroll again.
    assert!(
        r.commands.contains_key("apple EraseDevice Acknowledged"),
        "{:?}",
        r.commands
    );
    assert!(
        r.commands.contains_key("android Wipe done"),
        "{:?}",
        r.commands
    );
    assert!(
        r.lost.contains_key("wiped: must enroll again"),
        "{:?}",
        r.lost
    );
    assert!(r.reenrolled > 0);
}

#[test]
fn the_same_seed_gives_the_same_report_byte_for_byte() {
    let a = run("chaos", 120, 8, 77).to_json().unwrap();
    let b = run("chaos", 120, 8, 77).to_json().unwrap();
    assert_eq!(a, b);
    let c = run("chaos", 120, 8, 78).to_json().unwrap();
    assert_ne!(a, c);
}

#[test]
fn the_html_report_holds_its_three_charts() {
    let r = run("cert-rotation", 60, 37, 2);
    let html = harness::html::render(&r);
    assert!(html.starts_with("<!DOCTYPE html>"));
    // Each chart is drawn, or says it has nothing to show (no empty frame).
    for id in ["enrollment", "connected", "commands"] {
        let drawn = html.contains(&format!("<svg id=\"{id}\""));
        let empty = html.contains(&format!(
            "<p id=\"{id}\" class=\"chart empty\">Nothing to show"
        ));
        assert!(drawn != empty, "chart {id}: drawn {drawn}, empty {empty}");
    }
    assert!(html.contains("<svg id=\"enrollment\"") && html.contains("<svg id=\"connected\""));
    // This scenario sends no command: that chart says so instead of an empty frame.
    assert!(r.commands.is_empty(), "{:?}", r.commands);
    assert!(html.contains("<p id=\"commands\" class=\"chart empty\">Nothing to show"));
    assert!(html.matches("<polyline").count() >= 6);
    assert!(html.contains("class=\"marker\""), "the rotation is marked");
    assert!(
        !html.contains("<script") && !html.contains("http://fonts") && !html.contains("src=\"http")
    );
}
