//! Delivering the outbox: one worker per instance claims due
//! notifications (one instance per notification, `SKIP LOCKED`; each
//! hook's in the order they were written), posts each to its hook, and
//! records what the receiver answered: delivered,
//! due again after the back-off, or failed for good (the hook is then
//! disabled). The worker wakes when a transaction commits notifications
//! (here or, by `NOTIFY`, on another instance), when the next retry is
//! due, and at the latest every [`SAFETY_POLL`].

use super::address::{self, HookResolver};
use super::message;
use crate::model::{AppError, Delivery, NotificationId};
use crate::server::store::notifications::claims::{self as outbox, Attempt, Claimed, Outcome};
use crate::server::store::notifications::{self as stored, Payload};
use crate::server::store::{Backend, Db, now_ms};
use reqwest::header::{CONTENT_TYPE, LOCATION, USER_AGENT};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a receiver has to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// How long a claim is held: longer than a round's tries of one hook can
/// take ([`PER_HOOK`] × [`TIMEOUT`]), so only a dead instance's claims run out.
pub const HOLD: Duration = Duration::from_secs(60);
/// How many hooks one round claims notifications of...
const HOOKS_PER_ROUND: i64 = 16;
/// ...and how many of each hook's, sent one after another in order: few
/// enough that all of them fit in the hold ([`TIMEOUT`] each).
const PER_HOOK: i64 = 5;
const _: () = assert!(PER_HOOK as u64 * TIMEOUT.as_secs() < HOLD.as_secs());
/// The most of a receiver's answer kept for the log.
const EXCERPT_BYTES: usize = 512;
/// A safety net: the worker looks even when nothing woke it (a lost
/// `NOTIFY`, another instance's expired claim).
pub const SAFETY_POLL: Duration = Duration::from_secs(30);

/// Sends notifications: the HTTP client (no redirects, no proxies, a short
/// timeout, only public addresses unless allowed) and where links point.
#[derive(Clone)]
pub struct Notifier {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    client: reqwest::Client,
    /// The dashboard's origin, for links in the bodies.
    origin: String,
    allow_private: bool,
}

