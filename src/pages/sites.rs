//! The team's sites with their current deployment.

use crate::api::sites::list_sites;
use crate::components::states::{EmptyState, ErrorState, LoadingRows};
use crate::components::status::{DeploymentBadge, SiteStateBadge};
use crate::components::time::RelativeTime;
use crate::model::Site;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SitesPage() -> impl IntoView {
    let sites = Resource::new(|| (), |_| list_sites());
    view! {
        <Title text="Sites" />
        <div class="page-header">
            <div>
                <h1>"Sites"</h1>
                <p class="muted">"Each deployable environment of your team and what it serves now."</p>
            </div>
        </div>
        <Suspense fallback=|| view! { <LoadingRows rows=2 /> }>
            {move || Suspend::new(async move {
                match sites.await {
                    Err(error) => view! { <ErrorState error /> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <EmptyState title="No sites yet" body="A site is a deployable environment: a repository and a branch. Your team has none so far." />
                    }.into_any(),
                    Ok(list) => view! {
                        <div class="card-grid">
                            {list.into_iter().map(|site| view! { <SiteCard site /> }).collect_view()}
                        </div>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SiteCard(site: Site) -> impl IntoView {
    let current = site.current_deployment.clone();
    view! {
        <article class="card site-card">
            <header class="card-header">
                <h2>{site.name.clone()}</h2>
                <SiteStateBadge state=site.state />
            </header>
            <dl class="facts">
                <dt>"Repository"</dt>
                <dd class="truncate" title=site.repository.clone()>{site.repository.clone()}</dd>
                <dt>"Branch"</dt>
                <dd><code>{site.branch.clone()}</code></dd>
                <dt>"Auto-deploy"</dt>
                <dd>{if site.auto_deploy { "on" } else { "off" }}</dd>
                <dt>"Current"</dt>
                <dd>
                    {match current {
                        Some(d) => view! {
                            <DeploymentBadge deployment=d.clone() />
                            " "
                            <RelativeTime ms=d.finished_at.unwrap_or(d.created_at) />
                        }.into_any(),
                        None => view! { <span class="muted">"Not deployed yet"</span> }.into_any(),
                    }}
                </dd>
            </dl>
        </article>
    }
}
