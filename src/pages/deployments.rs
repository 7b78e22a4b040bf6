//! The team's deployment history, newest first, filtered by the URL and
//! updated live.

use crate::api::deployments::list_deployments;
use crate::api::sites::list_sites;
use crate::components::deployment_table::{Accepts, DeploymentTable};
use crate::components::filters::{DeploymentFilters, Pager};
use crate::components::states::{EmptyState, ErrorState, LoadingRows};
use crate::live::use_live;
use crate::model::{DeploymentStatus, PipelineType};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn DeploymentsPage() -> impl IntoView {
    let query = use_query_map();
    let live = use_live();
    let params = move || {
        query.with(|q| {
            let get = |k: &str| q.get(k).filter(|v| !v.is_empty());
            (get("site"), get("status"), get("type"), get("cursor"))
        })
    };
    let page = Resource::new(
        move || (params(), live.resync.get()),
        |((site, status, kind, cursor), _)| list_deployments(site, status, kind, cursor),
    );
    let sites = Resource::new(|| (), |_| list_sites());
    view! {
        <Title text="Deployments" />
        <div class="page-header">
            <div>
                <h1>"Deployments"</h1>
                <p class="muted">"Every pipeline operation of your team, newest first."</p>
            </div>
        </div>
        <Transition fallback=|| view! { <LoadingRows rows=6 /> }>
            {move || Suspend::new(async move {
                let sites = sites.await.unwrap_or_default();
                let (site, status, kind, cursor) = params();
                let filtered = site.is_some() || status.is_some() || kind.is_some();
                let accepts = Accepts {
                    first_page: cursor.is_none(),
                    site_id: site.and_then(|s| s.parse().ok()),
                    status: status.as_deref().and_then(DeploymentStatus::parse),
                    pipeline_type: kind.as_deref().and_then(PipelineType::parse),
                };
                let body = match page.await {
                    Err(error) => view! { <ErrorState error /> }.into_any(),
                    Ok(page) => {
                        let empty = move || if filtered {
                            view! {
                                <EmptyState
                                    title="Nothing matches these filters"
                                    body="No deployment of your team has this site, status and type. Try another filter."
                                >
                                    <a class="button" href="/">"Clear filters"</a>
                                </EmptyState>
                            }.into_any()
                        } else {
                            view! {
                                <EmptyState
                                    title="No deployments yet"
                                    body="When a site is deployed, created, cloned or restarted, the operation shows up here with every step it ran."
                                >
                                    <a class="button button-primary" href="/sites">"Go to sites"</a>
                                </EmptyState>
                            }.into_any()
                        };
                        view! {
                            <DeploymentTable deployments=page.deployments accepts empty />
                            <Pager
                                path="/".to_string()
                                older=page.next_cursor.map(|c| c.to_string())
                                at_start=cursor.is_none()
                            />
                        }.into_any()
                    }
                };
                view! {
                    <DeploymentFilters path="/".to_string() sites />
                    {body}
                }
            })}
        </Transition>
    }
}
