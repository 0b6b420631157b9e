//! BER to DER, just enough for CMS: indefinite lengths become definite and
//! constructed (chunked) OCTET STRINGs are joined into one primitive
//! OCTET STRING. OpenSSL's `cms -sign -stream` (and `-binary -nodetach`
//! with streaming) writes this form; the `der` crate only reads DER.
//!
//! Input is untrusted: every length is checked against what remains,
//! nesting is bounded, and nothing panics.

use crate::error::{AppleError, Result};

/// Deepest nesting accepted (CMS needs about a dozen levels).
const MAX_DEPTH: usize = 64;

fn malformed(offset: usize, what: &str) -> AppleError {
    AppleError::MalformedCms {
        reason: format!("BER at byte {offset}: {what}"),
    }
}

/// One parsed element: its identifier octets, and whether it is constructed.
struct Header {
    tag: Vec<u8>,
    constructed: bool,
    /// `None` for the indefinite form.
    length: Option<usize>,
    header_len: usize,
}

fn read_header(input: &[u8], offset: usize) -> Result<Header> {
    let first = *input
        .get(offset)
        .ok_or_else(|| malformed(offset, "truncated tag"))?;
    let constructed = first & 0x20 != 0;
    let mut pos = offset + 1;
    if first & 0x1f == 0x1f {
        // High tag number form: base-128 octets, last has the top bit clear.
        loop {
            let b = *input
                .get(pos)
                .ok_or_else(|| malformed(pos, "truncated long tag"))?;
            pos += 1;
            if pos - offset > 6 {
                return Err(malformed(offset, "tag number too long"));
            }
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    let tag = input
        .get(offset..pos)
        .ok_or_else(|| malformed(offset, "truncated tag"))?
        .to_vec();
    let len_byte = *input
        .get(pos)
        .ok_or_else(|| malformed(pos, "truncated length"))?;
    pos += 1;
    let length = if len_byte == 0x80 {
        if !constructed {
            return Err(malformed(
                offset,
                "indefinite length on a primitive element",
            ));
        }
        None
    } else if len_byte & 0x80 == 0 {
        Some(usize::from(len_byte))
    } else {
        let n = usize::from(len_byte & 0x7f);
        if n > 4 {
            return Err(malformed(pos, "length of more than 4 octets"));
        }
        let bytes = input
            .get(pos..pos + n)
            .ok_or_else(|| malformed(pos, "truncated length"))?;
        pos += n;
        Some(
            bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b)),
        )
    };
    if let Some(len) = length
        && input.len().saturating_sub(pos) < len
    {
        return Err(malformed(offset, "length runs past the end of the input"));
    }
    Ok(Header {
        tag,
        constructed,
        length,
        header_len: pos - offset,
    })
}

fn push_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        // Guarded above: fits in 7 bits.
        out.push(u8::try_from(len).unwrap_or(0));
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | u8::try_from(significant.len()).unwrap_or(0));
        out.extend_from_slice(significant);
    }
}

/// Parses the element at `offset`, appending its DER form to `out`.
/// Returns the offset just past the element in `input`.
fn convert(input: &[u8], offset: usize, depth: usize, out: &mut Vec<u8>) -> Result<usize> {
    if depth > MAX_DEPTH {
        return Err(malformed(offset, "nested too deeply"));
    }
    let h = read_header(input, offset)?;
    let body_start = offset + h.header_len;
    if !h.constructed {
        let len = h.length.unwrap_or(0);
        let body = input
            .get(body_start..body_start + len)
            .ok_or_else(|| malformed(offset, "truncated"))?;
        out.extend_from_slice(&h.tag);
        push_length(out, len);
        out.extend_from_slice(body);
        return Ok(body_start + len);
    }
    // Constructed: convert children until the end (definite) or the end-of-contents marker.
    let mut children = Vec::new();
    let mut pos = body_start;
    let end = match h.length {
        Some(len) => {
            let end = body_start + len;
            while pos < end {
                pos = convert(input, pos, depth + 1, &mut children)?;
            }
            if pos != end {
                return Err(malformed(offset, "children overrun the element"));
            }
            end
        }
        None => loop {
            match input.get(pos..pos + 2) {
                Some([0, 0]) => break pos + 2,
                Some(_) => pos = convert(input, pos, depth + 1, &mut children)?,
                None => return Err(malformed(pos, "missing end-of-contents")),
            }
        },
    };
    // A constructed OCTET STRING (universal 4 with the constructed bit) is
    // rejoined: its children are (already joined) primitive OCTET STRINGs.
    if h.tag == [0x24] {
        let mut joined = Vec::with_capacity(children.len());
        let mut p = 0;
        while p < children.len() {
            let ch = read_header(&children, p)?;
            if ch.tag != [0x04] {
                return Err(malformed(
                    offset,
                    "a chunk of an OCTET STRING is not an OCTET STRING",
                ));
            }
            let len = ch.length.unwrap_or(0);
            let s = p + ch.header_len;
            joined.extend_from_slice(
                children
                    .get(s..s + len)
                    .ok_or_else(|| malformed(offset, "truncated chunk"))?,
            );
            p = s + len;
        }
        out.push(0x04);
        push_length(out, joined.len());
        out.extend_from_slice(&joined);
    } else {
        out.extend_from_slice(&h.tag);
        push_length(out, children.len());
        out.extend_from_slice(&children);
    }
    Ok(end)
}

