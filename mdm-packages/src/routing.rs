//! Opening an invitation link (R-IN-3): detect the device, consume the
//! invitation through the model, and answer with what the device needs.
//!
//! The order of things, so that nothing is consumed for nothing:
//!
//! 1. A malformed token is refused as unknown (the model never sees it).
//! 2. The device is detected from the request ([`detect_device`]). A
//!    `Macintosh` UA without a touch hint gets the probe page, an
//!    unsupported OS a clear answer; neither touches the invitation.
//! 3. The model decides ([`Workspace::decide_enrollment`]): unknown, used,
//!    expired or revoked invitations and iOS/iPadOS without a valid APNs
//!    certificate are refused **by the model**, which also records the
//!    refusal in its audit log. This crate does not re-check any of it.
//! 4. The artifact is built (the standalone package, or the enrollment
//!    profile from `mdm-apple` with the topic of the workspace's APNs
//!    certificate) — before consuming, so a build failure leaves the
//!    invitation usable.
//! 5. The model consumes the invitation ([`Workspace::enroll`]), creating the
//!    device record in *enrolling*, and the answer carries its id.
//!
//! [`open_link`] does all five. A server that builds artifacts on several
//! threads uses the steps themselves: [`begin_link`] (1–3, in order, with the
//! workspace), [`PendingLink::build`] (4, anywhere, without it) and
//! [`finish_link`] (5, in order); if the same link was opened twice at once,
//! the model lets only the first consume it and the second is refused.
//!
//! The OS version the model records is the one the User-Agent tells; when
//! it tells none (a desktop-class iPad in Firefox) it is recorded as `0.0.0`,
//! "unknown", until the device's first check-in or sync reports the real one.

use mdm_apple::{EnrollmentParams, ProfileSigner, enrollment_profile};
use mdm_model::PushTopic;
use mdm_model::{
    DeviceId, EnrollmentRequest, InstallSource, InvitationToken, ModelError, OsVersion, Platform,
    Refusal, Workspace,
};
use rand_core::CryptoRng;
use time::OffsetDateTime;

use crate::error::{PackagesError, Result};
use crate::message::Language;
use crate::package::{ConnectionSettings, StandalonePackage};
use crate::product::ProductDescription;
use crate::user_agent::{
    ClientHints, DetectedDevice, Detection, UnsupportedOs, detect_device, touch_probe_page,
};

/// MIME type of an unsigned or signed `.mobileconfig`.
pub const MOBILECONFIG_CONTENT_TYPE: &str = "application/x-apple-aspen-config";

/// How Android devices get the agent.
#[derive(Debug, Clone, Copy)]
pub enum AndroidRoute<'a> {
    /// Redirect to the agent's store listing (the manuals' default).
    StoreListing {
        /// The listing's URL, e.g. `https://play.google.com/store/apps/details?id=…`.
        url: &'a str,
    },
    /// Download a standalone package built for this user (R-AN-1, R-AN-2).
    StandalonePackage {
        /// The product to package.
        product: &'a ProductDescription,
        /// The bytes of its files.
        files: &'a [(&'a str, &'a [u8])],
        /// Server, CA and workspace; the user binding is set to the invited
        /// user's account.
        connection: &'a ConnectionSettings,
    },
}

/// How iOS and iPadOS devices get the enrollment profile.
///
/// The same parameters serve every device, so the identity should be SCEP
/// (each device makes its own key); a PKCS#12 identity would be shared by
/// every device that opens a link.
#[derive(Debug, Clone, Copy)]
pub struct AppleRoute<'a> {
    /// The workspace's profile parameters; the topic is replaced by the
    /// topic of the workspace's APNs certificate.
    pub params: &'a EnrollmentParams,
    /// Signs the profile (CMS) when given.
    pub signer: Option<&'a ProfileSigner>,
}

/// Where an opened link leads.
#[derive(Debug, Clone, Copy)]
pub struct LinkRoutes<'a> {
    /// Android.
    pub android: AndroidRoute<'a>,
    /// iOS and iPadOS.
    pub apple: AppleRoute<'a>,
}

/// The request that opened the link.
///
/// `Debug` does not show the token.
#[derive(Clone)]
pub struct LinkRequest<'a> {
    /// The token: the last path segment of the link.
    pub token: &'a str,
    /// The `User-Agent` header.
    pub user_agent: &'a str,
    /// Client hints and the probe page's touch points.
    pub hints: ClientHints,
}

