//! Typed identifiers.
//!
//! Every entity of a workspace is addressed by its own id type, so a
//! [`DeviceId`] can never be passed where a [`UserId`] is meant. Ids are
//! dense indices (`u32`) into the workspace's tables: a lookup by id is O(1)
//! and a million devices cost four bytes each to reference.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(u32);

        impl $name {
            /// The id's number within its workspace.
            #[must_use]
            pub const fn get(self) -> u32 {
                self.0
            }

            pub(crate) const fn from_index(index: usize) -> Self {
                // Tables are bounded by `Workspace::MAX_ENTITIES`, which fits in `u32`.
                #[allow(clippy::cast_possible_truncation)]
                Self(index as u32)
            }

            pub(crate) const fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "-{}"), self.0)
            }
        }
    };
}

typed_id!(
    /// Identifies a [`User`](crate::User) of a workspace.
    UserId,
    "user"
);
typed_id!(
    /// Identifies a [`Group`](crate::Group) of a workspace.
    GroupId,
    "group"
);
typed_id!(
    /// Identifies a [`Device`](crate::Device) of a workspace.
    DeviceId,
    "device"
);
typed_id!(
    /// Identifies an [`Invitation`](crate::Invitation) of a workspace.
    InvitationId,
    "invitation"
);
typed_id!(
    /// Identifies a [`Policy`](crate::Policy) of a workspace.
    PolicyId,
    "policy"
);
typed_id!(
    /// Identifies a [`License`](crate::License) of a workspace.
    LicenseId,
    "license"
);
