//! Whose live socket it is (a member's page or a wallboard link's
//! screen), what ends it, and the rechecks that find out.

use super::bus::{Ended, EventBus};
use crate::model::{ApiTokenId, TeamId, UserId, WallboardLinkId};
use crate::server::store::sessions::DbSessionStore;
use crate::server::store::{Db, accounts, api_tokens, wallboard_links};
use axum::extract::ws::{CloseFrame, close_code};
use std::time::Duration;

/// How often a socket checks that its session and membership still hold
/// (what this instance ends reaches it at once; this covers the others).
pub const RECHECK: Duration = Duration::from_secs(15);

/// How often a wallboard link's socket checks that the link is still
/// open: revoking it on another instance closes the screen's socket within
/// this time (on this instance, at once).
pub const LINK_RECHECK: Duration = Duration::from_secs(3);

/// Whose socket it is.
#[derive(Clone, Debug)]
pub enum Viewer {
    /// A signed-in member's page.
    Member {
        session_id: String,
        user_id: UserId,
        team_id: TeamId,
    },
    /// A screen holding a team's wallboard link: it reads that team's
    /// events and nothing else.
    Wallboard {
        link_id: WallboardLinkId,
        team_id: TeamId,
    },
    /// A script or the command line with an API token: its team's events.
    Token {
        token_id: ApiTokenId,
        team_id: TeamId,
    },
}

impl Viewer {
    pub(super) fn team_id(&self) -> TeamId {
        match self {
            Self::Member { team_id, .. }
            | Self::Wallboard { team_id, .. }
            | Self::Token { team_id, .. } => *team_id,
        }
    }

    pub(super) fn ended_by(&self, ended: &Ended) -> bool {
        match (self, ended) {
            (Self::Member { session_id, .. }, Ended::Sessions(ids)) => ids.contains(session_id),
            (
                Self::Member {
                    user_id, team_id, ..
                },
                Ended::Member { user, team },
            ) => user == user_id && team == team_id,
            (Self::Wallboard { link_id, .. }, Ended::WallboardLink(id)) => id == link_id,
            (Self::Token { token_id, .. }, Ended::ApiToken(id)) => id == token_id,
            _ => false,
        }
    }

    pub(super) fn recheck(&self) -> Duration {
        match self {
            Self::Member { .. } => RECHECK,
            Self::Wallboard { .. } | Self::Token { .. } => LINK_RECHECK,
        }
    }

    /// What sockets of the same session in the same team, or of the same
    /// link, share: one recheck answers for all of them for a while.
    fn check_key(&self) -> String {
        match self {
            Self::Member {
                session_id,
                team_id,
                ..
            } => format!("session:{session_id}:{team_id}"),
            Self::Wallboard { link_id, .. } => format!("link:{link_id}"),
            Self::Token { token_id, .. } => format!("token:{token_id}"),
        }
    }

    /// Whether the session still exists and its person is still a member,
    /// or the link is still open (and then records that it was seen). A
    /// session's other sockets that asked within a third of the recheck
    /// period answer for this one (a revoked session is still seen within
    /// 20 s on another instance, at once on this one).
    pub(super) async fn still_allowed(&self, db: &Db, bus: &EventBus) -> bool {
        let key = self.check_key();
        // A link's sockets each look for themselves: a revoked link must
        // close every screen within LINK_RECHECK.
        let shared = match self {
            Self::Member { .. } => RECHECK / 3,
            Self::Wallboard { .. } | Self::Token { .. } => Duration::ZERO,
        };
        if bus.allowed_within(&key, shared) {
            return true;
        }
        let allowed = self.look_up(db).await;
        if allowed {
            bus.record_allowed(key);
        }
        allowed
    }

    async fn look_up(&self, db: &Db) -> bool {
        match self {
            Self::Member {
                session_id,
                user_id,
                team_id,
            } => {
                let live = DbSessionStore::new(db.clone()).is_live(session_id).await;
                // A database hiccup is not a reason to close anyone's page.
                let member = accounts::actor(db, *user_id, *team_id).await;
                !matches!(live, Ok(false)) && !matches!(member, Ok(None))
            }
            Self::Wallboard { link_id, .. } => match wallboard_links::is_open(db, *link_id).await {
                Ok(false) => false,
                Ok(true) => {
                    let _ = wallboard_links::seen(db, *link_id).await;
                    true
                }
                Err(_) => true,
            },
            Self::Token { token_id, .. } => {
                !matches!(api_tokens::is_open(db, *token_id).await, Ok(false))
            }
        }
    }

    /// The goodbye of a socket whose session or link ended: 1008, so the
    /// page stops reconnecting (a member's goes to sign in; a wallboard
    /// says its link was revoked).
    pub(super) fn ended_frame(&self) -> CloseFrame {
        CloseFrame {
            code: close_code::POLICY,
            reason: match self {
                Self::Member { .. } => "Signed out.".into(),
                Self::Wallboard { .. } => "This wallboard link was revoked.".into(),
                Self::Token { .. } => "This API token was revoked.".into(),
            },
        }
    }
}
