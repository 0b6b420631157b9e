//! Hostile input for the packages side.
//!
//! Standalone packages (`StandalonePackage::open`) read a ZIP archive from a
//! download or a file: every archive here is written by hand, byte by byte,
//! so its headers can lie (sizes, counts) and its deflate streams can be
//! bombs. Product descriptions (TOML), links and user agents are the other
//! text that arrives from outside.

use mdm_packages::{
    LinkBase, PackageLimit, PackageLimits, PackagesError, ProductDescription, StandalonePackage,
};

use crate::{Cost, MIB, measure};

/// One entry of a hand-written archive.
struct RawEntry {
    name: String,
    /// 0 stored, 8 deflated.
    method: u16,
    /// The entry's bytes as they sit in the archive.
    data: Vec<u8>,
    /// What the headers claim the entry inflates to.
    declared_size: u32,
}

/// CRC-32 (IEEE), bit by bit: the archives here are small or never read
/// to their end.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Writes a ZIP archive exactly as told: local headers, data, central
/// directory, end record. The CRC is that of a stored entry's bytes (zero
/// for a deflated one: a reader that stops at a limit never reaches it).
fn zip(entries: &[RawEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for entry in entries {
        let offset = u32::try_from(out.len()).unwrap_or(u32::MAX);
        let compressed = u32::try_from(entry.data.len()).unwrap_or(u32::MAX);
        let name = entry.name.as_bytes();
        let name_len = u16::try_from(name.len()).unwrap_or(u16::MAX);
        let crc = if entry.method == 0 {
            crc32(&entry.data)
        } else {
            0
        };
        // Local file header.
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes()); // version needed
        out.extend_from_slice(&0u16.to_le_bytes()); // flags
        out.extend_from_slice(&entry.method.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes()); // time
        out.extend_from_slice(&0x21u16.to_le_bytes()); // date 1980-01-01
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&compressed.to_le_bytes());
        out.extend_from_slice(&entry.declared_size.to_le_bytes());
        out.extend_from_slice(&name_len.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes()); // extra
        out.extend_from_slice(name);
        out.extend_from_slice(&entry.data);
        // Central directory header.
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&0x0314u16.to_le_bytes()); // made by: unix, 2.0
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&entry.method.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&0x21u16.to_le_bytes());
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&compressed.to_le_bytes());
        central.extend_from_slice(&entry.declared_size.to_le_bytes());
        central.extend_from_slice(&name_len.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes()); // extra
        central.extend_from_slice(&0u16.to_le_bytes()); // comment
        central.extend_from_slice(&0u16.to_le_bytes()); // disk
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        central.extend_from_slice(&(0o100_644u32 << 16).to_le_bytes()); // external: file 0644
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name);
    }
    end_of_archive(out, &central, entries.len())
}

