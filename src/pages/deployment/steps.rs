//! One step of the detail page: its state and its live output.

use crate::components::status::StatusBadge;
use crate::model::{Deployment, DeploymentStep, StepStatus, ansi, time};
use leptos::prelude::*;

/// One step: its state, and its output as a terminal shows it, following
/// new output unless the reader scrolled up.
#[component]
pub fn StepItem(
    step: DeploymentStep,
    open: bool,
    finished: Memo<bool>,
    state: RwSignal<Deployment>,
) -> impl IntoView {
    let took = match (step.started_at, step.finished_at) {
        (Some(s), Some(f)) => Some(time::duration(f - s)),
        _ => None,
    };
    let status = step.status.as_str();
    let step_id = step.id;
    let deployment_id = step.deployment_id;
    let output = Memo::new(move |_| {
        state.with(|d| {
            d.steps
                .iter()
                .find(|s| s.id == step_id)
                .map(|s| (s.output_offset, s.output.clone()))
                .unwrap_or_default()
        })
    });
    let body = if step.status == StepStatus::Queued {
        let note = move || {
            if finished.get() {
                "Did not run."
            } else {
                "Waiting to run."
            }
        };
        view! { <p class="muted step-note">{note}</p> }.into_any()
    } else if step.status.is_finished()
        && output.with_untracked(|(offset, text)| *offset == 0 && text.is_empty())
    {
        view! { <p class="muted step-note">"No output."</p> }.into_any()
    } else {
        let log_href = format!("/deployments/{deployment_id}/steps/{step_id}/log");
        let pre = NodeRef::<leptos::html::Pre>::new();
        let follow = StoredValue::new(true);
        follow_output(pre, follow, output);
        view! {
            {move || output.with(|(offset, text)| (*offset > 0).then(|| {
                let note = format!("Showing the last {} of {}. ", time::bytes(text.len() as i64), time::bytes(*offset + text.len() as i64));
                view! {
                    <p class="log-note">{note}<a href=log_href.clone() target="_blank">"Open the full log"</a></p>
                }
            }))}
            <pre
                class="log"
                node_ref=pre
                on:scroll=move |_| remember_follow(pre, follow)
                inner_html=move || output.with(|(_, text)| ansi::to_html(text))
            ></pre>
        }
        .into_any()
    };
    view! {
        <li class=format!("step step-{status}")>
            <details open=open>
                <summary>
                    <span class="step-order">{step.sort_order}</span>
                    <span class="step-name">{step.name.clone()}</span>
                    {step.phase.map(|p| view! { <span class="tag">{p.as_str()}</span> })}
                    <span class="step-end">
                        <span class="step-time">{took}</span>
                        <StatusBadge word=status />
                    </span>
                </summary>
                <div class="step-body">{body}</div>
            </details>
        </li>
    }
}

/// Keeps a log scrolled to its end as output arrives, while `follow` holds.
fn follow_output(
    pre: NodeRef<leptos::html::Pre>,
    follow: StoredValue<bool>,
    output: Memo<(i64, String)>,
) {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        output.track();
        if follow.get_value()
            && let Some(el) = pre.get_untracked()
        {
            request_animation_frame(move || el.set_scroll_top(el.scroll_height()));
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (pre, follow, output);
}

/// A reader who scrolls up stops the log from following; back at the end, it follows again.
fn remember_follow(pre: NodeRef<leptos::html::Pre>, follow: StoredValue<bool>) {
    #[cfg(feature = "hydrate")]
    if let Some(el) = pre.get_untracked() {
        follow.set_value(el.scroll_top() + el.client_height() >= el.scroll_height() - 24);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (pre, follow);
}
