//! An owner's invites: a new link to send, and the links sent before.

use crate::api::teams::{CreateInvite, RevokeInvite};
use crate::components::copy_field::CopyField;
use crate::components::states::CardList;
use crate::components::time::RelativeTime;
use crate::model::{AppError, Invite, InviteState};
use leptos::prelude::*;

type InvitesResource = Resource<Result<Vec<Invite>, AppError>>;

#[component]
pub fn InvitesCard(
    invites: InvitesResource,
    create: ServerAction<CreateInvite>,
    revoke: ServerAction<RevokeInvite>,
) -> impl IntoView {
    view! {
        <section class="card form-card" aria-labelledby="invite-title">
            <h2 id="invite-title">"Invite people"</h2>
            <p class="muted">
                "An invite link signs one person up into this team with the role you pick. It works once and for 7 days: send it only to them."
            </p>
            <ActionForm action=create attr:class="inline-form invite-form">
                <div class="field">
                    <label for="invite-role">"Invite as"</label>
                    <select id="invite-role" name="role">
                        <option value="member" selected>"Member"</option>
                        <option value="viewer">"Viewer"</option>
                        <option value="owner">"Owner"</option>
                    </select>
                </div>
                <button class="button button-primary" type="submit" disabled=move || create.pending().get()>
                    {move || if create.pending().get() { "Creating…" } else { "Create invite link" }}
                </button>
            </ActionForm>
            {move || match create.value().get() {
                Some(Err(e)) => view! { <p class="form-error" role="alert">{e.message}</p> }.into_any(),
                Some(Ok(new)) => view! {
                    <div class="new-invite" role="status">
                        <p>
                            {format!("A link for one {}, ", new.role.label().to_lowercase())}
                            "expires " <RelativeTime ms=new.expires_at />
                            ". It is shown only now."
                        </p>
                        <CopyField value=new.url label="Invite link" />
                    </div>
                }.into_any(),
                None => ().into_any(),
            }}
            <CardList items=invites loading="Loading invites…" empty="No invites yet."
                list=move |list| view! { <InviteList list revoke /> } />
        </section>
    }
}

#[component]
fn InviteList(list: Vec<Invite>, revoke: ServerAction<RevokeInvite>) -> impl IntoView {
    view! {
        {move || revoke.value().get().and_then(Result::err).map(|e| view! {
            <p class="form-error" role="alert">{e.message}</p>
        })}
        <div class="table-wrap invites">
            <table class="table">
                <thead>
                    <tr>
                        <th>"Role"</th>
                        <th>"State"</th>
                        <th>"Created"</th>
                        <th>"Expires"</th>
                        <th><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|i| view! {
                        <tr>
                            <td><span class=format!("tag role-{}", i.role)>{i.role.label()}</span></td>
                            <td><InviteStateLabel invite=i.clone() /></td>
                            <td><RelativeTime ms=i.created_at /></td>
                            <td>{match i.state {
                                InviteState::Open => view! { <RelativeTime ms=i.expires_at /> }.into_any(),
                                _ => view! { <span class="muted">"—"</span> }.into_any(),
                            }}</td>
                            <td class="cell-actions">
                                {(i.state == InviteState::Open).then(|| view! {
                                    <ActionForm action=revoke>
                                        <input type="hidden" name="id" value=i.id.to_string() />
                                        <button class="button button-small button-ghost" type="submit"
                                            disabled=move || revoke.pending().get()>"Revoke"</button>
                                    </ActionForm>
                                })}
                            </td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn InviteStateLabel(invite: Invite) -> impl IntoView {
    let (word, tone) = match invite.state {
        InviteState::Open => ("open", "running"),
        InviteState::Used => ("used", "completed"),
        InviteState::Expired => ("expired", "superseded"),
        InviteState::Revoked => ("revoked", "cancelled"),
    };
    view! {
        <span class=format!("badge status-{tone}")>{word}</span>
        {invite.used_by.map(|name| view! { " " <span class="muted">{format!("by {name}")}</span> })}
    }
}