/// Rewrites one BER element as DER (definite lengths, joined OCTET STRINGs).
/// DER input comes back unchanged.
///
/// # Errors
/// [`AppleError::MalformedCms`] for truncated or malformed input, or
/// trailing bytes after the element.
pub(crate) fn ber_to_der(input: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len());
    let end = convert(input, 0, 0, &mut out)?;
    if end != input.len() {
        return Err(malformed(end, "trailing bytes after the element"));
    }
    Ok(out)
}

/// The raw child elements (tag, length and value) of one DER element.
///
/// # Errors
/// [`AppleError::MalformedCms`] if `element` is not a well-formed
/// definite-length element.
pub(crate) fn der_children(element: &[u8]) -> Result<Vec<&[u8]>> {
    let h = read_header(element, 0)?;
    let len = h
        .length
        .ok_or_else(|| malformed(0, "indefinite length in DER"))?;
    let body = element
        .get(h.header_len..h.header_len + len)
        .ok_or_else(|| malformed(0, "truncated"))?;
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < body.len() {
        let ch = read_header(body, pos)?;
        let clen = ch
            .length
            .ok_or_else(|| malformed(pos, "indefinite length in DER"))?;
        let end = pos + ch.header_len + clen;
        out.push(
            body.get(pos..end)
                .ok_or_else(|| malformed(pos, "truncated child"))?,
        );
        pos = end;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn der_passes_through() {
        let der = [0x30, 0x06, 0x02, 0x01, 0x05, 0x04, 0x01, 0xaa];
        assert_eq!(ber_to_der(&der).unwrap(), der);
    }

    #[test]
    fn indefinite_and_chunked_octet_strings_are_normalised() {
        // SEQUENCE (indefinite) { [0] (indefinite) { OCTET STRING constructed { "ab", "c" } } }
        let ber = [
            0x30, 0x80, 0xa0, 0x80, 0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c', 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00,
        ];
        let der = ber_to_der(&ber).unwrap();
        assert_eq!(der, [0x30, 0x07, 0xa0, 0x05, 0x04, 0x03, b'a', b'b', b'c']);
    }

    #[test]
    fn long_lengths_are_reencoded_minimally() {
        let mut ber = vec![0x04, 0x82, 0x00, 0x05];
        ber.extend_from_slice(b"hello");
        assert_eq!(
            ber_to_der(&ber).unwrap(),
            [&[0x04u8, 0x05][..], b"hello"].concat()
        );
        let mut big = vec![0x24, 0x80, 0x04, 0x81, 0xc8];
        big.extend(std::iter::repeat_n(7u8, 200));
        big.extend([0, 0]);
        let der = ber_to_der(&big).unwrap();
        assert_eq!(der.get(..3), Some(&[0x04u8, 0x81, 0xc8][..]));
    }

    #[test]
    fn malformed_inputs_are_errors() {
        assert!(ber_to_der(&[]).is_err());
        assert!(ber_to_der(&[0x30]).is_err());
        assert!(ber_to_der(&[0x30, 0x05, 0x01]).is_err());
        assert!(ber_to_der(&[0x04, 0x80, 0x00, 0x00]).is_err());
        assert!(ber_to_der(&[0x30, 0x80, 0x04, 0x00]).is_err());
        assert!(ber_to_der(&[0x30, 0x00, 0xff]).is_err());
        let deep: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], 100).flatten().collect();
        assert!(ber_to_der(&deep).is_err());
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = ber_to_der(&bytes);
        }
    }
}
