//! Reserve server certificates and the rotation schedule (R-SV-1).
//!
//! The server certificate cannot renew itself. The admin issues a *reserve*
//! certificate with an activation delay; devices that sync before the start
//! date receive it; on that date it replaces the current certificate
//! whatever the old one's expiry, and a device that has not synced since the
//! reserve was issued can no longer connect (it must reinstall the agent).

use core::fmt;

use rand_core::CryptoRng;
use time::{Duration, OffsetDateTime};

use crate::authority::{CertificateAuthority, Validity};
use crate::error::{CertError, Result};
use crate::identity::CertifiedKey;
use crate::key::KeyAlgorithm;
use mdm_model::ServerHost;

/// The default delay between issuing a reserve certificate and its start date.
pub const DEFAULT_ACTIVATION_DELAY: Duration = Duration::days(30);

/// A reserve certificate's validity, counted from *issuance*.
pub const RESERVE_VALIDITY: Duration = Duration::days(365);

/// A reserve server certificate: issued now, active from a later start date,
/// valid one year from issuance.
pub struct ReserveCertificate {
    identity: CertifiedKey,
    issued_at: OffsetDateTime,
    activates_at: OffsetDateTime,
}

impl fmt::Debug for ReserveCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReserveCertificate")
            .field("identity", &self.identity)
            .field("issued_at", &self.issued_at)
            .field("activates_at", &self.activates_at)
            .finish()
    }
}

impl ReserveCertificate {
    /// The certificate and its key.
    pub fn identity(&self) -> &CertifiedKey {
        &self.identity
    }

    /// When it was issued (devices syncing from now on receive it).
    pub fn issued_at(&self) -> OffsetDateTime {
        self.issued_at
    }

    /// Its start date: from then on it replaces the current certificate.
    pub fn activates_at(&self) -> OffsetDateTime {
        self.activates_at
    }
}

impl CertificateAuthority {
    /// Issues a reserve server certificate for `address` at `now`, starting
    /// `activation_delay` later ([`DEFAULT_ACTIVATION_DELAY`] is 30 days),
    /// valid until one year after `now` (not after activation).
    pub fn issue_reserve_server_certificate<R: CryptoRng + ?Sized>(
        &self,
        address: &ServerHost,
        now: OffsetDateTime,
        activation_delay: Duration,
        algorithm: KeyAlgorithm,
        rng: &mut R,
    ) -> Result<ReserveCertificate> {
        let validity = Validity::starting(now, RESERVE_VALIDITY)?;
        let activates_at = now.saturating_add(activation_delay.max(Duration::ZERO));
        if activates_at >= validity.not_after() {
            return Err(CertError::InvalidValidity {
                not_before: activates_at,
                not_after: validity.not_after(),
            });
        }
        let identity = self.issue_server_certificate(address, validity, algorithm, rng)?;
        Ok(ReserveCertificate {
            identity,
            issued_at: now,
            activates_at,
        })
    }
}

/// Which server certificate is in force at a moment.
#[derive(Debug, Clone, Copy)]
pub enum ActiveServerCertificate<'a> {
    /// The current certificate (no reserve, or before its start date).
    Current(&'a CertifiedKey),
    /// The reserve certificate, on or after its start date.
    Reserve(&'a CertifiedKey),
    /// None: the certificate in force has expired (or not started).
    None,
}

impl<'a> ActiveServerCertificate<'a> {
    /// The certificate in force, if any.
    pub fn identity(self) -> Option<&'a CertifiedKey> {
        match self {
            Self::Current(c) | Self::Reserve(c) => Some(c),
            Self::None => None,
        }
    }
}

/// How a fleet fares through a rotation, counted from devices' last syncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct LossForecast {
    /// Devices counted.
    pub total: usize,
    /// Devices that already hold the reserve certificate.
    pub holding_reserve: usize,
    /// Devices without it that can still get it by syncing before the start date.
    pub at_risk: usize,
    /// Devices that have lost (or, with no reserve, will lose) the connection.
    pub lost: usize,
}

