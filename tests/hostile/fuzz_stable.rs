//! The fuzz targets of `targets.rs`, run on stable with a fixed budget: the
//! seeds (real artifacts from `harness::artifacts::write_all` and the
//! captures in `../shared/vectors/`), then mutations of them drawn from a
//! seeded generator — bit flips, boundary bytes, insertions, deletions,
//! repeats, truncations and splices. An input that panics is written to
//! `target/fuzz-failures/<target>/` and fails the test; one that allocates
//! past the ceiling aborts the binary (also a failure).
//!
//! `MDM_FUZZ_INPUTS` sets the mutations per target (default 3000) and
//! `MDM_FUZZ_SEED` the generator's seed, so a longer local run is
//! `MDM_FUZZ_INPUTS=100000 cargo test --release -p tests --test hostile fuzz`.

use std::path::{Path, PathBuf};

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

use crate::targets::TARGETS;
use crate::{MIB, measure};

/// The largest input a mutation makes.
const MAX_INPUT: usize = 256 * 1024;

fn seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"{}".to_vec(),
        b"<?xml version=\"1.0\"?><plist version=\"1.0\"><dict/></plist>".to_vec(),
        b"bplist00".to_vec(),
        // The wire forms no artifact file holds: a sync request and answer,
        // a saved workspace.
        br#"{"deviceId": 0, "clientCertificateSha256": null, "appliedConfigurationVersion": null,
            "agent": {"version": "1.4.0", "install": {"installerPackage": "com.google.android.packageinstaller",
            "managingPackage": "io.mdmtoolkit.agent", "embeddedSettings": true}}, "osVersion": "14.0.0",
            "status": {"realTimeProtection": true, "definitionsDate": "2026-11-28T07:00:00Z",
            "lastScan": {"at": "2026-11-28T08:00:00Z", "result": "CLEAN"}, "license": "ACTIVE",
            "deviceAdminGranted": true, "accessibilityGranted": true},
            "commandResults": [{"id": 1, "status": "DONE"}]}"#.to_vec(),
        br#"{"deviceId": 0, "deviceState": "managed", "configurationVersion": null,
            "license": {"activationCode": "AB12C-DE34F-GH56J-KL78M", "expiresAt": "2027-11-28T00:00:00Z"},
            "clientCertificate": "NOT_ISSUED", "agentCredential": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "commands": [{"id": 2, "kind": "SCAN_NOW", "issuedAt": "2026-11-28T09:00:00Z"}],
            "nextSyncAt": "2026-11-28T15:00:00Z"}"#.to_vec(),
        saved_workspace().into_bytes(),
    ];
    let out = std::env::temp_dir().join(format!("mdm-fuzz-seeds-{}", std::process::id()));
    let now = time::macros::datetime!(2026-12-01 09:00 UTC);
    let written = harness::artifacts::write_all(&out, 1, now).expect("the artifacts are written");
    assert!(written.len() > 10, "too few artifacts: {written:?}");
    for path in &written {
        seeds.push(std::fs::read(path).expect("an artifact reads back"));
    }
    let _ = std::fs::remove_dir_all(&out);
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors");
    let mut captures = Vec::new();
    collect(&vectors, &mut captures);
    if captures.is_empty() {
        assert!(
            std::env::var_os("CI").is_none(),
            "no seed captures under {} (CI needs the shared vectors)",
            vectors.display()
        );
        eprintln!(
            "fuzz: no captures under {}; artifacts only",
            vectors.display()
        );
    }
    for path in captures {
        seeds.push(std::fs::read(path).expect("a capture reads"));
    }
    seeds
}

fn saved_workspace() -> String {
    let now = time::macros::datetime!(2026-12-01 09:00 UTC);
    let mut ws =
        mdm_model::Workspace::new("acme", "ACME Corp", Some("JP"), now).expect("a workspace");
    let alice = ws
        .add_user(
            "alice",
            Some(mdm_model::EmailAddress::parse("alice@acme.example").expect("an address")),
            now,
        )
        .expect("a user");
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    ws.issue_invitation(alice, now, &mut rng)
        .expect("an invitation");
    ws.add_policy(
        "Default",
        mdm_model::Workspace::MANAGED,
        mdm_model::PolicySettings::default(),
        now,
    )
    .expect("a policy");
    ws.to_json().expect("JSON")
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            collect(&path, out);
        } else if path
            .file_name()
            .is_some_and(|n| n != "LICENSE" && n != "README.md")
        {
            out.push(path);
        }
    }
}

