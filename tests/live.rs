//! The live channel with a real WebSocket client: order, resume, isolation,
//! origin checks and slow readers.

mod common;

use common::server::{Server, call, client_with_jar, sign_up, start_with_test_pipelines};
use futures::StreamExt;
use serde_json::Value;
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
    let info = sign_up(&http, s, email, "Team").await;
    let team_id = info["team"]["id"].as_str().expect("team").to_string();
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

/// The next JSON message, skipping heartbeats; `None` when the socket closed.
async fn next(socket: &mut Socket) -> Option<Value> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(20), socket.next())
            .await
            .expect("a message within 20 s")?;
        match msg {
            Ok(Message::Text(text)) => {
                let v: Value = serde_json::from_str(&text).expect("json");
                if v["type"] != "heartbeat" {
                    return Some(v);
                }
            }
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

async fn create_site(s: &Server, m: &Member) -> String {
    let (_, site) = call(
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
    site["id"].as_str().expect("site").to_string()
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
async fn read_until(socket: &mut Socket, seen: &mut Vec<i64>, id: &str, status: &str) {
    while let Some(msg) = next(socket).await {
        if let Some(p) = msg["position"].as_i64()
            && msg["type"] != "hello"
        {
            seen.push(p);
        }
        if msg["type"] == "deployment"
            && msg["deployment"]["id"] == id
            && msg["deployment"]["status"] == status
        {
            return;
        }
    }
    panic!("socket closed before {id} became {status}");
}

#[tokio::test]
async fn events_arrive_in_commit_order_with_no_gap_or_duplicate_across_a_disconnect() {
    let s = start_with_test_pipelines().await;
    let m = member(&s, "ops@example.com").await;
    let mut socket = connect(&s, Some(&m), None, None).await.expect("connect");
    let hello = next(&mut socket).await.expect("hello");
    assert_eq!(hello["type"], "hello");
    let start = hello["position"].as_i64().expect("position");

    let site = create_site(&s, &m).await;
    let mut seen = Vec::new();
    let (_, page) = call(&m.http, &s, "list_deployments", &[("site_id", &site)]).await;
    let first_deploy = page["deployments"][0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    read_until(&mut socket, &mut seen, &first_deploy, "completed").await;

    // Part way through the next deploy, the connection drops.
    let (_, d) = call(
        &m.http,
        &s,
        "trigger_deployment",
        &[("site_id", &site), ("kind", "deploy")],
    )
    .await;
    let id = d["id"].as_str().expect("id").to_string();
    read_until(&mut socket, &mut seen, &id, "running").await;
    drop(socket);
    let last = *seen.last().expect("seen");

    // The deploy goes on while the page is away; it resumes from `last`.
    for _ in 0..200 {
        let (_, d) = call(&m.http, &s, "get_deployment", &[("id", &id)]).await;
        if d["status"] == "completed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let mut socket = connect(&s, Some(&m), Some(last), None)
        .await
        .expect("reconnect");
    let (_, d2) = call(
        &m.http,
        &s,
        "trigger_deployment",
        &[("site_id", &site), ("kind", "deploy")],
    )
    .await;
    let id2 = d2["id"].as_str().expect("id").to_string();
    read_until(&mut socket, &mut seen, &id2, "completed").await;

    // Whatever the deploy wrote after completing (the previous one superseded) arrives too.
    let stored = team_positions(&s, &m.team_id, start).await;
    while seen.last() < stored.last() {
        let msg = next(&mut socket).await.expect("open");
        seen.push(msg["position"].as_i64().expect("position"));
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
    assert_eq!(next(&mut sa).await.expect("hello")["type"], "hello");
    assert_eq!(next(&mut sb).await.expect("hello")["type"], "hello");

    let site = create_site(&s, &a).await;
    let (_, page) = call(&a.http, &s, "list_deployments", &[("site_id", &site)]).await;
    let id = page["deployments"][0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    read_until(&mut sa, &mut Vec::new(), &id, "completed").await;

    // Everything of team A has been delivered; team B's socket got none of it.
    let quiet = tokio::time::timeout(Duration::from_millis(300), sb.next()).await;
    assert!(quiet.is_err(), "team B received {quiet:?}");
    // Nor does replaying from the start show B anything of A.
    let mut sb = connect(&s, Some(&b), Some(0), None).await.expect("b again");
    let hello = next(&mut sb).await.expect("hello");
    assert_eq!(
        hello["type"], "hello",
        "the first message is the hello: {hello}"
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
    let mut ok = connect(&s, Some(&m), None, Some(&s.base))
        .await
        .expect("own origin");
    assert_eq!(next(&mut ok).await.expect("hello")["type"], "hello");
}

#[tokio::test]
async fn a_paused_reader_does_not_delay_the_others_and_gets_reset() {
    let s = start_with_test_pipelines().await;
    let m = member(&s, "ops@example.com").await;
    let mut active = connect(&s, Some(&m), None, None).await.expect("active");
    let mut paused = connect(&s, Some(&m), None, None).await.expect("paused");
    let start = next(&mut active).await.expect("hello")["position"]
        .as_i64()
        .expect("p");
    next(&mut paused).await.expect("hello");

    // The active reader takes every event as it comes, in order.
    let count = 8_000i64;
    let reader = tokio::spawn(async move {
        let mut expected = start + 1;
        while expected <= start + count {
            let msg = next(&mut active).await.expect("open");
            assert_eq!(msg["type"], "output", "{msg}");
            assert_eq!(msg["position"].as_i64(), Some(expected), "in order");
            expected += 1;
        }
        active
    });
    // 8,000 events of 4 KB, written in quick batches: far more than the
    // socket buffers and the subscriber capacity hold for a reader that sleeps.
    let text = "x".repeat(4096);
    for batch in 0..count / 200 {
        let mut tx = s.db.pool.begin().await.expect("tx");
        for i in batch * 200 + 1..=(batch + 1) * 200 {
            sqlx::query("insert into events (position, team_id, kind, record_id, payload, created_at) values ($1, $2, 'output', 's', $3, 0)")
                .bind(start + i)
                .bind(&m.team_id)
                .bind(format!(r#"{{"type":"output","step_id":"01ARZ3NDEKTSV4RRFFQ69G5FAV","offset":{},"text":"{text}"}}"#, (i - 1) * 4096))
                .execute(&mut *tx)
                .await
                .expect("insert");
        }
        tx.commit().await.expect("commit");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut active = tokio::time::timeout(Duration::from_secs(60), reader)
        .await
        .expect("the active reader was not held up")
        .expect("reader");

    // The paused one wakes up to a reset, then the server closes it.
    let mut got_reset = false;
    while let Some(msg) = next(&mut paused).await {
        if msg["type"] == "reset" {
            got_reset = true;
            assert!(
                msg["reason"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("behind")
            );
        }
    }
    assert!(got_reset, "the slow reader was told to reset");
    let _ = active.close(None).await;
}
