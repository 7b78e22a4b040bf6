-- Each hook's notifications go out in order, so only its oldest pending
-- one can be claimed: this finds every hook's oldest pending notification
-- (and the ones after it) without reading the rest of the outbox.
create index notifications_pending on notifications (hook_id, id) where state = 'pending';
