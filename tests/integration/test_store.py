"""The data layer under contention and at its edges, end to end through
nginx: concurrent writers on one todo without If-Match (every write lands,
none is lost, none is mixed with another) and with If-Match (exactly one
wins), DELETE racing PATCH, the idempotent create race, a row lock that
does not clear (503 after db_lock_timeout, nothing half-written, the cause
in the log), a statement that cannot prepare (500, not 503, its MariaDB
error in the log), and JSON strings with surrogate escapes (only a
well-formed pair is text).

TODOD_STORE_ROUNDS (default 3) is how many times each contention case runs;
TODOD_STORE_ROUNDS=50 hunts for a rare interleaving."""

import itertools
import os
import re
import select
import subprocess
import threading
import time

from harness import race, StackTestCase, find_program

N = 24  # concurrent writers on one todo: more than todod's 16 workers
ROUNDS = int(os.environ.get("TODOD_STORE_ROUNDS") or 3)
if ROUNDS < 1:
    raise ValueError("TODOD_STORE_ROUNDS must be at least 1")
TIMEOUT = 30  # seconds for any one request
PRIORITIES = ("low", "normal", "high")
WRITABLE = ("title", "description", "completed", "priority", "dueAt")
TODO_KEYS = {"id", "title", "description", "completed", "priority", "dueAt", "createdAt",
             "updatedAt"}
ETAG_RE = re.compile(r'^"[\x21\x23-\x7e\x80-\xff]*"$')
JSON = {"Content-Type": "application/json"}
_serial = itertools.count(1)


def statuses(results):
    return [getattr(r, "status", repr(r)) for r in results]


def bodies(results):
    return [getattr(r, "body", repr(r))[:200] for r in results]


def fields(todo, keys=WRITABLE):
    return {k: todo.get(k) for k in keys}


class StoreCase(StackTestCase):
    """Helpers shared by the classes below (no tests of its own)."""

    def sign_up(self, name="store"):
        n = next(_serial)
        resp = self.request("POST", "/api/auth/sign-up/email",
                            body={"name": "%s %d" % (name, n),
                                  "email": "%s-%d@example.com" % (name, n),
                                  "password": "correct horse battery %d" % n}, timeout=TIMEOUT)
        self.assertEqual(resp.status, 201, resp.body)
        return {"id": resp.json["user"]["id"], "n": n,
                "auth": {"Authorization": "Bearer " + resp.json["token"]}}

    def call(self, user, method, path, body=None, headers=None, raw=None, timeout=TIMEOUT):
        hdrs = dict(user["auth"])
        if raw is not None:
            hdrs.update(JSON)
        hdrs.update(headers or {})
        return self.request(method, path, body=body, headers=hdrs, raw=raw, timeout=timeout)

    def create(self, user, **body):
        resp = self.call(user, "POST", "/api/todos", body=body)
        return self.assertTodoResponse(resp, 201)

    def get(self, user, tid):
        return self.call(user, "GET", "/api/todos/%d" % tid)

    def sql(self, query):
        return self.stack.admin_sql(query, "todod").strip()

    def version(self, tid):
        """The todo's version column: bumped once by every update."""
        return int(self.sql("SELECT version FROM todos WHERE id = %d" % tid))

    def rows(self, table, where):
        return int(self.sql("SELECT COUNT(*) FROM %s WHERE %s" % (table, where)))

    def log_lines(self, reqid, *needles, wait=3.0):
        """todod's log lines of one request that contain every needle
        (case-insensitive), waiting a little for the line to be written."""
        deadline = time.monotonic() + wait
        while True:
            found = [line for line in self.stack.todod_log().splitlines()
                     if "[%s]" % reqid in line
                     and all(n.lower() in line.lower() for n in needles)]
            if found or time.monotonic() >= deadline:
                return found
            time.sleep(0.1)

    def assertTodoResponse(self, resp, status=200, msg=None):
        where = msg or "%r %r" % (getattr(resp, "status", resp), getattr(resp, "body", b"")[:300])
        self.assertEqual(getattr(resp, "status", resp), status, where)
        self.assertIsInstance(resp.json, dict, where)
        self.assertEqual(set(resp.json), TODO_KEYS, where)
        self.assertRegex(resp.headers.get("etag", ""), ETAG_RE, where)
        return resp.json

    def assertValidation(self, resp, field, msg=None):
        where = msg or "%d %r" % (resp.status, resp.body[:300])
        self.assertError(resp, 422, "VALIDATION_FAILED", where)
        self.assertEqual(resp.json.get("field"), field, where)

    def assertUnchanged(self, user, tid, before, msg=None):
        """The todo reads back exactly as before and its version did not move."""
        now = self.get(user, tid)
        self.assertEqual(now.status, 200, msg)
        self.assertEqual(now.json, before.json, msg)
        self.assertEqual(now.headers.get("etag"), before.headers.get("etag"), msg)


