//! Engine load for the benches: a team with many sites, pipelines of three
//! trivial steps that queue behind a busy site, and the wait until all
//! have ended.

use flightdeck::model::{PipelineType, SiteId, TeamId};
use flightdeck::server::engine::trigger::TriggerRequest;
use flightdeck::server::store::{Db, accounts, sites};
use std::time::{Duration, Instant};

/// A restart of three steps that each run `true`.
pub const PIPELINE: &str = "[pipelines.restart]\noperation_name = \"Bench\"\n\
    [[pipelines.restart.steps]]\nname = \"one\"\nrun = \"true\"\n\
    [[pipelines.restart.steps]]\nname = \"two\"\nrun = \"true\"\n\
    [[pipelines.restart.steps]]\nname = \"three\"\nrun = \"true\"\n";

/// A team with `n` sites.
pub async fn team_with_sites(db: &Db, n: usize) -> (TeamId, Vec<SiteId>) {
    let (_, team) = accounts::create_account(db, "bench@example.com", "B", "h", "B")
        .await
        .expect("account");
    let mut ids = Vec::new();
    for i in 0..n {
        let name = format!("site {i}");
        let site = sites::NewSite {
            team_id: team,
            name: &name,
            repository: "r",
            branch: "main",
            auto_deploy: true,
            parent_site_id: None,
        };
        ids.push(sites::insert(db, site).await.expect("site"));
    }
    (team, ids)
}

/// An automatic restart, so that it queues behind a busy site.
pub fn restart(team_id: TeamId, site_id: SiteId) -> TriggerRequest {
    TriggerRequest {
        pipeline_type: PipelineType::Restart,
        ..TriggerRequest::site_created(team_id, site_id)
    }
}

/// Waits (looking every 2 ms, so the wait itself adds little) until
/// nothing is queued or running.
pub async fn wait_all_done(db: &Db) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while Instant::now() < deadline {
        let (open,): (i64,) = sqlx::query_as(
            "select count(*) from deployments where status in ('queued', 'running')",
        )
        .fetch_one(&db.pool)
        .await
        .expect("count");
        if open == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("pipelines still running after 5 minutes");
}
