//! The public HTTP contract: server functions at /api/<name>, sessions and
//! the page guard, driven by a real client against a server on 127.0.0.1:0.

mod common;

use common::server::{call, client, count_users, ok, refused, sign_up, start};
use flightdeck::model::{AppError, MemberInfo, Role, SessionInfo, Site};
use flightdeck::server::store::sites;
use reqwest::StatusCode;

#[tokio::test]
async fn sign_up_sign_out_and_sign_in_again() {
    let s = start().await;
    let c = client();
    let info = sign_up(&c, &s, "ada@example.com", "Analytical Engines").await;
    assert_eq!(info.team.name, "Analytical Engines");
    assert_eq!(info.team.role, Role::Owner);

    let me: Option<SessionInfo> = ok(&c, &s, "current_session", &[]).await;
    assert_eq!(me.expect("signed in").user.email, "ada@example.com");
    let page = c.get(format!("{}/", s.base)).send().await.expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.text()
            .await
            .expect("html")
            .contains("Analytical Engines")
    );

    let () = ok(&c, &s, "sign_out", &[]).await;
    let me: Option<SessionInfo> = ok(&c, &s, "current_session", &[]).await;
    assert_eq!(me, None);
    let page = c.get(format!("{}/", s.base)).send().await.expect("page");
    assert_eq!(page.status(), StatusCode::SEE_OTHER);

    let info: SessionInfo = ok(
        &c,
        &s,
        "sign_in",
        &[("email", "ADA@example.com"), ("password", "correct horse")],
    )
    .await;
    assert_eq!(info.team.name, "Analytical Engines");
}

#[tokio::test]
async fn bad_sign_up_input_gets_a_clear_message_and_creates_nothing() {
    let s = start().await;
    let c = client();
    sign_up(&c, &s, "taken@example.com", "First").await;
    let long = "x".repeat(10_000);
    let cases: &[(&str, &str, &str, &str, StatusCode, &str)] = &[
        (
            "",
            "correct horse",
            "Ada",
            "Team",
            StatusCode::BAD_REQUEST,
            "Enter your email",
        ),
        (
            "not-an-email",
            "correct horse",
            "Ada",
            "Team",
            StatusCode::BAD_REQUEST,
            "does not look like an email",
        ),
        (
            "ada@example.com",
            "short",
            "Ada",
            "Team",
            StatusCode::BAD_REQUEST,
            "at least 8",
        ),
        (
            "ada@example.com",
            &long,
            "Ada",
            "Team",
            StatusCode::BAD_REQUEST,
            "at most 128",
        ),
        (
            "ada@example.com",
            "correct horse",
            "",
            "Team",
            StatusCode::BAD_REQUEST,
            "Enter a name",
        ),
        (
            "ada@example.com",
            "correct horse",
            "Ada",
            " ",
            StatusCode::BAD_REQUEST,
            "Enter a team name",
        ),
        (
            "Taken@Example.com",
            "correct horse",
            "Ada",
            "Team",
            StatusCode::CONFLICT,
            "already exists",
        ),
    ];
    for (email, password, name, team, status, message) in cases {
        let (got, err) = refused(
            &c,
            &s,
            "sign_up",
            &[
                ("email", email),
                ("password", password),
                ("name", name),
                ("team", team),
            ],
        )
        .await;
        assert_eq!(got, *status, "{email:?}: {err}");
        let text = err.message;
        assert!(
            text.contains(message),
            "{email:?}: {text:?} should say {message:?}"
        );
    }
    // A form missing a field entirely is refused too.
    let (got, _) = call(&c, &s, "sign_up", &[("email", "x@example.com")]).await;
    assert!(got.is_client_error(), "{got}");
    assert_eq!(count_users(&s.db).await, 1);
}

#[tokio::test]
async fn a_wrong_password_is_refused_with_a_message() {
    let s = start().await;
    let c = client();
    sign_up(&c, &s, "ada@example.com", "Team").await;
    let fresh = client();
    for (email, password) in [
        ("ada@example.com", "wrong password"),
        ("nobody@example.com", "correct horse"),
    ] {
        let (status, err) = refused(
            &fresh,
            &s,
            "sign_in",
            &[("email", email), ("password", password)],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            err.message,
            "That email and password do not match an account."
        );
    }
    let me: Option<SessionInfo> = ok(&fresh, &s, "current_session", &[]).await;
    assert_eq!(me, None);
}

