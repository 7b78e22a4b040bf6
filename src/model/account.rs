//! Teams, users and memberships as the pages see them.

use super::error::AppError;
use super::ids::{InviteId, TeamId, UserId};
use super::text_enum::text_enum;
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

    /// Higher roles may do more: owner 2, member 1, viewer 0.
    pub fn rank(self) -> u8 {
        match self {
            Self::Owner => 2,
            Self::Member => 1,
            Self::Viewer => 0,
        }
    }

    /// The lower of the two: what a token made by someone of `limit` may do.
    pub fn at_most(self, limit: Role) -> Role {
        if self.rank() <= limit.rank() {
            self
        } else {
            limit
        }
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
    /// Warnings every page shows the person (a server without a sandbox,
    /// a published password not yet changed).
    #[serde(default)]
    pub notices: Vec<Notice>,
}

/// A warning shown on every page, with where to fix it when a page can.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub message: String,
    /// A page of the dashboard that fixes it (`/account`), and its label.
    pub fix: Option<(String, String)>,
}

/// A row of a team's member list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberInfo {
    pub user: UserInfo,
    pub role: Role,
    pub joined_at: i64,
}

/// Where an invite stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InviteState {
    /// Its link can still be used, once.
    Open,
    Used,
    Expired,
    Revoked,
}

text_enum!(InviteState {
    Open => "open",
    Used => "used",
    Expired => "expired",
    Revoked => "revoked",
});

/// An invite as its team's owners see it; its token is never shown again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Invite {
    pub id: InviteId,
    pub role: Role,
    pub state: InviteState,
    pub created_at: i64,
    pub expires_at: i64,
    /// Who joined with it.
    pub used_by: Option<String>,
}

/// A new invite: the link to send, shown this once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewInvite {
    pub id: InviteId,
    pub role: Role,
    /// The sign-up page with the token, to send to the person.
    pub url: String,
    pub token: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// What an invite link tells the person who opens it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InviteSummary {
    pub team_name: String,
    pub role: Role,
    pub expires_at: i64,
}

/// The signed-in person acting in a team: who they are, their role there
/// and the name their actions are recorded under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user_id: UserId,
    pub team_id: TeamId,
    pub role: Role,
    pub name: String,
}

impl Actor {
    /// Owners and members act; viewers only watch.
    pub fn require_trigger(self) -> Result<Self, AppError> {
        if self.role.can_trigger() {
            Ok(self)
        } else {
            Err(AppError::forbidden(
                "Viewers can watch deployments but not start or stop them.",
            ))
        }
    }

    pub fn require_owner(self) -> Result<Self, AppError> {
        if self.role.can_manage_members() {
            Ok(self)
        } else {
            Err(AppError::forbidden("Only a team owner can do that."))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ulid::Ulid;

    fn actor(role: Role) -> Actor {
        Actor {
            user_id: UserId(Ulid::from_parts(1, 1)),
            team_id: TeamId(Ulid::from_parts(1, 2)),
            role,
            name: "Ada".into(),
        }
    }

    #[test]
    fn viewers_watch_members_act_and_owners_manage() {
        assert!(actor(Role::Viewer).require_trigger().is_err());
        assert!(actor(Role::Member).require_trigger().is_ok());
        assert!(actor(Role::Member).require_owner().is_err());
        assert!(actor(Role::Owner).require_owner().is_ok());
        assert_eq!(Role::Owner.at_most(Role::Member), Role::Member);
        assert_eq!(Role::Viewer.at_most(Role::Owner), Role::Viewer);
        let refused = actor(Role::Viewer).require_trigger().unwrap_err();
        assert_eq!(refused.status(), 403);
    }
}
