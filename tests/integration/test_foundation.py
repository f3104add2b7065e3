"""Foundation: health, routing errors, body handling, database outage,
concurrency, graceful shutdown and configuration errors, all through nginx
(except the configuration errors, which run the binary directly)."""

import base64
import os
import signal
import threading
import time
import unittest

from harness import SANITIZER_BAD, StackTestCase, run_todod

JSON = {"Content-Type": "application/json"}
HEALTH_OK = {"status": "ok", "database": "ok"}
HEALTH_DOWN = {"status": "unavailable", "database": "unavailable"}
# A well-formed sign-in for an unknown user: the service still spends a
# dummy scrypt on it (~150 ms), which makes it a convenient slow request.
SIGN_IN = {"email": "nobody@example.com", "password": "correct horse battery"}


def signed_up(case, name, email):
    """Signs a user up through the case's stack: the Authorization header."""
    resp = case.request("POST", "/api/auth/sign-up/email",
                        body={"name": name, "email": email, "password": "correct horse battery"})
    case.assertEqual(resp.status, 201, resp.body)
    return {"Authorization": "Bearer " + resp.json["token"]}


def nested(depth):
    """A JSON object whose value nests depth - 1 arrays: depth levels in all."""
    return '{"email":' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


def allow_set(value):
    return {m.strip() for m in (value or "").split(",") if m.strip()}


class FoundationTest(StackTestCase):

    def test_health(self):
        resp = self.request("GET", "/api/health")
        self.assertEqual(resp.status, 200, resp.body)
        self.assertJsonType(resp)
        self.assertEqual(resp.json, HEALTH_OK)
        self.assertTrue(resp.headers.get("x-request-id"), "X-Request-Id missing")
        self.assertNotIn("x-powered-by", resp.headers)
        self.assertEqual(resp.headers.get("server"), "nginx", "server_tokens must be off")

    def test_health_head(self):
        resp = self.request("HEAD", "/api/health")
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.body, b"")

    def test_request_ids_differ(self):
        a = self.request("GET", "/api/health").headers.get("x-request-id")
        b = self.request("GET", "/api/health").headers.get("x-request-id")
        self.assertTrue(a and b)
        self.assertNotEqual(a, b)

    def test_error_shapes(self):
        self.run_cases([
            dict(method="GET", path="/api/nope", status=404, code="NOT_FOUND",
                 headers_expected={"X-Request-Id": True}),
            dict(method="GET", path="/api/", status=404, code="NOT_FOUND"),
            dict(method="POST", path="/api/auth/sign-in/email", headers={"Content-Type": "text/plain"},
                 raw='{"email":"a@example.com","password":"password1"}', status=415,
                 code="UNSUPPORTED_MEDIA_TYPE", headers_expected={"X-Request-Id": True}),
            dict(name="bad JSON", method="POST", path="/api/auth/sign-in/email", headers=JSON,
                 raw="{bad", status=400, code="INVALID_JSON"),
            dict(name="array body", method="POST", path="/api/auth/sign-in/email", headers=JSON,
                 raw="[]", status=400, code="INVALID_JSON"),
            dict(name="100-deep nesting", method="POST", path="/api/auth/sign-in/email",
                 headers=JSON, raw=nested(100), status=400, code="INVALID_JSON"),
            dict(name="empty body", method="POST", path="/api/auth/sign-in/email", headers=JSON,
                 raw="", status=400, code="INVALID_JSON"),
        ])

    def test_method_not_allowed(self):
        resp = self.request("DELETE", "/api/health")
        self.assertError(resp, 405, "METHOD_NOT_ALLOWED")
        self.assertEqual(allow_set(resp.headers.get("allow")), {"GET", "HEAD"},
                         "Allow: %r" % resp.headers.get("allow"))
        self.assertTrue(resp.headers.get("x-request-id"))

    def test_body_too_large(self):
        body = ('{"email":"%s@example.com","password":"password1"}' % ("a" * 70 * 1024)).encode()
        resp = self.request("POST", "/api/auth/sign-in/email", headers=JSON, raw=body)
        self.assertError(resp, 413, "BODY_TOO_LARGE")

    def test_security_headers(self):
        for path in ("/", "/api/health", "/api/nope"):
            with self.subTest(path):
                h = self.request("GET", path).headers
                self.assertEqual(h.get("x-content-type-options"), "nosniff")
                self.assertEqual(h.get("x-frame-options"), "DENY")
                self.assertTrue(h.get("referrer-policy"))
                self.assertTrue(h.get("content-security-policy"))

    def test_static_page(self):
        resp = self.request("GET", "/")
        self.assertEqual(resp.status, 200)
        self.assertTrue(resp.headers.get("content-type", "").startswith("text/html"))


