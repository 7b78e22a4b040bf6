use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <div class="auth-page">
            <div class="auth-card">
                <h1>"Not found"</h1>
                <p class="muted">"There is nothing at this address, or it belongs to another team."</p>
                <a class="button button-primary" href="/">"Back to deployments"</a>
            </div>
        </div>
    }
}
