//! Creating an account: the instance's first, anyone's under open sign-up,
//! or an invited person's, who joins the invite's team with its role.

use super::auth_form::{AuthCard, FormError};
use crate::api::auth::{SignUp, sign_up_open};
use crate::api::teams::invite_info;
use crate::model::validate::{PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            let _ = window().location().set_href("/");
        }
    });
    let error = Signal::derive(move || {
        action
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.message)
    });
    let query = use_query_map();
    let token = move || query.with(|q| q.get("invite").filter(|t| !t.is_empty()));
    // What the link joins, or whether strangers may sign up at all.
    let invite = Resource::new(token, |token| async move {
        match token {
            Some(t) => Some(invite_info(t).await),
            None => None,
        }
    });
    let open = Resource::new(|| (), |_| sign_up_open());
    view! {
        <Title text="Create an account" />
        <AuthCard title="Create an account" subtitle="Watch and run every deployment of your team, live.">
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match (invite.await, open.await) {
                        (Some(Ok(joining)), _) => view! {
                            <p class="invite-banner" role="status">
                                "You are joining " <strong>{joining.team_name}</strong>
                                {format!(" as {}.", with_article(&joining.role.label().to_lowercase()))}
                            </p>
                            <SignUpForm action error invite=token() />
                        }.into_any(),
                        (Some(Err(_)), _) => view! {
                            <p class="form-error" role="alert">
                                "This invite link was used, revoked or has expired. Ask the team's owner for a new one."
                            </p>
                        }.into_any(),
                        (None, Ok(false)) => view! {
                            <p class="notice-card" role="status">
                                "Sign-up here is by invitation. Ask a team owner for an invite link, then open it to create your account."
                            </p>
                        }.into_any(),
                        (None, _) => view! { <SignUpForm action error invite=None /> }.into_any(),
                    }
                })}
            </Suspense>
            <p class="auth-switch">"Already have an account? " <a href="/signin">"Sign in"</a></p>
        </AuthCard>
    }
}

/// The fields; with an invite its token rides along and no team is asked for.
#[component]
fn SignUpForm(
    action: ServerAction<SignUp>,
    error: Signal<Option<String>>,
    invite: Option<String>,
) -> impl IntoView {
    let invited = invite.is_some();
    view! {
        <ActionForm action>
            {invite.map(|token| view! { <input type="hidden" name="invite" value=token /> })}
            <div class="field">
                <label for="name">"Your name"</label>
                <input id="name" name="name" type="text" autocomplete="name" />
            </div>
            <div class="field">
                <label for="email">"Email"</label>
                <input id="email" name="email" type="text" inputmode="email" autocomplete="email" placeholder="you@example.com" />
            </div>
            <div class="field">
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="new-password" />
                <p class="hint">{format!("{PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS} characters.")}</p>
            </div>
            {(!invited).then(|| view! {
                <div class="field">
                    <label for="team">"Team name"</label>
                    <input id="team" name="team" type="text" autocomplete="organization" placeholder="Acme Web" />
                    <p class="hint">"You own this team and can invite others to it."</p>
                </div>
            })}
            <FormError message=error />
            <button class="button button-primary button-wide" type="submit" disabled=move || action.pending().get()>
                {move || if action.pending().get() { "Creating account…" } else if invited { "Join the team" } else { "Create account" }}
            </button>
        </ActionForm>
    }
}

/// "a member", "an owner".
fn with_article(word: &str) -> String {
    let article = if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {word}")
}
