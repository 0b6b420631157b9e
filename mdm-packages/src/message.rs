//! The instruction message (R-IN-1, R-IN-2): subject, plain-text and HTML
//! body, and the QR code attached, in English, Japanese or Russian.
//!
//! The steps follow the vendor manuals the requirements come from (seed 000
//! in Japanese, seed 001 in Russian, and their English digest): open the link
//! or scan the attached QR code on the device to connect; the system detects
//! Android, iOS or iPadOS; Android goes to the store (or downloads the
//! standalone package), with the remedies for a failed first connection
//! (reinstall; paste the link into the agent's *Server* field) and for an
//! agent installed through KNOX or another EMM (reinstall); iOS and iPadOS
//! download the MDM profile, to be installed in Settings; one message
//! connects one device.
//!
//! Both bodies are rendered from one structure, so they always say the same
//! thing; every value put into the HTML is escaped.

use std::fmt::Write as _;

use mdm_model::EmailAddress;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::error::Result;
use crate::link::InvitationLink;
use crate::qr::DEFAULT_MODULE_PX;

/// A language the instruction message is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Language {
    /// English.
    English,
    /// Japanese.
    Japanese,
    /// Russian.
    Russian,
}

impl Language {
    /// Every language, in a fixed order.
    pub const ALL: [Language; 3] = [Language::English, Language::Japanese, Language::Russian];

    /// The BCP 47 tag (`en`, `ja`, `ru`).
    #[must_use]
    pub fn tag(self) -> &'static str {
        match self {
            Self::English => "en",
            Self::Japanese => "ja",
            Self::Russian => "ru",
        }
    }

    /// The language of a BCP 47 tag by its primary subtag (`ja-JP` →
    /// Japanese), case-insensitive; `None` for languages we do not write.
    #[must_use]
    pub fn from_tag(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Self::English),
            "ja" => Some(Self::Japanese),
            "ru" => Some(Self::Russian),
            _ => None,
        }
    }

    /// The first language we write from an `Accept-Language` header, in
    /// the header's order of preference (q-values honoured), else English.
    #[must_use]
    pub fn negotiate(accept_language: &str) -> Self {
        let mut choices: Vec<(u16, usize, Self)> = accept_language
            .split(',')
            .take(32)
            .enumerate()
            .filter_map(|(i, item)| {
                let mut parts = item.split(';');
                let lang = Self::from_tag(parts.next()?)?;
                let q =
                    parts
                        .find_map(|p| p.trim().strip_prefix("q="))
                        .map_or(Some(1000), |q| {
                            q.trim()
                                .parse::<f32>()
                                .ok()
                                .map(|q| (q.clamp(0.0, 1.0) * 1000.0) as u16)
                        })?;
                (q > 0).then_some((q, i, lang))
            })
            .collect();
        choices.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        choices.first().map_or(Self::English, |c| c.2)
    }
}

/// How Android devices get the agent after opening the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AndroidDelivery {
    /// The store listing (Google Play), as the manuals describe.
    Store,
    /// A standalone installation package with the server address embedded.
    StandalonePackage,
}

/// What the message says besides the fixed steps.
#[derive(Debug, Clone)]
pub struct MessageDetails<'a> {
    /// The management service's name (e.g. "Example MDM Cloud").
    pub service_name: &'a str,
    /// The agent app's name (e.g. "Example Agent for Android").
    pub agent_name: &'a str,
    /// The company (workspace) that sends the invitation.
    pub company: &'a str,
    /// The recipient's account name, used in the greeting.
    pub account: &'a str,
    /// The invitation link.
    pub link: &'a InvitationLink,
    /// When the invitation expires.
    pub expires_at: OffsetDateTime,
    /// How Android devices get the agent.
    pub android: AndroidDelivery,
}

/// A file attached to the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Suggested file name.
    pub file_name: String,
    /// MIME type.
    pub content_type: &'static str,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// A composed instruction message.
///
/// `Debug` shows the subject and the sizes of the bodies, not the bodies:
/// they carry the invitation link, token and all.
#[derive(Clone, PartialEq, Eq)]
pub struct InstructionMessage {
    /// The language it is written in.
    pub language: Language,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body (a complete document).
    pub html: String,
    /// The invitation link as a QR code (PNG).
    pub qr: Attachment,
}

