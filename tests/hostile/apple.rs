//! Hostile input for the apple side: plists that claim more than their
//! size (binary reference bombs, oversized and over-noded XML), CMS
//! SignedData with thousands of `messageDigest` attributes, and the
//! `Debug` output of every type that holds a device secret.

use mdm_apple::{
    AppleDeviceId, AppleEnrollment, AppleError, Command, CommandRequest, CommandUuid, DeviceLock,
    DeviceMessage, EraseDevice, MAX_PLIST_BYTES, MAX_PLIST_NODES, ProfileSigner, PushMagic,
    PushOptions, PushToken, TokenUpdate, UnlockToken, decode, push_request,
    verify_detached_signature, verify_signed_profile,
};
use mdm_certs::{CertificateAuthority, CertifiedKey, KeyAlgorithm, SubjectName, Validity};
use mdm_model::PushTopic;
use mdm_model::ServerHost;
use rand_core::SeedableRng;
use time::OffsetDateTime;
use time::macros::datetime;

use crate::{MIB, measure};

const TOPIC: &str = "com.apple.mgmt.External.e0bd1eac-1f17-4c8e-8a63-dd17d3dd35d9";
const NOW: OffsetDateTime = datetime!(2026-11-28 12:00 UTC);

// ---------------------------------------------------------------- bplist00

/// An object's marker byte and length, as binary plists write them: the
/// length in the low nibble, or `0xF` and an integer object after it.
fn marker(kind: u8, len: usize) -> Vec<u8> {
    if len < 15 {
        return vec![kind | u8::try_from(len).unwrap()];
    }
    let mut out = vec![kind | 0x0f];
    match u16::try_from(len) {
        Ok(short) => {
            out.push(0x11);
            out.extend_from_slice(&short.to_be_bytes());
        }
        Err(_) => {
            out.push(0x12);
            out.extend_from_slice(&u32::try_from(len).unwrap().to_be_bytes());
        }
    }
    out
}

/// An array object whose elements are the objects `refs` (one-byte refs).
fn array_of(refs: &[u8]) -> Vec<u8> {
    let mut out = marker(0xa0, refs.len());
    out.extend_from_slice(refs);
    out
}

/// An ASCII string object.
fn ascii(s: &[u8]) -> Vec<u8> {
    let mut out = marker(0x50, s.len());
    out.extend_from_slice(s);
    out
}

/// A `bplist00` file of `objects` (object 0 is the root; at most 255
/// objects, so references are one byte), with its offset table and trailer.
fn bplist(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"bplist00".to_vec();
    let mut offsets = Vec::new();
    for object in objects {
        offsets.push(u32::try_from(out.len()).unwrap());
        out.extend_from_slice(object);
    }
    let table = out.len() as u64;
    for offset in offsets {
        out.extend_from_slice(&offset.to_be_bytes());
    }
    out.extend_from_slice(&[0; 6]);
    out.push(4); // offset size
    out.push(1); // reference size
    out.extend_from_slice(&(objects.len() as u64).to_be_bytes());
    out.extend_from_slice(&0u64.to_be_bytes()); // root object
    out.extend_from_slice(&table.to_be_bytes());
    out
}

/// Depth 7, fanout 14: each level is one array referencing the next level
/// 14 times, so ~170 bytes stand for 14^7 ≈ 105 million values.
fn reference_bomb() -> Vec<u8> {
    const DEPTH: u8 = 7;
    let mut objects: Vec<Vec<u8>> = (0..DEPTH).map(|level| array_of(&[level + 1; 14])).collect();
    objects.push(ascii(b"x"));
    bplist(&objects)
}

#[test]
fn binary_plist_reference_bomb_is_refused_at_its_size() {
    let _alone = crate::alone();
    let bomb = reference_bomb();
    assert!(bomb.len() < 200, "{} bytes", bomb.len());
    let (result, cost) = measure(256 * MIB, || decode(&bomb));
    // At most one value per input byte: refused after ~170 values, not 10^8.
    assert_eq!(
        result.err(),
        Some(AppleError::PlistTooManyNodes { max: bomb.len() })
    );
    assert!(cost.allocated < 256 * 1024, "{cost:?}");
}

