//! The wallboard: every site of the team on one screen, full screen and
//! without the app's frame, for a TV that nobody touches for days.
//!
//! The board is one server answer (`get_wallboard`), refetched a moment
//! after any deployment or step changes (coalesced: at most one fetch per
//! [`COALESCE`]), after every reconnect and on every `reset`, so what it
//! shows is always exactly the server's state. Nothing grows while it
//! runs: the live channel keeps no backlog for it, one timer ticks the
//! clock, and the reconnect backoff of `live` never stops.

mod board;

use crate::api::wallboard::get_wallboard;
use crate::live::{Channel, LiveStatus, provide_live_on};
use crate::model::live::LiveMessage;
use crate::model::{AppError, ErrorKind, Wallboard, time};
use board::{Board, Clock, Connection, StaleBanner};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use std::time::Duration;

/// Changes arriving within this time share one refetch.
const COALESCE: Duration = Duration::from_millis(250);
/// A failed refetch (the server restarting) is tried again after this.
const RETRY: Duration = Duration::from_secs(5);

#[component]
pub fn WallboardPage() -> impl IntoView {
    let token = use_params_map().with_untracked(|p| p.get("token"));
    let query = use_query_map();
    let sites = query.with_untracked(|q| q.get("sites"));
    let light = query.with_untracked(|q| q.get("theme")).as_deref() == Some("light");

    // The first answer comes with the page; later ones replace it.
    let first = Resource::new(|| (), {
        let (token, sites) = (token.clone(), sites.clone());
        move |_| get_wallboard(token.clone(), sites.clone())
    });
    let latest = RwSignal::new(None::<Result<Wallboard, AppError>>);
    let scheduled = StoredValue::new(false);
    let fetching = StoredValue::new(false);
    let again = StoredValue::new(false);
    // One timer and one fetch at a time: a burst of changes costs one
    // fetch, and a change during a fetch one more after it.
    let schedule = StoredValue::new(None::<std::sync::Arc<dyn Fn(Duration) + Send + Sync>>);
    let refetch = {
        let (token, sites) = (token.clone(), sites.clone());
        move || {
            if fetching.get_value() {
                again.set_value(true);
                return;
            }
            fetching.set_value(true);
            let (token, sites) = (token.clone(), sites.clone());
            leptos::task::spawn_local(async move {
                let answer = get_wallboard(token, sites).await;
                let failed = answer
                    .as_ref()
                    .is_err_and(|e| e.kind != ErrorKind::NotFound);
                latest.set(Some(answer));
                fetching.set_value(false);
                let next = if again.get_value() {
                    again.set_value(false);
                    Some(COALESCE)
                } else {
                    failed.then_some(RETRY)
                };
                if let (Some(after), Some(schedule)) = (next, schedule.get_value()) {
                    schedule(after);
                }
            });
        }
    };
    schedule.set_value(Some(std::sync::Arc::new(move |after: Duration| {
        // On the server nothing streams, and there is no timer to set.
        if cfg!(not(feature = "hydrate")) || scheduled.get_value() {
            return;
        }
        scheduled.set_value(true);
        let refetch = refetch.clone();
        set_timeout(
            move || {
                scheduled.set_value(false);
                refetch();
            },
            after,
        );
    })));
    let schedule = move |after: Duration| {
        if let Some(schedule) = schedule.get_value() {
            schedule(after);
        }
    };
    let channel = match token.clone() {
        Some(token) => Channel::WallboardLink(token),
        None => Channel::Member,
    };
    let live = provide_live_on(channel, 0, move || {
        first.get().and_then(Result::ok).map(|b| b.position)
    });
    live.subscribe(move |message| {
        if matches!(
            message,
            LiveMessage::Deployment { .. }
                | LiveMessage::Step { .. }
                | LiveMessage::SiteLock { .. }
        ) {
            schedule(COALESCE);
        }
    });
    // Back after a reconnect or a reset: whatever no event describes is
    // picked up by a fresh answer.
    Effect::new(move |seen: Option<()>| {
        live.connected.track();
        live.resync.track();
        if seen.is_some() {
            schedule(COALESCE);
        }
    });

    // The clock: one interval for the page's life, on the server's time.
    let skew = StoredValue::new(0i64);
    let now = RwSignal::new(time::now_ms());
    // The board drawn now has a clock of its own, set by the same tick and
    // gone with it: views thrown away at every answer never subscribe to
    // the page's clock, which would keep a trace of each of them.
    let board_clock = StoredValue::new(None::<RwSignal<i64>>);
    #[cfg(feature = "hydrate")]
    {
        let tick = set_interval_with_handle(
            move || {
                let t = time::now_ms() + skew.get_value();
                now.set(t);
                if let Some(clock) = board_clock.get_value() {
                    clock.try_set(t);
                }
            },
            Duration::from_secs(1),
        )
        .ok();
        on_cleanup(move || {
            if let Some(tick) = tick {
                tick.clear();
            }
        });
    }
    let offline_since = RwSignal::new(None::<i64>);
    Effect::new(move |_| match live.status.get() {
        LiveStatus::Live => offline_since.set(None),
        _ if offline_since.get_untracked().is_none() => {
            offline_since.set(Some(now.get_untracked()));
        }
        _ => {}
    });

    // An upgraded server: its bundle is not this page's, so load it.
    let page_build = StoredValue::new(None::<String>);
    let reload_if_upgraded = move |build: &str| {
        if page_build.with_value(|b| b.as_deref().is_some_and(|mine| mine != build)) {
            #[cfg(feature = "hydrate")]
            let _ = window().location().reload();
        }
    };
    Effect::new(move |_| {
        if let Some(build) = live.server_build.get() {
            reload_if_upgraded(&build);
        }
    });
    // The last good answer stays up while the server cannot be reached.
    let last_good = StoredValue::new(None::<Wallboard>);

    let theme = if light {
        "wallboard wb-light"
    } else {
        "wallboard wb-dark"
    };
    view! {
        <Title text="Wallboard" />
        <div class=theme>
            <Suspense fallback=|| view! { <div class="wb-message"><p>"Loading the wallboard…"</p></div> }>
                {move || Suspend::new(async move {
                    let first = first.await;
                    move || {
                    let answer = latest.get().unwrap_or_else(|| first.clone());
                    let shown = match answer {
                        Ok(b) => {
                            if page_build.with_value(Option::is_none) {
                                page_build.set_value(Some(b.build.clone()));
                            }
                            reload_if_upgraded(&b.build);
                            skew.set_value(b.now - time::now_ms());
                            last_good.set_value(Some(b.clone()));
                            b
                        }
                        Err(e) if e.kind == ErrorKind::NotFound => {
                            return view! { <LinkRevoked /> }.into_any();
                        }
                        Err(e) => match last_good.get_value() {
                            Some(b) => b,
                            None => return view! { <BoardError error=e /> }.into_any(),
                        },
                    };
                    let clock = RwSignal::new(now.get_untracked());
                    board_clock.set_value(Some(clock));
                    view! { <Board board=shown now=clock /> }.into_any()
                    }
                })}
            </Suspense>
            // Drawn once for the page's life, above whatever board is shown.
            <div class="wb-end">
                <Connection status=live.status offline_since now />
                <Clock now />
            </div>
            <StaleBanner offline_since now />
            {move || live.ended.get().then(|| view! { <LinkRevoked /> })}
        </div>
    }
}

/// A link that was revoked (or never existed): said plainly, in place of
/// the board. Answers 404 when rendered on the server.
#[component]
fn LinkRevoked() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <div class="wb-message wb-revoked" role="alert">
            <h1>"This wallboard link was revoked"</h1>
            <p>"It no longer shows anything, or it never existed. Ask a member of the team for a new link."</p>
        </div>
    }
}

#[component]
fn BoardError(error: AppError) -> impl IntoView {
    let signin = error.kind == ErrorKind::Unauthenticated;
    view! {
        <div class="wb-message" role="alert">
            <h1>{if signin { "Signed out" } else { "The wallboard could not load" }}</h1>
            <p>{error.message}</p>
            {if signin {
                view! { <a class="button" href="/signin">"Sign in"</a> }.into_any()
            } else {
                view! { <p class="muted">"It tries again by itself."</p> }.into_any()
            }}
        </div>
    }
}
