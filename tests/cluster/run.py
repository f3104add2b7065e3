#!/usr/bin/env python3
"""The scale-out tests: a private cluster of scripts/cluster (three MariaDB
Galera nodes, two todod, one nginx; its own directory and ports, never the
developer's var/cluster) under a mixed load from a client that records every
request and every acknowledged create, and the faults of the scale-out
issue, one after another:

  test_1  read-your-writes and the write races across the two todod
  test_2  one Galera node SIGKILLed, then brought back by IST
  test_3  one todod SIGKILLed, then started again
  test_4  a rolling restart (SIGTERM todod1, start, SIGTERM todod2, start)
  test_5  nginx -s reload, twice
  test_6  every acknowledged create readable through both todod, no key
          created twice, the tables equal on all three nodes

Environment: TODOD_BIN (the todod under test, default build/todod),
TODOD_CLUSTER_TESTS (comma-separated parts of test names: only those run,
e.g. test_2_ with TODOD_CLUSTER_GALERA_OPTS to measure a node loss),
TODOD_CLUSTER_TEST_DIR (default build/cluster-test), TODOD_KEEP_TMP=1 keeps
the cluster running afterwards. Last line: RESULT passed=N failed=M.
"""

import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import fcgi  # noqa: E402
from harness import SANITIZER_BAD, race  # noqa: E402

BUILD = os.path.abspath(os.environ.get("TODOD_BUILD") or os.path.join(ROOT, "build"))
BIN = os.path.abspath(os.environ.get("TODOD_BIN") or os.path.join(BUILD, "todod"))
DIR = os.path.abspath(os.environ.get("TODOD_CLUSTER_TEST_DIR") or os.path.join(BUILD, "cluster-test"))
PORT = int(os.environ.get("TODOD_CLUSTER_TEST_PORT") or 18081)
PORT_BASE = int(os.environ.get("TODOD_CLUSTER_TEST_PORT_BASE") or 24560)
ENV = dict(os.environ, TODOD_CLUSTER_DIR=DIR, TODOD_CLUSTER_PORT=str(PORT),
           TODOD_CLUSTER_PORT_BASE=str(PORT_BASE), TODOD_BIN=BIN,
           TODOD_BUILD_DIR=os.path.dirname(BIN), TODOD_AUTH_RATE="6000r/m",
           PATH=os.environ.get("PATH", "") + ":/usr/local/sbin:/usr/sbin:/sbin")
NODES = ("db1", "db2", "db3")


def log(msg):
    print("# " + msg, flush=True)


def cluster(*args, timeout=400):
    t = time.monotonic()
    p = subprocess.run([os.path.join(ROOT, "scripts", "cluster"), *args], env=ENV,
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=timeout)
    log("scripts/cluster %s: exit %d in %.1f s" % (" ".join(args), p.returncode, time.monotonic() - t))
    if p.returncode != 0:
        raise AssertionError("scripts/cluster %s failed:\n%s" % (" ".join(args), p.stdout[-4000:]))
    return p.stdout


def pid(name):
    with open(os.path.join(DIR, name + ".pid")) as f:
        return int(f.read().split()[0])


def alive(p):
    try:
        os.kill(p, 0)
    except ProcessLookupError:
        return False
    try:
        with open("/proc/%d/stat" % p) as f:
            return f.read().split(") ")[-1][0] != "Z"
    except OSError:
        return False


def wait_gone(p, seconds=60):
    deadline = time.monotonic() + seconds
    while alive(p):
        if time.monotonic() > deadline:
            raise AssertionError("pid %d still running after %d s" % (p, seconds))
        time.sleep(0.05)


