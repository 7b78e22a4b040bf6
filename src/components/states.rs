//! Empty, loading and error states that a person understands.

use crate::model::{AppError, ErrorKind};
use leptos::prelude::*;

#[component]
pub fn EmptyState(
    title: &'static str,
    #[prop(into)] body: String,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="empty-state">
            <svg class="empty-icon" viewBox="0 0 24 24" aria-hidden="true">
                <path d="M3 7l9-4 9 4-9 4-9-4zm0 5l9 4 9-4m-18 5l9 4 9-4" fill="none" stroke="currentColor" stroke-width="1.5" stroke-linejoin="round" />
            </svg>
            <h2>{title}</h2>
            <p>{body}</p>
            {children.map(|c| c())}
        </div>
    }
}

/// Grey placeholder rows while data loads.
#[component]
pub fn LoadingRows(#[prop(default = 3)] rows: usize) -> impl IntoView {
    view! {
        <div class="loading" aria-busy="true" aria-label="Loading">
            {(0..rows).map(|_| view! { <div class="skeleton-row"></div> }).collect_view()}
        </div>
    }
}

/// A failed load: what happened and what to do.
#[component]
pub fn ErrorState(error: AppError) -> impl IntoView {
    let signin = error.kind == ErrorKind::Unauthenticated;
    view! {
        <div class="error-state" role="alert">
            <h2>{if signin { "Signed out" } else { "Could not load this page" }}</h2>
            <p>{error.message}</p>
            {signin.then(|| view! { <a class="button" href="/signin">"Sign in"</a> })}
        </div>
    }
}

/// A record that is not there (or is another team's: the two look alike).
/// Answers 404 when rendered on the server.
#[component]
pub fn NotFoundState(
    title: &'static str,
    body: &'static str,
    back_href: &'static str,
    back_label: &'static str,
) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <div class="empty-state" role="alert">
            <h2>{title}</h2>
            <p>{body}</p>
            <a class="button" href=back_href>{back_label}</a>
        </div>
    }
}

/// A list a card loads: a line while it loads, its error, a line when it
/// is empty, or `list` of what came.
#[component]
pub fn CardList<T, F, V>(
    items: Resource<Result<Vec<T>, AppError>>,
    loading: &'static str,
    empty: &'static str,
    list: F,
) -> impl IntoView
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    F: Fn(Vec<T>) -> V + Copy + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! {
        <Transition fallback=move || view! { <p class="muted">{loading}</p> }>
            {move || Suspend::new(async move {
                match items.await {
                    Err(e) => view! { <p class="form-error" role="alert">{e.message}</p> }.into_any(),
                    Ok(found) if found.is_empty() => view! { <p class="muted">{empty}</p> }.into_any(),
                    Ok(found) => list(found).into_any(),
                }
            })}
        </Transition>
    }
}
