//! Integrations through the public API, on SQLite and PostgreSQL: API
//! tokens (no cookie, their role, their team, revoked at once), and
//! notification hooks delivered to a real receiver on loopback (in order,
//! signed, retried, once per notification across instances, refused for
//! private addresses unless allowed).

mod common;

use common::db::postgres;
use common::eventually;
use common::receiver::{Receiver, Reply};
use common::server::{
    SETTLE, Server, TEST_PIPELINES, call, client, join_as_viewer, new_site, ok, on_both_servers,
    refused, sign_up, start_with_pipelines_and, wait_finished,
};
use flightdeck::model::{
    ApiToken, Delivery, DeliveryState, Deployment, DeploymentStatus, NewApiToken,
    NewNotificationHook, NotificationHook, SessionInfo, Site,
};
use futures::StreamExt;
use reqwest::StatusCode;
use std::collections::HashMap;
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const ALLOW_PRIVATE: &str = "--hooks-allow-private=1";

/// Runs `test` on SQLite and, when it answers, on PostgreSQL.
async fn on_both<F, Fut>(extra: &[&str], test: F)
where
    F: Fn(Server) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    on_both_servers(TEST_PIPELINES, extra, test).await
}

/// Ada's team, signed in on `c`, with one site.
async fn team_site(s: &Server, c: &reqwest::Client, email: &str, name: &str) -> Site {
    sign_up(c, s, email, &format!("{name}'s team")).await;
    new_site(c, s, name).await
}

async fn token(s: &Server, c: &reqwest::Client, name: &str, role: &str) -> NewApiToken {
    ok(c, s, "create_api_token", &[("name", name), ("role", role)]).await
}

