//! The team's sites with what each serves and runs now.

use crate::api::sites::list_sites;
use crate::components::shell::SessionResource;
use crate::components::states::{EmptyState, ErrorState, LoadingRows};
use crate::components::status::{DeploymentBadge, LockBadge, SiteStateBadge};
use crate::components::time::RelativeTime;
use crate::live::use_live;
use crate::model::Site;
use crate::model::live::LiveMessage;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SitesPage() -> impl IntoView {
    let live = use_live();
    // Any deployment change may change what a site serves or runs.
    let refresh = RwSignal::new(0u64);
    live.subscribe(move |message| {
        if matches!(
            message,
            LiveMessage::Deployment { .. } | LiveMessage::SiteLock { .. }
        ) {
            refresh.update(|n| *n += 1);
        }
    });
    let sites = Resource::new(move || (refresh.get(), live.resync.get()), |_| list_sites());
    let session = expect_context::<SessionResource>();
    view! {
        <Title text="Sites" />
        <Transition fallback=|| view! { <LoadingRows rows=3 /> }>
            {move || Suspend::new(async move {
                let can_act = matches!(session.await, Ok(Some(ref s)) if s.team.role.can_trigger());
                let header = view! {
                    <div class="page-header">
                        <div>
                            <h1>"Sites"</h1>
                            <p class="muted">"Each deployable environment of your team and what it serves now."</p>
                        </div>
                        {can_act.then(|| view! { <a class="button button-primary" href="/sites/new">"New site"</a> })}
                    </div>
                };
                let body = match sites.await {
                    Err(error) => view! { <ErrorState error /> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <EmptyState
                            title="No sites yet"
                            body="A site is a deployable environment: a repository and a branch. Create one and its first deploy starts by itself."
                        >
                            {can_act.then(|| view! { <a class="button button-primary" href="/sites/new">"Create a site"</a> })}
                        </EmptyState>
                    }.into_any(),
                    Ok(list) => view! {
                        <div class="card-grid">
                            {list.into_iter().map(|site| view! { <SiteCard site /> }).collect_view()}
                        </div>
                    }.into_any(),
                };
                view! { {header} {body} }
            })}
        </Transition>
    }
}

#[component]
fn SiteCard(site: Site) -> impl IntoView {
    let href = format!("/sites/{}", site.id);
    view! {
        <article class="card site-card">
            <header class="card-header">
                <h2><a href=href>{site.name.clone()}</a></h2>
                <span class="badges">
                    {site.lock.clone().map(|lock| view! { <LockBadge lock /> })}
                    <SiteStateBadge state=site.state />
                </span>
            </header>
            <dl class="facts">
                <dt>"Repository"</dt>
                <dd class="truncate" title=site.repository.clone()>{site.repository.clone()}</dd>
                <dt>"Branch"</dt>
                <dd><code>{site.branch.clone()}</code></dd>
                <dt>"Current"</dt>
                <dd><CurrentDeployment site=site.clone() /></dd>
                <dt>"Now"</dt>
                <dd><ActiveOperation site /></dd>
            </dl>
        </article>
    }
}

/// The deploy a site serves: its badge, linked, and when it finished.
#[component]
pub fn CurrentDeployment(site: Site) -> impl IntoView {
    match site.current_deployment {
        Some(d) => view! {
            <DeploymentBadge deployment=d.clone() />
            <a class="truncate" href=format!("/deployments/{}", d.id)>{d.operation_name.clone()}</a>
            <span class="muted nowrap"><RelativeTime ms=d.finished_at.unwrap_or(d.created_at) /></span>
        }
        .into_any(),
        None => view! { <span class="muted">"Not deployed yet"</span> }.into_any(),
    }
}

/// What a site is busy with, or "Idle".
#[component]
pub fn ActiveOperation(site: Site) -> impl IntoView {
    match site.active_deployment {
        Some(d) => view! {
            <a class="truncate" href=format!("/deployments/{}", d.id)>
                {d.operation_name.clone()}
                <span class="muted">{format!(" · {}", d.progress().unwrap_or_default())}</span>
            </a>
        }
        .into_any(),
        None => view! { <span class="muted">"Idle"</span> }.into_any(),
    }
}
