//! One simulated Apple device on the wire: its identity (a P-256 key and a
//! certificate from the target's CA, or from SCEP), the plists it PUTs
//! (built by `mdm-apple`), each signed in an `Mdm-Signature` header, and the
//! state machine of its flow: Authenticate → TokenUpdate → Idle → answer
//! each command it is handed until the server has nothing more.

use std::time::Instant;

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, StatusCode, header};
use mdm_apple::{
    AppleDeviceId, Authenticate, Command, CommandReport, CommandStatus, PlistDictionary,
    ProfileSigner, PushMagic, PushToken, TokenUpdate, parse_command,
};
use mdm_certs::{CertificateAuthority, ClientIdentity, KeyAlgorithm, Validity};
use mdm_model::PushTopic;
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng as _, SeedableRng as _};
use time::OffsetDateTime;

use super::client::{Answer, Connection};
use super::report::{Recorder, Step};
use crate::HarnessError;
use crate::error::apple;

/// The content type of a check-in message (Apple's, and how nanomdm tells
/// check-ins from command reports on one `/mdm` endpoint).
pub const CHECKIN_CONTENT_TYPE: &str = "application/x-apple-aspen-mdm-checkin";
/// The content type of a command report.
pub const REPORT_CONTENT_TYPE: &str = "application/x-apple-aspen-mdm";
/// The User-Agent of the MDM client on iOS 17.
pub const MDM_USER_AGENT: &str = "MDM/1.0";
/// Most commands a device takes in one connect before it stops (a server
/// that hands out commands forever is an error).
pub const MAX_COMMANDS_PER_CONNECT: u32 = 64;

/// Where a device sends what.
#[derive(Clone, Debug)]
pub struct Paths {
    /// Check-in messages (Authenticate, TokenUpdate).
    pub check_in: String,
    /// Command reports (Idle, results).
    pub server: String,
    /// The push topic of the enrollment.
    pub topic: PushTopic,
}

/// Why a device stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The step that failed.
    pub step: Step,
    /// The kind, for errors by kind (`http 401`, `timeout`, `bad command`).
    pub kind: String,
    /// The detail.
    pub detail: String,
}

impl Failure {
    /// A failure of `step`.
    pub fn new(step: Step, kind: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            step,
            kind: kind.into(),
            detail: detail.into(),
        }
    }
}

/// The UDID of device `index` in run `run`: a UUID-shaped upper-case hex
/// string, unique per run, as nanomdm and real devices write them.
pub fn udid(run: u32, index: u32) -> String {
    format!("{run:08X}-4C4F-4144-8000-{index:012X}")
}

/// A simulated device.
pub struct WireDevice {
    udid: AppleDeviceId,
    signer: ProfileSigner,
    token: [u8; 32],
    idle_signature: Option<HeaderValue>,
    /// Send the `Mdm-Signature` of its first Idle again with every later
    /// (byte-identical) Idle instead of signing afresh: the server verifies
    /// each all the same, and the load client does not spend an RSA
    /// signature (~2 ms of CPU) per check-in. Off unless asked for.
    pub reuse_idle_signature: bool,
    /// Authenticate and TokenUpdate were accepted.
    pub enrolled: bool,
    /// Commands it acknowledged.
    pub acknowledged: u32,
    /// The last command it acknowledged.
    pub last_command: Option<String>,
    /// Why it stopped, if it did.
    pub failure: Option<Failure>,
}

impl std::fmt::Debug for WireDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WireDevice")
            .field("udid", &self.udid.as_str())
            .field("enrolled", &self.enrolled)
            .field("acknowledged", &self.acknowledged)
            .finish_non_exhaustive()
    }
}

impl WireDevice {
    /// A device whose identity `ca` issues now: a P-256 key made here, a
    /// client certificate (CN = the UDID) valid from an hour ago for a year
    /// (or until the CA ends).
    ///
    /// # Errors
    /// [`HarnessError::Certificates`] or [`HarnessError::Apple`] when the
    /// key, certificate or signer cannot be made.
    pub fn issued(
        ca: &CertificateAuthority,
        run: u32,
        index: u32,
        now: OffsetDateTime,
    ) -> Result<Self, HarnessError> {
        let mut rng = ChaCha20Rng::seed_from_u64((u64::from(run) << 32) | u64::from(index));
        let udid = udid(run, index);
        let certs = |step| move |source| HarnessError::Certificates { step, source };
        let identity = ClientIdentity::new(&udid, None).map_err(certs("device identity"))?;
        // A year, or up to the CA's own end if that is sooner.
        let info = ca.certificate().info();
        let start = (now - time::Duration::hours(1)).max(info.not_before);
        let end = (now + time::Duration::days(365)).min(info.not_after);
        let validity = Validity::new(start, end).map_err(certs("device validity"))?;
        let issued = ca
            .issue_client_certificate_with_key(
                &identity,
                validity,
                KeyAlgorithm::EcdsaP256,
                &mut rng,
            )
            .map_err(certs("device certificate"))?;
        let signer = ProfileSigner::new(&[issued.certificate.der()], issued.key.pkcs8_der_secret())
            .map_err(apple("device signer"))?;
        Ok(Self::with_signer(udid, signer, &mut rng))
    }

