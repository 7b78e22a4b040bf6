//! The team: its members and, for owners, managing them and inviting
//! people; for owners and members, the wallboard's links and the
//! integrations (API tokens, notification hooks).

mod hooks;
mod invites;
mod members;
mod tokens;
mod wallboards;

use crate::api::integrations::{
    CreateApiToken, CreateNotificationHook, DeleteNotificationHook, RedeliverNotification,
    RevokeApiToken, SendTestNotification, UpdateNotificationHook, list_api_tokens,
    list_notification_hooks,
};
use crate::api::sites::list_sites;
use crate::api::teams::{
    AddMember, CreateInvite, RemoveMember, RevokeInvite, SetMemberRole, list_invites, list_members,
};
use crate::api::wallboard::{CreateWallboardLink, RevokeWallboardLink, list_wallboard_links};
use crate::components::shell::SessionResource;
use crate::components::states::{ErrorState, LoadingRows};
use crate::model::Role;
use hooks::{HookActions, NotificationHooksCard};
use invites::InvitesCard;
use leptos::prelude::*;
use leptos_meta::Title;
use members::{AddMemberForm, MemberActions, MembersTable};
use tokens::ApiTokensCard;
use wallboards::WallboardLinksCard;

#[component]
pub fn TeamPage() -> impl IntoView {
    let add = ServerAction::<AddMember>::new();
    let set_role = ServerAction::<SetMemberRole>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let members = Resource::new(
        move || {
            (
                add.version().get(),
                set_role.version().get(),
                remove.version().get(),
            )
        },
        |_| list_members(),
    );
    let create = ServerAction::<CreateInvite>::new();
    let revoke = ServerAction::<RevokeInvite>::new();
    // Created here so the server sends it with the page; members and
    // viewers get a refusal, never shown.
    let invites = Resource::new(
        move || {
            (
                create.version().get(),
                revoke.version().get(),
                add.version().get(),
            )
        },
        |_| list_invites(),
    );
    let create_link = ServerAction::<CreateWallboardLink>::new();
    let revoke_link = ServerAction::<RevokeWallboardLink>::new();
    // Viewers get a refusal, never shown.
    let links = Resource::new(
        move || (create_link.version().get(), revoke_link.version().get()),
        |_| list_wallboard_links(),
    );
    let create_token = ServerAction::<CreateApiToken>::new();
    let revoke_token = ServerAction::<RevokeApiToken>::new();
    let tokens = Resource::new(
        move || (create_token.version().get(), revoke_token.version().get()),
        |_| list_api_tokens(),
    );
    let hook_actions = HookActions {
        create: ServerAction::<CreateNotificationHook>::new(),
        update: ServerAction::<UpdateNotificationHook>::new(),
        delete: ServerAction::<DeleteNotificationHook>::new(),
        test: ServerAction::<SendTestNotification>::new(),
        redeliver: ServerAction::<RedeliverNotification>::new(),
    };
    let hooks = Resource::new(
        move || {
            (
                hook_actions.create.version().get(),
                hook_actions.update.version().get(),
                hook_actions.delete.version().get(),
                hook_actions.test.version().get(),
                hook_actions.redeliver.version().get(),
            )
        },
        |_| list_notification_hooks(),
    );
    let sites = Resource::new(|| (), |_| list_sites());
    let session = expect_context::<SessionResource>();
    view! {
        <Title text="Team" />
        <div class="page-header">
            <div>
                <h1>"Team"</h1>
                <p class="muted">"Owners manage members; members deploy; viewers watch."</p>
            </div>
        </div>
        <Suspense fallback=|| view! { <LoadingRows rows=2 /> }>
            {move || Suspend::new(async move {
                let Ok(Some(info)) = session.await else {
                    return ().into_any();
                };
                let is_owner = info.team.role == Role::Owner;
                let can_link = info.team.role.can_trigger();
                let list = match members.await {
                    Err(error) => return view! { <ErrorState error /> }.into_any(),
                    Ok(list) => list,
                };
                let actions = MemberActions { set_role, remove };
                view! {
                    <MembersTable list me=info.user.id is_owner actions />
                    {is_owner.then(|| view! {
                        <InvitesCard invites create revoke />
                        <AddMemberForm add />
                    })}
                    {can_link.then(|| view! {
                        <WallboardLinksCard links create=create_link revoke=revoke_link />
                        <h2 class="section-title" id="integrations">"Integrations"</h2>
                        <ApiTokensCard tokens create=create_token revoke=revoke_token role=info.team.role />
                        <NotificationHooksCard hooks sites actions=hook_actions />
                    })}
                }.into_any()
            })}
        </Suspense>
    }
}
