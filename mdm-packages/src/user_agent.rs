//! Which device opened the link (R-IN-3): platform detection from the
//! request's `User-Agent`, helped by client hints.
//!
//! # How each case is decided
//!
//! | request | decision |
//! |---|---|
//! | `Windows Phone` anywhere in the UA (it also says `Android`) | unsupported |
//! | `Android` in the UA, or `Sec-CH-UA-Platform: "Android"` | Android; a phone when the UA says `Mobile` (Chrome, Samsung Internet, Firefox's `Mobile;`) or `Sec-CH-UA-Mobile: ?1`, else a tablet |
//! | `iPhone` or `iPod` in the UA's platform part | iOS, version from `iPhone OS 17_4_1` |
//! | `iPad` in the UA's platform part (iPadOS ≤ 12, Chrome/Firefox on iPad, or "Request Mobile Website") | iPadOS, version from `CPU OS 16_6` |
//! | `Macintosh` in the UA | **see below** |
//! | Windows, Linux, ChromeOS, anything else, or no UA | unsupported |
//!
//! **iPadOS 13 and later** ask for desktop sites by default, and Safari on an
//! iPad then sends exactly the UA of Safari on a Mac
//! (`Macintosh; Intel Mac OS X 10_15_7 … Version/17.4 Safari/605.1.15`).
//! Headers alone cannot tell them apart, so the decision takes one more
//! fact, the number of touch points the browser reports
//! (`navigator.maxTouchPoints`): an iPad reports 5, a Mac 0. The server gets it
//! in one of two ways:
//!
//! * the invitation page is first answered with [`touch_probe_page`], a
//!   tiny page whose script re-requests the same link with
//!   `?touch=<navigator.maxTouchPoints>`; [`ClientHints::from_query`] reads
//!   it back;
//! * or an integrator's own page passes it in [`ClientHints::max_touch_points`].
//!
//! With more than one touch point a `Macintosh` UA is **iPadOS**, its version
//! taken from Safari's `Version/` token (Safari ships with the OS, so its
//! major version is the OS's); with 0 or 1 it is **macOS**, which is not
//! supported. `Sec-CH-UA-Platform: "macOS"` settles it as macOS at once: only
//! Chromium sends client hints, and Chromium does not run on iPadOS. **Without
//! either hint** the answer is [`Detection::NeedsTouchHint`]: nothing is
//! decided and nothing is consumed; the caller serves the probe page.

use std::fmt;

use mdm_model::{OsVersion, Platform};

/// What the browser told us besides its User-Agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientHints {
    /// `Sec-CH-UA-Platform`, quotes removed (`Android`, `macOS`, `Windows` …).
    pub platform: Option<String>,
    /// `Sec-CH-UA-Mobile`: `?1` is `true`, `?0` is `false`.
    pub mobile: Option<bool>,
    /// `navigator.maxTouchPoints`, as reported by the probe page.
    pub max_touch_points: Option<u32>,
}

impl ClientHints {
    /// Reads `Sec-CH-UA-Platform` and `Sec-CH-UA-Mobile` from request headers
    /// (names case-insensitive); other headers are ignored.
    #[must_use]
    pub fn from_headers<'a>(headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut hints = Self::default();
        for (name, value) in headers {
            if name.eq_ignore_ascii_case("sec-ch-ua-platform") {
                let v = value.trim().trim_matches('"').trim();
                if !v.is_empty() && v.len() <= 64 {
                    hints.platform = Some(v.to_owned());
                }
            } else if name.eq_ignore_ascii_case("sec-ch-ua-mobile") {
                hints.mobile = match value.trim() {
                    "?1" => Some(true),
                    "?0" => Some(false),
                    _ => None,
                };
            }
        }
        hints
    }

    /// Adds `touch=<n>` from a request's query string (what
    /// [`touch_probe_page`] sends); anything else in the query is ignored.
    #[must_use]
    pub fn with_query(mut self, query: &str) -> Self {
        for pair in query.trim_start_matches('?').split('&') {
            if let Some(n) = pair.strip_prefix("touch=")
                && let Ok(n) = n.parse::<u32>()
            {
                self.max_touch_points = Some(n);
            }
        }
        self
    }

    /// Only the `touch=<n>` of a query string.
    #[must_use]
    pub fn from_query(query: &str) -> Self {
        Self::default().with_query(query)
    }
}

