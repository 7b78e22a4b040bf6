//! What owners do with their team: invite people, change roles, remove
//! members. A removal ends that person's sessions and open sockets in the
//! team at once. Storage is `store::members` and `store::invites`.

use super::config::Config;
use super::passwords;
use super::realtime::bus::{Ended, EventBus};
use super::store::sessions::DbSessionStore;
use super::store::{Db, invites, members};
use crate::model::{Actor, AppError, InviteId, NewInvite, Role, UserId};

/// A new invite of the owner's team with `role`: the link to send, shown
/// this once (only its hash is kept). It works once, for seven days.
pub async fn invite(
    db: &Db,
    config: &Config,
    owner: &Actor,
    role: Role,
    request_host: Option<&str>,
) -> Result<NewInvite, AppError> {
    let (token, hash) = passwords::new_token();
    let (id, created_at, expires_at) =
        invites::create(db, owner.team_id, role, owner.user_id, &hash).await?;
    Ok(NewInvite {
        id,
        role,
        url: format!("{}/signup?invite={token}", config.origin(request_host)),
        token,
        created_at,
        expires_at,
    })
}

pub async fn revoke_invite(db: &Db, owner: &Actor, id: InviteId) -> Result<(), AppError> {
    invites::revoke(db, owner.team_id, id).await
}

/// Changes a member's role (never the team's last owner's).
pub async fn set_role(db: &Db, owner: &Actor, user: UserId, role: Role) -> Result<(), AppError> {
    members::set_role(db, owner.team_id, user, role).await
}

/// Removes a member (never the last owner); their sessions in the team and
/// the sockets those opened end now.
pub async fn remove(db: &Db, bus: &EventBus, owner: &Actor, user: UserId) -> Result<(), AppError> {
    members::remove(db, owner.team_id, user).await?;
    DbSessionStore::new(db.clone())
        .end_for(user, Some(owner.team_id), None)
        .await?;
    bus.end(Ended::Member {
        user,
        team: owner.team_id,
    });
    Ok(())
}
