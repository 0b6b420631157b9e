//! Our `serve`'s administrator API as a load run uses it (JSON over HTTPS
//! under `<tenant>/api/v1/`, the tenant's bearer token): install the push
//! certificate, create users, send invitations (one each), queue a typed
//! command (serve pushes it), list the devices.

use std::time::Instant;

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, header};
use serde_json::{Value, json};

use super::client::Connection;
use super::report::{Recorder, Step};
use super::target::Target;
use crate::HarnessError;

/// Accounts per invitation request.
pub const INVITE_BATCH: usize = 100;
/// Devices per command request.
pub const COMMAND_BATCH: usize = 200;

/// Why an API call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRefusal {
    /// `http 401`, `timeout`, `not JSON`, …
    pub kind: String,
    /// The detail (serve's reason).
    pub detail: String,
}

impl std::fmt::Display for ApiRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind, self.detail)
    }
}

impl ApiRefusal {
    /// As the run's error: a refused token names the option.
    pub fn into_error(self, step: &'static str) -> HarnessError {
        if self.kind == "http 401" {
            HarnessError::InvalidOption {
                option: "admin-token",
                reason: format!("serve refused it while trying to {step}: {}", self.detail),
            }
        } else {
            HarnessError::Serve {
                step,
                message: self.to_string(),
            }
        }
    }
}

/// One invitation sent: its link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    /// The account invited.
    pub account: String,
    /// The link in the message.
    pub link: String,
}

impl Invitation {
    /// The path (and token) of the link, without scheme and host.
    pub fn path(&self) -> Option<&str> {
        path_of(&self.link)
    }

    /// The invitation token: the link's last segment.
    pub fn token(&self) -> Option<&str> {
        self.link.rsplit('/').next().filter(|t| !t.is_empty())
    }
}

/// The path of an absolute `http(s)://host[:port]/path` URL.
pub fn path_of(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    rest.find('/').and_then(|i| rest.get(i..))
}

/// The administrator API of one tenant.
pub struct ServeApi {
    authorization: HeaderValue,
    prefix: String,
}

