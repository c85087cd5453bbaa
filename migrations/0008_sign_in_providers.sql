-- Sign-in providers (OpenID Connect, GitHub): one row per account at a
-- provider, bound to a user through chat_user_binding (binding_type 'oauth').
-- A user made by a provider sign-in also gets an email identity with the
-- provider's verified address and an empty password (no password sign-in
-- until one is set through a reset).
CREATE TABLE chat_user_binding_oauth (
  id bigint NOT NULL PRIMARY KEY,
  provider varchar(32) NOT NULL,
  subject varchar(255) NOT NULL,
  email varchar(255) NULL,
  create_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  update_time datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  UNIQUE KEY uk_binding_oauth_subject (provider, subject)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

ALTER TABLE chat_user_binding
  ADD COLUMN user_binding_oauth_id bigint NULL AFTER user_binding_email_id,
  ADD UNIQUE KEY uk_binding_oauth (user_binding_oauth_id);
