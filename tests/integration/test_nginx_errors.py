"""Answers nginx makes itself, before todod sees the request: each one in
the contract's error format (JSON {"code","message"}, Content-Type
application/json), never nginx's HTML page. Also /api/metrics served to
loopback clients only, and the request id in nginx's access log.

Most of these requests are malformed on purpose, so they go over a raw
socket (not recorded for the OpenAPI check); the ones a normal client can
send go through Stack.request and are recorded.

Client timeouts (408) and a slow upstream (504) run against a second nginx
whose configuration is the same rendering of conf/nginx.conf.in with the
timeouts cut to 1 s (the real ones are 15 s and 30 s), in front of a fake
upstream socket, so the test does not wait half a minute.
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from harness import (NGINX_BAD, RENDER, Response, Stack, StackTestCase, base_dir, find_program,
                     free_port, parse_json, read_text, record_exchange, stop_process)

JSON_TYPE = "application/json; charset=utf-8"


class Raw:
    """One HTTP/1.x answer read off a raw socket."""

    def __init__(self, data):
        self.data = data
        head, sep, self.body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.[01] (\d{3}) ?(.*)$", lines[0]) if sep else None
        if not m:
            raise AssertionError("not an HTTP answer: %r" % data[:300])
        self.status = int(m.group(1))
        self.reason = m.group(2)
        self.headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        try:
            self.json = json.loads(self.body.decode("utf-8"))
        except ValueError:
            self.json = None


def exchange(port, data, source="127.0.0.1", timeout=10):
    """Write data to nginx (tolerating a close while writing: nginx answers
    some errors before it has read everything) and read until it closes.
    Returns the bytes read. The writing side stays open: nginx takes a
    half-closed client for one that went away and drops a proxied request
    (499); it closes the connection itself after an error, and requests that
    reach todod say "Connection: close"."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        if source != "127.0.0.1":
            s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def wait_for(predicate, timeout=3.0):
    """Poll predicate until it returns something true (logs are written a
    moment after the answer); return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def bad_log_lines(path):
    return [line for line in read_text(path).splitlines() if any(t in line for t in NGINX_BAD)]


class ErrorAssertions:

    def assertNginxError(self, resp, status, code, label=""):
        """nginx's own error answer: status, JSON body with code and message,
        the JSON Content-Type, the request id and the API's headers."""
        where = "%s: %d %r" % (label, resp.status, resp.body[:300])
        self.assertEqual(resp.status, status, where)
        self.assertEqual(resp.headers.get("content-type"), JSON_TYPE, where)
        self.assertIsInstance(resp.json, dict, where)
        self.assertEqual(resp.json.get("code"), code, where)
        self.assertIsInstance(resp.json.get("message"), str, where)
        self.assertTrue(resp.json["message"], where)
        self.assertEqual(resp.headers.get("content-length"), str(len(resp.body)), where)
        self.assertRegex(resp.headers.get("x-request-id", ""), r"^[0-9a-f]{16,}$", where)
        self.assertEqual(resp.headers.get("x-content-type-options"), "nosniff", where)
        self.assertEqual(resp.headers.get("cache-control"), "no-store", where)
        self.assertNotIn(b"<html", resp.body.lower(), where)