impl std::fmt::Debug for LinkRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkRequest")
            .field("token", &format_args!("<redacted>"))
            .field("user_agent", &self.user_agent)
            .field("hints", &self.hints)
            .finish()
    }
}

/// The answer to an opened link.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum LinkAnswer {
    /// Android: redirect to the store listing. The invitation is consumed.
    AndroidStore {
        /// The device record the model created.
        device: DeviceId,
        /// Where to redirect.
        url: String,
    },
    /// Android: download this package. The invitation is consumed.
    AndroidPackage {
        /// The device record the model created.
        device: DeviceId,
        /// The package, bound to the invited user.
        package: Box<StandalonePackage>,
    },
    /// iOS/iPadOS: download this enrollment profile. The invitation is consumed.
    AppleProfile {
        /// The device record the model created.
        device: DeviceId,
        /// iOS or iPadOS.
        platform: Platform,
        /// The `.mobileconfig` bytes (CMS-signed when a signer was given).
        profile: Vec<u8>,
        /// Whether `profile` is signed.
        signed: bool,
    },
    /// The model refused; the reason says why and what to do.
    Refused(Refusal),
    /// A device we do not manage. Nothing was consumed.
    Unsupported(UnsupportedOs),
    /// A `Macintosh` UA without a touch hint: serve this page, which reloads
    /// the link with `?touch=<n>`. Nothing was consumed.
    NeedsTouchHint {
        /// The probe page (HTML).
        page: String,
    },
}

impl LinkAnswer {
    /// The HTTP status a web front end should answer with: 302 for the
    /// store, 200 for downloads and the probe page, 404 for an unknown
    /// invitation, 410 for a used, expired or revoked one, 403 for other
    /// refusals, 415 for an unsupported device.
    #[must_use]
    pub fn http_status(&self) -> u16 {
        match self {
            Self::AndroidStore { .. } => 302,
            Self::AndroidPackage { .. }
            | Self::AppleProfile { .. }
            | Self::NeedsTouchHint { .. } => 200,
            Self::Refused(Refusal::UnknownInvitation) => 404,
            Self::Refused(
                Refusal::InvitationAlreadyUsed
                | Refusal::InvitationExpired
                | Refusal::InvitationRevoked,
            ) => 410,
            Self::Refused(_) => 403,
            Self::Unsupported(_) => 415,
        }
    }

    /// What to tell the person holding the device, in `language`. The
    /// refusal texts follow the manuals' wording (seed 000/001); a refusal
    /// this crate has no translation for falls back to the model's English
    /// reason.
    #[must_use]
    pub fn explanation(&self, language: Language) -> String {
        let pick = |en: &str, ja: &str, ru: &str| {
            match language {
                Language::English => en,
                Language::Japanese => ja,
                Language::Russian => ru,
            }
            .to_owned()
        };
        match self {
            Self::AndroidStore { .. } => pick(
                "Install the agent app from the store, then open it to connect this device.",
                "ストアからエージェントアプリをダウンロードしてインストールし、起動してデバイスを接続してください。",
                "Загрузите и установите приложение-агент из магазина приложений, затем запустите его, чтобы подключить устройство.",
            ),
            Self::AndroidPackage { .. } => pick(
                "Open the downloaded installation package to install the agent; it connects to the server by itself.",
                "ダウンロードしたインストールパッケージを開いてエージェントをインストールしてください。サーバーと自動で同期します。",
                "Откройте загруженный установочный пакет, чтобы установить агент; он подключится к серверу автоматически.",
            ),
            Self::AppleProfile { .. } => pick(
                "Open Settings on your device and install the downloaded profile to connect it.",
                "デバイスの設定を開き、ダウンロードしたプロファイルをインストールしてください。",
                "Перейдите к настройкам на своем устройстве и установите загруженный профиль.",
            ),
            Self::NeedsTouchHint { .. } => pick(
                "Checking which device this is…",
                "デバイスの種類を確認しています…",
                "Определяем тип устройства…",
            ),
            Self::Unsupported(os) => pick(
                &format!(
                    "Unsupported device: {os} cannot be managed. Open the link on an Android, iOS or iPadOS device."
                ),
                &format!(
                    "サポートされていないデバイスです: {os} は管理できません。Android、iOS または iPadOS デバイスでリンクを開いてください。"
                ),
                &format!(
                    "Устройство не поддерживается: {os} не может быть подключено. Откройте ссылку на устройстве Android, iOS или iPadOS."
                ),
            ),
            Self::Refused(reason) => refusal_text(*reason, language),
        }
    }
}

