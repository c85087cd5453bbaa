-- The operator console's Users panel: a user can be disabled (no sign-in, every
-- session ended), an admin's change of a user's chat times is one ledger row
-- beside the balance change, and every admin action leaves an audit row.
ALTER TABLE chat_user
  ADD COLUMN disabled tinyint(1) NOT NULL DEFAULT 0 AFTER role;

-- One row per admin adjustment of chat_user.can_conversation_times, written in
-- the transaction that changes the balance; the times history reads it as `adjusted`.
CREATE TABLE chat_times_adjustment (
  id bigint NOT NULL PRIMARY KEY,
  user_id bigint NOT NULL,
  delta int NOT NULL,
  reason varchar(200) NOT NULL,
  actor_id bigint NOT NULL,
  create_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  KEY idx_times_adjustment_user (user_id, create_time)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- What an admin did: `action` like `user.disable`, `target` like `user:<id>`,
-- the state before and after as JSON text.
CREATE TABLE sys_audit_log (
  id bigint NOT NULL PRIMARY KEY,
  actor_id bigint NOT NULL,
  action varchar(64) NOT NULL,
  target varchar(128) NOT NULL,
  before_json text NULL,
  after_json text NULL,
  ip varchar(64) NULL,
  create_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  KEY idx_audit_actor (actor_id, id),
  KEY idx_audit_action (action, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