#[tokio::test]
async fn the_session_id_changes_at_sign_in_and_the_cookie_is_locked_down() {
    let s = start().await;
    let c = client();
    sign_up(&c, &s, "ada@example.com", "Team").await;
    let sign_in = |client: reqwest::Client, cookie: Option<String>| {
        let url = format!("{}/api/sign_in", s.base);
        async move {
            let mut req = client
                .post(url)
                .form(&[("email", "ada@example.com"), ("password", "correct horse")]);
            if let Some(cookie) = cookie {
                req = req.header("cookie", cookie);
            }
            let res = req.send().await.expect("sign in");
            assert_eq!(res.status(), StatusCode::OK);
            res.headers()["set-cookie"]
                .to_str()
                .expect("cookie")
                .to_string()
        }
    };
    let plain = || reqwest::Client::builder().build().expect("client");
    let first = sign_in(plain(), None).await;
    assert!(first.contains("HttpOnly"), "{first}");
    assert!(first.contains("SameSite=Lax"), "{first}");
    assert!(
        !first.contains("Secure"),
        "plain http must not set Secure: {first}"
    );
    let first_pair = first.split(';').next().expect("pair").to_string();
    let second = sign_in(plain(), Some(first_pair.clone())).await;
    let second_pair = second.split(';').next().expect("pair").to_string();
    assert_ne!(
        first_pair, second_pair,
        "signing in again must issue a new session id"
    );

    // The old id is worthless now.
    let res = plain()
        .post(format!("{}/api/current_session", s.base))
        .header("cookie", first_pair)
        .send()
        .await
        .expect("request");
    assert_eq!(res.text().await.expect("body"), "null");
}

#[tokio::test]
async fn every_page_but_sign_in_and_sign_up_asks_for_a_session() {
    let s = start().await;
    let c = client();
    for path in ["/", "/sites", "/team"] {
        let res = c
            .get(format!("{}{path}", s.base))
            .send()
            .await
            .expect("page");
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(res.headers()["location"], "/signin");
    }
    for path in ["/signin", "/signup"] {
        let res = c
            .get(format!("{}{path}", s.base))
            .send()
            .await
            .expect("page");
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
    let (status, err) = refused(&c, &s, "list_sites", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(err.message, "Please sign in to continue.");
}

#[tokio::test]
async fn a_second_teams_member_sees_nothing_of_the_first() {
    let s = start().await;
    let a = client();
    let a_team_id = sign_up(&a, &s, "a@example.com", "Zebra Secret Team")
        .await
        .team
        .id;
    let team_a = a_team_id.to_string();
    sites::insert(
        &s.db,
        sites::NewSite {
            team_id: a_team_id,
            name: "Zebra Landing Page",
            repository: "https://github.com/zebra/landing",
            branch: "main",
            auto_deploy: true,
            parent_site_id: None,
        },
    )
    .await
    .expect("site");

    let b = client();
    sign_up(&b, &s, "b@example.com", "Other Team").await;
    let sites: Vec<Site> = ok(&b, &s, "list_sites", &[]).await;
    assert_eq!(sites, vec![]);
    let members: Vec<MemberInfo> = ok(&b, &s, "list_members", &[]).await;
    assert_eq!(members.len(), 1);
    let (status, _) = refused(&b, &s, "switch_team", &[("team_id", &team_a)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for path in ["/", "/sites", "/team"] {
        let html = b
            .get(format!("{}{path}", s.base))
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        assert!(!html.contains("Zebra"), "{path} leaks the other team");
        assert!(
            !html.contains("a@example.com"),
            "{path} leaks the other team's member"
        );
    }
    // The first team sees its own.
    let sites: Vec<Site> = ok(&a, &s, "list_sites", &[]).await;
    assert_eq!(sites[0].name, "Zebra Landing Page");
}

#[tokio::test]
async fn only_owners_add_members_and_members_can_switch_team() {
    let s = start().await;
    let owner = client();
    sign_up(&owner, &s, "owner@example.com", "Owners Inc").await;
    let other = client();
    let other_info = sign_up(&other, &s, "other@example.com", "Other Inc").await;

    let (status, err) = refused(
        &owner,
        &s,
        "add_member",
        &[("email", "other@example.com"), ("role", "superuser")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    let () = ok(
        &owner,
        &s,
        "add_member",
        &[("email", "other@example.com"), ("role", "viewer")],
    )
    .await;

    let me: Option<SessionInfo> = ok(&other, &s, "current_session", &[]).await;
    let owners_inc = me
        .expect("signed in")
        .teams
        .iter()
        .find(|t| t.name == "Owners Inc")
        .expect("now a member")
        .id
        .to_string();
    let info: SessionInfo = ok(&other, &s, "switch_team", &[("team_id", &owners_inc)]).await;
    assert_eq!(info.team.role, Role::Viewer);
    let (status, err) = refused(
        &other,
        &s,
        "add_member",
        &[("email", "owner@example.com"), ("role", "viewer")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    assert_ne!(other_info.team.id, info.team.id);
}

#[tokio::test]
async fn a_write_from_another_origin_is_refused_and_changes_nothing() {
    let s = start().await;
    let c = client();
    for origin in ["http://evil.example", "http://0123.preview.localhost:3000"] {
        let res = c
            .post(format!("{}/api/sign_up", s.base))
            .header("origin", origin)
            .form(&[
                ("email", "csrf@example.com"),
                ("password", "correct horse"),
                ("name", "X"),
                ("team", "X"),
            ])
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{origin}");
        let err: AppError = res.json().await.expect("an AppError");
        assert!(err.message.contains("another site"), "{err}");
    }
    assert_eq!(count_users(&s.db).await, 0);
    // The dashboard's own origin is fine.
    let own = s.base.clone();
    let res = c
        .post(format!("{}/api/sign_up", s.base))
        .header("origin", own)
        .form(&[
            ("email", "ok@example.com"),
            ("password", "correct horse"),
            ("name", "X"),
            ("team", "X"),
        ])
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::OK);
}