fn refusal_text(reason: Refusal, language: Language) -> String {
    const NEW_INVITATION: [&str; 3] = [
        " Ask your administrator for a new invitation.",
        "管理者に新しい招待を依頼してください。",
        " Попросите администратора отправить новое приглашение.",
    ];
    const UPLOAD_APNS: [&str; 3] = [
        " Without an APNs certificate, iOS and iPadOS devices cannot be managed; your administrator must upload a valid one.",
        "APNs 証明書がないと、iOS デバイスを管理できません。管理者が有効な APNs 証明書をアップロードする必要があります。",
        " Без APNs-сертификата управление устройствами на базе iOS и iPadOS невозможно; администратор должен загрузить действующий сертификат.",
    ];
    const REINSTALL: [&str; 3] = [
        " Remove the agent and install it again from the invitation link.",
        "エージェントを削除して、招待リンクから再インストールしてください。",
        " Удалите агент, а затем установите его заново по ссылке из приглашения.",
    ];
    let i = match language {
        Language::English => 0,
        Language::Japanese => 1,
        Language::Russian => 2,
    };
    let (lead, tail): ([&str; 3], [&str; 3]) = match reason {
        Refusal::UnknownInvitation => (
            [
                "This invitation link is not valid.",
                "この招待リンクは無効です。",
                "Эта ссылка-приглашение недействительна.",
            ],
            NEW_INVITATION,
        ),
        Refusal::InvitationAlreadyUsed => (
            [
                "This invitation has already connected a device, and one message connects only one device.",
                "この招待はすでにデバイスの接続に使用されています。1 つのメッセージで接続できるデバイスは 1 台だけです。",
                "Это приглашение уже использовано: по одному сообщению можно подключить только одно устройство.",
            ],
            NEW_INVITATION,
        ),
        Refusal::InvitationExpired => (
            [
                "This invitation has expired.",
                "この招待は有効期限が切れています。",
                "Срок действия приглашения истек.",
            ],
            NEW_INVITATION,
        ),
        Refusal::InvitationRevoked => (
            [
                "Your administrator has withdrawn this invitation.",
                "この招待は管理者によって取り消されました。",
                "Администратор отозвал это приглашение.",
            ],
            NEW_INVITATION,
        ),
        Refusal::NoApnsCertificate => (
            [
                "The company has no APNs certificate.",
                "会社のワークスペースに APNs 証明書がありません。",
                "В рабочей области компании нет APNs-сертификата.",
            ],
            UPLOAD_APNS,
        ),
        Refusal::ApnsCertificateExpired => (
            [
                "The company's APNs certificate has expired.",
                "会社の APNs 証明書の有効期限が切れています。",
                "Срок действия APNs-сертификата компании истек.",
            ],
            UPLOAD_APNS,
        ),
        Refusal::ApnsCertificateNotYetValid => (
            [
                "The company's APNs certificate is not valid yet.",
                "会社の APNs 証明書はまだ有効になっていません。",
                "APNs-сертификат компании еще не действует.",
            ],
            UPLOAD_APNS,
        ),
        Refusal::InstalledThroughKnox | Refusal::InstalledThroughThirdPartyEmm => (
            [
                "The agent was installed through KNOX Mobile Enrollment or a third-party EMM solution, so the device cannot be managed.",
                "エージェントが KNOX Mobile Enrollment またはサードパーティ製の EMM ソリューションを使用してインストールされているため、デバイスを管理できません。",
                "Агент был установлен через KNOX Mobile Enrollment или стороннее EMM-решение, поэтому управлять устройством невозможно.",
            ],
            REINSTALL,
        ),
        other => return other.to_string(),
    };
    format!(
        "{}{}",
        lead.get(i).unwrap_or(&""),
        tail.get(i).unwrap_or(&"")
    )
}

/// Answers an opened invitation link; see the module documentation for the
/// order of the steps. The same as [`begin_link`], [`PendingLink::build`]
/// and [`finish_link`] in a row.
///
/// # Errors
/// [`PackagesError::AppleProfile`] or a package error when the artifact
/// cannot be built (the invitation is then left unused);
/// [`PackagesError::Model`] when the model fails for a reason other than a
/// refusal (e.g. a full workspace).
pub fn open_link<R: CryptoRng + ?Sized>(
    workspace: &mut Workspace,
    request: &LinkRequest<'_>,
    routes: &LinkRoutes<'_>,
    now: OffsetDateTime,
    rng: &mut R,
) -> Result<LinkAnswer> {
    match begin_link(workspace, request, routes, now)? {
        LinkStep::Answered(answer) => Ok(answer),
        LinkStep::Pending(pending) => {
            let built = pending.build(routes, now, rng)?;
            finish_link(workspace, built, now)
        }
    }
}

