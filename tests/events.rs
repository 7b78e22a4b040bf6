//! Committed changes reach in-process subscribers in commit order.

mod common;

use common::{eventually, on_each_backend};
use flightdeck::server::config::DataDir;
use flightdeck::server::engine::pipelines::Pipelines;
use flightdeck::server::engine::trigger::TriggerRequest;
use flightdeck::server::engine::{Engine, EngineConfig};
use flightdeck::server::realtime::bus::EventBus;
use flightdeck::server::store::{accounts, sites};
use std::time::Duration;

#[tokio::test]
async fn subscribers_get_every_committed_change_once_in_order() {
    on_each_backend(|db| async move {
        let dir = tempfile::tempdir().expect("dir");
        let (_, team) = accounts::create_account(&db, "a@example.com", "A", "h", "A").await.expect("account");
        let site = sites::insert(&db, sites::NewSite { team_id: team, name: "Web", repository: "r", branch: "main", auto_deploy: true, parent_site_id: None })
            .await
            .expect("site");
        let bus = EventBus::start(db.clone()).await.expect("bus");
        let mut rx = bus.subscribe(team);
        let config = EngineConfig { max_parallel: 4, grace: Duration::from_millis(200), ..EngineConfig::new(DataDir::new(dir.path()).expect("data dir")) };
        let pipelines = Pipelines::with_overrides(
            "[pipelines.restart]\noperation_name = \"R\"\n[[pipelines.restart.steps]]\nname = \"a\"\nrun = \"echo one\"\n[[pipelines.restart.steps]]\nname = \"b\"\nrun = \"echo two\"\n",
        )
        .expect("pipelines");
        let engine = Engine::start(db.clone(), pipelines, config).await.expect("engine");
        // Automatic restarts, so all three queue on the one site.
        for _ in 0..3 {
            let restart = TriggerRequest {
                pipeline_type: flightdeck::model::PipelineType::Restart,
                ..TriggerRequest::site_created(team, site)
            };
            engine.trigger(restart).await.expect("trigger");
        }
        let (total,): (i64,) = eventually("the restarts end", Duration::from_secs(20), || async {
            let (open,): (i64,) = sqlx::query_as("select count(*) from deployments where status in ('queued','running')")
                .fetch_one(&db.pool).await.expect("count");
            if open > 0 {
                return None;
            }
            Some(sqlx::query_as("select count(*) from events").fetch_one(&db.pool).await.expect("count"))
        })
        .await;
        let mut positions = Vec::new();
        while (positions.len() as i64) < total {
            let event = tokio::time::timeout(Duration::from_secs(5), rx.next_event()).await.expect("in time").expect("event");
            assert_eq!(event.team_id, team);
            positions.push(event.position);
        }
        let expected: Vec<i64> = (1..=total).collect();
        assert_eq!(positions, expected, "every position once, in order, no gap");
        // 3 deployments x (queued, running, completed) + 2 steps x 2 changes + output chunks.
        assert!(total >= 3 * 3 + 3 * 4 + 3 * 2, "{total}");
    })
    .await;
}
