//! The signed-in frame: header with navigation, team switcher, user and sign out.

use crate::api::auth::{SignOut, current_session, switch_team};
use crate::api::live::live_position;
use crate::live::{LiveStatus, provide_live};
use crate::model::{AppError, SessionInfo};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{A, Outlet};

/// The session of the page, shared with every page inside the shell.
pub type SessionResource = Resource<Result<Option<SessionInfo>, AppError>>;

#[component]
pub fn AppShell() -> impl IntoView {
    let session: SessionResource = Resource::new(|| (), |_| current_session());
    provide_context(session);
    let position = Resource::new(|| (), |_| live_position());
    let live = provide_live(move || position.get().and_then(Result::ok));
    view! {
        <div class="app">
            <header class="topbar">
                <div class="topbar-inner">
                    <a class="brand" href="/">
                        <Logo />
                        <span>"Flightdeck"</span>
                    </a>
                    <nav class="nav" aria-label="Main">
                        <A href="/" exact=true>"Deployments"</A>
                        <A href="/sites">"Sites"</A>
                        <A href="/insights">"Insights"</A>
                        <A href="/team">"Team"</A>
                        // A full page load: the wallboard has no app frame.
                        <a href="/wallboard" rel="external" title="Every site on one screen, for a TV">"Wallboard"</a>
                    </nav>
                    <div class="topbar-end">
                        <LiveIndicator status=live.status />
                        <Suspense fallback=|| view! { <span class="muted">"…"</span> }>
                            {move || Suspend::new(async move {
                                // Read inside Suspense so the server sends the
                                // position with the page and the socket resumes from it.
                                let _ = position.await;
                                match session.await {
                                    Ok(Some(info)) => view! {
                                        <TeamSwitcher info=info.clone() />
                                        <UserMenu info />
                                    }.into_any(),
                                    _ => view! { <a class="button" href="/signin">"Sign in"</a> }.into_any(),
                                }
                            })}
                        </Suspense>
                    </div>
                </div>
            </header>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let notices = session.await.ok().flatten().map(|i| i.notices).unwrap_or_default();
                    (!notices.is_empty()).then(|| view! {
                        <div class="notices">
                            {notices.into_iter().map(|n| view! {
                                <p class="notice" role="note">
                                    {n.message}
                                    {n.fix.map(|(href, label)| view! { " " <a href=href>{label}</a> })}
                                </p>
                            }).collect_view()}
                        </div>
                    })
                })}
            </Suspense>
            <main class="content">
                <Outlet />
            </main>
        </div>
    }
}

/// Whether the page is receiving changes as they happen.
#[component]
fn LiveIndicator(status: RwSignal<LiveStatus>) -> impl IntoView {
    let label = move || match status.get() {
        LiveStatus::Live => "Live",
        LiveStatus::Connecting => "Connecting…",
        LiveStatus::Reconnecting => "Reconnecting…",
    };
    let class = move || match status.get() {
        LiveStatus::Live => "live live-on",
        LiveStatus::Connecting => "live live-connecting",
        LiveStatus::Reconnecting => "live live-off",
    };
    view! {
        <span class=class aria-live="polite" title="Changes appear on this page as they happen">
            <span class="live-dot" aria-hidden="true"></span>
            {label}
        </span>
    }
}

#[component]
pub fn Logo() -> impl IntoView {
    view! {
        <svg class="logo" viewBox="0 0 32 32" aria-hidden="true">
            <rect width="32" height="32" rx="8" fill="var(--accent)" />
            <path d="M8 20l6-10 4 6 2-3 4 7z" fill="#fff" />
        </svg>
    }
}

#[component]
fn TeamSwitcher(info: SessionInfo) -> impl IntoView {
    if info.teams.len() < 2 {
        return view! {
            <span class="team-name" title="Your team">{info.team.name}</span>
        }
        .into_any();
    }
    let current = info.team.id.to_string();
    let on_change = move |ev| {
        let team_id = event_target_value(&ev);
        spawn_local(async move {
            if switch_team(team_id).await.is_ok() {
                let _ = window().location().set_href("/");
            }
        });
    };
    view! {
        <form class="team-switcher" method="post" action="/api/switch_team">
            <label class="visually-hidden" for="team-switcher">"Team"</label>
            <select id="team-switcher" name="team_id" on:change=on_change>
                {info
                    .teams
                    .into_iter()
                    .map(|t| {
                        let id = t.id.to_string();
                        let selected = id == current;
                        view! { <option value=id selected=selected>{t.name}</option> }
                    })
                    .collect_view()}
            </select>
            <noscript><button class="button button-small">"Switch"</button></noscript>
        </form>
    }
    .into_any()
}

#[component]
fn UserMenu(info: SessionInfo) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_out.value().get() {
            let _ = window().location().set_href("/signin");
        }
    });
    view! {
        <div class="user-menu">
            <a class="user-link" href="/account" title=format!("{}: your account", info.user.email)>
                <span class="avatar" aria-hidden="true">{initials(&info.user.name)}</span>
                <span class="user-name">{info.user.name.clone()}</span>
            </a>
            <ActionForm action=sign_out>
                <button class="button button-ghost" type="submit">"Sign out"</button>
            </ActionForm>
        </div>
    }
}

fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}
