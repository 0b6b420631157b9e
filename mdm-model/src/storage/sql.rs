//! What the SQL stores share: the tables (one description, two dialects),
//! the migrations, and how each entity becomes a row and back.
//!
//! A backend only moves [`Value`]s: it runs the statements this module
//! writes, binds a row's values, and hands each row it reads back as values.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use crate::device::AgentCredentialRecord;
use crate::workspace::WorkspaceData;
use crate::{
    ApnsCertificateRecord, AuditRecord, ChangeSet, ClientCertificateState, Device, DeviceId, Group,
    GroupId, Invitation, InvitationId, InvitationState, License, LicenseId, ModelError, Policy,
    PolicyId, User, UserId, Workspace, WorkspaceSettings,
};

/// The value of the `application` column that marks a workspace store.
pub(crate) const APPLICATION: &str = "mdm-toolkit workspace";

/// The two SQL dialects.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// A column's type: an integer, text, or a time (text that sorts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ty {
    Int,
    Text,
}

/// One table: its name, its key column (the first) and its columns.
#[derive(Debug)]
pub(crate) struct Table {
    pub(crate) name: &'static str,
    pub(crate) columns: &'static [(&'static str, Ty)],
}

use Ty::{Int, Text};

pub(crate) const WORKSPACE: Table = Table {
    name: "workspace",
    columns: &[
        ("id", Int),
        ("name", Text),
        ("company", Text),
        ("country", Text),
        ("created_at", Text),
        ("invitation_validity_seconds", Int),
        ("require_registration", Int),
        ("auto_move_to", Int),
    ],
};
pub(crate) const APNS: Table = Table {
    name: "apns_certificate",
    columns: &[
        ("id", Int),
        ("topic", Text),
        ("issuer", Text),
        ("not_before", Text),
        ("not_after", Text),
        ("fingerprint", Text),
    ],
};
pub(crate) const USERS: Table = Table {
    name: "users",
    columns: &[("id", Int), ("account", Text), ("email", Text)],
};
pub(crate) const GROUPS: Table = Table {
    name: "groups",
    columns: &[
        ("id", Int),
        ("name", Text),
        ("parent", Int),
        ("active_policy", Int),
    ],
};
pub(crate) const POLICIES: Table = Table {
    name: "policies",
    columns: &[
        ("id", Int),
        ("name", Text),
        ("group_id", Int),
        ("version", Int),
        ("settings", Text),
    ],
};
pub(crate) const LICENSES: Table = Table {
    name: "licenses",
    columns: &[
        ("id", Int),
        ("code", Text),
        ("seats", Int),
        ("expires_at", Text),
        ("deploy_automatically", Int),
    ],
};
pub(crate) const INVITATIONS: Table = Table {
    name: "invitations",
    columns: &[
        ("id", Int),
        ("user_id", Int),
        ("token_hash", Text),
        ("issued_at", Text),
        ("expires_at", Text),
        ("state", Text),
        ("device_id", Int),
    ],
};
pub(crate) const DEVICES: Table = Table {
    name: "devices",
    columns: &[
        ("id", Int),
        ("platform", Text),
        ("os_version", Text),
        ("model", Text),
        ("owner", Int),
        ("invitation", Int),
        ("identification_number", Text),
        ("install_source", Text),
        ("state", Text),
        ("group_id", Int),
        ("enrolled_at", Text),
        ("last_sync", Text),
        ("next_sync_due", Text),
        ("syncs", Int),
        ("applied_policy", Int),
        ("applied_policy_version", Int),
        ("license", Int),
        ("client_certificate", Text),
        ("client_certificate_sha256", Text),
        ("protection", Text),
        ("agent_credential", Text),
    ],
};
pub(crate) const REGISTRATIONS: Table = Table {
    name: "registrations",
    columns: &[("identification_number", Text), ("user_id", Int)],
};
pub(crate) const AUDIT: Table = Table {
    name: "audit_log",
    columns: &[
        ("seq", Int),
        ("at", Text),
        ("event", Text),
        ("record", Text),
    ],
};

/// Every entity table, in the order a commit writes them and a load reads them.
pub(crate) const TABLES: [&Table; 10] = [
    &WORKSPACE,
    &APNS,
    &USERS,
    &GROUPS,
    &POLICIES,
    &LICENSES,
    &INVITATIONS,
    &DEVICES,
    &REGISTRATIONS,
    &AUDIT,
];

