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

enum Frame {
    Array(Vec<Value>),
    Dict(Dictionary, Option<String>),
}

fn malformed(reason: impl Into<String>) -> AppleError {
    AppleError::MalformedPlist {
        reason: reason.into(),
    }
}

/// Parses XML or binary plist bytes into a [`Value`] with an explicit stack
/// (no recursion) and at most [`MAX_NESTING`] levels of collections.
pub(crate) fn parse_value(bytes: &[u8]) -> Result<Value> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Value> = None;
    for event in plist::stream::Reader::new(Cursor::new(bytes)) {
        let event = event.map_err(|e| malformed(e.to_string()))?;
        if root.is_some() {
            return Err(malformed("content after the root value"));
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
