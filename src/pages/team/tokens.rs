//! API tokens: what scripts, CI jobs and the `flightdeck` command line act
//! with; a new one shown once, and the team's tokens with their last use.

use crate::api::integrations::{CreateApiToken, RevokeApiToken};
use crate::components::copy_field::CopyField;
use crate::components::states::CardList;
use crate::components::time::RelativeTime;
use crate::model::{ApiToken, AppError, Role};
use leptos::prelude::*;

type TokensResource = Resource<Result<Vec<ApiToken>, AppError>>;

#[component]
pub fn ApiTokensCard(
    tokens: TokensResource,
    create: ServerAction<CreateApiToken>,
    revoke: ServerAction<RevokeApiToken>,
    /// The signed-in person's role: no token above it.
    role: Role,
) -> impl IntoView {
    let roles: Vec<Role> = [Role::Viewer, Role::Member, Role::Owner]
        .into_iter()
        .filter(|r| r.rank() <= role.rank())
        .collect();
    view! {
        <section class="card form-card" aria-labelledby="tokens-title" id="api-tokens">
            <h2 id="tokens-title">"API tokens"</h2>
            <p class="muted">
                "A token lets a script, a CI job or the "<code>"flightdeck"</code>
                " command line act for this team with the role you pick, without a password. It is shown once; revoke it when the job goes."
            </p>
            <ActionForm action=create attr:class="inline-form">
                <div class="field">
                    <label for="token-name">"Token name"</label>
                    <input id="token-name" name="name" type="text" required maxlength="100"
                        placeholder="release-bot" autocomplete="off" />
                </div>
                <div class="field">
                    <label for="token-role">"Acts as"</label>
                    <select id="token-role" name="role">
                        {roles.into_iter().map(|r| view! {
                            <option value=r.as_str() selected=r == Role::Member>{r.label()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <button class="button button-primary" type="submit" disabled=move || create.pending().get()>
                    {move || if create.pending().get() { "Creating…" } else { "Create token" }}
                </button>
            </ActionForm>
            {move || match create.value().get() {
                Some(Err(e)) => view! { <p class="form-error" role="alert">{e.message}</p> }.into_any(),
                Some(Ok(new)) => view! {
                    <div class="new-invite" role="status">
                        <p>
                            {format!("The token \u{201c}{}\u{201d} ({}). It is shown only now: put it in your CI's secrets.", new.name, new.role.label().to_lowercase())}
                        </p>
                        <CopyField value=new.token.clone() label="API token" id="api-token" />
                        <pre class="code-example">{format!("FLIGHTDECK_TOKEN={} flightdeck deploy <site> --wait", new.token)}</pre>
                    </div>
                }.into_any(),
                None => ().into_any(),
            }}
            <CardList items=tokens loading="Loading tokens…" empty="No API tokens yet."
                list=move |list| view! { <TokenList list revoke /> } />
        </section>
    }
}

#[component]
fn TokenList(list: Vec<ApiToken>, revoke: ServerAction<RevokeApiToken>) -> impl IntoView {
    view! {
        {move || revoke.value().get().and_then(Result::err).map(|e| view! {
            <p class="form-error" role="alert">{e.message}</p>
        })}
        <div class="table-wrap">
            <table class="table api-tokens">
                <thead>
                    <tr>
                        <th>"Token"</th>
                        <th>"Role"</th>
                        <th>"State"</th>
                        <th>"Created"</th>
                        <th>"Last used"</th>
                        <th><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|token| {
                        let open = token.revoked_at.is_none();
                        let name = token.name.clone();
                        view! {
                            <tr>
                                <td class="cell-title">{token.name.clone()}</td>
                                <td>{token.role.label()}</td>
                                <td>{if open {
                                    view! { <span class="badge status-completed">"active"</span> }.into_any()
                                } else {
                                    view! { <span class="badge status-cancelled">"revoked"</span> }.into_any()
                                }}</td>
                                <td>
                                    <RelativeTime ms=token.created_at />
                                    {token.created_by.map(|by| view! { " " <span class="muted">{format!("by {by}")}</span> })}
                                </td>
                                <td>{match token.last_used_at {
                                    Some(ms) => view! { <RelativeTime ms /> }.into_any(),
                                    None => view! { <span class="muted">"never"</span> }.into_any(),
                                }}</td>
                                <td class="cell-actions">
                                    {open.then(|| view! {
                                        <ActionForm action=revoke>
                                            <input type="hidden" name="id" value=token.id.to_string() />
                                            <button class="button button-small button-ghost" type="submit"
                                                aria-label=format!("Revoke {name}")
                                                disabled=move || revoke.pending().get()>"Revoke"</button>
                                        </ActionForm>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