/// What the first step of opening a link ends with.
#[derive(Debug)]
pub enum LinkStep {
    /// The answer is known already: a refusal (recorded by the model), an
    /// unsupported device, or the touch probe. Nothing was consumed.
    Answered(LinkAnswer),
    /// The model accepts the enrollment; the artifact is still to be built.
    Pending(PendingLink),
}

/// Steps 1–3 of opening a link: the token, the device, the model's decision.
/// A server that builds artifacts concurrently calls this in order, then
/// [`PendingLink::build`] on any thread (it needs no workspace — building
/// and signing is the costly part), then [`finish_link`] in order.
///
/// # Errors
/// [`PackagesError::Model`] when the model fails for a reason other than a
/// refusal, or the workspace holds no APNs record for an accepted Apple device.
pub fn begin_link(
    workspace: &mut Workspace,
    request: &LinkRequest<'_>,
    routes: &LinkRoutes<'_>,
    now: OffsetDateTime,
) -> Result<LinkStep> {
    let Ok(token) = InvitationToken::parse(request.token) else {
        return Ok(LinkStep::Answered(LinkAnswer::Refused(
            Refusal::UnknownInvitation,
        )));
    };
    let device = match detect_device(request.user_agent, &request.hints) {
        Detection::Supported(device) => device,
        Detection::Unsupported(os) => return Ok(LinkStep::Answered(LinkAnswer::Unsupported(os))),
        Detection::NeedsTouchHint => {
            return Ok(LinkStep::Answered(LinkAnswer::NeedsTouchHint {
                page: touch_probe_page(
                    "Turn on JavaScript, or open this link on the device you want to connect.",
                ),
            }));
        }
    };
    let enrollment = enrollment_request(&device, &routes.android);
    if let Err(reason) = workspace.decide_enrollment(&token, &enrollment, now) {
        // Let the model record the refusal in its audit log.
        return match workspace.enroll(&token, enrollment, now) {
            Err(ModelError::EnrollmentRefused(reason)) => {
                Ok(LinkStep::Answered(LinkAnswer::Refused(reason)))
            }
            Err(source) => Err(PackagesError::Model {
                action: "enrolling",
                source,
            }),
            Ok(_) => Err(PackagesError::Model {
                action: "enrolling",
                source: ModelError::EnrollmentRefused(reason),
            }),
        };
    }
    let artifact = match (device.platform, routes.android) {
        (Platform::Android, AndroidRoute::StoreListing { url }) => {
            PendingArtifact::Store(url.to_owned())
        }
        (Platform::Android, AndroidRoute::StandalonePackage { connection, .. }) => {
            let invited = workspace
                .invitation_for(&token)
                .map(mdm_model::Invitation::user)
                .and_then(|user| workspace.user(user).ok())
                .map(|user| user.account().to_owned());
            let mut connection = connection.clone();
            connection.user = invited;
            connection.enrollment_token = None;
            PendingArtifact::Package(Box::new(connection))
        }
        (Platform::IOs | Platform::IPadOs, _) => {
            let topic = workspace
                .apns_certificate()
                .map(|record| record.topic().to_owned())
                .ok_or(PackagesError::Model {
                    action: "reading the APNs certificate",
                    source: ModelError::EnrollmentRefused(Refusal::NoApnsCertificate),
                })?;
            PendingArtifact::Profile(topic)
        }
    };
    Ok(LinkStep::Pending(PendingLink {
        token,
        enrollment,
        artifact,
    }))
}

/// An opened link the model accepted, whose artifact is not built yet.
#[derive(Debug)]
pub struct PendingLink {
    token: InvitationToken,
    enrollment: EnrollmentRequest,
    artifact: PendingArtifact,
}

#[derive(Debug)]
enum PendingArtifact {
    Store(String),
    /// The connection settings, bound to the invited user.
    Package(Box<ConnectionSettings>),
    /// The topic of the workspace's APNs certificate.
    Profile(PushTopic),
}