class StoreContentionTest(StoreCase):
    """Many writers on one todo at once: every write without If-Match lands
    whole, exactly one write with If-Match wins, never a 5xx."""

    def test_concurrent_patch_without_if_match(self):
        u = self.sign_up()
        for rnd in range(ROUNDS):
            at = "round %d" % rnd
            todo = self.create(u, title="start", description="start", completed=True,
                               dueAt="2031-05-06T07:08:09.010Z")
            tid, path = todo["id"], "/api/todos/%d" % todo["id"]
            v0 = self.version(tid)
            sent = [{"title": "p-%d" % i, "description": "d-%d" % i,
                     "priority": PRIORITIES[i % 3]} for i in range(N)]
            results = race([lambda b=b: self.call(u, "PATCH", path, body=b) for b in sent])
            self.assertEqual(statuses(results), [200] * N, "%s: %r" % (at, bodies(results)))
            for b, r in zip(sent, results):
                got = self.assertTodoResponse(r, 200, at)
                # Its own fields, and the fields nobody set are untouched.
                self.assertEqual(fields(got, b), b, at)
                self.assertEqual((got["id"], got["completed"], got["dueAt"], got["createdAt"]),
                                 (tid, True, todo["dueAt"], todo["createdAt"]), at)
            self.assertEqual(self.version(tid), v0 + N, "%s: version advanced" % at)
            tags = [r.headers["etag"] for r in results]
            self.assertEqual(len(set(tags)), N, "%s: ETags %r" % (at, tags))
            final = self.get(u, tid)
            self.assertTodoResponse(final, 200, at)
            last = [r for r in results if r.headers["etag"] == final.headers["etag"]]
            self.assertEqual(len(last), 1, "%s: final ETag %s" % (at, final.headers["etag"]))
            self.assertEqual(final.json, last[0].json, at)

    def test_concurrent_put_without_if_match(self):
        u = self.sign_up()
        for rnd in range(ROUNDS):
            at = "round %d" % rnd
            todo = self.create(u, title="start")
            tid, path = todo["id"], "/api/todos/%d" % todo["id"]
            v0 = self.version(tid)
            # Every field of every body is unique to its request (by i, or by
            # i's combination of parity and priority), so a row that mixes
            # two requests matches none of them.
            sent = [{"title": "t-%d" % i, "description": "d-%d" % i, "completed": i % 2 == 0,
                     "priority": PRIORITIES[i % 3],
                     "dueAt": "2030-01-%02dT%02d:00:%02d.%03dZ" % (1 + i, i % 24, i, i)}
                    for i in range(N)]
            results = race([lambda b=b: self.call(u, "PUT", path, body=b) for b in sent])
            self.assertEqual(statuses(results), [200] * N, "%s: %r" % (at, bodies(results)))
            for b, r in zip(sent, results):
                got = self.assertTodoResponse(r, 200, at)
                self.assertEqual(fields(got), b, at)
                self.assertEqual((got["id"], got["createdAt"]), (tid, todo["createdAt"]), at)
            self.assertEqual(self.version(tid), v0 + N, "%s: version advanced" % at)
            tags = [r.headers["etag"] for r in results]
            self.assertEqual(len(set(tags)), N, "%s: ETags %r" % (at, tags))
            final = self.get(u, tid)
            state = fields(self.assertTodoResponse(final, 200, at))
            whole = [i for i, b in enumerate(sent) if b == state]
            self.assertEqual(len(whole), 1, "%s: final row %r is no request's body" % (at, state))
            self.assertEqual(results[whole[0]].headers["etag"], final.headers["etag"], at)
            self.assertEqual(results[whole[0]].json, final.json, at)

    def check_if_match_race(self, method):
        u = self.sign_up()
        for rnd in range(ROUNDS):
            at = "%s round %d" % (method, rnd)
            first = self.call(u, "POST", "/api/todos", body={"title": "start"})
            self.assertTodoResponse(first, 201, at)
            tid, path = first.json["id"], "/api/todos/%d" % first.json["id"]
            v0 = self.version(tid)
            im = {"If-Match": first.headers["etag"]}
            sent = [{"title": "m-%d" % i, "description": "d-%d" % i} for i in range(N)]
            results = race([lambda b=b: self.call(u, method, path, body=b, headers=im)
                            for b in sent])
            got = statuses(results)
            self.assertEqual(sorted(got), [200] + [409] * (N - 1), "%s: %r" % (at, bodies(results)))
            win = got.index(200)
            for i, r in enumerate(results):
                if i != win:
                    self.assertError(r, 409, "CONFLICT", at)
                    self.assertNotIn("etag", r.headers, at)
            self.assertEqual(fields(self.assertTodoResponse(results[win], 200, at),
                                    sent[win]), sent[win], at)
            self.assertEqual(self.version(tid), v0 + 1, "%s: version advanced" % at)
            final = self.get(u, tid)
            self.assertTodoResponse(final, 200, at)
            self.assertEqual(final.json, results[win].json, at)
            self.assertEqual(final.headers["etag"], results[win].headers["etag"], at)

    def test_concurrent_patch_with_if_match(self):
        self.check_if_match_race("PATCH")

    def test_concurrent_put_with_if_match(self):
        self.check_if_match_race("PUT")

    def test_concurrent_delete_with_if_match(self):
        """One DELETE wins. A loser that read the todo before the winner
        committed answers 409; one that reads after finds no todo, and a
        missing todo with If-Match answers 404 (test_todos' isolation test
        requires that), so either is right for a loser, a 5xx never."""
        u = self.sign_up()
        for rnd in range(ROUNDS):
            at = "round %d" % rnd
            first = self.call(u, "POST", "/api/todos", body={"title": "doomed"})
            self.assertTodoResponse(first, 201, at)
            tid, path = first.json["id"], "/api/todos/%d" % first.json["id"]
            im = {"If-Match": first.headers["etag"]}
            results = race([lambda: self.call(u, "DELETE", path, headers=im)] * N)
            got = statuses(results)
            self.assertEqual(got.count(204), 1, "%s: %r" % (at, bodies(results)))
            for r in results:
                if r.status == 204:
                    self.assertEqual(r.body, b"", at)
                elif r.status == 409:
                    self.assertError(r, 409, "CONFLICT", at)
                else:
                    self.assertError(r, 404, "NOT_FOUND", "%s: %r" % (at, got))
            self.assertError(self.get(u, tid), 404, "NOT_FOUND", at)
            self.assertEqual(self.rows("todos", "id = %d" % tid), 0, at)

    def test_delete_racing_patch(self):
        u = self.sign_up()
        pairs = 8  # todos raced at once per round
        for rnd in range(ROUNDS):
            at = "round %d" % rnd
            tids = [self.create(u, title="victim %d" % i)["id"] for i in range(pairs)]
            calls = []
            for tid in tids:
                path = "/api/todos/%d" % tid
                calls.append(lambda p=path: self.call(u, "PATCH", p, body={"title": "survivor"}))
                calls.append(lambda p=path: self.call(u, "DELETE", p))
            results = race(calls)
            for k, tid in enumerate(tids):
                patch, delete = results[2 * k], results[2 * k + 1]
                pair = (getattr(patch, "status", repr(patch)), getattr(delete, "status",
                                                                        repr(delete)))
                where = "%s todo %d: %r, %r" % (at, tid, pair, bodies([patch, delete]))
                self.assertIn(pair, ((200, 204), (404, 204)), where)
                if patch.status == 200:
                    self.assertEqual(self.assertTodoResponse(patch, 200, where)["title"],
                                     "survivor", where)
                else:
                    self.assertError(patch, 404, "NOT_FOUND", where)
                self.assertEqual(delete.body, b"", where)
                self.assertError(self.get(u, tid), 404, "NOT_FOUND", where)
                self.assertEqual(self.rows("todos", "id = %d" % tid), 0, where)

    def test_idempotent_create_race(self):
        u = self.sign_up()
        for rnd in range(ROUNDS):
            at = "round %d" % rnd
            before = self.rows("todos", "user_id = %d" % int(u["id"]))
            key = {"Idempotency-Key": "store-race-%d" % rnd}
            body = {"title": "once %d" % rnd, "priority": "high"}
            results = race([lambda: self.call(u, "POST", "/api/todos", body=body,
                                              headers=key)] * N)
            self.assertEqual(statuses(results), [201] * N, "%s: %r" % (at, bodies(results)))
            self.assertEqual(len({r.json["id"] for r in results}), 1, at)
            self.assertEqual(len({r.body for r in results}), 1, at)
            self.assertEqual(fields(results[0].json, body), body, at)
            self.assertEqual(self.rows("todos", "user_id = %d" % int(u["id"])), before + 1, at)
            self.assertEqual(self.rows("todos", "id = %d" % results[0].json["id"]), 1, at)


