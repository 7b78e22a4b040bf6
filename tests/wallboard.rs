//! The wallboard and its links: a link opens its own team's board and
//! socket and nothing else, sets no cookie, is stored only hashed, and
//! once revoked closes its sockets and opens nothing.

mod common;

use common::eventually;
use common::server::{
    Server, call, client, client_with_jar, join_as_viewer, ok, refused, sign_up,
    start_with_test_pipelines, wait_finished, wait_idle,
};
use flightdeck::model::wallboard::tile::decides_health;
use flightdeck::model::{
    BoardState, Deployment, DeploymentStatus, LiveMessage, NewWallboardLink, PipelineType, Site,
    TriggerKind, Wallboard, WallboardLink,
};
use flightdeck::server::passwords::token_hash;
use futures::StreamExt;
use reqwest::StatusCode;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn site(c: &reqwest::Client, s: &Server, name: &str) -> String {
    let site: Site = ok(
        c,
        s,
        "create_site",
        &[
            ("name", name),
            ("repository", "https://github.com/acme/web"),
            ("branch", "main"),
        ],
    )
    .await;
    let id = site.id.to_string();
    wait_idle(c, s, &id).await;
    id
}

async fn link(c: &reqwest::Client, s: &Server, name: &str) -> (NewWallboardLink, String) {
    let link: NewWallboardLink = ok(c, s, "create_wallboard_link", &[("name", name)]).await;
    let token = link
        .url
        .rsplit_once("/wallboard/")
        .map(|(_, t)| t.to_string())
        .expect("the URL carries the token");
    (link, token)
}

async fn board(s: &Server, token: &str, sites: Option<&str>) -> Wallboard {
    let mut form = vec![("token", token)];
    if let Some(sites) = sites {
        form.push(("sites", sites));
    }
    ok(&client(), s, "get_wallboard", &form).await
}

async fn connect(s: &Server, token: &str) -> Result<Socket, u16> {
    let url = format!(
        "{}/ws?wallboard={token}",
        s.base.replace("http://", "ws://")
    );
    let req = url.into_client_request().expect("request");
    match tokio_tungstenite::connect_async(req).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => Err(res.status().as_u16()),
        Err(e) => panic!("connect: {e}"),
    }
}

/// Reads messages until `f` picks one, or the socket closes (`Err` with
/// the close code).
async fn read_until<T>(
    socket: &mut Socket,
    within: Duration,
    mut f: impl FnMut(&LiveMessage) -> Option<T>,
) -> Result<T, Option<u16>> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let msg = tokio::time::timeout_at(deadline, socket.next())
            .await
            .expect("a message in time");
        match msg {
            Some(Ok(Message::Text(text))) => {
                let message: LiveMessage = serde_json::from_str(&text).expect("a live message");
                if let Some(found) = f(&message) {
                    return Ok(found);
                }
            }
            Some(Ok(Message::Close(frame))) => return Err(frame.map(|f| u16::from(f.code))),
            None | Some(Err(_)) => return Err(None),
            Some(Ok(_)) => {}
        }
    }
}

