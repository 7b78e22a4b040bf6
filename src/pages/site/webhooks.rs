//! The site page's GitHub webhook card.

use crate::api::sites::RotateWebhookSecret;
use leptos::prelude::*;

/// Where GitHub sends this site's pushes and pull requests, and the secret
/// that signs them; owners and members only.
#[component]
pub fn WebhookSettings(
    site_id: String,
    hooks: Resource<Result<crate::model::SiteHooks, crate::model::AppError>>,
    rotate: ServerAction<RotateWebhookSecret>,
) -> impl IntoView {
    let reveal = RwSignal::new(false);
    view! {
        <section class="card settings" aria-labelledby="webhook-title">
            <div class="section-header">
                <h2 id="webhook-title">"GitHub webhook"</h2>
            </div>
            <p class="muted">
                "In the repository's Settings → Webhooks, add this URL with content type "
                <code>"application/json"</code>
                " and the secret below. Pushes to the branch deploy (when auto-deploy is on); pull requests deploy a preview."
            </p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match hooks.await {
                        Err(e) => view! { <p class="form-error" role="alert">{e.message}</p> }.into_any(),
                        Ok(h) => {
                            let secret = h.secret.clone();
                            view! {
                                <dl class="facts facts-wide">
                                    <dt>"Payload URL"</dt>
                                    <dd><code class="selectable">{h.webhook_url}</code></dd>
                                    <dt>"Secret"</dt>
                                    <dd class="secret-row">
                                        <code class="selectable" data-testid="webhook-secret">
                                            {move || if reveal.get() { secret.clone() } else { "•".repeat(24) }}
                                        </code>
                                        <button class="button button-small" type="button"
                                            on:click=move |_| reveal.update(|r| *r = !*r)>
                                            {move || if reveal.get() { "Hide" } else { "Show" }}
                                        </button>
                                    </dd>
                                </dl>
                            }.into_any()
                        }
                    }
                })}
            </Transition>
            <ActionForm action=rotate attr:class="inline-form">
                <input type="hidden" name="id" value=site_id />
                <button class="button" type="submit" disabled=move || rotate.pending().get()>
                    "Rotate secret"
                </button>
                <span class="muted">" Deliveries signed with the old secret are refused at once."</span>
            </ActionForm>
        </section>
    }
}
