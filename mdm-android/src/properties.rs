//! The `java.util.Properties` text format, which NFC provisioning carries.
//!
//! ManagedProvisioning reads an NFC record with `Properties.load` and the admin
//! extras bundle, nested, with a second `Properties.load` of one value. We
//! write what `Properties.store` writes (without its date comment): one
//! `key=value` per line, `\uXXXX` for everything outside printable ASCII, and
//! read everything `Properties.load` reads (comments, continuation lines,
//! `:` / whitespace separators, escapes).

use std::collections::HashMap;
use std::fmt::Write as _;

/// Writes `pairs` as Properties text, one per line, in the order given.
pub(crate) fn store<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (key, value) in pairs {
        escape_into(&mut out, key, true);
        out.push('=');
        escape_into(&mut out, value, false);
        out.push('\n');
    }
    out
}

fn escape_into(out: &mut String, text: &str, is_key: bool) {
    for (index, c) in text.chars().enumerate() {
        match c {
            ' ' if is_key || index == 0 => out.push_str("\\ "),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{c}' => out.push_str("\\f"),
            '=' | ':' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    // Writing to a String cannot fail.
                    let _ = write!(out, "\\u{unit:04X}");
                }
            }
        }
    }
}

/// Reads Properties text. Later duplicates replace earlier ones, as in Java;
/// the result keeps first-appearance order.
///
/// Linear in the text: a duplicate is found through a hash index, not by
/// scanning the pairs read so far (40,000 keys were 800 million comparisons).
pub(crate) fn load(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (line_number, logical) in logical_lines(text) {
        let (key, value) = split_line(&logical);
        let key = unescape(key).map_err(|e| format!("line {line_number}: {e}"))?;
        let value = unescape(value).map_err(|e| format!("line {line_number}: {e}"))?;
        match index.get(&key).and_then(|&at| pairs.get_mut(at)) {
            Some(slot) => slot.1 = value,
            None => {
                index.insert(key.clone(), pairs.len());
                pairs.push((key, value));
            }
        }
    }
    Ok(pairs)
}

/// Joins continuation lines; drops blank and comment lines. Yields the
/// 1-based number of each logical line's first natural line.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut lines = Vec::new();
    let mut current: Option<(usize, String)> = None;
    // Most texts hold no `\r`: no copy then.
    let normalised = if text.contains('\r') {
        std::borrow::Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        std::borrow::Cow::Borrowed(text)
    };
    for (index, natural) in normalised.split('\n').enumerate() {
        let stripped = natural.trim_start_matches([' ', '\t', '\u{c}']);
        let (number, mut buffer) = match current.take() {
            Some(open) => open,
            None => {
                if stripped.is_empty() || stripped.starts_with(['#', '!']) {
                    continue;
                }
                (index + 1, String::new())
            }
        };
        let trailing_backslashes = stripped.bytes().rev().take_while(|b| *b == b'\\').count();
        if trailing_backslashes % 2 == 1 {
            buffer.push_str(stripped.get(..stripped.len() - 1).unwrap_or(""));
            current = Some((number, buffer));
        } else {
            buffer.push_str(stripped);
            lines.push((number, buffer));
        }
    }
    if let Some(open) = current {
        lines.push(open);
    }
    lines
}

/// Splits a logical line at the first unescaped `=`, `:` or whitespace.
fn split_line(line: &str) -> (&str, &str) {
    let bytes = line.as_bytes();
    let mut index = 0;
    let mut escaped = false;
    while let Some(&b) = bytes.get(index) {
        if escaped {
            escaped = false;
        } else if b == b'\\' {
            escaped = true;
        } else if matches!(b, b'=' | b':' | b' ' | b'\t' | b'\x0c') {
            break;
        }
        index += 1;
    }
    let key = line.get(..index).unwrap_or(line);
    let mut rest = line.get(index..).unwrap_or("");
    rest = rest.trim_start_matches([' ', '\t', '\u{c}']);
    if let Some(after) = rest.strip_prefix(['=', ':']) {
        rest = after.trim_start_matches([' ', '\t', '\u{c}']);
    }
    (key, rest)
}

