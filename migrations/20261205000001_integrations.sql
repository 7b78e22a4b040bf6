-- Integrations: API tokens for scripts and CI, and outgoing notification
-- hooks delivered from an outbox.

-- A team's API token. Only a SHA-256 of the token is kept; it is shown
-- once, to the member who made it. It acts with `role`, never above the
-- role its creator holds in the team now, and stops when they leave it.
create table api_tokens (
    id text primary key,
    team_id text not null references teams (id) on delete cascade,
    name text not null,
    role text not null,
    token_hash text not null,
    created_by text not null references users (id) on delete cascade,
    created_at bigint not null,
    last_used_at bigint,
    revoked_at bigint
);

create unique index api_tokens_token_hash_key on api_tokens (token_hash);
create index api_tokens_team_id on api_tokens (team_id, id);

-- Where a team's notifications go: team-wide, or for one site. `events`
-- is the comma-separated list of event names it receives; `secret` signs
-- every body (HMAC-SHA256). A hook whose deliveries keep failing is
-- disabled, with the reason.
create table notification_hooks (
    id text primary key,
    team_id text not null references teams (id) on delete cascade,
    site_id text references sites (id) on delete cascade,
    url text not null,
    events text not null,
    format text not null,
    secret text not null,
    created_by text references users (id) on delete set null,
    created_at bigint not null,
    disabled_at bigint,
    disabled_reason text
);

create index notification_hooks_team_id on notification_hooks (team_id, id);

-- The outbox: one row per notification and hook, written in the same
-- transaction as the change it tells of, then delivered at least once.
-- `claimed_by` / `claimed_until` is the delivering instance's hold on it;
-- a hold that ran out (its instance died mid-delivery) is taken over.
-- A `manual` one (a test, a redelivery) is tried once, by the request
-- that asked for it.
create table notifications (
    id text primary key,
    hook_id text not null references notification_hooks (id) on delete cascade,
    team_id text not null references teams (id) on delete cascade,
    event text not null,
    payload text not null,
    state text not null,
    manual integer not null default 0,
    attempts integer not null default 0,
    next_attempt_at bigint,
    claimed_by text,
    claimed_until bigint,
    created_at bigint not null,
    delivered_at bigint,
    last_status integer,
    last_error text,
    last_response text,
    last_duration_ms bigint
);

create index notifications_due on notifications (state, next_attempt_at);
create index notifications_hook_id on notifications (hook_id, id);

-- Every try of a delivery: what the receiver answered, for the log.
create table notification_attempts (
    id text primary key,
    notification_id text not null references notifications (id) on delete cascade,
    attempted_at bigint not null,
    status_code integer,
    error text,
    response_excerpt text,
    duration_ms bigint not null
);

create index notification_attempts_notification_id on notification_attempts (notification_id, id);
