//! Refusals the model has no audit event for — a SCEP request refused, an
//! oversized or malformed body, a request for an unknown tenant, a wrong
//! administrator token — kept as facts beside the workspace's audit log,
//! logged through `tracing`, and appended to `facts.jsonl` in the state
//! folder so they survive a restart.

use std::collections::VecDeque;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Mutex;

use serde::Serialize;
use time::OffsetDateTime;

/// How many facts are kept in memory (the file keeps them all).
const KEPT: usize = 10_000;

/// One refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fact {
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The tenant, when the request named a known one.
    pub tenant: Option<String>,
    /// The route (`scep`, `admin`, `mdm`, `enroll`, …).
    pub route: String,
    /// The HTTP status answered.
    pub status: u16,
    /// Why, in words (never a secret).
    pub reason: String,
}

/// The facts of one process.
#[derive(Debug)]
pub struct Facts {
    kept: Mutex<VecDeque<Fact>>,
    file: Option<PathBuf>,
}

impl Facts {
    /// Facts kept in memory and appended to `file`.
    pub fn new(file: Option<PathBuf>) -> Self {
        Self {
            kept: Mutex::new(VecDeque::new()),
            file,
        }
    }

    /// Records a refusal.
    pub fn record(&self, fact: Fact) {
        tracing::warn!(
            tenant = fact.tenant.as_deref().unwrap_or("-"),
            route = %fact.route,
            status = fact.status,
            reason = %fact.reason,
            "request refused"
        );
        if let Some(path) = &self.file {
            let line = serde_json::to_string(&fact).unwrap_or_default();
            let written = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .and_then(|mut f| writeln!(f, "{line}"));
            if let Err(e) = written {
                tracing::error!(path = %path.display(), error = %e, "cannot append a fact");
            }
        }
        if let Ok(mut kept) = self.kept.lock() {
            if kept.len() == KEPT {
                kept.pop_front();
            }
            kept.push_back(fact);
        }
    }

    /// The facts about `tenant` (all of them for `None`), oldest first.
    pub fn about(&self, tenant: Option<&str>) -> Vec<Fact> {
        self.kept
            .lock()
            .map(|kept| {
                kept.iter()
                    .filter(|f| tenant.is_none() || f.tenant.as_deref() == tenant)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_are_kept_per_tenant_and_appended_to_the_file() {
        let dir = std::env::temp_dir().join(format!("facts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("facts.jsonl");
        let facts = Facts::new(Some(file.clone()));
        let at = time::macros::datetime!(2026-12-01 10:00 UTC);
        for (tenant, status) in [(Some("acme"), 400), (None, 404)] {
            facts.record(Fact {
                at,
                tenant: tenant.map(str::to_owned),
                route: "scep".into(),
                status,
                reason: "bad".into(),
            });
        }
        assert_eq!(facts.about(Some("acme")).len(), 1);
        assert_eq!(facts.about(None).len(), 2);
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.contains("\"status\":404"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
