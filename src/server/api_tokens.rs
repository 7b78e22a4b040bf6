//! API tokens: made by a signed-in member for their team with a role no
//! higher than their own, shown once, stored hashed, and sent by scripts
//! as `Authorization: Bearer <token>`. Storage is `store::api_tokens`.

use super::passwords;
use super::realtime::bus::{Ended, EventBus};
use super::store::{Db, api_tokens};
use crate::model::integrations::token_actor_name;
use crate::model::{Actor, ApiTokenId, AppError, NewApiToken, Role, validate};

/// Every token starts with this, so a leaked one is easy to recognise
/// (secret scanners, logs) and cannot be mistaken for another secret.
pub const PREFIX: &str = "fdt_";

/// A new token of the actor's team acting as `role`. A viewer's token can
/// only watch; nobody mints a role above their own.
pub async fn create(
    db: &Db,
    actor: &Actor,
    name: &str,
    role: &str,
) -> Result<NewApiToken, AppError> {
    let name = validate::name(name, "name for the token")?;
    let role = Role::parse(role.trim())
        .ok_or_else(|| AppError::invalid("A token's role is owner, member or viewer."))?;
    if role.rank() > actor.role.rank() {
        return Err(AppError::forbidden(format!(
            "A {} cannot make a token with the {} role: choose {} or lower.",
            actor.role.as_str(),
            role.as_str(),
            actor.role.as_str()
        )));
    }
    let (secret, _) = passwords::new_token();
    let token = format!("{PREFIX}{secret}");
    let hash = passwords::token_hash(&token);
    let (id, created_at) = api_tokens::create(
        db,
        api_tokens::NewToken {
            team_id: actor.team_id,
            name: &name,
            role,
            created_by: actor.user_id,
            token_hash: &hash,
        },
    )
    .await?;
    Ok(NewApiToken {
        id,
        name,
        role,
        token,
        created_at,
    })
}

/// Revokes a token of the actor's team: the next request with it is
/// refused, and its sockets on this instance close at once (on the others
/// within [`crate::server::realtime::socket::LINK_RECHECK`]).
pub async fn revoke(
    db: &Db,
    bus: &EventBus,
    actor: &Actor,
    id: ApiTokenId,
) -> Result<(), AppError> {
    api_tokens::revoke(db, actor.team_id, id).await?;
    bus.end(Ended::ApiToken(id));
    Ok(())
}

/// Who a request's bearer token acts as.
#[derive(Clone, Debug)]
pub struct TokenActor {
    pub token_id: ApiTokenId,
    pub actor: Actor,
}

/// The actor an open token acts as, recording that it was used; `None`
/// for a token revoked, unknown, malformed, or whose maker left the team.
pub async fn authenticate(db: &Db, token: &str) -> Result<Option<TokenActor>, AppError> {
    let token = token.trim();
    let Some(secret) = token.strip_prefix(PREFIX) else {
        return Ok(None);
    };
    // 64 hex characters after the prefix; anything else is not worth a query.
    if secret.len() != 64 || !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let Some(holder) = api_tokens::open_by_hash(db, &passwords::token_hash(token)).await? else {
        return Ok(None);
    };
    let recently = holder
        .last_used_at
        .is_some_and(|at| super::store::now_ms() - at < api_tokens::USED_EVERY_MS);
    // Bookkeeping: a failed write of "last used" does not refuse the call.
    if !recently && let Err(e) = api_tokens::used(db, holder.id).await {
        tracing::warn!(error = %e.message, "cannot record an API token's use");
    }
    Ok(Some(TokenActor {
        token_id: holder.id,
        actor: Actor {
            user_id: holder.created_by,
            team_id: holder.team_id,
            role: holder.role.at_most(holder.creator_role),
            name: token_actor_name(&holder.name),
        },
    }))
}
