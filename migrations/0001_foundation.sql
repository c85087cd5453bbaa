-- The seed schema (SCHEMA.md), tightened: NOT NULL where a value always exists,
-- tinyint(1) flags, datetime(3) in UTC, an index for every lookup the services make.
-- Ids are application-generated snowflake ids.

CREATE TABLE chat_user (
  id bigint NOT NULL PRIMARY KEY,
  nickname varchar(16) NOT NULL,
  description varchar(64) NULL,
  avatar_version int NOT NULL DEFAULT 0,
  last_login_ip varchar(64) NULL,
  can_conversation_times int NOT NULL DEFAULT 0,
  role varchar(16) NOT NULL DEFAULT 'user',
  create_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  update_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  CONSTRAINT chk_chat_user_times CHECK (can_conversation_times >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE chat_user_binding_email (
  id bigint NOT NULL PRIMARY KEY,
  username varchar(64) NOT NULL,
  password varchar(128) NOT NULL,
  verified tinyint(1) NOT NULL DEFAULT 0,
  create_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  update_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  UNIQUE KEY uk_binding_email_username (username)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE chat_user_binding (
  id bigint NOT NULL PRIMARY KEY,
  binding_type varchar(16) NOT NULL,
  user_binding_email_id bigint NULL,
  user_id bigint NOT NULL,
  create_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  update_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  UNIQUE KEY uk_binding_email (user_binding_email_id),
  KEY idx_binding_user (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE chat_user_login_log (
  id bigint NOT NULL PRIMARY KEY,
  user_id bigint NULL,
  login_type varchar(32) NOT NULL,
  user_binding_email_id bigint NULL,
  login_ip varchar(64) NOT NULL,
  login_status tinyint(1) NOT NULL,
  message varchar(64) NOT NULL,
  create_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  KEY idx_login_log_user (user_id, create_time),
  KEY idx_login_log_email (user_binding_email_id, create_time)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- verify_code holds the SHA-256 (hex) of the emailed code, never the code itself.
CREATE TABLE sys_email_verify_code (
  id bigint NOT NULL PRIMARY KEY,
  to_email_address varchar(64) NOT NULL,
  verify_code char(64) NOT NULL,
  is_used tinyint(1) NOT NULL DEFAULT 0,
  verify_ip varchar(100) NULL,
  expire_at datetime(3) NOT NULL,
  biz_type tinyint NOT NULL,
  create_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  update_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  UNIQUE KEY uk_verify_code (verify_code),
  KEY idx_verify_code_email (to_email_address, biz_type)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE sys_email_send_log (
  id bigint NOT NULL PRIMARY KEY,
  from_email_address varchar(64) NOT NULL,
  to_email_address varchar(64) NOT NULL,
  biz_type int NOT NULL,
  request_ip varchar(255) NULL,
  content text NULL,
  message_id varchar(128) NULL,
  status tinyint NOT NULL,
  message varchar(1024) NOT NULL,
  create_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  update_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  KEY idx_send_log_to (to_email_address, create_time)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE chat_room (
  id bigint NOT NULL PRIMARY KEY,
  user_id bigint NOT NULL,
  ip varchar(255) NULL,
  conversation_id varchar(255) NULL,
  first_chat_message_id bigint NULL,
  first_message_id varchar(255) NULL,
  title varchar(5000) NOT NULL,
  api_type varchar(20) NOT NULL,
  is_deleted tinyint(1) NOT NULL DEFAULT 0,
  create_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  update_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  KEY idx_room_user (user_id, is_deleted, update_time)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE chat_message (
  id bigint NOT NULL PRIMARY KEY,
  user_id bigint NOT NULL,
  message_id varchar(255) NOT NULL,
  parent_message_id varchar(255) NULL,
  parent_answer_message_id varchar(255) NULL,
  parent_question_message_id varchar(255) NULL,
  context_count bigint NOT NULL DEFAULT 0,
  question_context_count bigint NOT NULL DEFAULT 0,
  message_type int NOT NULL,
  chat_room_id bigint NOT NULL,
  conversation_id varchar(255) NULL,
  api_type varchar(20) NOT NULL,
  model_name varchar(50) NULL,
  api_key varchar(255) NULL,
  content mediumtext NOT NULL,
  original_data mediumtext NULL,
  response_error_data text NULL,
  prompt_tokens bigint NULL,
  completion_tokens bigint NULL,
  total_tokens bigint NULL,
  ip varchar(255) NULL,
  status int NOT NULL,
  is_hide tinyint(1) NOT NULL DEFAULT 0,
  create_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  update_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  UNIQUE KEY uk_message_id (message_id),
  KEY idx_message_room (chat_room_id, id),
  KEY idx_message_user (user_id, create_time)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE chat_sensitive_word (
  id bigint NOT NULL PRIMARY KEY,
  word varchar(255) NOT NULL,
  status int NOT NULL DEFAULT 1,
  is_deleted int NOT NULL DEFAULT 0,
  create_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  update_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  KEY idx_sensitive_status (is_deleted, status)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE chat_product (
  id bigint NOT NULL PRIMARY KEY,
  name varchar(30) NOT NULL,
  reward_use_times int NOT NULL DEFAULT 0,
  price decimal(11,2) NOT NULL,
  description varchar(64) NOT NULL DEFAULT '',
  sale int NOT NULL DEFAULT 0,
  stock int NOT NULL DEFAULT 0,
  status tinyint NOT NULL DEFAULT 1,
  is_deleted int NOT NULL DEFAULT 0,
  create_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  update_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  KEY idx_product_listing (is_deleted, status, sale),
  CONSTRAINT chk_product_stock CHECK (stock >= 0),
  CONSTRAINT chk_product_price CHECK (price >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE chat_exchange (
  id bigint NOT NULL PRIMARY KEY,
  product_id bigint NOT NULL,
  name varchar(30) NOT NULL,
  code varchar(100) NOT NULL,
  reward_use_times int NOT NULL,
  price decimal(11,2) NOT NULL,
  is_used tinyint(1) NOT NULL DEFAULT 0,
  is_occupied tinyint(1) NOT NULL DEFAULT 0,
  status tinyint NOT NULL DEFAULT 1,
  is_deleted int NOT NULL DEFAULT 0,
  activation_time datetime(3) NULL,
  expires_days int NULL,
  owner_user_id bigint NULL,
  order_id bigint NULL,
  create_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  update_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  UNIQUE KEY uk_exchange_code (code),
  KEY idx_exchange_free (product_id, is_occupied, is_used, is_deleted),
  KEY idx_exchange_owner (owner_user_id, create_time),
  KEY idx_exchange_order (order_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE chat_user_exchange_record (
  id bigint NOT NULL PRIMARY KEY,
  user_id bigint NOT NULL,
  exchange_id bigint NOT NULL,
  code varchar(100) NOT NULL,
  create_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY uk_exchange_record_exchange (exchange_id),
  KEY idx_exchange_record_user (user_id, create_time)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE chat_order (
  id bigint NOT NULL PRIMARY KEY,
  user_id bigint NOT NULL,
  total_amount decimal(11,2) NOT NULL,
  pay_amount decimal(11,2) NOT NULL,
  status tinyint NOT NULL DEFAULT 0,
  type tinyint NOT NULL DEFAULT 0,
  remark varchar(500) NULL,
  pay_time datetime(3) NULL,
  expire_time datetime(3) NOT NULL,
  is_deleted int NOT NULL DEFAULT 0,
  create_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  update_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  KEY idx_order_user (user_id, status, id),
  KEY idx_order_status_expire (status, expire_time)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE chat_order_item (
  id bigint NOT NULL PRIMARY KEY,
  order_id bigint NOT NULL,
  product_id bigint NOT NULL,
  exchange_num int NOT NULL,
  product_name varchar(200) NOT NULL,
  product_price decimal(11,2) NOT NULL,
  is_deleted int NOT NULL DEFAULT 0,
  create_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  update_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  KEY idx_order_item_order (order_id),
  CONSTRAINT chk_order_item_num CHECK (exchange_num > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE chat_order_history (
  id bigint NOT NULL PRIMARY KEY,
  user_id bigint NOT NULL,
  order_id bigint NOT NULL,
  order_status tinyint NOT NULL,
  pay_status tinyint NOT NULL DEFAULT 0,
  total_amount decimal(11,2) NOT NULL,
  pay_amount decimal(11,2) NOT NULL,
  pay_account varchar(30) NULL,
  pay_qr_code varchar(255) NULL,
  is_deleted int NOT NULL DEFAULT 0,
  remark varchar(500) NULL,
  create_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  update_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  KEY idx_order_history_order (order_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE chat_order_delay_failure_record (
  id bigint NOT NULL PRIMARY KEY,
  error_message text NOT NULL,
  message_payload longtext NOT NULL,
  retry_count int NOT NULL DEFAULT 0,
  create_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
