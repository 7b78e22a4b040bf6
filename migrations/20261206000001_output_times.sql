-- When each part of a step's output was written, for the log viewer's
-- per-line times: lines of "<ms since the epoch> <bytes>", one per stretch
-- of output, in order, so appending output appends its times in the same
-- statement.
alter table deployment_steps add column output_times text not null default '';
