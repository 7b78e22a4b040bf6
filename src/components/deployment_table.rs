//! A table of deployments, shared by the team's history and a site's page.

use crate::components::status::DeploymentBadge;
use crate::components::time::RelativeTime;
use crate::model::{Deployment, time};
use leptos::prelude::*;

#[component]
pub fn DeploymentTable(
    deployments: Vec<Deployment>,
    /// The team's history names each row's site; a site's own page does not.
    #[prop(default = true)]
    show_site: bool,
) -> impl IntoView {
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
                    {deployments
                        .into_iter()
                        .map(|d| view! { <DeploymentRow d show_site /> })
                        .collect_view()}
                </tbody>
            </table>
        </div>
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
