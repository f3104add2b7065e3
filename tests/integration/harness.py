"""Integration test harness for todod: one whole stack per test class.

A Stack lives in a fresh directory under the build tree and owns, in start
order: a private mariadbd (own datadir and socket, --skip-networking), the
todod database with an application account limited to row access, the
schema applied by `todod migrate` as the admin, todod itself on a unix
socket, and nginx on a free loopback port with a configuration rendered
from conf/nginx.conf.in by scripts/render-nginx. Teardown runs in reverse
order even after a failure and signals only the processes the Stack
started. A run fails when nginx logged [alert] or [crit], or when todod
printed a sanitizer report.

Standard library only. Environment:
  TODOD_BUILD     build directory (default build/)
  TODOD_BIN       the binary (default $TODOD_BUILD/todod)
  TODOD_TEST_TMP  where stacks are made (default $TODOD_BUILD/test-tmp)
  TODOD_KEEP_TMP  keep stack directories even when everything passed
  TODOD_RESPONSE_LOG  append every exchange made by Stack.request to this
                  file, one JSON object per line (see record_exchange); the
                  OpenAPI conformance check (tests/node/openapi_conformance.mjs)
                  validates them against docs/openapi.yaml
"""

import atexit
import base64
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.abspath(os.environ.get("TODOD_BUILD") or os.path.join(ROOT, "build"))
BIN = os.path.abspath(os.environ.get("TODOD_BIN") or os.path.join(BUILD, "todod"))
RENDER = os.path.join(ROOT, "scripts", "render-nginx")
SQL_DIR = os.path.join(ROOT, "sql")
IS_ROOT = os.geteuid() == 0

# Reports that mean the run must fail even when every response looked right.
NGINX_BAD = ("[alert]", "[crit]", "[emerg]")
SANITIZER_BAD = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer")


class StackError(Exception):
    """A part of the stack did not start or stop as it should."""


def find_program(name):
    """Look in PATH and the sbin directories (root's PATH may lack them)."""
    path = os.environ.get("PATH", "") + ":/usr/local/sbin:/usr/sbin:/sbin"
    found = shutil.which(name, path=path)
    if not found:
        raise StackError("%s not found; run scripts/test (it installs what is missing)" % name)
    return found