fn unescape(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    let mut pending_high: Option<u16> = None;
    while let Some(c) = chars.next() {
        if c != '\\' {
            flush_surrogate(&mut out, &mut pending_high);
            out.push(c);
            continue;
        }
        let Some(escaped) = chars.next() else {
            // A lone trailing backslash is dropped by Properties.load.
            break;
        };
        if escaped == 'u' {
            let mut unit: u16 = 0;
            for _ in 0..4 {
                let digit = chars
                    .next()
                    .and_then(|d| d.to_digit(16))
                    .ok_or_else(|| "malformed \\uXXXX escape".to_owned())?;
                unit = (unit << 4) | u16::try_from(digit).unwrap_or(0);
            }
            match (pending_high.take(), unit) {
                (Some(high), 0xDC00..=0xDFFF) => {
                    let code =
                        0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(unit) - 0xDC00);
                    out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
                }
                (previous, 0xD800..=0xDBFF) => {
                    if previous.is_some() {
                        out.push(char::REPLACEMENT_CHARACTER);
                    }
                    pending_high = Some(unit);
                }
                (previous, _) => {
                    if previous.is_some() {
                        out.push(char::REPLACEMENT_CHARACTER);
                    }
                    out.push(
                        char::from_u32(u32::from(unit)).unwrap_or(char::REPLACEMENT_CHARACTER),
                    );
                }
            }
            continue;
        }
        flush_surrogate(&mut out, &mut pending_high);
        out.push(match escaped {
            't' => '\t',
            'n' => '\n',
            'r' => '\r',
            'f' => '\u{c}',
            other => other,
        });
    }
    flush_surrogate(&mut out, &mut pending_high);
    Ok(out)
}

fn flush_surrogate(out: &mut String, pending_high: &mut Option<u16>) {
    if pending_high.take().is_some() {
        out.push(char::REPLACEMENT_CHARACTER);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn store_escapes_like_java() {
        let text = store([("a key", " lead=x:y#!\\"), ("k", "日本\u{1F600}\n")]);
        assert_eq!(
            text,
            "a\\ key=\\ lead\\=x\\:y\\#\\!\\\\\nk=\\u65E5\\u672C\\uD83D\\uDE00\\n\n"
        );
        let back = load(&text).unwrap();
        assert_eq!(back[0], ("a key".to_owned(), " lead=x:y#!\\".to_owned()));
        assert_eq!(back[1], ("k".to_owned(), "日本\u{1F600}\n".to_owned()));
    }

    #[test]
    fn load_reads_java_syntax() {
        let text = "# comment\n! also\n\n  key1 = value one\nkey2:value2\nkey3 value3\n\
                    multi = first \\\n     second\nempty\nkey1=replaced\r\nu=\\u0041\\t";
        let pairs = load(text).unwrap();
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("key1"), Some("replaced"));
        assert_eq!(get("key2"), Some("value2"));
        assert_eq!(get("key3"), Some("value3"));
        assert_eq!(get("multi"), Some("first second"));
        assert_eq!(get("empty"), Some(""));
        assert_eq!(get("u"), Some("A\t"));
        assert_eq!(pairs.len(), 6);
    }

    #[test]
    fn malformed_unicode_escape_is_an_error() {
        assert!(load("k=\\u12").unwrap_err().contains("line 1"));
        assert!(load("a=1\nk=\\uZZZZ").unwrap_err().contains("line 2"));
    }

    proptest! {
        #[test]
        fn load_never_panics(text in "\\PC{0,200}") {
            let _ = load(&text);
        }

        #[test]
        fn store_load_round_trips(pairs in proptest::collection::btree_map("\\PC{0,12}", "\\PC{0,20}", 0..6)) {
            let text = store(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            let back = load(&text).unwrap();
            let expected: Vec<(String, String)> = pairs.into_iter().collect();
            prop_assert_eq!(back, expected);
        }
    }
}
