-- Several instances on one database. Each running server process is an
-- instance with a lease it renews; a running deployment names the instance
-- that claimed it, and only the lapse of that instance's lease lets another
-- one fail it. Lease times are the database's own clock, so the instances'
-- clocks never need to agree.
create table instances (
    id text primary key,
    -- The machine (host name, and its boot, so a reboot is another host
    -- for what was left running on it) and the process.
    host text not null,
    boot_id text not null,
    pid bigint not null,
    started_at bigint not null,
    heartbeat_at bigint not null,
    lease_until bigint not null,
    -- Set when the instance stopped cleanly, or was found dead.
    stopped_at bigint
);

create index instances_live on instances (lease_until) where stopped_at is null;

alter table deployments add column claimed_by text;
create index deployments_running_claimed_by on deployments (claimed_by) where status = 'running';

-- The process group of a step run without a PID namespace (sandbox off),
-- so that an instance restarted on the same host can end what a killed
-- predecessor left; cleared once the group is gone.
alter table deployment_steps add column process_group bigint;
create index deployment_steps_process_group on deployment_steps (deployment_id)
    where process_group is not null;

-- Facts of the installation, such as the token that ties a data folder to
-- this database (every instance must see the same folder).
create table settings (
    name text primary key,
    value text not null
);
