//! Insights: how the team ships (the four DORA metrics) and how long its
//! pipelines' steps take, over the last 7, 30 or 90 days, for every site
//! or one. The window and the site are in the URL; every chart is drawn
//! on the server, and the page refetches when a deployment ends.

mod metrics;
mod steps;

use crate::api::insights::get_insights;
use crate::api::sites::list_sites;
use crate::components::states::{EmptyState, ErrorState, LoadingRows};
use crate::live::use_live;
use crate::model::insights::{DEFAULT_WINDOW, Insights, WINDOWS};
use crate::model::live::LiveMessage;
use crate::model::{Site, SiteId};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

#[component]
pub fn InsightsPage() -> impl IntoView {
    let query = use_query_map();
    let live = use_live();
    let refresh = RwSignal::new(0u64);
    live.subscribe(move |message| {
        if let LiveMessage::Deployment { deployment, .. } = message
            && deployment.status.is_finished()
        {
            refresh.update(|n| *n += 1);
        }
    });
    let params = move || {
        query.with(|q| {
            let get = |k: &str| q.get(k).filter(|v| !v.is_empty());
            (get("site"), get("days"))
        })
    };
    let insights = Resource::new(
        move || (params(), refresh.get(), live.resync.get()),
        |((site, days), _, _)| get_insights(site, days),
    );
    let sites = Resource::new(|| (), |_| list_sites());
    view! {
        <Title text="Insights" />
        <div class="page-header">
            <div>
                <h1>"Insights"</h1>
                <p class="muted">"How often your team ships, how fast a change goes live, how often one fails and how soon it is fixed."</p>
            </div>
        </div>
        // Outside the page's transition, so a choice keeps its focus.
        <Suspense fallback=|| view! { <Controls sites=Vec::new() /> }>
            {move || Suspend::new(async move {
                view! { <Controls sites=sites.await.unwrap_or_default() /> }
            })}
        </Suspense>
        <Transition fallback=|| view! { <LoadingRows rows=6 /> }>
            {move || Suspend::new(async move {
                match (insights.await, sites.await) {
                    (Err(error), _) | (_, Err(error)) => view! { <ErrorState error /> }.into_any(),
                    (Ok(data), Ok(sites)) => {
                        view! { <InsightsBody data has_sites=!sites.is_empty() /> }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

fn href(site: Option<SiteId>, days: u32) -> String {
    match site {
        Some(site) => format!("/insights?site={site}&days={days}"),
        None => format!("/insights?days={days}"),
    }
}

/// The site and the window, as the URL has them. Without JavaScript the
/// form submits as a GET.
#[component]
fn Controls(sites: Vec<Site>) -> impl IntoView {
    let query = use_query_map();
    let site =
        Memo::new(move |_| query.with(|q| q.get("site").and_then(|s| s.parse::<SiteId>().ok())));
    let days = Memo::new(move |_| {
        query
            .with(|q| q.get("days").and_then(|d| d.parse().ok()))
            .filter(|d| WINDOWS.contains(d))
            .unwrap_or(DEFAULT_WINDOW)
    });
    let navigate = use_navigate();
    let on_site = move |ev| {
        let site = event_target_value(&ev).parse().ok();
        navigate(&href(site, days.get_untracked()), Default::default());
    };
    let chosen = move || site.get().map(|s| s.to_string()).unwrap_or_default();
    view! {
        <form class="filters insights-controls" method="get" action="/insights" aria-label="What the insights cover">
            <label class="filter">
                <span>"Site"</span>
                <select name="site" on:change=on_site prop:value=chosen>
                    <option value="" selected=move || site.get().is_none()>"All sites"</option>
                    {sites.into_iter().map(|s| {
                        let id = s.id;
                        view! { <option value=id.to_string() selected=move || site.get() == Some(id)>{s.name}</option> }
                    }).collect_view()}
                </select>
            </label>
            <input type="hidden" name="days" value=move || days.get().to_string() />
            <noscript><button class="button button-small" type="submit">"Apply"</button></noscript>
            <nav class="segmented" aria-label="Window">
                {WINDOWS.into_iter().map(|d| {
                    let current = move || days.get() == d;
                    view! {
                        <a href=move || href(site.get(), d) class:current=current aria-current=move || current().then_some("page")>
                            {format!("{d} days")}
                        </a>
                    }
                }).collect_view()}
            </nav>
        </form>
    }
}

#[component]
fn InsightsBody(data: Insights, has_sites: bool) -> impl IntoView {
    if !has_sites {
        return view! {
            <EmptyState
                title="No sites yet"
                body="Insights summarise your sites' deploys. Create a site; once it deploys, its numbers show up here."
            >
                <a class="button button-primary" href="/sites/new">"Create a site"</a>
            </EmptyState>
        }
        .into_any();
    }
    let nothing = data.failure_rate.samples == 0 && data.pipelines.is_empty();
    if nothing {
        let longer = data.days < 90;
        let body = format!(
            "No deployment ended in the last {} days{}.",
            data.days,
            if data.site_id.is_some() {
                " on this site"
            } else {
                ""
            }
        );
        return view! {
            <EmptyState title="Nothing to summarise yet" body>
                {longer.then(|| view! { <a class="button" href=href(data.site_id, 90)>"Look at 90 days"</a> })}
            </EmptyState>
        }
        .into_any();
    }
    view! {
        <metrics::MetricCards data=data.clone() />
        <steps::StepDurations data />
    }
    .into_any()
}
