//! Reading the typed fields of a plist dictionary that came from a device or
//! a file, and writing dictionaries out as XML plists.
//!
//! Every accessor answers a wrong-typed key with [`AppleError::WrongType`] and
//! a missing required key with [`AppleError::MissingField`]; none panics.

use std::io::Cursor;

use plist::stream::Event;
use plist::{Dictionary, Value};

use crate::error::{AppleError, Result};

/// Deepest collection nesting accepted from untrusted input. Real MDM
/// messages nest a handful of levels; without a bound a hostile body of
/// nested `<array>`s would overflow the stack of a recursive builder.
pub(crate) const MAX_NESTING: usize = 64;

/// Largest plist body accepted from a device or a file, in bytes (4 MiB),
/// and the most string, key and data bytes one plist may decode to.
///
/// Real device messages are far smaller: an `InstalledApplicationList`
/// answer for a thousand apps is a few hundred KiB, a signed profile with
/// certificates and an icon well under a MiB. The second bound matters for
/// binary plists, which may reference one large string many times.
pub const MAX_PLIST_BYTES: usize = 4 << 20;

/// Most values (nodes: every string, number, key, array and dictionary)
/// one plist may decode to: 100,000, and never more than one per byte of
/// input.
///
/// No real message comes close (a thousand installed apps are about
/// 15,000 nodes). An XML node takes at least four bytes and a binary one at
/// least a one-byte reference, so only a binary plist that references the
/// same collection over and over — a few hundred bytes that would expand
/// to billions of values — reaches the per-byte bound.
pub const MAX_PLIST_NODES: usize = 100_000;

enum Frame {
    Array(Vec<Value>),
    Dict(Dictionary, Option<String>),
}

fn malformed(reason: impl Into<String>) -> AppleError {
    AppleError::MalformedPlist {
        reason: reason.into(),
    }
}

/// What one plist may still decode to: the budget behind
/// [`MAX_PLIST_NODES`] and [`MAX_PLIST_BYTES`].
struct Budget {
    nodes: usize,
    max_nodes: usize,
    content: usize,
}

impl Budget {
    fn for_body(len: usize) -> Self {
        let max_nodes = MAX_PLIST_NODES.min(len);
        Self {
            nodes: max_nodes,
            max_nodes,
            content: MAX_PLIST_BYTES,
        }
    }

    /// Spends one node and `bytes` of decoded strings or data.
    fn spend(&mut self, bytes: usize) -> Result<()> {
        self.nodes = self
            .nodes
            .checked_sub(1)
            .ok_or(AppleError::PlistTooManyNodes {
                max: self.max_nodes,
            })?;
        self.content = self
            .content
            .checked_sub(bytes)
            .ok_or(AppleError::PlistContentTooLarge {
                max: MAX_PLIST_BYTES,
            })?;
        Ok(())
    }
}