impl std::fmt::Debug for InstructionMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstructionMessage")
            .field("language", &self.language)
            .field("subject", &self.subject)
            .field("text", &format_args!("<{} bytes>", self.text.len()))
            .field("html", &format_args!("<{} bytes>", self.html.len()))
            .field("qr", &self.qr)
            .finish()
    }
}

/// One block of the message body.
enum Block {
    Paragraph(String),
    /// Numbered steps; each step a lead sentence and optional sub-items,
    /// each sub-item a title and paragraphs.
    Steps(Vec<Step>),
}

struct Step {
    lead: String,
    link: Option<String>,
    items: Vec<(String, Vec<String>)>,
}

/// Composes the message in `language`, with the link's QR code attached.
///
/// # Errors
/// [`crate::PackagesError::QrCode`] if the link does not fit a QR code.
pub fn compose_instructions(
    language: Language,
    details: &MessageDetails<'_>,
) -> Result<InstructionMessage> {
    let qr = details.link.qr_code()?;
    let png = qr.to_png(DEFAULT_MODULE_PX)?;
    let copy = strings(language);
    let expires = format_expiry(details.expires_at);
    let values = [
        ("service", details.service_name),
        ("agent", details.agent_name),
        ("company", details.company),
        ("account", details.account),
        ("expires", expires.as_str()),
    ];
    let fill = |template: &str| fill_template(template, &values);
    let link = details.link.to_string();
    let android: Vec<String> = match details.android {
        AndroidDelivery::Store => copy.android_store.iter().map(|t| fill(t)).collect(),
        AndroidDelivery::StandalonePackage => {
            copy.android_package.iter().map(|t| fill(t)).collect()
        }
    };
    let blocks = vec![
        Block::Paragraph(fill(copy.greeting)),
        Block::Paragraph(fill(copy.intro)),
        Block::Steps(vec![
            Step {
                lead: fill(copy.step_open),
                link: Some(link),
                items: Vec::new(),
            },
            Step {
                lead: fill(copy.step_detect),
                link: None,
                items: vec![
                    (fill(copy.android_title), android),
                    (
                        fill(copy.apple_title),
                        copy.apple.iter().map(|t| fill(t)).collect(),
                    ),
                ],
            },
            Step {
                lead: fill(copy.step_done),
                link: None,
                items: Vec::new(),
            },
        ]),
        Block::Paragraph(fill(copy.one_device)),
        Block::Paragraph(fill(copy.expiry)),
    ];
    Ok(InstructionMessage {
        language,
        subject: fill(copy.subject),
        text: render_text(&blocks),
        html: render_html(language, &fill(copy.subject), &blocks),
        qr: Attachment {
            file_name: copy.qr_file_name.to_owned(),
            content_type: "image/png",
            bytes: png,
        },
    })
}