#[test]
fn one_large_string_referenced_many_times_is_refused() {
    let _alone = crate::alone();
    // A 1 MiB string referenced 1,000 times: 1 GB of strings from 1 MiB.
    let big = vec![b'a'; MIB];
    let body = bplist(&[array_of(&[1; 1000]), ascii(&big)]);
    assert!(body.len() < MAX_PLIST_BYTES);
    let (result, cost) = measure(256 * MIB, || decode(&body));
    assert_eq!(
        result.err(),
        Some(AppleError::PlistContentTooLarge {
            max: MAX_PLIST_BYTES
        })
    );
    // The reader copies the string once per reference until the budget is
    // spent: a few times the limit, not a thousand times the input.
    assert!(cost.allocated < 4 * MAX_PLIST_BYTES, "{cost:?}");
}

#[test]
fn oversized_xml_body_is_refused_unread() {
    let _alone = crate::alone();
    let mut body =
        b"<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>A</key><string>".to_vec();
    body.resize(MAX_PLIST_BYTES + 1, b'a');
    let (result, cost) = measure(256 * MIB, || decode(&body));
    assert_eq!(
        result.err(),
        Some(AppleError::PlistTooLarge {
            len: MAX_PLIST_BYTES + 1,
            max: MAX_PLIST_BYTES
        })
    );
    assert!(cost.allocated < 4096, "{cost:?}");
}

#[test]
fn xml_plist_with_too_many_nodes_is_refused() {
    let _alone = crate::alone();
    let count = MAX_PLIST_NODES + 50_000;
    let mut body = b"<?xml version=\"1.0\"?><plist version=\"1.0\"><array>".to_vec();
    for _ in 0..count {
        body.extend_from_slice(b"<true/>");
    }
    body.extend_from_slice(b"</array></plist>");
    assert!(body.len() < MAX_PLIST_BYTES);
    let (result, cost) = measure(256 * MIB, || decode(&body));
    assert_eq!(
        result.err(),
        Some(AppleError::PlistTooManyNodes {
            max: MAX_PLIST_NODES
        })
    );
    // 100,000 values held before the refusal (~24 MB allocated in all,
    // freed or not, for a 1 MB body), not 150,000 or more.
    assert!(cost.allocated < 32 * MIB, "{cost:?}");
}

// --------------------------------------------------------------- CMS / DER

/// One DER element: tag byte, content.
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
    len: usize,
}

fn tlv(bytes: &[u8]) -> Tlv<'_> {
    let (len, header) = match bytes[1] {
        n if n < 0x80 => (usize::from(n), 2),
        n => {
            let k = usize::from(n & 0x7f);
            let len = bytes[2..2 + k]
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            (len, 2 + k)
        }
    };
    Tlv {
        tag: bytes[0],
        content: &bytes[header..header + len],
        len: header + len,
    }
}

fn children(content: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let len = tlv(rest).len;
        out.push(&rest[..len]);
        rest = &rest[len..];
    }
    out
}

fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match content.len() {
        n if n < 0x80 => out.push(u8::try_from(n).unwrap()),
        n => {
            let bytes = (n as u32).to_be_bytes();
            let skip = bytes.iter().take_while(|b| **b == 0).count();
            out.push(0x80 | u8::try_from(4 - skip).unwrap());
            out.extend_from_slice(&bytes[skip..]);
        }
    }
    out.extend_from_slice(content);
    out
}

/// Rebuilds the element `der` with the descendant at `path` (child indices;
/// negative counts from the end) replaced by `f(descendant)`.
fn rewrite(der: &[u8], path: &[isize], f: &dyn Fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
    let Some((&first, rest)) = path.split_first() else {
        return f(der);
    };
    let element = tlv(der);
    let mut kids = children(element.content);
    let index = if first < 0 {
        kids.len() - first.unsigned_abs()
    } else {
        first.unsigned_abs()
    };
    let replaced = rewrite(kids[index], rest, f);
    kids[index] = &replaced;
    encode(element.tag, &kids.concat())
}

