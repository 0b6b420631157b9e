//! The service in process: the captured nanomdm bodies, signed by a test
//! device identity, drive an enrollment, a command, a wipe and a check-out
//! through the model.

use mdm_apple::{
    AppleDeviceId, AppleError, AppleStore as _, BootstrapToken, CheckOut, Command, CommandReport,
    CommandRequest, CommandStatus, CommandUuid, DeclarativeManagement, DeviceLock, EraseDevice,
    GetBootstrapToken, GetToken, PlistDictionary, ServiceEvent, SetBootstrapToken,
    UserAuthenticate, UserChannel, decode,
};
use mdm_model::{AppleRefusal, AuditEvent, DeviceState, Workspace};

use super::service_fixtures::{IPAD, MAC, Setup, pki, topic, vector};

fn ipad() -> AppleDeviceId {
    AppleDeviceId::Udid(IPAD.into())
}

fn uuid(n: u32) -> CommandUuid {
    CommandUuid::new(format!("0000000{n}-5488-4989-8339-f2ae160113c4")).unwrap()
}

fn refusals(ws: &Workspace) -> Vec<AppleRefusal> {
    ws.audit_log()
        .iter()
        .filter_map(|r| match &r.event {
            AuditEvent::AppleRequestRefused { reason, .. } => Some(*reason),
            _ => None,
        })
        .collect()
}

#[test]
fn the_captured_bodies_enroll_the_device_into_unassigned() {
    let mut s = Setup::new();
    let x = &pki().x;
    let device = s.enrolling(x);
    let auth = s.checkin(&vector("Authenticate.1.plist"), x).unwrap();
    assert_eq!(auth.status, 200);
    assert!(auth.body.is_empty());
    assert_eq!(auth.events, vec![ServiceEvent::Authenticated]);
    assert_eq!(s.ws.device(device).unwrap().state(), DeviceState::Enrolling);
    assert!(
        s.service.push_target(&ipad()).unwrap().is_none(),
        "no push before TokenUpdate"
    );

    let update = s.checkin(&vector("TokenUpdate.1.plist"), x).unwrap();
    assert_eq!(update.events, vec![ServiceEvent::Connected]);
    let d = s.ws.device(device).unwrap();
    assert_eq!(d.state(), DeviceState::Connected);
    assert_eq!(d.group(), Some(Workspace::UNASSIGNED));
    let (push_topic, target) = s.service.push_target(&ipad()).unwrap().unwrap();
    assert_eq!(push_topic, topic());
    assert_eq!(
        target.push_magic.as_str(),
        "CEFDF0BD-E342-4A27-8742-E930EA116B0A"
    );

    // A second TokenUpdate only replaces the tokens.
    let again = s.checkin(&vector("TokenUpdate.1.plist"), x).unwrap();
    assert_eq!(again.events, vec![ServiceEvent::TokensUpdated]);
    // Authenticate again restarts the enrollment: no push until TokenUpdate.
    s.checkin(&vector("Authenticate.1.plist"), x).unwrap();
    assert!(s.service.push_target(&ipad()).unwrap().is_none());
    assert_eq!(
        s.checkin(&vector("TokenUpdate.1.plist"), x).unwrap().events,
        vec![ServiceEvent::TokensUpdated]
    );
    assert!(refusals(&s.ws).is_empty());
}

