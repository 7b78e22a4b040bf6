//! Wallboard links: a named, read-only link that opens the team's
//! wallboard on a screen signed in to nothing, and the links made before.

use crate::api::wallboard::{CreateWallboardLink, RevokeWallboardLink};
use crate::components::copy_field::CopyField;
use crate::components::states::CardList;
use crate::components::time::RelativeTime;
use crate::model::{AppError, WallboardLink};
use leptos::prelude::*;

type LinksResource = Resource<Result<Vec<WallboardLink>, AppError>>;

#[component]
pub fn WallboardLinksCard(
    links: LinksResource,
    create: ServerAction<CreateWallboardLink>,
    revoke: ServerAction<RevokeWallboardLink>,
) -> impl IntoView {
    view! {
        <section class="card form-card" aria-labelledby="wallboard-title">
            <div class="card-header">
                <h2 id="wallboard-title">"Wallboard links"</h2>
                <a class="button button-small" href="/wallboard" rel="external">"Open the wallboard"</a>
            </div>
            <p class="muted">
                "A wallboard link shows every site of the team, live, on a screen that is signed in to nothing: a TV in the office. It can only watch the wallboard; revoke it when the screen goes."
            </p>
            <ActionForm action=create attr:class="inline-form">
                <div class="field">
                    <label for="wallboard-name">"Screen name"</label>
                    <input id="wallboard-name" name="name" type="text" required maxlength="100"
                        placeholder="Office TV" autocomplete="off" />
                </div>
                <button class="button button-primary" type="submit" disabled=move || create.pending().get()>
                    {move || if create.pending().get() { "Creating…" } else { "Create wallboard link" }}
                </button>
            </ActionForm>
            {move || match create.value().get() {
                Some(Err(e)) => view! { <p class="form-error" role="alert">{e.message}</p> }.into_any(),
                Some(Ok(new)) => view! {
                    <div class="new-invite" role="status">
                        <p>
                            {format!("The link for \u{201c}{}\u{201d}. It is shown only now: open it on the screen, or keep it somewhere safe.", new.name)}
                        </p>
                        <CopyField value=new.url.clone() label="Wallboard link" id="wallboard-link" />
                        <p><a href=new.url rel="external" target="_blank">"Open it here"</a></p>
                    </div>
                }.into_any(),
                None => ().into_any(),
            }}
            <CardList items=links loading="Loading wallboard links…" empty="No wallboard links yet."
                list=move |list| view! { <LinkList list revoke /> } />
        </section>
    }
}

#[component]
fn LinkList(list: Vec<WallboardLink>, revoke: ServerAction<RevokeWallboardLink>) -> impl IntoView {
    view! {
        {move || revoke.value().get().and_then(Result::err).map(|e| view! {
            <p class="form-error" role="alert">{e.message}</p>
        })}
        <div class="table-wrap">
            <table class="table wallboard-links">
                <thead>
                    <tr>
                        <th>"Screen"</th>
                        <th>"State"</th>
                        <th>"Created"</th>
                        <th>"Last seen"</th>
                        <th><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|link| {
                        let open = link.revoked_at.is_none();
                        let name = link.name.clone();
                        view! {
                            <tr>
                                <td class="cell-title">{link.name.clone()}</td>
                                <td>{if open {
                                    view! { <span class="badge status-running">"open"</span> }.into_any()
                                } else {
                                    view! { <span class="badge status-cancelled">"revoked"</span> }.into_any()
                                }}</td>
                                <td>
                                    <RelativeTime ms=link.created_at />
                                    {link.created_by.map(|by| view! { " " <span class="muted">{format!("by {by}")}</span> })}
                                </td>
                                <td>{match link.last_seen_at {
                                    Some(ms) => view! { <RelativeTime ms /> }.into_any(),
                                    None => view! { <span class="muted">"never"</span> }.into_any(),
                                }}</td>
                                <td class="cell-actions">
                                    {open.then(|| view! {
                                        <ActionForm action=revoke>
                                            <input type="hidden" name="id" value=link.id.to_string() />
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
