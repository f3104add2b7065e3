"""The nginx configuration: the committed sample is the template's output,
both renderings pass `nginx -t`, and the answers nginx makes itself (rate
limit, upstream down) follow the service's error format."""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

from harness import RENDER, ROOT, StackTestCase, base_dir, find_program

SAMPLE = os.path.join(ROOT, "nginx.conf.sample")


def render(*args):
    r = subprocess.run([sys.executable, RENDER] + list(args), stdin=subprocess.DEVNULL,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError("render-nginx %s failed: %s" % (" ".join(args), r.stderr))
    return r.stdout


def location_block(conf, head):
    """The text of the location block opened by the line `location HEAD {`."""
    m = re.search(r"^\s*location " + re.escape(head) + r" \{\n(.*?)^\s*\}", conf, re.M | re.S)
    return m.group(1) if m else None


class RenderTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="nginx-t-", dir=base_dir())
        os.chmod(self.tmp, 0o755)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def nginx_t(self, conf):
        r = subprocess.run([find_program("nginx"), "-t", "-p", self.tmp, "-c", conf,
                            "-e", os.path.join(self.tmp, "error.log")],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, "nginx -t %s:\n%s" % (conf, r.stderr))
        self.assertNotRegex(r.stderr, r"\[(warn|alert|crit|emerg)\]", r.stderr)

    def test_sample_is_fresh(self):
        with open(SAMPLE, encoding="utf-8") as f:
            committed = f.read()
        self.assertEqual(committed, render("prod"),
                         "nginx.conf.sample is stale: run scripts/render-nginx prod > nginx.conf.sample")

    def test_dev_config_passes_nginx_t(self):
        web = os.path.join(self.tmp, "web")
        os.mkdir(web)
        conf = os.path.join(self.tmp, "nginx.conf")
        render("dev", "--port", "18080", "--socket", os.path.join(self.tmp, "todod.sock"),
               "--web-root", web, "-o", conf)
        self.nginx_t(conf)

    def test_keepalive_option(self):
        web = os.path.join(self.tmp, "web")
        os.mkdir(web)
        sock = os.path.join(self.tmp, "todod.sock")
        for keep in ("0", "32"):
            conf = os.path.join(self.tmp, "nginx-%s.conf" % keep)
            render("dev", "--port", "18080", "--socket", sock, "--web-root", web,
                   "--keepalive", keep, "-o", conf)
            self.nginx_t(conf)
            with open(conf, encoding="utf-8") as f:
                text = f.read()
            if keep == "0":
                self.assertRegex(text, r"(?m)^\s*fastcgi_keep_conn off;")
                self.assertNotRegex(text, r"upstream todod \{[^}]*keepalive")
            else:
                self.assertRegex(text, r"(?m)^\s*fastcgi_keep_conn on;")
                self.assertRegex(text, r"(?m)^\s*keepalive 32;")
                # nginx, not todod, ends each kept connection (see drain_timeout).
                self.assertRegex(text, r"(?m)^\s*keepalive_timeout 3s;")
                self.assertRegex(text, r"(?m)^\s*keepalive_time 5s;")
        for bad in ("-1", "x", "2000"):
            r = subprocess.run([sys.executable, RENDER, "dev", "--keepalive", bad],
                               stdin=subprocess.DEVNULL, capture_output=True, text=True)
            self.assertEqual(r.returncode, 2, "--keepalive %s: %s" % (bad, r.stderr))
            self.assertIn("--keepalive", r.stderr)

    def test_prod_config_passes_nginx_t(self):
        cert = os.path.join(self.tmp, "cert.pem")
        key = os.path.join(self.tmp, "key.pem")
        r = subprocess.run([find_program("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-days", "2", "-subj", "/CN=todo.example.com", "-keyout", key,
                            "-out", cert], stdin=subprocess.DEVNULL, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        conf = os.path.join(self.tmp, "nginx.conf")
        # Logs and pid inside the temporary prefix so that the check leaves
        # the system's nginx files alone; everything else as in the sample.
        text = render("prod", "--cert", cert, "--key", key,
                      "--pid", os.path.join(self.tmp, "nginx.pid"),
                      "--error-log", os.path.join(self.tmp, "error.log"),
                      "--access-log", os.path.join(self.tmp, "access.log"))
        with open(conf, "w", encoding="utf-8") as f:
            f.write(text)
        self.nginx_t(conf)

    def test_sample_production_settings(self):
        with open(SAMPLE, encoding="utf-8") as f:
            conf = f.read()
        for needle in ("server_tokens off;", "ssl_protocols TLSv1.2 TLSv1.3;",
                       "ssl_prefer_server_ciphers off;", "ssl_session_tickets off;",
                       "Strict-Transport-Security", "listen 443 ssl", "return 301 https://",
                       "client_max_body_size 64k;", "server unix:/run/todod/todod.sock;",
                       "fastcgi_hide_header X-Powered-By;", "fastcgi_intercept_errors off;",
                       "fastcgi_param REMOTE_ADDR", "fastcgi_param SCRIPT_NAME",
                       "fastcgi_param REQUEST_URI", "fastcgi_param QUERY_STRING",
                       "fastcgi_param CONTENT_TYPE", "fastcgi_param CONTENT_LENGTH",
                       "rate=10r/m;", "Content-Security-Policy", "X-Frame-Options \"DENY\""):
            self.assertIn(needle, conf, "nginx.conf.sample lacks %r" % needle)
        self.assertNotRegex(conf, r"(?m)^\s*include ", "no system include files")
        # Kept FastCGI connections, a bounded number idle per nginx worker.
        self.assertRegex(conf, r"(?m)^\s*fastcgi_keep_conn on;", "fastcgi_keep_conn on")
        # nginx closes them itself well within todod's drain_timeout (10 s),
        # so that a stopping todod never closes one nginx is writing on.
        self.assertRegex(conf, r"upstream todod \{\s*server [^;]+;\s*keepalive 7;"
                         r"\s*keepalive_timeout 3s;\s*keepalive_time 5s;\s*\}",
                         "upstream keepalive 7, closed by nginx within 5 s")
        # The rate limit applies to exactly the two credential routes.
        self.assertEqual(len(re.findall(r"(?m)^\s*limit_req zone=", conf)), 2)
        for route in ("/api/auth/sign-in/email", "/api/auth/sign-up/email"):
            block = location_block(conf, "= " + route)
            self.assertIsNotNone(block, route)
            self.assertIn("limit_req zone=todod_auth burst=5 nodelay;", block)
            self.assertIn("fastcgi_pass todod;", block)


class NginxAnswersTest(StackTestCase):
    """A stack whose sign-in/sign-up limit is low enough to hit."""

    stack_rate = "6r/m"
    stack_burst = 2

    def assertTooMany(self, resp):
        self.assertError(resp, 429, "TOO_MANY_REQUESTS")
        self.assertTrue(resp.headers.get("retry-after", "").isdigit(),
                        "Retry-After: %r" % resp.headers.get("retry-after"))
        self.assertTrue(resp.headers.get("x-request-id"))

    def test_rate_limit(self):
        statuses = []
        for _ in range(20):
            resp = self.request("POST", "/api/auth/sign-in/email", body={})
            statuses.append(resp.status)
            if resp.status == 429:
                self.assertTooMany(resp)
            else:
                self.assertNotEqual(resp.status, 503, resp.body)
        # 1 + burst pass (one more if a 10 s tick falls inside the loop).
        self.assertIn(statuses.count(429), (16, 17), statuses)
        self.assertNotEqual(statuses[0], 429)
        # Sign-up shares the budget; other routes are not limited.
        self.assertTooMany(self.request("POST", "/api/auth/sign-up/email", body={}))
        for _ in range(20):
            self.assertEqual(self.request("GET", "/api/health").status, 200)
        resp = self.request("POST", "/api/auth/sign-out", body={})
        self.assertNotEqual(resp.status, 429)

    def test_upstream_down(self):
        stack = self.stack
        stack.sigterm_todod()
        self.assertEqual(stack.wait_todod(30), 0)
        stack.todod_exit = None
        # A socket file nobody listens on: nginx gets ECONNREFUSED (logged
        # as an [error]; a missing file would be a [crit]).
        if os.path.exists(stack.todod_socket):
            os.unlink(stack.todod_socket)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(stack.todod_socket)
        # Writable by nginx's unprivileged workers, as todod's own socket
        # is (socket_mode), or they would get EACCES, logged as [crit].
        os.chmod(stack.todod_socket, 0o666)
        s.close()
        try:
            resp = self.request("GET", "/api/health")
            self.assertError(resp, 503, "UNAVAILABLE")
            self.assertTrue(resp.headers.get("retry-after", "").isdigit())
            self.assertTrue(resp.headers.get("x-request-id"))
        finally:
            os.unlink(stack.todod_socket)
            stack.start_todod()
        stack.wait_health()


if __name__ == "__main__":
    unittest.main()