/// Replaces each `{name}` of `template` by its value in one pass, so a
/// value that itself contains `{…}` is left as it is.
fn fill_template(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(rest.get(..open).unwrap_or_default());
        let after = rest.get(open + 1..).unwrap_or_default();
        match after.find('}').and_then(|close| {
            let name = after.get(..close)?;
            values
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (close, *v))
        }) {
            Some((close, value)) => {
                out.push_str(value);
                rest = after.get(close + 1..).unwrap_or_default();
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn format_expiry(at: OffsetDateTime) -> String {
    let utc = at.to_offset(time::UtcOffset::UTC);
    utc.format(format_description!(
        "[year]-[month]-[day] [hour]:[minute] UTC"
    ))
    .unwrap_or_else(|_| utc.to_string())
}

fn render_text(blocks: &[Block]) -> String {
    let mut out = String::new();
    for block in blocks {
        match block {
            Block::Paragraph(p) => {
                out.push_str(p);
                out.push_str("\n\n");
            }
            Block::Steps(steps) => {
                for (n, step) in steps.iter().enumerate() {
                    let _ = writeln!(out, "{}. {}", n + 1, step.lead);
                    if let Some(link) = &step.link {
                        let _ = writeln!(out, "   {link}");
                    }
                    for (title, paragraphs) in &step.items {
                        let _ = writeln!(out, "   * {title}");
                        for p in paragraphs {
                            let _ = writeln!(out, "     {p}");
                        }
                    }
                    out.push('\n');
                }
            }
        }
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out.push('\n');
    out
}

fn render_html(language: Language, title: &str, blocks: &[Block]) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n</head>\n<body>\n",
        language.tag(),
        escape_html(title)
    );
    for block in blocks {
        match block {
            Block::Paragraph(p) => {
                let _ = writeln!(out, "<p>{}</p>", escape_html(p));
            }
            Block::Steps(steps) => {
                out.push_str("<ol>\n");
                for step in steps {
                    let _ = write!(out, "<li><p>{}</p>", escape_html(&step.lead));
                    if let Some(link) = &step.link {
                        let _ = write!(out, "\n<p><a href=\"{0}\">{0}</a></p>", escape_html(link));
                    }
                    if !step.items.is_empty() {
                        out.push_str("\n<ul>\n");
                        for (title, paragraphs) in &step.items {
                            let _ =
                                write!(out, "<li><p><strong>{}</strong></p>", escape_html(title));
                            for p in paragraphs {
                                let _ = write!(out, "<p>{}</p>", escape_html(p));
                            }
                            out.push_str("</li>\n");
                        }
                        out.push_str("</ul>\n");
                    }
                    out.push_str("</li>\n");
                }
                out.push_str("</ol>\n");
            }
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// Escapes `& < > " '` for HTML text and attribute values.
#[must_use]
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

impl InstructionMessage {
    /// The message as an RFC 5322 / MIME document ready for an MTA:
    /// `multipart/mixed` holding `multipart/alternative` (plain text, HTML)
    /// and the QR code as a PNG attachment. Header text is RFC 2047
    /// encoded, bodies base64; the boundaries derive from the content, so
    /// the same message gives the same bytes. `Date` and `Message-ID` are
    /// left to the MTA.
    #[must_use]
    pub fn to_mime(&self, from: &EmailAddress, to: &EmailAddress) -> String {
        let digest = Sha256::new()
            .chain_update(self.subject.as_bytes())
            .chain_update(self.text.as_bytes())
            .chain_update(self.html.as_bytes())
            .chain_update(&self.qr.bytes)
            .finalize();
        let tag = hex::encode(digest.get(..12).unwrap_or_default());
        let mixed = format!("mixed-{tag}");
        let alternative = format!("alt-{tag}");
        let mut out = String::new();
        let _ = write!(
            out,
            "From: {from}\r\nTo: {to}\r\nSubject: {}\r\nMIME-Version: 1.0\r\nContent-Language: {}\r\nContent-Type: multipart/mixed; boundary=\"{mixed}\"\r\n\r\n",
            encode_header(&self.subject),
            self.language.tag()
        );
        let _ = write!(
            out,
            "--{mixed}\r\nContent-Type: multipart/alternative; boundary=\"{alternative}\"\r\n\r\n"
        );
        for (kind, body) in [("text/plain", &self.text), ("text/html", &self.html)] {
            let _ = write!(
                out,
                "--{alternative}\r\nContent-Type: {kind}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}",
                base64_lines(body.as_bytes())
            );
        }
        let _ = write!(out, "--{alternative}--\r\n\r\n");
        let _ = write!(
            out,
            "--{mixed}\r\nContent-Type: {}; name=\"{1}\"\r\nContent-Disposition: attachment; filename=\"{1}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{2}",
            self.qr.content_type,
            self.qr.file_name,
            base64_lines(&self.qr.bytes)
        );
        let _ = write!(out, "--{mixed}--\r\n");
        out
    }
}

/// RFC 2047 `=?utf-8?B?…?=` words of at most 75 characters, split on
/// character boundaries, folded with CRLF + space.
fn encode_header(text: &str) -> String {
    use base64::Engine as _;
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) && text.len() <= 900 {
        return text.to_owned();
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        // 45 bytes of UTF-8 → 60 base64 characters + 12 of wrapping.
        if chunk.len() + c.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(chunk);
    }
    words
        .iter()
        .map(|w| {
            format!(
                "=?utf-8?B?{}?=",
                base64::engine::general_purpose::STANDARD.encode(w.as_bytes())
            )
        })
        .collect::<Vec<_>>()
        .join("\r\n ")
}

fn base64_lines(bytes: &[u8]) -> String {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 38 + 2);
    let mut rest = encoded.as_str();
    while !rest.is_empty() {
        let (line, tail) = rest.split_at(rest.len().min(76));
        out.push_str(line);
        out.push_str("\r\n");
        rest = tail;
    }
    out
}

/// The fixed text of one language. Placeholders: `{service}`, `{agent}`,
/// `{company}`, `{account}`, `{expires}`.
struct Strings {
    subject: &'static str,
    greeting: &'static str,
    intro: &'static str,
    step_open: &'static str,
    step_detect: &'static str,
    android_title: &'static str,
    android_store: &'static [&'static str],
    android_package: &'static [&'static str],
    apple_title: &'static str,
    apple: &'static [&'static str],
    step_done: &'static str,
    one_device: &'static str,
    expiry: &'static str,
    qr_file_name: &'static str,
}

