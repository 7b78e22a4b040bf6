//! GitHub webhooks at `POST /hooks/github/<site id>`: every delivery is
//! verified with HMAC-SHA256 against the site's secret before anything in
//! it is read; a push to the site's branch queues a deploy, a pull request
//! deploys a preview.

use super::engine::trigger::{Source, TriggerRequest};
use super::state::AppState;
use crate::model::validate::{self, GitRef};
use crate::model::{AppError, DeploymentId, PipelineType, SiteId, TeamId, TriggerKind};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

/// GitHub caps payloads at 25 MB; pushes and pull requests are far
/// smaller, and nothing larger is read.
pub const MAX_BODY_BYTES: usize = 5 * 1024 * 1024;

pub async fn github(
    State(state): State<AppState>,
    Path(site_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match handle(&state, &site_id, &headers, body).await {
        Ok((status, message, deployment)) => reply(status, &message, deployment),
        Err(e) => e.into_response(),
    }
}

fn reply(status: StatusCode, message: &str, deployment: Option<DeploymentId>) -> Response {
    let body = serde_json::json!({ "message": message, "deployment_id": deployment });
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

struct HookSite {
    id: SiteId,
    team_id: TeamId,
    branch: String,
    repository: String,
    auto_deploy: bool,
}

async fn handle(
    state: &AppState,
    site_id: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<(StatusCode, String, Option<DeploymentId>), AppError> {
    let site_id: SiteId = site_id.parse().map_err(|_| AppError::not_found("Site"))?;
    let row: Option<(TeamId, String, String, i64, String)> = sqlx::query_as(
        "select team_id, branch, repository, auto_deploy, webhook_secret from sites where id = $1",
    )
    .bind(site_id)
    .fetch_optional(&state.db.pool)
    .await?;
    let Some((team_id, branch, repository, auto_deploy, secret)) = row else {
        return Err(AppError::not_found("Site"));
    };
    let body = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| AppError::too_large("The payload is larger than 5 MB and was not read."))?;
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            AppError::new(
                crate::model::ErrorKind::Unauthenticated,
                "The delivery is not signed: set the webhook's secret to the one in the site's settings.",
            )
        })?;
    if !signature_matches(secret.as_bytes(), &body, signature) {
        return Err(AppError::new(
            crate::model::ErrorKind::Unauthenticated,
            "The signature does not match: the webhook's secret differs from the site's.",
        ));
    }
    let site = HookSite {
        id: site_id,
        team_id,
        branch,
        repository,
        auto_deploy: auto_deploy != 0,
    };
    let event = headers
        .get("x-github-event")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match event {
        "ping" => Ok((StatusCode::OK, "pong".into(), None)),
        "push" => push(state, &site, &body).await,
        "pull_request" => pull_request(state, &site, &body).await,
        "" => Err(AppError::invalid("The X-GitHub-Event header is missing.")),
        other => Ok((
            StatusCode::OK,
            format!("Ignored: Flightdeck does not act on {other} events."),
            None,
        )),
    }
}

/// `sha256=<hex>` compared in constant time with the HMAC of the body.
pub fn signature_matches(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex) = header.strip_prefix("sha256=") else {
        return false;
    };
    let Some(expected) = decode_hex(hex) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// The `X-Hub-Signature-256` value GitHub sends for `body`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() != 64 {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

fn parse<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, AppError> {
    serde_json::from_slice(body)
        .map_err(|e| AppError::invalid(format!("The payload is not the JSON GitHub sends: {e}.")))
}