/// One mutation of a seed (or of two, spliced).
fn mutate(rng: &mut ChaCha20Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let pick = |rng: &mut ChaCha20Rng| &seeds[rng.next_u32() as usize % seeds.len()];
    let mut data = pick(rng).clone();
    let rounds = 1 + rng.next_u32() % 4;
    for _ in 0..rounds {
        let len = data.len();
        let at = if len == 0 {
            0
        } else {
            rng.next_u32() as usize % len
        };
        match rng.next_u32() % 9 {
            0 if len > 0 => data[at] ^= 1 << (rng.next_u32() % 8),
            1 if len > 0 => {
                data[at] = [0, 0xff, 0x7f, 0x80, b'<', b'{', b'"'][rng.next_u32() as usize % 7]
            }
            2 => {
                let n = 1 + rng.next_u32() as usize % 16;
                let bytes: Vec<u8> = (0..n).map(|_| rng.next_u32() as u8).collect();
                data.splice(at..at, bytes);
            }
            3 if len > 0 => {
                let n = 1 + rng.next_u32() as usize % (len - at).min(64);
                data.drain(at..at + n);
            }
            4 if len > 0 => {
                let n = 1 + rng.next_u32() as usize % (len - at).min(256);
                let piece = data[at..at + n].to_vec();
                let times = 1 + rng.next_u32() as usize % 64;
                for _ in 0..times {
                    data.splice(at..at, piece.iter().copied());
                }
            }
            5 => data.truncate(at),
            6 => {
                let other = pick(rng);
                let from = if other.is_empty() {
                    0
                } else {
                    rng.next_u32() as usize % other.len()
                };
                data.truncate(at);
                data.extend_from_slice(&other[from..]);
            }
            7 => {
                let n = rng.next_u32() as usize % 512;
                data = (0..n).map(|_| rng.next_u32() as u8).collect();
            }
            _ => data.insert(at, 0),
        }
        data.truncate(MAX_INPUT);
    }
    data
}

#[test]
fn every_target_survives_its_seeds_and_their_mutations() {
    let _alone = crate::alone();
    let inputs: usize = std::env::var("MDM_FUZZ_INPUTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let seed: u64 = std::env::var("MDM_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(13);
    let seeds = seeds();
    let failures_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/fuzz-failures");
    let mut failed = Vec::new();
    let mut total = 0usize;
    for target in TARGETS {
        let mut rng = ChaCha20Rng::seed_from_u64(seed ^ u64::from(crate::fnv(target.name)));
        let mut ran = 0usize;
        let mut most = 0usize;
        let cases = seeds
            .iter()
            .cloned()
            .chain((0..inputs).map(|_| mutate(&mut rng, &seeds)));
        for (k, input) in cases.enumerate() {
            let (outcome, cost) = measure(512 * MIB, || {
                std::panic::catch_unwind(|| (target.run)(&input))
            });
            ran += 1;
            most = most.max(cost.allocated);
            if outcome.is_err() {
                let dir = failures_dir.join(target.name);
                let _ = std::fs::create_dir_all(&dir);
                let file = dir.join(format!("input-{k}"));
                let _ = std::fs::write(&file, &input);
                failed.push(format!("{} panicked on {}", target.name, file.display()));
            }
        }
        total += ran;
        println!(
            "fuzz {:<28} {ran:>6} inputs, at most {most} bytes allocated by one",
            target.name
        );
    }
    println!(
        "fuzz: {total} inputs over {} targets, {} failures",
        TARGETS.len(),
        failed.len()
    );
    assert!(failed.is_empty(), "{failed:#?}");
}

#[test]
fn every_target_has_its_libfuzzer_entry_and_no_entry_is_stale() {
    let _alone = crate::alone();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/fuzz_targets");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("fuzz/fuzz_targets exists")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".rs").map(str::to_owned))
        .collect();
    files.sort();
    let mut names: Vec<String> = TARGETS.iter().map(|t| t.name.to_owned()).collect();
    names.sort();
    assert_eq!(files, names, "fuzz/fuzz_targets/*.rs and TARGETS differ");
    let manifest = std::fs::read_to_string(dir.join("../Cargo.toml")).expect("fuzz/Cargo.toml");
    for name in &names {
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "{name} is not a [[bin]] of fuzz/Cargo.toml"
        );
        let entry = std::fs::read_to_string(dir.join(format!("{name}.rs"))).expect("entry");
        assert!(
            entry.contains(&format!("targets::run(\"{name}\"")),
            "{name}.rs runs another target"
        );
    }
}
