-- Proof by mailed link: a provider sign-in whose verified address already has
-- an account is linked to it only once the link mailed to that address is
-- followed. The code is stored as its SHA-256 (hex), works until expire_at,
-- and once (used_at).
CREATE TABLE chat_user_link_proof (
  id bigint NOT NULL PRIMARY KEY,
  code_hash char(64) NOT NULL,
  user_id bigint NOT NULL,
  provider varchar(32) NOT NULL,
  subject varchar(255) NOT NULL,
  email varchar(255) NULL,
  return_to varchar(512) NOT NULL,
  request_ip varchar(64) NOT NULL,
  expire_at datetime(3) NOT NULL,
  used_at datetime(3) NULL,
  create_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY uk_link_proof_code (code_hash),
  KEY idx_link_proof_user (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