/// The migrations, oldest first: migration `n` (from 1) brings the schema to
/// version `n`. Written once and never changed; `{int}` and `{time}` are the
/// dialect's integer and sortable-time column types.
const MIGRATIONS: [&str; 2] = [
    // 1: the tables.
    "CREATE TABLE mdm_store (application TEXT NOT NULL, schema_version {int} NOT NULL, revision {int} NOT NULL);
     INSERT INTO mdm_store (application, schema_version, revision) VALUES ('mdm-toolkit workspace', 0, 0);
     CREATE TABLE workspace (id {int} PRIMARY KEY, name TEXT NOT NULL, company TEXT NOT NULL,
        country TEXT, created_at {time} NOT NULL, invitation_validity_seconds {int} NOT NULL,
        require_registration {int} NOT NULL, auto_move_to {int});
     CREATE TABLE apns_certificate (id {int} PRIMARY KEY, topic TEXT NOT NULL, issuer TEXT NOT NULL,
        not_before {time} NOT NULL, not_after {time} NOT NULL, fingerprint TEXT NOT NULL);
     CREATE TABLE users (id {int} PRIMARY KEY, account TEXT NOT NULL, email TEXT);
     CREATE TABLE groups (id {int} PRIMARY KEY, name TEXT NOT NULL, parent {int}, active_policy {int});
     CREATE TABLE policies (id {int} PRIMARY KEY, name TEXT NOT NULL, group_id {int} NOT NULL,
        version {int} NOT NULL, settings TEXT NOT NULL);
     CREATE TABLE licenses (id {int} PRIMARY KEY, code TEXT NOT NULL, seats {int} NOT NULL,
        expires_at {time} NOT NULL, deploy_automatically {int} NOT NULL);
     CREATE TABLE invitations (id {int} PRIMARY KEY, user_id {int} NOT NULL, token_hash TEXT NOT NULL,
        issued_at {time} NOT NULL, expires_at {time} NOT NULL, state TEXT NOT NULL, device_id {int});
     CREATE TABLE devices (id {int} PRIMARY KEY, platform TEXT NOT NULL, os_version TEXT NOT NULL,
        model TEXT NOT NULL, owner {int} NOT NULL, invitation {int} NOT NULL, identification_number TEXT,
        install_source TEXT NOT NULL, state TEXT NOT NULL, group_id {int}, enrolled_at {time} NOT NULL,
        last_sync {time}, next_sync_due {time}, syncs {int} NOT NULL, applied_policy {int},
        applied_policy_version {int}, license {int}, client_certificate TEXT NOT NULL,
        client_certificate_sha256 TEXT, protection TEXT NOT NULL, agent_credential TEXT);
     CREATE TABLE registrations (identification_number TEXT PRIMARY KEY, user_id {int} NOT NULL);
     CREATE TABLE audit_log (seq {int} PRIMARY KEY, at {time} NOT NULL, event TEXT NOT NULL, record TEXT NOT NULL);",
    // 2: the indexes administrators' questions need.
    "CREATE INDEX devices_last_sync ON devices (last_sync);
     CREATE INDEX devices_owner ON devices (owner);
     CREATE INDEX audit_log_event ON audit_log (event);",
];

/// The statements of migration `version` (1-based), in the dialect.
pub(crate) fn migration(dialect: Dialect, version: u32) -> Option<String> {
    let text = MIGRATIONS.get(usize::try_from(version).ok()?.checked_sub(1)?)?;
    let (int, time) = match dialect {
        Dialect::Sqlite => ("INTEGER", "TEXT"),
        Dialect::Postgres => ("BIGINT", "TEXT COLLATE \"C\""),
    };
    Some(
        text.replace("{int}", int).replace("{time}", time)
            + &format!("\nUPDATE mdm_store SET schema_version = {version};"),
    )
}

const _: () = assert!(MIGRATIONS.len() == super::SCHEMA_VERSION as usize);

/// `SELECT <columns> FROM <table> ORDER BY <key>`.
pub(crate) fn select(table: &Table) -> String {
    format!(
        "SELECT {} FROM {} ORDER BY {}",
        column_list(table),
        table.name,
        table.columns[0].0
    )
}

