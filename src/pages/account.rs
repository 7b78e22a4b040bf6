//! The signed-in person's account: who they are, their teams, their password.

use crate::api::auth::ChangePassword;
use crate::components::shell::SessionResource;
use crate::components::states::{ErrorState, LoadingRows};
use crate::model::validate::{PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AccountPage() -> impl IntoView {
    let session = expect_context::<SessionResource>();
    let change = ServerAction::<ChangePassword>::new();
    // A changed password clears the published-password warning.
    Effect::new(move |_| {
        if let Some(Ok(())) = change.value().get() {
            session.refetch();
        }
    });
    view! {
        <Title text="Your account" />
        <div class="page-header">
            <div>
                <h1>"Your account"</h1>
                <p class="muted">"Your sign-in and the teams you belong to."</p>
            </div>
        </div>
        <Suspense fallback=|| view! { <LoadingRows rows=2 /> }>
            {move || Suspend::new(async move {
                let info = match session.await {
                    Ok(Some(info)) => info,
                    Ok(None) => return view! { <ErrorState error=crate::model::AppError::unauthenticated() /> }.into_any(),
                    Err(error) => return view! { <ErrorState error /> }.into_any(),
                };
                view! {
                    <section class="card detail-facts" aria-label="Account">
                        <dl class="facts facts-wide">
                            <dt>"Name"</dt>
                            <dd>{info.user.name.clone()}</dd>
                            <dt>"Email"</dt>
                            <dd>{info.user.email.clone()}</dd>
                            <dt>"Teams"</dt>
                            <dd class="team-list">
                                {info.teams.iter().map(|t| view! {
                                    <span class="team-item">
                                        {t.name.clone()}
                                        " "
                                        <span class=format!("tag role-{}", t.role)>{t.role.label()}</span>
                                    </span>
                                }).collect_view()}
                            </dd>
                        </dl>
                    </section>
                }.into_any()
            })}
        </Suspense>
        <ChangePasswordForm change />
    }
}

#[component]
fn ChangePasswordForm(change: ServerAction<ChangePassword>) -> impl IntoView {
    view! {
        <section class="card form-card" aria-labelledby="password-title">
            <h2 id="password-title">"Change your password"</h2>
            <p class="muted">"Every other place you are signed in is signed out."</p>
            <ActionForm action=change attr:class="narrow-form">
                <div class="field">
                    <label for="current-password">"Current password"</label>
                    <input id="current-password" name="current" type="password" autocomplete="current-password" required />
                </div>
                <div class="field">
                    <label for="new-password">"New password"</label>
                    <input id="new-password" name="new" type="password" autocomplete="new-password" required />
                    <p class="hint">{format!("{PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS} characters.")}</p>
                </div>
                <button class="button button-primary" type="submit" disabled=move || change.pending().get()>
                    {move || if change.pending().get() { "Changing…" } else { "Change password" }}
                </button>
            </ActionForm>
            {move || match change.value().get() {
                Some(Err(e)) => view! { <p class="form-error" role="alert">{e.message}</p> }.into_any(),
                Some(Ok(())) => view! {
                    <p class="form-success" role="status">"Password changed. Your other sessions are signed out."</p>
                }.into_any(),
                None => ().into_any(),
            }}
        </section>
    }
}