/// ContentInfo → [0] → SignedData → signerInfos (last) → the first
/// SignerInfo → its signed attributes (`[0]`, the fourth field).
const SIGNED_ATTRS: [isize; 5] = [1, 0, -1, 0, 3];

const MESSAGE_DIGEST_OID: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04,
];
const ID_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
const SIGNING_TIME_OID: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05,
];
const CONTENT_TYPE_OID: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03,
];

/// A workspace CA and a signing identity it issued.
fn trusted_signer() -> (CertificateAuthority, CertifiedKey, ProfileSigner) {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(13);
    let ca = CertificateAuthority::create(
        &SubjectName::common_name("Hostile Test CA").unwrap(),
        Validity::days(NOW - time::Duration::days(1), 365).unwrap(),
        KeyAlgorithm::EcdsaP256,
        &mut rng,
    )
    .unwrap();
    let server = ca
        .issue_server_certificate(
            &ServerHost::parse("mdm.example.com").unwrap(),
            Validity::days(NOW - time::Duration::days(1), 90).unwrap(),
            KeyAlgorithm::EcdsaP256,
            &mut rng,
        )
        .unwrap();
    let chain = [server.certificate.der().to_vec()];
    let signer = ProfileSigner::new(&chain, server.key.pkcs8_der_secret()).unwrap();
    (ca, server, signer)
}

/// `extra` more attributes of `oid` (each with a distinct value) appended
/// to the signed attributes of `signed`.
fn with_extra_attributes(signed: &[u8], oid: &'static [u8], extra: usize) -> Vec<u8> {
    rewrite(signed, &SIGNED_ATTRS, &|attrs| {
        let element = tlv(attrs);
        let mut content = element.content.to_vec();
        for n in 0..extra {
            let mut value = [0u8; 32];
            value[..8].copy_from_slice(&(n as u64).to_be_bytes());
            let value = if oid == MESSAGE_DIGEST_OID {
                encode(0x04, &value)
            } else {
                encode(0x06, ID_DATA)
            };
            let attribute = encode(0x30, &[oid, &encode(0x31, &value)].concat());
            content.extend_from_slice(&attribute);
        }
        encode(element.tag, &content)
    })
}

#[test]
fn thousands_of_message_digest_attributes_are_refused_before_hashing() {
    let _alone = crate::alone();
    let (ca, _, signer) = trusted_signer();
    let anchors = [ca.certificate().clone()];
    let content = vec![b'x'; MIB];
    let signed = signer.sign(&content, NOW).unwrap();
    // The untouched signature verifies, hashing the content exactly once.
    let verified = verify_signed_profile(&signed, &anchors, NOW).unwrap();
    assert_eq!(verified.bytes_hashed(), MIB);

    // 5,000 messageDigest attributes over 1 MiB (5 GB of hashing before).
    let hostile = with_extra_attributes(&signed, MESSAGE_DIGEST_OID, 4_999);
    let (result, cost) = measure(256 * MIB, || verify_signed_profile(&hostile, &anchors, NOW));
    assert_eq!(
        result.err(),
        Some(AppleError::CmsAttributeCount {
            attribute: "messageDigest",
            count: 5_000
        })
    );
    // The input is copied a few times (BER normalisation, decoding); the
    // attributes are parsed once. Nothing grows with attributes × content.
    assert!(
        cost.allocated < 16 * MIB,
        "{cost:?} for {} bytes",
        hostile.len()
    );

    // The same for a detached signature (an Mdm-Signature header).
    let detached = signer.sign_detached(&content, NOW).unwrap();
    let hostile = with_extra_attributes(&detached, MESSAGE_DIGEST_OID, 4_999);
    let (result, cost) = measure(256 * MIB, || {
        verify_detached_signature(&hostile, &content, &anchors, NOW)
    });
    assert!(
        matches!(
            result,
            Err(AppleError::CmsAttributeCount {
                attribute: "messageDigest",
                count: 5_000
            })
        ),
        "{result:?}"
    );
    assert!(cost.allocated < 16 * MIB, "{cost:?}");
}

