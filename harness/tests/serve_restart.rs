//! A restart of `mdm-harness serve` keeps what it acknowledged (issue #18):
//! mdmb's devices enroll, a command is queued, the server is stopped with
//! SIGTERM (by PID) and started again on the same SQLite store and state
//! folder (on another port: the profiles name a TCP proxy's, which follows
//! it). The devices are still known with their Apple ids, the command is
//! still queued, and it is fetched and acknowledged after the restart.
//!
//! mdmb comes from `../shared/tools/` (or `MDMB=`); without it the test is
//! skipped, except under `CI=true`, where that is a failure.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod serve_support;

use serde_json::Value;
use serve_support::{
    Proxy, Server, connect_all, enroll, push_certificate, serve_args, test_dir, tool,
};

const DEVICES: usize = 2;

#[test]
fn a_restarted_server_keeps_enrolled_devices_and_their_queued_commands() {
    let Some(mdmb_bin) = tool("MDMB", "mdmb") else {
        return;
    };
    let dir = test_dir("restart");
    let (push_pem, issuer) = push_certificate(&dir);
    let proxy = Proxy::start();
    let serve_args = serve_args("acme", &dir.join("state"), &issuer, Some(proxy.port));

    let first = Server::start(&serve_args, &dir.join("first.log"));
    let token = first
        .tokens
        .get("acme")
        .expect("the tenant's token")
        .clone();
    proxy.point_at(first.port);
    let api = first.api("acme", &token);
    let udids = enroll(&api, &push_pem, &mdmb_bin, &dir, DEVICES);
    let uuid = "1A2B3C4D-5E6F-4A0B-9C1D-2E3F4A5B6C7D";
    api.enqueue_device_information(&udids, uuid);
    for udid in &udids {
        assert_eq!(api.commands(udid), (1, Vec::new()));
    }
    first.stop();

    let second = Server::start(&serve_args, &dir.join("second.log"));
    assert!(
        second.tokens.is_empty(),
        "the tenant is read back, not made"
    );
    proxy.point_at(second.port);
    let api = second.api("acme", &token);
    let listed = api.json("GET", "devices", &Value::Null);
    let list = listed["devices"].as_array().unwrap();
    assert_eq!(list.len(), DEVICES, "{listed}");
    for udid in &udids {
        let device = list
            .iter()
            .find(|d| d["udid"] == udid.as_str())
            .unwrap_or_else(|| panic!("{udid} still known: {listed}"));
        assert_eq!(device["state"], "connected", "{device}");
        assert_eq!(device["pending_commands"], 1, "still queued: {device}");
    }
    connect_all(&mdmb_bin, &dir, &api.ca, DEVICES);
    for udid in &udids {
        assert_eq!(
            api.commands(udid),
            (0, vec![(uuid.to_owned(), "Acknowledged".to_owned())]),
            "{udid}"
        );
    }
    second.stop();
    drop(proxy);
    let _ = std::fs::remove_dir_all(&dir);
}