/// Phone or tablet, as far as the request tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FormFactor {
    /// A phone (or iPod touch).
    Phone,
    /// A tablet.
    Tablet,
}

/// A device we can enroll, as the request describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectedDevice {
    /// Android, iOS or iPadOS.
    pub platform: Platform,
    /// Phone or tablet.
    pub form_factor: FormFactor,
    /// The OS version when the UA tells it (reduced Chrome UAs freeze
    /// Android at 10; desktop-class iPad UAs give only Safari's version).
    pub os_version: Option<OsVersion>,
    /// The hardware model when the UA tells it (Android only; `K` in a
    /// reduced UA means "not told").
    pub model: Option<String>,
    /// The iPad presented itself as a Mac and was recognised by its touch
    /// points.
    pub desktop_class_ipad: bool,
}

/// Operating systems we recognise but do not manage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UnsupportedOs {
    /// macOS (a `Macintosh` UA without touch).
    MacOs,
    /// Windows.
    Windows,
    /// Windows Phone / Windows 10 Mobile.
    WindowsPhone,
    /// ChromeOS.
    ChromeOs,
    /// Linux desktops.
    Linux,
    /// No User-Agent, or one we do not recognise.
    Unknown,
}

impl fmt::Display for UnsupportedOs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MacOs => "macOS",
            Self::Windows => "Windows",
            Self::WindowsPhone => "Windows Phone",
            Self::ChromeOs => "ChromeOS",
            Self::Linux => "Linux",
            Self::Unknown => "an unrecognised device",
        })
    }
}

/// The outcome of looking at a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detection {
    /// A device we enroll.
    Supported(DetectedDevice),
    /// A `Macintosh` UA without a touch-points hint: an iPad or a Mac.
    /// Serve [`touch_probe_page`] and decide on the next request.
    NeedsTouchHint,
    /// Something we do not manage.
    Unsupported(UnsupportedOs),
}

/// Detects the platform of the device behind a request; see the module
/// documentation for every rule.
#[must_use]
pub fn detect_device(user_agent: &str, hints: &ClientHints) -> Detection {
    // Bound the work on hostile input; real UAs are well under 1 KiB.
    let ua = truncate(user_agent, 2048);
    let platform_part = platform_part(ua);
    let hinted = hints.platform.as_deref().map(str::to_ascii_lowercase);

    if ua.contains("Windows Phone") || ua.contains("Windows Mobile") {
        return Detection::Unsupported(UnsupportedOs::WindowsPhone);
    }
    if ua.contains("Android") || hinted.as_deref() == Some("android") {
        return Detection::Supported(android(ua, platform_part, hints));
    }
    let segments: Vec<&str> = platform_part.split(';').map(str::trim).collect();
    if segments
        .iter()
        .any(|s| *s == "iPhone" || *s == "iPod" || *s == "iPod touch")
    {
        return Detection::Supported(DetectedDevice {
            platform: Platform::IOs,
            form_factor: FormFactor::Phone,
            os_version: apple_version(platform_part),
            model: None,
            desktop_class_ipad: false,
        });
    }
    if segments.contains(&"iPad") {
        return Detection::Supported(DetectedDevice {
            platform: Platform::IPadOs,
            form_factor: FormFactor::Tablet,
            os_version: apple_version(platform_part),
            model: None,
            desktop_class_ipad: false,
        });
    }
    if segments.contains(&"Macintosh") {
        if hinted.as_deref() == Some("macos") {
            return Detection::Unsupported(UnsupportedOs::MacOs);
        }
        return match hints.max_touch_points {
            Some(n) if n > 1 => Detection::Supported(DetectedDevice {
                platform: Platform::IPadOs,
                form_factor: FormFactor::Tablet,
                os_version: after_token(ua, "Version/").and_then(|v| version_of(v, '.')),
                model: None,
                desktop_class_ipad: true,
            }),
            Some(_) => Detection::Unsupported(UnsupportedOs::MacOs),
            None => Detection::NeedsTouchHint,
        };
    }
    let os = if ua.contains("CrOS") {
        UnsupportedOs::ChromeOs
    } else if ua.contains("Windows") {
        UnsupportedOs::Windows
    } else if ua.contains("Linux") || ua.contains("X11") {
        UnsupportedOs::Linux
    } else {
        match hinted.as_deref() {
            Some("windows") => UnsupportedOs::Windows,
            Some("macos") => UnsupportedOs::MacOs,
            Some("chrome os" | "chromeos") => UnsupportedOs::ChromeOs,
            Some("linux") => UnsupportedOs::Linux,
            _ => UnsupportedOs::Unknown,
        }
    };
    Detection::Unsupported(os)
}

