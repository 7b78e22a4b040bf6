-- Whether a step runs in the sandbox, as its pipeline said when the
-- deployment was created: an operator's own step may opt out with
-- `sandbox = false`; the compiled-in ones never do.
alter table deployment_steps add column sandboxed bigint not null default 1;
