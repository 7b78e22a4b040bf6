//! The live channel with a real WebSocket client: order, resume, isolation,
//! origin checks and slow readers. Every frame is read as the
//! `LiveMessage` the browser reads; one that does not parse fails the test.

mod common;

use common::eventually;
use common::server::{
    Server, client_with_jar, get_deployment, history, ok, sign_up, start_with_test_pipelines,
};
use flightdeck::model::{Deployment, DeploymentStatus, LiveMessage, Site};
use futures::StreamExt;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Member {
    http: reqwest::Client,
    jar: std::sync::Arc<reqwest::cookie::Jar>,
    team_id: String,
}

async fn member(s: &Server, email: &str) -> Member {
    let (http, jar) = client_with_jar();
    let team_id = sign_up(&http, s, email, "Team").await.team.id.to_string();
    Member { http, jar, team_id }
}

async fn connect(
    s: &Server,
    m: Option<&Member>,
    after: Option<i64>,
    origin: Option<&str>,
) -> Result<Socket, u16> {
    let url = match after {
        Some(p) => format!("{}/ws?after={p}", s.base.replace("http://", "ws://")),
        None => format!("{}/ws", s.base.replace("http://", "ws://")),
    };
    let mut req = url.into_client_request().expect("request");
    if let Some(m) = m {
        use reqwest::cookie::CookieStore;
        let cookie = m
            .jar
            .cookies(&s.base.parse().expect("url"))
            .expect("cookie");
        req.headers_mut().insert("cookie", cookie);
    }
    if let Some(origin) = origin {
        req.headers_mut()
            .insert("origin", origin.parse().expect("origin"));
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => Err(res.status().as_u16()),
        Err(e) => panic!("connect: {e}"),
    }
}

/// The next frame, read as the browser reads it (a heartbeat included);
/// `None` when the socket closed. A text frame that is not a
/// `LiveMessage` fails the test.
async fn frame(socket: &mut Socket) -> Option<LiveMessage> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(25), socket.next())
            .await
            .expect("a frame within 25 s")?;
        match msg {
            Ok(Message::Text(text)) => {
                return Some(serde_json::from_str(&text).unwrap_or_else(|e| {
                    panic!("the server sent what the browser cannot read ({e}): {text}")
                }));
            }
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// The next message that is not a heartbeat; `None` when the socket closed.
async fn next(socket: &mut Socket) -> Option<LiveMessage> {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        match frame(socket).await? {
            LiveMessage::Heartbeat { .. } => continue,
            message => return Some(message),
        }
    }
    panic!("nothing but heartbeats for a minute")
}

/// A message's deployment, when it brings one.
fn deployment(message: &LiveMessage) -> Option<&Deployment> {
    match message {
        LiveMessage::Deployment { deployment, .. } => Some(deployment),
        _ => None,
    }
}

async fn create_site(s: &Server, m: &Member) -> String {
    let site: Site = ok(
        &m.http,
        s,
        "create_site",
        &[
            ("name", "Web"),
            ("repository", "https://github.com/acme/web"),
            ("branch", "main"),
        ],
    )
    .await;
    site.id.to_string()
}

async fn team_positions(s: &Server, team_id: &str, after: i64) -> Vec<i64> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "select position from events where team_id = $1 and position > $2 order by position",
    )
    .bind(team_id)
    .bind(after)
    .fetch_all(&s.db.pool)
    .await
    .expect("events");
    rows.into_iter().map(|(p,)| p).collect()
}

/// Reads until a `deployment` message shows `id` in `status`, collecting positions.
async fn read_until(socket: &mut Socket, seen: &mut Vec<i64>, id: &str, status: DeploymentStatus) {
    while let Some(msg) = next(socket).await {
        if !matches!(msg, LiveMessage::Hello { .. }) {
            seen.push(msg.position());
        }
        if let Some(d) = deployment(&msg)
            && d.id.to_string() == id
            && d.status == status
        {
            return;
        }
    }
    panic!("socket closed before {id} became {status}");
}

/// The id of the site's newest deployment.
async fn newest(s: &Server, m: &Member, site: &str) -> String {
    history(&m.http, s, site).await[0].id.to_string()
}

async fn trigger(s: &Server, m: &Member, site: &str) -> String {
    let d: Deployment = ok(
        &m.http,
        s,
        "trigger_deployment",
        &[("site_id", site), ("kind", "deploy")],
    )
    .await;
    d.id.to_string()
}

