//! The steps of the detail page: each step's state and its log, and the
//! tools the logs share (search, times, wrap, the whole log's download).

use crate::components::log_view::{LogBook, LogView, StepLog};
use crate::components::status::StatusBadge;
use crate::model::{Deployment, StepId, StepStatus, time};
use leptos::prelude::*;

/// What a step's body shows.
#[derive(Clone, Copy, PartialEq)]
enum Body {
    Waiting,
    DidNotRun,
    NoOutput,
    Log,
}

/// One step: its state, and its log.
#[component]
pub fn StepItem(
    step_id: StepId,
    summary: Memo<Deployment>,
    book: LogBook,
    log: StepLog,
) -> impl IntoView {
    let info =
        Memo::new(move |_| summary.with(|d| d.steps.iter().find(|s| s.id == step_id).cloned()));
    let finished = Memo::new(move |_| summary.with(Deployment::is_finished));
    let status =
        Memo::new(move |_| info.with(|s| s.as_ref().map_or(StepStatus::Queued, |s| s.status)));
    let started_at = Signal::derive(move || info.with(|s| s.as_ref().and_then(|s| s.started_at)));
    let running = Signal::derive(move || status.get() == StepStatus::Running);
    let body = Memo::new(move |_| {
        log.rev.track();
        let empty = log.log.with_value(|l| l.end() == 0);
        match status.get() {
            StepStatus::Queued if finished.get() => Body::DidNotRun,
            StepStatus::Queued => Body::Waiting,
            s if s.is_finished() && empty => Body::NoOutput,
            _ => Body::Log,
        }
    });
    let took = move || {
        info.with(
            |s| match s.as_ref().map(|s| (s.started_at, s.finished_at)) {
                Some((Some(a), Some(b))) => Some(time::duration(b - a)),
                _ => None,
            },
        )
    };
    let opened =
        Memo::new(move |was: Option<&bool>| was.copied().unwrap_or(false) || log.open.get());
    let raw = format!("/deployments/{}/steps/{step_id}/log", book.deployment_id);
    let details = NodeRef::<leptos::html::Details>::new();
    let on_toggle = move |_| {
        if let Some(el) = details.get_untracked() {
            log.open.set(el.open());
        }
    };
    let name = move || info.with(|s| s.as_ref().map(|s| s.name.clone()).unwrap_or_default());
    let phase = move || {
        info.with(|s| s.as_ref().and_then(|s| s.phase))
            .map(|p| view! { <span class="tag">{p.as_str()}</span> })
    };
    view! {
        <li class=move || format!("step step-{}", status.get().as_str())>
            <details node_ref=details open=move || log.open.get() on:toggle=on_toggle>
                <summary>
                    <span class="step-order">{log.number}</span>
                    <span class="step-name">{name}</span>
                    {phase}
                    <span class="step-end">
                        <span class="step-time">{took}</span>
                        {move || view! { <StatusBadge word=status.get().as_str() /> }}
                    </span>
                </summary>
                <div class="step-body">
                    {move || match body.get() {
                        Body::Waiting => view! { <p class="muted step-note">"Waiting to run."</p> }.into_any(),
                        Body::DidNotRun => view! { <p class="muted step-note">"Did not run."</p> }.into_any(),
                        Body::NoOutput => view! { <p class="muted step-note">"No output."</p> }.into_any(),
                        // Drawn once first opened, so closed steps cost the page
                        // little; without JavaScript the raw log is a link away.
                        Body::Log => { let raw = raw.clone(); view! {
                            {move || if opened.get() {
                                view! { <LogView book step=log started_at running /> }.into_any()
                            } else {
                                view! { <p class="log-note"><a href=raw.clone() target="_blank">"Open this step's log"</a></p> }.into_any()
                            }}
                        }.into_any() }
                    }}
                </div>
            </details>
        </li>
    }
}

/// Search across every step's log, with the match count and next and
/// previous (Enter, Shift+Enter); times and wrap; the whole log's download.
#[component]
pub fn LogTools(book: LogBook) -> impl IntoView {
    let count = move || {
        let total = book.total.get();
        if book.query.with(String::is_empty) {
            String::new()
        } else if total == 0 {
            "No matches".to_string()
        } else {
            match book.position() {
                Some(at) => format!("{} of {total}", at + 1),
                None => format!("{total} matches"),
            }
        }
    };
    let on_input = move |ev| {
        book.query.set(event_target_value(&ev));
        book.search();
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" {
            ev.prevent_default();
            book.step_match(!ev.shift_key());
        } else if ev.key() == "Escape" {
            book.query.set(String::new());
            book.search();
        }
    };
    let download = format!("/deployments/{}/log?download", book.deployment_id);
    view! {
        <div class="log-toolbar">
            <div class="log-search" role="search">
                <input type="search" class="input" placeholder="Search logs" aria-label="Search logs"
                    prop:value=move || book.query.get() on:input=on_input on:keydown=on_key />
                <span class="log-count" aria-live="polite" data-ms=move || format!("{:.1}", book.search_ms.get())>{count}</span>
                <button type="button" class="button button-small" aria-label="Previous match" title="Previous match (Shift+Enter)"
                    disabled=move || book.total.get() == 0 on:click=move |_| book.step_match(false)>"↑"</button>
                <button type="button" class="button button-small" aria-label="Next match" title="Next match (Enter)"
                    disabled=move || book.total.get() == 0 on:click=move |_| book.step_match(true)>"↓"</button>
            </div>
            <label class="log-toggle">
                <input type="checkbox" prop:checked=move || book.times.get()
                    on:change=move |ev| book.times.set(event_target_checked(&ev)) />
                "Times"
            </label>
            <label class="log-toggle">
                <input type="checkbox" prop:checked=move || book.wrap.get()
                    on:change=move |ev| book.wrap.set(event_target_checked(&ev)) />
                "Wrap lines"
            </label>
            <a class="button button-small" href=download download title="Every step's output in one text file">"Download log"</a>
        </div>
    }
}
