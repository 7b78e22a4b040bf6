-- A pull request from a fork waits, queued, until a member approves it:
-- nothing of it runs before. Waiting deployments do not make a site busy.
alter table deployments add column awaiting_approval bigint not null default 0;
alter table deployments add column approved_by text;

-- Whether pull requests of the site's own repository deploy previews.
alter table sites add column previews bigint not null default 1;

-- GitHub deliveries already acted on, by their X-GitHub-Delivery id, so a
-- replayed delivery changes nothing. Kept for 30 days.
create table webhook_deliveries (
    site_id text not null references sites (id) on delete cascade,
    id text not null,
    received_at bigint not null,
    primary key (site_id, id)
);

create index webhook_deliveries_received_at on webhook_deliveries (received_at);