class DatabaseOutageTest(StackTestCase):

    def test_outage_and_recovery(self):
        self.assertEqual(self.request("GET", "/api/health").status, 200)
        self.stack.stop_db()
        try:
            # Health's own fields, and (being a non-2xx answer) the
            # contract's error fields as well.
            resp = self.request("GET", "/api/health")
            self.assertError(resp, 503, "UNAVAILABLE")
            self.assertEqual({k: resp.json.get(k) for k in HEALTH_DOWN}, HEALTH_DOWN)
            self.assertTrue(resp.headers.get("retry-after"), "Retry-After missing")

            resp = self.request("POST", "/api/auth/sign-in/email", body=SIGN_IN)
            self.assertError(resp, 503, "UNAVAILABLE")
            self.assertTrue(resp.headers.get("retry-after"), "Retry-After missing")
        finally:
            self.stack.start_db()

        # todod reconnects by itself: no restart.
        pid = self.stack.todod.pid
        deadline = time.monotonic() + 10
        statuses = []
        while time.monotonic() < deadline:
            resp = self.request("GET", "/api/health")
            statuses.append(resp.status)
            if resp.status == 200:
                break
            time.sleep(0.2)
        self.assertEqual(resp.status, 200, "health after restart: %r" % statuses[-10:])
        self.assertEqual(resp.json, HEALTH_OK)
        self.assertEqual(self.stack.todod.pid, pid)
        self.assertIsNone(self.stack.todod.poll(), "todod exited")
        # Safe requests never see the dead connections of the other workers
        # (todod reconnects and runs them again) once the workers' reconnect
        # back-off after a failed attempt (250 ms) has passed...
        time.sleep(0.5)
        # Unsafe ones neither: a statement that could not even be sent
        # on a dead connection ran nowhere, so the request runs again.
        for _ in range(20):
            resp = self.request("POST", "/api/auth/sign-in/email", body=SIGN_IN)
            self.assertError(resp, 401, "INVALID_EMAIL_OR_PASSWORD")
        for _ in range(40):
            resp = self.request("GET", "/api/health")
            self.assertEqual(resp.status, 200, resp.body)


class IdleConnectionsDeadTest(StackTestCase):
    """MariaDB restarted while the workers were idle longer than the ping
    interval (5 s): each worker finds its connection dead when it pings it,
    reconnects, and the list statements built at run time (cached by
    their text per connection) are prepared afresh, never from a freed
    text."""

    stack_config = {"workers": 4}

    def test_lists_after_idle_restart(self):
        auth = signed_up(self, "Idle", "idle@example.com")
        queries = ["/api/todos?completed=true", "/api/todos?priority=high&sort=title",
                   "/api/todos?q=milk", "/api/todos?limit=3&sort=-dueAt"]
        for q in queries * 4:  # every worker caches every text
            self.assertEqual(self.request("GET", q, headers=auth).status, 200)
        self.stack.stop_db()
        self.stack.start_db()
        time.sleep(5.5)
        for q in queries * 6:
            resp = self.request("GET", q, headers=auth)
            self.assertEqual(resp.status, 200, resp.body)


class SmallLimitsTest(StackTestCase):
    """Few workers and a small body limit: both enforced by todod itself."""

    stack_config = {"workers": 4, "body_limit": 4096}

    def test_concurrent_requests(self):
        n = 16
        barrier = threading.Barrier(n)
        results = [None] * n

        def one(i):
            barrier.wait()
            t0 = time.monotonic()
            try:
                resp = self.request("GET", "/api/health", timeout=10)
                results[i] = (resp.status, time.monotonic() - t0)
            except Exception as e:  # reported below
                results[i] = (repr(e), time.monotonic() - t0)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        for i, r in enumerate(results):
            self.assertIsNotNone(r, "request %d never finished" % i)
            self.assertEqual(r[0], 200, "request %d: %r" % (i, r))
            self.assertLess(r[1], 2.0, "request %d took %.2fs" % (i, r[1]))

    def test_service_body_limit(self):
        body = '{"email":"%s@example.com","password":"password1"}' % ("a" * 5000)
        resp = self.request("POST", "/api/auth/sign-in/email", headers=JSON, raw=body)
        self.assertError(resp, 413, "BODY_TOO_LARGE")
        self.assertTrue(resp.headers.get("x-request-id"))


class GracefulShutdownTest(StackTestCase):

    def test_sigterm_finishes_in_flight_requests(self):
        n = 4
        results = [None] * n

        def one(i):
            try:
                results[i] = self.request("POST", "/api/auth/sign-in/email", body=SIGN_IN,
                                          timeout=30).status
            except Exception as e:  # reported below
                results[i] = repr(e)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        time.sleep(0.05)
        self.stack.sigterm_todod()
        for t in threads:
            t.join(30)
        rc = self.stack.wait_todod(30)
        for i, status in enumerate(results):
            self.assertIsInstance(status, int, "request %d: %r" % (i, status))
            self.assertLess(status, 500, "request %d answered %d" % (i, status))
        self.assertEqual(rc, 0, "todod exit status after SIGTERM")