/// Remedies shared by both Android deliveries, per language.
const EN_ANDROID_REMEDIES: [&str; 2] = [
    "If the device fails to connect to {service} during the first setup of {agent}, remove {agent} and install it again. When the app starts for the first time, you can copy the link from this message and paste it into the Server field.",
    "If {agent} was installed through KNOX Mobile Enrollment or a third-party enterprise mobility management (EMM) solution, {service} cannot manage the device. In that case remove {agent} and install it again as described here.",
];

fn strings(language: Language) -> &'static Strings {
    match language {
        Language::English => &EN,
        Language::Japanese => &JA,
        Language::Russian => &RU,
    }
}

const EN: Strings = Strings {
    subject: "Connect your mobile device to {service}",
    greeting: "Hello {account},",
    intro: "Your administrator at {company} asks you to connect your mobile device to {service}.",
    step_open: "On the device you want to connect, open the link below, or scan the attached QR code with the device's camera:",
    step_detect: "{service} detects your device's operating system (Android, iOS or iPadOS) and asks you to download the software it needs:",
    android_title: "Android device",
    android_store: &[
        "You are redirected to Google Play, which must be selected beforehand as the device's default app store. Download and install {agent}. Once {agent} is running, the device connects to {service}.",
        EN_ANDROID_REMEDIES[0],
        EN_ANDROID_REMEDIES[1],
    ],
    android_package: &[
        "The installation package of {agent} is downloaded. Allow the installation of apps from unknown sources if the device asks, then tap the package to install it. The package already holds the server's address, so the device connects to {service} by itself.",
        EN_ANDROID_REMEDIES[0],
        EN_ANDROID_REMEDIES[1],
    ],
    apple_title: "iOS or iPadOS device",
    apple: &[
        "The iOS MDM profile is downloaded automatically. Then open Settings on your device and install the downloaded profile. Once the profile is installed, the device connects to {service}.",
    ],
    step_done: "After the software is installed and running, your device appears in the list of devices in the {service} management console.",
    one_device: "With this message you can connect only one device. To connect another device, ask your administrator to send you a separate message for each device.",
    expiry: "The link is valid until {expires}.",
    qr_file_name: "invitation-qr.png",
};

