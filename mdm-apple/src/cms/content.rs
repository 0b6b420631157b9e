//! What a CMS blob holds, without checking its signature: its content
//! type, and the content a SignedData embeds. Reading a signed profile's
//! payloads needs no trust; trusting them needs [`super::verify_signed_profile`].

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5911::{ID_DATA, ID_SIGNED_DATA};
use der::Decode;
use der::asn1::OctetString;

use super::ber::der_children;
use super::ber_to_der;
use crate::error::{AppleError, Result};

fn malformed(reason: impl Into<String>) -> AppleError {
    AppleError::MalformedCms {
        reason: reason.into(),
    }
}

/// The content type of a CMS `ContentInfo` (BER or DER), read from its
/// first bytes only: `None` when they do not open with a SEQUENCE whose
/// first element is an OID — the bytes are not CMS at all.
pub(crate) fn cms_content_type(bytes: &[u8]) -> Option<ObjectIdentifier> {
    if bytes.first() != Some(&0x30) {
        return None;
    }
    let at = match *bytes.get(1)? {
        n if n <= 0x80 => 2,
        n if n <= 0x84 => 2 + usize::from(n & 0x7f),
        _ => return None,
    };
    if bytes.get(at) != Some(&0x06) {
        return None;
    }
    let len = usize::from(*bytes.get(at + 1)?);
    let arcs = bytes.get(at + 2..at + 2 + len).filter(|_| len < 0x80)?;
    ObjectIdentifier::from_bytes(arcs).ok()
}

/// The content a SignedData (DER, or BER as OpenSSL's streaming mode
/// writes it) embeds, signature unchecked.
///
/// # Errors
/// [`AppleError::MalformedCms`] when the bytes are not a ContentInfo
/// holding SignedData with embedded id-data content.
pub(crate) fn signed_content(bytes: &[u8]) -> Result<Vec<u8>> {
    let der = ber_to_der(bytes)?;
    let is_oid = |tlv: &[u8], oid| ObjectIdentifier::from_der(tlv).ok() == Some(oid);
    if !is_oid(
        child(&der, 0, "ContentInfo without a content type")?,
        ID_SIGNED_DATA,
    ) {
        return Err(malformed("content type is not signedData"));
    }
    let explicit = child(&der, 1, "ContentInfo without content")?;
    let signed_data = child(explicit, 0, "empty [0] content")?;
    // version, digestAlgorithms, encapContentInfo, …
    let encap = child(signed_data, 2, "SignedData without encapContentInfo")?;
    if !is_oid(child(encap, 0, "encapContentInfo without a type")?, ID_DATA) {
        return Err(malformed("encapsulated content is not id-data"));
    }
    let explicit = child(encap, 1, "detached signature: no content embedded")?;
    let octets = child(explicit, 0, "empty eContent")?;
    let octets = OctetString::from_der(octets).map_err(|e| malformed(format!("eContent: {e}")))?;
    Ok(octets.as_bytes().to_vec())
}

/// Child `index` of a DER element, or `missing` as the error.
fn child<'a>(element: &'a [u8], index: usize, missing: &'static str) -> Result<&'a [u8]> {
    der_children(element)?
        .get(index)
        .copied()
        .ok_or_else(|| malformed(missing))
}
