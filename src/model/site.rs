//! Sites: the deployable environments of a team.

use super::deployment::{Deployment, text_enum};
use super::ids::{SiteId, TeamId};
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
    pub state: SiteState,
    pub parent_site_id: Option<SiteId>,
    pub created_at: i64,
    /// The deploy the site serves now, if any.
    pub current_deployment: Option<Deployment>,
}
