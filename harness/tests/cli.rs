//! The `mdm-harness` command: exit status, listing, artifacts, threads.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

/// Runs `mdm-harness` with `args`.
fn harness(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mdm-harness"));
    command.args(args);
    command
}

/// Runs a command that must succeed; its output.
fn succeed(command: &mut Command) -> Output {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Whether a real tool is here; in CI (`CI=true`) a missing tool is a failure.
fn tool(name: &str, version_flag: &str) -> bool {
    let present = Command::new(name).arg(version_flag).output().is_ok();
    assert!(
        present || std::env::var("CI").map_or(true, |v| v != "true"),
        "{name} is required in CI"
    );
    present
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mdm-harness-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_broken_invariant_makes_the_command_exit_non_zero() {
    let broken = harness(&[
        "simulate",
        "--scenario",
        "cert-rotation",
        "--seed",
        "5",
        "--devices",
        "200",
        "--days",
        "37",
        "--max-lost",
        "0",
    ])
    .output()
    .unwrap();
    assert_eq!(
        broken.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&broken.stdout)
    );
    assert!(String::from_utf8_lossy(&broken.stderr).contains("invariant broken"));
    succeed(&mut harness(&[
        "simulate",
        "--devices",
        "40",
        "--days",
        "2",
    ]));
    let unknown = harness(&["simulate", "--scenario", "nope"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    let scenarios = succeed(&mut harness(&["scenarios"]));
    let listed = String::from_utf8_lossy(&scenarios.stdout);
    for name in [
        "baseline",
        "cert-rotation",
        "apns-renewal",
        "apns-new-topic",
        "chaos",
    ] {
        assert!(listed.contains(name));
    }
}

#[test]
fn artifacts_are_written_and_real_tools_read_them() {
    let dir = scratch("artifacts");
    succeed(harness(&["artifacts", "--out"]).arg(&dir));
    let file = |name: &str| dir.join(name);
    for name in [
        "certificates/workspace-ca.pem",
        "certificates/server.pem",
        "apns/workspace-request.csr.pem",
        "apns/push-certificate-request.plist",
        "apns/push-certificate.pem",
        "apple/enrollment.mobileconfig",
        "apple/enrollment-signed.mobileconfig",
        "apple/commands/DeviceInformation.plist",
        "android/provisioning-qr.json",
        "invitation/message.txt",
        "invitation/qr.png",
        "invitation/qr.svg",
    ] {
        assert!(file(name).is_file(), "{name} missing");
    }
    if tool("openssl", "version") {
        let ca = file("certificates/workspace-ca.pem");
        succeed(
            Command::new("openssl")
                .args(["verify", "-CAfile"])
                .arg(&ca)
                .arg(file("certificates/server.pem")),
        );
        // The signed profile verifies against the workspace CA, chain included.
        let cms = succeed(
            Command::new("openssl")
                .args([
                    "cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any", "-CAfile",
                ])
                .arg(&ca)
                .arg("-in")
                .arg(file("apple/enrollment-signed.mobileconfig")),
        );
        assert!(String::from_utf8_lossy(&cms.stdout).contains("com.apple.mdm"));
    }
    if tool("python3", "--version") {
        succeed(
            Command::new("python3")
                .args([
                    "-c",
                    "import plistlib,sys\nfor p in sys.argv[1:]: plistlib.load(open(p,'rb'))",
                ])
                .arg(file("apple/enrollment.mobileconfig"))
                .arg(file("apple/commands/DeviceInformation.plist"))
                .arg(file("apns/push-certificate-request.plist")),
        );
    }
    if tool("zbarimg", "--version") {
        let qr = succeed(
            Command::new("zbarimg")
                .args(["--quiet", "--raw"])
                .arg(file("invitation/qr.png")),
        );
        let link = String::from_utf8_lossy(&qr.stdout);
        assert!(
            link.starts_with("https://mdm.fleet.example/enroll/"),
            "{link}"
        );
        // One `enroll` segment, then the 43-character token.
        let token = link
            .trim_end()
            .trim_start_matches("https://mdm.fleet.example/enroll/");
        assert_eq!(token.len(), 43, "{link}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn one_thread_or_two_give_the_same_report_byte_for_byte() {
    let dir = scratch("threads");
    let report = |threads: &str, path: &Path| {
        succeed(
            harness(&[
                "simulate",
                "--scenario",
                "chaos",
                "--devices",
                "150",
                "--days",
                "6",
                "--seed",
                "3",
                "--threads",
                threads,
                "--report",
            ])
            .arg(path),
        );
        std::fs::read(path).unwrap()
    };
    let one = report("1", &dir.join("report-1.json"));
    let two = report("2", &dir.join("report-2.json"));
    assert!(!one.is_empty());
    assert_eq!(one, two);
    std::fs::remove_dir_all(&dir).unwrap();
}
