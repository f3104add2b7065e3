-- 003: per-user todo counts, so that a list's total costs O(1) for the
-- unfiltered list and the completed and priority filters.
--
-- Kept by triggers in the same statement (and so the same transaction) as
-- every insert, update and delete of a todo: they cannot drift, whoever
-- writes the rows. Each (user, completed, priority) is spread over eight
-- slots (the todo's id modulo 8), so that concurrent writes of one user do
-- not all wait for one row lock; a total is the sum of at most 48 rows.
-- A slot may go negative (a todo counted in one slot is removed through
-- the same slot, so sums stay exact).
--
-- Stop every older todod before applying this: the backfill below counts
-- the rows as they are, and an older binary's later writes would still be
-- counted by the triggers (they are the database's), so nothing drifts
-- after it either; the stop only keeps the backfill and the triggers'
-- start in step.
CREATE TABLE todo_counts (
  user_id BIGINT UNSIGNED NOT NULL,
  completed TINYINT(1) NOT NULL,
  priority TINYINT UNSIGNED NOT NULL,
  slot TINYINT UNSIGNED NOT NULL,
  n BIGINT NOT NULL,
  PRIMARY KEY (user_id, completed, priority, slot),
  CONSTRAINT todo_counts_user FOREIGN KEY (user_id) REFERENCES users (id)
    ON DELETE CASCADE
) ENGINE=InnoDB;

LOCK TABLES todos WRITE, todo_counts WRITE;
INSERT INTO todo_counts (user_id, completed, priority, slot, n)
  SELECT user_id, completed, priority, id % 8, COUNT(*) FROM todos
  GROUP BY user_id, completed, priority, id % 8;
UNLOCK TABLES;

CREATE TRIGGER todos_count_insert AFTER INSERT ON todos FOR EACH ROW
  INSERT INTO todo_counts (user_id, completed, priority, slot, n)
  VALUES (NEW.user_id, NEW.completed, NEW.priority, NEW.id % 8, 1)
  ON DUPLICATE KEY UPDATE n = n + 1;

CREATE TRIGGER todos_count_delete AFTER DELETE ON todos FOR EACH ROW
  INSERT INTO todo_counts (user_id, completed, priority, slot, n)
  VALUES (OLD.user_id, OLD.completed, OLD.priority, OLD.id % 8, -1)
  ON DUPLICATE KEY UPDATE n = n - 1;

-- Foreign key cascades do not fire triggers: a user's todos are deleted
-- by statements (store.c), and their counts go with the user (cascade).
CREATE TRIGGER todos_count_update AFTER UPDATE ON todos FOR EACH ROW
BEGIN
  IF OLD.completed <> NEW.completed OR OLD.priority <> NEW.priority
     OR OLD.user_id <> NEW.user_id THEN
    INSERT INTO todo_counts (user_id, completed, priority, slot, n)
    VALUES (OLD.user_id, OLD.completed, OLD.priority, OLD.id % 8, -1)
    ON DUPLICATE KEY UPDATE n = n - 1;
    INSERT INTO todo_counts (user_id, completed, priority, slot, n)
    VALUES (NEW.user_id, NEW.completed, NEW.priority, NEW.id % 8, 1)
    ON DUPLICATE KEY UPDATE n = n + 1;
  END IF;
END;