/// The current server certificate and, once issued, its reserve.
pub struct ServerCertificateRotation {
    current: CertifiedKey,
    reserve: Option<ReserveCertificate>,
}

impl fmt::Debug for ServerCertificateRotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerCertificateRotation")
            .field("current", &self.current)
            .field("reserve", &self.reserve)
            .finish()
    }
}

impl ServerCertificateRotation {
    /// A schedule with only the current certificate.
    pub fn new(current: CertifiedKey) -> Self {
        Self {
            current,
            reserve: None,
        }
    }

    /// Schedules `reserve` (replacing an earlier reserve). It must name the
    /// same addresses as the current certificate: a changed address is a
    /// re-issue, not a rotation.
    pub fn schedule(&mut self, reserve: ReserveCertificate) -> Result<()> {
        let names = |c: &CertifiedKey| -> Vec<String> {
            c.certificate
                .info()
                .subject_alt_names
                .iter()
                .map(|s| format!("{s:?}"))
                .collect()
        };
        let (current, next) = (names(&self.current), names(&reserve.identity));
        if current != next {
            return Err(CertError::ReserveAddressMismatch {
                current,
                reserve: next,
            });
        }
        self.reserve = Some(reserve);
        Ok(())
    }

    /// The current certificate.
    pub fn current(&self) -> &CertifiedKey {
        &self.current
    }

    /// The scheduled reserve, if any.
    pub fn reserve(&self) -> Option<&ReserveCertificate> {
        self.reserve.as_ref()
    }