#[test]
fn a_second_content_type_or_a_missing_digest_is_refused() {
    let _alone = crate::alone();
    let (ca, _, signer) = trusted_signer();
    let anchors = [ca.certificate().clone()];
    let signed = signer.sign(b"<plist/>", NOW).unwrap();
    let two_types = with_extra_attributes(&signed, CONTENT_TYPE_OID, 1);
    assert_eq!(
        verify_signed_profile(&two_types, &anchors, NOW).err(),
        Some(AppleError::CmsAttributeCount {
            attribute: "contentType",
            count: 2
        })
    );
    // Signed attributes with the messageDigest taken out.
    let no_digest = rewrite(&signed, &SIGNED_ATTRS, &|attrs| {
        let element = tlv(attrs);
        let kept: Vec<u8> = children(element.content)
            .into_iter()
            .filter(|a| !tlv(a).content.starts_with(MESSAGE_DIGEST_OID))
            .flatten()
            .copied()
            .collect();
        encode(element.tag, &kept)
    });
    assert_eq!(
        verify_signed_profile(&no_digest, &anchors, NOW).err(),
        Some(AppleError::CmsAttributeCount {
            attribute: "messageDigest",
            count: 0
        })
    );
    // Thousands of other attributes are refused before they are decoded.
    let crowded = with_extra_attributes(&signed, SIGNING_TIME_OID, 5_000);
    let (result, cost) = measure(256 * MIB, || verify_signed_profile(&crowded, &anchors, NOW));
    assert_eq!(
        result.err(),
        Some(AppleError::CmsLimit {
            what: "signed attributes",
            count: 5_003,
            max: mdm_apple::MAX_SIGNED_ATTRIBUTES
        })
    );
    // ~2.5 MB for 130 KB: the BER normaliser's copies and one small
    // allocation per element, nothing that grows faster than the input.
    assert!(
        cost.allocated < 8 * MIB,
        "{cost:?} for {} bytes",
        crowded.len()
    );
}

#[test]
fn a_signature_from_a_self_made_ca_is_refused() {
    let _alone = crate::alone();
    let (_, _, signer) = trusted_signer();
    let other_ca = CertificateAuthority::create(
        &SubjectName::common_name("Hostile Test CA").unwrap(),
        Validity::days(NOW - time::Duration::days(1), 365).unwrap(),
        KeyAlgorithm::EcdsaP256,
        &mut rand_chacha::ChaCha20Rng::seed_from_u64(14),
    )
    .unwrap();
    // Same subject as the real CA, another key: not an anchor.
    let anchors = [other_ca.certificate().clone()];
    let body = b"<plist/>";
    let detached = signer.sign_detached(body, NOW).unwrap();
    assert!(matches!(
        verify_detached_signature(&detached, body, &anchors, NOW),
        Err(AppleError::UntrustedSigner { .. })
    ));
    let signed = signer.sign(body, NOW).unwrap();
    assert!(matches!(
        verify_signed_profile(&signed, &anchors, NOW),
        Err(AppleError::UntrustedSigner { .. })
    ));
}

// ------------------------------------------------------------- secrets

const MAGIC: &str = "MAGIC-7d1f0c2e-secret";
const UNLOCK: &[u8] = b"UNLOCK-TOKEN-secret-bytes";
const PIN: &str = "428193";

fn assert_hidden(what: &str, debug: &str, secrets: &[String]) {
    for secret in secrets {
        assert!(
            !debug.contains(secret.as_str()),
            "{what} shows {secret:?}: {debug}"
        );
    }
}

