-- Orders service: seckill products, one unpaid order per user, idempotency
-- keys for POST /api/orders, and the outbox of timeout messages.

-- Seckill (flash sale) products get a shorter payment window; expires_days is
-- what every code generated for the product carries (0: never expires).
ALTER TABLE chat_product
  ADD COLUMN is_seckill tinyint(1) NOT NULL DEFAULT 0,
  ADD COLUMN expires_days int NOT NULL DEFAULT 0;

-- At most one unpaid order (status 0 or 1) per user, enforced by the database
-- as well as by the service's per-user lock: the column is NULL for every
-- other status, and NULLs never collide in a unique index.
ALTER TABLE chat_order
  ADD COLUMN unpaid_user_id bigint GENERATED ALWAYS AS (CASE WHEN status IN (0, 1) THEN user_id ELSE NULL END) STORED,
  ADD UNIQUE KEY uk_order_one_unpaid (unpaid_user_id),
  ADD KEY idx_order_created (status, id);

CREATE TABLE chat_order_idempotency (
  id bigint NOT NULL PRIMARY KEY,
  user_id bigint NOT NULL,
  idem_key varchar(64) NOT NULL,
  order_id bigint NOT NULL,
  create_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY uk_order_idempotency (user_id, idem_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Messages written in the same transaction as the change they announce and
-- published by the relay after commit (status 0 pending, 1 sent).
CREATE TABLE chat_order_outbox (
  id bigint NOT NULL PRIMARY KEY,
  order_id bigint NOT NULL,
  kind varchar(32) NOT NULL,
  payload text NOT NULL,
  deliver_at datetime(3) NOT NULL,
  status tinyint NOT NULL DEFAULT 0,
  attempts int NOT NULL DEFAULT 0,
  last_error varchar(500) NULL,
  next_attempt_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  sent_time datetime(3) NULL,
  create_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  KEY idx_outbox_pending (status, next_attempt_time),
  KEY idx_outbox_order (order_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
