//! One answer of the server drawn as the screen: the header with the
//! counts and the clock, the grid of tiles, the strip of operations.

use crate::components::shell::Logo;
use crate::components::status::{DeploymentBadge, LockIcon};
use crate::live::LiveStatus;
use crate::model::wallboard::{BoardLayout, layout};
use crate::model::{BoardState, Deployment, Tile, Wallboard, time};
use leptos::prelude::*;

/// Disconnected this long, the board says since when it is stale.
const STALE_AFTER_MS: i64 = 30_000;

/// `now` is this render's own clock: a view that is thrown away at the
/// next answer must not subscribe to anything that outlives it.
#[component]
pub fn Board(board: Wallboard, now: RwSignal<i64>) -> impl IntoView {
    let ordered: Vec<Tile> = board.ordered().into_iter().cloned().collect();
    let attention = ordered
        .iter()
        .filter(|t| t.state().needs_attention())
        .count();
    let grid = layout(attention, ordered.len() - attention);
    let counts = board.counts();
    let total = board.tiles.len();
    let mut tiles = ordered;
    let folded = tiles.split_off(grid.shown.min(tiles.len()));
    let style = format!(
        "grid-template-columns: repeat({}, minmax(0, 1fr)); grid-template-rows: repeat({}, minmax(0, 1fr));",
        grid.columns, grid.rows
    );
    let unknown = board.unknown_sites;
    view! {
        <header class="wb-header">
            <div class="wb-title">
                <Logo />
                <div>
                    <h1>{board.team_name.clone()}</h1>
                    <p>{format!("{total} site{}", if total == 1 { "" } else { "s" })}</p>
                </div>
            </div>
            <ul class="wb-counts" aria-label="Sites by state">
                {counts
                    .into_iter()
                    .filter(|(state, n)| *state != BoardState::Idle || *n > 0)
                    .map(|(state, n)| view! {
                        <li class=format!("wb-count state-{state}") class:wb-zero=n == 0>
                            <span class="wb-count-n">{n}</span>
                            <span class="wb-count-label">{state.label()}</span>
                        </li>
                    })
                    .collect_view()}
            </ul>
        </header>
        {if tiles.is_empty() && folded.is_empty() {
            view! {
                <main class="wb-empty">
                    <h2>"No sites to show"</h2>
                    <p>{if unknown > 0 {
                        "None of the sites this address names belong to the team."
                    } else {
                        "Create a site and it appears here, live."
                    }}</p>
                </main>
            }
            .into_any()
        } else {
            view! {
                <main class="wb-grid" style=style aria-label="Sites">
                    {tiles
                        .into_iter()
                        .map(|tile| {
                            let big = grid.big && tile.state().needs_attention();
                            view! { <TileView tile big now /> }
                        })
                        .collect_view()}
                    {(!folded.is_empty()).then(|| view! { <Folded tiles=folded /> })}
                </main>
            }
            .into_any()
        }}
        <footer class="wb-recent" aria-label="Latest operations">
            {(unknown > 0).then(|| view! {
                <p class="wb-note">{format!("{unknown} site id(s) in this address are not the team's.")}</p>
            })}
            <ol>
                {board.recent.into_iter().map(|d| view! { <RecentOp deployment=d now /> }).collect_view()}
            </ol>
        </footer>
        <Fit grid />
    }
}

/// Exposes the grid's cut for tests and tools reading the page.
#[component]
fn Fit(grid: BoardLayout) -> impl IntoView {
    view! {
        <span
            hidden
            data-columns=grid.columns
            data-rows=grid.rows
            data-shown=grid.shown
            data-folded=grid.folded
            class="wb-fit"
        ></span>
    }
}

#[component]
fn TileView(tile: Tile, big: bool, now: RwSignal<i64>) -> impl IntoView {
    let state = tile.state();
    let class = format!("tile state-{state}{}", if big { " tile-big" } else { "" });
    let label = format!("{}: {}", tile.name, state.label().to_lowercase());
    let body = match state {
        BoardState::Building | BoardState::Deploying | BoardState::Queued => {
            let active = tile.active.clone();
            let t = tile.clone();
            let fraction = t
                .activity(now.get_untracked())
                .map(|a| a.fraction)
                .unwrap_or(0.0);
            let percent = (fraction * 100.0).round() as i64;
            let operation = active
                .as_ref()
                .map(|a| format!("{} · {}", a.operation_name, Tile::started_by(a)))
                .unwrap_or_default();
            view! {
                <p class="tile-op">{operation}</p>
                <p class="tile-step">{move || t.activity(now.get()).map(|a| a.detail)}</p>
                <div class="tile-bar" role="progressbar" aria-label="Progress"
                    aria-valuemin="0" aria-valuemax="100" aria-valuenow=percent>
                    <span style=format!("width: {percent}%")></span>
                </div>
                {big.then(|| active.map(|a| view! { <Steps deployment=a /> }))}
                {tile.failed_at().map(|f| view! { <p class="tile-note">{format!("Last run: {f}")}</p> })}
            }
            .into_any()
        }
        BoardState::Failed => {
            let failure = tile.failure.clone();
            let when = failure.as_ref().and_then(|f| f.finished_at);
            let who = failure.as_ref().map(Tile::started_by).unwrap_or_default();
            let error = failure.as_ref().and_then(|f| f.error_message.clone());
            view! {
                <p class="tile-fail">{tile.failed_at()}</p>
                <p class="tile-meta">
                    {when.map(|w| view! { {move || time::relative(w, now.get())} " · " })}
                    {failure.clone().map(|f| f.operation_name)} " · " {who}
                </p>
                {big.then(|| view! {
                    {error.map(|e| view! { <p class="tile-error" title=e.clone()>{e.clone()}</p> })}
                    {failure.map(|f| view! { <Steps deployment=f /> })}
                })}
            }
            .into_any()
        }
        BoardState::Stopped => view! { <p class="tile-op">"Serves nothing"</p> }.into_any(),
        BoardState::Idle => view! { <p class="tile-op">"Nothing deployed yet"</p> }.into_any(),
        BoardState::Ready => ().into_any(),
    };
    let live = tile.current.clone().map(|current| {
        let source = tile.live_source().unwrap_or_default();
        let went_live = current.finished_at;
        view! {
            <p class="tile-live"><code>{source}</code></p>
            <p class="tile-meta">
                {went_live.map(|w| view! { "live " {move || time::relative(w, now.get())} " · " })}
                {Tile::started_by(&current)}
            </p>
        }
    });
    view! {
        <article class=class data-site=tile.site_id.to_string() data-state=state.as_str() aria-label=label>
            <span class="tile-state">{state.label()}</span>
            {tile.lock.clone().map(|lock| view! { <span class="tile-lock" title=lock.refusal()><LockIcon />" Locked"</span> })}
            <h2 class="tile-name" title=tile.name.clone()>{tile.name.clone()}</h2>
            {body}
            {live}
        </article>
    }
}

