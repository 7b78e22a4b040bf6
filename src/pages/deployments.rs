//! The team's deployment history, newest first.

use crate::api::deployments::list_deployments;
use crate::components::states::{EmptyState, ErrorState, LoadingRows};
use crate::components::status::DeploymentBadge;
use crate::components::time::RelativeTime;
use crate::model::{Deployment, StepStatus, time};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn DeploymentsPage() -> impl IntoView {
    let page = Resource::new(|| (), |_| list_deployments(None, None, None, None));
    view! {
        <Title text="Deployments" />
        <div class="page-header">
            <div>
                <h1>"Deployments"</h1>
                <p class="muted">"Every pipeline operation of your team, newest first."</p>
            </div>
        </div>
        <Suspense fallback=|| view! { <LoadingRows rows=5 /> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(error) => view! { <ErrorState error /> }.into_any(),
                    Ok(page) if page.deployments.is_empty() => view! {
                        <EmptyState
                            title="No deployments yet"
                            body="When a site is deployed, created, cloned or restarted, the operation shows up here with every step it ran."
                        >
                            <a class="button button-primary" href="/sites">"Go to sites"</a>
                        </EmptyState>
                    }.into_any(),
                    Ok(page) => view! {
                        <div class="table-wrap">
                            <table class="table">
                                <thead>
                                    <tr>
                                        <th>"Operation"</th>
                                        <th>"Site"</th>
                                        <th>"Status"</th>
                                        <th>"Progress"</th>
                                        <th>"Triggered"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {page.deployments.into_iter().map(|d| view! { <DeploymentRow d /> }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn DeploymentRow(d: Deployment) -> impl IntoView {
    let progress = progress_text(&d);
    view! {
        <tr>
            <td>
                <div class="cell-title">{d.operation_name.clone()}</div>
                <div class="cell-sub"><span class="tag">{d.pipeline_type.label()}</span> " " <code>{d.id.short()}</code></div>
            </td>
            <td>{d.site_name.clone()}</td>
            <td><DeploymentBadge deployment=d.clone() /></td>
            <td class="muted">{progress}</td>
            <td>
                <div>{d.triggered_by.clone()}</div>
                <div class="cell-sub"><RelativeTime ms=d.created_at /></div>
            </td>
        </tr>
    }
}

/// "step 2 of 5: Build" while active, the duration once finished.
fn progress_text(d: &Deployment) -> String {
    if d.is_finished() {
        return d
            .duration_ms()
            .map(time::duration)
            .unwrap_or_else(|| "—".into());
    }
    let total = d.steps.len();
    match d.steps.iter().position(|s| s.status == StepStatus::Running) {
        Some(i) => format!("step {} of {total}: {}", i + 1, d.steps[i].name),
        None => format!("waiting · {total} steps"),
    }
}