#[tokio::test]
async fn a_link_opens_its_teams_board_and_socket_with_no_cookie_and_is_stored_hashed() {
    let s = start_with_test_pipelines().await;
    let owner = client();
    sign_up(&owner, &s, "owner@example.com", "Acme").await;
    let web = site(&owner, &s, "Web").await;
    site(&owner, &s, "Docs").await;
    let (created, token) = link(&owner, &s, "  Office TV ").await;
    assert_eq!(created.name, "Office TV");
    assert!(created.url.starts_with(&s.base), "{}", created.url);
    assert_eq!(token.len(), 64, "256 random bits, as hex");
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));

    // Only the hash is stored; the token itself is nowhere in the table.
    let (stored,): (String,) = sqlx::query_as("select token_hash from wallboard_links")
        .fetch_one(&s.db.pool)
        .await
        .expect("row");
    assert_eq!(stored, token_hash(&token));
    let (dump,): (String,) = sqlx::query_as(
        "select id || name || token_hash || created_at || coalesce(created_by, '') from wallboard_links",
    )
    .fetch_one(&s.db.pool)
    .await
    .expect("row");
    assert!(!dump.contains(&token));

    // A screen signed in to nothing: the page, with every site, and no cookie.
    let screen = client();
    let page = screen.get(&created.url).send().await.expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers().get("set-cookie").is_none(), "no cookie");
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.expect("html");
    assert!(html.contains("Web") && html.contains("Docs") && html.contains("Acme"));

    let b = board(&s, &token, None).await;
    assert_eq!(b.team_name, "Acme");
    let mut names: Vec<&str> = b.tiles.iter().map(|t| t.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["Docs", "Web"]);
    assert!(b.tiles.iter().all(|t| t.state() == BoardState::Ready));
    assert!(!b.build.is_empty());
    let only: Wallboard = board(&s, &token, Some(&web)).await;
    assert_eq!(only.tiles.len(), 1);
    let (status, _) = call(
        &client(),
        &s,
        "get_wallboard",
        &[("token", &token), ("sites", "not-an-id")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The socket streams the team's changes, with the server's build.
    let mut socket = connect(&s, &token).await.expect("the link's socket opens");
    let build = read_until(&mut socket, Duration::from_secs(5), |m| match m {
        LiveMessage::Hello { build, .. } => Some(build.clone()),
        _ => None,
    })
    .await
    .expect("hello");
    assert_eq!(build.as_deref(), Some(b.build.as_str()));
    let d: Deployment = ok(
        &owner,
        &s,
        "trigger_deployment",
        &[("site_id", &web), ("kind", "deploy")],
    )
    .await;
    read_until(&mut socket, Duration::from_secs(20), |m| match m {
        LiveMessage::Deployment { deployment, .. }
            if deployment.id == d.id && deployment.status == DeploymentStatus::Completed =>
        {
            Some(())
        }
        _ => None,
    })
    .await
    .expect("the deploy streams to the screen");
    let seen: Vec<WallboardLink> = ok(&owner, &s, "list_wallboard_links", &[]).await;
    assert!(seen[0].last_seen_at.is_some(), "last seen is recorded");
    assert!(seen[0].revoked_at.is_none());
}

#[tokio::test]
async fn a_link_is_no_credential_for_the_api_other_pages_or_another_team() {
    let s = start_with_test_pipelines().await;
    let owner = client();
    sign_up(&owner, &s, "owner@example.com", "Acme").await;
    let web = site(&owner, &s, "Web").await;
    let (_, token) = link(&owner, &s, "Lobby").await;
    let current = wait_idle(&owner, &s, &web)
        .await
        .current_deployment
        .expect("current")
        .id
        .to_string();

    // Every other call, with the token offered every way a script might.
    let screen = client();
    let calls: &[(&str, Vec<(&str, &str)>)] = &[
        (
            "trigger_deployment",
            vec![("site_id", &web), ("kind", "deploy")],
        ),
        ("cancel_deployment", vec![("id", &current)]),
        ("retry_deployment", vec![("id", &current)]),
        ("list_deployments", vec![]),
        ("get_deployment", vec![("id", &current)]),
        ("list_sites", vec![]),
        ("get_site", vec![("id", &web)]),
        ("list_wallboard_links", vec![]),
        ("create_wallboard_link", vec![("name", "Mine now")]),
        ("live_position", vec![]),
    ];
    for (name, form) in calls {
        let mut with_token = form.clone();
        with_token.push(("token", &token));
        with_token.push(("wallboard", &token));
        let res = screen
            .post(format!("{}/api/{name}?wallboard={token}", s.base))
            .bearer_auth(&token)
            .header("cookie", format!("wallboard={token}"))
            .form(&with_token)
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{name} with a link");
    }
    // The step log and other pages: never their content. Sent as a bearer
    // token, a link is a token that does not work: 401, like any other.
    for path in [
        format!("/?wallboard={token}"),
        "/sites".to_string(),
        "/team".to_string(),
        format!("/wallboard?token={token}"),
        format!("/deployments/{current}"),
    ] {
        let res = screen
            .get(format!("{}{path}", s.base))
            .bearer_auth(&token)
            .send()
            .await
            .expect("page");
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path}");
        let without = screen
            .get(format!("{}{path}", s.base))
            .send()
            .await
            .expect("page");
        assert!(
            without.status().is_redirection(),
            "{path}: {}",
            without.status()
        );
        assert_eq!(without.headers()["location"], "/signin", "{path}");
    }
    // The member's socket wants a session; the token is not one.
    let url = format!("{}/ws", s.base.replace("http://", "ws://"));
    let mut req = url.into_client_request().expect("request");
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            assert_eq!(res.status().as_u16(), 401)
        }
        other => panic!("the member socket opened for a link: {:?}", other.is_ok()),
    }

    // Another team: its sites are not on this board, whatever the filter.
    let other = client();
    sign_up(&other, &s, "eve@example.com", "Evil").await;
    let theirs = site(&other, &s, "Theirs").await;
    let b = board(&s, &token, Some(&theirs)).await;
    assert!(b.tiles.is_empty());
    assert_eq!(b.unknown_sites, 1);
    assert!(b.recent.iter().all(|d| d.site_id.to_string() == web));
    let everything = board(&s, &token, None).await;
    assert!(everything.tiles.iter().all(|t| t.name == "Web"));
    // Unknown and malformed tokens open nothing.
    for bad in ["0".repeat(64), "nope".to_string(), format!("{token}x")] {
        assert_eq!(connect(&s, &bad).await.err(), Some(404));
        let (status, _) = call(&client(), &s, "get_wallboard", &[("token", &bad)]).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let page = client()
            .get(format!("{}/wallboard/{bad}", s.base))
            .send()
            .await
            .expect("page");
        assert_eq!(page.status(), StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn only_the_teams_owners_and_members_see_and_revoke_its_links() {
    let s = start_with_test_pipelines().await;
    let owner = client();
    sign_up(&owner, &s, "owner@example.com", "Acme").await;
    let (created, token) = link(&owner, &s, "Office TV").await;
    let id = created.id.to_string();

    let other = client();
    sign_up(&other, &s, "eve@example.com", "Evil").await;
    let theirs: Vec<WallboardLink> = ok(&other, &s, "list_wallboard_links", &[]).await;
    assert!(theirs.is_empty(), "another team lists nothing of this one");
    let (status, _) = refused(&other, &s, "revoke_wallboard_link", &[("id", &id)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    connect(&s, &token).await.expect("still open");

    let viewer = client();
    sign_up(&viewer, &s, "viewer@example.com", "Own").await;
    join_as_viewer(&owner, &viewer, &s, "viewer@example.com").await;
    let (status, _) = refused(&viewer, &s, "create_wallboard_link", &[("name", "TV")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = refused(&viewer, &s, "revoke_wallboard_link", &[("id", &id)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A viewer watches: the member's wallboard is theirs to read.
    let _: Wallboard = ok(&viewer, &s, "get_wallboard", &[]).await;

    let (status, err) = refused(&owner, &s, "create_wallboard_link", &[("name", "  ")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err.message.contains("name"), "{err}");
    let (status, _) = refused(&owner, &s, "revoke_wallboard_link", &[("id", "../1")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let mine: Vec<WallboardLink> = ok(&owner, &s, "list_wallboard_links", &[]).await;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].name, "Office TV");
    assert_eq!(mine[0].created_by.as_deref(), Some("Ada Lovelace"));
}

#[tokio::test]
async fn revoking_a_link_closes_its_sockets_and_it_opens_nothing_after() {
    let s = start_with_test_pipelines().await;
    let owner = client();
    sign_up(&owner, &s, "owner@example.com", "Acme").await;
    let (created, token) = link(&owner, &s, "Office TV").await;
    let (_, other_token) = link(&owner, &s, "Hall").await;
    let mut socket = connect(&s, &token).await.expect("opens");
    let mut hall = connect(&s, &other_token).await.expect("opens");
    let () = ok(
        &owner,
        &s,
        "revoke_wallboard_link",
        &[("id", &created.id.to_string())],
    )
    .await;
    let closed = read_until(&mut socket, Duration::from_secs(3), |_| None::<()>).await;
    assert_eq!(closed, Err(Some(1008)), "closed at once as revoked");
    assert_eq!(connect(&s, &token).await.err(), Some(404));
    let (status, err) = call(&client(), &s, "get_wallboard", &[("token", &token)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(err.to_string().contains("revoked"), "{err}");
    let page = client().get(&created.url).send().await.expect("page");
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(page.text().await.expect("html").contains("was revoked"));
    let (status, _) = refused(
        &owner,
        &s,
        "revoke_wallboard_link",
        &[("id", &created.id.to_string())],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "revoked once");

    // Revoked where this instance did not hear of it (another instance):
    // the socket's recheck closes it within seconds.
    sqlx::query("update wallboard_links set revoked_at = 1 where name = 'Hall'")
        .execute(&s.db.pool)
        .await
        .expect("revoke behind the server's back");
    let closed = read_until(&mut hall, Duration::from_secs(8), |_| None::<()>).await;
    assert_eq!(closed, Err(Some(1008)));
    let list: Vec<WallboardLink> = ok(&owner, &s, "list_wallboard_links", &[]).await;
    assert!(list.iter().all(|l| l.revoked_at.is_some()));
}

#[tokio::test]
async fn a_failed_deploy_keeps_its_tile_red_with_the_step_until_a_later_one_succeeds() {
    let s = start_with_test_pipelines().await;
    let (owner, _) = client_with_jar();
    sign_up(&owner, &s, "owner@example.com", "Acme").await;
    let web = site(&owner, &s, "Web").await;
    let (_, token) = link(&owner, &s, "TV").await;
    let trigger = |git_ref: &'static str| {
        let (owner, web, s) = (&owner, &web, &s);
        async move {
            let d: Deployment = ok(
                owner,
                s,
                "trigger_deployment",
                &[("site_id", web), ("kind", "deploy"), ("git_ref", git_ref)],
            )
            .await;
            wait_finished(owner, s, &d.id.to_string()).await
        }
    };
    let failed = trigger("broken").await;
    assert_eq!(failed.status, DeploymentStatus::Failed);
    let b = board(&s, &token, None).await;
    let tile = &b.tiles[0];
    assert_eq!(tile.state(), BoardState::Failed);
    assert_eq!(
        tile.failed_at().as_deref(),
        Some("Failed at \u{201c}Build\u{201d}")
    );
    assert!(tile.current.is_some(), "the last good deploy is still live");
    assert_eq!(b.recent[0].id, failed.id);

    // A later good deploy clears it.
    let ok_deploy = trigger("main").await;
    assert_eq!(ok_deploy.status, DeploymentStatus::Completed);
    let b = board(&s, &token, None).await;
    assert_eq!(b.tiles[0].state(), BoardState::Ready);
    assert!(b.tiles[0].failure.is_none());
    assert_eq!(
        b.tiles[0]
            .live_source()
            .as_deref()
            .map(|s| s.ends_with("main")),
        Some(true)
    );

    eventually(
        "the board reads the same through the member's call",
        Duration::from_secs(5),
        || async {
            let mine: Wallboard = ok(&owner, &s, "get_wallboard", &[]).await;
            (mine.tiles == b.tiles).then_some(())
        },
    )
    .await;
    assert!(!decides_health(
        PipelineType::Deploy,
        TriggerKind::PullRequest
    ));
}
