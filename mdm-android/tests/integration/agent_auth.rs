//! The agent's proof on the wire: `Authorization` headers round-trip, hide
//! their secret, and malformed ones are typed errors.

use mdm_android::{AgentAuthorization, AndroidError};
use mdm_model::{AgentCredential, InvitationToken};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

#[test]
fn headers_round_trip_and_hide_their_secret() {
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    for auth in [
        AgentAuthorization::Invitation(InvitationToken::generate(&mut rng)),
        AgentAuthorization::Bearer(AgentCredential::generate(&mut rng)),
    ] {
        let header = auth.header_value();
        assert_eq!(AgentAuthorization::parse(&header).unwrap(), auth);
        let secret = header.split_once(' ').unwrap().1;
        assert!(!format!("{auth:?} {auth:#?}").contains(secret));
        let lower = header.to_ascii_lowercase();
        let (scheme, _) = lower.split_once(' ').unwrap();
        assert!(AgentAuthorization::parse(&format!("{scheme} {secret}")).is_ok());
    }
    for bad in [
        "",
        "Bearer",
        "Bearer short",
        "Basic dXNlcjpwYXNz",
        &format!("Token {}", "A".repeat(43)),
    ] {
        let error = AgentAuthorization::parse(bad).unwrap_err();
        assert!(
            matches!(error, AndroidError::MalformedAuthorization { .. }),
            "{bad:?}"
        );
    }
}
