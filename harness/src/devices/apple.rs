//! Simulated iPhones and iPads: they open the invitation link with a real
//! User-Agent, verify the signed enrollment profile, get their identity
//! certificate through SCEP with the profile's one-time challenge (real
//! `PKCSReq`/`CertRep` bytes, `super::scep`), write real `Authenticate` and `TokenUpdate`
//! plists, and answer the commands the server hands them with real command
//! reports — all through `mdm-packages`, `mdm-apple` and `mdm-certs`. The
//! device reads only the bytes the server sent (the profile, each command).

use mdm_apple::{
    AppleDeviceId, CommandReport, CommandStatus, PushMagic, PushToken, TokenUpdate,
    verify_signed_profile,
};
use mdm_certs::Certificate;
use mdm_model::{DeviceId, Platform, PushTopic};
use mdm_packages::LinkAnswer;
use rand_core::Rng;

use super::scep::{EnrollmentPayloads, ScepResult, device_key, subject_name};
use super::{DeviceView, SimDevice};
use crate::draw::{self, CoinPurpose, CommandCoin, Purpose};
use crate::error::apple;
use crate::{Faults, HarnessError, SimTime};

/// Real User-Agent strings: iPhone, an iPad before iPadOS 13, and an
/// iPadOS 13+ iPad that presents itself as a Mac.
pub(crate) fn user_agent(platform: Platform, variant: u32) -> &'static str {
    match (platform, variant % 2) {
        (Platform::IPadOs, 0) => {
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"
        }
        (Platform::IPadOs, _) => {
            "Mozilla/5.0 (iPad; CPU OS 12_5_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Mobile/15E148 Safari/604.1"
        }
        _ => {
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1"
        }
    }
}

fn udid(i: u32) -> String {
    format!("00008110-{:016X}", 0x001C_0000_0000_0000_u64 | u64::from(i))
}

pub(crate) fn push_identity(seed: u64, i: u32) -> Result<(PushToken, PushMagic), HarnessError> {
    let mut rng = draw::stream(seed, i, Purpose::Keys);
    let mut token = vec![0u8; 32];
    rng.fill_bytes(&mut token);
    let magic = format!(
        "{:08X}-{:04X}-4{:03X}-A{:03X}-{:012X}",
        rng.next_u32(),
        rng.next_u32() & 0xffff,
        rng.next_u32() & 0xfff,
        rng.next_u32() & 0xfff,
        rng.next_u64() & 0xffff_ffff_ffff
    );
    Ok((
        PushToken::new(token).map_err(apple("push token"))?,
        PushMagic::new(magic).map_err(apple("push magic"))?,
    ))
}

/// Device `i`'s id in its check-ins and reports: its UDID.
pub(crate) fn device_id(i: u32) -> AppleDeviceId {
    AppleDeviceId::Udid(udid(i))
}

/// What routing gave an Apple device: its new record and the signed profile.
pub(crate) struct Routed {
    i: u32,
    now: SimTime,
    device: DeviceId,
    platform: Platform,
    profile: Vec<u8>,
    /// How many links the device has opened (its key stream).
    attempts: u8,
}

impl Routed {
    /// What device `i` got for its link: the signed profile, and whether
    /// the server took it for another platform than it is; any other answer
    /// (a refusal, also when the same link was consumed by another opening
    /// in the meantime) is given back.
    pub(crate) fn from_answer(
        i: u32,
        now: SimTime,
        d: &SimDevice,
        answer: LinkAnswer,
    ) -> Result<(Self, bool), LinkAnswer> {
        let (device, profile, routed_platform) = match answer {
            LinkAnswer::AppleProfile {
                device,
                profile,
                platform,
                ..
            } => (device, profile, platform),
            other => return Err(other),
        };
        let platform = d.plan.platform;
        let routed = Self {
            i,
            now,
            device,
            platform,
            profile,
            attempts: d.attempts,
        };
        Ok((routed, routed_platform != platform))
    }
}

/// What the device did with the profile, off the workspace: the topic it
/// carries, what SCEP gave it, and the check-in messages it sends with its
/// identity.
pub(crate) struct Prepared {
    pub(crate) i: u32,
    pub(crate) now: SimTime,
    pub(crate) device: DeviceId,
    pub(crate) platform: Platform,
    pub(crate) topic: PushTopic,
    /// The identity certificate the SCEP endpoint issued, or its refusal.
    pub(crate) identity: Identity,
    /// A truncated `Authenticate`, sent first when that fault strikes.
    pub(crate) malformed: Option<Vec<u8>>,
    /// `Authenticate`, then `TokenUpdate`.
    pub(crate) checkins: [Vec<u8>; 2],
}