/// Parses XML or binary plist bytes into a [`Value`] with an explicit stack
/// (no recursion), at most [`MAX_NESTING`] levels of collections, a body of
/// at most [`MAX_PLIST_BYTES`] and at most [`MAX_PLIST_NODES`] values (one
/// per input byte at most) holding at most [`MAX_PLIST_BYTES`] of strings
/// and data: the cost is bounded by the input's size, not by what it claims.
pub(crate) fn parse_value(bytes: &[u8]) -> Result<Value> {
    if bytes.len() > MAX_PLIST_BYTES {
        return Err(AppleError::PlistTooLarge {
            len: bytes.len(),
            max: MAX_PLIST_BYTES,
        });
    }
    let mut budget = Budget::for_body(bytes.len());
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Value> = None;
    for event in plist::stream::Reader::new(Cursor::new(bytes)) {
        let event = event.map_err(|e| malformed(e.to_string()))?;
        if root.is_some() {
            return Err(malformed("content after the root value"));
        }
        match &event {
            Event::EndCollection => {}
            Event::Data(d) => budget.spend(d.len())?,
            Event::String(s) => budget.spend(s.len())?,
            _ => budget.spend(0)?,
        }
        let value = match event {
            Event::StartArray(_) | Event::StartDictionary(_) if stack.len() >= MAX_NESTING => {
                return Err(malformed(format!(
                    "nested deeper than {MAX_NESTING} levels"
                )));
            }
            Event::StartArray(_) => {
                stack.push(Frame::Array(Vec::new()));
                continue;
            }
            Event::StartDictionary(_) => {
                stack.push(Frame::Dict(Dictionary::new(), None));
                continue;
            }
            Event::EndCollection => match stack.pop() {
                Some(Frame::Array(items)) => Value::Array(items),
                Some(Frame::Dict(dict, None)) => Value::Dictionary(dict),
                Some(Frame::Dict(_, Some(key))) => {
                    return Err(malformed(format!("key {key:?} has no value")));
                }
                None => return Err(malformed("unbalanced end of collection")),
            },
            Event::Boolean(b) => Value::Boolean(b),
            Event::Data(d) => Value::Data(d.into_owned()),
            Event::Date(d) => Value::Date(d),
            Event::Integer(i) => Value::Integer(i),
            Event::Real(r) => Value::Real(r),
            Event::String(s) => Value::String(s.into_owned()),
            Event::Uid(u) => Value::Uid(u),
            _ => return Err(malformed("unsupported plist element")),
        };
        match stack.last_mut() {
            None => root = Some(value),
            Some(Frame::Array(items)) => items.push(value),
            Some(Frame::Dict(dict, key)) => match key.take() {
                Some(k) => {
                    dict.insert(k, value);
                }
                None => match value {
                    Value::String(k) => *key = Some(k),
                    _ => return Err(malformed("a dictionary key is not a string")),
                },
            },
        }
    }
    root.ok_or_else(|| malformed("no value (empty or truncated)"))
}

/// Parses XML or binary plist bytes whose root must be a dictionary.
pub(crate) fn parse_dictionary(bytes: &[u8], what: &'static str) -> Result<Dictionary> {
    parse_value(bytes)?
        .into_dictionary()
        .ok_or(AppleError::NotADictionary { what })
}

/// Serialises a value as an XML plist (UTF-8, Apple's DOCTYPE).
pub(crate) fn to_xml(value: &Value) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(1024);
    value
        .to_writer_xml(&mut out)
        .map_err(|e| AppleError::PlistWrite {
            reason: e.to_string(),
        })?;
    out.push(b'\n');
    Ok(out)
}

/// Stands for secret bytes in a `Debug` impl: shows their length only.
pub(crate) struct RedactedBytes(pub(crate) usize);

impl std::fmt::Debug for RedactedBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{} bytes redacted>", self.0)
    }
}

/// Stands for an optional secret string in a `Debug` impl.
pub(crate) fn redacted(secret: Option<&String>) -> Option<&'static str> {
    secret.map(|_| "<redacted>")
}