/// A client that sends only the token: no cookie jar, no Origin.
fn bearer(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("header"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("client")
}

async fn deploy(s: &Server, c: &reqwest::Client, site: &Site, branch: &str) -> Deployment {
    let id = site.id.to_string();
    let d: Deployment = ok(
        c,
        s,
        "trigger_deployment",
        &[("site_id", &id), ("kind", "deploy"), ("git_ref", branch)],
    )
    .await;
    wait_finished(c, s, &d.id.to_string()).await
}

#[tokio::test]
async fn a_token_acts_without_a_cookie_within_its_role_and_team_until_revoked() {
    on_both(&[], |s| async move {
        let ada = client();
        let site = team_site(&s, &ada, "ada@example.com", "Docs").await;
        let made = token(&s, &ada, "release-bot", "member").await;
        assert!(made.token.starts_with("fdt_"), "{}", made.token);
        let bot = bearer(&made.token);

        // Reads and triggers with no cookie, recorded as the token.
        let d = deploy(&s, &bot, &site, "main").await;
        assert_eq!(d.status, DeploymentStatus::Completed);
        assert_eq!(d.triggered_by, "CI token 'release-bot'");
        let page: flightdeck::model::DeploymentPage = ok(&bot, &s, "list_deployments", &[]).await;
        assert!(page.deployments.iter().any(|x| x.id == d.id));

        // The token is stored hashed and listed without its secret.
        let listed: Vec<ApiToken> = ok(&ada, &s, "list_api_tokens", &[]).await;
        assert_eq!(listed.len(), 1);
        assert!(listed[0].last_used_at.is_some());
        let (stored,): (String,) = sqlx::query_as("select token_hash from api_tokens")
            .fetch_one(&s.db.pool)
            .await
            .expect("row");
        assert_ne!(stored, made.token);
        assert!(
            !serde_json::to_string(&listed)
                .unwrap()
                .contains(&made.token)
        );

        // A viewer token watches only.
        let watcher = bearer(&token(&s, &ada, "dashboard", "viewer").await.token);
        let (status, _) = refused(
            &watcher,
            &s,
            "trigger_deployment",
            &[("site_id", &site.id.to_string()), ("kind", "deploy")],
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // Another team's records answer like ids that do not exist.
        let eve = client();
        let eves = team_site(&s, &eve, "eve@example.com", "Eve's site").await;
        let (status, _) = refused(&bot, &s, "get_site", &[("id", &eves.id.to_string())]).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let eve_bot = bearer(&token(&s, &eve, "eve-bot", "owner").await.token);
        let (status, _) =
            refused(&eve_bot, &s, "get_deployment", &[("id", &d.id.to_string())]).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let eve_sees: Vec<Site> = ok(&eve_bot, &s, "list_sites", &[]).await;
        assert_eq!(eve_sees.len(), 1);

        // A token cannot grant lasting access (a leaked one cannot outlive
        // its revocation): no tokens, invites, links or hooks.
        for (name, form) in [
            ("create_invite", vec![("role", "viewer")]),
            ("create_wallboard_link", vec![("name", "tv")]),
            (
                "create_notification_hook",
                vec![
                    ("url", "https://example.com/"),
                    ("events", "deployment.failed"),
                ],
            ),
        ] {
            let (status, _) = refused(&eve_bot, &s, name, &form).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{name}");
        }
        // A token cannot make tokens (a leaked one cannot outlive its revocation).
        let (status, _) = refused(
            &bot,
            &s,
            "create_api_token",
            &[("name", "x"), ("role", "viewer")],
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // Its socket works without a cookie or an Origin, and closes at revocation.
        let ws_url = format!("{}/ws", s.base.replace("http://", "ws://"));
        let mut request = ws_url.as_str().into_client_request().expect("request");
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {}", made.token).parse().unwrap(),
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(request.clone())
            .await
            .expect("token opens the live channel");
        let hello = socket.next().await.expect("hello").expect("frame");
        assert!(hello.to_text().unwrap().contains("\"hello\""));

        ok::<()>(
            &ada,
            &s,
            "revoke_api_token",
            &[("id", &made.id.to_string())],
        )
        .await;
        let res = bot
            .post(format!("{}/api/list_deployments", s.base))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(res.text().await.unwrap().contains("revoked"));
        let closed = tokio::time::timeout(Duration::from_secs(5), async {
            while let Some(Ok(frame)) = socket.next().await {
                if frame.is_close() {
                    return true;
                }
            }
            true
        })
        .await;
        assert_eq!(closed, Ok(true), "the revoked token's socket stays open");
        assert!(tokio_tungstenite::connect_async(request).await.is_err());

        // A malformed or unknown token is 401 too, never a cookie's fallback.
        for bad in ["nope", "fdt_", "fdt_zz", &"f".repeat(5000)] {
            let res = bearer(bad)
                .post(format!("{}/api/list_sites", s.base))
                .send()
                .await
                .expect("request");
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{bad:.20}");
        }
    })
    .await;
}

#[tokio::test]
async fn nobody_mints_a_role_above_their_own_and_tokens_follow_their_maker() {
    on_both(&[], |s| async move {
        let ada = client();
        team_site(&s, &ada, "ada@example.com", "Docs").await;
        let vic = client();
        sign_up(&vic, &s, "vic@example.com", "Vic's").await;
        join_as_viewer(&ada, &vic, &s, "vic@example.com").await;
        // A viewer cannot make a member token (nor any: viewers only watch).
        let (status, e) = refused(
            &vic,
            &s,
            "create_api_token",
            &[("name", "x"), ("role", "member")],
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{}", e.message);
        for (role, expected) in [
            ("boss", StatusCode::BAD_REQUEST),
            ("", StatusCode::BAD_REQUEST),
        ] {
            let (status, _) = refused(
                &ada,
                &s,
                "create_api_token",
                &[("name", "x"), ("role", role)],
            )
            .await;
            assert_eq!(status, expected);
        }
        let (status, _) = refused(
            &ada,
            &s,
            "create_api_token",
            &[("name", " "), ("role", "viewer")],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        // An owner's owner token acts as a member once the owner is a member.
        let bea = client();
        sign_up(&bea, &s, "bea@example.com", "Bea's").await;
        ok::<()>(
            &ada,
            &s,
            "add_member",
            &[("email", "bea@example.com"), ("role", "owner")],
        )
        .await;
        let me: Option<SessionInfo> = ok(&bea, &s, "current_session", &[]).await;
        let me = me.expect("signed in");
        let adas = me
            .teams
            .iter()
            .find(|t| t.id != me.team.id)
            .expect("Ada's team")
            .id;
        let _: SessionInfo = ok(&bea, &s, "switch_team", &[("team_id", &adas.to_string())]).await;
        let bea_token = token(&s, &bea, "bea-bot", "owner").await;
        let bot = bearer(&bea_token.token);
        let members: Vec<flightdeck::model::MemberInfo> = ok(&bot, &s, "list_members", &[]).await;
        let bea_id = members
            .iter()
            .find(|m| m.user.email == "bea@example.com")
            .unwrap()
            .user
            .id
            .to_string();
        ok::<()>(
            &ada,
            &s,
            "set_member_role",
            &[("user_id", &bea_id), ("role", "member")],
        )
        .await;
        let (status, _) = refused(&bot, &s, "list_invites", &[]).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "the token acts above its maker's role"
        );
        // Once its maker leaves the team, it opens nothing.
        ok::<()>(&ada, &s, "remove_member", &[("user_id", &bea_id)]).await;
        let res = bot
            .post(format!("{}/api/list_sites", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    })
    .await;
}

/// A hook of Ada's team to `receiver`, for `events`.
async fn hook(
    s: &Server,
    c: &reqwest::Client,
    url: &str,
    events: &str,
    extra: &[(&str, &str)],
) -> NewNotificationHook {
    let mut form = vec![("url", url), ("events", events)];
    form.extend_from_slice(extra);
    ok(c, s, "create_notification_hook", &form).await
}

#[tokio::test]
async fn a_deploy_notifies_queued_started_and_succeeded_in_order_signed() {
    on_both(&[ALLOW_PRIVATE], |s| async move {
        let mut receiver = Receiver::start().await;
        let ada = client();
        let site = team_site(&s, &ada, "ada@example.com", "Docs").await;
        let other = new_site(&ada, &s, "Blog").await;
        let all = "deployment.queued,deployment.started,deployment.succeeded,deployment.failed";
        let team_hook = hook(&s, &ada, &receiver.url, all, &[]).await;
        // A hook for the other site only, and another team's hook: neither hears of Docs.
        let mut elsewhere = Receiver::start().await;
        hook(
            &s,
            &ada,
            &elsewhere.url,
            all,
            &[("site_id", &other.id.to_string())],
        )
        .await;
        let eve = client();
        team_site(&s, &eve, "eve@example.com", "Eve's").await;
        hook(&s, &eve, &elsewhere.url, all, &[]).await;

        let d = deploy(&s, &ada, &site, "main").await;
        let got = receiver.take(3, SETTLE).await;
        let events: Vec<&str> = got.iter().map(|r| r.event()).collect();
        assert_eq!(
            events,
            [
                "deployment.queued",
                "deployment.started",
                "deployment.succeeded"
            ]
        );
        for r in &got {
            assert!(
                r.signed_with(&team_hook.secret),
                "bad signature on {}",
                r.event()
            );
            assert!(!r.signed_with("another secret"));
            let body = r.body();
            assert_eq!(body.id.to_string(), r.delivery());
            assert_eq!(body.event.as_str(), r.event());
            let notified = body.deployment.expect("deployment");
            assert_eq!(notified.id, d.id);
            assert_eq!(body.site.expect("site").name, "Docs");
            assert_eq!(body.actor.as_deref(), Some("Ada Lovelace"));
            assert!(
                body.links
                    .dashboard
                    .ends_with(&format!("/deployments/{}", d.id))
            );
            let timestamp: i64 = r.header("x-flightdeck-timestamp").parse().unwrap();
            assert!((timestamp - flightdeck::server::store::now_ms() / 1000).abs() < 60);
        }
        assert_eq!(
            got[2].body().deployment.unwrap().status,
            DeploymentStatus::Completed
        );

        // A failed deploy says why.
        deploy(&s, &ada, &site, "broken").await;
        let failed = loop {
            let r = receiver.next(SETTLE).await;
            if r.event() == "deployment.failed" {
                break r;
            }
        };
        assert!(
            failed.body().text.contains("failed"),
            "{}",
            failed.body().text
        );
        assert!(elsewhere.drain(Duration::from_millis(500)).await.is_empty());

        // The log shows each delivery.
        let hooks: Vec<NotificationHook> = ok(&ada, &s, "list_notification_hooks", &[]).await;
        let mine = hooks.iter().find(|h| h.id == team_hook.id).expect("listed");
        assert!(
            mine.deliveries
                .iter()
                .all(|d| d.state == DeliveryState::Delivered && d.last_status == Some(200))
        );
        assert!(
            !serde_json::to_string(&hooks)
                .unwrap()
                .contains(&team_hook.secret)
        );
        // Eve sees only her own hook.
        let eves: Vec<NotificationHook> = ok(&eve, &s, "list_notification_hooks", &[]).await;
        assert_eq!(eves.len(), 1);
        // Nor can she point a hook at Ada's site, or change Ada's hook.
        let (status, _) = refused(
            &eve,
            &s,
            "create_notification_hook",
            &[
                ("url", &receiver.url),
                ("events", all),
                ("site_id", &site.id.to_string()),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = refused(
            &eve,
            &s,
            "update_notification_hook",
            &[("id", &team_hook.id.to_string()), ("url", &elsewhere.url)],
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = refused(
            &eve,
            &s,
            "redeliver_notification",
            &[("id", &mine.deliveries[0].id.to_string())],
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = refused(
            &eve,
            &s,
            "delete_notification_hook",
            &[("id", &team_hook.id.to_string())],
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = refused(
            &eve,
            &s,
            "send_test_notification",
            &[("id", &team_hook.id.to_string())],
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    })
    .await;
}

#[tokio::test]
async fn a_receiver_failing_twice_gets_the_notification_once_as_a_success() {
    on_both(&[ALLOW_PRIVATE], |s| async move {
        let mut receiver = Receiver::start().await;
        let ada = client();
        let site = team_site(&s, &ada, "ada@example.com", "Docs").await;
        let made = hook(
            &s,
            &ada,
            &receiver.url,
            "deployment.succeeded",
            &[("format", "json")],
        )
        .await;
        receiver.script(&[Reply::Status(500), Reply::Status(500), Reply::Status(200)]);
        deploy(&s, &ada, &site, "main").await;
        let tries = receiver.take(3, SETTLE).await;
        let ids: Vec<&str> = tries.iter().map(|r| r.delivery()).collect();
        assert!(
            ids.iter().all(|id| *id == ids[0]),
            "one delivery, tried three times: {ids:?}"
        );
        assert!(
            receiver.drain(Duration::from_secs(3)).await.is_empty(),
            "delivered again after a 200"
        );
        let hooks: Vec<NotificationHook> = ok(&ada, &s, "list_notification_hooks", &[]).await;
        let delivery = &hooks[0].deliveries[0];
        assert_eq!(delivery.state, DeliveryState::Delivered);
        assert_eq!(delivery.attempts, 3);
        assert_eq!(delivery.last_status, Some(200));
        let (attempts,): (i64,) = sqlx::query_as("select count(*) from notification_attempts")
            .fetch_one(&s.db.pool)
            .await
            .unwrap();
        assert_eq!(attempts, 3);

        // A test goes out at once and says how it went; a redelivery is a new delivery.
        let test: Delivery = ok(
            &ada,
            &s,
            "send_test_notification",
            &[("id", &made.id.to_string())],
        )
        .await;
        assert_eq!(
            (test.state, test.last_status),
            (DeliveryState::Delivered, Some(200))
        );
        assert_eq!(receiver.next(SETTLE).await.event(), "notification.test");
        let again: Delivery = ok(
            &ada,
            &s,
            "redeliver_notification",
            &[("id", &delivery.id.to_string())],
        )
        .await;
        assert_ne!(again.id, delivery.id);
        assert_eq!(receiver.next(SETTLE).await.delivery(), again.id.to_string());
        // A redirect is not followed: it counts as a failure that says so.
        receiver.script(&[Reply::Status(302)]);
        let moved: Delivery = ok(
            &ada,
            &s,
            "send_test_notification",
            &[("id", &made.id.to_string())],
        )
        .await;
        assert_eq!(moved.state, DeliveryState::Failed);
        assert!(
            moved
                .last_error
                .as_deref()
                .unwrap_or_default()
                .contains("redirect"),
            "{moved:?}"
        );
        assert_eq!(receiver.drain(Duration::from_millis(500)).await.len(), 1);
        // A failing test is tried once, and shows the answer.
        receiver.script(&[Reply::Status(503)]);
        let failed: Delivery = ok(
            &ada,
            &s,
            "send_test_notification",
            &[("id", &made.id.to_string())],
        )
        .await;
        assert_eq!(
            (failed.state, failed.last_status),
            (DeliveryState::Failed, Some(503))
        );
        assert!(receiver.drain(Duration::from_secs(2)).await.len() == 1);
    })
    .await;
}

#[tokio::test]
async fn a_hooks_notifications_arrive_in_order_even_across_a_retry() {
    on_both(&[ALLOW_PRIVATE], |s| async move {
        let mut receiver = Receiver::start().await;
        let ada = client();
        let site = team_site(&s, &ada, "ada@example.com", "Docs").await;
        hook(&s, &ada, &receiver.url, "site.locked,site.unlocked", &[]).await;
        receiver.script(&[Reply::Status(500)]);
        let id = site.id.to_string();
        for round in 0..3 {
            let reason = format!("freeze {round}");
            ok::<Site>(
                &ada,
                &s,
                "lock_site",
                &[("site_id", &id), ("reason", &reason)],
            )
            .await;
            ok::<Site>(&ada, &s, "unlock_site", &[("site_id", &id)]).await;
        }
        let got = receiver.take(7, SETTLE).await;
        let events: Vec<&str> = got.iter().map(|r| r.event()).collect();
        assert_eq!(
            events,
            [
                "site.locked",
                "site.locked",
                "site.unlocked",
                "site.locked",
                "site.unlocked",
                "site.locked",
                "site.unlocked"
            ],
            "the first was retried before anything after it went"
        );
        assert_eq!(got[0].delivery(), got[1].delivery());
        let reasons: Vec<String> = got
            .iter()
            .filter_map(|r| r.body().lock.map(|l| l.reason))
            .collect();
        assert_eq!(reasons, ["freeze 0", "freeze 0", "freeze 1", "freeze 2"]);
    })
    .await;
}

#[tokio::test]
async fn hooks_to_private_addresses_are_refused_without_the_setting() {
    on_both(&[], |s| async move {
        let receiver = Receiver::start().await;
        let ada = client();
        team_site(&s, &ada, "ada@example.com", "Docs").await;
        let localhost = receiver.url.replace("127.0.0.1", "localhost");
        for url in [
            receiver.url.as_str(),
            localhost.as_str(),
            "http://[::1]:9/hook",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.1/",
        ] {
            let (status, e) = refused(
                &ada,
                &s,
                "create_notification_hook",
                &[("url", url), ("events", "deployment.failed")],
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{url}");
            assert!(
                e.message.contains("FLIGHTDECK_HOOKS_ALLOW_PRIVATE"),
                "{url}: {}",
                e.message
            );
        }
        for (url, events) in [
            ("ftp://example.com/", "deployment.failed"),
            ("file:///etc/passwd", "deployment.failed"),
            ("https://user:pw@example.com/", "deployment.failed"),
            ("https://example.com/", "deployment.exploded"),
            ("https://example.com/", ""),
        ] {
            let (status, _) = refused(
                &ada,
                &s,
                "create_notification_hook",
                &[("url", url), ("events", events)],
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{url} {events}");
        }
        let (hooks,): (i64,) = sqlx::query_as("select count(*) from notification_hooks")
            .fetch_one(&s.db.pool)
            .await
            .unwrap();
        assert_eq!(hooks, 0, "a refused hook was stored");
    })
    .await;
}

#[tokio::test]
async fn a_hook_that_keeps_failing_is_disabled_with_the_reason() {
    use flightdeck::server::store::notifications::claims::MAX_ATTEMPTS;
    on_both(&[ALLOW_PRIVATE], |s| async move {
        let receiver = Receiver::start().await;
        let ada = client();
        team_site(&s, &ada, "ada@example.com", "Docs").await;
        let made = hook(&s, &ada, &receiver.url, "site.locked", &[]).await;
        receiver.script(&[Reply::Status(500); 2]);
        let site: Vec<Site> = ok(&ada, &s, "list_sites", &[]).await;
        ok::<Site>(
            &ada,
            &s,
            "lock_site",
            &[("site_id", &site[0].id.to_string()), ("reason", "freeze")],
        )
        .await;
        // Past the first try, its back-off is wound on to the last one.
        eventually("the first try", SETTLE, || async {
            let (n, held): (i64, Option<String>) =
                sqlx::query_as("select attempts, claimed_by from notifications")
                    .fetch_one(&s.db.pool)
                    .await
                    .ok()?;
            (n >= 1 && held.is_none()).then_some(())
        })
        .await;
        sqlx::query("update notifications set attempts = $1, next_attempt_at = 0")
            .bind(MAX_ATTEMPTS - 1)
            .execute(&s.db.pool)
            .await
            .unwrap();
        s.db.signals.outbox.notify_one();
        let hooks: Vec<NotificationHook> = eventually("the hook is disabled", SETTLE, || async {
            let hooks: Vec<NotificationHook> = ok(&ada, &s, "list_notification_hooks", &[]).await;
            hooks[0].disabled_at.is_some().then_some(hooks)
        })
        .await;
        assert!(
            hooks[0].disabled_reason.as_deref().unwrap().contains("500"),
            "{:?}",
            hooks[0].disabled_reason
        );
        assert_eq!(hooks[0].deliveries[0].state, DeliveryState::Failed);
        // Disabled, it is sent nothing; enabled again, it is.
        let (status, _) = refused(
            &ada,
            &s,
            "send_test_notification",
            &[("id", &made.id.to_string())],
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT);
        ok::<()>(
            &ada,
            &s,
            "update_notification_hook",
            &[("id", &made.id.to_string()), ("enabled", "true")],
        )
        .await;
        let test: Delivery = ok(
            &ada,
            &s,
            "send_test_notification",
            &[("id", &made.id.to_string())],
        )
        .await;
        assert_eq!(test.state, DeliveryState::Delivered);
    })
    .await;
}

#[tokio::test]
async fn with_two_instances_each_notification_is_delivered_once() {
    let Some(pg) = postgres().await else { return };
    let mut receiver = Receiver::start().await;
    let on_pg = format!("--database-url={}", pg.url);
    let one =
        start_with_pipelines_and(TEST_PIPELINES, &[on_pg.clone(), ALLOW_PRIVATE.into()]).await;
    let data = format!("--data-dir={}", one.data.display());
    let two = start_with_pipelines_and(TEST_PIPELINES, &[on_pg, ALLOW_PRIVATE.into(), data]).await;
    let ada = client();
    let site = team_site(&one, &ada, "ada@example.com", "Docs").await;
    hook(
        &one,
        &ada,
        &receiver.url,
        "deployment.queued,deployment.started,deployment.succeeded",
        &[],
    )
    .await;
    // Deploys started on both instances, one after the other.
    for (i, s) in [&one, &two, &one, &two, &one].into_iter().enumerate() {
        let c = client();
        let (status, _) = call(
            &c,
            s,
            "sign_in",
            &[("email", "ada@example.com"), ("password", "correct horse")],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let d = deploy(s, &c, &site, &format!("b{i}")).await;
        assert_eq!(d.status, DeploymentStatus::Completed);
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for r in receiver.take(15, SETTLE).await {
        *seen.entry(r.delivery().to_string()).or_default() += 1;
    }
    assert!(
        receiver.drain(Duration::from_secs(3)).await.is_empty(),
        "more than one delivery each"
    );
    assert_eq!(seen.len(), 15);
    assert!(seen.values().all(|n| *n == 1), "{seen:?}");
}
