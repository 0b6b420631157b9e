//! The `mdm-harness` command: exit status, listing, artifacts.

#[test]
fn a_broken_invariant_makes_the_command_exit_non_zero() {
    let exe = env!("CARGO_BIN_EXE_mdm-harness");
    let broken = std::process::Command::new(exe)
        .args([
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
    let fine = std::process::Command::new(exe)
        .args(["simulate", "--devices", "40", "--days", "2"])
        .output()
        .unwrap();
    assert_eq!(
        fine.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&fine.stderr)
    );
    let unknown = std::process::Command::new(exe)
        .args(["simulate", "--scenario", "nope"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    let scenarios = std::process::Command::new(exe)
        .arg("scenarios")
        .output()
        .unwrap();
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
    let exe = env!("CARGO_BIN_EXE_mdm-harness");
    let dir = std::env::temp_dir().join(format!("mdm-harness-artifacts-{}", std::process::id()));
    let out = std::process::Command::new(exe)
        .args(["artifacts", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for file in [
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
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let tool = |name: &str| {
        std::process::Command::new(name)
            .arg("--version")
            .output()
            .is_ok()
            || std::process::Command::new(name)
                .arg("version")
                .output()
                .is_ok()
    };
    if tool("openssl") {
        let verify = std::process::Command::new("openssl")
            .args(["verify", "-CAfile"])
            .arg(dir.join("certificates/workspace-ca.pem"))
            .arg(dir.join("certificates/server.pem"))
            .output()
            .unwrap();
        assert!(
            verify.status.success(),
            "{}",
            String::from_utf8_lossy(&verify.stderr)
        );
        let cms = std::process::Command::new("openssl")
            .args(["cms", "-verify", "-inform", "DER", "-noverify", "-in"])
            .arg(dir.join("apple/enrollment-signed.mobileconfig"))
            .output()
            .unwrap();
        assert!(
            cms.status.success(),
            "{}",
            String::from_utf8_lossy(&cms.stderr)
        );
        assert!(String::from_utf8_lossy(&cms.stdout).contains("com.apple.mdm"));
    } else {
        assert!(!ci, "openssl is required in CI");
    }
    if tool("python3") {
        let plists = std::process::Command::new("python3")
            .args([
                "-c",
                "import plistlib,sys\nfor p in sys.argv[1:]: plistlib.load(open(p,'rb'))",
            ])
            .arg(dir.join("apple/enrollment.mobileconfig"))
            .arg(dir.join("apple/commands/DeviceInformation.plist"))
            .arg(dir.join("apns/push-certificate-request.plist"))
            .output()
            .unwrap();
        assert!(
            plists.status.success(),
            "{}",
            String::from_utf8_lossy(&plists.stderr)
        );
    } else {
        assert!(!ci, "python3 is required in CI");
    }
    if std::process::Command::new("zbarimg")
        .arg("--version")
        .output()
        .is_ok()
    {
        let qr = std::process::Command::new("zbarimg")
            .args(["--quiet", "--raw"])
            .arg(dir.join("invitation/qr.png"))
            .output()
            .unwrap();
        assert!(
            String::from_utf8_lossy(&qr.stdout).starts_with("https://mdm.fleet.example/enroll/")
        );
    } else {
        assert!(!ci, "zbarimg is required in CI");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn one_thread_or_two_give_the_same_report_byte_for_byte() {
    let exe = env!("CARGO_BIN_EXE_mdm-harness");
    let dir = std::env::temp_dir().join(format!("mdm-harness-threads-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut reports = Vec::new();
    for threads in ["1", "2"] {
        let path = dir.join(format!("report-{threads}.json"));
        let out = std::process::Command::new(exe)
            .args([
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
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        reports.push(std::fs::read(&path).unwrap());
    }
    assert!(!reports[0].is_empty());
    assert_eq!(reports[0], reports[1]);
    std::fs::remove_dir_all(&dir).unwrap();
}