    /// A device with an identity it already holds (e.g. from SCEP).
    pub fn with_signer(udid: String, signer: ProfileSigner, rng: &mut ChaCha20Rng) -> Self {
        let mut token = [0u8; 32];
        rng.fill_bytes(&mut token);
        Self {
            udid: AppleDeviceId::Udid(udid),
            signer,
            token,
            idle_signature: None,
            reuse_idle_signature: false,
            enrolled: false,
            acknowledged: 0,
            last_command: None,
            failure: None,
        }
    }

    /// Its UDID.
    pub fn udid(&self) -> &str {
        self.udid.as_str()
    }

    /// The push token it registered with APNs and sends in TokenUpdate.
    pub fn push_token(&self) -> &[u8] {
        &self.token
    }

    /// Sends Authenticate then TokenUpdate.
    ///
    /// # Errors
    /// The [`Failure`] of the first step not accepted.
    pub async fn enroll(
        &mut self,
        conn: &mut Connection,
        paths: &Paths,
        recorder: &Recorder,
    ) -> Result<(), Failure> {
        let auth = Authenticate {
            serial_number: Some(self.serial()),
            os_version: Some("17.4.1".into()),
            build_version: Some("21E236".into()),
            product_name: Some("iPhone15,2".into()),
            ..Authenticate::new(paths.topic.clone(), self.udid.clone())
        };
        let body = auth
            .to_xml()
            .map_err(|e| Failure::new(Step::Authenticate, "build", e.to_string()))?;
        let answer = self
            .put(
                conn,
                recorder,
                Step::Authenticate,
                &paths.check_in,
                CHECKIN_CONTENT_TYPE,
                body,
            )
            .await?;
        expect_ok(Step::Authenticate, &answer)?;
        let magic = PushMagic::new(self.push_magic())
            .map_err(|e| Failure::new(Step::TokenUpdate, "build", e.to_string()))?;
        let token = PushToken::new(self.token.to_vec())
            .map_err(|e| Failure::new(Step::TokenUpdate, "build", e.to_string()))?;
        let update = TokenUpdate::new(paths.topic.clone(), self.udid.clone(), token, magic);
        let body = update
            .to_xml()
            .map_err(|e| Failure::new(Step::TokenUpdate, "build", e.to_string()))?;
        let answer = self
            .put(
                conn,
                recorder,
                Step::TokenUpdate,
                &paths.check_in,
                CHECKIN_CONTENT_TYPE,
                body,
            )
            .await?;
        expect_ok(Step::TokenUpdate, &answer)?;
        self.enrolled = true;
        Ok(())
    }

    /// Connects as after a push: Idle, then answers each command handed out
    /// (Acknowledged, with the keys the command asks for) until the server
    /// answers with an empty body. Returns the commands answered.
    ///
    /// # Errors
    /// The [`Failure`] of the first request not accepted, or a command that
    /// is not a command plist.
    pub async fn connect(
        &mut self,
        conn: &mut Connection,
        paths: &Paths,
        recorder: &Recorder,
    ) -> Result<u32, Failure> {
        let mut report = CommandReport::idle(self.udid.clone());
        let mut step = Step::Idle;
        let mut answered = 0;
        loop {
            let body = report
                .to_xml()
                .map_err(|e| Failure::new(step, "build", e.to_string()))?;
            let answer = self
                .put(
                    conn,
                    recorder,
                    step,
                    &paths.server,
                    REPORT_CONTENT_TYPE,
                    body,
                )
                .await?;
            expect_ok(step, &answer)?;
            if step == Step::Acknowledge {
                self.acknowledged += 1;
                answered += 1;
            }
            if answer.body().is_empty() {
                return Ok(answered);
            }
            if answered >= MAX_COMMANDS_PER_CONNECT {
                return Err(Failure::new(
                    step,
                    "too many commands",
                    format!("still handed commands after {answered}"),
                ));
            }
            let command = parse_command(answer.body())
                .map_err(|e| Failure::new(step, "bad command", e.to_string()))?;
            let response = self.response_keys(&command.command);
            self.last_command = Some(command.uuid.as_str().to_owned());
            report = CommandReport::result(
                self.udid.clone(),
                command.uuid,
                CommandStatus::Acknowledged,
                response,
            );
            step = Step::Acknowledge;
        }
    }

