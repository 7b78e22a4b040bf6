//! Storage rules, each checked on SQLite and on PostgreSQL.

mod common;

use common::on_each_backend;
use flightdeck::model::{CapsuleId, DeploymentMeta};
use flightdeck::model::{DeploymentId, ErrorKind, Role, SiteId, TeamId, UserId};
use flightdeck::server::store::sessions::DbSessionStore;
use flightdeck::server::store::{Db, accounts, deployments, members, now_ms, sites};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::SessionStore;

async fn account(db: &Db, email: &str, team: &str) -> (UserId, TeamId) {
    accounts::create_account(db, email, "Test User", "not-a-real-hash", team)
        .await
        .expect("account created")
}

async fn site(db: &Db, team_id: TeamId, name: &str) -> SiteId {
    sites::insert(
        db,
        sites::NewSite {
            team_id,
            name,
            repository: "https://github.com/acme/web",
            branch: "main",
            auto_deploy: true,
            parent_site_id: None,
        },
    )
    .await
    .expect("site created")
}

async fn deployment(
    db: &Db,
    team_id: TeamId,
    site_id: SiteId,
    status: &str,
) -> Result<DeploymentId, sqlx::Error> {
    let id = DeploymentId::new();
    sqlx::query(
        "insert into deployments (id, team_id, site_id, type, status, operation_name, source_kind, \
         trigger_kind, triggered_by, created_at) values ($1, $2, $3, 'deploy', $4, 'Deploy main', 'git', \
         'manual', 'Test User', $5)",
    )
    .bind(id)
    .bind(team_id)
    .bind(site_id)
    .bind(status)
    .bind(now_ms())
    .execute(&db.pool)
    .await?;
    Ok(id)
}

async fn count(db: &Db, table: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(&format!("select count(*) from {table}"))
        .fetch_one(&db.pool)
        .await
        .expect("count");
    n
}

#[tokio::test]
async fn sign_up_creates_a_user_who_owns_a_team_of_their_own() {
    on_each_backend(|db| async move {
        let (user, team) = account(&db, "ada@example.com", "Analytical").await;
        let teams = accounts::teams_of(&db, user).await.expect("teams");
        assert_eq!(teams.len(), 1);
        assert_eq!(teams[0].id, team);
        assert_eq!(teams[0].name, "Analytical");
        assert_eq!(teams[0].role, Role::Owner);
        let info = accounts::session_info(&db, user, team)
            .await
            .expect("info")
            .expect("some");
        assert_eq!(info.user.email, "ada@example.com");
    })
    .await;
}

#[tokio::test]
async fn a_taken_email_is_refused_and_creates_nothing() {
    on_each_backend(|db| async move {
        account(&db, "ada@example.com", "First").await;
        let err = accounts::create_account(&db, "ada@example.com", "Other", "hash", "Second")
            .await
            .expect_err("duplicate refused");
        assert_eq!(err.kind, ErrorKind::Conflict);
        assert!(err.message.contains("already exists"), "{}", err.message);
        assert_eq!(count(&db, "users").await, 1);
        assert_eq!(count(&db, "teams").await, 1);
        assert_eq!(count(&db, "memberships").await, 1);
    })
    .await;
}

#[tokio::test]
async fn another_team_sees_nothing_of_the_first() {
    on_each_backend(|db| async move {
        let (_, team_a) = account(&db, "a@example.com", "Team A").await;
        let (user_b, team_b) = account(&db, "b@example.com", "Team B").await;
        let site_a = site(&db, team_a, "Secret site").await;
        let dep_a = deployment(&db, team_a, site_a, "queued")
            .await
            .expect("deployment");

        assert!(sites::list(&db, team_b).await.expect("sites").is_empty());
        assert!(
            sites::get(&db, team_b, site_a)
                .await
                .expect("site")
                .is_none()
        );
        assert!(
            deployments::get(&db, team_b, dep_a)
                .await
                .expect("get")
                .is_none()
        );
        let page = deployments::list(&db, team_b, &Default::default(), None, 50)
            .await
            .expect("list");
        assert!(page.deployments.is_empty());
        let members = members::list_members(&db, team_b).await.expect("members");
        assert_eq!(members.len(), 1);
        assert_eq!(members[0].user.email, "b@example.com");
        assert!(
            accounts::role_in(&db, user_b, team_a)
                .await
                .expect("role")
                .is_none()
        );
        assert!(
            accounts::session_info(&db, user_b, team_a)
                .await
                .expect("info")
                .is_none()
        );

        // A deployment can never pair one team with another team's site.
        let err = deployment(&db, team_b, site_a, "queued")
            .await
            .expect_err("cross-team refused");
        assert!(
            err.as_database_error()
                .is_some_and(|e| e.is_foreign_key_violation()),
            "{err}"
        );

        // The first team does see its own records.
        assert_eq!(sites::list(&db, team_a).await.expect("sites").len(), 1);
        assert!(
            deployments::get(&db, team_a, dep_a)
                .await
                .expect("get")
                .is_some()
        );
    })
    .await;
}