const JA: Strings = Strings {
    subject: "{service} へのモバイルデバイスの接続手順",
    greeting: "{account} 様",
    intro: "{company} の管理者から、お使いのモバイルデバイスを {service} に接続するよう依頼がありました。",
    step_open: "接続するデバイスで、メッセージ内の次のリンクをクリックするか、添付の QR コードをデバイスのカメラで読み取って、セキュリティ製品をダウンロードしてインストールします:",
    step_detect: "{service} は、デバイスのオペレーティングシステムの種別(Android、iOS または iPadOS)を検出し、必要なソフトウェアをデバイスにダウンロードするように要求します:",
    android_title: "Android デバイス",
    android_store: &[
        "Google Play にリダイレクトされます。事前に、Google Play をデバイスの既定アプリストアとして選択しておく必要があります。{agent} をダウンロードしてインストールします。{agent} が実行されている場合、デバイスは {service} に接続します。",
        "{agent} の初期設定の実行中に、デバイスが {service} への接続に失敗する場合があります。この場合、{agent} を削除して、再インストールする必要があります。本製品の初回の実行時に、このメールからダウンロードリンクをコピーし、[サーバー]フィールドに貼り付けることができます。",
        "{agent} が KNOX Mobile Enrollment またはサードパーティ製のエンタープライズモビリティ管理(EMM)ソリューションを使用してインストールされている場合、{service} は Android デバイスを管理できません。この場合、この手順に従って {agent} を削除して再インストールする必要があります。",
    ],
    android_package: &[
        "{agent} のスタンドアロンインストールパッケージがダウンロードされます。デバイスから求められた場合は「不明なアプリのインストール」を許可し、パッケージをタップしてインストールします。パッケージにはサーバーのアドレスが含まれているため、デバイスは自動で {service} に接続します。",
        "{agent} の初期設定の実行中に、デバイスが {service} への接続に失敗する場合があります。この場合、{agent} を削除して、再インストールする必要があります。本製品の初回の実行時に、このメールからダウンロードリンクをコピーし、[サーバー]フィールドに貼り付けることができます。",
        "{agent} が KNOX Mobile Enrollment またはサードパーティ製のエンタープライズモビリティ管理(EMM)ソリューションを使用してインストールされている場合、{service} は Android デバイスを管理できません。この場合、この手順に従って {agent} を削除して再インストールする必要があります。",
    ],
    apple_title: "iOS / iPadOS デバイス",
    apple: &[
        "iOS MDM プロファイルが自動的にダウンロードされます。その後、デバイスの設定を開き、ダウンロードしたプロファイルをインストールします。iOS MDM プロファイルがインストールされると、デバイスは {service} に接続します。",
    ],
    step_done: "製品がインストールされて自動的に実行されると、そのデバイスが {service} 管理コンソールのデバイスのリストに表示されます。",
    one_device: "このメッセージを使用して接続できるデバイスは 1 台だけです。複数のデバイスを接続するには、デバイスごとに個別のメッセージを送信するよう管理者に依頼してください。",
    expiry: "リンクの有効期限: {expires}",
    qr_file_name: "invitation-qr.png",
};

