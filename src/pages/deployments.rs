//! The team's deployment history, newest first, filtered by the URL.

use crate::api::deployments::list_deployments;
use crate::api::sites::list_sites;
use crate::components::deployment_table::DeploymentTable;
use crate::components::filters::{DeploymentFilters, Pager};
use crate::components::states::{EmptyState, ErrorState, LoadingRows};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn DeploymentsPage() -> impl IntoView {
    let query = use_query_map();
    let params = move || {
        query.with(|q| {
            let get = |k: &str| q.get(k).filter(|v| !v.is_empty());
            (get("site"), get("status"), get("type"), get("cursor"))
        })
    };
    let page = Resource::new(params, |(site, status, kind, cursor)| {
        list_deployments(site, status, kind, cursor)
    });
    let sites = Resource::new(|| (), |_| list_sites());
    view! {
        <Title text="Deployments" />
        <div class="page-header">
            <div>
                <h1>"Deployments"</h1>
                <p class="muted">"Every pipeline operation of your team, newest first."</p>
            </div>
        </div>
        <Suspense fallback=|| view! { <LoadingRows rows=6 /> }>
            {move || Suspend::new(async move {
                let sites = sites.await.unwrap_or_default();
                let (_, _, _, cursor) = params();
                let filtered = {
                    let (site, status, kind, _) = params();
                    site.is_some() || status.is_some() || kind.is_some()
                };
                let body = match page.await {
                    Err(error) => view! { <ErrorState error /> }.into_any(),
                    Ok(page) if page.deployments.is_empty() && filtered => view! {
                        <EmptyState
                            title="Nothing matches these filters"
                            body="No deployment of your team has this site, status and type. Try another filter."
                        >
                            <a class="button" href="/">"Clear filters"</a>
                        </EmptyState>
                    }.into_any(),
                    Ok(page) if page.deployments.is_empty() => view! {
                        <EmptyState
                            title="No deployments yet"
                            body="When a site is deployed, created, cloned or restarted, the operation shows up here with every step it ran."
                        >
                            <a class="button button-primary" href="/sites">"Go to sites"</a>
                        </EmptyState>
                    }.into_any(),
                    Ok(page) => view! {
                        <DeploymentTable deployments=page.deployments />
                        <Pager
                            path="/".to_string()
                            older=page.next_cursor.map(|c| c.to_string())
                            at_start=cursor.is_none()
                        />
                    }.into_any(),
                };
                view! {
                    <DeploymentFilters path="/".to_string() sites />
                    {body}
                }
            })}
        </Suspense>
    }
}
