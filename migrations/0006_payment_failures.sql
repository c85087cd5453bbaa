-- Payment events whose fulfilment kept failing after the consumer's bounded
-- retries: parked here (the event as received, the last error, how many
-- attempts so far) before the event is acked, so a paid order is never lost.
-- The fulfilment retry job tries unresolved rows again and sets resolved = 1
-- once the order is fulfilled or refunded. One row per Alipay trade: a
-- redelivered event that fails again updates the row instead of adding one.
CREATE TABLE chat_payment_failure (
  id bigint NOT NULL PRIMARY KEY,
  order_id bigint NOT NULL,
  out_trade_no varchar(64) NOT NULL,
  event_payload text NOT NULL,
  error_message text NOT NULL,
  attempts int NOT NULL DEFAULT 0,
  resolved tinyint(1) NOT NULL DEFAULT 0,
  resolved_time datetime(3) NULL,
  create_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  update_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  UNIQUE KEY uk_payment_failure_trade (out_trade_no),
  KEY idx_payment_failure_open (resolved, id),
  KEY idx_payment_failure_order (order_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