#[tokio::test]
async fn the_database_refuses_a_second_running_deployment_on_one_site() {
    on_each_backend(|db| async move {
        let (_, team) = account(&db, "a@example.com", "Team").await;
        let site_id = site(&db, team, "Web").await;
        let other_site = site(&db, team, "Docs").await;
        deployment(&db, team, site_id, "running")
            .await
            .expect("first running");
        let err = deployment(&db, team, site_id, "running")
            .await
            .expect_err("second refused");
        assert!(
            err.as_database_error()
                .is_some_and(|e| e.is_unique_violation()),
            "{err}"
        );
        // Queued ones may wait, and other sites run freely.
        deployment(&db, team, site_id, "queued")
            .await
            .expect("queued");
        deployment(&db, team, other_site, "running")
            .await
            .expect("other site");
    })
    .await;
}

#[tokio::test]
async fn a_site_has_at_most_one_current_deployment_and_it_must_exist() {
    on_each_backend(|db| async move {
        let (_, team) = account(&db, "a@example.com", "Team").await;
        let web = site(&db, team, "Web").await;
        let docs = site(&db, team, "Docs").await;
        let dep = deployment(&db, team, web, "completed")
            .await
            .expect("deployment");
        let set_current = |site: SiteId, dep: String| {
            let pool = db.pool.clone();
            async move {
                sqlx::query("update sites set current_deployment_id = $1 where id = $2")
                    .bind(dep)
                    .bind(site)
                    .execute(&pool)
                    .await
            }
        };
        set_current(web, dep.to_string())
            .await
            .expect("current set");
        let err = set_current(docs, dep.to_string())
            .await
            .expect_err("shared current refused");
        assert!(
            err.as_database_error()
                .is_some_and(|e| e.is_unique_violation()),
            "{err}"
        );
        let err = set_current(docs, DeploymentId::new().to_string())
            .await
            .expect_err("dangling refused");
        assert!(
            err.as_database_error()
                .is_some_and(|e| e.is_foreign_key_violation()),
            "{err}"
        );
        let listed = sites::list(&db, team).await.expect("sites");
        let web_site = listed.iter().find(|s| s.id == web).expect("web");
        assert_eq!(
            web_site.current_deployment.as_ref().map(|d| d.id),
            Some(dep)
        );
        assert!(
            web_site
                .current_deployment
                .as_ref()
                .is_some_and(|d| d.is_current)
        );
    })
    .await;
}

#[tokio::test]
async fn history_pages_are_newest_first_and_follow_the_cursor() {
    on_each_backend(|db| async move {
        let (_, team) = account(&db, "a@example.com", "Team").await;
        let web = site(&db, team, "Web").await;
        let mut ids = Vec::new();
        for _ in 0..5 {
            ids.push(
                deployment(&db, team, web, "failed")
                    .await
                    .expect("deployment"),
            );
        }
        ids.reverse();
        let first = deployments::list(&db, team, &Default::default(), None, 2)
            .await
            .expect("page 1");
        assert_eq!(
            first.deployments.iter().map(|d| d.id).collect::<Vec<_>>(),
            ids[..2]
        );
        let second = deployments::list(&db, team, &Default::default(), first.next_cursor, 2)
            .await
            .expect("page 2");
        assert_eq!(
            second.deployments.iter().map(|d| d.id).collect::<Vec<_>>(),
            ids[2..4]
        );
        let third = deployments::list(&db, team, &Default::default(), second.next_cursor, 2)
            .await
            .expect("page 3");
        assert_eq!(third.deployments.len(), 1);
        assert!(third.next_cursor.is_none());
    })
    .await;
}