/// A large tile's steps, each with its state.
#[component]
fn Steps(deployment: Deployment) -> impl IntoView {
    view! {
        <ol class="tile-steps" aria-label="Steps">
            {deployment
                .steps
                .into_iter()
                .map(|step| view! {
                    <li class=format!("tile-step-{}", step.status)>
                        <span class="tile-step-icon" aria-hidden="true"></span>
                        {step.name}
                        <span class="visually-hidden">{format!(" ({})", step.status)}</span>
                    </li>
                })
                .collect_view()}
        </ol>
    }
}

/// The healthy sites past what the screen holds, in one cell.
#[component]
fn Folded(tiles: Vec<Tile>) -> impl IntoView {
    let mut by_state: Vec<(BoardState, usize)> = Vec::new();
    for tile in &tiles {
        let state = tile.state();
        match by_state.iter_mut().find(|(s, _)| *s == state) {
            Some((_, n)) => *n += 1,
            None => by_state.push((state, 1)),
        }
    }
    let summary = by_state
        .iter()
        .map(|(s, n)| format!("{n} {}", s.label().to_lowercase()))
        .collect::<Vec<_>>()
        .join(" · ");
    let names = tiles
        .iter()
        .map(|t| t.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let all_ready = by_state.iter().all(|(s, _)| *s == BoardState::Ready);
    let title = if all_ready {
        format!("{} more ready", tiles.len())
    } else {
        format!("{} more", tiles.len())
    };
    view! {
        <article class="tile tile-fold" aria-label=title.clone() data-folded=tiles.len()>
            <h2 class="tile-name">{title.clone()}</h2>
            <p class="tile-op">{summary}</p>
            <p class="tile-names" title=names.clone()>{names.clone()}</p>
        </article>
    }
}

#[component]
fn RecentOp(deployment: Deployment, now: RwSignal<i64>) -> impl IntoView {
    let at = deployment.finished_at.unwrap_or(deployment.created_at);
    view! {
        <li class="wb-op">
            <DeploymentBadge deployment=deployment.clone() />
            <span class="wb-op-site">{deployment.site_name.clone()}</span>
            <span class="wb-op-name">{deployment.operation_name.clone()}</span>
            <span class="wb-op-time">{move || time::relative(at, now.get())}</span>
        </li>
    }
}

/// Whether the board receives changes, always in view.
#[component]
pub fn Connection(
    status: RwSignal<LiveStatus>,
    offline_since: RwSignal<Option<i64>>,
    now: RwSignal<i64>,
) -> impl IntoView {
    let stale = move || {
        offline_since
            .get()
            .is_some_and(|since| now.get() - since >= STALE_AFTER_MS)
    };
    let label = move || match status.get() {
        LiveStatus::Live => "Live",
        _ if stale() => "Offline",
        LiveStatus::Connecting => "Connecting…",
        LiveStatus::Reconnecting => "Reconnecting…",
    };
    let class = move || match status.get() {
        LiveStatus::Live => "wb-live wb-live-on",
        _ if stale() => "wb-live wb-live-off",
        _ => "wb-live wb-live-connecting",
    };
    view! {
        <span class=class role="status" aria-live="polite">
            <span class="wb-live-dot" aria-hidden="true"></span>
            {label}
        </span>
    }
}

/// After [`STALE_AFTER_MS`] without a connection: since when the board
/// shows old news.
#[component]
pub fn StaleBanner(offline_since: RwSignal<Option<i64>>, now: RwSignal<i64>) -> impl IntoView {
    move || {
        let since = offline_since.get()?;
        let now = now.get();
        (now - since >= STALE_AFTER_MS).then(|| {
            let (clock, _) = time::wall_clock(since, time::local_offset_minutes(since));
            view! {
                <div class="wb-stale" role="alert">
                    <strong>{format!("Not connected since {clock}")}</strong>
                    {format!(" ({}): this board may be out of date. Reconnecting…", time::relative(since, now))}
                </div>
            }
        })
    }
}

#[component]
pub fn Clock(now: RwSignal<i64>) -> impl IntoView {
    let parts = move || {
        let ms = now.get();
        time::wall_clock(ms, time::local_offset_minutes(ms))
    };
    view! {
        <div class="wb-clock" aria-label="Time">
            <span class="wb-time">{move || parts().0}</span>
            <span class="wb-date">{move || parts().1}</span>
        </div>
    }
}
