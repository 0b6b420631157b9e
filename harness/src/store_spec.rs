//! Where state is kept, as `serve --store` and `simulate --store` write it:
//! `sqlite:PATH` or a PostgreSQL connection (`postgres://…`,
//! `postgresql://…`, or `postgres:` followed by libpq's `key=value` words).
//! `simulate` also takes `memory` (its default): nothing is written.

use std::path::PathBuf;

use crate::HarnessError;

/// A durable store: a SQLite path or a PostgreSQL connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreSpec {
    /// `sqlite:PATH`: for `serve` a folder with one SQLite file per tenant,
    /// `PATH/<tenant>.sqlite3`; for `simulate` the file itself. Created on
    /// first use.
    Sqlite(PathBuf),
    /// `postgres://…` (or `postgresql://…`, or `postgres:` followed by
    /// libpq's `key=value` words, e.g. `postgres:host=/run/pg dbname=mdm`):
    /// for `serve` one database, one schema per tenant (`mdm_<tenant>`),
    /// shared by every `serve` process given it; for `simulate` one schema.
    Postgres(String),
}

const EXPECTED: &str =
    "sqlite:PATH, postgres://user@host/db (a connection URL) or postgres:host=… dbname=…";

impl StoreSpec {
    /// Reads `sqlite:PATH` or a PostgreSQL connection.
    ///
    /// # Errors
    /// [`HarnessError::InvalidOption`] for anything else.
    pub fn parse(text: &str) -> Result<Self, HarnessError> {
        if let Some(path) = text.strip_prefix("sqlite:") {
            if path.is_empty() {
                return Err(invalid("sqlite: needs a path, e.g. sqlite:state/db"));
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(Self::Postgres(text.to_owned()));
        }
        if let Some(words) = text.strip_prefix("postgres:")
            && words.contains('=')
        {
            return Ok(Self::Postgres(words.trim().to_owned()));
        }
        Err(invalid(EXPECTED))
    }

    /// Reads `memory` (`None`) or what [`Self::parse`] reads.
    ///
    /// # Errors
    /// As [`Self::parse`].
    pub fn parse_or_memory(text: &str) -> Result<Option<Self>, HarnessError> {
        if text == "memory" {
            return Ok(None);
        }
        Self::parse(text)
            .map_err(|_| invalid(&format!("memory, {EXPECTED}")))
            .map(Some)
    }

    /// `serve`'s default: SQLite files in `state_dir/db`.
    pub fn default_in(state_dir: &std::path::Path) -> Self {
        Self::Sqlite(state_dir.join("db"))
    }

    /// How it is written on the command line (without a password).
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite:{}", path.display()),
            Self::Postgres(connection) => {
                if connection.contains("://") {
                    format!("postgres:{}", redact_url(connection))
                } else {
                    let words: Vec<&str> = connection
                        .split_whitespace()
                        .filter(|w| !w.starts_with("password="))
                        .collect();
                    format!("postgres:{}", words.join(" "))
                }
            }
        }
    }
}

/// A connection URL without its password.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let user = &url[scheme + 3..at];
            let user = user.split(':').next().unwrap_or("");
            format!("{}{user}{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

fn invalid(reason: &str) -> HarnessError {
    HarnessError::InvalidOption {
        option: "store",
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_specs_are_checked() {
        assert_eq!(
            StoreSpec::parse("sqlite:/tmp/x").unwrap(),
            StoreSpec::Sqlite("/tmp/x".into())
        );
        assert!(matches!(
            StoreSpec::parse("postgresql://u@h/db").unwrap(),
            StoreSpec::Postgres(_)
        ));
        assert_eq!(
            StoreSpec::parse("postgres:host=/run/pg dbname=mdm").unwrap(),
            StoreSpec::Postgres("host=/run/pg dbname=mdm".into())
        );
        for bad in [
            "sqlite:",
            "mysql://x",
            "",
            "/tmp/x",
            "postgres:",
            "postgres:db",
            "memory",
        ] {
            assert!(StoreSpec::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(StoreSpec::parse_or_memory("memory").unwrap(), None);
        assert!(StoreSpec::parse_or_memory("sqlite:a.db").unwrap().is_some());
        assert!(StoreSpec::parse_or_memory("mem").is_err());
    }

    #[test]
    fn a_described_store_shows_no_password() {
        let url = StoreSpec::parse("postgres://u:secret@h/db").unwrap();
        assert_eq!(url.describe(), "postgres:postgres://u@h/db");
        let words = StoreSpec::parse("postgres:host=/run/pg password=secret dbname=mdm").unwrap();
        assert_eq!(words.describe(), "postgres:host=/run/pg dbname=mdm");
    }
}