#[test]
fn a_queued_command_is_handed_out_acknowledged_not_now_and_duplicates_change_nothing() {
    let mut s = Setup::new();
    let x = &pki().x;
    let device = s.enroll(IPAD, x);
    let lock = CommandRequest::new(uuid(1), Command::DeviceLock(DeviceLock::default()));
    s.service.enqueue(&ipad(), lock.clone()).unwrap();
    s.service
        .enqueue(
            &ipad(),
            CommandRequest::new(uuid(2), Command::DeviceLock(DeviceLock::default())),
        )
        .unwrap();

    let idle = CommandReport::idle(ipad()).to_xml().unwrap();
    let first = s.command(&idle, x).unwrap();
    assert!(matches!(first.events[0], ServiceEvent::Synced(_)));
    assert_eq!(s.ws.device(device).unwrap().sync_count(), 1);
    assert_eq!(first.events[1], ServiceEvent::CommandSent(uuid(1)));
    assert_eq!(first.body, lock.to_xml().unwrap());

    let result = |n, status| {
        CommandReport::result(ipad(), uuid(n), status, PlistDictionary::new())
            .to_xml()
            .unwrap()
    };
    // NotNow keeps the command; the next one is handed out.
    let deferred = s.command(&result(1, CommandStatus::NotNow), x).unwrap();
    assert_eq!(
        deferred.events,
        vec![
            ServiceEvent::CommandDeferred(uuid(1)),
            ServiceEvent::CommandSent(uuid(2))
        ]
    );
    let done = s
        .command(&result(2, CommandStatus::Acknowledged), x)
        .unwrap();
    assert!(
        done.body.is_empty(),
        "the deferred one waits for the next connection"
    );
    assert!(matches!(
        &done.events[0],
        ServiceEvent::CommandFinished { uuid: u, status: CommandStatus::Acknowledged, .. } if *u == uuid(2)
    ));
    // The same report again: idempotent.
    let dup = s
        .command(&result(2, CommandStatus::Acknowledged), x)
        .unwrap();
    assert_eq!(dup.events, vec![ServiceEvent::ReportIgnored(Some(uuid(2)))]);
    assert_eq!(s.service.store().pending_commands(&ipad()).unwrap(), 1);
    // Next connection: the deferred command again, then acknowledged.
    assert_eq!(
        s.command(&idle, x).unwrap().events[1],
        ServiceEvent::CommandSent(uuid(1))
    );
    s.command(&result(1, CommandStatus::Acknowledged), x)
        .unwrap();
    assert_eq!(s.service.store().pending_commands(&ipad()).unwrap(), 0);
    assert_eq!(s.ws.device(device).unwrap().sync_count(), 2);
}

#[test]
fn the_captured_device_information_report_finishes_its_command() {
    let mut s = Setup::new();
    let x = &pki().x;
    s.enrolling(x);
    s.checkin(&vector("Authenticate.2.plist"), x).unwrap();
    s.checkin(&vector("TokenUpdate.2.plist"), x).unwrap();
    let mac = AppleDeviceId::Udid(MAC.into());
    let uuid = CommandUuid::new("76eda240-5488-4989-8339-f2ae160113c4").unwrap();
    s.service
        .enqueue(
            &mac,
            CommandRequest::new(
                uuid.clone(),
                Command::DeviceInformation(mdm_apple::DeviceInformation::common()),
            ),
        )
        .unwrap();
    let handled = s.command(&vector("DeviceInformation.1.plist"), x).unwrap();
    assert!(matches!(
        &handled.events[0],
        ServiceEvent::CommandFinished { uuid: u, request_type: Some(mdm_apple::RequestType::DeviceInformation), .. } if *u == uuid
    ));
}

#[test]
fn an_acknowledged_erase_wipes_the_device_and_ends_the_enrollment() {
    let mut s = Setup::new();
    let x = &pki().x;
    let device = s.enroll(IPAD, x);
    s.service
        .enqueue(
            &ipad(),
            CommandRequest::new(uuid(1), Command::EraseDevice(EraseDevice::default())),
        )
        .unwrap();
    s.command(&CommandReport::idle(ipad()).to_xml().unwrap(), x)
        .unwrap();
    let ack = CommandReport::result(
        ipad(),
        uuid(1),
        CommandStatus::Acknowledged,
        PlistDictionary::new(),
    );
    let handled = s.command(&ack.to_xml().unwrap(), x).unwrap();
    assert_eq!(handled.events.last(), Some(&ServiceEvent::Wiped));
    assert_eq!(s.ws.device(device).unwrap().state(), DeviceState::Wiped);
    assert!(s.service.push_target(&ipad()).unwrap().is_none());
    // The wiped device can no longer fetch commands.
    let e = s
        .command(&CommandReport::idle(ipad()).to_xml().unwrap(), x)
        .unwrap_err();
    assert!(matches!(e, AppleError::NotEnrolled { .. }), "{e}");
    // It enrolls again as a new model device with a new identity.
    let again = s.enroll(IPAD, &pki().y);
    assert_ne!(again, device);
    assert_eq!(s.ws.device(again).unwrap().state(), DeviceState::Connected);
}

