//! Hostile input for the certs side.
//!
//! Each file is built here, in code: encrypted keys and PKCS#12 files whose
//! key derivation asks for absurd work (scrypt `r` = 65535, `N` = 2^20,
//! `p` = 64; PBKDF2 at 10 million iterations in a PKCS#8 key, in a PKCS#12
//! key bag and in a PKCS#12 MAC), a PKCS#12 without MAC, and push
//! certificate requests nested 200 000 arrays deep. Each is refused with
//! its typed error while allocating a few KiB. (The refusals come before
//! any derivation: scrypt at `N` = 2^20 alone would allocate 1 GiB, which
//! the allocation bound catches; PBKDF2 allocates nothing, so the typed
//! error — returned only from the checks that run before deriving — is
//! the evidence there.) Real files made by the `openssl` CLI still open.

use std::process::Command;

use base64::Engine as _;
use mdm_certs::{
    CertError, CertificateAuthority, ClientIdentity, DecodedPushRequest, KeyAlgorithm,
    MAX_PBKDF2_ITERATIONS, MAX_PKCS12_KDF_ITERATIONS, MAX_PUSH_REQUEST_LEN, MAX_SCRYPT_N,
    MAX_SCRYPT_P, MAX_SCRYPT_R, Pkcs12, PrivateKey, SubjectName, Validity,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use time::macros::datetime;

use crate::{Cost, MIB, measure};

const KIB: usize = 1024;

/// [`measure`] three times, keeping the least count. The allocator counts
/// every thread, so tests of other modules running beside a measurement can
/// only add to it; the parsers here are deterministic, so the least of
/// three is still an upper bound of what one call costs, with far less
/// noise.
fn measured<T>(f: impl Fn() -> T) -> (T, Cost) {
    let (_, first) = measure(CEILING, &f);
    let (_, second) = measure(CEILING, &f);
    let (out, third) = measure(CEILING, &f);
    let allocated = first.allocated.min(second.allocated).min(third.allocated);
    (out, Cost { allocated })
}

/// The abort ceiling while measuring: only a guard against a runaway (tests
/// in other modules build their inputs while one measures); the bounds are
/// asserted on what was counted.
const CEILING: usize = 256 * MIB;

/// What a refusal of a few-hundred-byte file may allocate: the attacks
/// below ask for 16 MiB (N = 2^14, r = 8 would still be allowed), 1 GiB
/// (N = 2^20) and 8 TiB (r = 65535). Generous, as allocations of tests
/// running beside this one are counted too.
const SMALL: usize = 256 * KIB;

// ----- A few lines of DER, enough to write the hostile files -----

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(&bytes);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

fn int(value: u64) -> Vec<u8> {
    let mut bytes: Vec<u8> = value
        .to_be_bytes()
        .into_iter()
        .skip_while(|b| *b == 0)
        .collect();
    if bytes.first().is_none_or(|b| b & 0x80 != 0) {
        bytes.insert(0, 0);
    }
    tlv(0x02, &bytes)
}

fn octets(bytes: &[u8]) -> Vec<u8> {
    tlv(0x04, bytes)
}

fn explicit0(inner: Vec<u8>) -> Vec<u8> {
    tlv(0xa0, &inner)
}

fn oid(arcs: &[u64]) -> Vec<u8> {
    let mut body = vec![(arcs[0] * 40 + arcs[1]) as u8];
    for &arc in &arcs[2..] {
        let mut chunk = vec![(arc & 0x7f) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            chunk.insert(0, 0x80 | (rest & 0x7f) as u8);
            rest >>= 7;
        }
        body.extend(chunk);
    }
    tlv(0x06, &body)
}

const NULL: [u8; 2] = [0x05, 0x00];
const PBES2: &[u64] = &[1, 2, 840, 113549, 1, 5, 13];
const PBKDF2: &[u64] = &[1, 2, 840, 113549, 1, 5, 12];
const SCRYPT: &[u64] = &[1, 3, 6, 1, 4, 1, 11591, 4, 11];
const HMAC_SHA256: &[u64] = &[1, 2, 840, 113549, 2, 9];
const AES256_CBC: &[u64] = &[2, 16, 840, 1, 101, 3, 4, 1, 42];
const SHA256: &[u64] = &[2, 16, 840, 1, 101, 3, 4, 2, 1];
const DATA: &[u64] = &[1, 2, 840, 113549, 1, 7, 1];
const SHROUDED_KEY_BAG: &[u64] = &[1, 2, 840, 113549, 1, 12, 10, 1, 2];

fn pbkdf2(iterations: u64) -> Vec<u8> {
    seq(&[
        oid(PBKDF2),
        seq(&[
            octets(&[7; 16]),
            int(iterations),
            seq(&[oid(HMAC_SHA256), NULL.to_vec()]),
        ]),
    ])
}

fn scrypt(n: u64, r: u64, p: u64) -> Vec<u8> {
    seq(&[
        oid(SCRYPT),
        seq(&[octets(&[7; 16]), int(n), int(r), int(p)]),
    ])
}

/// A PKCS#8 `EncryptedPrivateKeyInfo` (PBES2 with `kdf`, AES-256-CBC).
fn encrypted_key_info(kdf: Vec<u8>) -> Vec<u8> {
    seq(&[
        seq(&[
            oid(PBES2),
            seq(&[kdf, seq(&[oid(AES256_CBC), octets(&[9; 16])])]),
        ]),
        octets(&[0x5a; 48]),
    ])
}

fn encrypted_pem(kdf: Vec<u8>) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(encrypted_key_info(kdf));
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|line| std::str::from_utf8(line).unwrap())
        .collect();
    format!(
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\n{}\n-----END ENCRYPTED PRIVATE KEY-----\n",
        lines.join("\n")
    )
}

