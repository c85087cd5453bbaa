-- Payment: pay attempts on the order's history, and the gateway's log of
-- every Alipay notify it received.

-- Each pay attempt is a history row: its number, the out_trade_no sent to
-- Alipay (`<order id>_<attempt>`), the QR code and when it stops being valid.
-- pay_status gains 4 = refunded (a payment that came for a closed order with
-- no stock left to honour it).
ALTER TABLE chat_order_history
  ADD COLUMN pay_attempt int NULL,
  ADD COLUMN out_trade_no varchar(64) NULL,
  ADD COLUMN trade_no varchar(64) NULL,
  ADD COLUMN qr_expire_time datetime(3) NULL,
  ADD UNIQUE KEY uk_order_history_attempt (order_id, pay_attempt);

-- Every notify as it came (raw body), whether it verified, and why not.
-- handed_over = 1 once the "payment succeeded" event is confirmed by the broker.
CREATE TABLE pay_alipay_notify (
  id bigint NOT NULL PRIMARY KEY,
  notify_id varchar(128) NULL,
  out_trade_no varchar(64) NULL,
  trade_no varchar(64) NULL,
  trade_status varchar(32) NULL,
  verified tinyint(1) NOT NULL DEFAULT 0,
  handed_over tinyint(1) NOT NULL DEFAULT 0,
  rejection_reason varchar(255) NULL,
  raw_body text NOT NULL,
  create_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  update_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  KEY idx_notify_notify_id (notify_id),
  KEY idx_notify_trade (out_trade_no, trade_status),
  KEY idx_notify_created (create_time)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
