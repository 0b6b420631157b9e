//! Reading the typed fields of a plist dictionary that came from a device or
//! a file, and building dictionaries in a fixed key order.
//!
//! Every accessor answers a wrong-typed key with [`AppleError::WrongType`] and
//! a missing required key with [`AppleError::MissingField`]; none panics.

use crate::error::{AppleError, Result};
use crate::value::{PlistDictionary, PlistValue};

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
    pub(crate) dict: &'a PlistDictionary,
    pub(crate) message: &'static str,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(dict: &'a PlistDictionary, message: &'static str) -> Self {
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
            #[allow(clippy::cast_precision_loss)]
            Some(v) => v
                .as_real()
                .or_else(|| v.as_signed_integer().map(|i| i as f64))
                .map(Some)
                .ok_or_else(|| self.wrong(key, "a number")),
        }
    }

    pub(crate) fn opt_array(&self, key: &'static str) -> Result<Option<&'a [PlistValue]>> {
        match self.dict.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_array()
                .map(Some)
                .ok_or_else(|| self.wrong(key, "an array")),
        }
    }

    pub(crate) fn opt_dict(&self, key: &'static str) -> Result<Option<&'a PlistDictionary>> {
        match self.dict.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_dictionary()
                .map(Some)
                .ok_or_else(|| self.wrong(key, "a dictionary")),
        }
    }

    /// An integer that fits a `u32`.
    pub(crate) fn opt_u32(&self, key: &'static str) -> Result<Option<u32>> {
        self.opt_int(key)?
            .map(|i| {
                u32::try_from(i).map_err(|_| AppleError::InvalidValue {
                    payload: self.message.to_owned(),
                    key,
                    value: i.to_string(),
                    reason: "must be 0 to 4294967295",
                })
            })
            .transpose()
    }

    /// An array whose every element is a string.
    pub(crate) fn opt_strings(&self, key: &'static str) -> Result<Option<Vec<String>>> {
        self.opt_array(key)?
            .map(|items| {
                items
                    .iter()
                    .map(|v| {
                        v.as_string()
                            .map(str::to_owned)
                            .ok_or_else(|| self.wrong(key, "an array of strings"))
                    })
                    .collect()
            })
            .transpose()
    }

    /// A date.
    pub(crate) fn opt_date(&self, key: &'static str) -> Result<Option<std::time::SystemTime>> {
        match self.dict.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_date()
                .map(Some)
                .ok_or_else(|| self.wrong(key, "a date")),
        }
    }

    /// An array whose every element is a dictionary.
    pub(crate) fn opt_dict_array(&self, key: &'static str) -> Result<Vec<&'a PlistDictionary>> {
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
pub(crate) struct DictWriter(PlistDictionary);

impl DictWriter {
    pub(crate) fn new() -> Self {
        Self(PlistDictionary::new())
    }

    pub(crate) fn put(&mut self, key: &str, value: impl Into<PlistValue>) -> &mut Self {
        self.0.insert(key, value);
        self
    }

    pub(crate) fn opt(&mut self, key: &str, value: Option<impl Into<PlistValue>>) -> &mut Self {
        if let Some(v) = value {
            self.0.insert(key, v);
        }
        self
    }

    pub(crate) fn data(&mut self, key: &str, value: &[u8]) -> &mut Self {
        self.0.insert(key, PlistValue::data(value));
        self
    }

    pub(crate) fn strings(&mut self, key: &str, values: &[String]) -> &mut Self {
        let arr: Vec<PlistValue> = values.iter().map(|s| s.clone().into()).collect();
        self.0.insert(key, arr);
        self
    }

    pub(crate) fn finish(self) -> PlistDictionary {
        let mut d = self.0;
        d.sort_keys();
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::parse_dictionary;

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
