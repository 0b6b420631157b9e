//! One workspace's real artifacts, written to a folder so a user can open
//! each with their own tools (`openssl`, `plutil`, `unzip`, `zbarimg`, …).

use std::path::{Path, PathBuf};

use mdm_android::{AdminExtras, AgentConnection, ComponentName, ProvisioningPayload};
use mdm_apple::{CommandRequest, CommandUuid, enrollment_profile};
use mdm_model::Sha256Digest;
use mdm_packages::{InstructionSettings, Language, StandalonePackage, send_instructions};

use crate::draw::{self, Purpose};
use crate::error::{android, apple, model, packages};
use crate::mdm_server::{MdmServer, SERVER_HOST};
use crate::{HarnessError, Options};

fn write(
    dir: &Path,
    name: &str,
    bytes: &[u8],
    written: &mut Vec<PathBuf>,
) -> Result<(), HarnessError> {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| HarnessError::Io {
            path: parent.display().to_string(),
            source,
        })?;
    }
    std::fs::write(&path, bytes).map_err(|source| HarnessError::Io {
        path: path.display().to_string(),
        source,
    })?;
    written.push(path);
    Ok(())
}

/// Sets a workspace up at `now` as a simulation would (seeded by `seed`)
/// and writes its artifacts into `out`; returns the files written.
///
/// # Errors
/// [`HarnessError::Io`] when a file cannot be written; any error of the
/// crates that make the artifacts.
pub fn write_all(
    out: &Path,
    seed: u64,
    now: time::OffsetDateTime,
) -> Result<Vec<PathBuf>, HarnessError> {
    let mut options = Options::new("baseline", 1, 1, seed)?;
    options.start = now;
    let (mut w, _) = MdmServer::set_up(&options)?;
    let now = w.start;
    let mut rng = draw::stream(seed, 0, Purpose::Admin);
    let mut files = Vec::new();
    let f = &mut files;
    write(
        out,
        "certificates/workspace-ca.pem",
        w.pki.ca.certificate().pem().as_bytes(),
        f,
    )?;
    write(
        out,
        "certificates/server.pem",
        w.pki.rotation.current().certificate.pem().as_bytes(),
        f,
    )?;
    write(
        out,
        "apns/workspace-request.csr.pem",
        w.apns_flow.csr_pem.as_bytes(),
        f,
    )?;
    write(
        out,
        "apns/push-certificate-request.plist",
        &w.apns_flow.request_plist,
        f,
    )?;
    write(
        out,
        "apns/push-certificate-request.b64",
        w.apns_flow.request_upload.as_bytes(),
        f,
    )?;
    write(
        out,
        "apns/push-certificate.pem",
        w.apns_flow.certificate_pem.as_bytes(),
        f,
    )?;

    let profile =
        enrollment_profile(&w.dist.apple_params, &mut rng).map_err(apple("enrollment profile"))?;
    write(
        out,
        "apple/enrollment.mobileconfig",
        &profile.to_xml().map_err(apple("profile XML"))?,
        f,
    )?;
    write(
        out,
        "apple/enrollment-signed.mobileconfig",
        &profile
            .sign(&w.dist.profile_signer, now)
            .map_err(apple("sign profile"))?,
        f,
    )?;
    let commands = [
        (
            "DeviceInformation",
            mdm_apple::Command::DeviceInformation(mdm_apple::DeviceInformation::common()),
        ),
        (
            "SecurityInfo",
            mdm_apple::Command::SecurityInfo(mdm_apple::SecurityInfo),
        ),
        (
            "DeviceLock",
            mdm_apple::Command::DeviceLock(mdm_apple::DeviceLock {
                message: Some("Locked by IT".into()),
                phone_number: None,
                pin: None,
            }),
        ),
    ];
    for (name, command) in commands {
        let request = CommandRequest::new(CommandUuid::random(&mut rng), command);
        write(
            out,
            &format!("apple/commands/{name}.plist"),
            &request.to_xml().map_err(apple("command"))?,
            f,
        )?;
    }

    let apk = w.dist.agent_apk.clone();
    let package = StandalonePackage::build(
        &w.dist.product,
        &[("agent.apk", apk.as_slice())],
        &w.dist.connection,
    )
    .map_err(packages("package"))?;
    write(
        out,
        &format!("android/{}", package.file_name()),
        package.bytes(),
        f,
    )?;

    let user = w
        .users
        .iter()
        .find(|(_, email)| *email)
        .map(|(u, _)| *u)
        .ok_or_else(|| HarnessError::InvalidOption {
            option: "seed",
            reason: "the artifact workspace drew no user with an e-mail address; try another seed"
                .into(),
        })?;
    let settings = InstructionSettings {
        link_base: &w.link_base,
        service_name: "Fleet MDM",
        agent_name: "Fleet Agent",
        android: mdm_packages::AndroidDelivery::StandalonePackage,
        language: Language::English,
    };
    let batch = send_instructions(&mut w.ws, &[user], &settings, now, &mut rng)
        .map_err(packages("instructions"))?;
    let message = batch
        .messages
        .first()
        .ok_or_else(|| HarnessError::Packages {
            step: "instructions",
            message: "no message".into(),
        })?;
    write(
        out,
        "invitation/message.txt",
        message.message.text.as_bytes(),
        f,
    )?;
    write(
        out,
        "invitation/message.html",
        message.message.html.as_bytes(),
        f,
    )?;
    let qr = message.link.qr_code().map_err(packages("QR"))?;
    write(
        out,
        "invitation/qr.png",
        &qr.to_png(mdm_packages::DEFAULT_MODULE_PX)
            .map_err(packages("QR PNG"))?,
        f,
    )?;
    write(
        out,
        "invitation/qr.svg",
        qr.to_svg(mdm_packages::DEFAULT_MODULE_PX).as_bytes(),
        f,
    )?;

    let mut payload = ProvisioningPayload::new(
        ComponentName::new("com.example.mdm.agent", ".AdminReceiver")
            .map_err(android("component"))?,
    );
    payload.admin_extras = AdminExtras {
        connection: Some(AgentConnection {
            server: mdm_model::ServerAddress::parse(SERVER_HOST).map_err(model("server"))?,
            enrollment_token: message.link.token().clone(),
            ca_fingerprint: Sha256Digest::of(w.pki.ca.certificate().der()),
        }),
        ..AdminExtras::default()
    };
    payload.locale = Some("ja_JP".into());
    payload.time_zone = Some("Asia/Tokyo".into());
    write(
        out,
        "android/provisioning-qr.json",
        payload
            .to_qr_json_pretty()
            .map_err(android("provisioning"))?
            .as_bytes(),
        f,
    )?;
    Ok(files)
}
