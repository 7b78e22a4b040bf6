//! History filters kept in the URL (`?site=&status=&type=`), so a filtered
//! view can be bookmarked, shared and reloaded. Without JavaScript the form
//! submits as a plain GET; hydrated, each change navigates at once.

use crate::model::{DeploymentStatus, PipelineType, Site};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

/// The query keys the filters own; paging (`cursor`) starts over on a change.
const KEYS: [&str; 3] = ["site", "status", "type"];

#[component]
pub fn DeploymentFilters(
    /// The page the filters apply to ("/" or "/sites/<id>").
    path: String,
    /// Sites to choose from; empty hides the site filter.
    #[prop(default = Vec::new())]
    sites: Vec<Site>,
) -> impl IntoView {
    let query = use_query_map();
    let current = move |key: &str| query.with_untracked(|q| q.get(key)).unwrap_or_default();
    let navigate = use_navigate();
    let filter_path = path.clone();
    let set = move |key: &'static str| {
        let navigate = navigate.clone();
        let path = filter_path.clone();
        move |ev| {
            let value = event_target_value(&ev);
            let pairs: Vec<String> = KEYS
                .iter()
                .filter_map(|k| {
                    let v = if *k == key { value.clone() } else { current(k) };
                    (!v.is_empty()).then(|| format!("{k}={v}"))
                })
                .collect();
            let url = if pairs.is_empty() {
                path.clone()
            } else {
                format!("{path}?{}", pairs.join("&"))
            };
            navigate(&url, Default::default());
        }
    };
    let any = KEYS.iter().any(|k| !current(k).is_empty());
    let (site, status, kind) = (current("site"), current("status"), current("type"));
    view! {
        <form class="filters" method="get" action=path.clone() aria-label="Filter deployments">
            {(!sites.is_empty()).then(|| view! {
                <label class="filter">
                    <span>"Site"</span>
                    <select name="site" on:change=set("site")>
                        <option value="" selected=site.is_empty()>"All sites"</option>
                        {sites.into_iter().map(|s| {
                            let id = s.id.to_string();
                            let selected = id == site;
                            view! { <option value=id selected=selected>{s.name}</option> }
                        }).collect_view()}
                    </select>
                </label>
            })}
            <label class="filter">
                <span>"Status"</span>
                <select name="status" on:change=set("status")>
                    <option value="" selected=status.is_empty()>"Any status"</option>
                    {DeploymentStatus::ALL.iter().map(|s| {
                        let selected = s.as_str() == status;
                        view! { <option value=s.as_str() selected=selected>{s.as_str()}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label class="filter">
                <span>"Type"</span>
                <select name="type" on:change=set("type")>
                    <option value="" selected=kind.is_empty()>"Any type"</option>
                    {PipelineType::ALL.iter().map(|t| {
                        let selected = t.as_str() == kind;
                        view! { <option value=t.as_str() selected=selected>{t.label()}</option> }
                    }).collect_view()}
                </select>
            </label>
            <noscript><button class="button button-small" type="submit">"Apply"</button></noscript>
            {any.then(|| view! { <a class="button button-ghost button-small" href=path.clone()>"Clear filters"</a> })}
        </form>
    }
}

/// "Older" and "Newest" links under a page of history; `older` is the
/// cursor of the next page, `at_start` whether this is the first page.
#[component]
pub fn Pager(path: String, older: Option<String>, at_start: bool) -> impl IntoView {
    let query = use_query_map();
    let base: Vec<String> = query.with_untracked(|q| {
        KEYS.iter()
            .filter_map(|k| {
                q.get(k)
                    .filter(|v| !v.is_empty())
                    .map(|v| format!("{k}={v}"))
            })
            .collect()
    });
    let link = move |cursor: Option<&str>| {
        let mut pairs = base.clone();
        if let Some(c) = cursor {
            pairs.push(format!("cursor={c}"));
        }
        if pairs.is_empty() {
            path.clone()
        } else {
            format!("{path}?{}", pairs.join("&"))
        }
    };
    (older.is_some() || !at_start).then(|| view! {
        <nav class="pager" aria-label="Pages">
            {(!at_start).then(|| view! { <a class="button button-small" href=link(None)>"← Newest"</a> })}
            <span class="pager-gap"></span>
            {older.as_deref().map(|c| view! { <a class="button button-small" href=link(Some(c))>"Older →"</a> })}
        </nav>
    })
}
