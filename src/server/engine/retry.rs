//! Database writes that wait out a database that is busy, restarting or
//! briefly away, for a bounded time.

use std::future::Future;
use std::time::{Duration, Instant};

/// Tries `write` again through failures (a busy or restarting database, a
/// deadlock victim), backing off up to 2 s between tries, for at most
/// `patience`; then gives its last error.
pub(super) async fn retrying<T, F, Fut>(patience: Duration, mut write: F) -> Result<T, sqlx::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, sqlx::Error>>,
{
    let deadline = Instant::now() + patience;
    let mut wait = Duration::from_millis(50);
    loop {
        match write().await {
            Ok(value) => return Ok(value),
            Err(e) if Instant::now() + wait < deadline => {
                tracing::warn!(error = %e, "a database write failed; trying again");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(2));
            }
            Err(e) => return Err(e),
        }
    }
}
