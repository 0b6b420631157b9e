//! Two `mdm-harness serve` processes over one PostgreSQL database serve one
//! fleet (issue #19, #18): both are given the same `--store`, the same
//! `--state-dir` (the tenant's CA, server certificate and token hash are
//! made by the first and read by the second) and the same connection
//! address — a TCP proxy standing in for the load balancer, whose port the
//! profiles name (`--public-port`). mdmb's devices enroll through process A;
//! a command is queued through B's API and fetched and acknowledged through
//! B; A's API sees the queue, then the result, as B left them.
//!
//! The database comes from `MDM_TEST_POSTGRES` (a connection URL or libpq's
//! `key=value` words, as `.ci/postgres-start` prints); without it the test
//! is skipped with a message, except under `CI=true`, where that is a
//! failure. mdmb comes from `../shared/tools/` (or `MDMB=`), the same way.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod serve_support;

use serde_json::Value;
use serve_support::{
    Proxy, Schema, Server, args, connect_all, enroll, postgres, push_certificate, serve_args,
    test_dir, tool,
};

const DEVICES: usize = 2;

#[test]
fn two_processes_over_one_postgres_database_serve_one_fleet() {
    let Some(mdmb_bin) = tool("MDMB", "mdmb") else {
        return;
    };
    let Some(connection) = postgres() else {
        return;
    };
    let store = if connection.starts_with("postgres://") || connection.starts_with("postgresql://")
    {
        connection.clone()
    } else {
        format!("postgres:{connection}")
    };
    let tenant = format!("pg{}", std::process::id());
    let _schema = Schema {
        connection: connection.clone(),
        name: format!("mdm_{tenant}"),
    };
    let dir = test_dir("postgres");
    let (push_pem, issuer) = push_certificate(&dir);
    let proxy = Proxy::start();
    let mut serve_args = serve_args(&tenant, &dir.join("state"), &issuer, Some(proxy.port));
    serve_args.extend(args(["--store", &store]));
    // A makes the tenant (its CA, server certificate, token, schema); B,
    // started after it, reads them.
    let a = Server::start(&serve_args, &dir.join("a.log"));
    let token = a
        .tokens
        .get(&tenant)
        .expect("A made the tenant's token")
        .clone();
    let b = Server::start(&serve_args, &dir.join("b.log"));
    assert!(
        b.tokens.is_empty(),
        "B reads the tenant A made: {:?}",
        b.tokens
    );
    let base = format!("https://127.0.0.1:{}/t/{tenant}", proxy.port);
    assert_eq!(a.tenants.get(&tenant), Some(&format!("{base}/")));
    assert_eq!(b.tenants.get(&tenant), Some(&format!("{base}/")));
    let (api_a, api_b) = (a.api(&tenant, &token), b.api(&tenant, &token));

    // Enrolled through A.
    proxy.point_at(a.port);
    let udids = enroll(&api_a, &push_pem, &mdmb_bin, &dir, DEVICES);

    // B knows the devices A enrolled.
    let listed = api_b.json("GET", "devices", &Value::Null);
    let list = listed["devices"].as_array().unwrap();
    assert_eq!(list.len(), DEVICES, "{listed}");
    for udid in &udids {
        let device = list
            .iter()
            .find(|d| d["udid"] == udid.as_str())
            .unwrap_or_else(|| panic!("B lists {udid}: {listed}"));
        assert_eq!(device["state"], "connected", "{device}");
        assert_eq!(device["pending_commands"], 0, "{device}");
    }

    // Queued through B; A sees the queue.
    let uuid = "5D1B9E47-2C61-4F0A-9A1E-7B3C2D4E5F60";
    api_b.enqueue_device_information(&udids, uuid);
    for udid in &udids {
        assert_eq!(api_a.commands(udid), (1, Vec::new()), "A sees B's queue");
    }

    // Fetched and acknowledged through B; A sees the result.
    proxy.point_at(b.port);
    connect_all(&mdmb_bin, &dir, &api_b.ca, DEVICES);
    for udid in &udids {
        let (pending, finished) = api_a.commands(udid);
        assert_eq!(pending, 0, "{udid}");
        assert_eq!(
            finished,
            vec![(uuid.to_owned(), "Acknowledged".to_owned())],
            "{udid}"
        );
    }
    let after = api_a.json("GET", "devices", &Value::Null);
    for device in after["devices"].as_array().unwrap() {
        assert!(device["syncs"].as_u64().unwrap() >= 1, "{device}");
    }

    // A second command queued through A, fetched through B.
    let second = "7E2C0F58-3D72-4A1B-8B2F-8C4D3E5F6071";
    api_a.enqueue_device_information(&udids, second);
    connect_all(&mdmb_bin, &dir, &api_b.ca, DEVICES);
    for udid in &udids {
        let (pending, finished) = api_b.commands(udid);
        assert_eq!(pending, 0, "{udid}");
        assert!(
            finished.contains(&(second.to_owned(), "Acknowledged".to_owned())),
            "{udid}: {finished:?}"
        );
    }

    b.stop();
    a.stop();
    drop(proxy);
    let _ = std::fs::remove_dir_all(&dir);
}
