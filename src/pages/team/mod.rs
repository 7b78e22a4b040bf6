//! The team: its members and, for owners, managing them and inviting people.

mod invites;
mod members;

use crate::api::teams::{
    AddMember, CreateInvite, RemoveMember, RevokeInvite, SetMemberRole, list_invites, list_members,
};
use crate::components::shell::SessionResource;
use crate::components::states::{ErrorState, LoadingRows};
use crate::model::Role;
use invites::InvitesCard;
use leptos::prelude::*;
use leptos_meta::Title;
use members::{AddMemberForm, MemberActions, MembersTable};

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
                }.into_any()
            })}
        </Suspense>
    }
}
