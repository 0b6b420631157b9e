//! Invitations on the server side: the administrator's instruction
//! messages, and an opened invitation link routed by `mdm-packages` over
//! the workspace (detection, the model's decision, the artifact built, the
//! invitation consumed).

use mdm_apple::EnrollmentIdentity;
use mdm_certs::OneTimePassword;
use mdm_model::{DeviceId, InvitationState, InvitationToken, Platform, UserId};
use mdm_packages::{
    AndroidDelivery, BuiltLink, ClientHints, InstructionSettings, Language, LinkAnswer,
    LinkRequest, LinkRoutes, LinkStep, PendingInstruction, PendingLink, issue_instructions,
};
use rand_chacha::ChaCha20Rng;
use time::OffsetDateTime;

use super::MdmServer;
use super::distribution::{Distribution, STORE_URL, routes};
use super::scep::new_label;
use crate::error::{model, packages};
use crate::{HarnessError, SimTime};

/// The administrator issues each user an invitation for an instruction
/// message (link + QR); the device's user reads the link from it. Returns
/// the tokens, in the order of `users`, and the messages still to write
/// ([`PendingInstruction::compose`], which the caller runs on other cores).
pub(crate) fn send_instructions_to(
    w: &mut MdmServer,
    users: &[UserId],
    now: SimTime,
) -> Result<(Vec<InvitationToken>, Vec<PendingInstruction>), HarnessError> {
    // The administrator writes to each user in their language: one batch per language.
    let language_of = |user: &UserId| match user.get() % 3 {
        0 => Language::English,
        1 => Language::Japanese,
        _ => Language::Russian,
    };
    let at = w.now(now);
    let mut tokens: Vec<Option<InvitationToken>> = vec![None; users.len()];
    let mut messages = Vec::with_capacity(users.len());
    for language in [Language::English, Language::Japanese, Language::Russian] {
        let (positions, selected): (Vec<usize>, Vec<UserId>) = users
            .iter()
            .enumerate()
            .filter(|(_, u)| language_of(u) == language)
            .map(|(k, u)| (k, *u))
            .unzip();
        if selected.is_empty() {
            continue;
        }
        let settings = InstructionSettings {
            link_base: &w.link_base,
            service_name: "Fleet MDM",
            agent_name: "Fleet Agent",
            android: AndroidDelivery::StandalonePackage,
            language,
        };
        let issued = issue_instructions(&mut w.ws, &selected, &settings, at, &mut w.admin_rng)
            .map_err(packages("send instructions"))?;
        if issued.pending.len() != selected.len() {
            return Err(HarnessError::Packages {
                step: "send instructions",
                message: format!(
                    "{} messages for {} users",
                    issued.pending.len(),
                    selected.len()
                ),
            });
        }
        for (k, pending) in positions.into_iter().zip(issued.pending) {
            // What the device opens is the link as the message carries it.
            let link =
                mdm_packages::InvitationLink::parse_for(&pending.link().to_string(), &w.link_base)
                    .map_err(packages("read link"))?;
            if let Some(slot) = tokens.get_mut(k) {
                *slot = Some(link.token().clone());
            }
            messages.push(pending);
        }
    }
    let tokens = tokens
        .into_iter()
        .map(|t| {
            t.ok_or_else(|| HarnessError::Packages {
                step: "send instructions",
                message: "a user got no message".into(),
            })
        })
        .collect::<Result<_, _>>()?;
    Ok((tokens, messages))
}

/// A link opening the model accepted, its artifact still to build, with
/// the one-time SCEP challenge the server issued for it (R-CL-1): an Apple
/// device's profile carries it; the user of a standalone Android package
/// gets it by e-mail, for the agent's client certificate.
pub(crate) struct Opening {
    pending: PendingLink,
    pub(crate) challenge: Option<IssuedChallenge>,
}

/// A challenge and the enrollment label its certificate will carry.
pub(crate) struct IssuedChallenge {
    pub(crate) label: String,
    pub(crate) otp: OneTimePassword,
}

/// A device opens its invitation link (its `token`) with a real
/// User-Agent: `mdm-packages` detects it and the model decides. An iPadOS
/// 13+ iPad that looks like a Mac gets the touch probe, which reloads the
/// link with the touch points it saw. Either the opening waits for its
/// artifact (with its SCEP challenge, issued here), or the answer is known
/// already (a refusal, nothing consumed).
pub(crate) fn begin_opening(
    w: &mut MdmServer,
    token: &str,
    user_agent: &str,
    store: bool,
    at: OffsetDateTime,
) -> Result<Result<Opening, LinkAnswer>, HarnessError> {
    let files = [("agent.apk", w.dist.agent_apk.as_slice())];
    let routes = routes(&w.dist, &files, store);
    let mut request = LinkRequest {
        token,
        user_agent,
        hints: ClientHints::default(),
    };
    let pending = loop {
        let step = mdm_packages::begin_link(&mut w.ws, &request, &routes, at)
            .map_err(packages("open link"))?;
        match step {
            LinkStep::Answered(LinkAnswer::NeedsTouchHint { .. })
                if request.hints == ClientHints::default() =>
            {
                request.hints = ClientHints::from_query("touch=5");
            }
            LinkStep::Answered(answer) => return Ok(Err(answer)),
            LinkStep::Pending(pending) => break pending,
        }
    };
    let certified = pending.platform() != Platform::Android || !store;
    let challenge = if certified {
        Some(issue_challenge(w, token, at)?)
    } else {
        None
    };
    Ok(Ok(Opening { pending, challenge }))
}

