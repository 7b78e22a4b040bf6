//! Teams, users and memberships as the pages see them.

use super::deployment::text_enum;
use super::ids::{TeamId, UserId};
use serde::{Deserialize, Serialize};

/// What a member may do in a team.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything a member can, plus managing the team's members.
    Owner,
    /// Triggers, cancels and retries deployments; creates sites.
    Member,
    /// Watches, never triggers.
    Viewer,
}

text_enum!(Role {
    Owner => "owner",
    Member => "member",
    Viewer => "viewer",
});

impl Role {
    pub fn can_trigger(self) -> bool {
        matches!(self, Self::Owner | Self::Member)
    }

    pub fn can_manage_members(self) -> bool {
        matches!(self, Self::Owner)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Owner => "Owner",
            Self::Member => "Member",
            Self::Viewer => "Viewer",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserInfo {
    pub id: UserId,
    pub email: String,
    pub name: String,
}

/// A team the signed-in user belongs to, with their role in it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamSummary {
    pub id: TeamId,
    pub name: String,
    pub role: Role,
}

/// Who is signed in and which team they are looking at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub user: UserInfo,
    pub team: TeamSummary,
    /// Every team of the user, for the switcher.
    pub teams: Vec<TeamSummary>,
}

/// A row of a team's member list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberInfo {
    pub user: UserInfo,
    pub role: Role,
    pub joined_at: i64,
}
