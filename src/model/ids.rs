//! Typed ids: every primary key is a ULID, so ids sort by creation time.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use ulid::Ulid;

/// Ids sort by creation time: a plain `Ulid::new()` is random within a
/// millisecond, so two records made in the same millisecond could list in
/// either order. One generator per process keeps them in creation order.
#[cfg(feature = "ssr")]
fn monotonic_ulid() -> Ulid {
    static GENERATOR: std::sync::Mutex<ulid::Generator> =
        std::sync::Mutex::new(ulid::Generator::new());
    let mut generator = GENERATOR.lock().unwrap_or_else(|e| e.into_inner());
    // Overflow needs 2^80 ids in one millisecond; fall back to a fresh one.
    generator.generate().unwrap_or_else(|_| Ulid::new())
}

macro_rules! ulid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub Ulid);

        /// Serialised as the 26-character ULID text.
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Ulid::from_string(&text)
                    .map(Self)
                    .map_err(|_| serde::de::Error::custom(concat!("not a valid ", stringify!($name))))
            }
        }

        impl $name {
            /// A fresh id for a record created now; later than every id
            /// this process made before, even within one millisecond.
            #[cfg(feature = "ssr")]
            pub fn new() -> Self {
                Self(monotonic_ulid())
            }

            /// The last eight characters: enough to tell records apart on screen.
            pub fn short(&self) -> String {
                let s = self.0.to_string();
                s[s.len() - 8..].to_lowercase()
            }
        }

        #[cfg(feature = "ssr")]
        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = super::error::AppError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ulid::from_string(s.trim())
                    .map(Self)
                    .map_err(|_| super::error::AppError::invalid(concat!(
                        "That is not a valid ",
                        stringify!($name),
                        "."
                    )))
            }
        }
    };
}

ulid_id!(
    /// A team: the unit that owns sites and deployments.
    TeamId
);
ulid_id!(
    /// A person who can sign in.
    UserId
);
ulid_id!(
    /// A deployable environment of a team.
    SiteId
);
ulid_id!(
    /// One pipeline run on a site.
    DeploymentId
);
ulid_id!(
    /// One ordered step of a deployment.
    StepId
);
ulid_id!(
    /// A time capsule: an archive of what a site served, kept to restore.
    CapsuleId
);
ulid_id!(
    /// An uploaded zip archive, unpacked and checked, that a deploy publishes.
    ArchiveId
);
ulid_id!(
    /// An invite to join a team.
    InviteId
);
ulid_id!(
    /// A team's read-only wallboard link, opened by a screen signed in to nothing.
    WallboardLinkId
);
ulid_id!(
    /// A team's API token, for scripts, CI and the command line.
    ApiTokenId
);
ulid_id!(
    /// Where a team's notifications are sent.
    NotificationHookId
);
ulid_id!(
    /// One notification to one hook: its delivery id, the same on every try.
    NotificationId
);
ulid_id!(
    /// One run of a Flightdeck server process: what claims and runs
    /// deployments, and holds a lease on the database while it lives.
    InstanceId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_their_text() {
        let id = SiteId(Ulid::from_parts(1_700_000_000_000, 42));
        let parsed: SiteId = id.to_string().parse().expect("parses");
        assert_eq!(parsed, id);
        assert_eq!(id.short().len(), 8);
    }

    #[test]
    fn ids_serialise_as_ulid_text() {
        let id = TeamId(Ulid::from_parts(1_700_000_000_000, 7));
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<TeamId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<TeamId>("\"nope\"").is_err());
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn ids_made_in_a_row_sort_in_creation_order() {
        let ids: Vec<DeploymentId> = (0..10_000).map(|_| DeploymentId::new()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn malformed_ids_are_refused_with_a_message() {
        let err = "not-a-ulid".parse::<DeploymentId>().unwrap_err();
        assert!(err.message.contains("DeploymentId"));
        assert!("../../etc/passwd".parse::<SiteId>().is_err());
        assert!("".parse::<TeamId>().is_err());
    }
}