#[tokio::test]
async fn owners_add_members_by_email_and_a_team_keeps_an_owner() {
    on_each_backend(|db| async move {
        let (owner, team) = account(&db, "owner@example.com", "Team").await;
        let (grace, _) = account(&db, "grace@example.com", "Grace's").await;
        members::add_member(&db, team, "grace@example.com", Role::Viewer)
            .await
            .expect("added");
        assert_eq!(
            accounts::role_in(&db, grace, team).await.expect("role"),
            Some(Role::Viewer)
        );
        assert_eq!(
            accounts::teams_of(&db, grace).await.expect("teams").len(),
            2
        );
        members::add_member(&db, team, "grace@example.com", Role::Member)
            .await
            .expect("role changed");
        assert_eq!(
            accounts::role_in(&db, grace, team).await.expect("role"),
            Some(Role::Member)
        );

        let unknown = members::add_member(&db, team, "nobody@example.com", Role::Member).await;
        assert_eq!(unknown.expect_err("unknown").kind, ErrorKind::Invalid);
        let demote = members::add_member(&db, team, "owner@example.com", Role::Viewer).await;
        assert_eq!(demote.expect_err("last owner").kind, ErrorKind::Conflict);
        assert_eq!(
            accounts::role_in(&db, owner, team).await.expect("role"),
            Some(Role::Owner)
        );
    })
    .await;
}

#[tokio::test]
async fn sessions_round_trip_and_expire() {
    on_each_backend(|db| async move {
        let store = DbSessionStore::new(db.clone());
        let mut record = Record {
            id: Id::default(),
            data: [("user_id".to_string(), serde_json::json!("01HZX"))]
                .into_iter()
                .collect(),
            expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
        };
        store.create(&mut record).await.expect("create");
        let loaded = store
            .load(&record.id)
            .await
            .expect("load")
            .expect("present");
        assert_eq!(loaded.data, record.data);
        store
            .save(&Record {
                expiry_date: time::OffsetDateTime::now_utc() - time::Duration::seconds(1),
                ..record.clone()
            })
            .await
            .expect("save");
        assert!(
            store.load(&record.id).await.expect("load").is_none(),
            "expired session is gone"
        );
        assert_eq!(store.delete_expired().await.expect("cleanup"), 1);
        store
            .delete(&record.id)
            .await
            .expect("delete is idempotent");
    })
    .await;
}

#[tokio::test]
async fn migrations_apply_once_and_reconnecting_is_harmless() {
    let test = common::sqlite().await;
    let (_, team) = account(&test.db, "a@example.com", "Team").await;
    let url = {
        let (path,): (String,) =
            sqlx::query_as("select file from pragma_database_list where name = 'main'")
                .fetch_one(&test.db.pool)
                .await
                .expect("path");
        format!("sqlite://{path}")
    };
    let again = Db::connect(&url).await.expect("reconnect");
    assert_eq!(
        accounts::teams_of(
            &again,
            accounts::credentials(&again, "a@example.com")
                .await
                .expect("c")
                .expect("user")
                .user_id
        )
        .await
        .expect("teams")[0]
            .id,
        team
    );
}

#[tokio::test]
async fn an_actor_is_a_member_of_the_team_with_their_role_and_name() {
    on_each_backend(|db| async move {
        let (user, team) = account(&db, "a@example.com", "Team").await;
        let (_, other) = account(&db, "b@example.com", "Other").await;
        let actor = accounts::actor(&db, user, team)
            .await
            .expect("actor")
            .expect("a member");
        assert_eq!(
            (actor.role, actor.name.as_str()),
            (Role::Owner, "Test User")
        );
        assert!(
            accounts::actor(&db, user, other)
                .await
                .expect("actor")
                .is_none()
        );
    })
    .await;
}