/// Typed, error-returning access to one message's dictionary.
#[derive(Clone, Copy)]
pub(crate) struct Fields<'a> {
    pub(crate) dict: &'a Dictionary,
    pub(crate) message: &'static str,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(dict: &'a Dictionary, message: &'static str) -> Self {
        Self { dict, message }
    }

    fn wrong(&self, key: &str, expected: &'static str) -> AppleError {
        AppleError::WrongType {
            message: self.message,
            key: key.to_owned(),
            expected,
        }
    }

    fn missing(&self, key: &'static str) -> AppleError {
        AppleError::MissingField {
            message: self.message,
            key,
        }
    }

    pub(crate) fn opt_str(&self, key: &'static str) -> Result<Option<&'a str>> {
        match self.dict.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_string()
                .map(Some)
                .ok_or_else(|| self.wrong(key, "a string")),
        }
    }

    pub(crate) fn opt_string(&self, key: &'static str) -> Result<Option<String>> {
        Ok(self.opt_str(key)?.map(str::to_owned))
    }

    pub(crate) fn req_str(&self, key: &'static str) -> Result<&'a str> {
        self.opt_str(key)?.ok_or_else(|| self.missing(key))
    }

    pub(crate) fn opt_data(&self, key: &'static str) -> Result<Option<&'a [u8]>> {
        match self.dict.get(key) {
            None => Ok(None),
            Some(v) => v.as_data().map(Some).ok_or_else(|| self.wrong(key, "data")),
        }
    }

    pub(crate) fn req_data(&self, key: &'static str) -> Result<&'a [u8]> {
        self.opt_data(key)?.ok_or_else(|| self.missing(key))
    }

    pub(crate) fn opt_bool(&self, key: &'static str) -> Result<Option<bool>> {
        match self.dict.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_boolean()
                .map(Some)
                .ok_or_else(|| self.wrong(key, "a boolean")),
        }
    }

    pub(crate) fn opt_int(&self, key: &'static str) -> Result<Option<i64>> {
        match self.dict.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_signed_integer()
                .map(Some)
                .ok_or_else(|| self.wrong(key, "an integer")),
        }
    }

    /// An integer or a real (some responses send sizes as either).
    pub(crate) fn opt_number(&self, key: &'static str) -> Result<Option<f64>> {
        match self.dict.get(key) {
            None => Ok(None),
            Some(Value::Real(r)) => Ok(Some(*r)),
            #[allow(clippy::cast_precision_loss)]
            Some(v) => v
                .as_signed_integer()
                .map(|i| Some(i as f64))
                .ok_or_else(|| self.wrong(key, "a number")),
        }
    }

    pub(crate) fn opt_array(&self, key: &'static str) -> Result<Option<&'a Vec<Value>>> {
        match self.dict.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_array()
                .map(Some)
                .ok_or_else(|| self.wrong(key, "an array")),
        }
    }

    pub(crate) fn opt_dict(&self, key: &'static str) -> Result<Option<&'a Dictionary>> {
        match self.dict.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_dictionary()
                .map(Some)
                .ok_or_else(|| self.wrong(key, "a dictionary")),
        }
    }

    /// An array whose every element is a dictionary.
    pub(crate) fn opt_dict_array(&self, key: &'static str) -> Result<Vec<&'a Dictionary>> {
        let Some(items) = self.opt_array(key)? else {
            return Ok(Vec::new());
        };
        items
            .iter()
            .map(|v| {
                v.as_dictionary()
                    .ok_or_else(|| self.wrong(key, "an array of dictionaries"))
            })
            .collect()
    }
}

/// Builds a dictionary in a fixed key order; `None` values are skipped.
#[derive(Default)]
pub(crate) struct DictWriter(Dictionary);

impl DictWriter {
    pub(crate) fn new() -> Self {
        Self(Dictionary::new())
    }

    pub(crate) fn put(&mut self, key: &str, value: impl Into<Value>) -> &mut Self {
        self.0.insert(key.to_owned(), value.into());
        self
    }

    pub(crate) fn opt(&mut self, key: &str, value: Option<impl Into<Value>>) -> &mut Self {
        if let Some(v) = value {
            self.0.insert(key.to_owned(), v.into());
        }
        self
    }

    pub(crate) fn data(&mut self, key: &str, value: &[u8]) -> &mut Self {
        self.0.insert(key.to_owned(), Value::Data(value.to_vec()));
        self
    }

    pub(crate) fn strings(&mut self, key: &str, values: &[String]) -> &mut Self {
        let arr = values.iter().map(|s| Value::String(s.clone())).collect();
        self.0.insert(key.to_owned(), Value::Array(arr));
        self
    }

    pub(crate) fn finish(self) -> Dictionary {
        let mut d = self.0;
        d.sort_keys();
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_types_and_missing_keys_are_errors() {
        let xml = br#"<?xml version="1.0"?><plist version="1.0"><dict><key>A</key><integer>1</integer></dict></plist>"#;
        let d = parse_dictionary(xml, "test").unwrap();
        let f = Fields::new(&d, "Test");
        assert!(matches!(f.req_str("A"), Err(AppleError::WrongType { .. })));
        assert!(matches!(
            f.req_str("B"),
            Err(AppleError::MissingField { key: "B", .. })
        ));
        assert_eq!(f.opt_int("A").unwrap(), Some(1));
        assert!(matches!(
            parse_dictionary(b"<plist><array/></plist>", "t"),
            Err(AppleError::NotADictionary { .. })
        ));
        assert!(matches!(
            parse_dictionary(b"garbage", "t"),
            Err(AppleError::MalformedPlist { .. })
        ));
    }
}