#[test]
fn debug_output_never_shows_a_secret() {
    let _alone = crate::alone();
    use base64::Engine as _;
    let token_bytes = vec![0xab; 32];
    let topic = PushTopic::parse(TOPIC).unwrap();
    let device = AppleDeviceId::Udid("00008030-001A2D8E0C38802E".into());
    let token = PushToken::new(token_bytes.clone()).unwrap();
    let magic = PushMagic::new(MAGIC).unwrap();
    let mut update = TokenUpdate::new(topic.clone(), device.clone(), token.clone(), magic.clone());
    update.unlock_token = Some(UnlockToken::new(UNLOCK.to_vec()));
    let body = update.to_xml().unwrap();
    let secrets: Vec<String> = vec![
        MAGIC.into(),
        String::from_utf8_lossy(UNLOCK).into_owned(),
        base64::engine::general_purpose::STANDARD.encode(UNLOCK),
        token.to_hex(),
        "171, 171, 171".into(), // the token as Debug prints a byte vector
        format!("{:?}", &UNLOCK[..8])
            .trim_matches(['[', ']'])
            .to_owned(),
        PIN.into(),
    ];

    let message = decode(&body).unwrap();
    let DeviceMessage::TokenUpdate(received) = &message else {
        panic!("not a TokenUpdate");
    };
    let other = decode(
        format!(
            "<plist><dict><key>MessageType</key><string>FutureCheckInType</string>\
             <key>Secret</key><string>{MAGIC}</string></dict></plist>"
        )
        .as_bytes(),
    )
    .unwrap();
    let mut enrollment = AppleEnrollment::new(topic.clone());
    enrollment
        .apply(
            &decode(
                &mdm_apple::Authenticate::new(topic.clone(), device.clone())
                    .to_xml()
                    .unwrap(),
            )
            .unwrap(),
        )
        .unwrap();
    enrollment.apply(&message).unwrap();
    let lock = DeviceLock {
        message: Some("Locked".into()),
        phone_number: None,
        pin: Some(PIN.into()),
    };
    let erase = EraseDevice {
        pin: Some(PIN.into()),
        ..EraseDevice::default()
    };
    let request = CommandRequest::new(
        CommandUuid::new("6f1c3a52-9d2e-4b7a-8c1f-2e3d4c5b6a79").unwrap(),
        Command::DeviceLock(lock.clone()),
    );
    let clear = mdm_apple::ClearPasscode::new(&UnlockToken::new(UNLOCK.to_vec()));
    let push = push_request(&topic, &token, &magic, &PushOptions::default());
    let (ca, _, signer) = trusted_signer();
    let verified = verify_detached_signature(
        &signer.sign_detached(&body, NOW).unwrap(),
        &body,
        &[ca.certificate().clone()],
        NOW,
    )
    .unwrap();

    let cases: Vec<(&str, String, String)> = vec![
        (
            "DeviceMessage",
            format!("{message:?}"),
            format!("{message:#?}"),
        ),
        (
            "Received<TokenUpdate>",
            format!("{received:?}"),
            format!("{received:#?}"),
        ),
        ("TokenUpdate", format!("{update:?}"), format!("{update:#?}")),
        (
            "DeviceMessage::OtherCheckin",
            format!("{other:?}"),
            format!("{other:#?}"),
        ),
        ("PushToken", format!("{token:?}"), format!("{token:#?}")),
        ("PushMagic", format!("{magic:?}"), format!("{magic:#?}")),
        (
            "AppleEnrollment",
            format!("{enrollment:?}"),
            format!("{enrollment:#?}"),
        ),
        (
            "PushTarget",
            format!("{:?}", enrollment.push_target()),
            format!("{:#?}", enrollment.push_target()),
        ),
        ("PushRequest", format!("{push:?}"), format!("{push:#?}")),
        ("DeviceLock", format!("{lock:?}"), format!("{lock:#?}")),
        ("EraseDevice", format!("{erase:?}"), format!("{erase:#?}")),
        (
            "CommandRequest",
            format!("{request:?}"),
            format!("{request:#?}"),
        ),
        ("ClearPasscode", format!("{clear:?}"), format!("{clear:#?}")),
        (
            "VerifiedProfile",
            format!("{verified:?}"),
            format!("{verified:#?}"),
        ),
    ];
    for (what, plain, pretty) in &cases {
        assert_hidden(what, plain, &secrets);
        assert_hidden(what, pretty, &secrets);
    }
    // Redacted, not emptied: the shape is still there for a log reader.
    assert!(cases[0].1.contains("bytes redacted"), "{}", cases[0].1);
    assert!(
        cases[9].1.contains("pin: Some(\"<redacted>\")"),
        "{}",
        cases[9].1
    );
    assert!(
        push.body
            .windows(MAGIC.len())
            .any(|w| w == MAGIC.as_bytes()),
        "the push itself still carries the magic"
    );
}
