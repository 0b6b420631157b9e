#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! Building a standalone package and rendering an invitation QR code.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mdm_model::{InvitationToken, Platform};
use mdm_model::{ServerAddress, Sha256Digest};
use mdm_packages::{
    AndroidDelivery, CaCertificate, ConnectionSettings, Language, LinkBase, MessageDetails,
    ProductDescription, ProductFile, ProductPath, StandalonePackage, compose_instructions,
};

const CA_PEM: &str = include_str!("../tests/fixtures/server-ca-1.pem");

/// A 4 MiB stand-in for the agent APK (incompressible, like a real one).
fn apk() -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    (0..4 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

fn packages(c: &mut Criterion) {
    let apk = apk();
    let product = ProductDescription::new(
        "Agent",
        "1.0",
        Platform::Android,
        vec![ProductFile {
            path: ProductPath::new("agent.apk").unwrap(),
            sha256: Sha256Digest::of(&apk),
            size: None,
        }],
    )
    .unwrap();
    let connection = ConnectionSettings {
        server: ServerAddress::parse("mdm.example.com:13292").unwrap(),
        server_ca: CaCertificate::from_pem(CA_PEM.as_bytes()).unwrap(),
        workspace_id: "ws".to_owned(),
        user: Some("taro".to_owned()),
        enrollment_token: None,
    };
    let files: [(&str, &[u8]); 1] = [("agent.apk", &apk)];
    let mut group = c.benchmark_group("standalone_package");
    group.throughput(Throughput::Bytes(apk.len() as u64));
    group.bench_function("build_4MiB_apk", |b| {
        b.iter(|| StandalonePackage::build(black_box(&product), &files, &connection).unwrap());
    });
    let built = StandalonePackage::build(&product, &files, &connection).unwrap();
    group.bench_function("open_and_verify_4MiB_apk", |b| {
        b.iter(|| StandalonePackage::open(black_box(built.bytes().to_vec())).unwrap());
    });
    group.finish();

    let link = LinkBase::parse("https://mdm.example.com")
        .unwrap()
        .link(InvitationToken::parse("owE8CCx17ckTWYw7qsGvoY92M_6PAUiWqy8acv-D2Lo").unwrap());
    let qr = link.qr_code().unwrap();
    c.bench_function("qr_png_8px", |b| {
        b.iter(|| black_box(&qr).to_png(8).unwrap());
    });
    c.bench_function("qr_encode_and_png_8px", |b| {
        b.iter(|| black_box(&link).qr_code().unwrap().to_png(8).unwrap());
    });
    c.bench_function("qr_svg", |b| b.iter(|| black_box(&qr).to_svg(4)));
    let details = MessageDetails {
        service_name: "Example MDM",
        agent_name: "Example Agent",
        company: "Example Corp",
        account: "taro",
        link: &link,
        expires_at: time::OffsetDateTime::UNIX_EPOCH,
        android: AndroidDelivery::Store,
    };
    c.bench_function("compose_instructions_ja_with_qr", |b| {
        b.iter(|| compose_instructions(Language::Japanese, black_box(&details)).unwrap());
    });
}

criterion_group!(benches, packages);
criterion_main!(benches);
