-- Upstream LLM keys and models, managed from the operator console.
--
-- A key is stored sealed: AES-256-GCM under `llm_key_encryption_key` (config),
-- `secret_sealed` = 12-byte nonce || ciphertext || 16-byte tag, the row id as
-- associated data (a sealed secret copied to another row does not open).
-- Only its fingerprint (`sha256:` + 12 hex digits, what chat_message and the
-- rests in Redis name) and its mask (`sk-…abcd`) are kept in the clear.
-- `live_fingerprint` makes a key unique among the rows not deleted, which also
-- keeps copies importing the configuration's keys at the same time from
-- adding one twice.
CREATE TABLE llm_key (
  id bigint NOT NULL PRIMARY KEY,
  label varchar(64) NOT NULL,
  secret_sealed varbinary(1024) NOT NULL,
  fingerprint varchar(32) NOT NULL,
  masked varchar(32) NOT NULL,
  enabled tinyint(1) NOT NULL DEFAULT 1,
  is_deleted tinyint(1) NOT NULL DEFAULT 0,
  last_error varchar(500) NULL,
  last_error_time datetime(3) NULL,
  create_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  update_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  live_fingerprint varchar(32) GENERATED ALWAYS AS (IF(is_deleted = 0, fingerprint, NULL)) STORED,
  UNIQUE KEY uk_llm_key_live (live_fingerprint)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Whether each model of `llm_models` (config) is offered. A model named in the
-- configuration gets a row (enabled) when a copy starts; the console switches it.
CREATE TABLE llm_model (
  name varchar(50) NOT NULL PRIMARY KEY,
  enabled tinyint(1) NOT NULL DEFAULT 1,
  update_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