#[tokio::test]
async fn events_arrive_in_commit_order_with_no_gap_or_duplicate_across_a_disconnect() {
    let s = start_with_test_pipelines().await;
    let m = member(&s, "ops@example.com").await;
    let mut socket = connect(&s, Some(&m), None, None).await.expect("connect");
    let hello = next(&mut socket).await.expect("hello");
    let LiveMessage::Hello {
        position: start, ..
    } = hello
    else {
        panic!("the first message is a hello: {hello:?}");
    };

    let site = create_site(&s, &m).await;
    let mut seen = Vec::new();
    let first_deploy = newest(&s, &m, &site).await;
    read_until(
        &mut socket,
        &mut seen,
        &first_deploy,
        DeploymentStatus::Completed,
    )
    .await;

    // Part way through the next deploy, the connection drops.
    let id = trigger(&s, &m, &site).await;
    read_until(&mut socket, &mut seen, &id, DeploymentStatus::Running).await;
    drop(socket);
    let last = *seen.last().expect("seen");

    // The deploy goes on while the page is away; it resumes from `last`.
    eventually("the deploy completes", Duration::from_secs(10), || async {
        (get_deployment(&m.http, &s, &id).await.status == DeploymentStatus::Completed).then_some(())
    })
    .await;
    let mut socket = connect(&s, Some(&m), Some(last), None)
        .await
        .expect("reconnect");
    let id2 = trigger(&s, &m, &site).await;
    read_until(&mut socket, &mut seen, &id2, DeploymentStatus::Completed).await;

    // Whatever the deploy wrote after completing (the previous one superseded) arrives too.
    let stored = team_positions(&s, &m.team_id, start).await;
    for _ in 0..stored.len() {
        if seen.last() >= stored.last() {
            break;
        }
        let msg = next(&mut socket).await.expect("open");
        seen.push(msg.position());
    }
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "in order, no duplicate: {seen:?}"
    );
    assert_eq!(seen, stored, "no gap");
}

#[tokio::test]
async fn a_second_team_receives_nothing_of_the_first() {
    let s = start_with_test_pipelines().await;
    let a = member(&s, "a@example.com").await;
    let b = member(&s, "b@example.com").await;
    let mut sa = connect(&s, Some(&a), None, None).await.expect("a");
    let mut sb = connect(&s, Some(&b), None, None).await.expect("b");
    assert!(matches!(
        next(&mut sa).await,
        Some(LiveMessage::Hello { .. })
    ));
    assert!(matches!(
        next(&mut sb).await,
        Some(LiveMessage::Hello { .. })
    ));

    let site = create_site(&s, &a).await;
    let id = newest(&s, &a, &site).await;
    read_until(&mut sa, &mut Vec::new(), &id, DeploymentStatus::Completed).await;

    // Everything of team A has been delivered; team B's socket got none of it.
    let quiet = tokio::time::timeout(Duration::from_millis(300), sb.next()).await;
    assert!(quiet.is_err(), "team B received {quiet:?}");
    // Nor does replaying from the start show B anything of A.
    let mut sb = connect(&s, Some(&b), Some(0), None).await.expect("b again");
    let hello = next(&mut sb).await.expect("hello");
    assert!(
        matches!(hello, LiveMessage::Hello { .. }),
        "the first message is the hello: {hello:?}"
    );
}

#[tokio::test]
async fn a_cross_site_origin_or_a_missing_session_is_refused() {
    let s = start_with_test_pipelines().await;
    let m = member(&s, "ops@example.com").await;
    assert_eq!(
        connect(&s, Some(&m), None, Some("http://evil.example"))
            .await
            .err(),
        Some(403)
    );
    let preview = format!(
        "http://abc.preview.{}",
        s.base.trim_start_matches("http://")
    );
    assert_eq!(
        connect(&s, Some(&m), None, Some(&preview)).await.err(),
        Some(403)
    );
    assert_eq!(
        connect(&s, None, None, Some(&s.base)).await.err(),
        Some(401)
    );
    assert_eq!(
        connect(&s, Some(&m), Some(-1), Some(&s.base)).await.err(),
        Some(400)
    );
    let mut own = connect(&s, Some(&m), None, Some(&s.base))
        .await
        .expect("own origin");
    assert!(matches!(
        next(&mut own).await,
        Some(LiveMessage::Hello { .. })
    ));
}