class ConfigErrorTest(unittest.TestCase):
    """Bad configuration: one line naming the key, exit status 2."""

    def base_config(self):
        return {"listen": "unix:@TMP@/todod.sock", "db_socket": "@TMP@/no-such-db.sock",
                "db_user": "todod", "db_password": "x", "jwt_secret_file": "@TMP@/secret",
                "sql_dir": "@TMP@/sql"}

    def assertNoSanitizer(self, err):
        for bad in SANITIZER_BAD:
            self.assertNotIn(bad, err)

    def assertConfigError(self, config, words, env=None, files=None, args=("serve",)):
        rc, out, err = run_todod(args, config=config, env=env, files=files)
        self.assertNoSanitizer(err)
        self.assertEqual(rc, 2, "exit status; stderr: %r" % err)
        lines = err.strip().splitlines()
        self.assertEqual(len(lines), 1, "want one line on stderr, got %r" % err)
        self.assertTrue(any(w in lines[0].lower() for w in words),
                        "stderr %r names none of %r" % (err, words))

    def test_bad_workers(self):
        config = dict(self.base_config(), workers="abc")
        self.assertConfigError(config, ["workers"],
                               env={"TODOD_JWT_SECRET": base64.b64encode(os.urandom(48)).decode()})

    def test_bad_workers_from_env(self):
        self.assertConfigError(self.base_config(), ["workers"],
                               env={"TODOD_WORKERS": "abc",
                                    "TODOD_JWT_SECRET": base64.b64encode(os.urandom(48)).decode()})

    def test_missing_jwt_secret(self):
        config = self.base_config()
        del config["jwt_secret_file"]
        self.assertConfigError(config, ["jwt"])

    def test_missing_jwt_secret_file(self):
        self.assertConfigError(self.base_config(), ["jwt"])  # the file does not exist

    def test_short_jwt_secret_file(self):
        self.assertConfigError(self.base_config(), ["jwt"], files={"secret": "x" * 31})

    def test_short_jwt_secret_env(self):
        config = self.base_config()
        del config["jwt_secret_file"]
        self.assertConfigError(config, ["jwt"], env={"TODOD_JWT_SECRET": "too-short-secret"})

    def test_sample_config(self):
        rc, out, err = run_todod(["--sample-config"])
        self.assertNoSanitizer(err)
        self.assertEqual(rc, 0, err)
        for key in ("listen", "workers", "db_name", "jwt_secret_file", "body_limit"):
            self.assertIn(key, out)


class SignalsTest(StackTestCase):
    """SIGUSR1/SIGHUP (logrotate's habit) must not retire workers."""

    stack_config = {"workers": 2}

    def test_sigusr1_and_sighup_are_ignored(self):
        for sig in (signal.SIGUSR1, signal.SIGHUP, signal.SIGUSR1):
            self.stack.todod.send_signal(sig)
        time.sleep(0.2)
        # More requests than workers, one after another: a worker that had
        # left the pool would make these hang.
        for i in range(8):
            resp = self.request("GET", "/api/health", timeout=5)
            self.assertEqual(resp.status, 200, "request %d" % i)
        self.assertIsNone(self.stack.todod.poll(), "todod exited")


class QueuedShutdownTest(StackTestCase):
    """SIGTERM serves what waits in the socket's backlog, not only what the
    workers hold. MariaDB is paused (SIGSTOP) so that both workers hang in
    a query while the other requests queue, then resumed after SIGTERM."""

    stack_config = {"workers": 2, "db_timeout": 10}

    def test_sigterm_serves_queued_requests(self):
        auth = signed_up(self, "Q", "queued@example.com")
        n = 8  # four times the workers
        results = [None] * n

        def one(i):
            try:
                results[i] = self.request("GET", "/api/todos", headers=auth, timeout=30).status
            except Exception as e:  # reported below
                results[i] = repr(e)

        self.stack.db.send_signal(signal.SIGSTOP)
        try:
            threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
            for t in threads:
                t.start()
            time.sleep(0.5)
            self.stack.sigterm_todod()
            time.sleep(0.5)
        finally:
            self.stack.db.send_signal(signal.SIGCONT)
        for t in threads:
            t.join(30)
        rc = self.stack.wait_todod(30)
        for i, status in enumerate(results):
            self.assertEqual(status, 200, "request %d: %r" % (i, status))
        self.assertEqual(rc, 0, "todod exit status after SIGTERM")

if __name__ == "__main__":
    unittest.main()