    /// What a device answers to a command: `DeviceInformation` gets the
    /// queried attributes it knows, `ProfileList` an empty list; any other
    /// command is acknowledged with no keys.
    fn response_keys(&self, command: &Command) -> PlistDictionary {
        let mut keys = PlistDictionary::new();
        match command {
            Command::DeviceInformation(info) => {
                let mut answers = PlistDictionary::new();
                for q in &info.queries {
                    let value = match q.as_str() {
                        "UDID" => self.udid().to_owned(),
                        "DeviceName" => format!("Load iPhone {}", &self.udid()[24..]),
                        "SerialNumber" => self.serial(),
                        "Model" | "ProductName" => "iPhone15,2".into(),
                        "ModelName" => "iPhone".into(),
                        "OSVersion" => "17.4.1".into(),
                        "BuildVersion" => "21E236".into(),
                        _ => continue,
                    };
                    answers.insert(q.clone(), value);
                }
                keys.insert("QueryResponses", answers);
            }
            Command::ProfileList(_) => {
                keys.insert("ProfileList", Vec::new());
            }
            _ => {}
        }
        keys
    }

    fn serial(&self) -> String {
        let tail = self.udid().get(24..).unwrap_or("0");
        format!("L{tail}")
    }

    fn push_magic(&self) -> String {
        let hex = hex::encode_upper(&self.token[..16]);
        format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        )
    }

    /// PUTs a signed body and records the step.
    async fn put(
        &mut self,
        conn: &mut Connection,
        recorder: &Recorder,
        step: Step,
        path: &str,
        content_type: &'static str,
        body: Vec<u8>,
    ) -> Result<Answer, Failure> {
        let reuse = step == Step::Idle && self.reuse_idle_signature;
        let signature = match &self.idle_signature {
            Some(cached) if reuse => cached.clone(),
            _ => {
                let now = OffsetDateTime::now_utc();
                let signature = self
                    .signer
                    .sign_detached(&body, now)
                    .map_err(|e| Failure::new(step, "sign", e.to_string()))?;
                let signature = base64::engine::general_purpose::STANDARD.encode(signature);
                let signature = HeaderValue::from_str(&signature)
                    .map_err(|e| Failure::new(step, "sign", e.to_string()))?;
                if reuse {
                    self.idle_signature = Some(signature.clone());
                }
                signature
            }
        };
        let request = Request::builder()
            .method(Method::PUT)
            .uri(path)
            .header(header::CONTENT_TYPE, content_type)
            .header(header::USER_AGENT, MDM_USER_AGENT)
            .header("Mdm-Signature", signature)
            .body(Bytes::from(body))
            .map_err(|e| Failure::new(step, "build", e.to_string()))?;
        let started = Instant::now();
        let answer = conn.send(request).await;
        recorder.request(step, started.elapsed());
        answer.map_err(|e| Failure::new(step, e.kind(), e.to_string()))
    }
}

fn expect_ok(step: Step, answer: &Answer) -> Result<(), Failure> {
    let status = answer.status();
    if status == StatusCode::OK {
        return Ok(());
    }
    let text = String::from_utf8_lossy(answer.body());
    let text: String = text.chars().take(200).collect();
    Err(Failure::new(
        step,
        format!("http {}", status.as_u16()),
        text.trim().to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use mdm_apple::{DeviceInformation, decode, verify_detached_signature};
    use mdm_certs::SubjectName;

    use super::*;

    #[test]
    fn udids_are_uuid_shaped_and_distinct() {
        let a = udid(0xABCD_0123, 1);
        assert_eq!(a.len(), 36);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit() || c == '-'));
        assert_ne!(a, udid(0xABCD_0123, 2));
        assert_ne!(a, udid(0xABCD_0124, 1));
    }

    #[test]
    fn an_issued_device_signs_what_its_ca_verifies() {
        let now = OffsetDateTime::now_utc();
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let ca = CertificateAuthority::create(
            &SubjectName::common_name("load test CA").unwrap(),
            Validity::days(now - time::Duration::days(1), 30).unwrap(),
            KeyAlgorithm::EcdsaP256,
            &mut rng,
        )
        .unwrap();
        let device = WireDevice::issued(&ca, 7, 3, now).unwrap();
        assert_eq!(device.udid(), udid(7, 3));
        let body = CommandReport::idle(device.udid.clone()).to_xml().unwrap();
        let signature = device.signer.sign_detached(&body, now).unwrap();
        let verified =
            verify_detached_signature(&signature, &body, &[ca.certificate().clone()], now);
        assert!(verified.is_ok(), "{verified:?}");
        // The answer to DeviceInformation carries the queried keys.
        let keys = device.response_keys(&Command::DeviceInformation(DeviceInformation {
            queries: vec!["UDID".into(), "SerialNumber".into(), "Unknown".into()],
        }));
        let answers = keys.get("QueryResponses").unwrap().as_dictionary().unwrap();
        assert_eq!(
            answers.get("UDID").unwrap().as_string(),
            Some(device.udid())
        );
        assert!(answers.get("Unknown").is_none());
        let report = CommandReport::result(
            device.udid.clone(),
            mdm_apple::CommandUuid::new("c-1").unwrap(),
            CommandStatus::Acknowledged,
            keys,
        );
        assert!(decode(&report.to_xml().unwrap()).is_ok());
        assert_eq!(device.push_magic().len(), 36);
    }
}
