//! PEM text (RFC 7468), with the `Name: value` headers (RFC 1421) that old
//! encrypted keys carry before their body.

use base64::Engine as _;
use zeroize::Zeroizing;

/// The most header lines one block may have (an encrypted key has two).
const MAX_HEADERS: usize = 8;

/// One `-----BEGIN <label>-----` … `-----END <label>-----` block.
pub(crate) struct PemBlock<'a> {
    /// The label, e.g. `CERTIFICATE`, `RSA PRIVATE KEY`.
    pub(crate) label: &'a str,
    /// The `Name: value` lines before the body, in file order, trimmed.
    pub(crate) headers: Vec<(&'a str, &'a str)>,
    /// The decoded body (zeroised: it may be a key).
    pub(crate) contents: Zeroizing<Vec<u8>>,
}

impl PemBlock<'_> {
    /// The value of header `name` (compared without regard to case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|&(_, v)| v)
    }
}

/// The blocks of `text` in order; lines outside blocks are ignored. After a
/// malformed block (the error says what was wrong) the iteration ends.
pub(crate) fn blocks(text: &[u8]) -> Blocks<'_> {
    Blocks {
        lines: text.split(is_newline as fn(&u8) -> bool),
        done: false,
    }
}

fn is_newline(byte: &u8) -> bool {
    *byte == b'\n'
}

/// The iterator of [`blocks`].
pub(crate) struct Blocks<'a> {
    lines: core::slice::Split<'a, u8, fn(&u8) -> bool>,
    done: bool,
}

impl<'a> Iterator for Blocks<'a> {
    type Item = Result<PemBlock<'a>, String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.next_block();
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
        }
        item
    }
}

impl<'a> Blocks<'a> {
    fn next_block(&mut self) -> Option<Result<PemBlock<'a>, String>> {
        let label = loop {
            let line = self.lines.next()?.trim_ascii();
            if let Some(rest) = line.strip_prefix(b"-----BEGIN ") {
                break rest;
            }
        };
        Some(self.read_block(label))
    }

    fn read_block(&mut self, begin: &'a [u8]) -> Result<PemBlock<'a>, String> {
        let label = begin
            .strip_suffix(b"-----")
            .and_then(|l| core::str::from_utf8(l).ok())
            .ok_or("a BEGIN line is `-----BEGIN <label>-----` with an ASCII label")?;
        let mut headers = Vec::new();
        let mut body = Zeroizing::new(Vec::new());
        let mut in_body = false;
        for line in self.lines.by_ref() {
            let line = line.trim_ascii();
            if let Some(end) = line.strip_prefix(b"-----END ") {
                if end.strip_suffix(b"-----") != Some(label.as_bytes()) {
                    return Err(format!(
                        "the block `-----BEGIN {label}-----` must end with `-----END {label}-----`"
                    ));
                }
                let contents = base64::engine::general_purpose::STANDARD
                    .decode(body.as_slice())
                    .map_err(|e| format!("the body of `{label}` is not base64: {e}"))?;
                return Ok(PemBlock {
                    label,
                    headers,
                    contents: Zeroizing::new(contents),
                });
            }
            if line.is_empty() {
                in_body = true;
                continue;
            }
            if !in_body && let Some(at) = line.iter().position(|&b| b == b':') {
                if headers.len() == MAX_HEADERS {
                    return Err(format!(
                        "the block `{label}` has more than {MAX_HEADERS} header lines"
                    ));
                }
                let (name, value) = line.split_at(at);
                let text = |b: &'a [u8]| core::str::from_utf8(b).map(str::trim_ascii);
                match (text(name), text(value.get(1..).unwrap_or_default())) {
                    (Ok(name), Ok(value)) => headers.push((name, value)),
                    _ => return Err(format!("a header line of `{label}` is not UTF-8")),
                }
                continue;
            }
            in_body = true;
            body.extend_from_slice(line);
        }
        Err(format!(
            "the block `-----BEGIN {label}-----` has no END line"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_blocks_with_headers_and_skips_text_between() {
        let text = b"junk\r\n-----BEGIN A-----\r\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00\n\naGk=\n-----END A-----\nmore\n-----BEGIN B-----\naGVs\nbG8=\n-----END B-----\n";
        let blocks: Vec<_> = blocks(text).map(Result::unwrap).collect();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].label, "A");
        assert_eq!(blocks[0].header("proc-type"), Some("4,ENCRYPTED"));
        assert_eq!(blocks[0].header("DEK-Info"), Some("AES-256-CBC,00"));
        assert_eq!(blocks[0].contents.as_slice(), b"hi");
        assert!(blocks[1].headers.is_empty());
        assert_eq!(blocks[1].contents.as_slice(), b"hello");
    }

    #[test]
    fn malformed_blocks_say_what_is_wrong() {
        let err = |t: &[u8]| blocks(t).next().unwrap().err().unwrap();
        assert!(err(b"-----BEGIN A-----\naGk=\n").contains("no END line"));
        assert!(err(b"-----BEGIN A-----\naGk=\n-----END B-----").contains("END A"));
        assert!(err(b"-----BEGIN A-----\n!!\n-----END A-----").contains("not base64"));
        let many = format!(
            "-----BEGIN A-----\n{}\naGk=\n-----END A-----",
            "a: b\n".repeat(9)
        );
        assert!(err(many.as_bytes()).contains("header lines"));
        let mut after = blocks(b"-----BEGIN A-----\n-----BEGIN B-----\n-----END B-----");
        assert!(after.next().unwrap().is_err());
        assert!(after.next().is_none());
    }
}
