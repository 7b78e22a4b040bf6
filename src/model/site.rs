//! Sites: the deployable environments of a team.

use super::deployment::Deployment;
use super::ids::{SiteId, TeamId};
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
}

/// Where GitHub sends a site's events and the secret it signs them with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteHooks {
    pub webhook_url: String,
    pub secret: String,
}

impl Site {
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
