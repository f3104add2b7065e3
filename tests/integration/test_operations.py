"""Operations: the Prometheus metrics at /api/metrics (scraped through nginx,
checked by Debian's promtool, counters moving with the traffic sent) and the
JSON log format (every line an object, never a secret)."""

import json
import re
import shutil
import subprocess
import time
import unittest

from harness import StackTestCase, find_program

SAMPLE = re.compile(r'^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+|\+Inf|NaN)$')


def parse_metrics(text):
    """{(name, labels-string): value} of a text exposition."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise AssertionError("not a sample line: %r" % line)
        out[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return out


def promtool():
    path = shutil.which("promtool")
    if not path:
        raise AssertionError("promtool is missing: scripts/test installs the prometheus package")
    return path


class MetricsTest(StackTestCase):
    stack_config = {"workers": 4}

    def scrape(self):
        resp = self.request("GET", "/api/metrics")
        self.assertEqual(resp.status, 200, resp.body[:300])
        self.assertEqual(resp.headers.get("content-type"),
                         "text/plain; version=0.0.4; charset=utf-8")
        return resp.body.decode("utf-8")

    def test_promtool_accepts_the_exposition(self):
        """What a Prometheus server scrapes is valid text format 0.0.4."""
        text = self.scrape()
        r = subprocess.run([promtool(), "check", "metrics"], input=text, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout)
        # promtool's lint findings (e.g. naming) are printed but not fatal;
        # the service's names follow its conventions, so there are none.
        self.assertEqual(r.stdout.strip(), "", r.stdout)

    def test_counters_move_with_traffic(self):
        """Requests by route and status class, and the latency histogram."""
        key_ok = ("todod_requests_total",
                  '{route="/api/health",method="GET",status="2xx"}')
        key_404 = ("todod_requests_total", '{route="unmatched",method="",status="4xx"}')
        hist = ("todod_request_duration_seconds_count", '{route="/api/health",method="GET"}')
        inf = ("todod_request_duration_seconds_bucket",
               '{route="/api/health",method="GET",le="+Inf"}')
        before = parse_metrics(self.scrape())
        for _ in range(5):
            self.assertEqual(self.request("GET", "/api/health").status, 200)
        for _ in range(2):
            self.assertEqual(self.request("GET", "/api/no-such-route").status, 404)
        after = parse_metrics(self.scrape())
        self.assertEqual(after[key_ok] - before.get(key_ok, 0), 5)
        self.assertEqual(after[key_404] - before.get(key_404, 0), 2)
        self.assertEqual(after[hist] - before.get(hist, 0), 5)
        self.assertEqual(after[inf], after[hist], "the +Inf bucket counts every request")
        # Buckets are cumulative: never decreasing with le.
        buckets = sorted(((float(re.search(r'le="([^"]+)"', k[1]).group(1)
                                 .replace("+Inf", "inf")), v)
                          for k, v in after.items()
                          if k[0] == "todod_request_duration_seconds_bucket"
                          and 'route="/api/health"' in k[1]))
        values = [v for _, v in buckets]
        self.assertEqual(values, sorted(values))

    def test_gauges(self):
        m = parse_metrics(self.scrape())
        busy = m[("todod_workers", '{state="busy"}')]
        idle = m[("todod_workers", '{state="idle"}')]
        self.assertGreaterEqual(busy, 1, "the scrape itself is being served")
        self.assertEqual(busy + idle, 4)
        self.assertGreater(m[("todod_resident_memory_bytes", "")], 1 << 20)
        self.assertGreater(m[("todod_open_fds", "")], 3)
        self.assertGreaterEqual(m[("todod_revocations", "")], 0)
        self.assertIn(("todod_build_info", '{version="%s"}' % self.version()), m)
        for state in ("running", "waiting"):
            self.assertIn(("todod_password_hashes", '{state="%s"}' % state), m)
        for kind in ("unavailable", "contention", "other"):
            self.assertIn(("todod_db_errors_total", '{kind="%s"}' % kind), m)

    def version(self):
        with open(self.stack_root_meson()) as f:
            return re.search(r"version: '([^']+)'", f.read()).group(1)

    @staticmethod
    def stack_root_meson():
        import harness
        return harness.os.path.join(harness.ROOT, "meson.build")

    def test_no_token_needed_and_never_cached(self):
        resp = self.request("GET", "/api/metrics")
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.headers.get("cache-control"), "no-store")

    def test_sign_ins_shed_are_counted(self):
        """A 429 from the password budget moves todod_signins_shed_total
        (workers=4: at most 2 busy with passwords)."""
        import threading
        key = ("todod_signins_shed_total", "")
        before = parse_metrics(self.scrape())[key]
        statuses = []
        lock = threading.Lock()

        def sign_in():
            r = self.request("POST", "/api/auth/sign-in/email",
                             body={"email": "nobody@example.com", "password": "wrong password"})
            with lock:
                statuses.append(r.status)
        threads = [threading.Thread(target=sign_in) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        shed = statuses.count(429)
        after = parse_metrics(self.scrape())[key]
        self.assertGreater(shed, 0, statuses)
        self.assertEqual(after - before, shed)


class MetricsDatabaseTest(StackTestCase):
    """Database failures by cause and reconnects, with MariaDB stopped."""
    stack_config = {"workers": 2}

    def test_unavailable_and_reconnect(self):
        def scrape():
            return parse_metrics(self.request("GET", "/api/metrics").body.decode())
        token = self.request("POST", "/api/auth/sign-up/email",
                             body={"name": "M", "email": "m@example.com",
                                   "password": "a long password here"}).json["token"]
        auth = {"Authorization": "Bearer " + token}
        before = scrape()
        self.stack.stop_db()
        try:
            r = self.request("GET", "/api/todos", headers=auth)
            self.assertEqual(r.status, 503)
        finally:
            self.stack.start_db()
        # The worker whose connection died reconnects when it next takes a
        # request; the other may answer first with its first connection
        # (no reconnect), so go on until the counter moves or time is up.
        reconnects = ("todod_db_reconnects_total", "")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if (self.request("GET", "/api/todos", headers=auth).status == 200
                    and scrape()[reconnects] > before[reconnects]):
                break
            time.sleep(0.3)
        after = scrape()
        key = ("todod_db_errors_total", '{kind="unavailable"}')
        self.assertGreater(after[key], before[key])
        self.assertGreater(after[reconnects], before[reconnects])
        self.assertEqual(after[("todod_db_errors_total", '{kind="other"}')],
                         before[("todod_db_errors_total", '{kind="other"}')])


class JsonLogTest(StackTestCase):
    """log_format = json: one object a line, the request's fields, no secret."""
    stack_config = {"log_format": "json"}

    def test_every_line_is_an_object(self):
        password = "a very secret password"
        r = self.request("POST", "/api/auth/sign-up/email",
                         body={"name": "J", "email": "j@example.com", "password": password})
        self.assertEqual(r.status, 201)
        token = r.json["token"]
        rid = self.request("GET", "/api/todos", headers={"Authorization": "Bearer " + token}) \
            .headers["x-request-id"]
        self.request("GET", "/api/todos/0")
        time.sleep(0.2)
        log = self.stack.todod_log()
        lines = [l for l in log.splitlines() if l.strip()]
        self.assertTrue(lines)
        seen = None
        for line in lines:
            obj = json.loads(line)  # raises on anything but JSON
            for k in ("time", "level", "reqid"):
                self.assertIn(k, obj, line)
            self.assertRegex(obj["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            if obj["reqid"] == rid and "route" in obj:
                seen = obj
        self.assertIsNotNone(seen, "no request line for %s" % rid)
        self.assertEqual(seen["method"], "GET")
        self.assertEqual(seen["route"], "/api/todos")
        self.assertEqual(seen["status"], 200)
        self.assertIsInstance(seen["duration_ms"], (int, float))
        self.assertNotIn(password, log)
        self.assertNotIn(token, log)
        self.assertNotIn(token.split(".")[2], log)


class PrometheusDocsTest(unittest.TestCase):
    """docs/prometheus/: the scrape config and alert rules that
    docs/operations.md shows are valid, and the alerts fire when they should
    (promtool test rules)."""

    def promtool(self, *args):
        import harness
        r = subprocess.run([promtool()] + list(args), cwd=harness.os.path.join(harness.ROOT, "docs", "prometheus"),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout)
        return r.stdout

    def test_rules(self):
        self.assertIn("3 rules found", self.promtool("check", "rules", "alerts.yml"))

    def test_config(self):
        self.promtool("check", "config", "prometheus.yml")

    def test_alerts_fire(self):
        self.promtool("test", "rules", "alerts_test.yml")


class BackupRestoreTest(StackTestCase):
    """The backup of docs/operations.md (mariadb-dump --single-transaction)
    restored into an empty database holds the same users and todos."""

    def test_dump_and_restore(self):
        for n in range(2):
            r = self.request("POST", "/api/auth/sign-up/email",
                             body={"name": "B%d" % n, "email": "b%d@example.com" % n,
                                   "password": "a long password here"})
            self.assertEqual(r.status, 201)
            auth = {"Authorization": "Bearer " + r.json["token"]}
            for i in range(5):
                self.assertEqual(self.request("POST", "/api/todos", headers=auth, body={
                    "title": "todo %d \u00e9\U0001F600 '\"; --" % i, "priority": "high",
                    "dueAt": "2026-12-0%dT10:00:00.123Z" % (i + 1)}).status, 201)
        dump = subprocess.run([find_program("mariadb-dump"), "--no-defaults",
                               "--socket=" + self.stack.db_socket, "-uroot",
                               "--single-transaction", "--routines", "todod"],
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
        self.assertEqual(dump.returncode, 0, dump.stderr)
        self.stack.admin_sql("CREATE DATABASE todod_restore")
        load = subprocess.run([find_program("mariadb"), "--no-defaults",
                               "--socket=" + self.stack.db_socket, "-uroot", "todod_restore"],
                              input=dump.stdout, capture_output=True, timeout=120)
        self.assertEqual(load.returncode, 0, load.stderr)
        for q in ("SELECT id, user_id, title, description, completed, priority, due_at, version,"
                  " created_at, updated_at FROM todos ORDER BY id",
                  "SELECT id, email, name, password_hash, created_at FROM users ORDER BY id",
                  "SELECT MAX(version) FROM schema_migrations"):
            before = self.stack.admin_sql(q, database="todod")
            after = self.stack.admin_sql(q, database="todod_restore")
            self.assertEqual(before, after, q)
        self.assertEqual(len(self.stack.admin_sql("SELECT id FROM todos", "todod_restore")
                             .splitlines()), 10)


if __name__ == "__main__":
    unittest.main()
