//! Device identity binding: a device proves who it is on every request,
//! and can never speak for another.

use mdm_apple::{
    AppleDeviceId, AppleError, Authenticate, CommandReport, DeviceRequest, Endpoint,
    PresentedIdentity, PushMagic, PushToken, TokenUpdate,
};
use mdm_model::{AppleRefusal, AuditEvent, DeviceState};

use super::service_fixtures::{IPAD, MAC, NOW, Setup, pki, topic};

fn last_refusal(s: &Setup) -> Option<(Option<mdm_model::DeviceId>, AppleRefusal)> {
    s.ws.audit_log().iter().rev().find_map(|r| match &r.event {
        AuditEvent::AppleRequestRefused { device, reason } => Some((*device, *reason)),
        _ => None,
    })
}

fn ipad_idle() -> Vec<u8> {
    CommandReport::idle(AppleDeviceId::Udid(IPAD.into()))
        .to_xml()
        .unwrap()
}

/// Sends `body` with a certificate as the TLS peer's.
fn with_peer_certificate(
    s: &mut Setup,
    body: &[u8],
    der: &[u8],
) -> mdm_apple::Result<mdm_apple::Handled> {
    s.service.handle(
        &mut s.ws,
        &DeviceRequest {
            endpoint: Endpoint::Command,
            body,
            identity: PresentedIdentity::Certificate(der),
        },
        NOW,
    )
}

#[test]
fn a_request_for_udid_y_signed_by_xs_certificate_is_refused() {
    let mut s = Setup::new();
    let (x, y) = (&pki().x, &pki().y);
    s.enroll(IPAD, x);
    let dy = s.enroll(MAC, y);
    let mac = AppleDeviceId::Udid(MAC.into());
    // X checks in, fetches commands and reports as Y: all refused.
    let bodies = [
        (
            Endpoint::Command,
            CommandReport::idle(mac.clone()).to_xml().unwrap(),
        ),
        (
            Endpoint::CheckIn,
            TokenUpdate::new(
                topic(),
                mac.clone(),
                PushToken::new(vec![1; 32]).unwrap(),
                PushMagic::new("evil").unwrap(),
            )
            .to_xml()
            .unwrap(),
        ),
        (
            Endpoint::CheckIn,
            Authenticate::new(topic(), mac.clone()).to_xml().unwrap(),
        ),
    ];
    for (endpoint, body) in &bodies {
        let e = s.send(*endpoint, body, x).unwrap_err();
        let expected_kind = matches!(
            e,
            AppleError::IdentityMismatch { .. } | AppleError::UnknownIdentity { .. }
        );
        assert!(expected_kind, "{e}");
        let (device, reason) = last_refusal(&s).unwrap();
        assert_eq!(device, Some(dy));
        assert!(matches!(
            reason,
            AppleRefusal::IdentityMismatch | AppleRefusal::UnknownIdentity
        ));
    }
    // Y's push target is still Y's.
    let (_, target) = s.service.push_target(&mac).unwrap().unwrap();
    assert_eq!(target.push_magic.as_str(), "magic");
    assert_eq!(s.ws.device(dy).unwrap().state(), DeviceState::Connected);
}

#[test]
fn an_identity_issued_for_one_device_cannot_take_over_another_live_enrollment() {
    let mut s = Setup::new();
    s.enroll(MAC, &pki().y);
    // X's identity is expected for a new device record, but names Y's UDID.
    s.enrolling(&pki().x);
    let auth = Authenticate::new(topic(), AppleDeviceId::Udid(MAC.into()))
        .to_xml()
        .unwrap();
    let e = s.checkin(&auth, &pki().x).unwrap_err();
    assert!(matches!(e, AppleError::IdentityMismatch { .. }), "{e}");
}

#[test]
fn an_identity_nobody_issued_for_an_enrollment_cannot_authenticate() {
    let mut s = Setup::new();
    let auth = Authenticate::new(topic(), AppleDeviceId::Udid(IPAD.into()))
        .to_xml()
        .unwrap();
    let e = s.checkin(&auth, &pki().x).unwrap_err();
    assert_eq!(
        e,
        AppleError::UnknownIdentity {
            device: IPAD.into()
        }
    );
    assert_eq!(
        last_refusal(&s),
        Some((None, AppleRefusal::UnknownIdentity))
    );
}

