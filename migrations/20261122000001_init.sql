-- Flightdeck's records. Portable SQL: the same file runs on SQLite and PostgreSQL.
-- Ids are ULID text; times are milliseconds since the Unix epoch (UTC);
-- booleans are 0/1 bigints so both backends decode them alike.

create table teams (
    id text primary key,
    name text not null,
    created_at bigint not null
);

create table users (
    id text primary key,
    email text not null,
    name text not null,
    password_hash text not null,
    created_at bigint not null
);

-- Emails are stored lowercased, so this makes them unique regardless of case.
create unique index users_email_key on users (email);

create table memberships (
    team_id text not null references teams (id) on delete cascade,
    user_id text not null references users (id) on delete cascade,
    role text not null check (role in ('owner', 'member', 'viewer')),
    created_at bigint not null,
    primary key (team_id, user_id)
);

create index memberships_user_id on memberships (user_id);

create table sites (
    id text primary key,
    team_id text not null references teams (id) on delete cascade,
    name text not null,
    slug text not null,
    repository text not null,
    branch text not null,
    auto_deploy bigint not null default 1 check (auto_deploy in (0, 1)),
    state text not null default 'running' check (state in ('running', 'stopped')),
    parent_site_id text references sites (id) on delete set null,
    webhook_secret text not null,
    created_at bigint not null
);

create unique index sites_team_id_slug_key on sites (team_id, slug);
-- Lets deployments reference (site, team) together, so a deployment can never
-- pair one team with another team's site.
create unique index sites_id_team_id_key on sites (id, team_id);

create table deployments (
    id text primary key,
    team_id text not null references teams (id) on delete cascade,
    site_id text not null,
    -- Empty for automatic triggers.
    user_id text references users (id) on delete set null,
    type text not null check (type in ('deploy', 'create_site', 'clone_site', 'create_staging',
                                       'time_capsule', 'restore', 'restart', 'stop')),
    status text not null check (status in ('queued', 'running', 'completed', 'failed',
                                           'cancelled', 'superseded')),
    operation_name text not null,
    meta text not null default '{}',
    source_kind text not null check (source_kind in ('git', 'archive', 'none')),
    branch text,
    commit_sha text,
    repository text,
    archive_name text,
    trigger_kind text not null check (trigger_kind in ('manual', 'site_created', 'push',
                                                       'pull_request')),
    triggered_by text not null,
    pr_number bigint,
    error_message text,
    preview_url text,
    retry_of_id text references deployments (id) on delete set null,
    superseded_by_id text references deployments (id) on delete set null,
    version bigint not null default 1,
    created_at bigint not null,
    started_at bigint,
    finished_at bigint,
    foreign key (site_id, team_id) references sites (id, team_id) on delete cascade
);

-- A team's history newest first, and a site's.
create index deployments_team_id_id on deployments (team_id, id);
create index deployments_site_id_id on deployments (site_id, id);

-- One operation per site: the database refuses a second running deployment.
create unique index deployments_one_running_per_site on deployments (site_id)
    where status = 'running';

-- The site's current deployment. A single column per site, unique across
-- sites: two current deployments of one site cannot be written.
alter table sites add column current_deployment_id text
    references deployments (id) on delete set null;
create unique index sites_current_deployment_id_key on sites (current_deployment_id);

create table deployment_steps (
    id text primary key,
    deployment_id text not null references deployments (id) on delete cascade,
    name text not null,
    phase text check (phase in ('build', 'deploy')),
    status text not null check (status in ('queued', 'running', 'completed', 'failed',
                                           'cancelled')),
    sort_order bigint not null,
    output text not null default '',
    version bigint not null default 1,
    started_at bigint,
    finished_at bigint,
    unique (deployment_id, sort_order)
);

-- tower-sessions records; `data` is JSON text.
create table sessions (
    id text primary key,
    data text not null,
    expiry_date bigint not null
);

create index sessions_expiry_date on sessions (expiry_date);