#[tokio::test]
async fn a_paused_reader_does_not_delay_the_others_and_gets_reset() {
    let s = start_with_test_pipelines().await;
    let m = member(&s, "ops@example.com").await;
    let mut active = connect(&s, Some(&m), None, None).await.expect("active");
    let mut paused = connect(&s, Some(&m), None, None).await.expect("paused");
    let start = next(&mut active).await.expect("hello").position();
    next(&mut paused).await.expect("hello");

    // The active reader takes every event as it comes, in order.
    let count = 8_000i64;
    let reader = tokio::spawn(async move {
        let mut expected = start + 1;
        while expected <= start + count {
            let msg = next(&mut active).await.expect("open");
            assert!(matches!(msg, LiveMessage::Output { .. }), "{msg:?}");
            assert_eq!(msg.position(), expected, "in order");
            expected += 1;
        }
        active
    });
    flood(&s, &m.team_id, start, count).await;
    let mut active = tokio::time::timeout(Duration::from_secs(60), reader)
        .await
        .expect("the active reader was not held up")
        .expect("reader");

    // The paused one wakes up to a reset, then the server closes it.
    let mut got_reset = false;
    while let Some(msg) = next(&mut paused).await {
        if let LiveMessage::Reset { reason, .. } = msg {
            got_reset = true;
            assert!(reason.unwrap_or_default().contains("behind"));
        }
    }
    assert!(got_reset, "the slow reader was told to reset");
    let _ = active.close(None).await;
}