/// Appends the central directory and the end record.
fn end_of_archive(mut out: Vec<u8>, central: &[u8], count: usize) -> Vec<u8> {
    let directory_offset = u32::try_from(out.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(central);
    let count = u16::try_from(count).unwrap_or(u16::MAX);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(
        &u32::try_from(central.len())
            .unwrap_or(u32::MAX)
            .to_le_bytes(),
    );
    out.extend_from_slice(&directory_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// Least-significant-bit-first bit writer, as deflate packs its codes.
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    buffer: u64,
    count: u32,
}

impl Bits {
    fn put(&mut self, value: u64, bits: u32) {
        self.buffer |= value << self.count;
        self.count += bits;
        while self.count >= 8 {
            self.out.push((self.buffer & 0xff) as u8);
            self.buffer >>= 8;
            self.count -= 8;
        }
    }

    /// A Huffman code, which deflate writes most-significant bit first.
    fn code(&mut self, code: u64, bits: u32) {
        let mut reversed = 0;
        for i in 0..bits {
            reversed |= ((code >> i) & 1) << (bits - 1 - i);
        }
        self.put(reversed, bits);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.count > 0 {
            self.put(0, 8 - self.count);
        }
        self.out
    }
}

/// A raw deflate stream of `compressed_len` bytes that inflates to zeros,
/// about 160 times its size: one fixed-Huffman block, a literal zero and
/// then matches of 258 bytes at distance 1 (13 bits each).
fn deflate_bomb(compressed_len: usize) -> (Vec<u8>, u64) {
    let mut bits = Bits::default();
    bits.put(1, 1); // final block
    bits.put(1, 2); // fixed Huffman
    bits.code(0b0011_0000, 8); // literal 0
    let matches = (compressed_len * 8).saturating_sub(30) / 13;
    for _ in 0..matches {
        bits.code(0b1100_0101, 8); // length code 285: 258 bytes
        bits.code(0, 5); // distance code 0: distance 1
    }
    bits.code(0, 7); // end of block (code 256)
    (bits.finish(), 1 + 258 * matches as u64)
}

fn assert_limit(result: Result<StandalonePackage, PackagesError>, expected: PackageLimit) {
    match result {
        Err(PackagesError::PackageLimit { limit, .. }) => assert_eq!(limit, expected),
        Err(other) => panic!("expected the {expected:?} limit, got {other}"),
        Ok(_) => panic!("a hostile archive opened"),
    }
}

#[test]
fn a_one_megabyte_deflate_bomb_stops_at_the_ratio_limit() {
    let _alone = crate::alone();
    let (bomb, inflates_to) = deflate_bomb(MIB);
    assert!(inflates_to > 150 * MIB as u64, "{inflates_to}");
    // The headers even tell the truth about the size: the ratio still stops it.
    let archive = zip(&[RawEntry {
        name: "product/agent.apk".into(),
        method: 8,
        data: bomb,
        declared_size: u32::try_from(inflates_to).unwrap_or(u32::MAX),
    }]);
    let (result, cost) = measure(64 * MIB, || StandalonePackage::open(archive));
    if let Err(PackagesError::PackageLimit {
        actual, allowed, ..
    }) = &result
    {
        assert!(
            *actual > *allowed && *allowed <= 32 * MIB as u64,
            "{actual} {allowed}"
        );
    }
    assert_limit(result, PackageLimit::CompressionRatio);
    println!("deflate bomb of 1 MiB: {} bytes allocated", cost.allocated);
    assert_allocated_below(cost, 2 * MIB);
}

#[test]
fn a_bomb_that_claims_a_small_size_is_counted_not_trusted() {
    let _alone = crate::alone();
    let (bomb, _) = deflate_bomb(MIB);
    for name in ["manifest.json", "product/agent.apk"] {
        let archive = zip(&[RawEntry {
            name: name.into(),
            method: 8,
            data: bomb.clone(),
            declared_size: 100,
        }]);
        let (result, cost) = measure(64 * MIB, || StandalonePackage::open(archive));
        println!(
            "{name}, claiming 100 bytes: {result:?}, {} bytes allocated",
            cost.allocated
        );
        match result {
            // Held and parsed: stops at 1 MiB, the metadata limit.
            Err(PackagesError::PackageLimit { limit, .. }) if name == "manifest.json" => {
                assert_eq!(limit, PackageLimit::MetadataBytes);
            }
            // Streamed: stops at the ratio limit, or where the reader checks
            // the claimed size against what it inflated.
            Err(PackagesError::PackageLimit { limit, .. }) => {
                assert_eq!(limit, PackageLimit::CompressionRatio);
            }
            Err(PackagesError::PackageCorrupt { entry, .. }) => assert_eq!(entry, name),
            other => panic!("{name}: {other:?}"),
        }
        assert_allocated_below(cost, 6 * MIB);
    }
}

#[test]
fn an_entry_claiming_gigabytes_is_refused_before_reading() {
    let _alone = crate::alone();
    for (name, limit) in [
        ("server-ca.pem", PackageLimit::MetadataBytes),
        ("product/agent.apk", PackageLimit::EntryBytes),
    ] {
        let archive = zip(&[RawEntry {
            name: name.into(),
            method: 0,
            data: vec![b'x'; 1000],
            declared_size: 0xFFFF_FFFE,
        }]);
        let (result, cost) = measure(64 * MIB, || StandalonePackage::open(archive));
        assert_limit(result, limit);
        assert_allocated_below(cost, 256 * 1024);
    }
}

#[test]
fn a_megabyte_of_entries_is_refused_by_count() {
    let _alone = crate::alone();
    // 20,000 central-directory records with distinct names in about 1 MiB.
    let count = 20_000usize;
    let mut local = Vec::new();
    local.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    local.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0]);
    local.extend_from_slice(&[0; 12]);
    local.extend_from_slice(&1u16.to_le_bytes());
    local.extend_from_slice(&0u16.to_le_bytes());
    local.push(b'a');
    let mut central = Vec::new();
    for index in 0..count {
        let name = format!("product/{index:06}");
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&[0x14, 0x03, 20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0]);
        central.extend_from_slice(&[0; 12]);
        central.extend_from_slice(&u16::try_from(name.len()).unwrap_or(0).to_le_bytes());
        central.extend_from_slice(&[0; 8]);
        central.extend_from_slice(&(0o100_644u32 << 16).to_le_bytes());
        central.extend_from_slice(&0u32.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let archive = end_of_archive(local, &central, count);
    assert!(archive.len() < 2 * MIB, "{}", archive.len());
    // The ZIP reader indexes every central-directory record (about 600
    // bytes each) before the count can be checked: linear in the archive.
    // The meter counts the whole process, so the least of three runs is kept.
    let mut least = usize::MAX;
    let mut result = None;
    for _ in 0..3 {
        let (once, cost) = measure(64 * MIB, || StandalonePackage::open(archive.clone()));
        least = least.min(cost.allocated);
        result = Some(once);
    }
    let cost = Cost { allocated: least };
    println!("{count} entries: {} bytes allocated", cost.allocated);
    match result.unwrap_or_else(|| unreachable!()) {
        Err(PackagesError::PackageLimit {
            limit: PackageLimit::Entries,
            actual,
            ..
        }) => assert_eq!(actual, count as u64),
        // The ZIP reader may refuse the directory itself first.
        Err(PackagesError::PackageCorrupt { entry, .. }) => assert_eq!(entry, "archive"),
        other => panic!("{other:?}"),
    }
    assert_allocated_below(cost, 16 * MIB);
}

#[test]
fn stored_entries_add_up_to_the_total_limit() {
    let _alone = crate::alone();
    let entries: Vec<RawEntry> = (0..4)
        .map(|i| RawEntry {
            name: format!("product/part{i}.bin"),
            method: 0,
            data: vec![b'x'; 300 * 1024],
            declared_size: 300 * 1024,
        })
        .collect();
    let archive = zip(&entries);
    let limits = PackageLimits {
        max_total_bytes: MIB as u64,
        ..PackageLimits::DEFAULT
    };
    let (result, cost) = measure(64 * MIB, || StandalonePackage::open_with(archive, &limits));
    assert_limit(result, PackageLimit::TotalBytes);
    assert_allocated_below(cost, 512 * 1024);
}

#[test]
fn deep_toml_in_a_product_description_is_an_error_not_a_stack_overflow() {
    let _alone = crate::alone();
    // 100,000 nested inline arrays and a 50,000-segment dotted table name.
    let arrays = format!("format = {}{}", "[".repeat(100_000), "]".repeat(100_000));
    let dotted = format!("[{}]\n", vec!["a"; 50_000].join("."));
    for text in [arrays, dotted] {
        let len = text.len();
        let (result, cost) = measure(256 * MIB, || ProductDescription::from_toml(&text));
        assert!(
            matches!(
                result,
                Err(PackagesError::ProductSyntax { .. } | PackagesError::ProductField { .. })
            ),
            "{result:?}"
        );
        println!(
            "deep TOML of {len} bytes: {} bytes allocated",
            cost.allocated
        );
        assert_allocated_below(cost, 400 * len);
    }
}

#[test]
fn an_oversized_product_description_is_refused_before_parsing() {
    let _alone = crate::alone();
    let text = format!("format = 1\n# {}\n", "x".repeat(MIB));
    let (result, cost) = measure(64 * MIB, || ProductDescription::from_toml(&text));
    assert!(
        matches!(result, Err(PackagesError::ProductSyntax { .. })),
        "{result:?}"
    );
    assert_allocated_below(cost, 4096);
}

#[test]
fn a_long_link_costs_what_it_is() {
    let _alone = crate::alone();
    let base = LinkBase::parse("https://mdm.example.com/").unwrap_or_else(|e| panic!("{e}"));
    let text = format!("https://mdm.example.com/enroll/{}", "A".repeat(MIB));
    let (result, cost) = measure(64 * MIB, || {
        mdm_packages::InvitationLink::parse_for(&text, &base)
    });
    assert!(result.is_err());
    assert_allocated_below(cost, 16 * MIB);
}

#[test]
fn secrets_do_not_show_in_debug() {
    let _alone = crate::alone();
    use mdm_model::{InvitationToken, Platform, ServerAddress, Sha256Digest};
    use mdm_packages::{
        AndroidDelivery, CaCertificate, ClientHints, ConnectionSettings, Language, LinkRequest,
        MessageDetails, ProductFile, ProductPath, compose_instructions,
    };
    const TOKEN: &str = "owE8CCx17ckTWYw7qsGvoY92M_6PAUiWqy8acv-D2Lo";
    const CA: &str = include_str!("../../mdm-packages/tests/fixtures/server-ca-1.pem");
    let fail = |e: PackagesError| -> ! { panic!("{e}") };
    let token = || InvitationToken::parse(TOKEN).unwrap_or_else(|e| panic!("{e}"));

    let apk = b"not really an apk".to_vec();
    let product = ProductDescription::new(
        "Agent",
        "1.0",
        Platform::Android,
        vec![ProductFile {
            path: ProductPath::new("agent.apk").unwrap_or_else(|e| panic!("{e}")),
            sha256: Sha256Digest::of(&apk),
            size: None,
        }],
    )
    .unwrap_or_else(|e| fail(e));
    let settings = ConnectionSettings {
        server: ServerAddress::parse("mdm.example.com")
            .unwrap_or_else(|e| panic!("{e}"))
            .with_default_port(ServerAddress::HTTPS_PORT),
        server_ca: CaCertificate::from_pem(CA.as_bytes()).unwrap_or_else(|e| fail(e)),
        workspace_id: "ws-1".into(),
        user: Some("taro".into()),
        enrollment_token: Some(token()),
    };
    let package = StandalonePackage::build(&product, &[("agent.apk", &apk)], &settings)
        .unwrap_or_else(|e| fail(e));
    let reopened = StandalonePackage::open(package.bytes().to_vec()).unwrap_or_else(|e| fail(e));
    // The token's bytes as `Debug` of a byte vector would print them, too.
    let as_numbers = format!("{:?}", TOKEN.as_bytes().get(..8).unwrap_or_default());
    let as_numbers = as_numbers.trim_matches(['[', ']']);
    for (what, text) in [
        ("StandalonePackage", format!("{package:?}")),
        ("StandalonePackage (alt)", format!("{package:#?}")),
        ("opened StandalonePackage", format!("{reopened:?}")),
        ("ConnectionSettings", format!("{settings:?} {settings:#?}")),
    ] {
        assert!(!text.contains(TOKEN), "{what}: {text}");
        assert!(!text.contains(as_numbers), "{what} shows the token's bytes");
    }

    let base = LinkBase::parse("https://mdm.example.com/").unwrap_or_else(|e| fail(e));
    let link = base.link(token());
    let request = LinkRequest {
        token: TOKEN,
        user_agent: "Mozilla/5.0 (Linux; Android 14; Pixel 8)",
        hints: ClientHints::default(),
    };
    let message = compose_instructions(
        Language::English,
        &MessageDetails {
            service_name: "Example MDM",
            agent_name: "Example Agent",
            company: "ACME",
            account: "taro",
            link: &link,
            expires_at: time::OffsetDateTime::UNIX_EPOCH,
            android: AndroidDelivery::StandalonePackage,
        },
    )
    .unwrap_or_else(|e| fail(e));
    assert!(
        message.text.contains(TOKEN),
        "the message does carry the link"
    );
    for (what, text) in [
        ("InvitationLink", format!("{link:?} {link:#?}")),
        ("LinkRequest", format!("{request:?} {request:#?}")),
        ("InstructionMessage", format!("{message:?} {message:#?}")),
    ] {
        assert!(!text.contains(TOKEN), "{what}: {text}");
    }
}

/// Asserts a measured call allocated less than `bound` bytes.
fn assert_allocated_below(cost: Cost, bound: usize) {
    assert!(
        cost.allocated < bound,
        "{} bytes allocated, bound {bound}",
        cost.allocated
    );
}