const RU: Strings = Strings {
    subject: "Подключение мобильного устройства к {service}",
    greeting: "Здравствуйте, {account}!",
    intro: "Администратор {company} приглашает вас подключить мобильное устройство к {service}.",
    step_open: "На устройстве, которое вы хотите подключить, перейдите по ссылке в сообщении или используйте QR-код во вложении, чтобы загрузить и установить программу безопасности:",
    step_detect: "{service} определяет тип операционной системы (Android, iOS или iPadOS) устройства и предлагает загрузить на устройство необходимую программу:",
    android_title: "Android-устройство",
    android_store: &[
        "Вы будете направлены в магазин приложений Google Play. Магазин приложений Google Play должен быть заранее выбран на устройстве как магазин приложений по умолчанию. Загрузите и установите {agent}. После запуска {agent} устройство подключится к {service}.",
        "Иногда при первоначальной настройке {agent} устройство может не подключиться к {service}. В этом случае удалите {agent}, а затем установите его заново. Когда приложение запускается в первый раз, вы можете скопировать ссылку на загрузку из этого сообщения, а затем вставить ее в поле Сервер.",
        "{service} не сможет управлять устройством, если приложение {agent} было установлено через KNOX Mobile Enrollment или через сторонние EMM-решения для управления корпоративными мобильными устройствами. В этом случае удалите {agent}, а затем установите его заново, следуя этой инструкции.",
    ],
    android_package: &[
        "Будет загружен автономный установочный пакет {agent}. Если устройство попросит, разрешите установку приложений из неизвестных источников, затем нажмите на пакет, чтобы установить программу. Адрес сервера уже содержится в пакете, поэтому устройство подключится к {service} автоматически.",
        "Иногда при первоначальной настройке {agent} устройство может не подключиться к {service}. В этом случае удалите {agent}, а затем установите его заново. Когда приложение запускается в первый раз, вы можете скопировать ссылку на загрузку из этого сообщения, а затем вставить ее в поле Сервер.",
        "{service} не сможет управлять устройством, если приложение {agent} было установлено через KNOX Mobile Enrollment или через сторонние EMM-решения для управления корпоративными мобильными устройствами. В этом случае удалите {agent}, а затем установите его заново, следуя этой инструкции.",
    ],
    apple_title: "Устройство на базе iOS или iPadOS",
    apple: &[
        "iOS MDM-профиль будет загружен автоматически. После этого перейдите к настройкам на своем устройстве и установите загруженный профиль. После установки iOS MDM-профиля устройство подключится к {service}.",
    ],
    step_done: "После установки и автоматического запуска программ устройство появится в списке устройств в Консоли управления {service}.",
    one_device: "По одному сообщению с инструкцией можно подключить только одно устройство. Чтобы подключить несколько устройств, попросите администратора отправить вам отдельное сообщение для каждого устройства.",
    expiry: "Ссылка действительна до {expires}.",
    qr_file_name: "invitation-qr.png",
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::LinkBase;
    use crate::tools::run_tool;
    use mdm_model::InvitationToken;
    use time::macros::datetime;

    const TOKEN: &str = "owE8CCx17ckTWYw7qsGvoY92M_6PAUiWqy8acv-D2Lo";

    fn link() -> InvitationLink {
        LinkBase::parse("https://mdm.example.com")
            .unwrap()
            .link(InvitationToken::parse(TOKEN).unwrap())
    }

    fn details(link: &InvitationLink, android: AndroidDelivery) -> MessageDetails<'_> {
        MessageDetails {
            service_name: "Example MDM Cloud",
            agent_name: "Example Agent for Android",
            company: "Example Corp <R&D>",
            account: "taro.yamada",
            link,
            expires_at: datetime!(2026-12-05 17:00 +09:00),
            android,
        }
    }

    #[test]
    fn snapshot_of_each_language() {
        let link = link();
        for language in Language::ALL {
            let m =
                compose_instructions(language, &details(&link, AndroidDelivery::Store)).unwrap();
            assert_eq!(m.language, language);
            insta::assert_snapshot!(
                format!("message_{}", language.tag()),
                format!(
                    "Subject: {}\n\n----- text -----\n{}\n----- html -----\n{}",
                    m.subject, m.text, m.html
                )
            );
        }
    }

    #[test]
    fn standalone_package_variant_snapshot() {
        let link = link();
        let m = compose_instructions(
            Language::Japanese,
            &details(&link, AndroidDelivery::StandalonePackage),
        )
        .unwrap();
        insta::assert_snapshot!("message_ja_standalone_text", m.text);
    }

    #[test]
    fn every_message_carries_the_link_the_steps_and_the_qr() {
        let link = link();
        let expected_words: [(Language, &[&str]); 3] = [
            (
                Language::English,
                &[
                    "Google Play",
                    "Server field",
                    "KNOX Mobile Enrollment",
                    "install the downloaded profile",
                    "only one device",
                ],
            ),
            (
                Language::Japanese,
                &[
                    "Google Play",
                    "[サーバー]フィールド",
                    "KNOX Mobile Enrollment",
                    "添付の QR コード",
                    "プロファイルをインストール",
                    "1 台だけ",
                ],
            ),
            (
                Language::Russian,
                &[
                    "Google Play",
                    "поле Сервер",
                    "KNOX Mobile Enrollment",
                    "QR-код во вложении",
                    "установите загруженный профиль",
                    "только одно устройство",
                ],
            ),
        ];
        for (language, words) in expected_words {
            let m =
                compose_instructions(language, &details(&link, AndroidDelivery::Store)).unwrap();
            for body in [&m.text, &m.html] {
                assert!(body.contains(&link.to_string()), "{language:?}");
                assert!(body.contains("2026-12-05 08:00 UTC"), "{language:?}");
                for w in words {
                    assert!(body.contains(w), "{language:?} lacks {w:?}");
                }
            }
            assert!(
                m.html
                    .contains(&format!("<html lang=\"{}\">", language.tag()))
            );
            assert!(m.html.contains("Example Corp &lt;R&amp;D&gt;"));
            assert!(!m.html.contains("<R&D>"));
            assert!(m.qr.bytes.starts_with(b"\x89PNG"));
        }
    }

    #[test]
    fn placeholders_in_values_are_not_expanded() {
        let link = link();
        let mut d = details(&link, AndroidDelivery::Store);
        d.company = "{agent}";
        let m = compose_instructions(Language::English, &d).unwrap();
        assert!(m.text.contains("Your administrator at {agent} asks"));
    }

    #[test]
    fn languages_from_tags_and_headers() {
        assert_eq!(Language::from_tag("ja-JP"), Some(Language::Japanese));
        assert_eq!(Language::from_tag("RU"), Some(Language::Russian));
        assert_eq!(Language::from_tag("de"), None);
        assert_eq!(
            Language::negotiate("de-DE,ru;q=0.8,ja;q=0.9"),
            Language::Japanese
        );
        assert_eq!(Language::negotiate("ru-RU, en;q=0.5"), Language::Russian);
        assert_eq!(Language::negotiate("fr, ja;q=0"), Language::English);
        assert_eq!(Language::negotiate(""), Language::English);
    }

    /// Python's `email` package parses the MIME message; its subject,
    /// bodies and attachment match what we composed.
    const PY_MIME: &str = r#"