fn column_list(table: &Table) -> String {
    table
        .columns
        .iter()
        .map(|(c, _)| *c)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `ON CONFLICT (<key>) DO UPDATE SET c = excluded.c, …`.
fn on_conflict(table: &Table) -> String {
    let sets = table.columns[1..]
        .iter()
        .map(|(c, _)| format!("{c} = excluded.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!("ON CONFLICT ({}) DO UPDATE SET {sets}", table.columns[0].0)
}

/// The statement writing one row (SQLite: `?1…`) or a batch of rows as one
/// array per column (PostgreSQL: `UNNEST($1::bigint[], …)`).
pub(crate) fn upsert(dialect: Dialect, table: &Table) -> String {
    let values = match dialect {
        Dialect::Sqlite => format!(
            "VALUES ({})",
            (1..=table.columns.len())
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Dialect::Postgres => format!(
            "SELECT * FROM UNNEST({})",
            table
                .columns
                .iter()
                .enumerate()
                .map(|(i, (_, ty))| match ty {
                    Int => format!("${}::bigint[]", i + 1),
                    Text => format!("${}::text[]", i + 1),
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    format!(
        "INSERT INTO {} ({}) {values} {}",
        table.name,
        column_list(table),
        on_conflict(table)
    )
}

/// The statement deleting rows by key (one, or an array of them).
pub(crate) fn delete(dialect: Dialect, table: &Table) -> String {
    let (key, ty) = table.columns[0];
    let array = match ty {
        Int => "bigint[]",
        Text => "text[]",
    };
    match dialect {
        Dialect::Sqlite => format!("DELETE FROM {} WHERE {key} = ?1", table.name),
        Dialect::Postgres => format!("DELETE FROM {} WHERE {key} = ANY($1::{array})", table.name),
    }
}

/// A column's value as the backends bind and read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Value {
    Int(Option<i64>),
    Text(Option<String>),
}

/// One thing a commit writes.
pub(crate) enum Write {
    /// Insert or replace a row (its values in column order).
    Upsert(&'static Table, Vec<Value>),
    /// Delete the row with this key.
    Delete(&'static Table, Value),
}

fn int(v: impl Into<i64>) -> Value {
    Value::Int(Some(v.into()))
}
fn opt_int<T: Into<i64>>(v: Option<T>) -> Value {
    Value::Int(v.map(Into::into))
}
fn text(v: impl Into<String>) -> Value {
    Value::Text(Some(v.into()))
}
fn opt_text(v: Option<String>) -> Value {
    Value::Text(v)
}

/// A time as stored: UTC, nine fractional digits, so it sorts as text.
pub(crate) fn time_text(t: OffsetDateTime) -> Result<String, ModelError> {
    let utc = t
        .checked_to_offset(time::UtcOffset::UTC)
        .filter(|u| (0..=9999).contains(&u.year()))
        .ok_or_else(|| ModelError::StoreBackend {
            backend: "sql",
            location: String::new(),
            operation: "store a time",
            message: format!("{t} is outside years 0000-9999"),
        })?;
    // Written digit by digit: this runs for every time column of every row
    // a commit writes, and `format!` was a tenth of a sync commit's time.
    let mut text = *b"0000-00-00T00:00:00.000000000Z";
    let mut put = |at: usize, width: usize, value: u32| {
        let mut v = value;
        for i in (at..at + width).rev() {
            if let Some(slot) = text.get_mut(i) {
                // `v % 10` is below 10, so the cast cannot truncate.
                #[allow(clippy::cast_possible_truncation)]
                let digit = (v % 10) as u8;
                *slot = b'0' + digit;
            }
            v /= 10;
        }
    };
    put(0, 4, u32::try_from(utc.year()).unwrap_or(0));
    put(5, 2, u32::from(u8::from(utc.month())));
    put(8, 2, u32::from(utc.day()));
    put(11, 2, u32::from(utc.hour()));
    put(14, 2, u32::from(utc.minute()));
    put(17, 2, u32::from(utc.second()));
    put(20, 9, utc.nanosecond());
    Ok(text.iter().map(|&b| char::from(b)).collect())
}

/// Reads [`time_text`]'s form back.
pub(crate) fn parse_time(s: &str) -> Result<OffsetDateTime, String> {
    let b = s.as_bytes();
    let bad = || format!("{s:?} is not a stored time (YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ)");
    if b.len() != 30
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'.'
        || b[29] != b'Z'
    {
        return Err(bad());
    }
    // Digit by digit: a load reads several times per row, millions of rows.
    let num = |from: usize, to: usize| -> Result<u32, String> {
        let mut value = 0_u32;
        for &c in b.get(from..to).ok_or_else(bad)? {
            if !c.is_ascii_digit() {
                return Err(bad());
            }
            value = value * 10 + u32::from(c - b'0');
        }
        Ok(value)
    };
    let year = i32::try_from(num(0, 4)?).map_err(|_| bad())?;
    let month = u8::try_from(num(5, 7)?)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or_else(bad)?;
    let small = |v: u32| u8::try_from(v).map_err(|_| bad());
    let date = Date::from_calendar_date(year, month, small(num(8, 10)?)?).map_err(|_| bad())?;
    let time = Time::from_hms_nano(
        small(num(11, 13)?)?,
        small(num(14, 16)?)?,
        small(num(17, 19)?)?,
        num(20, 29)?,
    )
    .map_err(|_| bad())?;
    Ok(PrimitiveDateTime::new(date, time).assume_utc())
}

/// A value whose serde form is a string, as that string.
fn as_text<T: Serialize>(v: &T) -> Result<String, ModelError> {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        other => Err(encode_error(format!(
            "expected a string form, got {other:?}"
        ))),
    }
}

/// A value as JSON text.
fn as_json<T: Serialize>(v: &T) -> Result<String, ModelError> {
    serde_json::to_string(v).map_err(|e| encode_error(e.to_string()))
}

fn encode_error(message: String) -> ModelError {
    ModelError::StoreBackend {
        backend: "sql",
        location: String::new(),
        operation: "encode a row",
        message,
    }
}

fn id_int(id: u32) -> Value {
    int(id)
}

/// Every row a change set writes, in table order, handed to `sink`.
pub(crate) fn writes(
    ws: &Workspace,
    changes: &ChangeSet,
    sink: &mut dyn FnMut(Write) -> Result<(), ModelError>,
) -> Result<(), ModelError> {
    let d = &ws.data;
    let missing =
        |what: &str, id: String| encode_error(format!("{what} {id} is not in the workspace"));
    if changes.header_changed() {
        sink(Write::Upsert(
            &WORKSPACE,
            vec![
                int(1),
                text(&*d.name),
                text(&*d.company),
                opt_text(d.country.as_deref().map(String::from)),
                text(time_text(d.created_at)?),
                int(d.settings.invitation_validity.whole_seconds()),
                int(d.settings.require_registration),
                opt_int(d.settings.auto_move_to.map(GroupId::get)),
            ],
        ))?;
    }
    if changes.apns_changed() {
        match &d.apns_certificate {
            Some(a) => sink(Write::Upsert(
                &APNS,
                vec![
                    int(1),
                    text(a.topic().as_str()),
                    text(a.issuer()),
                    text(time_text(a.not_before())?),
                    text(time_text(a.not_after())?),
                    text(a.fingerprint().to_hex()),
                ],
            ))?,
            None => sink(Write::Delete(&APNS, int(1)))?,
        }
    }
    for id in changes.users() {
        let u = ws.user(*id).map_err(|_| missing("user", id.to_string()))?;
        sink(Write::Upsert(
            &USERS,
            vec![
                id_int(id.get()),
                text(&*u.account),
                opt_text(u.email.as_ref().map(|e| e.as_str().to_owned())),
            ],
        ))?;
    }
    for id in changes.groups() {
        let g = ws
            .group(*id)
            .map_err(|_| missing("group", id.to_string()))?;
        sink(Write::Upsert(
            &GROUPS,
            vec![
                id_int(id.get()),
                text(&*g.name),
                opt_int(g.parent.map(GroupId::get)),
                opt_int(g.active_policy.map(PolicyId::get)),
            ],
        ))?;
    }
    for id in changes.policies() {
        let p = ws
            .policy(*id)
            .map_err(|_| missing("policy", id.to_string()))?;
        sink(Write::Upsert(
            &POLICIES,
            vec![
                id_int(id.get()),
                text(&*p.name),
                int(p.group.get()),
                int(p.version),
                text(as_json(&p.settings)?),
            ],
        ))?;
    }
    for id in changes.licenses() {
        let l = ws
            .license(*id)
            .map_err(|_| missing("license", id.to_string()))?;
        sink(Write::Upsert(
            &LICENSES,
            vec![
                id_int(id.get()),
                text(as_text(&l.code)?),
                int(l.seats),
                text(time_text(l.expires_at)?),
                int(l.deploy_automatically),
            ],
        ))?;
    }
    for id in changes.invitations() {
        let i = ws
            .invitation(*id)
            .map_err(|_| missing("invitation", id.to_string()))?;
        let (state, device) = match i.state {
            InvitationState::Pending => ("pending", None),
            InvitationState::Consumed { device } => ("consumed", Some(device.get())),
            InvitationState::Revoked => ("revoked", None),
        };
        sink(Write::Upsert(
            &INVITATIONS,
            vec![
                id_int(id.get()),
                int(i.user.get()),
                text(as_text(&i.token_hash)?),
                text(time_text(i.issued_at)?),
                text(time_text(i.expires_at)?),
                text(state),
                opt_int(device),
            ],
        ))?;
    }
    for id in changes.devices() {
        let dev = ws
            .device(*id)
            .map_err(|_| missing("device", id.to_string()))?;
        sink(Write::Upsert(&DEVICES, device_row(dev)?))?;
    }
    for number in changes.registrations() {
        let key = text(number.as_str());
        match d.registrations.get(number) {
            Some(user) => sink(Write::Upsert(&REGISTRATIONS, vec![key, int(user.get())]))?,
            None => sink(Write::Delete(&REGISTRATIONS, key))?,
        }
    }
    for seq in changes.audit() {
        let record = d
            .audit
            .get(seq)
            .ok_or_else(|| missing("audit record", seq.to_string()))?;
        let json = serde_json::to_value(&record.event).map_err(|e| encode_error(e.to_string()))?;
        let kind = json
            .get("event")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("unknown")
            .to_owned();
        sink(Write::Upsert(
            &AUDIT,
            vec![
                int(i64::try_from(seq).map_err(|e| encode_error(e.to_string()))?),
                text(time_text(record.at)?),
                text(kind),
                text(json.to_string()),
            ],
        ))?;
    }
    Ok(())
}

fn device_row(dev: &Device) -> Result<Vec<Value>, ModelError> {
    let opt_time = |t: Option<OffsetDateTime>| t.map(time_text).transpose().map(opt_text);
    let (cert, cert_sha) = match dev.client_certificate {
        ClientCertificateState::None => ("none", None),
        ClientCertificateState::Issued => ("issued", None),
        ClientCertificateState::Applied(sha) => ("applied", Some(sha.to_hex())),
    };
    Ok(vec![
        id_int(dev.id.get()),
        text(as_text(&dev.platform)?),
        text(as_text(&dev.os_version)?),
        text(&*dev.model),
        int(dev.owner.get()),
        int(dev.invitation.get()),
        opt_text(
            dev.identification_number
                .as_ref()
                .map(|n| n.as_str().to_owned()),
        ),
        text(as_text(&dev.install_source)?),
        text(as_text(&dev.state)?),
        opt_int(dev.group.map(GroupId::get)),
        text(time_text(dev.enrolled_at)?),
        opt_time(dev.last_sync)?,
        opt_time(dev.next_sync_due)?,
        int(dev.syncs),
        opt_int(dev.applied_policy.map(|(p, _)| p.get())),
        opt_int(dev.applied_policy.map(|(_, v)| v)),
        opt_int(dev.license.map(LicenseId::get)),
        text(cert),
        opt_text(cert_sha),
        text(as_json(&dev.protection)?),
        opt_text(dev.agent_credential.as_ref().map(as_json).transpose()?),
    ])
}

/// One row being read, column by column, with errors naming the column.
pub(crate) struct Row<'a> {
    table: &'a Table,
    values: std::vec::IntoIter<Value>,
    at: usize,
}

impl<'a> Row<'a> {
    pub(crate) fn new(table: &'a Table, values: Vec<Value>) -> Self {
        Self {
            table,
            values: values.into_iter(),
            at: 0,
        }
    }

    fn column(&self) -> &'static str {
        self.table.columns.get(self.at).map_or("?", |c| c.0)
    }

    fn err(&self, what: &str) -> String {
        format!(
            "table {}, column {}: {what}",
            self.table.name,
            self.column()
        )
    }

    fn next(&mut self) -> Result<Value, String> {
        let v = self.values.next().ok_or_else(|| self.err("missing"));
        self.at += 1;
        v
    }

    fn opt_int(&mut self) -> Result<Option<i64>, String> {
        match self.next()? {
            Value::Int(v) => Ok(v),
            Value::Text(_) => Err(self.err("text where an integer belongs")),
        }
    }
    fn int(&mut self) -> Result<i64, String> {
        self.opt_int()?.ok_or_else(|| self.err("null"))
    }
    fn opt_u32(&mut self) -> Result<Option<u32>, String> {
        self.opt_int()?
            .map(|v| u32::try_from(v).map_err(|_| self.err(&format!("{v} out of range"))))
            .transpose()
    }
    fn u32(&mut self) -> Result<u32, String> {
        self.opt_u32()?.ok_or_else(|| self.err("null"))
    }
    fn bool(&mut self) -> Result<bool, String> {
        match self.int()? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(self.err(&format!("{v} is not 0 or 1"))),
        }
    }
    fn opt_text(&mut self) -> Result<Option<String>, String> {
        match self.next()? {
            Value::Text(v) => Ok(v),
            Value::Int(_) => Err(self.err("an integer where text belongs")),
        }
    }
    fn text(&mut self) -> Result<String, String> {
        self.opt_text()?.ok_or_else(|| self.err("null"))
    }
    fn opt_time(&mut self) -> Result<Option<OffsetDateTime>, String> {
        self.opt_text()?
            .map(|s| parse_time(&s).map_err(|e| self.err(&e)))
            .transpose()
    }
    fn time(&mut self) -> Result<OffsetDateTime, String> {
        self.opt_time()?.ok_or_else(|| self.err("null"))
    }
    /// A value from its serde string form (so with its type's checks).
    fn parsed<T: DeserializeOwned>(&mut self) -> Result<T, String> {
        let s = self.text()?;
        self.parse(s)
    }
    fn opt_parsed<T: DeserializeOwned>(&mut self) -> Result<Option<T>, String> {
        self.opt_text()?.map(|s| self.parse(s)).transpose()
    }
    fn parse<T: DeserializeOwned>(&self, s: String) -> Result<T, String> {
        serde_json::from_value(serde_json::Value::String(s)).map_err(|e| self.err(&e.to_string()))
    }
    fn json<T: DeserializeOwned>(&mut self) -> Result<T, String> {
        let s = self.text()?;
        serde_json::from_str(&s).map_err(|e| self.err(&e.to_string()))
    }
    fn opt_json<T: DeserializeOwned>(&mut self) -> Result<Option<T>, String> {
        self.opt_text()?
            .map(|s| serde_json::from_str(&s).map_err(|e| self.err(&e.to_string())))
            .transpose()
    }
    fn id(&mut self) -> Result<usize, String> {
        usize::try_from(self.u32()?).map_err(|e| self.err(&e.to_string()))
    }
}

/// The `workspace` row: name, company, country, creation, settings.
type Header = (
    Box<str>,
    Box<str>,
    Option<Box<str>>,
    OffsetDateTime,
    WorkspaceSettings,
);

/// The workspace as the tables' rows describe it, before the model's checks.
#[derive(Default)]
pub(crate) struct Loader {
    header: Option<Header>,
    apns: Option<ApnsCertificateRecord>,
    users: Vec<User>,
    groups: Vec<Group>,
    policies: Vec<Policy>,
    licenses: Vec<License>,
    invitations: Vec<Invitation>,
    devices: Vec<Device>,
    registrations: BTreeMap<crate::IdentificationNumber, UserId>,
    audit: Vec<AuditRecord>,
}

/// Each row's key must be its position (ids are positions in the model).
fn expect_position(row: &Row<'_>, id: usize, len: usize) -> Result<(), String> {
    if id == len {
        Ok(())
    } else {
        Err(format!(
            "table {}: row with id {id} where id {len} belongs (ids are dense, from 0)",
            row.table.name
        ))
    }
}

impl Loader {
    /// Reads one stored row of `table`, column by column, through the
    /// backend's typed read `get(index, type)`, and takes it; a value of
    /// the wrong type or a row the loader refuses is `StoreCorrupt`.
    pub(crate) fn read_row<E: std::fmt::Display>(
        &mut self,
        table: &Table,
        location: &str,
        mut get: impl FnMut(usize, Ty) -> Result<Value, E>,
    ) -> Result<(), ModelError> {
        let corrupt = |reason| ModelError::StoreCorrupt {
            location: location.to_owned(),
            reason,
        };
        let mut values = Vec::with_capacity(table.columns.len());
        for (i, (name, ty)) in table.columns.iter().enumerate() {
            values.push(
                get(i, *ty)
                    .map_err(|e| corrupt(format!("table {}, column {name}: {e}", table.name)))?,
            );
        }
        self.row(table, values).map_err(corrupt)
    }

    /// Takes one row of `table`.
    pub(crate) fn row(&mut self, table: &Table, values: Vec<Value>) -> Result<(), String> {
        let mut r = Row::new(table, values);
        match table.name {
            "workspace" => {
                if r.int()? != 1 || self.header.is_some() {
                    return Err("table workspace: more than its one row (id 1)".into());
                }
                let name = r.text()?.into();
                let company = r.text()?.into();
                let country = r.opt_text()?.map(Into::into);
                let created = r.time()?;
                let settings = WorkspaceSettings {
                    invitation_validity: time::Duration::seconds(r.int()?),
                    require_registration: r.bool()?,
                    auto_move_to: r.opt_u32()?.map(|g| GroupId::from_index(g as usize)),
                };
                self.header = Some((name, company, country, created, settings));
            }
            "apns_certificate" => {
                if r.int()? != 1 || self.apns.is_some() {
                    return Err("table apns_certificate: more than its one row (id 1)".into());
                }
                let topic = r.parsed()?;
                let issuer = r.text()?;
                let not_before = r.time()?;
                let not_after = r.time()?;
                let fingerprint = r.parsed()?;
                self.apns = Some(
                    ApnsCertificateRecord::new(topic, &issuer, not_before, not_after, fingerprint)
                        .map_err(|e| format!("table apns_certificate: {e}"))?,
                );
            }
            "users" => {
                let id = r.id()?;
                expect_position(&r, id, self.users.len())?;
                self.users.push(User {
                    id: UserId::from_index(id),
                    account: r.text()?.into(),
                    email: r.opt_parsed()?,
                    devices: Vec::new(),
                });
            }
            "groups" => {
                let id = r.id()?;
                expect_position(&r, id, self.groups.len())?;
                self.groups.push(Group {
                    id: GroupId::from_index(id),
                    name: r.text()?.into(),
                    parent: r.opt_u32()?.map(|g| GroupId::from_index(g as usize)),
                    active_policy: r.opt_u32()?.map(|p| PolicyId::from_index(p as usize)),
                    policies: Vec::new(),
                    members: std::collections::BTreeSet::new(),
                });
            }
            "policies" => {
                let id = r.id()?;
                expect_position(&r, id, self.policies.len())?;
                self.policies.push(Policy {
                    id: PolicyId::from_index(id),
                    name: r.text()?.into(),
                    group: GroupId::from_index(r.id()?),
                    version: r.u32()?,
                    settings: r.json()?,
                });
            }
            "licenses" => {
                let id = r.id()?;
                expect_position(&r, id, self.licenses.len())?;
                self.licenses.push(License {
                    id: LicenseId::from_index(id),
                    code: r.parsed()?,
                    seats: r.u32()?,
                    expires_at: r.time()?,
                    deploy_automatically: r.bool()?,
                    in_use: 0,
                });
            }
            "invitations" => {
                let id = r.id()?;
                expect_position(&r, id, self.invitations.len())?;
                let user = UserId::from_index(r.id()?);
                let token_hash = r.parsed()?;
                let issued_at = r.time()?;
                let expires_at = r.time()?;
                let state = r.text()?;
                let device = r.opt_u32()?;
                let state = match (state.as_str(), device) {
                    ("pending", None) => InvitationState::Pending,
                    ("revoked", None) => InvitationState::Revoked,
                    ("consumed", Some(d)) => InvitationState::Consumed {
                        device: DeviceId::from_index(d as usize),
                    },
                    _ => {
                        return Err(format!(
                            "table invitations: row {id} has state {state:?} with device {device:?}"
                        ));
                    }
                };
                self.invitations.push(Invitation {
                    id: InvitationId::from_index(id),
                    user,
                    token_hash,
                    issued_at,
                    expires_at,
                    state,
                });
            }
            "devices" => {
                let id = r.id()?;
                expect_position(&r, id, self.devices.len())?;
                self.devices.push(device_from(id, &mut r)?);
            }
            "registrations" => {
                let number = r.parsed()?;
                let user = UserId::from_index(r.id()?);
                self.registrations.insert(number, user);
            }
            "audit_log" => {
                let seq = r.id()?;
                expect_position(&r, seq, self.audit.len())?;
                let at = r.time()?;
                let _kind = r.text()?;
                self.audit.push(AuditRecord {
                    at,
                    event: r.json()?,
                });
            }
            other => return Err(format!("no table {other}")),
        }
        Ok(())
    }

    /// Takes the audit log `other` read (a loader that read only that
    /// table, on another connection in the same snapshot).
    #[cfg(feature = "sqlite")]
    pub(crate) fn take_audit(&mut self, other: Self) {
        self.audit = other.audit;
    }

    #[cfg(all(test, feature = "sqlite"))]
    pub(crate) fn audit_len(&self) -> usize {
        self.audit.len()
    }

    /// The workspace's data, with the derived lists filled in; `None` when
    /// the store holds no workspace yet.
    pub(crate) fn finish(mut self) -> Result<Option<WorkspaceData>, String> {
        let Some((name, company, country, created_at, settings)) = self.header else {
            let empty = self.users.is_empty() && self.devices.is_empty() && self.audit.is_empty();
            return if empty {
                Ok(None)
            } else {
                Err("table workspace has no row, but other tables have rows".into())
            };
        };
        for dev in &self.devices {
            self.users
                .get_mut(dev.owner.index())
                .ok_or_else(|| format!("{} names an unknown owner {}", dev.id, dev.owner))?
                .devices
                .push(dev.id);
        }
        for p in &self.policies {
            self.groups
                .get_mut(p.group.index())
                .ok_or_else(|| format!("{} names an unknown group {}", p.id, p.group))?
                .policies
                .push(p.id);
        }
        Ok(Some(WorkspaceData {
            name,
            company,
            country,
            created_at,
            settings,
            apns_certificate: self.apns,
            users: self.users,
            groups: self.groups,
            devices: self.devices,
            invitations: self.invitations,
            policies: self.policies,
            licenses: self.licenses,
            registrations: self.registrations,
            audit: self.audit,
        }))
    }
}

fn device_from(id: usize, r: &mut Row<'_>) -> Result<Device, String> {
    let platform = r.parsed()?;
    let os_version = r.parsed()?;
    let model = r.text()?.into();
    let owner = UserId::from_index(r.id()?);
    let invitation = InvitationId::from_index(r.id()?);
    let identification_number = r.opt_parsed()?;
    let install_source = r.parsed()?;
    let state = r.parsed()?;
    let group = r.opt_u32()?.map(|g| GroupId::from_index(g as usize));
    let enrolled_at = r.time()?;
    let last_sync = r.opt_time()?;
    let next_sync_due = r.opt_time()?;
    let syncs = r.u32()?;
    let applied = (r.opt_u32()?, r.opt_u32()?);
    let applied_policy = match applied {
        (Some(p), Some(v)) => Some((PolicyId::from_index(p as usize), v)),
        (None, None) => None,
        _ => {
            return Err(format!(
                "device {id}: applied_policy and its version must be set together"
            ));
        }
    };
    let license = r.opt_u32()?.map(|l| LicenseId::from_index(l as usize));
    let cert = r.text()?;
    let cert_sha: Option<crate::Sha256Digest> = r.opt_parsed()?;
    let client_certificate = match (cert.as_str(), cert_sha) {
        ("none", None) => ClientCertificateState::None,
        ("issued", None) => ClientCertificateState::Issued,
        ("applied", Some(sha)) => ClientCertificateState::Applied(sha),
        _ => {
            return Err(format!(
                "device {id}: client_certificate {cert:?} does not match its sha256"
            ));
        }
    };
    let protection = r.json()?;
    let agent_credential: Option<AgentCredentialRecord> = r.opt_json()?;
    Ok(Device {
        id: DeviceId::from_index(id),
        platform,
        os_version,
        model,
        owner,
        invitation,
        identification_number,
        install_source,
        state,
        group,
        enrolled_at,
        last_sync,
        next_sync_due,
        syncs,
        applied_policy,
        license,
        client_certificate,
        protection,
        agent_credential,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    proptest::proptest! {
        /// The digit-by-digit writer says what `format!` would.
        #[test]
        fn time_text_is_the_formatted_form(
            seconds in -62_167_219_200_i64..253_402_300_800,
            nanos in 0_u32..1_000_000_000,
        ) {
            let t = OffsetDateTime::from_unix_timestamp(seconds).unwrap()
                + time::Duration::nanoseconds(i64::from(nanos));
            let expected = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z",
                t.year(), u8::from(t.month()), t.day(),
                t.hour(), t.minute(), t.second(), t.nanosecond()
            );
            proptest::prop_assert_eq!(time_text(t).unwrap(), expected);
        }
    }

    #[test]
    fn times_round_trip_and_sort_as_text() {
        let times = [
            datetime!(0000-01-01 00:00 UTC),
            datetime!(2026-11-28 09:00 UTC),
            datetime!(2026-11-28 09:00:00.5 UTC),
            datetime!(2026-11-28 10:00 +01:00),
            datetime!(9999-12-31 23:59:59.999_999_999 UTC),
        ];
        let mut texts = Vec::new();
        for t in times {
            let s = time_text(t).unwrap();
            assert_eq!(parse_time(&s).unwrap(), t, "{s}");
            texts.push(s);
        }
        let mut sorted = texts.clone();
        sorted.sort();
        assert_eq!(sorted[0], texts[0]);
        assert!(texts[1] < texts[2]);
        assert_eq!(texts[2], "2026-11-28T09:00:00.500000000Z");
        assert_eq!(texts[3], "2026-11-28T09:00:00.000000000Z");
        assert!(time_text(datetime!(-0001-01-01 00:00 UTC)).is_err());
        for bad in [
            "",
            "2026-11-28T09:00:00Z",
            "2026-13-28T09:00:00.000000000Z",
            "2026-11-28T09:00:00.00000000xZ",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_migration_renders_in_both_dialects() {
        for v in 1..=super::super::SCHEMA_VERSION {
            for d in [Dialect::Sqlite, Dialect::Postgres] {
                assert!(migration(d, v).is_some_and(|m| !m.contains('{')));
            }
        }
        assert!(migration(Dialect::Sqlite, 0).is_none());
        assert!(migration(Dialect::Sqlite, super::super::SCHEMA_VERSION + 1).is_none());
    }
}