/// A PFX holding one shrouded key bag, with a MAC of `mac_iterations`
/// (and a digest that is not checked: refusal comes first) or none.
fn pkcs12(key_kdf: Vec<u8>, mac_iterations: Option<u64>) -> Vec<u8> {
    let bag = seq(&[
        oid(SHROUDED_KEY_BAG),
        explicit0(encrypted_key_info(key_kdf)),
    ]);
    let safe = seq(&[oid(DATA), explicit0(octets(&seq(&[bag])))]);
    let auth_safe = seq(&[oid(DATA), explicit0(octets(&seq(&[safe])))]);
    let mut pfx = vec![int(3), auth_safe];
    if let Some(iterations) = mac_iterations {
        pfx.push(seq(&[
            seq(&[seq(&[oid(SHA256), NULL.to_vec()]), octets(&[0; 32])]),
            octets(&[3; 8]),
            int(iterations),
        ]));
    }
    seq(&pfx)
}

fn refused_kdf(result: Result<impl std::fmt::Debug, CertError>) -> (&'static str, u64, u64) {
    match result {
        Err(CertError::KdfParameterTooLarge {
            parameter,
            value,
            limit,
            ..
        }) => (parameter, value, limit),
        other => panic!("expected KdfParameterTooLarge, got {other:?}"),
    }
}

// ----- PKCS#8 encrypted keys -----

#[test]
fn pkcs8_scrypt_and_pbkdf2_costs_are_refused_before_deriving() {
    let _alone = crate::alone();
    let cases = [
        (scrypt(1 << 14, 65535, 1), "scrypt r", 65535, MAX_SCRYPT_R),
        (scrypt(1 << 20, 8, 1), "scrypt N", 1 << 20, MAX_SCRYPT_N),
        (scrypt(1 << 14, 8, 64), "scrypt p", 64, MAX_SCRYPT_P),
        (
            pbkdf2(10_000_000),
            "PBKDF2 iteration count",
            10_000_000,
            MAX_PBKDF2_ITERATIONS,
        ),
    ];
    for (kdf, parameter, value, limit) in cases {
        let pem = encrypted_pem(kdf);
        let (result, cost) = measured(|| PrivateKey::from_pkcs8_pem(&pem, Some("password")));
        assert_eq!(refused_kdf(result), (parameter, value, limit));
        eprintln!(
            "PKCS#8 {parameter} = {value}: {} bytes allocated",
            cost.allocated
        );
        assert!(
            cost.allocated < SMALL,
            "{parameter}: {} bytes allocated from {} bytes of PEM",
            cost.allocated,
            pem.len()
        );
    }
}

// ----- PKCS#12 -----

