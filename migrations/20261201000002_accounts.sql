-- Invite-only sign-up: a team owner's invite lets one person join the team
-- with a role. Only a hash of the token is kept; the link is shown once.
create table invites (
    id text primary key,
    team_id text not null references teams (id) on delete cascade,
    role text not null check (role in ('owner', 'member', 'viewer')),
    token_hash text not null,
    created_by text references users (id) on delete set null,
    created_at bigint not null,
    expires_at bigint not null,
    used_at bigint,
    used_by text references users (id) on delete set null,
    revoked_at bigint
);

create unique index invites_token_hash_key on invites (token_hash);
create index invites_team_id on invites (team_id, created_at);

-- The demo account's password is published in the README: every page says
-- so until it is changed.
alter table users add column password_published bigint not null default 0;

-- Whose a session is, so signing out elsewhere, a password change or a
-- removal from a team can end a person's sessions at once.
alter table sessions add column user_id text;
alter table sessions add column team_id text;
create index sessions_user_id on sessions (user_id);