/// The SCEP challenge for the user invited with `token`, for a fresh label.
fn issue_challenge(
    w: &mut MdmServer,
    token: &str,
    at: OffsetDateTime,
) -> Result<IssuedChallenge, HarnessError> {
    let token = InvitationToken::parse(token).map_err(model("token"))?;
    let user =
        w.ws.invitation_for(&token)
            .map(mdm_model::Invitation::user)
            .ok_or(HarnessError::Internal(
                "an accepted opening has no invitation",
            ))?;
    let account = w.ws.user(user).map_err(model("user"))?.account().to_owned();
    let label = new_label(&mut w.scep_rng);
    let otp = w
        .scep
        .issue_challenge(&account, &label, at, &mut w.scep_rng)?;
    Ok(IssuedChallenge { label, otp })
}

/// The package or signed profile a pending opening waits for, built from
/// the device's key stream `rng` (touches nothing shared: runs on all
/// cores). A profile's SCEP payload carries the opening's challenge and
/// asks for its label as CN. The challenge is given back for the server to
/// bind its label to the device the opening creates.
pub(crate) fn build_artifact(
    dist: &Distribution,
    opening: Opening,
    store: bool,
    at: OffsetDateTime,
    rng: &mut ChaCha20Rng,
) -> Result<(BuiltLink, Option<IssuedChallenge>), HarnessError> {
    let Opening { pending, challenge } = opening;
    let mut params;
    let files = [("agent.apk", dist.agent_apk.as_slice())];
    let mut routes = routes(dist, &files, store);
    if let Some(issued) = challenge
        .as_ref()
        .filter(|_| pending.platform() != Platform::Android)
    {
        params = dist.apple_params.clone();
        if let EnrollmentIdentity::Scep(scep) = &mut params.identity {
            scep.challenge = Some(issued.otp.expose().to_owned());
            scep.subject.retain(|(k, _)| k != "CN");
            scep.subject.push(("CN".into(), issued.label.clone()));
        }
        routes.apple.params = &params;
    }
    let built = pending
        .build(&routes, at, rng)
        .map_err(|e| HarnessError::Packages {
            step: "build artifact",
            message: e.to_string(),
        })?;
    Ok((built, challenge))
}

/// The model consumes the invitation of a built opening and answers; the
/// opening's SCEP label is bound to the device it created, and the
/// challenge given back to be e-mailed (for an Android package; an Apple
/// profile carries its own).
pub(crate) fn finish_opening(
    w: &mut MdmServer,
    built: BuiltLink,
    challenge: Option<IssuedChallenge>,
    at: OffsetDateTime,
) -> Result<(LinkAnswer, Option<OneTimePassword>), HarnessError> {
    let answer =
        mdm_packages::finish_link(&mut w.ws, built, at).map_err(|e| HarnessError::Packages {
            step: "finish link",
            message: e.to_string(),
        })?;
    let device = match &answer {
        LinkAnswer::AppleProfile { device, .. }
        | LinkAnswer::AndroidPackage { device, .. }
        | LinkAnswer::AndroidStore { device, .. } => Some(*device),
        _ => None,
    };
    let otp = match (challenge, device) {
        (Some(IssuedChallenge { label, otp }), Some(device)) => {
            w.pending_identities.bind(label, device, at);
            Some(otp)
        }
        _ => None,
    };
    Ok((answer, otp))
}

/// A second device opens a link (`token`) that may already have enrolled
/// one (R-IN-1). Returns the answer and whether the invitation was
/// consumed before this opening.
pub(crate) fn open_again(
    w: &mut MdmServer,
    token: &str,
    user_agent: &str,
    at: OffsetDateTime,
    rng: &mut ChaCha20Rng,
) -> Result<(LinkAnswer, bool), HarnessError> {
    let consumed_before =
        w.ws.invitation_for(&InvitationToken::parse(token).map_err(model("token"))?)
            .map(mdm_model::Invitation::state);
    let routes = LinkRoutes {
        android: mdm_packages::AndroidRoute::StoreListing { url: STORE_URL },
        apple: mdm_packages::AppleRoute {
            params: &w.dist.apple_params,
            signer: Some(&w.dist.profile_signer),
        },
    };
    let request = LinkRequest {
        token,
        user_agent,
        hints: ClientHints::default(),
    };
    let answer = mdm_packages::open_link(&mut w.ws, &request, &routes, at, rng)
        .map_err(packages("reuse link"))?;
    let was_consumed = matches!(consumed_before, Some(InvitationState::Consumed { .. }));
    Ok((answer, was_consumed))
}

/// Whether the invitation of `token` was consumed by exactly `device` (R-IN-1);
/// its state, for the report.
pub(crate) fn consumed_by(
    w: &MdmServer,
    token: Option<&InvitationToken>,
    device: DeviceId,
) -> (bool, Option<InvitationState>) {
    let state = token
        .and_then(|t| w.ws.invitation_for(t))
        .map(mdm_model::Invitation::state);
    (state == Some(InvitationState::Consumed { device }), state)
}
