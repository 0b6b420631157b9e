//! What the service is given and what it answers: a device request (its
//! endpoint, body and identity), and the status, body and changes.

use mdm_model::{DeviceId, SyncOutcome};

use super::identity::PresentedIdentity;
use crate::command::RequestType;
use crate::ids::CommandUuid;
use crate::message::CommandStatus;

/// Which URL of the enrollment profile the request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `CheckInURL`: check-in messages (`MessageType`).
    CheckIn,
    /// `ServerURL`: command reports (`Status`), and the next command back.
    Command,
}

impl Endpoint {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::CheckIn => "check-in",
            Self::Command => "command",
        }
    }
}

/// One device request, as the transport received it.
#[derive(Debug, Clone, Copy)]
pub struct DeviceRequest<'a> {
    /// Where it came.
    pub endpoint: Endpoint,
    /// The body, exactly as sent.
    pub body: &'a [u8],
    /// The identity evidence that came with it.
    pub identity: PresentedIdentity<'a>,
}

/// What a handled request changed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ServiceEvent {
    /// `Authenticate`: the enrollment started (or restarted) and the
    /// identity is bound to the device id.
    Authenticated,
    /// A `TokenUpdate` connected the device in the model (its first, or
    /// the first after a lost connection).
    Connected,
    /// A later `TokenUpdate` replaced the push token or magic.
    TokensUpdated,
    /// A user-channel `TokenUpdate`; the device channel is unchanged.
    UserChannelTokens,
    /// `CheckOut`: the enrollment ended; the model device was retired.
    CheckedOut,
    /// `SetBootstrapToken` stored (`true`) or cleared (`false`) the token.
    BootstrapToken(bool),
    /// A new connection (`Idle`) was recorded as a sync.
    Synced(SyncOutcome),
    /// A command was handed out in the answer.
    CommandSent(CommandUuid),
    /// A command got its final status and left the queue.
    CommandFinished {
        /// Its UUID.
        uuid: CommandUuid,
        /// `Acknowledged`, `Error` or `CommandFormatError`.
        status: CommandStatus,
        /// Its request type.
        request_type: Option<RequestType>,
    },
    /// The device deferred a command (`NotNow`); it stays queued.
    CommandDeferred(CommandUuid),
    /// A repeated report or one for an unknown command: nothing changed.
    ReportIgnored(Option<CommandUuid>),
    /// An acknowledged `EraseDevice`: the model wiped the device (R-WP-1)
    /// and the enrollment ended.
    Wiped,
}

/// The service's answer to a request it accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct Handled {
    /// HTTP status: 200, or 410 for a `UserAuthenticate` (the user channel
    /// is not managed; the device does not ask again this session).
    pub status: u16,
    /// The response body (a command plist, a token dictionary, or empty).
    pub body: Vec<u8>,
    /// The model device the request was for.
    pub device: Option<DeviceId>,
    /// What changed, in order.
    pub events: Vec<ServiceEvent>,
}

impl Handled {
    pub(crate) fn ok(device: DeviceId, events: Vec<ServiceEvent>) -> Self {
        Self {
            status: 200,
            body: Vec::new(),
            device: Some(device),
            events,
        }
    }
}
