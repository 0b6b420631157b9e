//! The plist data model of this crate: [`PlistValue`] and
//! [`PlistDictionary`], what a device's message or a profile holds once
//! read, and what this crate writes out as an XML plist.
//!
//! They are this crate's own types, so that a caller's code does not depend
//! on the version of the plist library used to read and write the bytes.
//! Reading is bounded by the input's size ([`MAX_PLIST_BYTES`],
//! [`MAX_PLIST_NODES`], a fixed nesting depth) and does not recurse;
//! writing does not recurse either.

use std::fmt;
use std::io::Cursor;
use std::time::SystemTime;

use indexmap::IndexMap;
use plist::stream::{Event, Writer, XmlWriter};

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

/// One plist value: a string, integer, real, boolean, date, data, UID,
/// array or dictionary. Read it with the `as_*` accessors, which answer
/// `None` for a value of another type; build it with `From` (strings,
/// numbers, booleans, dates, dictionaries, arrays of values) or
/// [`PlistValue::data`] for bytes.
#[derive(Clone, PartialEq)]
pub struct PlistValue(Repr);

#[derive(Clone, PartialEq)]
enum Repr {
    String(String),
    Integer(plist::Integer),
    Real(f64),
    Boolean(bool),
    Date(plist::Date),
    Data(Vec<u8>),
    Uid(plist::Uid),
    Array(Vec<PlistValue>),
    Dictionary(PlistDictionary),
}

impl PlistValue {
    /// A `<data>` value.
    pub fn data(bytes: impl Into<Vec<u8>>) -> Self {
        Self(Repr::Data(bytes.into()))
    }