/// Commits `count` output events of 4 KB for the team, after `start`, in
/// quick batches: far more than socket buffers and a team's ring hold for
/// a reader that sleeps.
async fn flood(s: &Server, team_id: &str, start: i64, count: i64) {
    let text = "x".repeat(4096);
    for batch in 0..count / 200 {
        let mut tx = s.db.pool.begin().await.expect("tx");
        for i in batch * 200 + 1..=(batch + 1) * 200 {
            sqlx::query("insert into events (position, team_id, kind, record_id, payload, created_at) values ($1, $2, 'output', 's', $3, 0)")
                .bind(start + i)
                .bind(team_id)
                .bind(format!(r#"{{"type":"output","step_id":"01ARZ3NDEKTSV4RRFFQ69G5FAV","offset":{},"text":"{text}"}}"#, (i - 1) * 4096))
                .execute(&mut *tx)
                .await
                .expect("insert");
        }
        tx.commit().await.expect("commit");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_stuck_socket_of_one_team_does_not_delay_another_teams_sockets() {
    let s = start_with_test_pipelines().await;
    let a = member(&s, "a@example.com").await;
    let b = member(&s, "b@example.com").await;
    let mut stuck = connect(&s, Some(&a), None, None).await.expect("a");
    let mut other = connect(&s, Some(&b), None, None).await.expect("b");
    let start = next(&mut stuck).await.expect("hello").position();
    next(&mut other).await.expect("hello");

    // Team A's socket reads nothing while its team floods it...
    let count = 8_000i64;
    flood(&s, &a.team_id, start, count).await;
    // ...and team B's event still reaches B's socket, which was told
    // nothing of A's.
    let site = create_site(&s, &b).await;
    let first = next(&mut other).await.expect("b's first event");
    assert!(
        first.position() > start + count,
        "b got only its own: {first:?}"
    );
    let d = deployment(&first).expect("b's deployment");
    assert_eq!(d.site_id.to_string(), site);

    // The stuck one, once it reads, is told to reset.
    let mut got_reset = false;
    while let Some(msg) = next(&mut stuck).await {
        if let LiveMessage::Reset { .. } = msg {
            got_reset = true;
        }
    }
    assert!(got_reset, "the stuck reader was told to reset");
}

#[tokio::test]
async fn every_kind_of_frame_the_server_sends_parses_as_a_live_message() {
    let s = start_with_test_pipelines().await;
    let m = member(&s, "ops@example.com").await;
    let mut socket = connect(&s, Some(&m), None, None).await.expect("connect");
    let site = create_site(&s, &m).await;
    let first = newest(&s, &m, &site).await;
    // `frame` fails on anything that does not parse; collect what came.
    let mut kinds = std::collections::BTreeSet::new();
    while kinds.len() < 4 {
        let message = frame(&mut socket).await.expect("open");
        kinds.insert(match &message {
            LiveMessage::Hello { .. } => "hello",
            LiveMessage::Heartbeat { .. } => "heartbeat",
            LiveMessage::Reset { .. } => "reset",
            LiveMessage::Deployment { .. } => "deployment",
            LiveMessage::Step { .. } => "step",
            LiveMessage::Output { .. } => "output",
            LiveMessage::SiteLock { .. } => "site_lock",
        });
        if let Some(d) = deployment(&message)
            && d.id.to_string() == first
            && d.status == DeploymentStatus::Completed
        {
            break;
        }
    }
    for kind in ["hello", "deployment", "step", "output"] {
        assert!(kinds.contains(kind), "no {kind} among {kinds:?}");
    }
    // A lock is broadcast as it changes, with the site's version.
    let _: Site = ok(
        &m.http,
        &s,
        "lock_site",
        &[("site_id", &site), ("reason", "freeze")],
    )
    .await;
    let last = loop {
        let message = frame(&mut socket).await.expect("open");
        if let LiveMessage::SiteLock { site: lock, .. } = &message {
            assert_eq!(lock.site_id.to_string(), site);
            assert_eq!(
                lock.lock.as_ref().map(|l| l.reason.as_str()),
                Some("freeze")
            );
            break message.position();
        }
    };
    // A replay parses too, and so does a reset (a position from the future).
    let mut replayed = connect(&s, Some(&m), Some(0), None).await.expect("replay");
    let mut replay = Vec::new();
    while let Some(message) = frame(&mut replayed).await {
        let hello = matches!(message, LiveMessage::Hello { .. });
        replay.push(message);
        if hello {
            break;
        }
    }
    assert!(
        replay.len() > 4,
        "the replay brought the history: {replay:?}"
    );
    let mut future = connect(&s, Some(&m), Some(last + 1_000_000), None)
        .await
        .expect("connect");
    let reset = frame(&mut future).await.expect("a reset");
    assert!(matches!(reset, LiveMessage::Reset { .. }), "{reset:?}");
}

#[tokio::test]
async fn the_event_log_keeps_a_window_and_a_page_from_before_it_is_reset() {
    let s = start_with_test_pipelines().await;
    let m = member(&s, "ops@example.com").await;
    let site = create_site(&s, &m).await;
    let first = newest(&s, &m, &site).await;
    eventually(
        "the first deploy completes",
        Duration::from_secs(20),
        || async {
            get_deployment(&m.http, &s, &first)
                .await
                .is_finished()
                .then_some(())
        },
    )
    .await;
    let stored = team_positions(&s, &m.team_id, 0).await;
    let last = *stored.last().expect("events");
    assert!(stored.len() > 10, "{stored:?}");

    // Only the newest 5 are kept (by count; nothing is old enough by age).
    let removed = flightdeck::server::store::retention::prune_events(&s.db, 5, 0)
        .await
        .expect("prune");
    assert_eq!(removed as usize, stored.len() - 5);
    assert_eq!(
        team_positions(&s, &m.team_id, 0).await,
        stored[stored.len() - 5..]
    );
    // By age: everything but the newest goes; positions never start over.
    let removed = flightdeck::server::store::retention::prune_events(&s.db, 1_000, i64::MAX)
        .await
        .expect("prune");
    assert_eq!(removed, 4);
    assert_eq!(team_positions(&s, &m.team_id, 0).await, [last]);

    // A page that saw everything up to the window resumes as ever ...
    let mut socket = connect(&s, Some(&m), Some(last - 1), None)
        .await
        .expect("connect");
    let replayed = next(&mut socket).await.expect("replayed");
    assert_eq!(replayed.position(), last, "{replayed:?}");
    // ... one from before it is told to refetch.
    let mut socket = connect(&s, Some(&m), Some(stored[0]), None)
        .await
        .expect("connect");
    let reset = next(&mut socket).await.expect("reset");
    let LiveMessage::Reset { reason, .. } = reset else {
        panic!("a page from before the window is reset: {reset:?}");
    };
    assert!(
        reason
            .unwrap_or_default()
            .contains("longer than the server keeps"),
        "the reason says why"
    );
}