fn android(ua: &str, platform_part: &str, hints: &ClientHints) -> DetectedDevice {
    let segments: Vec<&str> = platform_part.split(';').map(str::trim).collect();
    let version_index = segments.iter().position(|s| s.starts_with("Android"));
    let os_version = version_index
        .and_then(|i| segments.get(i))
        .and_then(|s| s.strip_prefix("Android"))
        .map(str::trim)
        .and_then(|v| version_of(v, '.'));
    // Chrome: "Linux; Android 14; Pixel 8 Build/UD1A…" — the model follows the
    // version. Firefox: "Android 14; Mobile; rv:125.0" — no model.
    let model = version_index
        .and_then(|i| segments.get(i + 1))
        .map(|s| s.split(" Build/").next().unwrap_or(s).trim())
        .filter(|m| {
            !m.is_empty()
                && *m != "K"
                && *m != "Mobile"
                && *m != "Tablet"
                && !m.starts_with("rv:")
                && !m.starts_with("wv")
                && m.len() <= 64
        })
        .map(str::to_owned);
    let phone = hints.mobile.unwrap_or_else(|| {
        segments.contains(&"Mobile")
            || ua.contains(" Mobile ")
            || ua.contains(" Mobile/")
            || ua.ends_with(" Mobile")
    });
    DetectedDevice {
        platform: Platform::Android,
        form_factor: if phone {
            FormFactor::Phone
        } else {
            FormFactor::Tablet
        },
        os_version,
        model,
        desktop_class_ipad: false,
    }
}

/// The UA's first parenthesised part (`Linux; Android 14; Pixel 8`), nested
/// parentheses kept (`moto g(60)`).
fn platform_part(ua: &str) -> &str {
    let Some(start) = ua.find('(') else {
        return "";
    };
    let mut depth = 0usize;
    for (i, c) in ua.char_indices().skip_while(|(i, _)| *i < start) {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return ua.get(start + 1..i).unwrap_or_default();
                }
            }
            _ => {}
        }
    }
    ua.get(start + 1..).unwrap_or_default()
}

/// `iPhone OS 17_4_1 like Mac OS X` / `CPU OS 16_6 like Mac OS X`.
fn apple_version(platform_part: &str) -> Option<OsVersion> {
    let after = after_token(platform_part, " OS ")?;
    version_of(after.split_whitespace().next()?, '_')
}

/// The text after the first `token`.
fn after_token<'a>(text: &'a str, token: &str) -> Option<&'a str> {
    text.find(token).and_then(|i| text.get(i + token.len()..))
}