#[test]
fn check_out_ends_the_enrollment_and_retires_the_device() {
    let mut s = Setup::new();
    let x = &pki().x;
    let device = s.enroll(IPAD, x);
    let out = CheckOut {
        topic: topic(),
        device: ipad(),
    }
    .to_xml()
    .unwrap();
    assert_eq!(
        s.checkin(&out, x).unwrap().events,
        vec![ServiceEvent::CheckedOut]
    );
    assert_eq!(s.ws.device(device).unwrap().state(), DeviceState::Retired);
    assert!(s.service.push_target(&ipad()).unwrap().is_none());
}

#[test]
fn the_other_check_ins_are_answered_as_nanomdm_does() {
    let mut s = Setup::new();
    let x = &pki().x;
    s.enroll(IPAD, x);
    let user = UserAuthenticate {
        device: ipad(),
        user: Some(UserChannel {
            user_id: Some("u".into()),
            ..Default::default()
        }),
        digest_response: None,
    };
    let answer = s.checkin(&user.to_xml().unwrap(), x).unwrap();
    assert_eq!(
        answer.status, 410,
        "410: the device does not ask again this session"
    );

    let get = GetBootstrapToken {
        topic: Some(topic()),
        device: ipad(),
    }
    .to_xml()
    .unwrap();
    let empty = s.checkin(&get, x).unwrap();
    assert_eq!(
        mdm_apple::PlistValue::from_bytes(&empty.body)
            .unwrap()
            .as_dictionary()
            .map(mdm_apple::PlistDictionary::len),
        Some(0)
    );
    let set = SetBootstrapToken {
        topic: Some(topic()),
        device: ipad(),
        token: Some(BootstrapToken::new(b"bootstrap".to_vec())),
        awaiting_configuration: None,
    };
    assert_eq!(
        s.checkin(&set.to_xml().unwrap(), x).unwrap().events,
        vec![ServiceEvent::BootstrapToken(true)]
    );
    let token = s.checkin(&get, x).unwrap();
    let value = mdm_apple::PlistValue::from_bytes(&token.body).unwrap();
    assert_eq!(
        value
            .as_dictionary()
            .and_then(|d| d.get("BootstrapToken"))
            .and_then(|v| v.as_data()),
        Some(&b"bootstrap"[..])
    );

    let get_token = GetToken {
        topic: None,
        device: ipad(),
        token_service_type: "com.apple.maid".into(),
    };
    let e = s.checkin(&get_token.to_xml().unwrap(), x).unwrap_err();
    assert!(
        matches!(
            e,
            AppleError::UnsupportedCheckin {
                message_type: "GetToken",
                ..
            }
        ),
        "{e}"
    );
    let ddm = DeclarativeManagement {
        device: ipad(),
        endpoint: "tokens".into(),
        data: None,
    };
    let e = s.checkin(&ddm.to_xml().unwrap(), x).unwrap_err();
    assert!(
        e.to_string()
            .contains("declarative device management is not implemented"),
        "{e}"
    );
    assert_eq!(mdm_apple::status_of(&e), 400);
    assert_eq!(
        refusals(&s.ws),
        vec![AppleRefusal::Unsupported, AppleRefusal::Unsupported]
    );
}

