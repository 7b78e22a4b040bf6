//! One step's log on screen. The page arrives with the last rows drawn by
//! the server; once it runs in the browser only the rows in view (and a
//! margin) are in the document, drawn again as the reader scrolls, so a
//! 100,000-line log costs as little as a short one.

use super::book::{LogBook, StepLog, Whole};
use super::browser;
use super::dom;
use super::rows::{FIRST_ROWS, draw_rows, number_width};
use leptos::prelude::*;

/// A step's log: its tools, its rows, and "Jump to live" while the step
/// runs and the reader has scrolled up.
#[component]
pub fn LogView(
    book: LogBook,
    step: StepLog,
    started_at: Signal<Option<i64>>,
    running: Signal<bool>,
) -> impl IntoView {
    let scroller = NodeRef::<leptos::html::Div>::new();
    let canvas = NodeRef::<leptos::html::Div>::new();
    let rows_el = NodeRef::<leptos::html::Div>::new();
    let probe = NodeRef::<leptos::html::Span>::new();
    let follow = RwSignal::new(true);
    let copied = RwSignal::new(false);
    // What the server draws, and the browser keeps until it draws itself.
    let (first_html, row_count, ln_width) = step.log.with_value(|log| {
        let rows = log.rows(|line| step.folded(line));
        let from = rows.len().saturating_sub(FIRST_ROWS);
        let html = draw_rows(&book, &step, log, &rows[from..], started_at.get_untracked());
        (html, rows.len(), number_width(log))
    });
    // Until the browser draws, the page shows the last rows only.
    let drawn = RwSignal::new(false);
    let deployment = book.deployment_id;
    let raw_href = format!("/deployments/{deployment}/steps/{}/log", step.step_id);
    let download_href = format!("{raw_href}?download");
    let copy = move |_| {
        let done = move || {
            step.log.with_value(|l| dom::copy(l.plain_text()));
            copied.set(true);
        };
        book.load_whole(step, done);
    };
    let jump = move |_| {
        follow.set(true);
        if let Some(el) = scroller.get_untracked() {
            el.set_scroll_top(el.scroll_height());
        }
    };

    let (on_scroll, on_click) = browser::drive(browser::Parts {
        book,
        step,
        started_at,
        running,
        follow,
        drawn,
        scroller,
        canvas,
        rows_el,
        probe,
    });

    let note = move || {
        match step.whole.get() {
        Whole::Loading => Some(view! { <p class="log-note" role="status">"Loading the whole log…"</p> }.into_any()),
        Whole::Failed(message) => Some(view! {
            <p class="log-note form-error" role="alert">{format!("The whole log could not be loaded: {message}")}</p>
        }.into_any()),
        Whole::No | Whole::Yes if !drawn.get() && (row_count > FIRST_ROWS || step.whole.get() == Whole::No) => Some(view! {
            <p class="log-note">{format!("Showing the last {} lines. ", row_count.min(FIRST_ROWS))}
                <a href=raw_href.clone() target="_blank">"Open the whole log"</a></p>
        }.into_any()),
        Whole::No | Whole::Yes => None,
    }
    };
    view! {
        <div class="log-tools">
            {note}
            <span class="log-tools-end">
                {move || running.get().then(|| view! {
                    <button type="button" class="button button-small" aria-pressed=move || follow.get().to_string()
                        on:click=move |_| follow.update(|f| *f = !*f)
                        title="Keep the newest output in view">
                        {move || if follow.get() { "Following" } else { "Follow" }}
                    </button>
                })}
                <button type="button" class="button button-small" on:click=copy title="Copy this step's output">
                    {move || if copied.get() { "Copied" } else { "Copy" }}
                </button>
                <a class="button button-small" href=download_href download title="Save this step's whole output as a text file">"Download"</a>
            </span>
        </div>
        <div class="log-frame">
        <div class="log-view" node_ref=scroller tabindex="0" aria-label=format!("Output of step {}", step.number)
            on:scroll=move |_| on_scroll()>
            <span class="log-probe" node_ref=probe aria-hidden="true">"0000000000"</span>
            <div class="log-canvas" node_ref=canvas style=ln_width>
                <div class="log-rows" node_ref=rows_el inner_html=first_html on:click=on_click></div>
            </div>
        </div>
        {move || (running.get() && !follow.get()).then(|| view! {
            <button type="button" class="button button-small jump-live" on:click=jump>"Jump to live ↓"</button>
        })}
        </div>
    }
}