/// Leading `major[sep minor[sep patch]]` digits of `text`.
fn version_of(text: &str, sep: char) -> Option<OsVersion> {
    let numbers: Vec<&str> = text
        .split(|c: char| c != sep && !c.is_ascii_digit())
        .next()?
        .split(sep)
        .take(3)
        .collect();
    let dotted = numbers
        .iter()
        .take_while(|n| !n.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(".");
    OsVersion::parse(&dotted).ok()
}

fn truncate(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}

/// The page served for [`Detection::NeedsTouchHint`]: it reloads the same
/// URL with `touch=<navigator.maxTouchPoints>` added to the query, and tells
/// the user what to do if scripts are off. `no_script_text` is shown then
/// (HTML-escaped here).
#[must_use]
pub fn touch_probe_page(no_script_text: &str) -> String {
    format!(
        concat!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">",
            "<meta name=\"viewport\" content=\"width=device-width\">\n",
            "<script>\n(function () {{\n",
            "  var u = new URL(window.location.href);\n",
            "  u.searchParams.set(\"touch\", String(navigator.maxTouchPoints || 0));\n",
            "  window.location.replace(u.toString());\n",
            "}})();\n</script></head>\n",
            "<body><noscript><p>{}</p></noscript></body></html>\n"
        ),
        crate::message::escape_html(no_script_text)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn supported(ua: &str, hints: &ClientHints) -> DetectedDevice {
        match detect_device(ua, hints) {
            Detection::Supported(d) => d,
            other => panic!("{ua}: expected a supported device, got {other:?}"),
        }
    }

    fn v(text: &str) -> Option<OsVersion> {
        Some(OsVersion::parse(text).unwrap())
    }

    /// Real User-Agent strings, one row per browser and device:
    /// (UA, platform, form factor, version, model).
    const REAL: &[(&str, Platform, FormFactor, &str, Option<&str>)] = &[
        // Pixel 8, Chrome.
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
            Platform::Android,
            FormFactor::Phone,
            "14",
            Some("Pixel 8"),
        ),
        // Chrome's reduced UA (model "K", version frozen at 10).
        (
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Mobile Safari/537.36",
            Platform::Android,
            FormFactor::Phone,
            "10",
            None,
        ),
        // Galaxy S23, Samsung Internet.
        (
            "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
            Platform::Android,
            FormFactor::Phone,
            "13",
            Some("SM-S911B"),
        ),
        // Galaxy S9 with a Build tag.
        (
            "Mozilla/5.0 (Linux; Android 8.0.0; SM-G960F Build/R16NW) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/62.0.3202.84 Mobile Safari/537.36",
            Platform::Android,
            FormFactor::Phone,
            "8.0.0",
            Some("SM-G960F"),
        ),
        // Android WebView in an app (e.g. a mail client).
        (
            "Mozilla/5.0 (Linux; Android 12; moto g(60); wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.43 Mobile Safari/537.36",
            Platform::Android,
            FormFactor::Phone,
            "12",
            Some("moto g(60)"),
        ),
        // Firefox for Android, phone and tablet.
        (
            "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0",
            Platform::Android,
            FormFactor::Phone,
            "14",
            None,
        ),
        (
            "Mozilla/5.0 (Android 13; Tablet; rv:109.0) Gecko/117.0 Firefox/117.0",
            Platform::Android,
            FormFactor::Tablet,
            "13",
            None,
        ),
        // Galaxy Tab S8, Chrome (no "Mobile").
        (
            "Mozilla/5.0 (Linux; Android 12; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/108.0.0.0 Safari/537.36",
            Platform::Android,
            FormFactor::Tablet,
            "12",
            Some("SM-X700"),
        ),
        // Nexus 7.
        (
            "Mozilla/5.0 (Linux; Android 4.4.2; Nexus 7 Build/KOT49H) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/34.0.1847.114 Safari/537.36",
            Platform::Android,
            FormFactor::Tablet,
            "4.4.2",
            Some("Nexus 7"),
        ),
        // iPhone, Safari / Chrome / Facebook in-app.
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
            Platform::IOs,
            FormFactor::Phone,
            "17.4.1",
            None,
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/125.0.6422.80 Mobile/15E148 Safari/604.1",
            Platform::IOs,
            FormFactor::Phone,
            "17.5",
            None,
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/426.0.0.26.108;FBBV/520427693;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/16.6;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5]",
            Platform::IOs,
            FormFactor::Phone,
            "16.6",
            None,
        ),
        // iPod touch.
        (
            "Mozilla/5.0 (iPod touch; CPU iPhone OS 15_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/15.6 Mobile/15E148 Safari/604.1",
            Platform::IOs,
            FormFactor::Phone,
            "15.7",
            None,
        ),
        // iPad on iPadOS 12 / Chrome on a recent iPad (both still say iPad).
        (
            "Mozilla/5.0 (iPad; CPU OS 12_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1 Mobile/15E148 Safari/604.1",
            Platform::IPadOs,
            FormFactor::Tablet,
            "12.2",
            None,
        ),
        (
            "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/125.0.6422.80 Mobile/15E148 Safari/604.1",
            Platform::IPadOs,
            FormFactor::Tablet,
            "17.5",
            None,
        ),
    ];

    #[test]
    fn real_mobile_user_agents() {
        for (ua, platform, form, version, model) in REAL {
            let d = supported(ua, &ClientHints::default());
            assert_eq!(d.platform, *platform, "{ua}");
            assert_eq!(d.form_factor, *form, "{ua}");
            assert_eq!(d.os_version, v(version), "{ua}");
            assert_eq!(d.model.as_deref(), *model, "{ua}");
            assert!(!d.desktop_class_ipad);
        }
    }

    /// Safari on iPadOS 17 and Safari on macOS Sonoma send this same UA.
    const DESKTOP_SAFARI: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15";

    #[test]
    fn ipados_13_plus_is_decided_by_touch_points() {
        assert_eq!(
            detect_device(DESKTOP_SAFARI, &ClientHints::default()),
            Detection::NeedsTouchHint
        );

        let ipad = supported(DESKTOP_SAFARI, &ClientHints::from_query("touch=5"));
        assert_eq!(ipad.platform, Platform::IPadOs);
        assert_eq!(ipad.os_version, v("17.4"));
        assert!(ipad.desktop_class_ipad);

        assert_eq!(
            detect_device(DESKTOP_SAFARI, &ClientHints::from_query("?x=1&touch=0")),
            Detection::Unsupported(UnsupportedOs::MacOs)
        );
        // Chromium on a Mac says so in a client hint; no probe needed.
        let mac_chrome = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
        let hints = ClientHints::from_headers([
            ("Sec-CH-UA-Platform", "\"macOS\""),
            ("sec-ch-ua-mobile", "?0"),
        ]);
        assert_eq!(
            detect_device(mac_chrome, &hints),
            Detection::Unsupported(UnsupportedOs::MacOs)
        );
        // Firefox on iPad in desktop mode: no Version/ token, version unknown.
        let fx =
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:125.0) Gecko/20100101 Firefox/125.0";
        let d = supported(fx, &ClientHints::from_query("touch=5"));
        assert_eq!((d.platform, d.os_version), (Platform::IPadOs, None));
    }

    #[test]
    fn desktops_and_others_are_unsupported() {
        let cases = [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
                UnsupportedOs::Windows,
            ),
            (
                "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.15063",
                UnsupportedOs::WindowsPhone,
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
                UnsupportedOs::Linux,
            ),
            (
                "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
                UnsupportedOs::ChromeOs,
            ),
            ("curl/8.5.0", UnsupportedOs::Unknown),
            ("", UnsupportedOs::Unknown),
        ];
        for (ua, os) in cases {
            assert_eq!(
                detect_device(ua, &ClientHints::default()),
                Detection::Unsupported(os),
                "{ua}"
            );
        }
    }

    #[test]
    fn client_hints_refine_android() {
        // Reduced UA on a tablet in desktop mode still sends the platform hint.
        let ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36";
        let hints = ClientHints::from_headers([
            ("Sec-CH-UA-Platform", "\"Android\""),
            ("Sec-CH-UA-Mobile", "?0"),
        ]);
        let d = supported(ua, &hints);
        assert_eq!(
            (d.platform, d.form_factor),
            (Platform::Android, FormFactor::Tablet)
        );
        let phone = ClientHints {
            mobile: Some(true),
            ..ClientHints::default()
        };
        assert_eq!(supported(REAL[7].0, &phone).form_factor, FormFactor::Phone);
    }

    #[test]
    fn probe_page_reloads_with_touch_points() {
        let page = touch_probe_page("Enable JavaScript <or> open the link on your iPad.");
        assert!(page.contains("navigator.maxTouchPoints"));
        assert!(page.contains("searchParams.set(\"touch\""));
        assert!(page.contains("Enable JavaScript &lt;or&gt; open"));
    }

    proptest! {
        #[test]
        fn never_panics(ua in ".{0,300}", touch in proptest::option::of(0u32..10), platform in proptest::option::of(".{0,10}")) {
            let hints = ClientHints { platform, mobile: None, max_touch_points: touch };
            let _ = detect_device(&ua, &hints);
        }

        #[test]
        fn never_panics_on_ua_shaped_text(
            inside in "[A-Za-z0-9 ;._/()-]{0,80}",
            tail in "[A-Za-z0-9 ;._/()-]{0,80}",
        ) {
            let _ = detect_device(&format!("Mozilla/5.0 ({inside}) {tail}"), &ClientHints::from_query("touch=5"));
            let _ = detect_device(&format!("Mozilla/5.0 (Linux; Android {inside}) {tail}"), &ClientHints::default());
        }
    }
}