    /// Which certificate is in force at `now`: the reserve from its start
    /// date on, whatever the current one's expiry.
    pub fn active_at(&self, now: OffsetDateTime) -> ActiveServerCertificate<'_> {
        match &self.reserve {
            Some(r) if now >= r.activates_at => {
                if r.identity.certificate.info().is_valid_at(now) {
                    ActiveServerCertificate::Reserve(&r.identity)
                } else {
                    ActiveServerCertificate::None
                }
            }
            _ => {
                if self.current.certificate.info().is_valid_at(now) {
                    ActiveServerCertificate::Current(&self.current)
                } else {
                    ActiveServerCertificate::None
                }
            }
        }
    }

    /// Whether a device whose last sync was at `last_sync` (`None`: never)
    /// already holds the reserve certificate.
    pub fn device_holds_reserve(&self, last_sync: Option<OffsetDateTime>) -> bool {
        match (&self.reserve, last_sync) {
            (Some(r), Some(t)) => t >= r.issued_at,
            _ => false,
        }
    }

    /// Whether that device can connect at `now`. Before the start date every
    /// device trusting the current certificate can; from it on only those
    /// that synced since the reserve was issued.
    pub fn device_can_connect(
        &self,
        last_sync: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> bool {
        match self.active_at(now) {
            ActiveServerCertificate::Current(_) => true,
            ActiveServerCertificate::Reserve(_) => self.device_holds_reserve(last_sync),
            ActiveServerCertificate::None => false,
        }
    }

    /// Counts, at `now`, devices already holding the reserve, those at risk
    /// (can still sync before the start date) and those lost.
    pub fn forecast<I>(&self, last_syncs: I, now: OffsetDateTime) -> LossForecast
    where
        I: IntoIterator<Item = Option<OffsetDateTime>>,
    {
        let mut f = LossForecast::default();
        for last_sync in last_syncs {
            f.total += 1;
            if self.device_holds_reserve(last_sync) {
                f.holding_reserve += 1;
            } else if self.device_can_connect(last_sync, now) {
                f.at_risk += usize::from(self.reserve.is_some());
            } else {
                f.lost += 1;
            }
        }
        f
    }

    /// Once the reserve is in force at `now`, makes it the current
    /// certificate and clears the reserve slot. Returns whether it did.
    pub fn complete(&mut self, now: OffsetDateTime) -> bool {
        match self.reserve.take() {
            Some(r) if now >= r.activates_at => {
                self.current = r.identity;
                true
            }
            other => {
                self.reserve = other;
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::authority::test_ca;
    use crate::key::test_keys::rng;

    const T0: OffsetDateTime = datetime!(2026-03-01 0:00 UTC);

    fn setup() -> ServerCertificateRotation {
        let ca = test_ca();
        let addr = ServerHost::parse("mdm.example.com").unwrap();
        // The current certificate would still be valid for months.
        let current = ca
            .issue_server_certificate(
                &addr,
                Validity::days(T0, 365).unwrap(),
                KeyAlgorithm::EcdsaP256,
                &mut rng(1),
            )
            .unwrap();
        let mut rot = ServerCertificateRotation::new(current);
        let issued = T0 + Duration::days(100);
        let reserve = ca
            .issue_reserve_server_certificate(
                &addr,
                issued,
                DEFAULT_ACTIVATION_DELAY,
                KeyAlgorithm::EcdsaP256,
                &mut rng(2),
            )
            .unwrap();
        rot.schedule(reserve).unwrap();
        rot
    }

    #[test]
    fn reserve_validity_counts_from_issuance() {
        let rot = setup();
        let r = rot.reserve().unwrap();
        let info = r.identity().certificate.info();
        assert_eq!(info.not_before, T0 + Duration::days(100));
        assert_eq!(info.not_after, T0 + Duration::days(465));
        assert_eq!(r.activates_at(), T0 + Duration::days(130));
    }

    #[test]
    fn reserve_replaces_current_on_start_date() {
        let rot = setup();
        let start = T0 + Duration::days(130);
        assert!(matches!(
            rot.active_at(start - Duration::seconds(1)),
            ActiveServerCertificate::Current(_)
        ));
        assert!(matches!(
            rot.active_at(start),
            ActiveServerCertificate::Reserve(_)
        ));
        assert!(matches!(
            rot.active_at(T0 + Duration::days(466)),
            ActiveServerCertificate::None
        ));
    }

    #[test]
    fn devices_that_did_not_sync_are_lost() {
        let rot = setup();
        let issued = T0 + Duration::days(100);
        let start = T0 + Duration::days(130);
        let synced = Some(issued + Duration::days(3));
        let stale = Some(issued - Duration::days(1));
        assert!(rot.device_holds_reserve(synced));
        assert!(!rot.device_holds_reserve(stale));
        assert!(!rot.device_holds_reserve(None));
        assert!(rot.device_can_connect(stale, start - Duration::days(1)));
        assert!(!rot.device_can_connect(stale, start));
        assert!(rot.device_can_connect(synced, start + Duration::days(10)));
        let fleet = [synced, stale, None, synced];
        assert_eq!(
            rot.forecast(fleet, start - Duration::days(1)),
            LossForecast {
                total: 4,
                holding_reserve: 2,
                at_risk: 2,
                lost: 0
            }
        );
        assert_eq!(
            rot.forecast(fleet, start),
            LossForecast {
                total: 4,
                holding_reserve: 2,
                at_risk: 0,
                lost: 2
            }
        );
    }

    #[test]
    fn complete_promotes_reserve() {
        let mut rot = setup();
        let start = T0 + Duration::days(130);
        assert!(!rot.complete(start - Duration::days(1)));
        assert!(rot.reserve().is_some());
        assert!(rot.complete(start));
        assert!(rot.reserve().is_none());
        assert_eq!(
            rot.current().certificate.info().not_before,
            T0 + Duration::days(100)
        );
    }

    #[test]
    fn reserve_for_other_address_is_refused() {
        let mut rot = setup();
        let ca = test_ca();
        let other = ServerHost::parse("10.1.1.1").unwrap();
        let r = ca
            .issue_reserve_server_certificate(
                &other,
                T0,
                DEFAULT_ACTIVATION_DELAY,
                KeyAlgorithm::EcdsaP256,
                &mut rng(3),
            )
            .unwrap();
        assert!(matches!(
            rot.schedule(r),
            Err(CertError::ReserveAddressMismatch { .. })
        ));
    }
}
