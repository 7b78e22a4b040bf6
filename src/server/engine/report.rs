//! What a step reports back through `$FLIGHTDECK_REPORT`: `key=value`
//! lines, read after every step: `commit=<sha>`, the commit a step checked
//! out, and `commit_time=<seconds since the epoch>`, when that commit was
//! made; both are recorded on the deployment.

use crate::model::DeploymentId;
use crate::server::config::DataDir;
use crate::server::store::{Db, changes};

/// The last valid `commit=` line: 7 to 64 hex digits, lowercased.
pub fn commit_of(report: &str) -> Option<String> {
    report.lines().rev().find_map(|line| {
        let sha = line.trim().strip_prefix("commit=")?;
        ((7..=64).contains(&sha.len()) && sha.chars().all(|c| c.is_ascii_hexdigit()))
            .then(|| sha.to_ascii_lowercase())
    })
}

/// The last valid `commit_time=` line, in ms: a plain count of seconds
/// after 2000 and before 2200.
pub fn commit_time_of(report: &str) -> Option<i64> {
    report.lines().rev().find_map(|line| {
        let secs: i64 = line.trim().strip_prefix("commit_time=")?.parse().ok()?;
        (946_684_800..7_258_118_400)
            .contains(&secs)
            .then_some(secs * 1000)
    })
}

/// Reads (and empties, for the next step) the deployment's report file,
/// and records what it says; a deployment whose commit changes gets an event.
pub(super) async fn record(db: &Db, data: &DataDir, id: DeploymentId) -> Result<(), sqlx::Error> {
    let path = data.report_file(id);
    let Ok(text) = tokio::fs::read_to_string(&path).await else {
        return Ok(());
    };
    if !text.is_empty() {
        let _ = tokio::fs::write(&path, b"").await;
    }
    let Some(commit) = commit_of(&text) else {
        return Ok(());
    };
    let commit_at = commit_time_of(&text);
    let mut tx = db.pool.begin().await?;
    let changed = sqlx::query(
        "update deployments set commit_sha = $1, commit_at = $2, version = version + 1 \
         where id = $3 and status = 'running' \
         and (commit_sha is null or commit_sha <> $1 or coalesce(commit_at, -1) <> coalesce($2, -1))",
    )
    .bind(&commit)
    .bind(commit_at)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if changed.rows_affected() > 0 {
        changes::emit_deployment(db, &mut tx, id).await?;
    }
    changes::commit(db, tx).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_time_is_seconds_since_the_epoch_within_reason() {
        assert_eq!(
            commit_time_of("commit_time=1700000000\n"),
            Some(1_700_000_000_000)
        );
        assert_eq!(
            commit_time_of("commit_time=1700000000\ncommit_time=x\n"),
            Some(1_700_000_000_000)
        );
        for bad in [
            "",
            "commit_time=",
            "commit_time=-5",
            "commit_time=99999999999",
            "commit_time=1e9",
        ] {
            assert_eq!(commit_time_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_last_well_formed_commit_line_wins() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(commit_of(&format!("commit={sha}\n")).as_deref(), Some(sha));
        assert_eq!(
            commit_of(&format!("commit=abc1234\ncommit={}\n", sha.to_uppercase())).as_deref(),
            Some(sha)
        );
        assert_eq!(
            commit_of(&format!("commit={sha}\ncommit=nothex!\n")).as_deref(),
            Some(sha)
        );
        for bad in [
            "",
            "commit=",
            "commit=abc",
            "commit=$(rm -rf /)",
            "sha=abc1234",
        ] {
            assert_eq!(commit_of(bad), None, "{bad}");
        }
    }
}
