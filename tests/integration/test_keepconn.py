"""FastCGI keep-conn (nginx's fastcgi_keep_conn, on in the rendered
configuration): one connection carries request after request, an idle or
silent connection holds no worker thread, and SIGTERM serves the kept
connections until their peer closes them (drain_timeout at most). Straight to todod's socket with
the tests' FastCGI client, so that the connections are the test's own."""

import os
import sys
import threading
import time

from harness import StackTestCase

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cluster"))
import fcgi  # noqa: E402

# An unknown user's sign-in still costs one scrypt (~150 ms): a slow request.
SIGN_IN = {"email": "nobody@example.com", "password": "correct horse battery"}


class KeepConnTest(StackTestCase):

    stack_config = {"workers": 2}

    def connect(self, timeout=10):
        conn = fcgi.Connection(self.stack.todod_socket, timeout)
        self.addCleanup(conn.close)
        return conn

    def test_requests_share_one_connection(self):
        conn = self.connect()
        for i in range(5):
            resp = conn.request("GET", "/api/health")
            self.assertEqual(resp.status, 200, "request %d: %r" % (i, resp))
            self.assertEqual(resp.json()["status"], "ok")
        # Bodies no route reads (an unknown route; a body over the limit)
        # are skipped, so the next record read is the next request's.
        resp = conn.request("POST", "/api/no-such-route", body=b"x" * 20000)
        self.assertEqual(resp.status, 404, resp)
        resp = conn.request("POST", "/api/auth/sign-in/email", body=b"{" + b" " * 100000 + b"}",
                            headers={"Content-Type": "application/json"})
        self.assertEqual(resp.status, 413, resp)
        resp = conn.request("GET", "/api/health")
        self.assertEqual(resp.status, 200, resp)
        # Without FCGI_KEEP_CONN todod closes after the answer.
        resp = conn.request("GET", "/api/health", keep=False)
        self.assertEqual(resp.status, 200, resp)
        self.assertTrue(conn.closed_by_peer(5), "connection left open without FCGI_KEEP_CONN")

    def test_idle_connections_hold_no_worker(self):
        # Three times as many kept, idle connections as workers: with a
        # thread per connection the new ones below would wait forever.
        idle = [self.connect() for _ in range(6)]
        for conn in idle:
            self.assertEqual(conn.request("GET", "/api/health").status, 200)
        start = time.monotonic()
        for i in range(4):
            resp = fcgi.request(self.stack.todod_socket, "GET", "/api/health", timeout=5)
            self.assertEqual(resp.status, 200, "new connection %d" % i)
        for i, conn in enumerate(reversed(idle)):
            self.assertEqual(conn.request("GET", "/api/health").status, 200, "idle %d" % i)
        self.assertLess(time.monotonic() - start, 5)
        # And through nginx, more requests at once than workers.
        results = [None] * 12

        def one(i):
            try:
                results[i] = self.request("GET", "/api/health", timeout=10).status
            except Exception as e:  # reported below
                results[i] = repr(e)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(len(results))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(15)
        self.assertEqual(results, [200] * len(results))

    def test_silent_connection_holds_no_worker(self):
        # Connections that never send a byte wait in todod's epoll set.
        silent = [self.connect() for _ in range(4)]
        time.sleep(0.2)
        for i in range(3):
            resp = fcgi.request(self.stack.todod_socket, "GET", "/api/health", timeout=5)
            self.assertEqual(resp.status, 200, "request %d beside %d silent connections"
                             % (i, len(silent)))

    def test_peer_closing_an_idle_connection(self):
        for _ in range(20):
            conn = fcgi.Connection(self.stack.todod_socket, 10)
            self.assertEqual(conn.request("GET", "/api/health").status, 200)
            conn.close()
        # Nothing leaked a worker: more sequential requests than workers.
        for i in range(6):
            resp = fcgi.request(self.stack.todod_socket, "GET", "/api/health", timeout=5)
            self.assertEqual(resp.status, 200, "request %d" % i)
        self.assertFalse(self.stack.problems())


class KeepConnShutdownTest(StackTestCase):
    """A stopping todod never closes a kept connection its peer may be
    writing a request on: it serves them until the peer (nginx, by its
    keepalive_timeout and keepalive_time) closes them, for drain_timeout
    at most."""

    stack_config = {"workers": 2, "drain_timeout": 20}

    def test_sigterm_serves_kept_connections_until_the_peer_closes_them(self):
        busy = fcgi.Connection(self.stack.todod_socket, 30)
        late = fcgi.Connection(self.stack.todod_socket, 30)
        idle = fcgi.Connection(self.stack.todod_socket, 30)
        for conn in (busy, late, idle):
            self.addCleanup(conn.close)
            self.assertEqual(conn.request("GET", "/api/health").status, 200)
        busy.send("POST", "/api/auth/sign-in/email", body=SIGN_IN,
                  headers={"Content-Type": "application/json"})
        time.sleep(0.05)
        self.stack.sigterm_todod()
        time.sleep(0.02)
        # Sent on a kept connection while the sign-in still runs: served,
        # and the connection stays open for the next request.
        late.send("GET", "/api/health")
        self.assertEqual(late.receive().status, 200)
        self.assertEqual(busy.receive().status, 401)
        self.assertFalse(idle.closed_by_peer(1.0), "todod closed an idle kept connection")
        self.assertFalse(late.closed_by_peer(0.1), "todod closed a kept connection after its answer")
        self.assertEqual(late.request("GET", "/api/health").status, 200)
        self.assertEqual(self.stack.todod.poll(), None, "todod exited with kept connections open")
        # Once the peer has closed them all, todod exits at once.
        start = time.monotonic()
        for conn in (busy, late, idle):
            conn.close()
        self.assertEqual(self.stack.wait_todod(30), 0, "todod exit status after SIGTERM")
        self.assertLess(time.monotonic() - start, 3)


class KeepConnDrainTimeoutTest(StackTestCase):

    stack_config = {"workers": 2, "drain_timeout": 1}

    def test_sigterm_closes_what_the_peer_keeps_past_drain_timeout(self):
        late = fcgi.Connection(self.stack.todod_socket, 30)
        idle = fcgi.Connection(self.stack.todod_socket, 30)
        for conn in (late, idle):
            self.addCleanup(conn.close)
            self.assertEqual(conn.request("GET", "/api/health").status, 200)
        start = time.monotonic()
        self.stack.sigterm_todod()
        time.sleep(0.1)
        self.assertEqual(late.request("GET", "/api/health").status, 200)
        # The peer keeps both past drain_timeout: todod closes them and exits.
        self.assertTrue(late.closed_by_peer(5), "kept connection not closed after drain_timeout")
        self.assertTrue(idle.closed_by_peer(5), "idle connection not closed at exit")
        self.assertGreater(time.monotonic() - start, 0.9, "closed before drain_timeout")
        self.assertEqual(self.stack.wait_todod(30), 0, "todod exit status after SIGTERM")
        self.assertLess(time.monotonic() - start, 6)