#[derive(Deserialize)]
struct Push {
    #[serde(rename = "ref")]
    git_ref: String,
    after: String,
    #[serde(default)]
    deleted: bool,
    pusher: Option<Named>,
    sender: Option<Login>,
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

#[derive(Deserialize)]
struct Login {
    login: String,
}

async fn push(
    state: &AppState,
    site: &HookSite,
    body: &[u8],
) -> Result<(StatusCode, String, Option<DeploymentId>), AppError> {
    let push: Push = parse(body)?;
    let Some(branch) = push.git_ref.strip_prefix("refs/heads/") else {
        return Ok((StatusCode::OK, "Ignored: not a branch push.".into(), None));
    };
    if branch != site.branch {
        return Ok((
            StatusCode::OK,
            format!(
                "Ignored: the push is to {branch}; this site deploys {}.",
                site.branch
            ),
            None,
        ));
    }
    if push.deleted {
        return Ok((
            StatusCode::OK,
            "Ignored: the branch was deleted.".into(),
            None,
        ));
    }
    if !site.auto_deploy {
        return Ok((
            StatusCode::OK,
            "Ignored: auto-deploy is off for this site.".into(),
            None,
        ));
    }
    let commit = commit_sha(&push.after)?;
    let who = push
        .pusher
        .map(|p| p.name)
        .or(push.sender.map(|s| s.login))
        .unwrap_or_else(|| "GitHub".into());
    let id = queue(
        state,
        site,
        TriggerKind::Push,
        format!("Push by {}", clip(&who)),
        branch.to_string(),
        commit,
        None,
    )
    .await?;
    Ok((StatusCode::ACCEPTED, "Deploy queued.".into(), Some(id)))
}

#[derive(Deserialize)]
struct PullRequestEvent {
    action: String,
    number: i64,
    pull_request: PullRequest,
}

#[derive(Deserialize)]
struct PullRequest {
    head: Head,
    user: Option<Login>,
}

#[derive(Deserialize)]
struct Head {
    #[serde(rename = "ref")]
    git_ref: String,
    sha: String,
}

async fn pull_request(
    state: &AppState,
    site: &HookSite,
    body: &[u8],
) -> Result<(StatusCode, String, Option<DeploymentId>), AppError> {
    let event: PullRequestEvent = parse(body)?;
    if !matches!(event.action.as_str(), "opened" | "synchronize" | "reopened") {
        return Ok((
            StatusCode::OK,
            format!(
                "Ignored: pull request {} is not deployed.",
                clip(&event.action)
            ),
            None,
        ));
    }
    if !(1..=i64::from(i32::MAX)).contains(&event.number) {
        return Err(AppError::invalid("The pull request number is not valid."));
    }
    let branch = match validate::git_ref(&event.pull_request.head.git_ref)? {
        GitRef::Branch(b) | GitRef::Commit(b) => b,
    };
    let commit = commit_sha(&event.pull_request.head.sha)?;
    let who = event
        .pull_request
        .user
        .map(|u| format!(" by {}", clip(&u.login)))
        .unwrap_or_default();
    let id = queue(
        state,
        site,
        TriggerKind::PullRequest,
        format!("Pull request #{}{who}", event.number),
        branch,
        commit,
        Some(event.number),
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        "Preview deploy queued.".into(),
        Some(id),
    ))
}

fn commit_sha(raw: &str) -> Result<String, AppError> {
    if raw.len() == 40 && raw.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(raw.to_ascii_lowercase())
    } else {
        Err(AppError::invalid("The commit is not a 40-character SHA."))
    }
}

/// A name from a payload as a label: at most 100 characters.
fn clip(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(100).collect()
}

async fn queue(
    state: &AppState,
    site: &HookSite,
    trigger: TriggerKind,
    triggered_by: String,
    branch: String,
    commit: String,
    pr_number: Option<i64>,
) -> Result<DeploymentId, AppError> {
    state
        .engine
        .trigger(TriggerRequest {
            team_id: site.team_id,
            site_id: site.id,
            pipeline_type: PipelineType::Deploy,
            trigger,
            user_id: None,
            triggered_by,
            source: Source {
                branch: Some(branch),
                commit_sha: Some(commit),
                repository: Some(site.repository.clone()),
                ..Default::default()
            },
            pr_number,
            meta: serde_json::json!({}),
            retry_of: None,
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_githubs_hmac_sha256() {
        // GitHub's documented example: secret "It's a Secret to Everybody",
        // payload "Hello, World!".
        let sig = sign(b"It's a Secret to Everybody", b"Hello, World!");
        assert_eq!(
            sig,
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
        assert!(signature_matches(
            b"It's a Secret to Everybody",
            b"Hello, World!",
            &sig
        ));
        assert!(!signature_matches(b"other", b"Hello, World!", &sig));
        assert!(!signature_matches(
            b"It's a Secret to Everybody",
            b"Hello, World?",
            &sig
        ));
        for bad in ["", "sha256=", "sha1=abc", "sha256=zz", &sig[..70]] {
            assert!(!signature_matches(
                b"It's a Secret to Everybody",
                b"Hello, World!",
                bad
            ));
        }
    }
}
