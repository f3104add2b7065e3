-- 001: users, todos and idempotency keys.
-- Times are DATETIME(3) in UTC (the service sets time_zone to +00:00).

CREATE TABLE users (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  -- Stored trimmed and lower-cased; the unique index makes concurrent
  -- sign-ups with one address collide.
  email VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  name VARCHAR(100) NOT NULL,
  -- Better Auth's scrypt format: 32 hex salt, ':', 128 hex key.
  password_hash VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  email_verified TINYINT(1) NOT NULL DEFAULT 0,
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY users_email (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Clustered by (user_id, id) so one user's todos sit together: counting and
-- paging one user's rows reads a contiguous range. UNIQUE (id) carries the
-- AUTO_INCREMENT and the lookups by id.
CREATE TABLE todos (
  user_id BIGINT UNSIGNED NOT NULL,
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  title VARCHAR(200) NOT NULL,
  description VARCHAR(2000) NOT NULL DEFAULT '',
  completed TINYINT(1) NOT NULL DEFAULT 0,
  -- Rank: 0 low, 1 normal, 2 high, so sorting by it sorts by rank.
  priority TINYINT UNSIGNED NOT NULL DEFAULT 1,
  due_at DATETIME(3) NULL,
  -- Bumped on every update; the ETag is "id-version".
  version INT UNSIGNED NOT NULL DEFAULT 1,
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  PRIMARY KEY (user_id, id),
  UNIQUE KEY todos_id (id),
  KEY todos_user_created (user_id, created_at, id),
  KEY todos_user_completed_created (user_id, completed, created_at, id),
  KEY todos_user_priority (user_id, priority, id),
  KEY todos_user_due (user_id, due_at, id),
  KEY todos_user_title (user_id, title, id),
  CONSTRAINT todos_user FOREIGN KEY (user_id) REFERENCES users (id)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Idempotency-Key records: per user, kept at least 24 hours.
CREATE TABLE idempotency_keys (
  user_id BIGINT UNSIGNED NOT NULL,
  idem_key VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  -- SHA-256 of the canonical request body: a reuse with another body is
  -- refused.
  request_hash BINARY(32) NOT NULL,
  todo_id BIGINT UNSIGNED NULL,
  created_at DATETIME(3) NOT NULL,
  PRIMARY KEY (user_id, idem_key),
  KEY idempotency_keys_created (created_at),
  CONSTRAINT idempotency_keys_user FOREIGN KEY (user_id) REFERENCES users (id)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
