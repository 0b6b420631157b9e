//! A workspace with an APNs certificate, a device CA and device identities
//! (made once per test binary), and a "server": the workspace, its store
//! and an `AppleService` over the Apple store under test.

use std::sync::OnceLock;

use mdm_apple::{
    AppleDeviceId, AppleService, Authenticate, CommandReport, CommandStatus, CommandUuid,
    DeviceRequest, Endpoint, Handled, PresentedIdentity, PushMagic, PushToken, Retention,
    TokenUpdate,
};
use mdm_certs::{
    CertificateAuthority, CertifiedKey, ClientIdentity, KeyAlgorithm, SubjectName, Validity,
};
use mdm_model::storage::StoreCompanion;
use mdm_model::{
    ApnsCertificateRecord, DeviceId, EnrollmentRequest, InstallSource, OsVersion, Platform,
    PushTopic, Sha256Digest, Workspace, WorkspaceStore,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use time::{Duration, OffsetDateTime, macros::datetime};

use crate::backends::{Backend, Durable};

pub const NOW: OffsetDateTime = datetime!(2026-03-01 10:00 UTC);
pub const TOPIC: &str = "com.apple.mgmt.External.e0bd1eac-1f17-4c8e-8a63-dd17d3dd35d9";

pub fn topic() -> PushTopic {
    PushTopic::parse(TOPIC).unwrap()
}

pub struct Pki {
    pub ca: CertificateAuthority,
    pub identities: Vec<CertifiedKey>,
}

/// A device CA and eight P-256 identities, made once.
pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(18);
        let ca = CertificateAuthority::create(
            &SubjectName::common_name("Device CA").unwrap(),
            Validity::days(NOW - Duration::days(30), 3650).unwrap(),
            KeyAlgorithm::EcdsaP256,
            &mut rng,
        )
        .unwrap();
        let leaf = Validity::days(NOW - Duration::days(1), 365).unwrap();
        let identities = (0..8)
            .map(|i| {
                let name = format!("device-{i}");
                ca.issue_client_certificate_with_key(
                    &ClientIdentity::new(&name, Some(&name)).unwrap(),
                    leaf,
                    KeyAlgorithm::EcdsaP256,
                    &mut rng,
                )
                .unwrap()
            })
            .collect();
        Pki { ca, identities }
    })
}

pub fn identity(i: usize) -> &'static [u8] {
    pki().identities[i].certificate.der()
}

pub fn udid(i: usize) -> AppleDeviceId {
    AppleDeviceId::Udid(format!("00008110-00000000000000{i:02}"))
}

/// A fresh workspace: the APNs certificate and one user.
pub fn workspace() -> Workspace {
    let mut ws = Workspace::new("acme", "ACME", Some("jp"), NOW - Duration::days(10)).unwrap();
    ws.set_apns_certificate(
        ApnsCertificateRecord::new(
            topic(),
            "Apple Application Integration 2 Certification Authority",
            NOW - Duration::days(10),
            NOW + Duration::days(355),
            Sha256Digest::from_bytes([7; 32]),
        )
        .unwrap(),
        NOW - Duration::days(10),
    );
    ws.add_user(
        "alice",
        Some(mdm_model::EmailAddress::parse("alice@acme.example").unwrap()),
        NOW,
    )
    .unwrap();
    ws
}

/// One server process: the workspace, its store, the service.
pub struct Server {
    pub ws: Workspace,
    pub workspace_store: Box<dyn WorkspaceStore + Send>,
    pub service: AppleService<Box<dyn Durable>>,
    rng: ChaCha20Rng,
}

impl Server {
    /// Opens the backend's stores; loads the workspace, or imports a new one.
    pub fn start(backend: &Backend, retention: Retention) -> Self {
        let stores = backend.open(retention);
        let mut workspace_store = stores.workspace;
        let ws = match workspace_store.load().unwrap() {
            Some(ws) => ws,
            None => {
                let mut ws = workspace();
                workspace_store.import(&mut ws).unwrap();
                ws
            }
        };
        let rng_seed = ws.devices().len() as u64;
        Self {
            ws,
            workspace_store,
            service: AppleService::new(stores.apple, vec![pki().ca.certificate().clone()]),
            rng: ChaCha20Rng::seed_from_u64(rng_seed),
        }
    }

    /// Commits the workspace and the Apple store in one transaction.
    pub fn commit(&mut self) -> Result<(), mdm_model::ModelError> {
        let apple: &mut dyn StoreCompanion = &mut **self.service.store_mut();
        self.ws
            .commit_with(&mut *self.workspace_store, &mut [apple])
    }

    /// A model device in `Enrolling` whose identity `i` the service expects.
    pub fn enrolling(&mut self, i: usize) -> DeviceId {
        let user = self.ws.users()[0].id();
        let inv = self.ws.issue_invitation(user, NOW, &mut self.rng).unwrap();
        let device = self
            .ws
            .enroll(
                &inv.token,
                EnrollmentRequest {
                    platform: Platform::IPadOs,
                    os_version: OsVersion::new(17, 4, 0),
                    model: "iPad".into(),
                    identification_number: None,
                    install_source: InstallSource::EnrollmentProfile,
                },
                NOW,
            )
            .unwrap();
        self.service.expect_identity(identity(i), device).unwrap();
        device
    }

    pub fn send(
        &mut self,
        endpoint: Endpoint,
        body: &[u8],
        i: usize,
        now: OffsetDateTime,
    ) -> mdm_apple::Result<Handled> {
        self.service.handle(
            &mut self.ws,
            &DeviceRequest {
                endpoint,
                body,
                identity: PresentedIdentity::Certificate(identity(i)),
            },
            now,
        )
    }

    pub fn authenticate(&mut self, i: usize) -> mdm_apple::Result<Handled> {
        let mut auth = Authenticate::new(topic(), udid(i));
        auth.serial_number = Some(format!("SERIAL{i}"));
        auth.product_name = Some("iPad13,1".into());
        auth.os_version = Some("17.4".into());
        self.send(Endpoint::CheckIn, &auth.to_xml().unwrap(), i, NOW)
    }

    pub fn token_update(&mut self, i: usize) -> mdm_apple::Result<Handled> {
        let mut update = TokenUpdate::new(
            topic(),
            udid(i),
            PushToken::new(vec![i as u8 + 1; 32]).unwrap(),
            PushMagic::new(format!("MAGIC-{i}")).unwrap(),
        );
        update.unlock_token = Some(mdm_apple::UnlockToken::new(vec![0xAB, i as u8]));
        self.send(Endpoint::CheckIn, &update.to_xml().unwrap(), i, NOW)
    }

    /// Authenticate and TokenUpdate: the device is enrolled.
    pub fn enroll(&mut self, i: usize) -> DeviceId {
        let device = self.enrolling(i);
        self.authenticate(i).unwrap();
        self.token_update(i).unwrap();
        device
    }

    pub fn idle(&mut self, i: usize, now: OffsetDateTime) -> mdm_apple::Result<Handled> {
        let body = CommandReport::idle(udid(i)).to_xml().unwrap();
        self.send(Endpoint::Command, &body, i, now)
    }

    pub fn report(
        &mut self,
        i: usize,
        uuid: &CommandUuid,
        status: CommandStatus,
    ) -> mdm_apple::Result<Handled> {
        let body = CommandReport::result(udid(i), uuid.clone(), status, Default::default())
            .to_xml()
            .unwrap();
        self.send(Endpoint::Command, &body, i, NOW)
    }
}