/// What SCEP gave the device.
pub(crate) enum Identity {
    /// Its identity certificate.
    Issued(Box<Certificate>),
    /// A CertRep FAILURE: the enrollment stops; the server's reason, and
    /// whether it answered a resend after a lost CertRep.
    Refused {
        reason: mdm_model::ClientCertificateRefusal,
        after_lost_reply: bool,
    },
}

/// The device verifies the signed profile and reads its payloads; SCEP
/// with the profile's challenge and subject, for an RSA key of the
/// profile's `Keysize`; then it writes its `Authenticate` and
/// `TokenUpdate`, which the engine delivers. Sees the server only through
/// a `DeviceView`, so it runs on the other cores while the minute's
/// contacts are handled.
pub(crate) fn prepare(w: &DeviceView, r: Routed) -> Result<Prepared, HarnessError> {
    let Routed {
        i,
        now,
        device,
        platform,
        profile,
        attempts,
    } = r;
    let at = w.now(now);
    let verified =
        verify_signed_profile(&profile, std::slice::from_ref(w.pki.ca.certificate()), at)
            .map_err(apple("verify profile"))?;
    let unreadable = |f: super::scep::EnrollmentFault| HarnessError::Apple {
        step: "read profile",
        message: format!("{}: {}", f.kind, f.detail),
    };
    let payloads = EnrollmentPayloads::read(verified.content()).map_err(unreadable)?;
    let topic = payloads.mdm.topic.clone();
    let subject = subject_name(&payloads.scep.subject).map_err(unreadable)?;
    let key = device_key(payloads.scep.key_size, i)?;
    let mut rng = w.stream(i, attempts, Purpose::Device);
    let challenge = payloads.challenge();
    let identity = match w.scep(i, attempts, now, challenge, &subject, key, &mut rng)? {
        ScepResult::Issued(certificate) => Identity::Issued(certificate),
        ScepResult::Refused {
            reason,
            after_lost_reply,
        } => Identity::Refused {
            reason,
            after_lost_reply,
        },
    };
    let authenticate = mdm_apple::Authenticate::new(topic.clone(), device_id(i))
        .to_xml()
        .map_err(apple("Authenticate"))?;
    let malformed = w
        .coin(
            i,
            now,
            CoinPurpose::MalformedCheckIn,
            w.faults.malformed_checkin_chance,
        )
        .then(|| {
            authenticate
                .get(..authenticate.len() / 2)
                .unwrap_or_default()
                .to_vec()
        });
    let (push_token, magic) = push_identity(w.seed(), i)?;
    let update = TokenUpdate::new(topic.clone(), device_id(i), push_token, magic)
        .to_xml()
        .map_err(apple("TokenUpdate"))?;
    Ok(Prepared {
        i,
        now,
        device,
        platform,
        topic,
        identity,
        malformed,
        checkins: [authenticate, update],
    })
}

/// The `Idle` report with which device `i` connects after a push.
pub(crate) fn idle(i: u32) -> Result<Vec<u8>, HarnessError> {
    report_bytes(&CommandReport::idle(device_id(i)))
}

/// The device reads the `nth` command it was handed in this connection and
/// answers it: `NotNow` or an error when those faults strike, else
/// `Acknowledged`.
pub(crate) fn answer_command(
    seed: u64,
    faults: &Faults,
    i: u32,
    now: SimTime,
    nth: u32,
    body: &[u8],
) -> Result<Vec<u8>, HarnessError> {
    let command = mdm_apple::parse_command(body).map_err(apple("read command"))?;
    let coin = |salt, p| draw::coin(seed, i, now.0, salt, p);
    let status = if coin(CommandCoin::NotNow.nth(nth), faults.not_now_chance) {
        CommandStatus::NotNow
    } else if coin(CommandCoin::Error.nth(nth), faults.command_error_chance) {
        CommandStatus::Error
    } else {
        CommandStatus::Acknowledged
    };
    report_bytes(&CommandReport::result(
        device_id(i),
        command.uuid,
        status,
        mdm_apple::PlistDictionary::new(),
    ))
}

fn report_bytes(report: &CommandReport) -> Result<Vec<u8>, HarnessError> {
    report.to_xml().map_err(apple("command report"))
}
