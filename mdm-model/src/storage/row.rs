//! [`SqlRow`]: one row of a companion's query ([`super::SqlSession::query`])
//! read back column by column, in the order the `SELECT` names them. A value
//! of the wrong type, a null where one is not allowed, or a value its type
//! refuses is [`ModelError::StoreCorrupt`] naming the store, the table and
//! the column — never a panic.

use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use super::session::{SqlValue, parse_time};
use crate::ModelError;

/// One stored row being read (see the [module documentation](self)).
///
/// ```
/// use mdm_model::storage::{SqlRow, SqlValue};
///
/// let values = vec![SqlValue::Text("UDID-1".into()), SqlValue::Int(3)];
/// let mut row = SqlRow::new(values, "apple_enrollments", "example.sqlite");
/// assert_eq!(row.text("udid").unwrap(), "UDID-1");
/// assert_eq!(row.count("device_id").unwrap(), 3);
/// // Past the last column: a null, refused where a value belongs.
/// let e = row.text("push_magic").unwrap_err();
/// assert!(e.to_string().contains("apple_enrollments.push_magic: null"));
/// ```
#[derive(Debug)]
pub struct SqlRow<'a> {
    values: std::vec::IntoIter<SqlValue>,
    table: &'a str,
    column: &'static str,
    location: &'a str,
}

impl<'a> SqlRow<'a> {
    /// The row `values` of `table` in the store at `location`.
    pub fn new(values: Vec<SqlValue>, table: &'a str, location: &'a str) -> Self {
        Self {
            values: values.into_iter(),
            table,
            column: "",
            location,
        }
    }

    /// Why the column last read is refused, as the store's error.
    pub fn refusal(&self, what: impl std::fmt::Display) -> ModelError {
        ModelError::StoreCorrupt {
            location: self.location.into(),
            reason: format!("{}.{}: {what}", self.table, self.column),
        }
    }

    /// The next column's value, as stored (`Null` past the last one).
    pub fn value(&mut self, column: &'static str) -> SqlValue {
        self.column = column;
        self.values.next().unwrap_or(SqlValue::Null)
    }

    /// Text, or `None` for a null.
    ///
    /// # Errors
    /// Anything but text or null.
    pub fn opt_text(&mut self, column: &'static str) -> Result<Option<String>, ModelError> {
        match self.value(column) {
            SqlValue::Null => Ok(None),
            SqlValue::Text(t) => Ok(Some(t)),
            other => Err(self.refusal(format!("{other:?} where text belongs"))),
        }
    }

    /// Text.
    ///
    /// # Errors
    /// Anything but text.
    pub fn text(&mut self, column: &'static str) -> Result<String, ModelError> {
        self.opt_text(column)?.ok_or_else(|| self.refusal("null"))
    }

    /// Bytes (a blob, or text as its UTF-8 bytes), or `None` for a null.
    ///
    /// # Errors
    /// An integer.
    pub fn opt_blob(&mut self, column: &'static str) -> Result<Option<Vec<u8>>, ModelError> {
        match self.value(column) {
            SqlValue::Null => Ok(None),
            SqlValue::Blob(b) => Ok(Some(b)),
            SqlValue::Text(t) => Ok(Some(t.into_bytes())),
            other => Err(self.refusal(format!("{other:?} where bytes belong"))),
        }
    }

    /// An integer, or `None` for a null.
    ///
    /// # Errors
    /// Anything but an integer or null.
    pub fn opt_int(&mut self, column: &'static str) -> Result<Option<i64>, ModelError> {
        match self.value(column) {
            SqlValue::Null => Ok(None),
            SqlValue::Int(v) => Ok(Some(v)),
            other => Err(self.refusal(format!("{other:?} where a number belongs"))),
        }
    }

    /// An integer.
    ///
    /// # Errors
    /// Anything but an integer.
    pub fn int(&mut self, column: &'static str) -> Result<i64, ModelError> {
        self.opt_int(column)?.ok_or_else(|| self.refusal("null"))
    }

    /// A count or an id number: an integer that is not negative.
    ///
    /// # Errors
    /// Anything but a non-negative integer.
    pub fn count(&mut self, column: &'static str) -> Result<u64, ModelError> {
        let v = self.int(column)?;
        u64::try_from(v).map_err(|_| self.refusal(format!("{v} is negative")))
    }

    /// A flag stored as 0 or 1.
    ///
    /// # Errors
    /// Any other value.
    pub fn bool(&mut self, column: &'static str) -> Result<bool, ModelError> {
        match self.int(column)? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(self.refusal(format!("{v} is not 0 or 1"))),
        }
    }

    /// A model id (`DeviceId`, …) from its stored number, through the id's
    /// own serde form (so with its checks).
    ///
    /// # Errors
    /// Not a number the id accepts.
    pub fn id<T: DeserializeOwned>(&mut self, column: &'static str) -> Result<T, ModelError> {
        let v = self.count(column)?;
        serde_json::from_value(serde_json::Value::from(v))
            .map_err(|_| self.refusal(format!("{v} is not an id")))
    }

    /// A time in [`super::session::time_text`]'s form, or `None` for a null.
    ///
    /// # Errors
    /// Anything else.
    pub fn opt_time(&mut self, column: &'static str) -> Result<Option<OffsetDateTime>, ModelError> {
        self.opt_text(column)?
            .map(|t| parse_time(&t).map_err(|e| self.refusal(e)))
            .transpose()
    }

    /// A time in [`super::session::time_text`]'s form.
    ///
    /// # Errors
    /// Anything else.
    pub fn time(&mut self, column: &'static str) -> Result<OffsetDateTime, ModelError> {
        self.opt_time(column)?.ok_or_else(|| self.refusal("null"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_names_the_table_and_column() {
        let values = vec![
            SqlValue::Int(-1),
            SqlValue::Int(2),
            SqlValue::Text("2026-11-28T09:00:00.000000000Z".into()),
            SqlValue::Text("yesterday".into()),
            SqlValue::Blob(vec![1, 2]),
        ];
        let mut row = SqlRow::new(values, "t", "loc");
        let e = row.count("a").unwrap_err().to_string();
        assert!(
            e.contains("t.a: -1 is negative") && e.contains("loc"),
            "{e}"
        );
        assert!(
            row.bool("b")
                .unwrap_err()
                .to_string()
                .contains("t.b: 2 is not 0 or 1")
        );
        assert_eq!(
            row.time("c").unwrap(),
            time::macros::datetime!(2026-11-28 09:00 UTC)
        );
        assert!(row.time("d").unwrap_err().to_string().contains("t.d:"));
        assert!(
            row.text("e")
                .unwrap_err()
                .to_string()
                .contains("where text belongs")
        );
        assert_eq!(row.opt_blob("f").unwrap(), None);
        assert_eq!(row.opt_time("g").unwrap(), None);
        assert!(row.int("h").unwrap_err().to_string().contains("t.h: null"));
    }
}
