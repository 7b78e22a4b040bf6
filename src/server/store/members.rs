//! A team's memberships: who belongs, with which role. A team always keeps
//! an owner: every change that could take its last one away is refused.

use super::changes::Tx;
use super::db::{Db, now_ms};
use crate::model::{AppError, MemberInfo, Role, TeamId, UserId, UserInfo};

pub async fn list_members(db: &Db, team_id: TeamId) -> Result<Vec<MemberInfo>, AppError> {
    let rows: Vec<(UserId, String, String, Role, i64)> = sqlx::query_as(
        "select u.id, u.email, u.name, m.role, m.created_at from memberships m \
         join users u on u.id = m.user_id where m.team_id = $1 order by m.created_at, u.id",
    )
    .bind(team_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, email, name, role, joined_at)| MemberInfo {
            user: UserInfo { id, email, name },
            role,
            joined_at,
        })
        .collect())
}

/// Takes the team's row lock (a write lock on SQLite) and reads the user's
/// role, refusing a change that would leave the team without an owner:
/// two owners demoting each other at once cannot both succeed.
async fn lock_and_check(
    tx: &mut Tx,
    team_id: TeamId,
    user_id: UserId,
    new_role: Option<Role>,
) -> Result<Option<Role>, AppError> {
    sqlx::query("update teams set name = name where id = $1")
        .bind(team_id)
        .execute(&mut **tx)
        .await?;
    let current: Option<(Role,)> =
        sqlx::query_as("select role from memberships where team_id = $1 and user_id = $2")
            .bind(team_id)
            .bind(user_id)
            .fetch_optional(&mut **tx)
            .await?;
    let current = current.map(|(r,)| r);
    if current == Some(Role::Owner) && new_role != Some(Role::Owner) {
        let (owners,): (i64,) = sqlx::query_as(
            "select count(*) from memberships where team_id = $1 and role = 'owner'",
        )
        .bind(team_id)
        .fetch_one(&mut **tx)
        .await?;
        if owners <= 1 {
            return Err(AppError::conflict(
                "A team needs at least one owner. Make someone else owner first.",
            ));
        }
    }
    Ok(current)
}

/// Adds an existing user to a team with a role, or changes their role if
/// they are already a member.
pub async fn add_member(db: &Db, team_id: TeamId, email: &str, role: Role) -> Result<(), AppError> {
    let row: Option<(UserId,)> = sqlx::query_as("select id from users where email = $1")
        .bind(email)
        .fetch_optional(&db.pool)
        .await?;
    let Some((user_id,)) = row else {
        return Err(AppError::invalid(
            "No Flightdeck account uses that email yet. Send them an invite link instead.",
        ));
    };
    let mut tx = db.pool.begin().await?;
    lock_and_check(&mut tx, team_id, user_id, Some(role)).await?;
    sqlx::query(
        "insert into memberships (team_id, user_id, role, created_at) values ($1, $2, $3, $4) \
         on conflict (team_id, user_id) do update set role = excluded.role",
    )
    .bind(team_id)
    .bind(user_id)
    .bind(role)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Changes a member's role; `NotFound` for someone not in the team.
pub async fn set_role(
    db: &Db,
    team_id: TeamId,
    user_id: UserId,
    role: Role,
) -> Result<(), AppError> {
    let mut tx = db.pool.begin().await?;
    if lock_and_check(&mut tx, team_id, user_id, Some(role))
        .await?
        .is_none()
    {
        return Err(AppError::not_found("Member"));
    }
    sqlx::query("update memberships set role = $1 where team_id = $2 and user_id = $3")
        .bind(role)
        .bind(team_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    if role != Role::Owner {
        revoke_invites_of(&mut tx, team_id, user_id).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Revokes the open invites a person made in the team: a link an owner
/// sent stops working once they are no longer an owner there.
async fn revoke_invites_of(tx: &mut Tx, team_id: TeamId, user_id: UserId) -> Result<(), AppError> {
    sqlx::query(
        "update invites set revoked_at = $1 where team_id = $2 and created_by = $3 \
         and used_at is null and revoked_at is null",
    )
    .bind(now_ms())
    .bind(team_id)
    .bind(user_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Removes a member from the team; `NotFound` for someone not in it.
pub async fn remove(db: &Db, team_id: TeamId, user_id: UserId) -> Result<(), AppError> {
    let mut tx = db.pool.begin().await?;
    if lock_and_check(&mut tx, team_id, user_id, None)
        .await?
        .is_none()
    {
        return Err(AppError::not_found("Member"));
    }
    sqlx::query("delete from memberships where team_id = $1 and user_id = $2")
        .bind(team_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    revoke_invites_of(&mut tx, team_id, user_id).await?;
    tx.commit().await?;
    Ok(())
}
