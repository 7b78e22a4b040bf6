//! GitHub webhooks (`POST /hooks/github/<site id>`, received in
//! `web::hooks`): every delivery is verified with HMAC-SHA256 against the
//! site's secret before anything in it is read; a push to the site's
//! branch queues a deploy, a pull request deploys a preview.

use super::engine::{Engine, trigger::TriggerRequest};
use super::retention;
use super::store::Db;
use super::store::sites::{self, HookTarget};
use crate::model::validate::{self, GitRef};
use crate::model::{AppError, DeploymentId, ErrorKind};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

/// GitHub caps payloads at 25 MB; pushes and pull requests are far
/// smaller, and nothing larger is read.
pub const MAX_BODY_BYTES: usize = 5 * 1024 * 1024;

/// What a delivery did, and the reply's body (`{message, deployment_id}`):
/// `accepted` (202) when it queued a deployment, otherwise acknowledged
/// (200) with why not.
#[derive(Debug, serde::Serialize)]
pub struct Delivery {
    #[serde(skip)]
    pub accepted: bool,
    pub message: String,
    pub deployment_id: Option<DeploymentId>,
}

impl Delivery {
    fn ignored(message: impl Into<String>) -> Self {
        Self {
            accepted: false,
            message: message.into(),
            deployment_id: None,
        }
    }

    fn queued(message: &str, id: DeploymentId) -> Self {
        Self {
            accepted: true,
            message: message.into(),
            deployment_id: Some(id),
        }
    }
}

/// One delivery as it arrived.
pub struct Incoming<'a> {
    /// `X-GitHub-Event`.
    pub event: &'a str,
    /// `X-GitHub-Delivery`: acted on once, whatever is sent again.
    pub delivery: Option<&'a str>,
    /// `X-Hub-Signature-256`.
    pub signature: Option<&'a str>,
    pub body: &'a [u8],
}

/// Verifies a delivery to `site` (its `X-Hub-Signature-256` against the
/// site's secret) before reading anything in it, then acts on its event,
/// once per delivery id.
pub async fn deliver(
    db: &Db,
    engine: &Engine,
    site: &HookTarget,
    incoming: Incoming<'_>,
) -> Result<Delivery, AppError> {
    let Incoming {
        event,
        delivery,
        signature,
        body,
    } = incoming;
    let signature = signature.ok_or_else(|| {
        AppError::new(
            ErrorKind::Unauthenticated,
            "The delivery is not signed: set the webhook's secret to the one in the site's settings.",
        )
    })?;
    if !signature_matches(site.secret.as_bytes(), body, signature) {
        return Err(AppError::new(
            ErrorKind::Unauthenticated,
            "The signature does not match: the webhook's secret differs from the site's.",
        ));
    }
    // A replayed delivery (the same id, signed alike) changes nothing.
    if let Some(id) = delivery.map(str::trim).filter(|d| !d.is_empty())
        && event != "ping"
    {
        if id.len() > 100 {
            return Err(AppError::invalid(
                "The X-GitHub-Delivery header is too long.",
            ));
        }
        if !sites::first_delivery(db, site.id, id).await? {
            return Ok(Delivery::ignored(
                "Ignored: this delivery was received before.",
            ));
        }
    }
    match event {
        "ping" => Ok(Delivery::ignored("pong")),
        "push" => push(engine, site, body).await,
        "pull_request" => pull_request(db, engine, site, body).await,
        "" => Err(AppError::invalid("The X-GitHub-Event header is missing.")),
        other => Ok(Delivery::ignored(format!(
            "Ignored: Flightdeck does not act on {other} events."
        ))),
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

async fn push(engine: &Engine, site: &HookTarget, body: &[u8]) -> Result<Delivery, AppError> {
    let push: Push = parse(body)?;
    let Some(branch) = push.git_ref.strip_prefix("refs/heads/") else {
        return Ok(Delivery::ignored("Ignored: not a branch push."));
    };
    if branch != site.branch {
        return Ok(Delivery::ignored(format!(
            "Ignored: the push is to {branch}; this site deploys {}.",
            site.branch
        )));
    }
    if push.deleted {
        return Ok(Delivery::ignored("Ignored: the branch was deleted."));
    }
    if !site.auto_deploy {
        return Ok(Delivery::ignored(
            "Ignored: auto-deploy is off for this site.",
        ));
    }
    let commit = commit_sha(&push.after)?;
    let who = push
        .pusher
        .map(|p| p.name)
        .or(push.sender.map(|s| s.login))
        .unwrap_or_else(|| "GitHub".into());
    let request = TriggerRequest::push(site, branch, &commit, &clip(&who));
    let id = engine.trigger(request).await?;
    Ok(Delivery::queued("Deploy queued.", id))
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
    base: Base,
    user: Option<Login>,
}

#[derive(Deserialize)]
struct Head {
    #[serde(rename = "ref")]
    git_ref: String,
    sha: String,
    /// Absent when the fork was deleted.
    repo: Option<Repo>,
}

#[derive(Deserialize)]
struct Base {
    repo: Repo,
}

#[derive(Deserialize)]
struct Repo {
    full_name: String,
}

async fn pull_request(
    db: &Db,
    engine: &Engine,
    site: &HookTarget,
    body: &[u8],
) -> Result<Delivery, AppError> {
    let event: PullRequestEvent = parse(body)?;
    if !(1..=i64::from(i32::MAX)).contains(&event.number) {
        return Err(AppError::invalid("The pull request number is not valid."));
    }
    // Closed (merged or not): its previews go, whatever the settings say
    // now, so nothing of a closed pull request stays served.
    if event.action == "closed" {
        let removed =
            retention::close_pull_request(db, engine, engine.data_dir(), site.id, event.number)
                .await?;
        return Ok(Delivery::ignored(format!(
            "Pull request #{} closed: {removed} preview(s) removed.",
            event.number
        )));
    }
    if !matches!(event.action.as_str(), "opened" | "synchronize" | "reopened") {
        return Ok(Delivery::ignored(format!(
            "Ignored: pull request {} is not deployed.",
            clip(&event.action)
        )));
    }
    if !site.auto_deploy {
        return Ok(Delivery::ignored(
            "Ignored: auto-deploy is off for this site.",
        ));
    }
    if !site.previews {
        return Ok(Delivery::ignored(
            "Ignored: pull request previews are off for this site.",
        ));
    }
    // A fork's code is a stranger's: it waits for a member's approval.
    let head_repo = event
        .pull_request
        .head
        .repo
        .as_ref()
        .map(|r| r.full_name.as_str());
    let from_fork = head_repo != Some(event.pull_request.base.repo.full_name.as_str());
    let branch = match validate::git_ref(&event.pull_request.head.git_ref)? {
        GitRef::Branch(b) | GitRef::Commit(b) => b,
    };
    let commit = commit_sha(&event.pull_request.head.sha)?;
    let author = event.pull_request.user.map(|u| clip(&u.login));
    let request = TriggerRequest::pull_request(
        site,
        &branch,
        &commit,
        event.number,
        author.as_deref(),
        from_fork,
    );
    let id = engine.trigger(request).await?;
    if from_fork {
        return Ok(Delivery::queued(
            "A pull request from a fork: its preview waits for a member's approval.",
            id,
        ));
    }
    Ok(Delivery::queued("Preview deploy queued.", id))
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