#[test]
fn pkcs12_key_bag_and_mac_costs_are_refused_before_deriving() {
    let _alone = crate::alone();
    let cases = [
        (
            pkcs12(pbkdf2(10_000_000), Some(2048)),
            "PBKDF2 iteration count",
            10_000_000,
            MAX_PBKDF2_ITERATIONS,
        ),
        (
            pkcs12(scrypt(1 << 14, 65535, 1), Some(2048)),
            "scrypt r",
            65535,
            MAX_SCRYPT_R,
        ),
        (
            pkcs12(scrypt(1 << 20, 8, 1), Some(2048)),
            "scrypt N",
            1 << 20,
            MAX_SCRYPT_N,
        ),
        (
            pkcs12(pbkdf2(2048), Some(10_000_000)),
            "PKCS#12 KDF iteration count",
            10_000_000,
            MAX_PKCS12_KDF_ITERATIONS,
        ),
    ];
    for (file, parameter, value, limit) in cases {
        let (result, cost) = measured(|| Pkcs12::read(&file, "password", "evil.p12"));
        assert_eq!(refused_kdf(result), (parameter, value, limit));
        eprintln!(
            "PKCS#12 {parameter} = {value}: {} bytes allocated from {} bytes",
            cost.allocated,
            file.len()
        );
        assert!(
            cost.allocated < SMALL,
            "{parameter}: {} bytes allocated from a {}-byte file",
            cost.allocated,
            file.len()
        );
    }
}

#[test]
fn pkcs12_without_mac_is_refused() {
    let _alone = crate::alone();
    let file = pkcs12(pbkdf2(2048), None);
    let (result, cost) = measured(|| Pkcs12::read(&file, "any password", "nomac.p12"));
    match result {
        Err(CertError::Pkcs12WithoutMac { source_name }) => assert_eq!(source_name, "nomac.p12"),
        other => panic!("{other:?}"),
    }
    assert!(cost.allocated < SMALL, "{} bytes", cost.allocated);
}

fn have_openssl() -> bool {
    let ok = Command::new("openssl").arg("version").output().is_ok();
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "`openssl` is required in CI but is not installed"
        );
        eprintln!("skipping: `openssl` not installed");
    }
    ok
}

