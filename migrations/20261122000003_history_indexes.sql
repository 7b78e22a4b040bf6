-- Keyset pages of a filtered history stay as fast as the first page: each
-- filter walks an index in id order instead of scanning the team's history.
create index deployments_team_id_status_id on deployments (team_id, status, id);
create index deployments_team_id_type_id on deployments (team_id, type, id);

-- The waiting queue is small however long the history grows: the engine's
-- claim, the busy check and the sites page read it through this index.
create index deployments_queued on deployments (site_id, id) where status = 'queued';
