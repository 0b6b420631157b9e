//! Queueing commands through the target's own API: nanomdm's
//! `PUT /v1/enqueue/<id,id,…>?nopush=1` (HTTP basic auth, user `nanomdm`,
//! password the `-api` key; the body a command plist; no push, since a
//! load run has no APNs certificate and its devices connect on their own).

use std::time::Instant;

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, header};
use mdm_apple::{Command, CommandRequest, CommandUuid, DeviceInformation};

use super::client::Connection;
use super::report::{Recorder, Step};
use super::target::Target;
use crate::HarnessError;
use crate::error::apple;

/// UDIDs per enqueue request (a URL of about 7 KiB).
pub const ENQUEUE_BATCH: usize = 200;

/// The command every device gets: a `DeviceInformation` for the attributes
/// an inventory reads.
///
/// # Errors
/// [`HarnessError::Apple`] if the plist cannot be written.
pub fn inventory_command(uuid: CommandUuid) -> Result<(CommandRequest, Vec<u8>), HarnessError> {
    let command = CommandRequest::new(
        uuid,
        Command::DeviceInformation(DeviceInformation::common()),
    );
    let xml = command.to_xml().map_err(apple("inventory command"))?;
    Ok((command, xml))
}

/// nanomdm's enqueue API.
pub struct NanomdmApi {
    authorization: HeaderValue,
    enqueue_prefix: String,
}

impl std::fmt::Debug for NanomdmApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NanomdmApi")
            .field("enqueue_prefix", &self.enqueue_prefix)
            .finish_non_exhaustive()
    }
}

impl NanomdmApi {
    /// The API of `target` with its key.
    ///
    /// # Errors
    /// [`HarnessError::InvalidOption`] for a key that cannot be a header.
    pub fn new(target: &Target, api_key: &str) -> Result<Self, HarnessError> {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("nanomdm:{api_key}"));
        let mut authorization = HeaderValue::from_str(&format!("Basic {basic}")).map_err(|e| {
            HarnessError::InvalidOption {
                option: "api-key",
                reason: e.to_string(),
            }
        })?;
        authorization.set_sensitive(true);
        Ok(Self {
            authorization,
            enqueue_prefix: target.path("/v1/enqueue/"),
        })
    }

    /// Queues commands for `udids`, [`ENQUEUE_BATCH`] at a time, without
    /// pushes: batch `i` gets `commands[i]` (nanomdm takes a command UUID
    /// once, so each batch has its own). Returns the UDIDs of batches the
    /// API refused, with the refusal.
    pub async fn enqueue(
        &self,
        conn: &mut Connection,
        recorder: &Recorder,
        udids: &[&str],
        commands: &[Vec<u8>],
    ) -> Vec<(String, String)> {
        let mut refused = Vec::new();
        for (batch, command) in udids.chunks(ENQUEUE_BATCH).zip(commands) {
            let path = format!("{}{}?nopush=1", self.enqueue_prefix, batch.join(","));
            let request = Request::builder()
                .method(Method::PUT)
                .uri(path)
                .header(header::AUTHORIZATION, self.authorization.clone())
                .header(header::CONTENT_TYPE, "application/xml")
                .body(Bytes::copy_from_slice(command));
            let request = match request {
                Ok(r) => r,
                Err(e) => {
                    refuse(&mut refused, recorder, batch, "build", &e.to_string());
                    continue;
                }
            };
            let started = Instant::now();
            let answer = conn.send(request).await;
            recorder.request(Step::Enqueue, started.elapsed());
            match answer {
                Err(e) => refuse(&mut refused, recorder, batch, e.kind(), &e.to_string()),
                Ok(a) if !a.status().is_success() => {
                    let kind = format!("http {}", a.status().as_u16());
                    refuse(
                        &mut refused,
                        recorder,
                        batch,
                        &kind,
                        &String::from_utf8_lossy(a.body()),
                    );
                }
                Ok(a) => {
                    if let Some(problem) = enqueue_problem(a.body()) {
                        refuse(&mut refused, recorder, batch, "refused", &problem);
                    }
                }
            }
        }
        refused
    }
}

fn refuse(
    refused: &mut Vec<(String, String)>,
    recorder: &Recorder,
    batch: &[&str],
    kind: &str,
    detail: &str,
) {
    recorder.error(Step::Enqueue, kind);
    let detail: String = detail.chars().take(200).collect();
    refused.extend(batch.iter().map(|u| ((*u).to_owned(), detail.clone())));
}

/// nanomdm answers 200 with a JSON body naming any whole or per-device
/// error in a key ending `_error` (`command_error`, `push_error`, …), at the
/// top or under `status`.
fn enqueue_problem(body: &[u8]) -> Option<String> {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Some(format!(
            "not JSON: {}",
            String::from_utf8_lossy(body)
                .chars()
                .take(100)
                .collect::<String>()
        ));
    };
    let error_in = |v: &serde_json::Value| {
        v.as_object().and_then(|o| {
            o.iter()
                .find(|(k, v)| k.ends_with("_error") && !v.is_null() && v.as_str() != Some(""))
                .map(|(k, v)| format!("{k}: {v}"))
        })
    };
    error_in(&json).or_else(|| {
        json.get("status")
            .and_then(serde_json::Value::as_object)
            .and_then(|s| {
                s.iter()
                    .find_map(|(id, v)| error_in(v).map(|e| format!("{id}: {e}")))
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nanomdm_answers() {
        assert_eq!(
            enqueue_problem(
                br#"{"no_push":true,"command_uuid":"c","request_type":"DeviceInformation"}"#
            ),
            None
        );
        assert!(enqueue_problem(br#"{"command_error":"no ids"}"#).is_some());
        assert!(enqueue_problem(br#"{"status":{"A":{"push_error":"x"}}}"#).is_some());
        assert!(enqueue_problem(b"<html>").is_some());
    }

    #[test]
    fn the_inventory_command_reads_back() {
        let uuid = CommandUuid::new("8C0E1E35-2F57-4E2C-9A31-5B6A8C0E1E35").unwrap();
        let (command, xml) = inventory_command(uuid.clone()).unwrap();
        assert_eq!(mdm_apple::parse_command(&xml).unwrap(), command);
    }
}