class NginxErrorsTest(ErrorAssertions, StackTestCase):
    """The answers nginx makes on the test stack itself."""

    @classmethod
    def tearDownClass(cls):
        # The harness reads the log nginx writes while it starts (-e); what
        # the workers log while serving goes to the configured error_log.
        stack = cls.stack
        bad = bad_log_lines(stack.path("nginx", "error.log")) if stack else []
        super().tearDownClass()
        if bad:
            raise AssertionError("nginx logged:\n  " + "\n  ".join(bad))

    def raw(self, data, source="127.0.0.1"):
        return Raw(exchange(self.stack.port, data, source))

    def access_log(self):
        return read_text(self.stack.path("nginx", "access.log"))

    def test_400_malformed_request(self):
        cases = {
            "request line": b"GARBAGE\r\n\r\n",
            "header name with a space": b"GET /api/health HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n",
            "HTTP/1.1 without Host": b"GET /api/health HTTP/1.1\r\n\r\n",
            "malformed Host": b"GET /api/health HTTP/1.1\r\nHost: a/b\r\n\r\n",
            "two Content-Lengths": b"POST /api/todos HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
                                   b"Content-Length: 2\r\n\r\nab",
            "CONNECT to an authority": b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n",
        }
        for label, data in cases.items():
            with self.subTest(label):
                self.assertNginxError(self.raw(data), 400, "BAD_REQUEST", label)

    def test_400_bad_percent_encoding(self):
        for path in (b"/api/%zz", b"/api/todos/%zz", b"/api/health%00", b"/api/%"):
            with self.subTest(path):
                resp = self.raw(b"GET " + path + b" HTTP/1.1\r\nHost: a\r\n\r\n")
                self.assertNginxError(resp, 400, "BAD_REQUEST", path.decode())

    def test_405_methods_nginx_refuses(self):
        for label, data in (("TRACE", b"TRACE /api/health HTTP/1.1\r\nHost: a\r\n\r\n"),
                            ("TRACE /", b"TRACE / HTTP/1.1\r\nHost: a\r\n\r\n"),
                            ("CONNECT", b"CONNECT /api/health HTTP/1.1\r\nHost: a\r\n\r\n")):
            with self.subTest(label):
                resp = self.raw(data)
                self.assertNginxError(resp, 405, "METHOD_NOT_ALLOWED", label)
                # Refused before routing, on every path: no Allow to give.
                self.assertNotIn("allow", resp.headers)
        # A method nginx passes on is still the service's 405, with Allow.
        resp = self.request("DELETE", "/api/health")
        self.assertError(resp, 405, "METHOD_NOT_ALLOWED")
        self.assertTrue(resp.headers.get("allow"))

    def test_408_timeouts_are_15s(self):
        # What TimeoutsTest cuts to 1 s: nginx closes an idle client after
        # these (and sends nothing; see TimeoutsTest.test_408_client_timeout).
        conf = read_text(self.stack.path("nginx", "nginx.conf"))
        self.assertRegex(conf, r"(?m)^\s*client_header_timeout 15s;")
        self.assertRegex(conf, r"(?m)^\s*client_body_timeout 15s;")

    def test_413_body_too_large(self):
        big = b"x" * (70 * 1024)
        # Declared length: refused before routing, whatever path and method.
        resp = self.request("POST", "/api/todos", raw=big, headers={"Content-Type": "application/json"})
        self.assertNginxError(resp, 413, "BODY_TOO_LARGE", "POST /api/todos")
        resp = self.request("GET", "/api/nope", raw=big)
        self.assertNginxError(resp, 413, "BODY_TOO_LARGE", "GET /api/nope")
        # Chunked: found while reading the body.
        chunked = (b"POST /api/todos HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
                   b"Transfer-Encoding: chunked\r\n\r\n")
        for _ in range(3):
            chunked += b"%x\r\n%s\r\n" % (30 * 1024, b"x" * (30 * 1024))
        chunked += b"0\r\n\r\n"
        self.assertNginxError(self.raw(chunked), 413, "BODY_TOO_LARGE", "chunked")

    def test_414_uri_too_long(self):
        for label, target in (("query", b"/api/todos?q=" + b"a" * 9000),
                              ("path", b"/api/" + b"a" * 9000)):
            with self.subTest(label):
                resp = self.raw(b"GET " + target + b" HTTP/1.1\r\nHost: a\r\n\r\n")
                self.assertNginxError(resp, 414, "URI_TOO_LONG", label)

    def test_431_headers_too_large(self):
        # nginx's internal 494 ("Request Header Or Cookie Too Large", which it
        # would send as a 400 HTML page) is answered 431.
        cases = {
            "one long header": b"X-Big: " + b"a" * 9000 + b"\r\n",
            "a long cookie": b"Cookie: todod_session=" + b"a" * 9000 + b"\r\n",
            "too many headers": b"".join(b"X-H%d: %s\r\n" % (i, b"a" * 4000) for i in range(10)),
        }
        for label, extra in cases.items():
            with self.subTest(label):
                resp = self.raw(b"GET /api/health HTTP/1.1\r\nHost: a\r\n" + extra + b"\r\n")
                self.assertNginxError(resp, 431, "HEADERS_TOO_LARGE", label)

    def test_501_and_505(self):
        resp = self.raw(b"POST /api/todos HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n")
        self.assertNginxError(resp, 501, "NOT_IMPLEMENTED", "Transfer-Encoding: gzip")
        resp = self.raw(b"GET /api/health HTTP/2.0\r\nHost: a\r\n\r\n")
        self.assertNginxError(resp, 505, "HTTP_VERSION_NOT_SUPPORTED", "HTTP/2.0")

    def test_error_pages_are_internal(self):
        # A client cannot fetch the error bodies as pages of their own.
        for path in ("/_error/400", "/_error/503"):
            with self.subTest(path):
                resp = self.request("GET", path)
                self.assertEqual(resp.status, 404, resp.body[:200])

    def test_metrics_loopback_only(self):
        resp = self.request("GET", "/api/metrics")
        self.assertEqual(resp.status, 200, resp.body[:300])
        self.assertTrue(resp.headers.get("content-type", "").startswith("text/plain"),
                        resp.headers.get("content-type"))
        self.assertIn(b"todod_", resp.body)

        # From another address (127.0.0.2 is loopback too, but not allowed):
        # the 404 of a path that does not exist.
        conn = http.client.HTTPConnection("127.0.0.1", self.stack.port, timeout=10,
                                          source_address=("127.0.0.2", 0))
        try:
            conn.request("GET", "/api/metrics")
            r = conn.getresponse()
            body = r.read()
            headers = {k.lower(): v for k, v in r.getheaders()}
        finally:
            conn.close()
        record_exchange("GET", "/api/metrics", r.status, headers, body)
        denied = Response(r.status, headers, body, parse_json(body))
        self.assertNginxError(denied, 404, "NOT_FOUND", "GET /api/metrics from 127.0.0.2")
        self.assertNotIn(b"todod_", body)

        # Other spellings of the path, and other methods, from 127.0.0.2:
        # never the metrics.
        for target in (b"/api/metrics?x=1", b"/api//metrics", b"/api/./metrics",
                       b"/api/%6detrics", b"/api/x/../metrics", b"/api/metrics/"):
            for method in (b"GET", b"HEAD", b"POST"):
                label = (method + b" " + target).decode()
                with self.subTest(label):
                    resp = self.raw(method + b" " + target + b" HTTP/1.1\r\nHost: a\r\n"
                                    b"Connection: close\r\n\r\n", source="127.0.0.2")
                    self.assertEqual(resp.status, 404, label)
                    self.assertEqual(resp.headers.get("content-type"), JSON_TYPE, label)
                    self.assertNotIn(b"todod_", resp.body, label)
                    if method != b"HEAD":
                        self.assertEqual(resp.json.get("code"), "NOT_FOUND", label)

    def test_request_id_in_logs(self):
        # An answer of todod: the id it sent is on nginx's access log line
        # and on todod's own log line for the request.
        resp = self.request("GET", "/api/health")
        self.assertEqual(resp.status, 200)
        rid = resp.headers.get("x-request-id")
        self.assertRegex(rid or "", r"^[0-9a-f]{16,}$")
        line = wait_for(lambda: [l for l in self.access_log().splitlines()
                                 if l.endswith(" rid=" + rid)])
        self.assertEqual(len(line), 1, "access log lines with rid=%s: %r" % (rid, line))
        self.assertIn('"GET /api/health HTTP/1.1" 200 ', line[0])
        todod = wait_for(lambda: [l for l in self.stack.todod_log().splitlines()
                                  if "[%s]" % rid in l])
        self.assertEqual(len(todod), 1, "todod log lines with [%s]: %r" % (rid, todod))
        self.assertIn("GET /api/health -> 200", todod[0])

        # An answer of nginx (todod never saw the request): nginx's own id.
        resp = self.raw(b"GET /api/" + b"a" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n")
        rid = resp.headers.get("x-request-id")
        line = wait_for(lambda: [l for l in self.access_log().splitlines()
                                 if l.endswith(" rid=" + rid)])
        self.assertEqual(len(line), 1, "access log lines with rid=%s" % rid)
        self.assertRegex(line[0], r'" 414 \d+ ')


class _AuxNginx:
    """Stack.request against another port."""

    request = Stack.request

    def __init__(self, port):
        self.port = port


class TimeoutsTest(ErrorAssertions, unittest.TestCase):
    """A second nginx, the dev rendering of the template with 1 s client and
    upstream timeouts, in front of a fake upstream socket (no todod)."""

    SHORTEN = (("client_header_timeout 15s;", "client_header_timeout 1s;"),
               ("client_body_timeout 15s;", "client_body_timeout 1s;"),
               ("fastcgi_read_timeout 30s;", "fastcgi_read_timeout 1s;"))

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="nginx-timeouts-", dir=base_dir())
        os.chmod(cls.dir, 0o755)
        cls.nginx = None
        cls.upstream = None
        try:
            cls._start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def _start(cls):
        web = os.path.join(cls.dir, "web")
        os.mkdir(web)
        os.chmod(web, 0o755)
        with open(os.path.join(web, "index.html"), "w") as f:
            f.write("<!doctype html><title>t</title>\n")
        cls.sock = os.path.join(cls.dir, "up.sock")
        cls.refuse()
        conf = os.path.join(cls.dir, "nginx.conf")
        cls.error_log = os.path.join(cls.dir, "error.log")
        for _ in range(3):
            cls.port = free_port()
            r = subprocess.run([sys.executable, RENDER, "dev", "--port", str(cls.port),
                                "--socket", cls.sock, "--web-root", web, "--rate", "6000r/m",
                                "--burst", "1000"], stdin=subprocess.DEVNULL, capture_output=True,
                               text=True)
            if r.returncode != 0:
                raise AssertionError("render-nginx failed: " + r.stderr)
            text = r.stdout
            for old, new in cls.SHORTEN:
                if text.count(old) != 1:
                    raise AssertionError("the dev rendering has %d of %r" % (text.count(old), old))
                text = text.replace(old, new)
            with open(conf, "w") as f:
                f.write(text)
            with open(os.path.join(cls.dir, "nginx.out"), "ab") as log:
                cls.nginx = subprocess.Popen([find_program("nginx"), "-p", cls.dir, "-c", conf,
                                              "-e", cls.error_log, "-g", "daemon off;"],
                                             stdin=subprocess.DEVNULL, stdout=log, stderr=log)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and cls.nginx.poll() is None:
                try:
                    socket.create_connection(("127.0.0.1", cls.port), 0.5).close()
                    return
                except OSError:
                    time.sleep(0.05)
            if cls.nginx.poll() is None:
                raise AssertionError("nginx did not listen on %d" % cls.port)
        raise AssertionError("nginx failed to start: " + read_text(cls.error_log)[-2000:])

    @classmethod
    def tearDownClass(cls):
        stop_process(cls.nginx, signal.SIGQUIT, 15)
        cls.nginx = None
        if cls.upstream is not None:
            cls.upstream.close()
            cls.upstream = None
        bad = []
        for name in ("error.log", "nginx.out"):
            bad += bad_log_lines(os.path.join(cls.dir, name))
        if bad:
            sys.stderr.write("TimeoutsTest: files kept in %s\n" % cls.dir)
            raise AssertionError("nginx logged:\n  " + "\n  ".join(bad))
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def _replace_upstream(cls, listen):
        if cls.upstream is not None:
            cls.upstream.close()
        if os.path.exists(cls.sock):
            os.unlink(cls.sock)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(cls.sock)
        os.chmod(cls.sock, 0o666)
        if listen:
            s.listen(16)
        cls.upstream = s

    @classmethod
    def refuse(cls):
        """A socket file nobody listens on: connect() is refused (502)."""
        cls._replace_upstream(False)

    @classmethod
    def hang(cls):
        """A listening socket that never accepts: the connection sits in the
        backlog, the request is written, no answer comes (504)."""
        cls._replace_upstream(True)

    def access_log(self):
        return read_text(os.path.join(self.dir, "access.log"))

    def test_408_client_timeout(self):
        # nginx never sends a 408: on client_header_timeout and
        # client_body_timeout it closes the connection without a byte and
        # logs 408 in its access log. Both at once, so the test waits once.
        cases = {
            "headers": b"GET /api/health HTTP/1.1\r\nHost: a\r\n",
            "body": b"POST /api/auth/sign-in/email HTTP/1.1\r\nHost: a\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\"",
        }
        results = {}

        def idle(label, data):
            with socket.create_connection(("127.0.0.1", self.port), 10) as s:
                s.sendall(data)
                t0 = time.monotonic()
                got = b""
                try:
                    while True:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        got += chunk
                except OSError as e:
                    got += repr(e).encode()
                results[label] = (got, time.monotonic() - t0)

        threads = [threading.Thread(target=idle, args=item) for item in cases.items()]
        for t in threads:
            t.start()
        for t in threads:
            t.join(15)
        for label in cases:
            with self.subTest(label):
                self.assertIn(label, results, "no result")
                got, took = results[label]
                self.assertEqual(got, b"", "nginx sent something on a %s timeout" % label)
                self.assertGreater(took, 0.5)
                self.assertLess(took, 5)
        log = wait_for(lambda: re.findall(r'(?m)^.*" 408 0 .*$', self.access_log()))
        self.assertEqual(len(log), 2, log)

    def test_503_upstream_refused(self):
        self.refuse()
        resp = _AuxNginx(self.port).request("GET", "/api/health")
        self.assertNginxError(resp, 503, "UNAVAILABLE", "502 from nginx")
        self.assertRegex(resp.headers.get("retry-after", ""), r"^\d+$")

    def test_503_upstream_timeout(self):
        self.hang()
        try:
            t0 = time.monotonic()
            resp = _AuxNginx(self.port).request("GET", "/api/health")
            took = time.monotonic() - t0
        finally:
            self.refuse()
        self.assertNginxError(resp, 503, "UNAVAILABLE", "504 from nginx")
        self.assertRegex(resp.headers.get("retry-after", ""), r"^\d+$")
        self.assertGreater(took, 0.9, "answered before fastcgi_read_timeout")
        self.assertIn("upstream timed out", read_text(os.path.join(self.dir, "error.log")))

    def test_503_on_other_routes(self):
        # The credential routes and the metrics have locations (and, for
        # the metrics, an error_page list) of their own.
        self.refuse()
        aux = _AuxNginx(self.port)
        for method, path, body in (("POST", "/api/auth/sign-in/email", {}),
                                   ("GET", "/api/metrics", None),
                                   ("GET", "/api/todos", None)):
            with self.subTest(path):
                resp = aux.request(method, path, body=body)
                self.assertNginxError(resp, 503, "UNAVAILABLE", path)
                self.assertRegex(resp.headers.get("retry-after", ""), r"^\d+$")


if __name__ == "__main__":
    unittest.main()