#[test]
fn every_check_in_type_decodes_and_round_trips() {
    let bodies = [
        UserAuthenticate {
            device: ipad(),
            user: None,
            digest_response: Some("d".into()),
        }
        .to_xml()
        .unwrap(),
        GetBootstrapToken {
            topic: None,
            device: ipad(),
        }
        .to_xml()
        .unwrap(),
        SetBootstrapToken {
            topic: Some(topic()),
            device: ipad(),
            token: None,
            awaiting_configuration: Some(true),
        }
        .to_xml()
        .unwrap(),
        GetToken {
            topic: None,
            device: ipad(),
            token_service_type: "com.apple.maid".into(),
        }
        .to_xml()
        .unwrap(),
        DeclarativeManagement {
            device: ipad(),
            endpoint: "status".into(),
            data: Some(b"{}".to_vec()),
        }
        .to_xml()
        .unwrap(),
    ];
    let kinds = [
        "UserAuthenticate",
        "GetBootstrapToken",
        "SetBootstrapToken",
        "GetToken",
        "DeclarativeManagement",
    ];
    for (body, kind) in bodies.iter().zip(kinds) {
        let m = decode(body).unwrap();
        assert_eq!(m.kind(), kind);
        assert_eq!(m.device(), Some(&ipad()));
    }
}

#[test]
fn unknown_types_missing_udid_and_foreign_topics_are_refused_and_audited() {
    let mut s = Setup::new();
    let x = &pki().x;
    let device = s.enroll(IPAD, x);
    let unknown = b"<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>MessageType</key><string>Frobnicate</string><key>UDID</key><string>663b07bb783e9ade1dae4fbb92ea12afc0ce5b69</string></dict></plist>";
    let e = s.checkin(unknown, x).unwrap_err();
    assert_eq!(
        e,
        AppleError::UnknownMessageType {
            message_type: "Frobnicate".into()
        }
    );
    let no_udid = String::from_utf8(vector("TokenUpdate.1.plist"))
        .unwrap()
        .replace("<key>UDID</key>", "<key>Nothing</key>");
    let e = s.checkin(no_udid.as_bytes(), x).unwrap_err();
    assert!(
        matches!(e, AppleError::MissingField { key: "UDID", .. }),
        "{e}"
    );
    let foreign = String::from_utf8(vector("TokenUpdate.1.plist"))
        .unwrap()
        .replace(
            super::service_fixtures::TOPIC,
            "com.apple.mgmt.External.another",
        );
    let e = s.checkin(foreign.as_bytes(), x).unwrap_err();
    assert!(matches!(e, AppleError::TopicMismatch { .. }), "{e}");
    // A report to the check-in URL and a check-in to the command URL.
    let idle = CommandReport::idle(ipad()).to_xml().unwrap();
    assert!(matches!(
        s.checkin(&idle, x).unwrap_err(),
        AppleError::WrongEndpoint {
            endpoint: "check-in",
            ..
        }
    ));
    assert_ne!(mdm_apple::status_of(&e), 401);
    assert_eq!(
        refusals(&s.ws),
        vec![
            AppleRefusal::UnknownMessageType,
            AppleRefusal::MissingDeviceId,
            AppleRefusal::ForeignTopic,
            AppleRefusal::MalformedMessage,
        ]
    );
    // The device is unharmed.
    assert_eq!(s.ws.device(device).unwrap().state(), DeviceState::Connected);
}

#[test]
fn nothing_but_authenticate_is_served_before_the_first_token_update() {
    let mut s = Setup::new();
    let x = &pki().x;
    let device = s.enrolling(x);
    s.checkin(&vector("Authenticate.1.plist"), x).unwrap();
    let idle = CommandReport::idle(ipad()).to_xml().unwrap();
    let get = GetBootstrapToken {
        topic: None,
        device: ipad(),
    }
    .to_xml()
    .unwrap();
    for e in [
        s.command(&idle, x).unwrap_err(),
        s.checkin(&get, x).unwrap_err(),
    ] {
        assert!(matches!(e, AppleError::NotEnrolled { .. }), "{e}");
    }
    assert_eq!(refusals(&s.ws), vec![AppleRefusal::NotEnrolled; 2]);
    assert_eq!(s.ws.device(device).unwrap().state(), DeviceState::Enrolling);
    assert_eq!(s.ws.device(device).unwrap().sync_count(), 0);
}
