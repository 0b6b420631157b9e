//! Invitation links and downloads on the wire (cargo feature `http`, off by
//! default): an `axum` [`Router`](axum::Router) that a server nests under
//! its [`LinkBase`](crate::LinkBase)'s path.
//!
//! | route | answer |
//! |---|---|
//! | `GET /enroll/{token}` (`?touch=<n>` from the probe page) | by the opening device, through [`begin_link`](crate::begin_link), [`PendingLink::build`](crate::PendingLink::build) and [`finish_link`](crate::finish_link) |
//! | `GET /packages/{file}` | a standalone package the server keeps ([`LinkState::standalone_package`]) |
//!
//! What an opened link answers:
//!
//! - **Android, store**: `302` to the listing with a `referrer` parameter
//!   holding the invitation link (percent-encoded). The agent reads it back
//!   through the Play Install Referrer API; the link gives it the server
//!   ([`InvitationLink::server`](crate::InvitationLink::server)) and the
//!   token its first connection presents (`POST /android/register` and the
//!   first sync, in `mdm-android`). It is the same link the user may paste
//!   into the agent's *Server* field (R-IN-4).
//! - **Android, standalone package**: `200 application/zip`, an attachment
//!   named by [`StandalonePackage::file_name`](crate::StandalonePackage::file_name).
//! - **iOS, iPadOS**: `200 application/x-apple-aspen-config`, the enrollment
//!   profile (CMS-signed when the route has a signer), an attachment. Its
//!   parameters come from [`AppleDownload`]: a server that puts a one-time
//!   SCEP challenge in each profile does so in [`AppleDownload::prepare`],
//!   called only once the model has accepted the enrollment.
//! - **macOS-looking Safari without a touch hint**: `200`, the probe page.
//! - **A desktop or another unsupported device**: a page that explains
//!   (`415`, as [`LinkAnswer::http_status`](crate::LinkAnswer::http_status)
//!   says); nothing is consumed.
//! - **A refused invitation** (unknown, used, expired, revoked; iOS without
//!   a valid APNs certificate): `404`, `410` or `403` with a page saying why
//!   and what to do, in the language of `Accept-Language`. The model records
//!   the refusal in its audit log; a token not even of the token's form
//!   (which the model never sees) is recorded by this route.
//!
//! Pages are HTML, `Cache-Control: no-store` everywhere (a link is
//! one-time). Each request runs on tokio's blocking pool; the state is
//! taken twice, before and after the artifact is built, so that building
//! and signing (the costly part) run without it. Only the server's own
//! failures give a 5xx (503 a failing state, 500 an artifact it cannot
//! build); nothing a request carries does.

mod router;

pub use router::{AndroidDownload, AppleDownload, LinkRoute, LinkServer, LinkState, link_router};
