-- Insights (the DORA metrics and step durations) read daily totals that
-- are kept as deployments finish, so the page never scans a long history.
-- Days are UTC days since the epoch.

-- Every total is kept for its site and, under site_id '', for the whole
-- team, so a window of either is one short range of the primary key.

-- A production site's deploys that ended on a day: every deploy that
-- shipped a change (rollbacks bring back an earlier one and are left
-- out), how many succeeded or failed, and how many of those that
-- succeeded were later rolled back, restored from a capsule or replaced
-- within an hour.
create table insight_days (
    team_id text not null references teams (id) on delete cascade,
    site_id text not null,
    day bigint not null,
    deploys bigint not null default 0,
    succeeded bigint not null default 0,
    failed bigint not null default 0,
    failed_changes bigint not null default 0,
    primary key (team_id, site_id, day)
);

-- Durations as counts per bucket (8 buckets per doubling), so a window's
-- percentiles come from a few rows a day: lead times, times to restore,
-- and each pipeline's steps (with the step's place in its pipeline).
create table insight_durations (
    team_id text not null references teams (id) on delete cascade,
    site_id text not null,
    day bigint not null,
    series text not null check (series in ('lead_time', 'restore', 'step')),
    pipeline text not null default '',
    step text not null default '',
    position bigint not null default 0,
    bucket bigint not null,
    samples bigint not null,
    primary key (team_id, site_id, series, day, pipeline, step, bucket)
);

-- The sites whose production deploys are failing, since when: where a
-- time to restore starts. A site's row goes when a deploy succeeds.
-- Written, like the totals, under the event lock only.
create table insight_failing_sites (
    site_id text primary key references sites (id) on delete cascade,
    failing_since bigint not null
);

-- Whether the totals were built from the history written before them;
-- the first start after this migration builds them once.
create table insight_state (
    id bigint primary key check (id = 1),
    built_at bigint
);
insert into insight_state (id, built_at) values (1, null);
