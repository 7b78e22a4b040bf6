-- Read-only wallboard links: a screen signed in to nothing opens its
-- team's wallboard with one. Only a hash of the token is kept; the link is
-- shown once, to the member who made it.
create table wallboard_links (
    id text primary key,
    team_id text not null references teams (id) on delete cascade,
    name text not null,
    token_hash text not null,
    created_by text references users (id) on delete set null,
    created_at bigint not null,
    last_seen_at bigint,
    revoked_at bigint
);

create unique index wallboard_links_token_hash_key on wallboard_links (token_hash);
create index wallboard_links_team_id on wallboard_links (team_id, id);
