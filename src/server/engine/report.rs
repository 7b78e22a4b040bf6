//! What a step reports back through `$FLIGHTDECK_REPORT`: `key=value`
//! lines, read after every step. Today one key: `commit=<sha>`, the commit
//! a step checked out, recorded on the deployment.

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
    let mut tx = db.pool.begin().await?;
    let changed = sqlx::query(
        "update deployments set commit_sha = $1, version = version + 1 \
         where id = $2 and status = 'running' and (commit_sha is null or commit_sha <> $1)",
    )
    .bind(&commit)
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
