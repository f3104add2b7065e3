-- 002: token revocations (sign-out, revoke-sessions, password change,
-- account deletion). Every todod process keeps the unexpired rows in
-- memory and reads the new ones every revocation_poll_ms, so verifying a
-- token never reads the database.
--
-- No foreign key to users: the revocation of a deleted account's tokens
-- must outlive the account.
CREATE TABLE revocations (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  user_id BIGINT UNSIGNED NOT NULL,
  -- One token (the 16 bytes of its jti, a UUIDv7), or NULL: every token
  -- of the user issued before cutoff.
  jti BINARY(16) NULL,
  -- When the revocation was made, in 1/4096 ms since the epoch (a
  -- UUIDv7's 48-bit milliseconds and 12-bit fraction): tokens are ordered
  -- against it finer than iat's whole seconds.
  cutoff BIGINT UNSIGNED NOT NULL,
  -- After this (ms since the epoch) no token it covers can still be
  -- valid: the row no longer matters and is purged.
  expires_ms BIGINT UNSIGNED NOT NULL,
  -- The database's clock: the processes poll by it.
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  KEY revocations_created (created_at),
  KEY revocations_user (user_id, expires_ms),
  KEY revocations_expires (expires_ms)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
