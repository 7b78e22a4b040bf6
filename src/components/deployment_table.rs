//! A table of deployments, shared by the team's history and a site's page.
//! It updates in place from the live channel: statuses, step progress and
//! durations change, and new deployments that belong on it appear on top.

use crate::components::status::DeploymentBadge;
use crate::components::time::RelativeTime;
use crate::live::use_live;
use crate::model::live::{LiveMessage, apply_step, merge_into_list};
use crate::model::{Deployment, DeploymentStatus, PipelineType, SiteId, time};
use leptos::prelude::*;

/// Which new deployments belong on a table: only the first page takes
/// them, and only those its filters match.
#[derive(Clone, Copy, Debug, Default)]
pub struct Accepts {
    pub first_page: bool,
    pub site_id: Option<SiteId>,
    pub status: Option<DeploymentStatus>,
    pub pipeline_type: Option<PipelineType>,
}

impl Accepts {
    fn accepts(&self, d: &Deployment) -> bool {
        self.first_page
            && self.site_id.is_none_or(|s| s == d.site_id)
            && self.status.is_none_or(|s| s == d.status)
            && self.pipeline_type.is_none_or(|t| t == d.pipeline_type)
    }
}

#[component]
pub fn DeploymentTable(
    deployments: Vec<Deployment>,
    /// The team's history names each row's site; a site's own page does not.
    #[prop(default = true)]
    show_site: bool,
    accepts: Accepts,
    /// Shown while the table has no rows.
    #[prop(into)]
    empty: ViewFn,
) -> impl IntoView {
    let rows = RwSignal::new(deployments);
    use_live().subscribe(move |message| match message {
        LiveMessage::Deployment { deployment, .. } => {
            rows.maybe_update(|r| merge_into_list(r, deployment, |d| accepts.accepts(d)));
        }
        LiveMessage::Step { step, .. } => {
            rows.maybe_update(|r| r.iter_mut().any(|d| apply_step(d, step)));
        }
        _ => {}
    });
    move || {
        if rows.with(Vec::is_empty) {
            return empty.run();
        }
        view! {
            <div class="table-wrap">
                <table class="table deployments-table">
                    <thead>
                        <tr>
                            <th>"Operation"</th>
                            {show_site.then(|| view! { <th class="col-site">"Site"</th> })}
                            <th>"Status"</th>
                            <th class="col-progress">"Progress"</th>
                            <th>"Triggered"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For
                            each=move || rows.get()
                            key=|d| (d.id, d.version, d.steps.iter().map(|s| s.version).sum::<i64>())
                            let:d
                        >
                            <DeploymentRow d show_site />
                        </For>
                    </tbody>
                </table>
            </div>
        }
        .into_any()
    }
}

#[component]
fn DeploymentRow(d: Deployment, show_site: bool) -> impl IntoView {
    let href = format!("/deployments/{}", d.id);
    let site_href = format!("/sites/{}", d.site_id);
    let progress = match d.progress() {
        Some(p) => view! { <span class="progress-text">{p}</span> }.into_any(),
        None => {
            let took = d
                .duration_ms()
                .map(time::duration)
                .unwrap_or_else(|| "—".into());
            view! { <span class="muted" title="Duration">{took}</span> }.into_any()
        }
    };
    view! {
        <tr>
            <td class="cell-main">
                <a class="cell-title" href=href>{d.operation_name.clone()}</a>
                <div class="cell-sub">
                    <span class="tag">{d.pipeline_type.label()}</span>
                    " "
                    <code>{d.id.short()}</code>
                    {show_site.then(|| view! { <span class="only-narrow">{format!(" · {}", d.site_name)}</span> })}
                </div>
            </td>
            {show_site.then(|| view! { <td class="col-site"><a class="site-link" href=site_href>{d.site_name.clone()}</a></td> })}
            <td><DeploymentBadge deployment=d.clone() /></td>
            <td class="col-progress">{progress}</td>
            <td>
                <div class="truncate">{d.triggered_by.clone()}</div>
                <div class="cell-sub"><RelativeTime ms=d.created_at /></div>
            </td>
        </tr>
    }
}