/// A link whose artifact is built, waiting for [`finish_link`] to consume
/// the invitation.
#[derive(Debug)]
pub struct BuiltLink {
    token: InvitationToken,
    enrollment: EnrollmentRequest,
    artifact: BuiltArtifact,
}

#[derive(Debug)]
enum BuiltArtifact {
    Store(String),
    Package(Box<StandalonePackage>),
    Profile { bytes: Vec<u8>, signed: bool },
}

impl PendingLink {
    /// The platform the opening device was detected as (the enrollment's).
    #[must_use]
    pub fn platform(&self) -> Platform {
        self.enrollment.platform
    }

    /// Step 4: builds the standalone package, or the enrollment profile from
    /// `mdm-apple` (signed when the route has a signer). Needs no workspace,
    /// so many can be built at once.
    ///
    /// # Errors
    /// [`PackagesError::AppleProfile`] or a package error; the invitation is
    /// then still unused.
    pub fn build<R: CryptoRng + ?Sized>(
        self,
        routes: &LinkRoutes<'_>,
        now: OffsetDateTime,
        rng: &mut R,
    ) -> Result<BuiltLink> {
        let artifact = match (self.artifact, routes.android) {
            (PendingArtifact::Store(url), _) => BuiltArtifact::Store(url),
            (
                PendingArtifact::Package(connection),
                AndroidRoute::StandalonePackage { product, files, .. },
            ) => BuiltArtifact::Package(Box::new(StandalonePackage::build(
                product,
                files,
                &connection,
            )?)),
            (PendingArtifact::Package(_), AndroidRoute::StoreListing { .. }) => {
                return Err(PackagesError::ConnectionSetting {
                    field: "routes",
                    problem: "the routes given to build differ from those given to begin_link"
                        .to_owned(),
                });
            }
            (PendingArtifact::Profile(topic), _) => {
                let mut params = routes.apple.params.clone();
                params.topic = topic;
                let profile =
                    enrollment_profile(&params, rng).map_err(|e| PackagesError::AppleProfile {
                        problem: e.to_string(),
                    })?;
                let (bytes, signed) = match routes.apple.signer {
                    Some(signer) => (profile.sign(signer, now), true),
                    None => (profile.to_xml(), false),
                };
                let bytes = bytes.map_err(|e| PackagesError::AppleProfile {
                    problem: e.to_string(),
                })?;
                BuiltArtifact::Profile { bytes, signed }
            }
        };
        Ok(BuiltLink {
            token: self.token,
            enrollment: self.enrollment,
            artifact,
        })
    }
}

/// Step 5: the model consumes the invitation and the answer carries the new
/// device record. If the invitation was consumed in the meantime (the same
/// link opened twice at once), the model refuses and so does the answer.
///
/// # Errors
/// [`PackagesError::Model`] when the model fails for a reason other than a
/// refusal (e.g. a full workspace).
pub fn finish_link(
    workspace: &mut Workspace,
    built: BuiltLink,
    now: OffsetDateTime,
) -> Result<LinkAnswer> {
    let platform = built.enrollment.platform;
    let device = match workspace.enroll(&built.token, built.enrollment, now) {
        Ok(device) => device,
        Err(ModelError::EnrollmentRefused(reason)) => return Ok(LinkAnswer::Refused(reason)),
        Err(source) => {
            return Err(PackagesError::Model {
                action: "enrolling",
                source,
            });
        }
    };
    Ok(match built.artifact {
        BuiltArtifact::Store(url) => LinkAnswer::AndroidStore { device, url },
        BuiltArtifact::Package(package) => LinkAnswer::AndroidPackage { device, package },
        BuiltArtifact::Profile { bytes, signed } => LinkAnswer::AppleProfile {
            device,
            platform,
            profile: bytes,
            signed,
        },
    })
}

fn enrollment_request(device: &DetectedDevice, android: &AndroidRoute<'_>) -> EnrollmentRequest {
    let install_source = match (device.platform, android) {
        (Platform::Android, AndroidRoute::StoreListing { .. }) => InstallSource::PlainApk,
        (Platform::Android, AndroidRoute::StandalonePackage { .. }) => {
            InstallSource::StandalonePackage
        }
        (Platform::IOs | Platform::IPadOs, _) => InstallSource::EnrollmentProfile,
    };
    EnrollmentRequest {
        platform: device.platform,
        os_version: device.os_version.unwrap_or(OsVersion::new(0, 0, 0)),
        model: device.model.clone().unwrap_or_default(),
        identification_number: None,
        install_source,
    }
}
