-- The sales dashboard's ranges: each figure reads one indexed time column
-- from the start of its range (orders placed, paid, closed; refunds; sign-ups;
-- answers).
ALTER TABLE chat_order
  ADD KEY idx_order_create_time (create_time),
  ADD KEY idx_order_status_pay_time (status, pay_time),
  ADD KEY idx_order_status_update_time (status, update_time);

ALTER TABLE chat_order_history
  ADD KEY idx_order_history_pay_status (pay_status, create_time);

ALTER TABLE chat_user
  ADD KEY idx_user_create_time (create_time);

ALTER TABLE chat_message
  ADD KEY idx_message_type_time (message_type, create_time);
