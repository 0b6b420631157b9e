//! What `Debug` shows of provisioning secrets: `<redacted>`, also for the
//! values of secret-named bundle keys at every level.

use std::collections::BTreeMap;
use std::fmt;

use super::BundleValue;

/// Shown by `Debug` in place of a secret.
pub(super) struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Whether a bundle key names a secret (an EAP password or client key,
/// another DPC's enrollment token, a cookie): `Debug` does not show its value.
pub(super) fn names_secret(key: &str) -> bool {
    const MARKERS: &[&str] = &[
        "PASSWORD",
        "PASSPHRASE",
        "TOKEN",
        "SECRET",
        "COOKIE",
        "USER_CERTIFICATE",
        "PRIVATE",
        "CREDENTIAL",
        "ACTIVATION",
        "PSK",
        "PIN",
    ];
    let upper = key.to_ascii_uppercase();
    MARKERS.iter().any(|marker| upper.contains(marker))
}

/// A bundle as `Debug` shows it: the values of [secret-named](names_secret)
/// keys redacted, at every level.
pub(super) struct RedactedBundle<'a>(pub(super) &'a BTreeMap<String, BundleValue>);

impl fmt::Debug for RedactedBundle<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Nested<'a>(&'a BTreeMap<String, BundleValue>);
        impl fmt::Debug for Nested<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple("Bundle")
                    .field(&RedactedBundle(self.0))
                    .finish()
            }
        }
        let mut map = f.debug_map();
        for (key, value) in self.0 {
            match value {
                _ if names_secret(key) => map.entry(key, &Redacted),
                BundleValue::Bundle(inner) => map.entry(key, &Nested(inner)),
                other => map.entry(key, other),
            };
        }
        map.finish()
    }
}
