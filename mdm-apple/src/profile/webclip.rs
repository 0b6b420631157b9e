//! Web clip payload (`com.apple.webClip.managed`).

use crate::error::{AppleError, Result};
use crate::fields::DictWriter;
use crate::ids::HttpsUrl;

/// A Home-screen shortcut to a web page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebClip {
    /// `URL` (https).
    pub url: HttpsUrl,
    /// `Label`: the name under the icon.
    pub label: String,
    /// `Icon`: PNG bytes.
    pub icon: Option<Vec<u8>>,
    /// `IsRemovable`.
    pub is_removable: Option<bool>,
    /// `FullScreen`: open as a full-screen web app.
    pub full_screen: Option<bool>,
    /// `Precomposed`: no shine added to the icon.
    pub precomposed: Option<bool>,
}

impl WebClip {
    /// A removable web clip without icon.
    pub fn new(url: HttpsUrl, label: impl Into<String>) -> Self {
        Self {
            url,
            label: label.into(),
            icon: None,
            is_removable: None,
            full_screen: None,
            precomposed: None,
        }
    }

    pub(crate) const PAYLOAD_TYPE: &'static str = "com.apple.webClip.managed";

    pub(crate) fn validate(&self) -> Result<()> {
        if self.label.trim().is_empty() {
            return Err(AppleError::MissingKey {
                payload: Self::PAYLOAD_TYPE.into(),
                key: "Label",
            });
        }
        if let Some(icon) = &self.icon
            && !icon.starts_with(b"\x89PNG\r\n\x1a\n")
        {
            return Err(AppleError::InvalidValue {
                payload: Self::PAYLOAD_TYPE.into(),
                key: "Icon",
                value: format!("{} bytes", icon.len()),
                reason: "must be a PNG image (start with the PNG signature)",
            });
        }
        Ok(())
    }

    pub(crate) fn write(&self, w: &mut DictWriter) {
        w.put("URL", self.url.as_str())
            .put("Label", self.label.as_str());
        if let Some(icon) = &self.icon {
            w.data("Icon", icon);
        }
        w.opt("IsRemovable", self.is_removable)
            .opt("FullScreen", self.full_screen)
            .opt("Precomposed", self.precomposed);
    }
}
