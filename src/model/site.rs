//! Sites: the deployable environments of a team.

use super::deployment::Deployment;
use super::ids::{SiteId, TeamId, UserId};
use super::text_enum::text_enum;
use serde::{Deserialize, Serialize};

/// Whether a site serves traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteState {
    Running,
    Stopped,
}

text_enum!(SiteState {
    Running => "running",
    Stopped => "stopped",
});

/// A site with what its list row and page need.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Site {
    pub id: SiteId,
    pub team_id: TeamId,
    pub name: String,
    pub slug: String,
    pub repository: String,
    pub branch: String,
    pub auto_deploy: bool,
    /// Whether pull requests of the site's own repository deploy previews.
    #[serde(default)]
    pub previews: bool,
    pub state: SiteState,
    pub parent_site_id: Option<SiteId>,
    pub created_at: i64,
    /// The deploy the site serves now, if any.
    pub current_deployment: Option<Deployment>,
    /// The operation running on the site, else the oldest one waiting.
    pub active_deployment: Option<Deployment>,
    /// Where the site's current deployment is served.
    #[serde(default)]
    pub url: Option<String>,
    /// Set while a member holds the site: nothing new goes live.
    #[serde(default)]
    pub lock: Option<SiteLock>,
    /// Bumped by every lock and unlock, so an older `site_lock` message
    /// never overwrites a newer state.
    #[serde(default)]
    pub version: i64,
    /// What its releases and capsules take on disk (the site's own page).
    #[serde(default)]
    pub disk: Option<DiskUsage>,
}

/// Who locked a site, why, and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteLock {
    pub by: Option<UserId>,
    pub by_name: String,
    pub reason: String,
    pub at: i64,
}

impl SiteLock {
    /// How a refused deploy reads: "Locked by Ada: the release is frozen".
    pub fn refusal(&self) -> String {
        lock_refusal(&self.by_name, &self.reason)
    }
}

/// "Locked by <name>: <reason>", the refusal of a deploy on a locked site.
pub fn lock_refusal(by_name: &str, reason: &str) -> String {
    format!("Locked by {by_name}: {reason}")
}

/// A site's lock as the live channel sends it (`site_lock`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteLockState {
    pub site_id: SiteId,
    pub team_id: TeamId,
    pub version: i64,
    pub lock: Option<SiteLock>,
}

/// Bytes on disk, and how many of each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiskUsage {
    pub releases: i64,
    pub release_bytes: i64,
    pub capsules: i64,
    pub capsule_bytes: i64,
}

/// Where GitHub sends a site's events and the secret it signs them with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteHooks {
    pub webhook_url: String,
    pub secret: String,
}

impl Site {
    /// Why a manual deploy would be refused now for the lock.
    pub fn lock_reason(&self) -> Option<String> {
        self.lock.as_ref().map(SiteLock::refusal)
    }

    /// Why a manual trigger would be refused now, or `None` when the site is free.
    pub fn busy_reason(&self) -> Option<String> {
        self.active_deployment.as_ref().map(|d| {
            format!(
                "\u{201c}{}\u{201d} is {}. Wait for it to finish or cancel it.",
                d.operation_name, d.status
            )
        })
    }
}