class TodoCountsTest(StoreCase):
    """The per-user counts behind the list's total (sql/003's triggers) equal
    COUNT(*) after a random mix of concurrent creates, updates that move
    todos between completed and priority buckets, replacements and deletes,
    and every total the API reports is the real one."""

    BUCKETS = [(c, p) for c in (0, 1) for p in (0, 1, 2)]
    PRIO = ["low", "normal", "high"]

    def counts(self, uid):
        got = {}
        for line in self.sql("SELECT completed, priority, SUM(n) FROM todo_counts"
                             " WHERE user_id = %s GROUP BY completed, priority" % uid).splitlines():
            c, p, n = (int(x) for x in line.split("\t"))
            if n:
                got[(c, p)] = n
        return got

    def truth(self, uid):
        got = {}
        for line in self.sql("SELECT completed, priority, COUNT(*) FROM todos"
                             " WHERE user_id = %s GROUP BY completed, priority" % uid).splitlines():
            c, p, n = (int(x) for x in line.split("\t"))
            got[(c, p)] = n
        return got

    def test_counts_equal_rows_after_concurrent_writes(self):
        import random
        users = [self.sign_up("counts") for _ in range(2)]
        ids = {u["id"]: [self.create(u, title="seed %d" % i)["id"] for i in range(6)]
               for u in users}
        lock = threading.Lock()
        errors = []

        def worker(seed):
            rnd = random.Random(seed)
            for i in range(40):
                u = rnd.choice(users)
                mine = ids[u["id"]]
                op = rnd.random()
                with lock:
                    tid = rnd.choice(mine) if mine else None
                if op < 0.3 or tid is None:
                    hdrs = {"Idempotency-Key": "k-%d-%d" % (seed, i)} if rnd.random() < 0.3 else {}
                    r = self.call(u, "POST", "/api/todos", headers=hdrs, body={
                        "title": "t %d %d" % (seed, i), "completed": rnd.random() < 0.5,
                        "priority": rnd.choice(self.PRIO)})
                    if r.status == 201:
                        with lock:
                            mine.append(r.json["id"])
                elif op < 0.6:
                    r = self.call(u, "PATCH", "/api/todos/%d" % tid, body={
                        "completed": rnd.random() < 0.5, "priority": rnd.choice(self.PRIO)})
                elif op < 0.75:
                    r = self.call(u, "PUT", "/api/todos/%d" % tid, body={
                        "title": "p %d" % i, "priority": rnd.choice(self.PRIO)})
                else:
                    r = self.call(u, "DELETE", "/api/todos/%d" % tid)
                    if r.status == 204:
                        with lock:
                            if tid in mine:
                                mine.remove(tid)
                if r.status >= 500 or r.status not in (200, 201, 204, 404):
                    with lock:
                        errors.append((r.status, r.body[:200]))

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertFalse(any(t.is_alive() for t in threads), "a writer hung")
        self.assertEqual(errors, [])
        for u in users:
            truth = self.truth(u["id"])
            self.assertEqual(self.counts(u["id"]), truth)
            # What the API reports, for every filter the counts serve.
            total = sum(truth.values())
            self.assertEqual(self.call(u, "GET", "/api/todos?limit=1").json["total"], total)
            for c in (0, 1):
                want = sum(n for (cc, _), n in truth.items() if cc == c)
                r = self.call(u, "GET", "/api/todos?limit=1&completed=%s" % ("true" if c else "false"))
                self.assertEqual(r.json["total"], want)
                for p in (0, 1, 2):
                    r = self.call(u, "GET", "/api/todos?limit=1&completed=%s&priority=%s"
                                  % ("true" if c else "false", self.PRIO[p]))
                    self.assertEqual(r.json["total"], truth.get((c, p), 0))
            for p in (0, 1, 2):
                want = sum(n for (_, pp), n in truth.items() if pp == p)
                r = self.call(u, "GET", "/api/todos?limit=1&priority=" + self.PRIO[p])
                self.assertEqual(r.json["total"], want)
            # Past the end: the total alone, from the counts too.
            r = self.call(u, "GET", "/api/todos?offset=100000")
            self.assertEqual((r.json["items"], r.json["total"]), ([], total))

    def test_counts_go_with_the_account(self):
        u = self.sign_up("gone")
        for i in range(3):
            self.create(u, title="x %d" % i)
        self.assertEqual(sum(self.counts(u["id"]).values()), 3)
        r = self.call(u, "POST", "/api/auth/delete-user", body={"password": "correct horse battery %s"
                                                                 % u["n"]})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.rows("todo_counts", "user_id = %s" % u["id"]), 0)


