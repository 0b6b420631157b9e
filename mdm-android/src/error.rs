//! The one error type of this crate.

/// Everything that can go wrong in `mdm-android`.
///
/// Variants fall in two families, as in rustls: **bad input** from a device, a
/// file or an administrator (malformed JSON or XML, an invalid value, an
/// unknown device) is a result to report; **refusals** (an agent installed
/// through another EMM, a certificate that does not match) are decisions the
/// server made. Every variant names what was wrong and with which input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AndroidError {
    /// A server address (FQDN or IP with an optional port) did not validate.
    #[error("server address {input:?} is invalid: {reason}")]
    InvalidServerAddress {
        /// What was given, as typed.
        input: String,
        /// Why it was refused.
        reason: &'static str,
    },

    /// A provisioning payload (QR JSON or NFC properties) is not parseable at all.
    #[error("provisioning payload is malformed: {reason}")]
    MalformedProvisioning {
        /// What the parser found.
        reason: String,
    },

    /// A required provisioning key is absent.
    #[error("provisioning key {key} is missing")]
    MissingProvisioningKey {
        /// The `android.app.extra.PROVISIONING_*` key.
        key: &'static str,
    },

    /// A provisioning key is present but its value is wrong (type or content).
    #[error("provisioning key {key} has an invalid value: {reason}")]
    InvalidProvisioningValue {
        /// The key whose value was refused.
        key: String,
        /// Why it was refused.
        reason: String,
    },

    /// An XML document (restrictions schema, manifest) is not well-formed or
    /// not the expected document.
    #[error("{document} XML is malformed at byte {position}: {reason}")]
    MalformedXml {
        /// Which document was being read (`restrictions`, `AndroidManifest.xml`).
        document: &'static str,
        /// Byte offset in the input where the problem was noticed.
        position: u64,
        /// What the reader found.
        reason: String,
    },

    /// A restriction entry in a managed-configuration schema is invalid.
    #[error("restriction {key:?} is invalid: {reason}")]
    InvalidRestriction {
        /// The restriction's key (path for nested entries, `parent/child`).
        key: String,
        /// Why it was refused.
        reason: String,
    },

    /// A managed-configuration value does not satisfy the schema.
    #[error("managed configuration value {key:?} is invalid: {reason}")]
    InvalidRestrictionValue {
        /// The key path of the offending value (`items[2]/key`).
        key: String,
        /// Why it was refused.
        reason: String,
    },

    /// An Android manifest is missing a required part or holds an invalid value.
    #[error("AndroidManifest.xml is invalid: {reason}")]
    InvalidManifest {
        /// What was wrong.
        reason: String,
    },

    /// A sync request could not be decoded.
    #[error("sync request is malformed: {reason}")]
    MalformedSyncRequest {
        /// What the decoder found (serde's message with line and column).
        reason: String,
    },

    /// A sync request names a device the workspace does not know.
    #[error("sync request from unknown device {device_id:?}")]
    UnknownDevice {
        /// The device identifier the agent sent.
        device_id: String,
    },

    /// The client-certificate fingerprint presented does not belong to the device.
    #[error("device {device_id:?} presented a client certificate that is not its own")]
    CertificateMismatch {
        /// The device identifier the agent sent.
        device_id: String,
    },

    /// A sync's `Authorization` value is not `Bearer <credential>` or
    /// `Invitation <token>` (the value itself is not repeated: it may be a secret).
    #[error("malformed agent authorization: {reason}")]
    MalformedAuthorization {
        /// What is wrong with it.
        reason: &'static str,
    },

    /// A sync that does not prove it comes from the device's agent.
    #[error("the sync for device {device_id:?} is not from its agent: {reason}")]
    AgentNotAuthenticated {
        /// The device identifier the agent sent.
        device_id: String,
        /// Why the model refused the proof.
        reason: mdm_model::AgentRefusal,
    },

    /// The agent was installed through KNOX Mobile Enrollment or another EMM
    /// and cannot be managed (R-IN-4).
    #[error("the agent on device {device_id:?} was installed through {installer}; {remedy}")]
    UnmanageableInstall {
        /// The device identifier the agent sent.
        device_id: String,
        /// Who installed it, as recognised (e.g. `KNOX Mobile Enrollment`).
        installer: String,
        /// What the user must do.
        remedy: &'static str,
    },

    /// The device is known but is not an Android device.
    #[error("device {device_id:?} is not an Android device; it syncs through Apple MDM")]
    NotAndroid {
        /// The device identifier the agent sent.
        device_id: String,
    },

    /// The device has left management (wiped or retired): the agent must
    /// remove its data and the device must be enrolled again (R-WP-1).
    #[error("device {device_id:?} has left management ({state}); enroll it again")]
    DeviceLeftManagement {
        /// The device identifier the agent sent.
        device_id: String,
        /// Its state in the model.
        state: mdm_model::DeviceState,
    },

    /// A command cannot be queued for this device.
    #[error("cannot queue {command} for device {device_id:?}: {reason}")]
    CommandRefused {
        /// The command.
        command: &'static str,
        /// The device.
        device_id: String,
        /// Why.
        reason: String,
    },

    /// The model refused an operation the sync needed.
    #[error("the model refused to {operation} for device {device_id:?}: {source}")]
    Model {
        /// What the sync was doing.
        operation: &'static str,
        /// The device identifier the agent sent.
        device_id: String,
        /// The model's own typed error.
        #[source]
        source: mdm_model::ModelError,
    },

    /// An agent registered with an invitation token that enrolled no
    /// Android device (unknown, not yet used, or revoked).
    #[error("no Android device was enrolled with this invitation token")]
    UnknownInvitation,

    /// The server's state could not be reached or kept (a store failed, a
    /// lock was poisoned): the request is not the problem; retry later.
    #[error("the server's state is unavailable: {reason}")]
    StateUnavailable {
        /// What failed.
        reason: String,
    },

    /// The endpoint's store (command queues, agents' reports, Android
    /// settings) failed: a database error, rows that cannot be read
    /// ([`mdm_model::ModelError::StoreCorrupt`]) or tables of a newer build
    /// ([`mdm_model::ModelError::StoreSchemaTooNew`]).
    #[error("the Android store failed to {operation}: {source}")]
    Store {
        /// What the endpoint was doing.
        operation: &'static str,
        /// The store's own typed error.
        #[source]
        source: mdm_model::ModelError,
    },

    /// A configuration could not be rendered (a policy value out of range for the agent).
    #[error("cannot render the agent configuration: {reason}")]
    Render {
        /// What was wrong.
        reason: String,
    },
}

impl AndroidError {
    pub(crate) fn provisioning_value(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidProvisioningValue {
            key: key.into(),
            reason: reason.into(),
        }
    }
}

impl AndroidError {
    /// The model's refusal of a server address, as this crate reports it.
    pub(crate) fn from_address(error: mdm_model::ModelError) -> Self {
        match error {
            mdm_model::ModelError::InvalidServerAddress { input, reason } => {
                Self::InvalidServerAddress { input, reason }
            }
            other => Self::InvalidServerAddress {
                input: other.to_string(),
                reason: "not a server address",
            },
        }
    }
}