    /// The string, if this is a `<string>`.
    pub fn as_string(&self) -> Option<&str> {
        match &self.0 {
            Repr::String(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is an `<integer>` that fits an `i64`.
    pub fn as_signed_integer(&self) -> Option<i64> {
        match &self.0 {
            Repr::Integer(i) => i.as_signed(),
            _ => None,
        }
    }

    /// The integer, if this is an `<integer>` that fits a `u64`.
    pub fn as_unsigned_integer(&self) -> Option<u64> {
        match &self.0 {
            Repr::Integer(i) => i.as_unsigned(),
            _ => None,
        }
    }

    /// The number, if this is a `<real>`.
    pub fn as_real(&self) -> Option<f64> {
        match &self.0 {
            Repr::Real(r) => Some(*r),
            _ => None,
        }
    }

    /// The boolean, if this is a `<true/>` or `<false/>`.
    pub fn as_boolean(&self) -> Option<bool> {
        match &self.0 {
            Repr::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    /// The time, if this is a `<date>`.
    pub fn as_date(&self) -> Option<SystemTime> {
        match &self.0 {
            Repr::Date(d) => Some((*d).into()),
            _ => None,
        }
    }

    /// The bytes, if this is a `<data>`.
    pub fn as_data(&self) -> Option<&[u8]> {
        match &self.0 {
            Repr::Data(d) => Some(d),
            _ => None,
        }
    }

    /// The UID, if this is a UID (binary plists only).
    pub fn as_uid(&self) -> Option<u64> {
        match &self.0 {
            Repr::Uid(u) => Some(u.get()),
            _ => None,
        }
    }

    /// The items, if this is an `<array>`.
    pub fn as_array(&self) -> Option<&[PlistValue]> {
        match &self.0 {
            Repr::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The dictionary, if this is a `<dict>`.
    pub fn as_dictionary(&self) -> Option<&PlistDictionary> {
        match &self.0 {
            Repr::Dictionary(d) => Some(d),
            _ => None,
        }
    }

    /// The dictionary, if this is a `<dict>`; otherwise `None`.
    pub fn into_dictionary(self) -> Option<PlistDictionary> {
        match self.0 {
            Repr::Dictionary(d) => Some(d),
            _ => None,
        }
    }

    /// Reads an XML or binary plist, under the same bounds as every
    /// device message ([`MAX_PLIST_BYTES`], [`MAX_PLIST_NODES`]).
    ///
    /// # Errors
    /// [`AppleError::PlistTooLarge`], [`AppleError::PlistTooManyNodes`],
    /// [`AppleError::PlistContentTooLarge`] or
    /// [`AppleError::MalformedPlist`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        parse_value(bytes)
    }

    /// The value as an XML plist (UTF-8, Apple's DOCTYPE, a final newline).
    ///
    /// # Errors
    /// [`AppleError::PlistWrite`] if serialisation fails.
    pub fn to_xml(&self) -> Result<Vec<u8>> {
        to_xml(self)
    }
}

impl fmt::Debug for PlistValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::String(s) => f.debug_tuple("String").field(s).finish(),
            Repr::Integer(i) => write!(f, "Integer({i})"),
            Repr::Real(r) => f.debug_tuple("Real").field(r).finish(),
            Repr::Boolean(b) => f.debug_tuple("Boolean").field(b).finish(),
            Repr::Date(d) => f.debug_tuple("Date").field(d).finish(),
            Repr::Data(d) => write!(f, "Data(<{} bytes>)", d.len()),
            Repr::Uid(u) => write!(f, "Uid({})", u.get()),
            Repr::Array(a) => f.debug_list().entries(a).finish(),
            Repr::Dictionary(d) => d.fmt(f),
        }
    }
}

impl From<String> for PlistValue {
    fn from(s: String) -> Self {
        Self(Repr::String(s))
    }
}

impl From<&str> for PlistValue {
    fn from(s: &str) -> Self {
        Self(Repr::String(s.to_owned()))
    }
}

impl From<bool> for PlistValue {
    fn from(b: bool) -> Self {
        Self(Repr::Boolean(b))
    }
}

impl From<i64> for PlistValue {
    fn from(i: i64) -> Self {
        Self(Repr::Integer(i.into()))
    }
}

impl From<u64> for PlistValue {
    fn from(i: u64) -> Self {
        Self(Repr::Integer(i.into()))
    }
}

impl From<f64> for PlistValue {
    fn from(r: f64) -> Self {
        Self(Repr::Real(r))
    }
}

impl From<SystemTime> for PlistValue {
    fn from(t: SystemTime) -> Self {
        Self(Repr::Date(t.into()))
    }
}

impl From<Vec<PlistValue>> for PlistValue {
    fn from(items: Vec<PlistValue>) -> Self {
        Self(Repr::Array(items))
    }
}

impl From<PlistDictionary> for PlistValue {
    fn from(d: PlistDictionary) -> Self {
        Self(Repr::Dictionary(d))
    }
}

/// A plist `<dict>`: string keys in order (the order read, or the order
/// inserted; what this crate builds is sorted by key, so output is
/// deterministic). Inserting a key again replaces its value in place.
#[derive(Clone, Default, PartialEq)]
pub struct PlistDictionary(IndexMap<String, PlistValue>);

impl PlistDictionary {
    /// An empty dictionary.
    pub fn new() -> Self {
        Self(IndexMap::new())
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&PlistValue> {
        self.0.get(key)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// Sets `key` to `value`, returning the value it replaces (which keeps
    /// its place in the order).
    pub fn insert(
        &mut self,
        key: impl Into<String>,
        value: impl Into<PlistValue>,
    ) -> Option<PlistValue> {
        self.0.insert(key.into(), value.into())
    }

    /// Removes `key`, keeping the order of the others.
    pub fn remove(&mut self, key: &str) -> Option<PlistValue> {
        self.0.shift_remove(key)
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The keys and values, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &PlistValue)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Orders the keys.
    pub(crate) fn sort_keys(&mut self) {
        self.0.sort_keys();
    }

    /// The dictionary as an XML plist (UTF-8, Apple's DOCTYPE, a final
    /// newline).
    ///
    /// # Errors
    /// [`AppleError::PlistWrite`] if serialisation fails.
    pub fn to_xml(&self) -> Result<Vec<u8>> {
        dictionary_to_xml(self)
    }
}

impl fmt::Debug for PlistDictionary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.0.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a PlistDictionary {
    type Item = (&'a str, &'a PlistValue);
    type IntoIter = std::iter::Map<
        indexmap::map::Iter<'a, String, PlistValue>,
        fn((&'a String, &'a PlistValue)) -> (&'a str, &'a PlistValue),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }
}

enum Frame {
    Array(Vec<PlistValue>),
    Dict(PlistDictionary, Option<String>),
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

/// Parses XML or binary plist bytes into a [`PlistValue`] with an explicit
/// stack (no recursion), at most [`MAX_NESTING`] levels of collections, a
/// body of at most [`MAX_PLIST_BYTES`] and at most [`MAX_PLIST_NODES`]
/// values (one per input byte at most) holding at most [`MAX_PLIST_BYTES`]
/// of strings and data: the cost is bounded by the input's size, not by
/// what it claims.
pub(crate) fn parse_value(bytes: &[u8]) -> Result<PlistValue> {
    if bytes.len() > MAX_PLIST_BYTES {
        return Err(AppleError::PlistTooLarge {
            len: bytes.len(),
            max: MAX_PLIST_BYTES,
        });
    }
    let mut budget = Budget::for_body(bytes.len());
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<PlistValue> = None;
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
                stack.push(Frame::Dict(PlistDictionary::new(), None));
                continue;
            }
            Event::EndCollection => match stack.pop() {
                Some(Frame::Array(items)) => Repr::Array(items),
                Some(Frame::Dict(dict, None)) => Repr::Dictionary(dict),
                Some(Frame::Dict(_, Some(key))) => {
                    return Err(malformed(format!("key {key:?} has no value")));
                }
                None => return Err(malformed("unbalanced end of collection")),
            },
            Event::Boolean(b) => Repr::Boolean(b),
            Event::Data(d) => Repr::Data(d.into_owned()),
            Event::Date(d) => Repr::Date(d),
            Event::Integer(i) => Repr::Integer(i),
            Event::Real(r) => Repr::Real(r),
            Event::String(s) => Repr::String(s.into_owned()),
            Event::Uid(u) => Repr::Uid(u),
            _ => return Err(malformed("unsupported plist element")),
        };
        match stack.last_mut() {
            None => root = Some(PlistValue(value)),
            Some(Frame::Array(items)) => items.push(PlistValue(value)),
            Some(Frame::Dict(dict, key)) => match key.take() {
                Some(k) => {
                    dict.0.insert(k, PlistValue(value));
                }
                None => match value {
                    Repr::String(k) => *key = Some(k),
                    _ => return Err(malformed("a dictionary key is not a string")),
                },
            },
        }
    }
    root.ok_or_else(|| malformed("no value (empty or truncated)"))
}

/// Parses XML or binary plist bytes whose root must be a dictionary.
pub(crate) fn parse_dictionary(bytes: &[u8], what: &'static str) -> Result<PlistDictionary> {
    parse_value(bytes)?
        .into_dictionary()
        .ok_or(AppleError::NotADictionary { what })
}

/// A collection being written: the items still to write.
enum Open<'a> {
    Array(std::slice::Iter<'a, PlistValue>),
    Dict(indexmap::map::Iter<'a, String, PlistValue>),
}

/// Writes `value`, or opens it when it is a collection (its items are
/// written by [`write_xml`]'s loop).
fn write_or_open<'a>(
    value: &'a PlistValue,
    w: &mut impl Writer,
    stack: &mut Vec<Open<'a>>,
) -> std::result::Result<(), plist::Error> {
    match &value.0 {
        Repr::String(s) => w.write_string(s.as_str().into()),
        Repr::Integer(i) => w.write_integer(*i),
        Repr::Real(r) => w.write_real(*r),
        Repr::Boolean(b) => w.write_boolean(*b),
        Repr::Date(d) => w.write_date(*d),
        Repr::Data(d) => w.write_data(d.as_slice().into()),
        Repr::Uid(u) => w.write_uid(*u),
        Repr::Array(a) => {
            w.write_start_array(Some(a.len() as u64))?;
            stack.push(Open::Array(a.iter()));
            Ok(())
        }
        Repr::Dictionary(d) => open_dictionary(d, w, stack),
    }
}

fn open_dictionary<'a>(
    d: &'a PlistDictionary,
    w: &mut impl Writer,
    stack: &mut Vec<Open<'a>>,
) -> std::result::Result<(), plist::Error> {
    w.write_start_dictionary(Some(d.0.len() as u64))?;
    stack.push(Open::Dict(d.0.iter()));
    Ok(())
}

/// Writes an XML plist (UTF-8, Apple's DOCTYPE, a final newline): `start`
/// writes or opens the root, then the open collections are written
/// depth-first with an explicit stack (no recursion).
fn write_xml<'a>(
    start: impl FnOnce(
        &mut XmlWriter<&mut Vec<u8>>,
        &mut Vec<Open<'a>>,
    ) -> std::result::Result<(), plist::Error>,
) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(1024);
    let mut w = XmlWriter::new(&mut out);
    let mut stack = Vec::new();
    let written = start(&mut w, &mut stack).and_then(|()| {
        while let Some(open) = stack.last_mut() {
            let next = match open {
                Open::Array(items) => items.next(),
                Open::Dict(entries) => match entries.next() {
                    Some((k, v)) => {
                        w.write_string(k.as_str().into())?;
                        Some(v)
                    }
                    None => None,
                },
            };
            match next {
                Some(v) => write_or_open(v, &mut w, &mut stack)?,
                None => {
                    stack.pop();
                    w.write_end_collection()?;
                }
            }
        }
        Ok(())
    });
    drop(w);
    written.map_err(|e| AppleError::PlistWrite {
        reason: e.to_string(),
    })?;
    out.push(b'\n');
    Ok(out)
}

