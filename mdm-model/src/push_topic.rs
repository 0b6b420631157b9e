//! The APNs push topic: the UID of a workspace's MDM push certificate
//! (`com.apple.mgmt.External.<uuid>`), which every enrollment profile names
//! and every push carries. One type, one rule, for the model, the
//! certificate intake (`mdm-certs`), profiles and pushes (`mdm-apple`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ModelError;

/// Prefix every MDM push topic carries.
pub const MDM_TOPIC_PREFIX: &str = "com.apple.mgmt.";

/// The longest topic accepted (Apple's are about 60 characters).
const MAX_TOPIC_LEN: usize = 255;

/// An MDM push topic: `com.apple.mgmt.` followed by letters, digits, `.`,
/// `-` or `_` (no spaces, no control characters), at most 255 characters.
/// In JSON: the topic string, checked on the way in.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PushTopic(Box<str>);

impl PushTopic {
    /// Checks a topic.
    ///
    /// # Errors
    /// [`ModelError::InvalidPushTopic`] saying which rule it breaks.
    pub fn parse(topic: &str) -> Result<Self, ModelError> {
        let invalid = |reason: &'static str| ModelError::InvalidPushTopic {
            topic: topic.chars().take(300).collect(),
            reason,
        };
        let Some(uid) = topic.strip_prefix(MDM_TOPIC_PREFIX) else {
            return Err(invalid("must start with com.apple.mgmt."));
        };
        if uid.is_empty() {
            return Err(invalid("nothing follows com.apple.mgmt."));
        }
        if topic.len() > MAX_TOPIC_LEN {
            return Err(invalid("longer than 255 characters"));
        }
        if !uid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        {
            return Err(invalid(
                "holds a character other than letters, digits, '.', '-' and '_'",
            ));
        }
        Ok(Self(topic.into()))
    }

    /// The topic text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PushTopic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PushTopic {
    type Error = ModelError;
    fn try_from(topic: String) -> Result<Self, Self::Error> {
        Self::parse(&topic)
    }
}

impl From<PushTopic> for String {
    fn from(topic: PushTopic) -> Self {
        topic.0.into()
    }
}

impl AsRef<str> for PushTopic {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_follow_one_rule() {
        let ok = "com.apple.mgmt.External.e0bd1eac-1f17-4c8e-8a63-dd17d3dd35d9";
        assert_eq!(PushTopic::parse(ok).unwrap().as_str(), ok);
        for (bad, reason) in [
            ("", "must start"),
            ("com.apple.mgmt.", "nothing follows"),
            ("com.apple.mgmt. x", "character other"),
            ("com.apple.mgmt.x\n", "character other"),
            (" com.apple.mgmt.x", "must start"),
            ("com.apple.mgmt.ü", "character other"),
        ] {
            let error = PushTopic::parse(bad).unwrap_err().to_string();
            assert!(error.contains(reason), "{bad:?}: {error}");
        }
        assert!(PushTopic::parse(&format!("com.apple.mgmt.{}", "a".repeat(300))).is_err());
        let json = serde_json::to_string(&PushTopic::parse(ok).unwrap()).unwrap();
        assert_eq!(json, format!("\"{ok}\""));
        assert!(serde_json::from_str::<PushTopic>("\"com.apple.mgmt. x\"").is_err());
    }
}