#[tokio::test]
async fn typed_meta_is_stored_as_its_json_and_capsules_are_found_by_id() {
    on_each_backend(|db| async move {
        let (_, team) = account(&db, "a@example.com", "Team").await;
        let web = site(&db, team, "Web").await;
        let docs = site(&db, team, "Docs").await;
        let capsule = CapsuleId::new();
        let id = deployment(&db, team, web, "completed")
            .await
            .expect("deployment");
        let meta = DeploymentMeta {
            capsule_id: Some(capsule),
            ..Default::default()
        };
        sqlx::query("update deployments set type = 'time_capsule', meta = $1 where id = $2")
            .bind(&meta)
            .bind(id)
            .execute(&db.pool)
            .await
            .expect("meta");
        let (stored,): (String,) = sqlx::query_as("select meta from deployments where id = $1")
            .bind(id)
            .fetch_one(&db.pool)
            .await
            .expect("stored");
        assert_eq!(stored, format!("{{\"capsule_id\":\"{capsule}\"}}"));
        let read = deployments::get(&db, team, id)
            .await
            .expect("get")
            .expect("some");
        assert_eq!(read.meta, meta);
        assert!(
            deployments::has_capsule(&db, web, capsule)
                .await
                .expect("web")
        );
        assert!(
            !deployments::has_capsule(&db, docs, capsule)
                .await
                .expect("docs")
        );
        assert!(
            !deployments::has_capsule(&db, web, CapsuleId::new())
                .await
                .expect("other")
        );
    })
    .await;
}

#[tokio::test]
async fn wallboard_links_are_scoped_to_their_team_and_found_only_by_hash_while_open() {
    use flightdeck::server::store::wallboard_links;
    on_each_backend(|db| async move {
        let (user, team) = account(&db, "a@example.com", "A").await;
        let (_, other) = account(&db, "b@example.com", "B").await;
        let (id, _) = wallboard_links::create(&db, team, "TV", user, "hash-1")
            .await
            .expect("created");
        let found = wallboard_links::open_by_hash(&db, "hash-1")
            .await
            .expect("read")
            .expect("open");
        assert_eq!((found.0, found.1), (id, team));
        assert!(
            wallboard_links::list(&db, other)
                .await
                .expect("list")
                .is_empty()
        );
        let err = wallboard_links::revoke(&db, other, id).await.unwrap_err();
        assert_eq!(
            err.kind,
            ErrorKind::NotFound,
            "another team cannot revoke it"
        );
        wallboard_links::seen(&db, id).await.expect("seen");
        let listed = wallboard_links::list(&db, team).await.expect("list");
        assert!(listed[0].last_seen_at.is_some());
        wallboard_links::revoke(&db, team, id)
            .await
            .expect("revoked");
        assert!(
            wallboard_links::open_by_hash(&db, "hash-1")
                .await
                .expect("read")
                .is_none()
        );
        assert!(!wallboard_links::is_open(&db, id).await.expect("read"));
    })
    .await;
}

#[tokio::test]
async fn a_sites_failure_is_its_latest_finished_deploy_until_one_succeeds() {
    on_each_backend(|db| async move {
        let (_, team) = account(&db, "a@example.com", "A").await;
        let web = site(&db, team, "Web").await;
        let docs = site(&db, team, "Docs").await;
        deployment(&db, team, web, "completed").await.expect("ok");
        let broke = deployment(&db, team, web, "failed").await.expect("failed");
        // Neither a cancelled nor a queued one after it clears the red.
        deployment(&db, team, web, "cancelled")
            .await
            .expect("cancelled");
        deployment(&db, team, web, "queued").await.expect("queued");
        deployment(&db, team, docs, "failed").await.expect("failed");
        deployment(&db, team, docs, "completed")
            .await
            .expect("fixed");
        let failures = sites::failures(&db, team).await.expect("failures");
        let ids: Vec<DeploymentId> = failures.iter().map(|d| d.id).collect();
        assert_eq!(ids, vec![broke], "only Web is red");
        // A pull request's failed preview does not make the site red.
        let pr = deployment(&db, team, docs, "failed").await.expect("pr");
        sqlx::query("update deployments set trigger_kind = 'pull_request' where id = $1")
            .bind(pr)
            .execute(&db.pool)
            .await
            .expect("pr");
        assert_eq!(sites::failures(&db, team).await.expect("failures").len(), 1);
        let (_, other) = account(&db, "b@example.com", "B").await;
        assert!(
            sites::failures(&db, other)
                .await
                .expect("failures")
                .is_empty()
        );
    })
    .await;
}