impl std::fmt::Debug for ServeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeApi")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl ServeApi {
    /// The API of the tenant at `target` (its base URL, `…/t/<tenant>`).
    ///
    /// # Errors
    /// [`HarnessError::InvalidOption`] for a token that cannot be a header.
    pub fn new(target: &Target, token: &str) -> Result<Self, HarnessError> {
        let mut authorization = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|e| {
            HarnessError::InvalidOption {
                option: "admin-token",
                reason: e.to_string(),
            }
        })?;
        authorization.set_sensitive(true);
        Ok(Self {
            authorization,
            prefix: target.path("/api/v1/"),
        })
    }

    /// One call: `method path` with a JSON body, the JSON answer.
    ///
    /// # Errors
    /// [`ApiRefusal`] for no answer, a status other than 2xx, or a body
    /// that is not JSON.
    pub async fn call(
        &self,
        conn: &mut Connection,
        recorder: &Recorder,
        step: Step,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ApiRefusal> {
        let refusal = |kind: &str, detail: String| ApiRefusal {
            kind: kind.to_owned(),
            detail: detail.chars().take(300).collect(),
        };
        let request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.prefix))
            .header(header::AUTHORIZATION, self.authorization.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.map_or_else(Bytes::new, |b| Bytes::from(b.to_string())))
            .map_err(|e| refusal("build", e.to_string()))?;
        let started = Instant::now();
        let answer = conn.send(request).await;
        recorder.request(step, started.elapsed());
        let answer = answer.map_err(|e| refusal(e.kind(), e.to_string()))?;
        let text = String::from_utf8_lossy(answer.body());
        if !answer.status().is_success() {
            let kind = format!("http {}", answer.status().as_u16());
            return Err(refusal(&kind, text.trim().to_owned()));
        }
        serde_json::from_slice(answer.body())
            .map_err(|e| refusal("not JSON", format!("{e}: {text}")))
    }

    /// Installs the push certificate (PEM with its key); returns its topic.
    ///
    /// # Errors
    /// [`ApiRefusal`].
    pub async fn upload_push_certificate(
        &self,
        conn: &mut Connection,
        recorder: &Recorder,
        pem: &str,
    ) -> Result<Option<String>, ApiRefusal> {
        let body = json!({
            "file_name": "push.pem",
            "data_base64": base64::engine::general_purpose::STANDARD.encode(pem.as_bytes()),
        });
        let answer = self
            .call(
                conn,
                recorder,
                Step::Admin,
                Method::PUT,
                "apns-certificate",
                Some(&body),
            )
            .await?;
        Ok(answer["details"]["topic"].as_str().map(str::to_owned))
    }

    /// Creates the user `account` with an e-mail address (invitations go by mail).
    ///
    /// # Errors
    /// [`ApiRefusal`].
    pub async fn add_user(
        &self,
        conn: &mut Connection,
        recorder: &Recorder,
        account: &str,
    ) -> Result<(), ApiRefusal> {
        let body = json!({ "account": account, "email": format!("{account}@load.example") });
        self.call(
            conn,
            recorder,
            Step::Admin,
            Method::POST,
            "users",
            Some(&body),
        )
        .await
        .map(drop)
    }

    /// Sends one invitation to each of `accounts` ([`INVITE_BATCH`] at a time).
    ///
    /// # Errors
    /// [`ApiRefusal`], or an answer without one message per account.
    pub async fn invite(
        &self,
        conn: &mut Connection,
        recorder: &Recorder,
        accounts: &[String],
    ) -> Result<Vec<Invitation>, ApiRefusal> {
        let mut out = Vec::with_capacity(accounts.len());
        for batch in accounts.chunks(INVITE_BATCH) {
            let body = json!({ "accounts": batch, "language": "en" });
            let answer = self
                .call(
                    conn,
                    recorder,
                    Step::Admin,
                    Method::POST,
                    "invitations",
                    Some(&body),
                )
                .await?;
            let links: Vec<&str> = answer["messages"]
                .as_array()
                .map(|m| m.iter().filter_map(|m| m["link"].as_str()).collect())
                .unwrap_or_default();
            if links.len() != batch.len() {
                return Err(ApiRefusal {
                    kind: "short answer".into(),
                    detail: format!("{} links for {} accounts", links.len(), batch.len()),
                });
            }
            out.extend(batch.iter().zip(links).map(|(account, link)| Invitation {
                account: account.clone(),
                link: link.to_owned(),
            }));
        }
        Ok(out)
    }

    /// Queues `command` (its typed JSON form) for `udids`, pushed; returns
    /// the command's UUID and how many pushes serve says it sent.
    ///
    /// # Errors
    /// [`ApiRefusal`], or an answer where a device was not queued.
    pub async fn enqueue(
        &self,
        conn: &mut Connection,
        recorder: &Recorder,
        udids: &[&str],
        command: &Value,
    ) -> Result<(String, u64), ApiRefusal> {
        let body = json!({ "devices": udids, "command": command });
        let answer = self
            .call(
                conn,
                recorder,
                Step::Enqueue,
                Method::POST,
                "commands",
                Some(&body),
            )
            .await?;
        let not_queued = answer["devices"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|d| d["queued"] != Value::Bool(true));
        if let Some(d) = not_queued {
            return Err(ApiRefusal {
                kind: "not queued".into(),
                detail: d.to_string(),
            });
        }
        let uuid = answer["command_uuid"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        Ok((uuid, answer["push"]["sent"].as_u64().unwrap_or(0)))
    }

    /// The tenant's devices (`GET devices`).
    ///
    /// # Errors
    /// [`ApiRefusal`].
    pub async fn devices(
        &self,
        conn: &mut Connection,
        recorder: &Recorder,
    ) -> Result<Vec<Value>, ApiRefusal> {
        let answer = self
            .call(conn, recorder, Step::Admin, Method::GET, "devices", None)
            .await?;
        Ok(answer["devices"].as_array().cloned().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_links() {
        let i = Invitation {
            account: "a".into(),
            link: "https://127.0.0.1:8443/t/acme/enroll/ABCD-1234".into(),
        };
        assert_eq!(i.path(), Some("/t/acme/enroll/ABCD-1234"));
        assert_eq!(i.token(), Some("ABCD-1234"));
        assert_eq!(path_of("ftp://x/y"), None);
        assert_eq!(path_of("https://host"), None);
        let refused = ApiRefusal {
            kind: "http 401".into(),
            detail: "bad token".into(),
        }
        .into_error("create users");
        assert!(refused.to_string().contains("admin-token"), "{refused}");
    }
}