def base_dir():
    base = os.path.abspath(os.environ.get("TODOD_TEST_TMP") or os.path.join(BUILD, "test-tmp"))
    os.makedirs(base, exist_ok=True)
    # nginx workers run unprivileged and must walk down to todod's socket.
    os.chmod(base, 0o755)
    return base


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env(extra=None):
    """The environment for the service: ours minus any TODOD_* setting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TODOD_")}
    env.update(extra or {})
    return env


def read_text(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def write_file(path, text, mode=0o644):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, mode)


def render_config(values):
    return "".join("%s = %s\n" % (k, v) for k, v in values.items() if v is not None)


def stop_process(proc, sig=signal.SIGTERM, timeout=30):
    """Signal one process we started and reap it; SIGKILL after timeout."""
    if proc is None or proc.poll() is not None:
        return None if proc is None else proc.returncode
    try:
        proc.send_signal(sig)
    except ProcessLookupError:
        pass
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
        raise StackError("pid %d ignored signal %d for %ds" % (proc.pid, sig, timeout))


# Initialising a datadir takes seconds; do it once per run and copy it.
_datadir_template = None
_template_lock = threading.Lock()


def _cleanup_template(path):
    shutil.rmtree(os.path.dirname(path), ignore_errors=True)


def datadir_template():
    global _datadir_template
    with _template_lock:
        if _datadir_template is None:
            parent = tempfile.mkdtemp(prefix="mysql-template-", dir=base_dir())
            datadir = os.path.join(parent, "data")
            cmd = [find_program("mariadb-install-db"), "--no-defaults", "--datadir=" + datadir,
                   "--auth-root-authentication-method=socket", "--skip-test-db",
                   "--skip-name-resolve"]
            if IS_ROOT:
                cmd.append("--user=root")
            r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
            if r.returncode != 0:
                shutil.rmtree(parent, ignore_errors=True)
                raise StackError("mariadb-install-db failed:\n" + r.stdout[-3000:])
            atexit.register(_cleanup_template, datadir)
            _datadir_template = datadir
        return _datadir_template


RESPONSE_LOG = os.environ.get("TODOD_RESPONSE_LOG") or None
_response_log_lock = threading.Lock()


def record_exchange(method, path, status, headers, body):
    """Append one exchange to $TODOD_RESPONSE_LOG (when set) as a JSON line:
    method, path (with the query), status, headers (lower-case names) and
    body: text, or base64 with "body_base64": true when it is not UTF-8.
    Tests run requests from several threads: one lock, one write per line."""
    if not RESPONSE_LOG:
        return
    entry = {"method": method, "path": path, "status": status, "headers": headers}
    try:
        entry["body"] = body.decode("utf-8")
    except UnicodeDecodeError:
        entry["body"] = base64.b64encode(body).decode("ascii")
        entry["body_base64"] = True
    line = json.dumps(entry, ensure_ascii=False) + "\n"
    with _response_log_lock:
        with open(RESPONSE_LOG, "a", encoding="utf-8") as f:
            f.write(line)


class Response(tuple):
    """(status, headers, body, json) with names for the four parts."""

    __slots__ = ()

    def __new__(cls, status, headers, body, data):
        return tuple.__new__(cls, (status, headers, body, data))

    status = property(lambda self: self[0])
    headers = property(lambda self: self[1])
    body = property(lambda self: self[2])
    json = property(lambda self: self[3])


def parse_json(body):
    if not body:
        return None
    try:
        return json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None


class Stack:
    """MariaDB + todod + nginx in one directory; see the module comment."""

    def __init__(self, name="stack", config=None, env=None, rate="6000r/m", burst=1000,
                 web_root=None):
        self.name = name
        self.config_overrides = dict(config or {})
        self.env_overrides = dict(env or {})
        self.rate = rate
        self.burst = str(burst)
        # The static page nginx serves at /: the placeholder the stack
        # writes into its own directory, unless given (the browser tests
        # pass the repository's web/).
        self.web_root = os.path.abspath(web_root) if web_root else None
        self.dir = None
        self.db = None
        self.todod = None
        self.nginx = None
        self.port = None
        self.todod_exit = None
        self.started = False

    # Paths inside the stack directory.
    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    @property
    def db_socket(self):
        return self.path("run", "mariadb.sock")

    @property
    def todod_socket(self):
        return self.path("run", "todod.sock")

    @property
    def base_url(self):
        return "http://127.0.0.1:%d" % self.port

    # Start and stop.
    def start(self):
        try:
            self._make_dir()
            self.start_db()
            self._make_database()
            self._write_config()
            self.migrate()
            self.start_todod()
            self._start_nginx()
            self.wait_health()
            self.started = True
        except BaseException:
            try:
                self.stop(check=False, keep=True)
            finally:
                sys.stderr.write("stack %s failed to start; files kept in %s\n%s\n"
                                 % (self.name, self.dir, self.diagnostics()))
            raise
        return self

    def _make_dir(self):
        base = base_dir()
        self.dir = tempfile.mkdtemp(prefix=self.name[:20] + "-", dir=base)
        # sun_path holds 108 bytes; fall back to a short directory.
        if len(self.path("run", "mariadb.sock")) > 100:
            shutil.rmtree(self.dir)
            self.dir = tempfile.mkdtemp(prefix="todod-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        for sub in ("run", "log", "nginx", "web"):
            os.mkdir(self.path(sub))
            os.chmod(self.path(sub), 0o755)
        write_file(self.path("web", "index.html"),
                   "<!doctype html>\n<title>todod test</title>\n<p>todod</p>\n")

    def start_db(self):
        """Start (or restart) mariadbd on the stack's datadir and socket."""
        if self.db is not None and self.db.poll() is None:
            return
        datadir = self.path("mysql")
        if not os.path.isdir(datadir):
            shutil.copytree(datadir_template(), datadir, symlinks=True)
        cmd = [find_program("mariadbd"), "--no-defaults", "--datadir=" + datadir,
               "--socket=" + self.db_socket, "--pid-file=" + self.path("run", "mariadb.pid"),
               "--log-error=" + self.path("log", "mariadb.log"), "--skip-networking",
               "--innodb-buffer-pool-size=128M", "--character-set-server=utf8mb4",
               "--collation-server=utf8mb4_unicode_ci", "--skip-name-resolve"]
        if IS_ROOT:
            cmd.append("--user=root")
        log = open(self.path("log", "mariadb.out"), "ab")
        try:
            self.db = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        finally:
            log.close()
        deadline = time.monotonic() + 60
        admin = find_program("mariadb-admin")
        while time.monotonic() < deadline:
            if self.db.poll() is not None:
                raise StackError("mariadbd exited with %d" % self.db.returncode)
            r = subprocess.run([admin, "--no-defaults", "--socket=" + self.db_socket, "-uroot",
                                "ping"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
            if r.returncode == 0:
                return
            time.sleep(0.1)
        raise StackError("mariadbd did not answer within 60s")

    def stop_db(self):
        """Stop mariadbd (the service must survive this and report 503)."""
        stop_process(self.db, signal.SIGTERM, 60)

    def admin_sql(self, sql, database=None):
        """Run SQL as the admin (root over the socket); return its output."""
        cmd = [find_program("mariadb"), "--no-defaults", "--socket=" + self.db_socket, "-uroot",
               "--batch", "--skip-column-names"]
        if database:
            cmd.append(database)
        r = subprocess.run(cmd + ["-e", sql], stdin=subprocess.DEVNULL, capture_output=True,
                           text=True)
        if r.returncode != 0:
            raise StackError("admin SQL failed: %s\n%s" % (sql, r.stderr))
        return r.stdout

    def _make_database(self):
        self.db_password = base64.b64encode(os.urandom(18)).decode().replace("/", "x").replace("+", "y")
        write_file(self.path("db-password"), self.db_password, 0o600)
        write_file(self.path("jwt-secret"), base64.b64encode(os.urandom(48)).decode(), 0o600)
        self.admin_sql(
            "CREATE DATABASE todod CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
            "CREATE USER 'todod'@'localhost' IDENTIFIED BY '%s';"
            "GRANT SELECT, INSERT, UPDATE, DELETE ON todod.* TO 'todod'@'localhost';"
            % self.db_password)

    def _write_config(self):
        self.port = free_port()
        values = {
            "listen": "unix:" + self.todod_socket,
            "socket_mode": "0666",
            "db_socket": self.db_socket,
            "db_name": "todod",
            "db_user": "todod",
            "db_password_file": self.path("db-password"),
            "jwt_secret_file": self.path("jwt-secret"),
            "public_origin": "http://127.0.0.1:%d" % self.port,
            "cookie_secure": "false",
            "sql_dir": SQL_DIR,
            "log_level": "info",
        }
        values.update(self.config_overrides)
        write_file(self.path("todod.conf"), render_config(values))

    def migrate(self):
        env = child_env({"TODOD_DB_USER": "root", "TODOD_DB_PASSWORD": "",
                         "TODOD_DB_PASSWORD_FILE": ""})
        with open(self.path("log", "migrate.log"), "ab") as log:
            r = subprocess.run([BIN, "-c", self.path("todod.conf"), "migrate"], cwd=ROOT, env=env,
                               stdin=subprocess.DEVNULL, stdout=log, stderr=log, timeout=120)
        if r.returncode != 0:
            raise StackError("todod migrate exited with %d" % r.returncode)

    def start_todod(self):
        if not os.access(BIN, os.X_OK):
            raise StackError("%s is missing; build first (scripts/test does)" % BIN)
        env = child_env(self.env_overrides)
        log = open(self.path("log", "todod.log"), "ab")
        try:
            self.todod = subprocess.Popen([BIN, "-c", self.path("todod.conf"), "serve"], cwd=ROOT,
                                          env=env, stdin=subprocess.DEVNULL, stdout=log,
                                          stderr=log)
        finally:
            log.close()
        self.todod_exit = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.todod.poll() is not None:
                raise StackError("todod exited with %d during start" % self.todod.returncode)
            if os.path.exists(self.todod_socket):
                return
            time.sleep(0.05)
        raise StackError("todod did not create %s within 30s" % self.todod_socket)

    def sigterm_todod(self):
        """Send SIGTERM to todod (and only that); see wait_todod."""
        self.todod.send_signal(signal.SIGTERM)

    def wait_todod(self, timeout=30):
        """Wait for todod to exit; return its exit status."""
        try:
            self.todod_exit = self.todod.wait(timeout)
        except subprocess.TimeoutExpired:
            raise StackError("todod still running %ds after SIGTERM" % timeout)
        return self.todod_exit

    def _start_nginx(self):
        nginx = find_program("nginx")
        prefix = self.path("nginx")
        conf = os.path.join(prefix, "nginx.conf")
        for attempt in range(3):
            if attempt:
                self.port = free_port()
            r = subprocess.run([sys.executable, RENDER, "dev", "--port", str(self.port),
                                "--socket", self.todod_socket, "--web-root", self.web_root or self.path("web"),
                                "--rate", self.rate, "--burst", self.burst, "-o", conf],
                               stdin=subprocess.DEVNULL, capture_output=True, text=True)
            if r.returncode != 0:
                raise StackError("render-nginx failed: " + r.stderr)
            log = open(self.path("log", "nginx.out"), "ab")
            try:
                self.nginx = subprocess.Popen(
                    [nginx, "-p", prefix, "-c", conf, "-e", self.nginx_error_log_path,
                     "-g", "daemon off;"], stdin=subprocess.DEVNULL, stdout=log, stderr=log)
            finally:
                log.close()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.nginx.poll() is None:
                try:
                    socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                    return
                except OSError:
                    time.sleep(0.05)
            if self.nginx.poll() is None:
                raise StackError("nginx did not listen on %d within 10s" % self.port)
            # Most likely someone took the port between free_port() and bind().
        raise StackError("nginx failed to start: " + read_text(self.nginx_error_log_path)[-2000:])

    def wait_health(self, timeout=30):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = self.request("GET", "/api/health", timeout=5)
                if last.status == 200:
                    return last
            except OSError as e:
                last = e
            time.sleep(0.1)
        raise StackError("GET /api/health never answered 200: %r" % (last,))

    def stop(self, check=True, keep=False):
        """Tear down in reverse order; with check, fail on logged problems."""
        errors = []
        for other in reversed(self.__dict__.get("seconds", [])):  # start_second_todod
            errors.extend(other.stop())
        for proc, sig, timeout in ((self.nginx, signal.SIGQUIT, 15),
                                   (self.todod, signal.SIGTERM, 30),
                                   (self.db, signal.SIGTERM, 60)):
            try:
                rc = stop_process(proc, sig, timeout)
                if proc is self.todod and rc is not None and self.todod_exit is None:
                    self.todod_exit = rc
            except Exception as e:  # keep tearing down the rest
                errors.append(str(e))
        self.nginx = self.todod = self.db = None
        if self.dir is None:
            return
        if check:
            errors.extend(self.problems())
            if self.todod_exit not in (None, 0):
                errors.append("todod exited with status %d" % self.todod_exit)
        if errors or keep or os.environ.get("TODOD_KEEP_TMP"):
            if errors:
                sys.stderr.write("stack %s: files kept in %s\n" % (self.name, self.dir))
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        if errors:
            raise AssertionError("stack %s:\n  %s" % (self.name, "\n  ".join(errors)))

    def start_second_todod(self, env=None):
        """One more todod (same configuration and database, its own unix
        socket) behind one more nginx (its own port and prefix directory):
        a second service process, as on a second host; env adds to its
        environment (TODOD_<SETTING> overrides). Returns it started and
        healthy (a SecondTodod, with request() like the Stack's); stop()
        stops it, nginx first, before the Stack's own processes."""
        seconds = self.__dict__.setdefault("seconds", [])
        other = SecondTodod(self, len(seconds) + 2, env)
        seconds.append(other)
        return other.start()

    # Logs.
    @property
    def nginx_error_log_path(self):
        return self.path("log", "nginx-error.log")

    def todod_log(self):
        return read_text(self.path("log", "todod.log"))

    def nginx_error_log(self):
        """What nginx logged while starting (-e) and while serving (the
        error_log of the rendered config, under its prefix)."""
        return read_text(self.nginx_error_log_path) + read_text(self.path("nginx", "error.log"))

    def problems(self):
        found = []
        for line in self.nginx_error_log().splitlines():
            if any(tag in line for tag in NGINX_BAD):
                found.append("nginx: " + line)
        for name in ("todod.log", "migrate.log"):
            text = read_text(self.path("log", name))
            for bad in SANITIZER_BAD:
                if bad in text:
                    at = text.index(bad)
                    found.append("%s has a sanitizer report:\n%s" % (name, text[max(0, at - 200):at + 3000]))
                    break
        for other in self.__dict__.get("seconds", []):
            found.extend(other.problems())
        return found

    def diagnostics(self, lines=25):
        if self.dir is None:
            return ""
        out = []
        for name in ("todod.log", "migrate.log", "nginx-error.log", "mariadb.log") + tuple(
                n for other in self.__dict__.get("seconds", []) for n in other.log_names):
            text = [line for line in read_text(self.path("log", name)).splitlines()
                    if "[Note]" not in line][-lines:]
            if text:
                out.append("==> %s <==\n%s" % (name, "\n".join(text)))
        return "\n".join(out)

    # HTTP through nginx.
    def request(self, method, path, body=None, headers=None, raw=None, timeout=30):
        """One request on its own connection.

        body is encoded as JSON (and gets a JSON Content-Type unless headers
        name one); raw is sent verbatim (bytes or str). Returns a Response:
        (status, headers with lower-case names, body bytes, parsed JSON or None).
        """
        hdrs = dict(headers or {})
        payload = None
        if body is not None:
            payload = json.dumps(body).encode("utf-8")
            if not any(k.lower() == "content-type" for k in hdrs):
                hdrs["Content-Type"] = "application/json"
        elif raw is not None:
            payload = raw.encode("utf-8") if isinstance(raw, str) else raw
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            try:
                conn.request(method, path, body=payload, headers=hdrs)
            except (BrokenPipeError, ConnectionResetError):
                # nginx may answer (413) and close before reading all of it.
                pass
            resp = conn.getresponse()
            data = resp.read()
            out = {}
            for k, v in resp.getheaders():
                k = k.lower()
                out[k] = out[k] + ", " + v if k in out else v
            record_exchange(method, path, resp.status, out, data)
            return Response(resp.status, out, data, parse_json(data))
        finally:
            conn.close()

    def send_raw(self, data, timeout=10):
        """Write bytes to nginx's port as they are; return all that comes back."""
        with socket.create_connection(("127.0.0.1", self.port), timeout) as s:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            chunks = []
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        return b"".join(chunks)


class SecondTodod:
    """A further todod + nginx pair on a Stack's database (see
    Stack.start_second_todod). Number n >= 2 names its files: run/todod-n.sock,
    nginx-n/, log/todod-n.log, log/nginx-n-error.log. todod reads the
    Stack's todod.conf with TODOD_LISTEN pointing at its own socket, so
    public_origin is still the Stack's (cookie writes here need the Stack's
    base_url as Origin)."""

    def __init__(self, stack, n, env=None):
        self.stack = stack
        self.n = n
        self.env = dict(env or {})
        self.todod = self.nginx = None
        self.todod_exit = None
        self.port = None
        self.socket = stack.path("run", "todod-%d.sock" % n)
        self.prefix = stack.path("nginx-%d" % n)
        self.todod_log_path = stack.path("log", "todod-%d.log" % n)
        self.nginx_error_log_path = stack.path("log", "nginx-%d-error.log" % n)
        self.log_names = ("todod-%d.log" % n, "nginx-%d-error.log" % n)

    base_url = Stack.base_url
    request = Stack.request
    send_raw = Stack.send_raw

    def start(self):
        os.makedirs(self.prefix, mode=0o755, exist_ok=True)
        os.chmod(self.prefix, 0o755)
        env = child_env(dict(self.stack.env_overrides, TODOD_LISTEN="unix:" + self.socket,
                             **self.env))
        with open(self.todod_log_path, "ab") as log:
            self.todod = subprocess.Popen([BIN, "-c", self.stack.path("todod.conf"), "serve"],
                                          cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                          stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while not os.path.exists(self.socket):
            if self.todod.poll() is not None:
                raise StackError("todod %d exited with %d during start" % (self.n, self.todod.returncode))
            if time.monotonic() > deadline:
                raise StackError("todod %d did not create %s within 30s" % (self.n, self.socket))
            time.sleep(0.05)
        conf = os.path.join(self.prefix, "nginx.conf")
        for _ in range(3):
            self.port = free_port()
            r = subprocess.run([sys.executable, RENDER, "dev", "--port", str(self.port),
                                "--socket", self.socket,
                                "--web-root", self.stack.web_root or self.stack.path("web"),
                                "--rate", self.stack.rate, "--burst", self.stack.burst,
                                "-o", conf], stdin=subprocess.DEVNULL, capture_output=True, text=True)
            if r.returncode != 0:
                raise StackError("render-nginx failed: " + r.stderr)
            with open(self.stack.path("log", "nginx-%d.out" % self.n), "ab") as log:
                self.nginx = subprocess.Popen(
                    [find_program("nginx"), "-p", self.prefix, "-c", conf,
                     "-e", self.nginx_error_log_path, "-g", "daemon off;"],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=log)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.nginx.poll() is None:
                try:
                    resp = self.request("GET", "/api/health", timeout=5)
                    if resp.status == 200:
                        return self
                except OSError:
                    pass
                time.sleep(0.1)
            if self.nginx.poll() is None:
                raise StackError("nginx %d: no healthy answer on %d within 10s" % (self.n, self.port))
        raise StackError("nginx %d failed to start: %s"
                         % (self.n, read_text(self.nginx_error_log_path)[-2000:]))

    def stop(self):
        """Stop nginx, then todod; return a list of what went wrong."""
        errors = []
        for proc, sig, timeout in ((self.nginx, signal.SIGQUIT, 15),
                                   (self.todod, signal.SIGTERM, 30)):
            try:
                rc = stop_process(proc, sig, timeout)
                if proc is self.todod and rc is not None and self.todod_exit is None:
                    self.todod_exit = rc
            except Exception as e:
                errors.append("todod/nginx %d: %s" % (self.n, e))
        self.nginx = self.todod = None
        if self.todod_exit not in (None, 0):
            errors.append("todod %d exited with status %d" % (self.n, self.todod_exit))
        return errors

    def todod_log(self):
        return read_text(self.todod_log_path)

    def problems(self):
        found = ["nginx %d: %s" % (self.n, line)
                 for line in read_text(self.nginx_error_log_path).splitlines()
                 if any(tag in line for tag in NGINX_BAD)]
        text = self.todod_log()
        for bad in SANITIZER_BAD:
            if bad in text:
                at = text.index(bad)
                found.append("todod-%d.log has a sanitizer report:\n%s"
                             % (self.n, text[max(0, at - 200):at + 3000]))
                break
        return found


def run_todod(args, config=None, env=None, files=None, timeout=20):
    """Run the binary directly (no stack): returns (exit status, stdout, stderr).

    It runs in a fresh temporary directory; "@TMP@" in config values stands
    for it. config is a dict written to a file passed with -c; files maps
    names in that directory to contents to create first.
    """
    tmp = tempfile.mkdtemp(prefix="direct-", dir=base_dir())
    try:
        for name, content in (files or {}).items():
            write_file(os.path.join(tmp, name), content, 0o600)
        cmd = [BIN]
        if config is not None:
            conf = os.path.join(tmp, "todod.conf")
            write_file(conf, render_config({k: (v.replace("@TMP@", tmp) if isinstance(v, str) else v)
                                            for k, v in config.items()}))
            cmd += ["-c", conf]
        cmd += list(args)
        proc = subprocess.Popen(cmd, cwd=tmp, env=child_env(env), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            raise AssertionError("todod %s still running after %ds; stderr:\n%s"
                                 % (" ".join(args), timeout, err[-2000:]))
        return proc.returncode, out, err
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def race(calls, timeout=90):
    """Run the callables at once (released by a barrier); their results in
    order, an exception standing for a call that raised."""
    results = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def one(i):
        try:
            barrier.wait(30)
            results[i] = calls[i]()
        except Exception as e:  # reported by the caller's assertions
            results[i] = e

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(len(calls))]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    stuck = [i for i, t in enumerate(threads) if t.is_alive()]
    if stuck:
        raise AssertionError("calls %r still running after %ds" % (stuck, timeout))
    return results


class StackTestCase(unittest.TestCase):
    """One Stack per test class; override the class attributes to tune it."""

    stack_config = {}  # extra todod config keys, e.g. {"workers": 4}
    stack_env = {}  # extra environment for todod
    stack_rate = "6000r/m"  # nginx sign-in/sign-up rate limit
    stack_burst = 1000
    stack = None
    _stack_failed = False

    @classmethod
    def setUpClass(cls):
        cls._stack_failed = False
        cls.stack = Stack(name=cls.__name__, config=cls.stack_config, env=cls.stack_env,
                          rate=cls.stack_rate, burst=cls.stack_burst).start()

    @classmethod
    def tearDownClass(cls):
        stack, cls.stack = cls.stack, None
        if stack is None:
            return
        if cls._stack_failed:
            # The logs are what explains a failure in CI's output.
            sys.stderr.write("\n--- %s failed; its stack's logs (kept in %s):\n%s\n"
                             % (cls.__name__, stack.dir, stack.diagnostics()))
        stack.stop(keep=cls._stack_failed)

    def run(self, result=None):
        before = None
        if result is not None:
            before = len(result.failures) + len(result.errors)
        out = super().run(result)
        if result is not None and len(result.failures) + len(result.errors) > before:
            type(self)._stack_failed = True
        return out

    def request(self, *args, **kwargs):
        return self.stack.request(*args, **kwargs)

    def assertJsonType(self, resp):
        self.assertEqual(resp.headers.get("content-type"), "application/json; charset=utf-8",
                         "content type of %r" % (resp.body[:200],))

    def assertError(self, resp, status, code, msg=None):
        """The contract's error shape: status, JSON code and a message."""
        where = msg or "response %d %r" % (resp.status, resp.body[:300])
        self.assertEqual(resp.status, status, where)
        self.assertJsonType(resp)
        self.assertIsInstance(resp.json, dict, where)
        self.assertEqual(resp.json.get("code"), code, where)
        self.assertIsInstance(resp.json.get("message"), str, where)
        self.assertTrue(resp.json["message"], where)

    def run_cases(self, cases):
        """Table-driven checks: each case is a dict with method, path and
        optionally name/body/raw/headers, and the expectations status, code
        (error code, checked with assertError), json (the exact parsed body)
        and headers_expected (name -> value, or True for "present")."""
        for case in cases:
            label = case.get("name") or "%s %s" % (case["method"], case["path"])
            with self.subTest(label):
                resp = self.request(case["method"], case["path"], body=case.get("body"),
                                    headers=case.get("headers"), raw=case.get("raw"))
                if "code" in case:
                    self.assertError(resp, case["status"], case["code"], label)
                else:
                    self.assertEqual(resp.status, case["status"],
                                     "%s: %r" % (label, resp.body[:300]))
                if "json" in case:
                    self.assertEqual(resp.json, case["json"], label)
                for name, want in case.get("headers_expected", {}).items():
                    got = resp.headers.get(name.lower())
                    if want is True:
                        self.assertTrue(got, "%s: header %s missing" % (label, name))
                    else:
                        self.assertEqual(got, want, "%s: header %s" % (label, name))
