//! Invitations on the server side: the administrator's instruction
//! messages, and an opened invitation link routed by `mdm-packages` over
//! the workspace (detection, the model's decision, the artifact built, the
//! invitation consumed).

use mdm_model::{DeviceId, InvitationState, InvitationToken, UserId};
use mdm_packages::{
    AndroidDelivery, BuiltLink, ClientHints, InstructionSettings, Language, LinkAnswer,
    LinkRequest, LinkRoutes, LinkStep, PendingInstruction, PendingLink, issue_instructions,
};
use rand_chacha::ChaCha20Rng;
use time::OffsetDateTime;

use super::MdmServer;
use super::distribution::{Distribution, STORE_URL, routes};
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

/// A device opens its invitation link (its `token`) with a real
/// User-Agent: `mdm-packages` detects it and the model decides. An iPadOS
/// 13+ iPad that looks like a Mac gets the touch probe, which reloads the
/// link with the touch points it saw. Either the opening waits for its
/// artifact, or the answer is known already (a refusal, nothing consumed).
pub(crate) fn begin_opening(
    w: &mut MdmServer,
    token: &str,
    user_agent: &str,
    store: bool,
    at: OffsetDateTime,
) -> Result<Result<PendingLink, LinkAnswer>, HarnessError> {
    let files = [("agent.apk", w.dist.agent_apk.as_slice())];
    let routes = routes(&w.dist, &files, store);
    let mut request = LinkRequest {
        token,
        user_agent,
        hints: ClientHints::default(),
    };
    loop {
        let step = mdm_packages::begin_link(&mut w.ws, &request, &routes, at)
            .map_err(packages("open link"))?;
        match step {
            LinkStep::Answered(LinkAnswer::NeedsTouchHint { .. })
                if request.hints == ClientHints::default() =>
            {
                request.hints = ClientHints::from_query("touch=5");
            }
            LinkStep::Answered(answer) => return Ok(Err(answer)),
            LinkStep::Pending(pending) => return Ok(Ok(pending)),
        }
    }
}

/// The package or signed profile a pending opening waits for, built from
/// the device's key stream `rng` (touches nothing shared: runs on all cores).
pub(crate) fn build_artifact(
    dist: &Distribution,
    pending: PendingLink,
    store: bool,
    at: OffsetDateTime,
    rng: &mut ChaCha20Rng,
) -> Result<BuiltLink, HarnessError> {
    let files = [("agent.apk", dist.agent_apk.as_slice())];
    let routes = routes(dist, &files, store);
    pending
        .build(&routes, at, rng)
        .map_err(|e| HarnessError::Packages {
            step: "build artifact",
            message: e.to_string(),
        })
}

/// The model consumes the invitation of a built opening and answers.
pub(crate) fn finish_opening(
    w: &mut MdmServer,
    built: BuiltLink,
    at: OffsetDateTime,
) -> Result<LinkAnswer, HarnessError> {
    mdm_packages::finish_link(&mut w.ws, built, at).map_err(|e| HarnessError::Packages {
        step: "finish link",
        message: e.to_string(),
    })
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
