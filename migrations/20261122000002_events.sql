-- Change events: every Deployment and DeploymentStep change and every chunk
-- of step output, written in the same transaction as the change. Positions
-- are assigned while the writer holds the database's write lock (SQLite) or
-- an advisory transaction lock (PostgreSQL), so position order is commit order.
create table events (
    position bigint primary key,
    team_id text not null references teams (id) on delete cascade,
    kind text not null check (kind in ('deployment', 'step', 'output')),
    record_id text not null,
    payload text not null,
    created_at bigint not null
);

create index events_team_id_position on events (team_id, position);

-- Set by cancel_deployment; the instance running the step sees it and stops it.
alter table deployments add column cancel_requested_at bigint;

-- What a step runs, recorded when the deployment is created, so a changed
-- pipelines file never alters a deployment already queued.
alter table deployment_steps add column command text not null default '';
alter table deployment_steps add column timeout_secs bigint not null default 600;
