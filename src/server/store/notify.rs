//! How instances sharing one PostgreSQL wake each other: every transaction
//! that writes change events also sends `NOTIFY` (delivered at commit, one
//! per channel and transaction however many events it wrote), and each
//! instance `LISTEN`s on its own connection. A notification is only a
//! hint: the publisher reads the `events` table, which stays the truth and
//! the order, and a notification lost to a dropped connection is made up
//! for by waking everything once the listener is back (and by the slow
//! polls that remain as a safety net).
//!
//! On SQLite there is one instance, and its commits wake it directly.

use crate::model::{Change, DeploymentId, DeploymentStatus};
use sqlx::postgres::PgListener;
use std::sync::Weak;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, broadcast};

/// Change events were committed.
const EVENTS: &str = "flightdeck_events";
/// Work may be claimable: a deployment was queued or a site came free.
const WORK: &str = "flightdeck_work";
/// A cancel was requested; the payload is the deployment's id.
pub(super) const CANCEL: &str = "flightdeck_cancel";
/// Notifications were written to the outbox.
pub(crate) const OUTBOX: &str = "flightdeck_outbox";

/// How long the listening connection may stay quiet before it is asked
/// whether it is still there.
const QUIET: Duration = Duration::from_secs(30);

/// What wakes this instance's publisher, scheduler and runners.
#[derive(Debug)]
pub struct Signals {
    /// Change events were committed, here or on another instance.
    pub events: Notify,
    /// A deployment may be claimable.
    pub work: Notify,
    /// A cancel was requested for this deployment, on any instance.
    pub cancels: broadcast::Sender<DeploymentId>,
    /// Notifications were committed to the outbox, here or on another
    /// instance.
    pub outbox: Notify,
    /// On SQLite: the transaction now writing has written to the outbox,
    /// so its commit wakes the deliverer (SQLite has one writer at a
    /// time, so the next commit is that transaction's).
    outbox_written: AtomicBool,
}

impl Default for Signals {
    fn default() -> Self {
        Self {
            events: Notify::new(),
            work: Notify::new(),
            cancels: broadcast::channel(256).0,
            outbox: Notify::new(),
            outbox_written: AtomicBool::new(false),
        }
    }
}

impl Signals {
    /// After a gap in listening: anything may have happened.
    fn wake_all(&self) {
        self.events.notify_one();
        self.work.notify_one();
        self.outbox.notify_one();
    }

    /// Inside a SQLite transaction that wrote notifications.
    pub(crate) fn outbox_written(&self) {
        self.outbox_written.store(true, Ordering::Release);
    }

    /// After a commit: wakes the deliverer if that transaction wrote to
    /// the outbox.
    pub(super) fn committed(&self) {
        if self.outbox_written.swap(false, Ordering::AcqRel) {
            self.outbox.notify_one();
        }
    }
}

/// The event lock alone (the key below), for a transaction that must wait
/// for every event writer: rebuilding the insights' totals.
pub(super) const EVENT_LOCK: &str = "select pg_advisory_xact_lock(7340432)";

/// Inside a transaction writing `change`: the notifications its commit
/// sends, in the statement that takes the event lock (no round trip of
/// its own). A change that queues a deployment or ends one also tells the
/// claimers.
pub(super) fn event_lock_sql(change: &Change) -> &'static str {
    let work = match change {
        Change::Deployment { deployment } => {
            (deployment.status == DeploymentStatus::Queued
                && !deployment.awaiting_approval
                && !deployment.waiting_for_unlock)
                || deployment.status.is_finished()
        }
        _ => false,
    };
    if work {
        "select pg_advisory_xact_lock(7340432), pg_notify('flightdeck_events', ''), \
         pg_notify('flightdeck_work', '')"
    } else {
        "select pg_advisory_xact_lock(7340432), pg_notify('flightdeck_events', '')"
    }
}

/// Listens until the signals are dropped (the last clone of the `Db`),
/// reconnecting with a pause when the connection fails.
pub(super) fn spawn_listener(url: String, signals: Weak<Signals>) {
    tokio::spawn(async move {
        loop {
            let Some(listener) = connect(&url).await else {
                if signals.strong_count() == 0 {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            };
            if !listen(listener, &signals).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
}

async fn connect(url: &str) -> Option<PgListener> {
    let mut listener = match PgListener::connect(url).await {
        Ok(listener) => listener,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for other instances' changes yet");
            return None;
        }
    };
    match listener.listen_all([EVENTS, WORK, CANCEL, OUTBOX]).await {
        Ok(()) => Some(listener),
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for other instances' changes yet");
            None
        }
    }
}

/// Hands notifications to the signals until the connection fails (true:
/// connect again) or the signals are gone (false).
async fn listen(mut listener: PgListener, signals: &Weak<Signals>) -> bool {
    // Whatever was committed while nobody listened is picked up now.
    match signals.upgrade() {
        Some(s) => s.wake_all(),
        None => return false,
    }
    loop {
        // A connection that died without a word (a cut cable, a failover)
        // would wait forever: after a quiet while, it must answer.
        let next = match tokio::time::timeout(QUIET, listener.try_recv()).await {
            Ok(next) => next,
            Err(_) => {
                let ping = sqlx::query("select 1").execute(&mut listener);
                match tokio::time::timeout(Duration::from_secs(5), ping).await {
                    Ok(Ok(_)) => continue,
                    _ => {
                        tracing::warn!("the listening connection does not answer; reconnecting");
                        if let Some(s) = signals.upgrade() {
                            s.wake_all();
                        }
                        return true;
                    }
                }
            }
        };
        let Some(s) = signals.upgrade() else {
            return false;
        };
        match next {
            Ok(Some(n)) => match n.channel() {
                EVENTS => s.events.notify_one(),
                WORK => s.work.notify_one(),
                OUTBOX => s.outbox.notify_one(),
                CANCEL => {
                    if let Ok(id) = n.payload().parse() {
                        let _ = s.cancels.send(id);
                    }
                }
                _ => {}
            },
            // The connection dropped; the next call reconnects. What was
            // sent in between is lost: wake everything.
            Ok(None) => {
                tracing::warn!("lost the listening connection; reconnecting");
                s.wake_all();
            }
            Err(e) => {
                tracing::warn!(error = %e, "listening for other instances' changes failed");
                s.wake_all();
                return true;
            }
        }
    }
}
