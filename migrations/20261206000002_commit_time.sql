-- When the commit a deploy checked out was made (ms since the epoch), as
-- its checkout reports it: the start of a change's lead time.
alter table deployments add column commit_at bigint;
