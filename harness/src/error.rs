//! The one error type of the harness library.

/// What can stop a simulation before it reports.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HarnessError {
    /// The options do not describe a run.
    #[error("invalid option {option}: {reason}")]
    InvalidOption {
        /// The option.
        option: &'static str,
        /// Why.
        reason: String,
    },
    /// No scenario has this name.
    #[error("unknown scenario {0:?} (see `mdm-harness scenarios`)")]
    UnknownScenario(String),
    /// A certificate step of the administrator failed unexpectedly.
    #[error("certificate step {step} failed: {source}")]
    Certificates {
        /// The step.
        step: &'static str,
        /// The error from `mdm-certs`.
        source: mdm_certs::CertError,
    },
    /// A model operation the harness relies on failed unexpectedly.
    #[error("model operation {step} failed: {source}")]
    Model {
        /// The step.
        step: &'static str,
        /// The error from `mdm-model`.
        source: mdm_model::ModelError,
    },
    /// An Apple artifact could not be built or read.
    #[error("Apple step {step} failed: {message}")]
    Apple {
        /// The step.
        step: &'static str,
        /// The error from `mdm-apple`, in words.
        message: String,
    },
    /// An Android artifact could not be built or read.
    #[error("Android step {step} failed: {message}")]
    Android {
        /// The step.
        step: &'static str,
        /// The error, in words.
        message: String,
    },
    /// A durable store (`simulate --store`) failed, or does not hold what
    /// the run holds.
    #[error("store step {step} failed: {message}")]
    Store {
        /// The step.
        step: &'static str,
        /// What went wrong, in words.
        message: String,
    },
    /// A package, link, QR or message step failed.
    #[error("package step {step} failed: {message}")]
    Packages {
        /// The step.
        step: &'static str,
        /// The error, in words.
        message: String,
    },
    /// The APNs stand-in could not start or serve.
    #[error("APNs stand-in step {step} failed: {message}")]
    ApnsStandIn {
        /// The step.
        step: &'static str,
        /// What failed.
        message: String,
    },
    /// `mdm-harness serve` could not set up or run a tenant or its listener.
    #[error("serve step {step} failed: {message}")]
    Serve {
        /// The step.
        step: &'static str,
        /// What failed.
        message: String,
    },
    /// The harness broke one of its own rules (a bug).
    #[error("internal error: {0}")]
    Internal(&'static str),
    /// The simulation panicked: a bug, reported as an invariant breach.
    #[error("the simulation panicked: {0}")]
    Panicked(String),
    /// Writing an artifact or report failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

pub(crate) fn model(step: &'static str) -> impl Fn(mdm_model::ModelError) -> HarnessError {
    move |source| HarnessError::Model { step, source }
}

pub(crate) fn apple(step: &'static str) -> impl Fn(mdm_apple::AppleError) -> HarnessError {
    move |e| HarnessError::Apple {
        step,
        message: e.to_string(),
    }
}

pub(crate) fn android(step: &'static str) -> impl Fn(mdm_android::AndroidError) -> HarnessError {
    move |e| HarnessError::Android {
        step,
        message: e.to_string(),
    }
}

pub(crate) fn packages(step: &'static str) -> impl Fn(mdm_packages::PackagesError) -> HarnessError {
    move |e| HarnessError::Packages {
        step,
        message: e.to_string(),
    }
}
