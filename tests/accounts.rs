//! Who may get in and for how long: invite-only sign-up, invites that work
//! once and expire, roles and removals, password changes, sign-outs that
//! hold against racing requests and open sockets, and throttled guessing.

mod common;

use common::eventually;
use common::server::{
    Server, call, client, client_with_jar, count_users, ok, refused, sign_up, start_with,
    start_with_pipelines,
};
use flightdeck::model::{
    Deployment, Invite, InviteState, InviteSummary, MemberInfo, NewInvite, Role, SessionInfo, Site,
};
use futures::StreamExt;
use reqwest::StatusCode;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

async fn invite_only() -> Server {
    start_with(&["--signup=invite".to_string()]).await
}

fn form<'a>(email: &'a str, team: &'a str, invite: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("email", email),
        ("password", "correct horse"),
        ("name", "Grace Hopper"),
        ("team", team),
    ];
    if let Some(token) = invite {
        f.push(("invite", token));
    }
    f
}

#[tokio::test]
async fn only_the_first_account_signs_up_without_an_invite() {
    let s = invite_only().await;
    let first = client();
    let info = sign_up(&first, &s, "owner@example.com", "First").await;
    assert_eq!(info.team.role, Role::Owner);
    let (status, err) = refused(
        &client(),
        &s,
        "sign_up",
        &form("eve@example.com", "Eve", None),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(err.message.contains("by invitation"), "{err}");
    let (status, _) = refused(
        &client(),
        &s,
        "sign_up",
        &form("eve@example.com", "Eve", Some("0".repeat(64).as_str())),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a made-up invite");
    assert_eq!(count_users(&s.db).await, 1);
}

#[tokio::test]
async fn an_invite_joins_its_team_with_its_role_once_and_not_after_it_expires() {
    let s = invite_only().await;
    let owner = client();
    let team = sign_up(&owner, &s, "owner@example.com", "Rockets")
        .await
        .team;
    let invite: NewInvite = ok(&owner, &s, "create_invite", &[("role", "member")]).await;
    assert!(
        invite
            .url
            .ends_with(&format!("/signup?invite={}", invite.token))
    );
    assert_eq!(invite.token.len(), 64);
    let summary: InviteSummary =
        ok(&client(), &s, "invite_info", &[("invite", &invite.token)]).await;
    assert_eq!(
        (summary.team_name.as_str(), summary.role),
        ("Rockets", Role::Member)
    );

    let grace = client();
    let info: SessionInfo = ok(
        &grace,
        &s,
        "sign_up",
        &form("grace@example.com", "ignored", Some(&invite.token)),
    )
    .await;
    assert_eq!(info.team.id, team.id, "joined the owner's team");
    assert_eq!(info.team.role, Role::Member);
    assert_eq!(info.teams.len(), 1, "and no team of her own");
    // Used once; a second person cannot.
    let (status, err) = refused(
        &client(),
        &s,
        "sign_up",
        &form("eve@example.com", "Eve", Some(&invite.token)),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    let listed: Vec<Invite> = ok(&owner, &s, "list_invites", &[]).await;
    assert_eq!(listed[0].state, InviteState::Used);
    assert_eq!(listed[0].used_by.as_deref(), Some("Grace Hopper"));

    // An expired one and a revoked one let nobody in.
    let old: NewInvite = ok(&owner, &s, "create_invite", &[("role", "viewer")]).await;
    sqlx::query("update invites set expires_at = 1 where id = $1")
        .bind(old.id.to_string())
        .execute(&s.db.pool)
        .await
        .expect("expire");
    let revoked: NewInvite = ok(&owner, &s, "create_invite", &[("role", "viewer")]).await;
    let () = ok(
        &owner,
        &s,
        "revoke_invite",
        &[("id", &revoked.id.to_string())],
    )
    .await;
    for token in [&old.token, &revoked.token] {
        let (status, _) = refused(
            &client(),
            &s,
            "sign_up",
            &form("late@example.com", "Late", Some(token)),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = refused(&client(), &s, "invite_info", &[("invite", token)]).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let states: Vec<InviteState> = ok::<Vec<Invite>>(&owner, &s, "list_invites", &[])
        .await
        .iter()
        .map(|i| i.state)
        .collect();
    assert_eq!(
        states,
        [
            InviteState::Revoked,
            InviteState::Expired,
            InviteState::Used
        ]
    );
    assert_eq!(count_users(&s.db).await, 2);
}

#[tokio::test]
async fn only_owners_invite_and_manage_members_and_a_team_keeps_an_owner() {
    let s = start_with(&[]).await;
    let owner = client();
    sign_up(&owner, &s, "owner@example.com", "Rockets").await;
    let invite: NewInvite = ok(&owner, &s, "create_invite", &[("role", "member")]).await;
    let member = client();
    let member_id = ok::<SessionInfo>(
        &member,
        &s,
        "sign_up",
        &form("member@example.com", "x", Some(&invite.token)),
    )
    .await
    .user
    .id
    .to_string();
    for (name, fields) in [
        ("create_invite", vec![("role", "owner")]),
        ("list_invites", vec![]),
        (
            "set_member_role",
            vec![("user_id", member_id.as_str()), ("role", "owner")],
        ),
        ("remove_member", vec![("user_id", member_id.as_str())]),
    ] {
        let (status, _) = refused(&member, &s, name, &fields).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}");
    }
    let (status, _) = refused(&owner, &s, "create_invite", &[("role", "god")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // The last owner cannot step down or leave.
    let me = ok::<Option<SessionInfo>>(&owner, &s, "current_session", &[])
        .await
        .expect("signed in")
        .user
        .id
        .to_string();
    let (status, err) = refused(
        &owner,
        &s,
        "set_member_role",
        &[("user_id", &me), ("role", "viewer")],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    let (status, _) = refused(&owner, &s, "remove_member", &[("user_id", &me)]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let () = ok(
        &owner,
        &s,
        "set_member_role",
        &[("user_id", &member_id), ("role", "viewer")],
    )
    .await;
    let members: Vec<MemberInfo> = ok(&owner, &s, "list_members", &[]).await;
    assert_eq!(members[1].role, Role::Viewer);
    // Another team's member is not found.
    let stranger = client();
    sign_up(&stranger, &s, "eve@example.com", "Eve").await;
    let (status, _) = refused(&stranger, &s, "remove_member", &[("user_id", &member_id)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn socket(s: &Server, jar: &reqwest::cookie::Jar) -> Result<Socket, u16> {
    use reqwest::cookie::CookieStore;
    let mut req = format!("{}/ws", s.base.replace("http://", "ws://"))
        .into_client_request()
        .expect("request");
    if let Some(cookie) = jar.cookies(&s.base.parse().expect("url")) {
        req.headers_mut().insert("cookie", cookie);
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => Err(res.status().as_u16()),
        Err(e) => panic!("connect: {e}"),
    }
}

/// The close code the socket ends with, within 20 s.
async fn closed_with(socket: &mut Socket) -> Option<u16> {
    let read = async {
        while let Some(frame) = socket.next().await {
            match frame {
                Ok(Message::Close(frame)) => return frame.map(|f| u16::from(f.code)),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
        None
    };
    tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .expect("the socket closes")
}

#[tokio::test]
async fn a_removed_member_loses_their_sessions_and_open_pages_at_once() {
    let s = start_with(&[]).await;
    let owner = client();
    sign_up(&owner, &s, "owner@example.com", "Rockets").await;
    let invite: NewInvite = ok(&owner, &s, "create_invite", &[("role", "member")]).await;
    let (member, jar) = client_with_jar();
    let member_id = ok::<SessionInfo>(
        &member,
        &s,
        "sign_up",
        &form("member@example.com", "x", Some(&invite.token)),
    )
    .await
    .user
    .id
    .to_string();
    let mut page = socket(&s, &jar).await.expect("connect");
    let () = ok(&owner, &s, "remove_member", &[("user_id", &member_id)]).await;
    assert_eq!(closed_with(&mut page).await, Some(1008));
    let (status, _) = refused(&member, &s, "list_sites", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(socket(&s, &jar).await.err(), Some(401));
}

#[tokio::test]
async fn a_new_password_ends_the_other_sessions_and_the_old_password() {
    let s = start_with(&[]).await;
    let here = client();
    sign_up(&here, &s, "ada@example.com", "Rockets").await;
    let (elsewhere, jar) = client_with_jar();
    let signed_in = [("email", "ada@example.com"), ("password", "correct horse")];
    let _: SessionInfo = ok(&elsewhere, &s, "sign_in", &signed_in).await;
    let mut other_page = socket(&s, &jar).await.expect("connect");

    let (status, err) = refused(
        &here,
        &s,
        "change_password",
        &[("current", "wrong password"), ("new", "battery staple")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    let () = ok(
        &here,
        &s,
        "change_password",
        &[("current", "correct horse"), ("new", "battery staple")],
    )
    .await;
    assert_eq!(closed_with(&mut other_page).await, Some(1008));
    let me: Option<SessionInfo> = ok(&elsewhere, &s, "current_session", &[]).await;
    assert_eq!(me, None, "the other session ended");
    let me: Option<SessionInfo> = ok(&here, &s, "current_session", &[]).await;
    assert!(me.is_some(), "this one goes on");
    let (status, _) = refused(&client(), &s, "sign_in", &signed_in).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let _: SessionInfo = ok(
        &client(),
        &s,
        "sign_in",
        &[("email", "ada@example.com"), ("password", "battery staple")],
    )
    .await;
}

#[tokio::test]
async fn an_owners_links_stop_working_once_they_are_no_longer_an_owner() {
    let s = invite_only().await;
    let ada = client();
    sign_up(&ada, &s, "ada@example.com", "Rockets").await;
    let as_owner: NewInvite = ok(&ada, &s, "create_invite", &[("role", "owner")]).await;
    let bob = client();
    let info: SessionInfo = ok(
        &bob,
        &s,
        "sign_up",
        &form("bob@example.com", "ignored", Some(&as_owner.token)),
    )
    .await;
    let bob_id = info.user.id.to_string();
    let (demoted, removed) = (
        ok::<NewInvite>(&bob, &s, "create_invite", &[("role", "owner")]).await,
        ok::<NewInvite>(&bob, &s, "create_invite", &[("role", "viewer")]).await,
    );
    let (status, _) = call(&client(), &s, "invite_info", &[("invite", &demoted.token)]).await;
    assert_eq!(status, StatusCode::OK, "open while bob is an owner");
    let () = ok(
        &ada,
        &s,
        "set_member_role",
        &[("user_id", &bob_id), ("role", "member")],
    )
    .await;
    for token in [&demoted.token, &removed.token] {
        let (status, _) = call(&client(), &s, "invite_info", &[("invite", token)]).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "revoked with bob's ownership"
        );
    }
    let listed: Vec<Invite> = ok(&ada, &s, "list_invites", &[]).await;
    assert!(
        listed
            .iter()
            .filter(|i| i.id == demoted.id || i.id == removed.id)
            .all(|i| i.state == InviteState::Revoked),
        "{listed:?}"
    );
    // Ada's own links still work.
    let mine: NewInvite = ok(&ada, &s, "create_invite", &[("role", "member")]).await;
    let () = ok(&ada, &s, "remove_member", &[("user_id", &bob_id)]).await;
    let (status, _) = call(&client(), &s, "invite_info", &[("invite", &mine.token)]).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_borrowed_session_cannot_guess_the_password_either() {
    let s = start_with(&[]).await;
    let c = client();
    sign_up(&c, &s, "ada@example.com", "Rockets").await;
    let mut refused_at = None;
    for attempt in 1..=10 {
        let (status, _) = refused(
            &c,
            &s,
            "change_password",
            &[("current", "a guess"), ("new", "battery staple")],
        )
        .await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            refused_at.get_or_insert(attempt);
        }
    }
    let first = refused_at.expect("10 wrong current passwords are refused");
    assert!(first <= 7, "refused from attempt {first}");
    // Even the right one waits now, and so does signing in to the account.
    let (status, _) = refused(
        &c,
        &s,
        "change_password",
        &[("current", "correct horse"), ("new", "battery staple")],
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let (status, _) = refused(
        &client(),
        &s,
        "sign_in",
        &[("email", "ada@example.com"), ("password", "correct horse")],
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_demos_published_password_is_on_every_page_until_it_is_changed() {
    let s = start_with(&["--demo=1".to_string()]).await;
    let c = client();
    let demo = [
        ("email", "demo@flightdeck.dev"),
        ("password", "flightdeck-demo"),
    ];
    let _: SessionInfo = ok(&c, &s, "sign_in", &demo).await;
    let info: Option<SessionInfo> = ok(&c, &s, "current_session", &[]).await;
    let notices = info.expect("signed in").notices;
    assert!(
        notices.iter().any(|n| n.message.contains("published")),
        "{notices:?}"
    );
    let () = ok(
        &c,
        &s,
        "change_password",
        &[("current", "flightdeck-demo"), ("new", "something private")],
    )
    .await;
    let info: Option<SessionInfo> = ok(&c, &s, "current_session", &[]).await;
    assert_eq!(info.expect("signed in").notices, Vec::new());
}

#[tokio::test]
async fn signing_out_during_a_slow_request_leaves_the_cookie_refused_and_the_socket_closed() {
    // A step that ignores TERM: cancelling it takes its whole grace period.
    let s = start_with_pipelines(
        r#"
[pipelines.restart]
operation_name = "Restart {site}"
[[pipelines.restart.steps]]
name = "Stubborn"
run = 'trap "" TERM; echo started; sleep 30'
"#,
    )
    .await;
    let (c, jar) = client_with_jar();
    sign_up(&c, &s, "ada@example.com", "Rockets").await;
    let site: Site = ok(
        &c,
        &s,
        "create_site",
        &[
            ("name", "Web"),
            ("repository", "https://github.com/acme/web"),
            ("branch", "main"),
        ],
    )
    .await;
    let site_id = site.id.to_string();
    eventually("the site is free", Duration::from_secs(30), || async {
        let site: Site = ok(&c, &s, "get_site", &[("id", &site_id)]).await;
        site.active_deployment.is_none().then_some(())
    })
    .await;
    let d: Deployment = ok(
        &c,
        &s,
        "trigger_deployment",
        &[("site_id", &site_id), ("kind", "restart")],
    )
    .await;
    let id = d.id.to_string();
    eventually("the step runs", Duration::from_secs(10), || async {
        let d: Deployment = ok(&c, &s, "get_deployment", &[("id", &id)]).await;
        d.steps[0].output.contains("started").then_some(())
    })
    .await;
    let mut page = socket(&s, &jar).await.expect("connect");
    // The cancel waits for the step: a request holding the session for seconds.
    let slow = {
        let (c, s_base, id) = (c.clone(), s.base.clone(), id.clone());
        tokio::spawn(async move {
            c.post(format!("{s_base}/api/cancel_deployment"))
                .form(&[("id", id.as_str())])
                .send()
                .await
                .expect("cancel")
                .status()
        })
    };
    // The cancel has read the session and asked the step to stop.
    eventually(
        "the cancel is under way",
        Duration::from_secs(10),
        || async {
            let (asked,): (Option<i64>,) =
                sqlx::query_as("select cancel_requested_at from deployments where id = $1")
                    .bind(&id)
                    .fetch_one(&s.db.pool)
                    .await
                    .expect("read");
            asked.map(|_| ())
        },
    )
    .await;
    let () = ok(&c, &s, "sign_out", &[]).await;
    assert_eq!(closed_with(&mut page).await, Some(1008));
    assert!(slow.await.expect("join").is_success());
    // The slow request's end did not bring the session back.
    let me: Option<SessionInfo> = ok(&c, &s, "current_session", &[]).await;
    assert_eq!(me, None);
    let (status, _) = call(&c, &s, "list_sites", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn guessing_passwords_is_slowed_down_then_refused() {
    let s = start_with(&[]).await;
    sign_up(&client(), &s, "ada@example.com", "Rockets").await;
    let guesser = client();
    let mut refused_at = None;
    for attempt in 1..=25 {
        let (status, body) = call(
            &guesser,
            &s,
            "sign_in",
            &[
                ("email", "ada@example.com"),
                ("password", "not the password"),
            ],
        )
        .await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert!(
                body["retry_after"].as_u64().is_some_and(|s| s >= 1),
                "{body}"
            );
            assert!(
                body["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("try again")
            );
            refused_at.get_or_insert(attempt);
        } else {
            assert_eq!(status, StatusCode::BAD_REQUEST, "attempt {attempt}: {body}");
        }
    }
    let first = refused_at.expect("25 wrong passwords in a row are refused");
    assert!(first <= 7, "refused from attempt {first}");
    // Even the right password waits now, from that address.
    let (status, _) = call(
        &guesser,
        &s,
        "sign_in",
        &[("email", "ada@example.com"), ("password", "correct horse")],
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // A script is told how long in the header too.
    let res = guesser
        .post(format!("{}/api/sign_in", s.base))
        .form(&[("email", "ada@example.com"), ("password", "x")])
        .send()
        .await
        .expect("request");
    let wait = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    assert!(wait.is_some_and(|w| w >= 1), "{:?}", res.headers());
}