def sql(node, query, sync=True):
    """Rows of query on one node, as root over its socket."""
    if sync:
        query = "SET SESSION wsrep_sync_wait = 15; " + query
    p = subprocess.run(["mariadb", "--socket", os.path.join(DIR, node + ".sock"), "-uroot",
                        "-N", "-B", "todod", "-e", query], env=ENV, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError("%s: %s: %s" % (node, query, p.stderr.strip()))
    return [line.split("\t") for line in p.stdout.splitlines()]


def todod_sock(n):
    return os.path.join(DIR, "todod%d.sock" % n)


def direct(n, method, path, body=None, token=None, headers=None):
    h = dict(headers or {})
    if token:
        h["Authorization"] = "Bearer " + token
    return fcgi.request(todod_sock(n), method, path, body, h)


def sign_up(n, tag):
    email = "%s-%s@cluster.invalid" % (tag, uuid.uuid4().hex[:12])
    r = direct(n, "POST", "/api/auth/sign-up/email",
               {"name": tag, "email": email, "password": "a long cluster password %s" % tag})
    assert r.status in (200, 201), r
    return r.json()["token"]


class Load:
    """Threads, each with its own user and keep-alive connection to nginx,
    sending a mix of list, get, create (always with an Idempotency-Key)
    and PATCH. Every request is recorded with its start, end and outcome.
    Like any HTTP client, a request whose reused connection was closed
    before any response arrived is sent again once on a new connection
    (nginx closes idle keep-alive connections on a reload). Nothing else
    is retried: a failure counts."""

    def __init__(self, tokens):
        self.tokens = tokens
        self.records = []  # (start, end, op, status, error code or exception)
        self.acked = {}  # key -> (token, id) of every 201
        self.unacked = {}  # key -> (token, body) of creates without a 201
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = []

    def start(self):
        self.stopping.clear()
        self.threads = [threading.Thread(target=self._run, args=(t,), daemon=True) for t in self.tokens]
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(60)
        assert not any(t.is_alive() for t in self.threads), "load threads still running"

    def _send(self, conn, method, path, body, headers):
        for attempt in (0, 1):
            try:
                if conn[0] is None:
                    conn[0] = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
                    conn[1] = 0
                reused = conn[1] > 0
                conn[0].request(method, path, body=json.dumps(body) if body is not None else None,
                                headers=headers)
                r = conn[0].getresponse()
                data = r.read()
                conn[1] += 1
                if r.getheader("Connection", "").lower() == "close":
                    conn[0].close()
                    conn[0] = None
                return r.status, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn[0].close()
                conn[0] = None
                if attempt or not reused:
                    raise
            except Exception:
                if conn[0] is not None:
                    conn[0].close()
                conn[0] = None
                raise

    def _run(self, token):
        rnd = random.Random()
        conn = [None, 0]
        mine = []
        auth = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
        while not self.stopping.is_set():
            x = rnd.random()
            key = body = None
            if x < 0.35 or not mine:
                op, method, path = "create", "POST", "/api/todos"
                key = uuid.uuid4().hex
                body = {"title": "load %s" % key[:8]}
                headers = dict(auth, **{"Idempotency-Key": key})
            elif x < 0.55:
                op, method, path, headers = "patch", "PATCH", "/api/todos/%d" % rnd.choice(mine), auth
                body = {"completed": rnd.random() < 0.5}
            elif x < 0.8:
                op, method, path, headers = "get", "GET", "/api/todos/%d" % rnd.choice(mine), auth
            else:
                op, method, path, headers = "list", "GET", "/api/todos?limit=10", auth
            start = time.monotonic()
            status, err = 0, None
            try:
                status, data = self._send(conn, method, path, body, headers)
                if status >= 400:
                    try:
                        err = json.loads(data).get("code")
                    except ValueError:
                        err = "not JSON: %r" % data[:80]
                elif op == "create":
                    tid = json.loads(data)["id"]
                    mine.append(tid)
            except Exception as e:  # recorded, counted as a failure
                err = "%s: %s" % (type(e).__name__, e)
            end = time.monotonic()
            with self.lock:
                self.records.append((start, end, op, status, err))
                if op == "create":
                    if status == 201:
                        self.acked[key] = (token, tid)
                        self.unacked.pop(key, None)
                    else:
                        self.unacked[key] = (token, body)
        if conn[0] is not None:
            conn[0].close()

    # Figures.
    def failures(self, t0=None, t1=None):
        return [r for r in self.records if (t0 is None or r[0] >= t0) and (t1 is None or r[0] < t1)
                and not (200 <= r[3] < 300)]

    def count(self, t0=None, t1=None):
        return sum(1 for r in self.records if (t0 is None or r[0] >= t0) and (t1 is None or r[0] < t1))

    def longest_write(self, t0, t1):
        w = [r[1] - r[0] for r in self.records if t0 <= r[0] < t1 and r[2] in ("create", "patch")]
        return max(w) if w else 0.0

    def summary(self, t0, t1):
        n, f = self.count(t0, t1), self.failures(t0, t1)
        kinds = {}
        for r in f:
            k = "%s %s %s" % (r[2], r[3], r[4])
            kinds[k] = kinds.get(k, 0) + 1
        return "%d requests, %d failed (%.2f%%) %s" % (n, len(f), 100.0 * len(f) / max(n, 1), kinds or "")

    def bad_5xx(self, t0):
        """5xx answers other than 503 UNAVAILABLE, and answers that are not
        the contract's JSON, of requests started since t0."""
        return [r for r in self.records if r[0] >= t0 and (r[3] >= 500 and (r[3] != 503 or r[4] != "UNAVAILABLE"))
                or (r[4] or "").startswith("not JSON")]


class Cluster(unittest.TestCase):
    load = None
    tokens = []

    @classmethod
    def setUpClass(cls):
        if os.path.exists(os.path.join(DIR, "nginx.pid")):
            subprocess.run([os.path.join(ROOT, "scripts", "cluster"), "down"], env=ENV,
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=300)
        subprocess.run(["rm", "-rf", DIR], check=True)
        cluster("up")
        cls.tokens = [sign_up(1 + i % 2, "load%d" % i) for i in range(6)]
        cls.load = Load(cls.tokens)

    def setUp(self):
        # A test that failed half-way leaves a process stopped: start it
        # again so that the next one begins with all six.
        if not all(os.path.exists(os.path.join(DIR, n + ".pid")) and alive(pid(n))
                   for n in NODES + ("todod1", "todod2", "nginx")):
            cluster("up")

    def sizes(self, nodes=NODES):
        return {n: sql(n, "SHOW STATUS LIKE 'wsrep_cluster_size'", sync=False)[0][1] for n in nodes}

    def under_load(self, fault, before=3.0, after=10.0):
        """Runs the load, fault() after `before` s, keeps it on `after` s
        more. Returns the time of the fault."""
        self.load.start()
        try:
            time.sleep(before)
            t = time.monotonic()
            fault()
            time.sleep(max(0.0, t + after - time.monotonic()))
        finally:
            self.load.stop()
        return t

    def assert_no_bad_5xx(self, t0):
        bad = self.load.bad_5xx(t0)
        self.assertEqual(bad[:5], [], "5xx other than 503 UNAVAILABLE")

    def test_1_races_and_read_your_writes(self):
        a, b = sign_up(1, "ryw"), sign_up(2, "ryw")
        # Read-your-writes: created through todod1 (db1), read at once
        # through todod2 (db2).
        misses = 0
        for i in range(100):
            r = direct(1, "POST", "/api/todos", {"title": "ryw %d" % i}, a)
            self.assertEqual(r.status, 201, r)
            g = direct(2, "GET", "/api/todos/%d" % r.json()["id"], token=a)
            misses += g.status != 200
        self.assertEqual(misses, 0, "reads through the other todod missed fresh writes")
        # Ids never collide across nodes: each node hands out its own
        # residue modulo the cluster size (todod1 writes through db1,
        # todod2 through db2).
        made = {n: [direct(n, "POST", "/api/todos", {"title": "id %d" % i}, a).json()["id"]
                    for i in range(6)] for n in (1, 2)}
        residues = {n: {i % 3 for i in ids} for n, ids in made.items()}
        self.assertEqual([len(r) for r in residues.values()], [1, 1], made)
        self.assertNotEqual(residues[1], residues[2], made)

        t = direct(1, "POST", "/api/todos", {"title": "race"}, b).json()
        # Concurrent PATCH without If-Match through both todod: all 200.
        calls = [(lambda i=i: direct(1 + i % 2, "PATCH", "/api/todos/%d" % t["id"],
                                     {"title": "patch %d" % i}, b)) for i in range(16)]
        res = race(calls)
        self.assertEqual([getattr(r, "status", r) for r in res], [200] * 16)
        self.assertEqual(len({r.headers["etag"] for r in res}), 16, "one ETag per update")
        after = direct(2, "GET", "/api/todos/%d" % t["id"], token=b).json()
        self.assertIn(after["title"], {"patch %d" % i for i in range(16)})
        # The same If-Match through both: exactly one 200, the rest 409.
        etag = direct(1, "GET", "/api/todos/%d" % t["id"], token=b).headers["etag"]
        calls = [(lambda i=i: direct(1 + i % 2, "PATCH", "/api/todos/%d" % t["id"],
                                     {"title": "ifmatch %d" % i}, b, {"If-Match": etag}))
                 for i in range(12)]
        statuses = sorted(getattr(r, "status", r) for r in race(calls))
        self.assertEqual(statuses.count(200), 1, statuses)
        self.assertEqual(statuses.count(409), 11, statuses)
        # The idempotent create race across the two todod: one todo.
        key = uuid.uuid4().hex
        calls = [(lambda i=i: direct(1 + i % 2, "POST", "/api/todos", {"title": "idem"}, b,
                                     {"Idempotency-Key": key})) for i in range(10)]
        res = race(calls)
        self.assertEqual(sorted({r.status for r in res}), [201], res)
        self.assertEqual(len({r.json()["id"] for r in res}), 1, res)
        listed = direct(1, "GET", "/api/todos?q=idem", token=b).json()
        self.assertEqual(listed["total"], 1)

    def test_2_galera_node_killed(self):
        victim = "db1"
        p = pid(victim)
        logf = os.path.join(DIR, "log", victim + ".log")
        t = self.under_load(lambda: os.kill(p, signal.SIGKILL), after=10.0)
        wait_gone(p)
        log("node kill: in the 10 s around it: " + self.load.summary(t - 5, t + 5))
        log("node kill: longest write started in the 4 s after: %.2f s" % self.load.longest_write(t, t + 4))
        n, f = self.load.count(t - 5, t + 5), self.load.failures(t - 5, t + 5)
        self.assertLess(len(f), 0.01 * n, "failed around the kill: " + self.load.summary(t - 5, t + 5))
        self.assertEqual(self.load.failures(t + 2, t + 10), [], "failures more than 2 s after the kill")
        self.assert_no_bad_5xx(t - 5)
        self.assertEqual(self.sizes(("db2", "db3")), {"db2": "2", "db3": "2"}, "quorum kept")
        # Back by IST: what its log says since the restart.
        start = os.path.getsize(logf) if os.path.exists(logf) else 0
        cluster("up")
        with open(logf, errors="replace") as f:
            f.seek(start)
            text = f.read()
        # The rsync script runs for an IST too; a full copy says "rsync
        # SST completed on joiner" instead of "rsync IST completed".
        self.assertIn("IST received", text, "the node did not rejoin by IST")
        self.assertNotIn("SST completed on joiner", text, "the node was copied in full")
        self.assertEqual(set(self.sizes().values()), {"3"})
        self.assert_moves_back("db1")

    def todod_connections(self, node):
        # SHOW: answered by a node that is not synced too.
        return sum(1 for row in sql(node, "SHOW PROCESSLIST", sync=False) if row[1] == "todod")

    def assert_moves_back(self, node):
        """todod1 prefers db1: within db_failback_ms (2 s) of db1 being
        synced again its workers are back on it."""
        deadline = time.monotonic() + 15
        token = self.tokens[0]
        while self.todod_connections(node) == 0:
            self.assertLess(time.monotonic(), deadline, "todod1 did not move back to " + node)
            for _ in range(20):
                self.assertEqual(direct(1, "GET", "/api/todos?limit=1", token=token).status, 200)
            time.sleep(0.2)

    def test_2b_galera_node_isolated(self):
        """A node that is up but not synced (cut off from the others by
        gmcast.isolate, so wsrep_ready is OFF and queries get 1047) counts
        as unreachable; todod1's workers move off it and back."""
        self.assertGreater(self.todod_connections("db1"), 0)

        def isolate():
            sql("db1", "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=1'", sync=False)

        t = self.under_load(isolate, after=8.0)
        try:
            log("node isolated: " + self.load.summary(t - 5, t + 5))
            ready = sql("db1", "SHOW STATUS LIKE 'wsrep_ready'", sync=False)[0][1]
            self.assertEqual(ready, "OFF")
            n, f = self.load.count(t - 5, t + 5), self.load.failures(t - 5, t + 5)
            self.assertLess(len(f), 0.01 * n, self.load.summary(t - 5, t + 5))
            self.assertEqual(self.load.failures(t + 2, t + 8), [], "failures more than 2 s after")
            self.assert_no_bad_5xx(t - 5)
        finally:
            sql("db1", "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=0'", sync=False)
        deadline = time.monotonic() + 60
        while sql("db1", "SHOW STATUS LIKE 'wsrep_local_state_comment'", sync=False)[0][1] != "Synced":
            self.assertLess(time.monotonic(), deadline, "db1 did not resync")
            time.sleep(0.5)
        self.assert_moves_back("db1")

    def test_3_todod_killed(self):
        p = pid("todod1")
        t = self.under_load(lambda: os.kill(p, signal.SIGKILL), after=6.0)
        wait_gone(p)
        log("todod kill: " + self.load.summary(t - 3, t + 6))
        self.assertEqual(self.load.failures(t + 1, t + 6), [], "failures more than 1 s after the kill")
        self.assert_no_bad_5xx(t - 5)
        cluster("up")
        self.assertTrue(alive(pid("todod1")))

    def test_4_rolling_restart(self):
        def roll():
            for name in ("todod1", "todod2"):
                p = pid(name)
                os.kill(p, signal.SIGTERM)
                wait_gone(p)
                cluster("up")
                time.sleep(1.0)

        errlog = os.path.join(DIR, "log", "nginx-error.log")
        before = os.path.getsize(errlog)
        t = self.under_load(roll, after=0.0)
        t_end = time.monotonic()
        log("rolling restart: " + self.load.summary(t - 3, t_end))
        self.assertEqual(self.load.failures(t - 3, t_end), [], "failed during the rolling restart")
        # A stopping todod closes no kept connection nginx may be writing a
        # request on: nginx resends a GET that met one (so the load cannot
        # see it), never a POST or PATCH.
        with open(errlog, encoding="utf-8", errors="replace") as f:
            f.seek(before)
            closed = [line for line in f if "upstream prematurely closed" in line
                      or ("reset by peer" in line and "from upstream" in line)]
        self.assertEqual(closed[:3], [], "todod closed a kept connection under a request")

    def test_5_nginx_reload(self):
        def reload():
            for _ in range(2):
                subprocess.run(["nginx", "-p", os.path.join(DIR, "nginx"), "-c",
                                os.path.join(DIR, "nginx", "nginx.conf"), "-s", "reload"],
                               env=ENV, check=True, capture_output=True, timeout=30)
                time.sleep(2.0)

        t = self.under_load(reload, after=6.0)
        log("nginx reload: " + self.load.summary(t - 3, t + 6))
        self.assertEqual(self.load.failures(t - 3, t + 6), [], "failed during the reloads")

    def test_6_nothing_lost(self):
        load = self.load
        # Creates that got no 201 are the client's to retry with their key.
        for key, (token, body) in list(load.unacked.items()):
            r = direct(1, "POST", "/api/todos", body, token, {"Idempotency-Key": key})
            self.assertEqual(r.status, 201, r)
            load.acked[key] = (token, r.json()["id"])
        log("%d acknowledged creates, %d retried by key" % (len(load.acked), len(load.unacked)))
        self.assertGreater(len(load.acked), 100)
        ids = [tid for _, tid in load.acked.values()]
        self.assertEqual(len(ids), len(set(ids)), "two keys answered with one id")
        missing = []
        for token, tid in load.acked.values():
            for n in (1, 2):
                r = direct(n, "GET", "/api/todos/%d" % tid, token=token)
                if r.status != 200:
                    missing.append((n, tid, r.status))
        self.assertEqual(missing[:10], [], "acknowledged creates not readable")
        # Each key made one todo: the users' rows are exactly their keys.
        per_user = {}
        for token, _ in load.acked.values():
            per_user[token] = per_user.get(token, 0) + 1
        for token, want in per_user.items():
            got = direct(2, "GET", "/api/todos?limit=1", token=token).json()["total"]
            self.assertEqual(got, want, "a key created more than one todo")
        sums = {n: sql(n, "CHECKSUM TABLE todos, users, todo_counts") for n in NODES}
        log("checksums: %s" % sums)
        self.assertEqual(sums["db1"], sums["db2"])
        self.assertEqual(sums["db1"], sums["db3"])


def main():
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(Cluster)
    only = os.environ.get("TODOD_CLUSTER_TESTS")  # e.g. "test_2_" (a measurement)
    if only:
        suite = unittest.TestSuite(t for t in suite if any(o in t.id() for o in only.split(",")))
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.skipped)
    passed = max(0, result.testsRun - failed)
    # A sanitizer report in a todod log fails the run (the suite runs the
    # ASan + UBSan build here).
    for name in ("todod1.log", "todod2.log"):
        try:
            with open(os.path.join(DIR, "log", name), errors="replace") as f:
                text = f.read()
        except OSError:
            continue
        for bad in SANITIZER_BAD:
            if bad in text:
                at = text.index(bad)
                print("# %s has a sanitizer report:\n%s" % (name, text[max(0, at - 200):at + 3000]))
                failed += 1
                break
    if not os.environ.get("TODOD_KEEP_TMP"):
        try:
            cluster("down", timeout=300)
        except Exception as e:
            print("# cluster down: %s" % e)
            failed += 1
    print("RESULT passed=%d failed=%d" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