/// OpenSSL 3's default PKCS#12 (PBES2/PBKDF2-SHA256/AES-256, MAC SHA-256,
/// 2048 iterations), its `-legacy` one (RC2-40 and 3DES, MAC SHA-1) and a
/// scrypt PKCS#8 key (`pkcs8 -topk8 -scrypt`: N = 2^14, r = 8, p = 1) still
/// open; its `-nomac` file is refused.
#[test]
fn real_openssl_files_still_open() {
    let _alone = crate::alone();
    if !have_openssl() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("hostile-certs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let now = datetime!(2026-06-01 12:00 UTC);
    let mut rng = ChaCha20Rng::seed_from_u64(13);
    let ca = CertificateAuthority::create(
        &SubjectName::common_name("Hostile Test CA").unwrap(),
        Validity::days(now, 3650).unwrap(),
        KeyAlgorithm::EcdsaP256,
        &mut rng,
    )
    .unwrap();
    let issued = ca
        .issue_client_certificate_with_key(
            &ClientIdentity::new("mallory", None).unwrap(),
            Validity::days(now, 365).unwrap(),
            KeyAlgorithm::EcdsaP256,
            &mut rng,
        )
        .unwrap();
    let cert = dir.join("c.pem");
    let key = dir.join("k.pem");
    std::fs::write(&cert, issued.certificate.pem()).unwrap();
    std::fs::write(
        &key,
        issued.key.to_pkcs8_pem(None, &mut rng).unwrap().as_bytes(),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = Command::new("openssl").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let path = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let export = |name: &str, extra: &[&str]| {
        let out = path(name);
        let mut args = vec![
            "pkcs12",
            "-export",
            "-in",
            cert.to_str().unwrap(),
            "-inkey",
            key.to_str().unwrap(),
            "-passout",
            "pass:upload pw",
            "-out",
            &out,
        ];
        args.extend_from_slice(extra);
        run(&args);
        std::fs::read(&out).unwrap()
    };
    for (name, extra) in [("default.p12", &[][..]), ("legacy.p12", &["-legacy"][..])] {
        let file = export(name, extra);
        let (result, cost) = measured(|| Pkcs12::read(&file, "upload pw", name));
        let contents = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(contents.certificate, issued.certificate, "{name}");
        assert!(contents.key.is_some(), "{name}");
        eprintln!("{name}: {} bytes allocated", cost.allocated);
        // Alone it is ~15 KiB; tests of other modules beside it are counted too.
        assert!(cost.allocated < 8 * MIB, "{name}: {} bytes", cost.allocated);
        assert!(matches!(
            Pkcs12::read(&file, "wrong", name),
            Err(CertError::Pkcs12PasswordWrong { .. })
        ));
    }
    let nomac = export("nomac.p12", &["-nomac"]);
    assert!(matches!(
        Pkcs12::read(&nomac, "upload pw", "nomac.p12"),
        Err(CertError::Pkcs12WithoutMac { .. })
    ));

    let scrypt_key = path("scrypt.pem");
    run(&[
        "pkcs8",
        "-topk8",
        "-scrypt",
        "-in",
        key.to_str().unwrap(),
        "-passout",
        "pass:key pw",
        "-out",
        &scrypt_key,
    ]);
    let pem = std::fs::read_to_string(&scrypt_key).unwrap();
    let (result, cost) = measured(|| PrivateKey::from_pkcs8_pem(&pem, Some("key pw")));
    assert_eq!(
        result.unwrap().public_key_raw(),
        issued.key.public_key_raw()
    );
    // scrypt at N = 2^14, r = 8 needs its 16 MiB, and no more.
    eprintln!("scrypt key: {} bytes allocated", cost.allocated);
    assert!(cost.allocated < 40 * MIB, "{} bytes", cost.allocated);
    let _ = std::fs::remove_dir_all(&dir);
}

// ----- The push certificate request -----

fn nested_arrays(depth: usize) -> String {
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><plist version=\"1.0\">{}{}</plist>",
        "<array>".repeat(depth),
        "</array>".repeat(depth)
    );
    base64::engine::general_purpose::STANDARD.encode(xml)
}

#[test]
fn push_request_of_200k_nested_arrays_is_refused_by_size() {
    let _alone = crate::alone();
    let encoded = nested_arrays(200_000);
    assert!(encoded.len() > 2 * MIB);
    let (result, cost) = measured(|| DecodedPushRequest::decode(&encoded));
    match result {
        Err(CertError::PushRequestTooLarge { length, limit }) => {
            assert_eq!((length, limit), (encoded.len(), MAX_PUSH_REQUEST_LEN));
        }
        other => panic!("{other:?}"),
    }
    assert!(cost.allocated < SMALL, "{} bytes", cost.allocated);
}

#[test]
fn push_request_nested_under_the_size_limit_is_refused_by_shape() {
    let _alone = crate::alone();
    // As deep as fits the size limit: refused at the first array.
    let encoded = nested_arrays(3_000);
    assert!(encoded.len() <= MAX_PUSH_REQUEST_LEN);
    let (result, cost) = measured(|| DecodedPushRequest::decode(&encoded));
    assert!(
        matches!(&result, Err(CertError::InvalidPushRequest { reason }) if reason == "not a dictionary"),
        "{result:?}"
    );
    // The copy without whitespace, the decoded XML and the XML reader's buffers.
    assert!(
        cost.allocated < 4 * encoded.len(),
        "{} bytes for {} bytes of input",
        cost.allocated,
        encoded.len()
    );
    // Nested inside the dictionary: refused where the array starts.
    let xml = format!(
        "<plist version=\"1.0\"><dict><key>PushCertRequestCSR</key>{}{}</dict></plist>",
        "<array>".repeat(3_000),
        "</array>".repeat(3_000)
    );
    let encoded = base64::engine::general_purpose::STANDARD.encode(xml);
    let (result, cost) = measured(|| DecodedPushRequest::decode(&encoded));
    assert!(
        matches!(&result, Err(CertError::InvalidPushRequest { reason }) if reason.contains("PushCertRequestCSR")),
        "{result:?}"
    );
    assert!(
        cost.allocated < 4 * encoded.len(),
        "{} bytes",
        cost.allocated
    );
}