/// Serialises a value as an XML plist.
pub(crate) fn to_xml(value: &PlistValue) -> Result<Vec<u8>> {
    write_xml(|w, stack| write_or_open(value, w, stack))
}

/// Serialises a dictionary as an XML plist.
pub(crate) fn dictionary_to_xml(d: &PlistDictionary) -> Result<Vec<u8>> {
    write_xml(|w, stack| open_dictionary(d, w, stack))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_round_trips_every_kind_in_order() {
        let mut inner = PlistDictionary::new();
        inner.insert("z", PlistValue::data(vec![1, 2, 3]));
        inner.insert(
            "a",
            vec![PlistValue::from(-3i64), PlistValue::from(u64::MAX)],
        );
        let mut d = PlistDictionary::new();
        d.insert("s", "text");
        d.insert("b", true);
        d.insert("r", 1.5);
        d.insert("t", SystemTime::UNIX_EPOCH);
        d.insert("e", PlistDictionary::new());
        d.insert("v", Vec::<PlistValue>::new());
        d.insert("inner", inner);
        let xml = d.to_xml().unwrap();
        let back = parse_dictionary(&xml, "test").unwrap();
        assert_eq!(back, d);
        assert_eq!(
            back.keys().collect::<Vec<_>>(),
            ["s", "b", "r", "t", "e", "v", "inner"]
        );
        let inner = back
            .get("inner")
            .and_then(PlistValue::as_dictionary)
            .unwrap();
        let a = inner.get("a").and_then(PlistValue::as_array).unwrap();
        assert_eq!(a[0].as_signed_integer(), Some(-3));
        assert_eq!(a[1].as_signed_integer(), None);
        assert_eq!(a[1].as_unsigned_integer(), Some(u64::MAX));
        assert_eq!(
            inner.get("z").and_then(PlistValue::as_data),
            Some(&[1u8, 2, 3][..])
        );
        assert_eq!(
            back.get("t").and_then(PlistValue::as_date),
            Some(SystemTime::UNIX_EPOCH)
        );
    }

    #[test]
    fn writes_what_the_plist_library_writes() {
        let mut d = PlistDictionary::new();
        d.insert(
            "k",
            vec![PlistValue::from("x"), PlistDictionary::new().into()],
        );
        let mut theirs = plist::Dictionary::new();
        theirs.insert(
            "k".into(),
            plist::Value::Array(vec![
                "x".into(),
                plist::Value::Dictionary(plist::Dictionary::new()),
            ]),
        );
        let mut expected = Vec::new();
        plist::Value::Dictionary(theirs)
            .to_writer_xml(&mut expected)
            .unwrap();
        expected.push(b'\n');
        assert_eq!(d.to_xml().unwrap(), expected);
    }
}