class RowLock:
    """Holds one todo's row lock from a mariadb client session of our own
    (root over the stack's socket, stdin piped) until released."""

    def __init__(self, stack, tid):
        self.stack, self.tid, self.proc = stack, tid, None

    def __enter__(self):
        cmd = [find_program("mariadb"), "--no-defaults", "--socket=" + self.stack.db_socket,
               "-uroot", "--batch", "--skip-column-names", "--unbuffered"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        try:
            self.send("USE todod;\nBEGIN;\nSELECT id FROM todos WHERE id = %d FOR UPDATE;\n"
                      "SELECT 'row-locked';\n" % self.tid)
            self.wait_for(b"row-locked\n", 10)
        except BaseException:
            self.kill()
            raise
        return self

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def wait_for(self, marker, timeout):
        out, fd = b"", self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while marker not in out:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                raise AssertionError("mariadb client did not take the row lock: %r %r"
                                     % (out, self.proc.stderr.read() if self.proc.poll()
                                        is not None else b""))
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    continue
                out += chunk

    def release(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            self.send("ROLLBACK;\n")
            self.proc.stdin.close()
            self.proc.wait(10)
        finally:
            self.kill()

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def __exit__(self, *exc):
        self.release()
        return False


class StoreLockTimeoutTest(StoreCase):
    """A row lock that does not clear: after db_lock_timeout (seconds
    MariaDB waits for a row lock) and the layer's bounded retries, the
    write answers 503 with Retry-After, logs the contention, and leaves
    the row as it was; once the lock is gone the same write succeeds.
    In a class of its own: today's binary refuses the new config key."""

    stack_config = {"db_lock_timeout": 1}

    def test_write_behind_a_held_row_lock(self):
        u = self.sign_up()
        todo = self.create(u, title="locked", description="before", priority="low")
        tid, path = todo["id"], "/api/todos/%d" % todo["id"]
        before = self.get(u, tid)
        v0 = self.version(tid)
        change = {"title": "after", "description": "after", "priority": "high"}
        with RowLock(self.stack, tid):
            start = time.monotonic()
            resp = self.call(u, "PATCH", path, body=change, timeout=20)
            took = time.monotonic() - start
            self.assertError(resp, 503, "UNAVAILABLE")
            self.assertRegex(resp.headers.get("retry-after", ""), r"^[1-9][0-9]*$",
                             "Retry-After: delta-seconds")
            self.assertLess(took, 15, "503 took %.1fs" % took)
            reqid = resp.headers.get("x-request-id")
            self.assertTrue(reqid, "X-Request-Id missing")
            self.assertTrue([line for line in self.log_lines(reqid)
                             if re.search(r"\bcontention\b", line, re.I)],
                            "no 'contention' line for %s in todod.log:\n%s"
                            % (reqid, "\n".join(self.stack.todod_log().splitlines()[-20:])))
            # Reads do not wait for the lock and see nothing of the write.
            self.assertUnchanged(u, tid, before, "while locked")
        self.assertUnchanged(u, tid, before, "after the 503")
        self.assertEqual(self.version(tid), v0, "the 503 wrote something")
        resp = self.call(u, "PATCH", path, body=change)
        got = self.assertTodoResponse(resp)
        self.assertEqual(fields(got, change), change)
        self.assertEqual(self.version(tid), v0 + 1)
        self.assertEqual(self.get(u, tid).json, got)


class StoreBrokenSchemaTest(StoreCase):
    """A statement that cannot prepare is a bug, not an outage: 500 with
    no internals in the body, the MariaDB error number and message in the
    log, while health (the database is reachable) stays 200. One worker,
    so the first GET surely prepares the statement the second one reuses.
    In a class of its own: it drops a column."""

    stack_config = {"workers": 1}
    INTERNALS = ("description", "unknown column", "1054", "select", "from ", "where",
                 "todos", "column", "sql", "mariadb", "mysql", "stmt")

    def assertInternalError(self, resp, what):
        self.assertError(resp, 500, "INTERNAL_ERROR", "%s: %d %r" % (what, resp.status,
                                                                    resp.body[:300]))
        text = resp.body.decode("utf-8", "replace").lower()
        for bad in self.INTERNALS:
            self.assertNotIn(bad, text, "%s: the body shows internals" % what)
        reqid = resp.headers.get("x-request-id")
        self.assertTrue(reqid, "%s: X-Request-Id missing" % what)
        self.assertTrue(self.log_lines(reqid, "1054", "Unknown column"),
                        "%s: no line for %s with 1054 and 'Unknown column':\n%s"
                        % (what, reqid, "\n".join(self.stack.todod_log().splitlines()[-20:])))

    def test_statement_that_cannot_prepare(self):
        u = self.sign_up()
        todo = self.create(u, title="schema", description="soon gone")
        self.assertEqual(self.get(u, todo["id"]).status, 200)  # prepared and cached
        self.stack.admin_sql("ALTER TABLE todos DROP COLUMN description", "todod")
        for attempt in ("first", "again"):
            with self.subTest("GET by id, cached statement, " + attempt):
                self.assertInternalError(self.get(u, todo["id"]), "GET by id " + attempt)
        with self.subTest("list variant at first use"):
            resp = self.call(u, "GET", "/api/todos?sort=title&completed=true")
            self.assertInternalError(resp, "list")
        with self.subTest("health"):
            resp = self.request("GET", "/api/health", timeout=TIMEOUT)
            self.assertEqual(resp.status, 200, resp.body)
            self.assertEqual(resp.json, {"status": "ok", "database": "ok"})


BAD_SURROGATES = [
    ("lone high", r"a\ud800b"),
    ("lone low", r"a\udc00b"),
    ("reversed pair", r"\udc00\ud800"),
    ("high then a non-low escape", r"\ud800\u0041"),
    ("high then high", r"\ud83d\ud83d"),
    ("high at the very end", r"ab\ud800"),
    ("lone high, uppercase", r"x\uD83Dy"),
]
GRIN = r"\ud83d\ude00"  # U+1F600 as JSON escapes
GRIN_UPPER = r"\uD83D\uDE00"


class StoreSurrogateTest(StoreCase):
    """JSON strings with \\u surrogate escapes: a lone or misordered
    surrogate is not text (422 naming the field, nothing written), a pair
    is one character stored as its 4-byte UTF-8."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        n = next(_serial)
        resp = cls.stack.request("POST", "/api/auth/sign-up/email",
                                 body={"name": "S", "email": "surrogate-%d@example.com" % n,
                                       "password": "correct horse battery"}, timeout=TIMEOUT)
        cls.user = {"id": resp.json["user"]["id"],
                    "auth": {"Authorization": "Bearer " + resp.json["token"]}}
        resp = cls.stack.request("POST", "/api/todos", body={"title": "fixture"},
                                 headers=cls.user["auth"], timeout=TIMEOUT)
        cls.fixture_id = resp.json["id"]

    def todo_count(self):
        return self.rows("todos", "user_id = %d" % int(self.user["id"]))

    def test_bad_surrogates_are_refused(self):
        u, tid = self.user, self.fixture_id
        path = "/api/todos/%d" % tid
        before, count = self.get(u, tid), self.todo_count()
        for name, esc in BAD_SURROGATES:
            for method, url, raw, field in (
                    ("POST", "/api/todos", '{"title": "%s"}' % esc, "title"),
                    ("PATCH", path, '{"description": "%s"}' % esc, "description"),
                    ("PUT", path, '{"title": "%s", "description": "x"}' % esc, "title")):
                with self.subTest(name, method=method):
                    self.assertValidation(self.call(u, method, url, raw=raw), field)
            with self.subTest(name, route="sign-up"):
                email = "bad-name-%d@example.com" % next(_serial)
                raw = ('{"name": "%s", "email": "%s", "password": "correct horse battery"}'
                       % (esc, email))
                resp = self.request("POST", "/api/auth/sign-up/email", raw=raw, headers=JSON,
                                    timeout=TIMEOUT)
                self.assertValidation(resp, "name")
                self.assertEqual(self.rows("users", "email = '%s'" % email), 0)
        self.assertUnchanged(u, tid, before)
        self.assertEqual(self.todo_count(), count)

    def test_surrogate_inside_a_key(self):
        count = self.todo_count()
        resp = self.call(self.user, "POST", "/api/todos", raw=r'{"ti\ud800tle": "x"}')
        self.assertError(resp, 422, "VALIDATION_FAILED")
        self.assertNotEqual(resp.json.get("field"), "title", "the key passed for title")
        self.assertEqual(self.todo_count(), count)

    def test_pair_is_one_character(self):
        u = self.user
        for label, pair in (("lowercase", GRIN), ("uppercase", GRIN_UPPER)):
            with self.subTest(label):
                resp = self.call(u, "POST", "/api/todos", raw='{"title": "%s"}' % pair)
                todo = self.assertTodoResponse(resp, 201)
                self.assertEqual(todo["title"], "\U0001F600")
                self.assertEqual(self.get(u, todo["id"]).json["title"], "\U0001F600")
                # Stored as UTF-8 F0 9F 98 80, not as two encoded halves.
                self.assertEqual(self.sql("SELECT HEX(title) FROM todos WHERE id = %d"
                                          % todo["id"]), "F09F9880")
                resp = self.call(u, "PATCH", "/api/todos/%d" % todo["id"],
                                 raw='{"description": "x%sy"}' % pair)
                self.assertEqual(self.assertTodoResponse(resp)["description"], "x\U0001F600y")
                count = self.todo_count()
                resp = self.call(u, "POST", "/api/todos", raw='{"title": "%s"}' % (pair * 200))
                self.assertEqual(self.assertTodoResponse(resp, 201)["title"], "\U0001F600" * 200)
                self.assertValidation(self.call(u, "POST", "/api/todos",
                                                raw='{"title": "%s"}' % (pair * 201)), "title")
                self.assertEqual(self.todo_count(), count + 1)