impl Notifier {
    pub fn new(db: Db, origin: String, allow_private: bool) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .dns_resolver(Arc::new(HookResolver { allow_private }))
            .build()
            .map_err(|e| format!("cannot build the notification client: {e}"))?;
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                client,
                origin,
                allow_private,
            }),
        })
    }

    pub fn allows_private(&self) -> bool {
        self.inner.allow_private
    }

    /// Starts this instance's worker.
    pub fn spawn(&self) {
        let notifier = self.clone();
        tokio::spawn(async move { notifier.run().await });
    }

    async fn run(self) {
        let db = &self.inner.db;
        // The only instance: whatever was held was held by a process
        // that is gone.
        if db.backend == Backend::Sqlite
            && let Err(e) = outbox::release_claims(db).await
        {
            tracing::warn!(error = %e, "cannot release the outbox's old claims");
        }
        loop {
            let claimed = match self.round().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the notification outbox");
                    0
                }
            };
            // A hook's next notification may be due as soon as this one
            // went: look again at once while there is work.
            if claimed > 0 {
                continue;
            }
            let wait = match outbox::next_due(db).await {
                Ok(Some(at)) => Duration::from_millis((at - now_ms()).max(0) as u64),
                _ => SAFETY_POLL,
            }
            .min(SAFETY_POLL);
            if wait.is_zero() {
                // Due now but not claimable: another instance holds it.
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            tokio::select! {
                _ = db.signals.outbox.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Claims a batch and delivers it: each hook's on a task of its own,
    /// in order; after a failed try, the rest of that hook's wait for its
    /// retry. Returns how many were claimed.
    async fn round(&self) -> Result<usize, sqlx::Error> {
        let claim = NotificationId::new();
        let db = &self.inner.db;
        let batch = outbox::claim(db, claim, HOLD, HOOKS_PER_ROUND, PER_HOOK).await?;
        let count = batch.iter().map(Vec::len).sum();
        let mut tasks = tokio::task::JoinSet::new();
        for group in batch {
            let notifier = self.clone();
            tasks.spawn(async move {
                for claimed in &group {
                    match notifier.deliver(claimed, claim).await {
                        Some(Outcome::Delivered) => {}
                        // Not recorded: keep the claim until it runs out,
                        // rather than sending it again at once.
                        None => break,
                        Some(_) => {
                            let db = &notifier.inner.db;
                            if let Err(e) = outbox::release(db, claim, claimed.hook_id).await {
                                tracing::warn!(error = %e, "cannot release a hook's notifications");
                            }
                            break;
                        }
                    }
                }
            });
        }
        while tasks.join_next().await.is_some() {}
        Ok(count)
    }

    /// One try of a claimed notification, recorded.
    pub async fn deliver(&self, claimed: &Claimed, claim: NotificationId) -> Option<Outcome> {
        let attempt = self.send(claimed).await;
        match outbox::record_attempt(&self.inner.db, claimed, claim, &attempt).await {
            Ok(outcome) => {
                if outcome == Outcome::GaveUp {
                    tracing::warn!(hook = %claimed.hook_id, "a notification hook kept failing and was disabled");
                }
                Some(outcome)
            }
            Err(e) => {
                // The claim runs out and the notification is tried again.
                tracing::warn!(error = %e, "cannot record a notification's delivery");
                None
            }
        }
    }

    /// Delivers one notification just written with a claim of its own
    /// (a test, a redelivery), and answers it as the log now shows it.
    pub async fn deliver_now(
        &self,
        claimed: Claimed,
        claim: NotificationId,
    ) -> Result<Delivery, AppError> {
        self.deliver(&claimed, claim).await;
        stored::delivery(&self.inner.db, claimed.team_id, claimed.id)
            .await?
            .ok_or_else(AppError::internal)
    }

    async fn send(&self, claimed: &Claimed) -> Attempt {
        let started = Instant::now();
        let failed = |error: String| Attempt {
            status: None,
            error: Some(error),
            response: None,
            duration_ms: started.elapsed().as_millis() as i64,
        };
        let url = match address::parse_url(&claimed.url) {
            Ok(url) => url,
            Err(e) => return failed(e.message),
        };
        if let Some(refusal) = address::literal_refusal(&url, self.inner.allow_private) {
            return failed(refusal.message);
        }
        let Ok(payload) = serde_json::from_str::<Payload>(&claimed.payload) else {
            return failed("The stored notification could not be read.".into());
        };
        let body = message::body(
            claimed.id,
            claimed.team_id,
            claimed.event,
            payload,
            &self.inner.origin,
        );
        let bytes = message::render(claimed.format, &body);
        let timestamp = now_ms() / 1000;
        let signature = message::signature(&claimed.secret, timestamp, &bytes);
        let sent = self
            .inner
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header(
                USER_AGENT,
                concat!("Flightdeck/", env!("CARGO_PKG_VERSION")),
            )
            .header("X-Flightdeck-Event", claimed.event.as_str())
            .header("X-Flightdeck-Delivery", claimed.id.to_string())
            .header("X-Flightdeck-Timestamp", timestamp.to_string())
            .header("X-Flightdeck-Signature-256", signature)
            .body(bytes)
            .send()
            .await;
        let mut response = match sent {
            Ok(response) => response,
            Err(e) => return failed(describe(&e)),
        };
        let status = response.status();
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut excerpt = Vec::new();
        while excerpt.len() < EXCERPT_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
                _ => break,
            }
        }
        excerpt.truncate(EXCERPT_BYTES);
        let error = if status.is_redirection() {
            Some(format!(
                "It answered a redirect{}, which is not followed: use the final URL.",
                location.map(|l| format!(" to {l}")).unwrap_or_default()
            ))
        } else if status.is_success() {
            None
        } else {
            Some(format!("It answered {status}."))
        };
        Attempt {
            status: Some(status.as_u16()),
            error,
            // Text without NUL (PostgreSQL's text cannot hold it).
            response: (!excerpt.is_empty())
                .then(|| String::from_utf8_lossy(&excerpt).replace('\0', "\u{fffd}")),
            duration_ms: started.elapsed().as_millis() as i64,
        }
    }
}

/// A failed request in a sentence: what went wrong, down to its cause
/// (our resolver's refusal, a refused connection, a timeout).
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return format!("No answer within {} s.", TIMEOUT.as_secs());
    }
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !causes.contains(&text) {
            causes.push(text);
        }
        source = cause.source();
    }
    let detail = causes.last().cloned().unwrap_or_else(|| e.to_string());
    if e.is_connect() {
        format!("Could not connect: {detail}.")
    } else {
        format!("The request failed: {detail}.")
    }
}
