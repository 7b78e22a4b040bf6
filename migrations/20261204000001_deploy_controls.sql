-- Deploy controls and retention (issue 16).

-- A site locked by a member: manual deploys are refused with the reason,
-- pushes wait. `version` orders the site's live `site_lock` messages.
alter table sites add column locked_at bigint;
alter table sites add column locked_by text references users (id) on delete set null;
alter table sites add column locked_by_name text;
alter table sites add column lock_reason text;
alter table sites add column version bigint not null default 1;

-- A push queued while its site is locked: it does not run, nor make the
-- site busy, until the site is unlocked.
alter table deployments add column waiting_for_unlock bigint not null default 0;

-- A published release's folder, once removed: when, and why ('expired' by
-- retention, or 'pull_request_closed'). The record stays in the history.
alter table deployments add column release_removed_at bigint;
alter table deployments add column release_removed_reason text
    check (release_removed_reason in ('expired', 'pull_request_closed'));
-- The size of its release on disk, measured when it was published.
alter table deployments add column release_bytes bigint;

-- What retention looks at: a site's published releases newest first.
create index deployments_site_releases on deployments (site_id, id)
    where status in ('completed', 'superseded') and release_removed_at is null;

-- Periodic work that one instance at a time does (retention): the holder
-- and until when, on the database's clock.
create table maintenance (
    name text primary key,
    holder text,
    held_until bigint not null default 0,
    last_run_at bigint,
    last_report text
);

insert into maintenance (name) values ('retention');

-- The event log gains `site_lock` events. Nothing references it, so it is
-- rebuilt with the wider check (SQLite cannot alter a check constraint).
create table events_new (
    position bigint primary key,
    team_id text not null references teams (id) on delete cascade,
    kind text not null check (kind in ('deployment', 'step', 'output', 'site_lock')),
    record_id text not null,
    payload text not null,
    created_at bigint not null
);

insert into events_new (position, team_id, kind, record_id, payload, created_at)
    select position, team_id, kind, record_id, payload, created_at from events;

drop table events;

alter table events_new rename to events;

create index events_team_id_position on events (team_id, position);