import email, email.policy, hashlib, html.parser, json, sys
raw = sys.stdin.buffer.read()
msg = email.message_from_bytes(raw, policy=email.policy.default)
assert msg.get_content_type() == "multipart/mixed"
text = msg.get_body(preferencelist=("plain",)).get_content()
body = msg.get_body(preferencelist=("html",)).get_content()
class Check(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.stack = []
    def handle_starttag(self, tag, attrs):
        if tag not in ("meta", "br"): self.stack.append(tag)
    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-3:])
        self.stack.pop()
c = Check(); c.feed(body); c.close()
assert c.stack == [], c.stack
atts = list(msg.iter_attachments())
assert len(atts) == 1
png = atts[0].get_content()
print(json.dumps({"subject": str(msg["subject"]), "to": str(msg["to"]), "text_sha": hashlib.sha256(text.encode()).hexdigest(),
                  "html_sha": hashlib.sha256(body.encode()).hexdigest(), "file": atts[0].get_filename(),
                  "png_sha": hashlib.sha256(png).hexdigest()}, ensure_ascii=False))
sys.stderr.buffer.write(png)
"#;

    #[test]
    fn python_email_parses_the_mime_message_and_zbarimg_reads_its_qr() {
        use sha2::Digest as _;
        let link = link();
        let from = EmailAddress::parse("mdm@example.com").unwrap();
        let to = EmailAddress::parse("taro.yamada@example.com").unwrap();
        for language in Language::ALL {
            let m =
                compose_instructions(language, &details(&link, AndroidDelivery::Store)).unwrap();
            let mime = m.to_mime(&from, &to);
            assert_eq!(mime, m.to_mime(&from, &to), "deterministic");
            assert!(mime.lines().all(|l| l.len() <= 998));
            let Some((ok, out, _)) = run_tool("python3", &["-c", PY_MIME], mime.as_bytes()) else {
                return;
            };
            assert!(ok, "python email could not parse the {language:?} message");
            let parsed: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
            let sha = |b: &[u8]| hex::encode(sha2::Sha256::digest(b));
            assert_eq!(parsed["subject"], m.subject.as_str());
            assert_eq!(parsed["to"], "taro.yamada@example.com");
            assert_eq!(parsed["text_sha"], sha(m.text.as_bytes()).as_str());
            assert_eq!(parsed["html_sha"], sha(m.html.as_bytes()).as_str());
            assert_eq!(parsed["file"], "invitation-qr.png");
            assert_eq!(parsed["png_sha"], sha(&m.qr.bytes).as_str());

            if let Some((ok, decoded, err)) = run_tool(
                "zbarimg",
                &["--raw", "-q", "-Sbinary", "png:-"],
                &m.qr.bytes,
            ) {
                assert!(ok, "zbarimg: {err}");
                assert_eq!(decoded.trim_end_matches('\n'), link.to_string());
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn language_negotiation_never_panics(header in ".{0,200}") {
            let _ = Language::negotiate(&header);
            let _ = Language::from_tag(&header);
        }
    }

    #[test]
    fn long_subjects_are_folded_into_encoded_words() {
        let encoded = encode_header(&"モバイルデバイスの接続".repeat(5));
        for line in encoded.split("\r\n") {
            assert!(line.trim_start().len() <= 75, "{line}");
        }
        assert_eq!(encode_header("Plain ASCII"), "Plain ASCII");
    }
}