#[test]
fn a_certificate_from_another_ca_is_refused() {
    let mut s = Setup::new();
    s.enroll(IPAD, &pki().x);
    let idle = ipad_idle();
    let e = s.command(&idle, &pki().foreign).unwrap_err();
    assert!(matches!(e, AppleError::UntrustedSigner { .. }), "{e}");
    assert_eq!(
        last_refusal(&s).map(|r| r.1),
        Some(AppleRefusal::UntrustedIdentity)
    );
    // The same through the TLS peer certificate.
    let e = with_peer_certificate(&mut s, &idle, pki().foreign.der()).unwrap_err();
    assert!(matches!(e, AppleError::UntrustedSigner { .. }), "{e}");
}

#[test]
fn an_expired_certificate_is_refused() {
    let mut s = Setup::new();
    s.enrolling(&pki().expired);
    let auth = Authenticate::new(topic(), AppleDeviceId::Udid(IPAD.into()))
        .to_xml()
        .unwrap();
    let e = s.checkin(&auth, &pki().expired).unwrap_err();
    assert!(matches!(e, AppleError::CertificateNotValidAt { .. }), "{e}");
    assert_eq!(
        last_refusal(&s).map(|r| r.1),
        Some(AppleRefusal::IdentityNotValid)
    );
}

#[test]
fn a_signature_over_another_body_or_no_identity_is_refused() {
    let mut s = Setup::new();
    s.enroll(IPAD, &pki().x);
    let idle = ipad_idle();
    let other = pki().x.sign(b"another body");
    let request = DeviceRequest {
        endpoint: Endpoint::Command,
        body: &idle,
        identity: PresentedIdentity::MdmSignature(&other),
    };
    let e = s.service.handle(&mut s.ws, &request, NOW).unwrap_err();
    assert!(matches!(e, AppleError::BadSignature { .. }), "{e}");
    assert_eq!(
        last_refusal(&s).map(|r| r.1),
        Some(AppleRefusal::BadSignature)
    );
    let request = DeviceRequest {
        endpoint: Endpoint::Command,
        body: &idle,
        identity: PresentedIdentity::None,
    };
    assert_eq!(
        s.service.handle(&mut s.ws, &request, NOW).unwrap_err(),
        AppleError::NoIdentity
    );
}

#[test]
fn the_tls_peer_certificate_and_an_rsa_identity_work_too() {
    let mut s = Setup::new();
    let rsa = &pki().rsa;
    let device = s.enroll(IPAD, rsa);
    assert_eq!(s.ws.device(device).unwrap().state(), DeviceState::Connected);
    let idle = ipad_idle();
    let handled = with_peer_certificate(&mut s, &idle, rsa.der()).unwrap();
    assert_eq!(handled.status, 200);
}

#[test]
fn a_renewed_identity_rebinds_only_through_a_new_authenticate() {
    let mut s = Setup::new();
    let device = s.enroll(IPAD, &pki().x);
    let renewed = &pki().y;
    let idle = ipad_idle();
    // The integrator declares the renewal; until Authenticate, the old binding holds.
    s.service.expect_identity(renewed.der(), device).unwrap();
    assert!(matches!(
        s.command(&idle, renewed).unwrap_err(),
        AppleError::IdentityMismatch { .. }
    ));
    let auth = Authenticate::new(topic(), AppleDeviceId::Udid(IPAD.into()))
        .to_xml()
        .unwrap();
    s.checkin(&auth, renewed).unwrap();
    let update = TokenUpdate::new(
        topic(),
        AppleDeviceId::Udid(IPAD.into()),
        PushToken::new(vec![2; 32]).unwrap(),
        PushMagic::new("m2").unwrap(),
    );
    s.checkin(&update.to_xml().unwrap(), renewed).unwrap();
    s.command(&idle, renewed).unwrap();
    // The old identity is now refused.
    assert!(matches!(
        s.command(&idle, &pki().x).unwrap_err(),
        AppleError::IdentityMismatch { .. }
    ));
}
