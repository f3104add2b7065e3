"""Authentication, end to end through nginx: token verification against
hand-forged JWTs, iss/aud, secret rotation, the secret checks at start,
every /api/auth route's success and error shapes, the session cookie,
cookie authentication with its CSRF origin checks, login CSRF, racing
sign-ups, and no password or token in the service's log.

Every expectation is the contract's (/work/shared/API.md); tokens are built
here with hmac/hashlib/base64 (jwtforge.py), never by the service's code."""

import base64
import datetime
import itertools
import os
import re
import shutil
import tempfile
import threading
import time
import unittest
import uuid

import jwtforge
from harness import SANITIZER_BAD, StackTestCase, base_dir, run_todod, write_file

JSON = {"Content-Type": "application/json"}
REALM = 'Bearer realm="todo"'
INVALID_TOKEN = 'Bearer realm="todo", error="invalid_token"'
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
USER_KEYS = {"id", "email", "name", "emailVerified", "createdAt", "updatedAt"}
FOREIGN = "http://evil.example"
SKEW = 30  # the default jwt_skew
TTL = 1800  # the default jwt_ttl
DROP = object()  # as a value in hdr()/claims(): leave the key out

_serial = itertools.count(1)


def new_email(tag="user"):
    return "%s-%d-%s@example.com" % (tag, next(_serial), uuid.uuid4().hex[:10])


def new_password():
    return "pw-%s-%s" % (uuid.uuid4().hex, next(_serial))


def read_secret(path):
    """The signing key as the service reads it: the file's bytes, trailing
    newlines aside (the harness writes none)."""
    with open(path, "rb") as f:
        return f.read().rstrip(b"\r\n")


def parse_cookie(value):
    """(name, value, {attribute lower-case: value or True}) of one Set-Cookie."""
    parts = [p.strip() for p in value.split(";")]
    name, _, val = parts[0].partition("=")
    attrs = {}
    for p in parts[1:]:
        k, eq, v = p.partition("=")
        attrs[k.strip().lower()] = v.strip() if eq else True
    return name.strip(), val.strip(), attrs


def rfc3339(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z")


def parse_time(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def merged(base, overrides):
    out = dict(base)
    for k, v in overrides.items():
        if v is DROP:
            out.pop(k, None)
        else:
            out[k] = v
    return out


class AuthMixin:
    """Helpers shared by the stack classes, and the log check that runs last
    in each of them (test_zz_* sorts after every other test name)."""

    cookie_name = "todod_session"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.secret = read_secret(cls.stack.path("jwt-secret"))
        cls.sensitive = []  # passwords and tokens that must never be logged

    # Recording what must stay out of the log.
    def remember(self, *values):
        for v in values:
            if isinstance(v, str) and len(v) >= 8:
                type(self).sensitive.append(v)

    # Requests.
    def bearer(self, token, extra=None):
        h = {"Authorization": "Bearer " + token}
        h.update(extra or {})
        return h

    def cookie(self, token, extra=None, name=None):
        h = {"Cookie": "%s=%s" % (name or self.cookie_name, token)}
        h.update(extra or {})
        return h

    def sign_up(self, email=None, password=None, name="Ada Lovelace", headers=None):
        email = email or new_email()
        password = password or new_password()
        self.remember(password)
        resp = self.request("POST", "/api/auth/sign-up/email",
                            body={"name": name, "email": email, "password": password},
                            headers=headers)
        if resp.status in (200, 201) and isinstance(resp.json, dict):
            self.remember(resp.json.get("token"))
        return resp

    def sign_in(self, email, password, headers=None, **extra):
        self.remember(password)
        body = dict(email=email, password=password, **extra)
        resp = self.request("POST", "/api/auth/sign-in/email", body=body, headers=headers)
        if resp.status == 200 and isinstance(resp.json, dict):
            self.remember(resp.json.get("token"))
        return resp

    def new_user(self, name="Ada Lovelace"):
        """A fresh account: {email, password, token, user}."""
        email, password = new_email(), new_password()
        resp = self.sign_up(email, password, name)
        self.assertEqual(resp.status, 201, resp.body)
        return {"email": email, "password": password, "token": resp.json["token"],
                "user": resp.json["user"]}

    def todos(self, headers):
        return self.request("GET", "/api/todos", headers=headers)

    def create_todo(self, headers, title="Buy milk"):
        return self.request("POST", "/api/todos", body={"title": title}, headers=headers)

    # Tokens made by hand.
    def hdr(self, **kw):
        return merged({"alg": "HS256", "typ": "JWT", "kid": "k1"}, kw)

    def claims(self, subject, **kw):
        now = int(time.time())
        return merged({"sub": subject, "iat": now, "exp": now + 600}, kw)

    def forge(self, header, claims, key=None, mac="HS256"):
        token = jwtforge.forge(header, claims, self.secret if key is None else key, mac)
        self.remember(token)
        return token

    # Assertions.
    def assertUnauthorized(self, resp, presented=True, msg=None):
        where = msg or "%d %r" % (resp.status, resp.body[:200])
        self.assertError(resp, 401, "UNAUTHORIZED", where)
        self.assertEqual(resp.headers.get("www-authenticate"),
                         INVALID_TOKEN if presented else REALM, where)

    def assertUser(self, user, email, name):
        self.assertIsInstance(user, dict)
        self.assertEqual(set(user), USER_KEYS, user)
        self.assertIsInstance(user["id"], str)
        self.assertRegex(user["id"], r"^[1-9][0-9]*$")
        self.assertEqual(user["email"], email)
        self.assertEqual(user["name"], name)
        self.assertIs(user["emailVerified"], False)
        now = time.time()
        for k in ("createdAt", "updatedAt"):
            self.assertIsInstance(user[k], str, k)
            self.assertRegex(user[k], TIME_RE, k)
            self.assertLess(abs(parse_time(user[k]) - now), 600, "%s %s" % (k, user[k]))

    def assertSessionCookie(self, resp, token, max_age=TTL, secure=False):
        raw = resp.headers.get("set-cookie")
        self.assertTrue(raw, "Set-Cookie missing")
        name, value, attrs = parse_cookie(raw)
        self.assertEqual(name, self.cookie_name, raw)
        self.assertEqual(value, token, "the cookie carries the token")
        self.assertEqual(attrs.get("path"), "/", raw)
        self.assertEqual(attrs.get("max-age"), str(max_age), raw)
        self.assertIs(attrs.get("httponly"), True, raw)
        self.assertEqual(str(attrs.get("samesite")).lower(), "lax", raw)
        self.assertNotIn("domain", attrs, raw)
        if secure:
            self.assertIs(attrs.get("secure"), True, raw)
        else:
            self.assertNotIn("secure", attrs, raw)

    def assertClearsCookie(self, resp, secure=False):
        raw = resp.headers.get("set-cookie")
        self.assertTrue(raw, "Set-Cookie missing")
        name, value, attrs = parse_cookie(raw)
        self.assertEqual(name, self.cookie_name, raw)
        self.assertEqual(value, "", raw)
        self.assertEqual(attrs.get("max-age"), "0", raw)
        self.assertEqual(attrs.get("path"), "/", raw)
        self.assertNotIn("domain", attrs, raw)
        if secure:
            self.assertIs(attrs.get("secure"), True, raw)

    def assertNoStore(self, resp):
        self.assertEqual(resp.headers.get("cache-control"), "no-store")

    # Runs last in every class that mixes this in.
    def test_zz_no_secrets_in_log(self):
        log = self.stack.todod_log()
        self.assertTrue(log, "todod.log is empty: is the service logging at all?")
        self.assertGreater(len(self.sensitive), 0, "nothing recorded to look for")
        for value in self.sensitive + [self.secret.decode("latin-1")]:
            self.assertNotIn(value, log, "todod.log contains a password, token or secret")
        for bad in SANITIZER_BAD:
            self.assertNotIn(bad, log)


class TokenVerificationTest(AuthMixin, StackTestCase):
    """Forged tokens against GET /api/todos; the default configuration."""

    stack_config = {"log_level": "debug"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        resp = cls.stack.request("POST", "/api/auth/sign-up/email",
                                 body={"name": "Forger", "email": new_email("forge"),
                                       "password": "forger-password-1"})
        if resp.status != 201:
            raise AssertionError("sign-up for the token tests: %d %r" % (resp.status, resp.body))
        cls.uid = resp.json["user"]["id"]
        cls.issued = resp.json["token"]
        cls.sensitive += ["forger-password-1", cls.issued]

    def valid(self):
        return self.forge(self.hdr(), self.claims(self.uid))

    def test_forged_valid_token_accepted(self):
        # Proves the forging code: everything else in this class differs
        # from this token in one respect only.
        resp = self.todos(self.bearer(self.valid()))
        self.assertEqual(resp.status, 200, resp.body)
        self.assertIsInstance(resp.json, dict)
        self.assertIn("items", resp.json)

    def test_bearer_scheme_case_insensitive(self):
        tok = self.valid()
        for scheme in ("bearer", "BEARER", "Bearer"):
            with self.subTest(scheme):
                resp = self.todos({"Authorization": scheme + " " + tok})
                self.assertEqual(resp.status, 200, resp.body)

    def test_issued_token_shape(self):
        header, claims = jwtforge.decode(self.issued)
        self.assertEqual(header.get("alg"), "HS256")
        self.assertIn(header.get("typ", "JWT"), ("JWT",))
        self.assertEqual(header.get("kid"), "k1")
        self.assertTrue(jwtforge.verify_hs256(self.issued, self.secret),
                        "issued token is not HMAC-SHA256 with the configured secret")
        self.assertEqual(claims.get("sub"), self.uid)
        self.assertIsInstance(claims.get("iat"), int)
        self.assertIsInstance(claims.get("exp"), int)
        self.assertEqual(claims["exp"] - claims["iat"], TTL)
        self.assertLess(abs(claims["iat"] - time.time()), 120)
        self.assertNotIn("iss", claims)
        self.assertNotIn("aud", claims)

    def forged_cases(self):
        uid, now = self.uid, int(time.time())
        h, c = self.hdr, lambda **kw: self.claims(uid, **kw)
        valid = self.valid()
        vh, vp, vs = valid.split(".")
        other_key = base64.b64encode(os.urandom(48))
        tampered_payload = jwtforge.segment(self.claims(str(int(uid) + 1)))
        big = self.sized_token(4097)
        return [
            ("alg none", jwtforge.forge(h(alg="none"), c(), None)),
            ("alg None", jwtforge.forge(h(alg="None"), c(), None)),
            ("alg NONE", jwtforge.forge(h(alg="NONE"), c(), None)),
            ("alg none, no typ/kid", jwtforge.forge({"alg": "none"}, c(), None)),
            ("HS384 with the real secret", self.forge(h(alg="HS384"), c(), mac="HS384")),
            ("HS512 with the real secret", self.forge(h(alg="HS512"), c(), mac="HS512")),
            ("RS256 header, HMAC-SHA256 signature", self.forge(h(alg="RS256"), c())),
            ("bad signature (another key)", self.forge(h(), c(), key=other_key)),
            ("bad signature (truncated)", valid[:-2]),
            ("signature of another token", vh + "." + vp + "." +
             self.forge(h(), c(extra="x")).split(".")[2]),
            ("tampered payload", vh + "." + tampered_payload + "." + vs),
            ("missing exp", self.forge(h(), c(exp=DROP))),
            ("string exp", self.forge(h(), c(exp=str(now + 600)))),
            ("null exp", self.forge(h(), c(exp=None))),
            ("expired beyond skew", self.forge(h(), c(iat=now - 1000, exp=now - SKEW - 90))),
            ("nbf in the future", self.forge(h(), c(nbf=now + SKEW + 90))),
            ("iat in the future beyond skew", self.forge(h(), c(iat=now + SKEW + 90,
                                                                exp=now + 1800))),
            ("missing sub", self.forge(h(), c(sub=DROP))),
            ("empty sub", self.forge(h(), c(sub=""))),
            ("numeric sub", self.forge(h(), c(sub=int(uid)))),
            ("null sub", self.forge(h(), c(sub=None))),
            ("array sub", self.forge(h(), c(sub=[uid]))),
            ("typ JWS", self.forge(h(typ="JWS"), c())),
            ("unknown kid", self.forge(h(kid="k2"), c())),
            ("malformed: 1 segment", vh),
            ("malformed: 2 segments", vh + "." + vp),
            ("malformed: 4 segments", valid + "." + vs),
            ("malformed: garbage base64", "!!!!.@@@@.####"),
            ("malformed: base64 of non-JSON", self.forge(b"not json", c())),
            ("malformed: header not an object", self.forge(b"[]", c())),
            ("malformed: claims not an object", self.forge(h(), b'"claims"')),
            ("oversize (4097 bytes)", big),
        ]

    def sized_token(self, length):
        """A correctly signed token of exactly length bytes."""
        for a in range(4):
            for b in range(length):
                tok = jwtforge.forge(self.hdr(x="p" * a), self.claims(self.uid, pad="q" * b),
                                     self.secret)
                if len(tok) == length:
                    self.remember(tok)
                    return tok
                if len(tok) > length:
                    break
        raise AssertionError("cannot make a token of %d bytes" % length)

    def test_forged_tokens_rejected(self):
        for name, token in self.forged_cases():
            with self.subTest(name):
                resp = self.todos(self.bearer(token))
                self.assertUnauthorized(resp, presented=True, msg=name)

    def test_size_limit_boundary(self):
        # The same kind of token one byte shorter than the rejected one.
        tok = self.sized_token(4096)
        resp = self.todos(self.bearer(tok))
        self.assertEqual(resp.status, 200, "a valid 4096-byte token: %r" % resp.body[:200])

    def test_skew_tolerated(self):
        # Inside the 30 s skew: the controls of the rejections above.
        now = int(time.time())
        cases = [
            ("expired 10 s ago", self.claims(self.uid, iat=now - 600, exp=now - 10)),
            ("nbf 10 s ahead", self.claims(self.uid, nbf=now + 10)),
            ("iat 10 s ahead", self.claims(self.uid, iat=now + 10)),
            ("nbf in the past", self.claims(self.uid, nbf=now - 60)),
        ]
        for name, claims in cases:
            with self.subTest(name):
                resp = self.todos(self.bearer(self.forge(self.hdr(), claims)))
                self.assertEqual(resp.status, 200, "%s: %r" % (name, resp.body))

    def test_token_in_query_string_ignored(self):
        tok = self.valid()
        for param in ("token", "access_token"):
            with self.subTest(param):
                resp = self.request("GET", "/api/todos?%s=%s" % (param, tok))
                self.assertUnauthorized(resp, presented=False, msg=param)
                resp = self.request("GET", "/api/auth/token?%s=%s" % (param, tok))
                self.assertUnauthorized(resp, presented=False, msg="token route, " + param)
                resp = self.request("GET", "/api/auth/get-session?%s=%s" % (param, tok))
                self.assertEqual((resp.status, resp.body.strip()), (200, b"null"))

    def test_no_credentials(self):
        for path in ("/api/todos", "/api/todos/1", "/api/auth/token"):
            with self.subTest(path):
                self.assertUnauthorized(self.request("GET", path), presented=False, msg=path)
        resp = self.create_todo({})
        self.assertUnauthorized(resp, presented=False, msg="POST /api/todos")


class IssuerAudienceTest(AuthMixin, StackTestCase):

    stack_config = {"jwt_issuer": "todo-test", "jwt_audience": "todo-api",
                    "log_level": "debug"}

    def test_issued_tokens_carry_iss_and_aud(self):
        u = self.new_user()
        _, claims = jwtforge.decode(u["token"])
        self.assertEqual(claims.get("iss"), "todo-test")
        aud = claims.get("aud")
        self.assertTrue(aud == "todo-api" or (isinstance(aud, list) and "todo-api" in aud),
                        "aud %r" % (aud,))
        self.assertEqual(self.todos(self.bearer(u["token"])).status, 200)
        resp = self.request("GET", "/api/auth/token", headers=self.bearer(u["token"]))
        self.assertEqual(resp.status, 200, resp.body)
        self.remember(resp.json["token"])
        self.assertEqual(jwtforge.decode(resp.json["token"])[1].get("iss"), "todo-test")

    def test_forged_iss_aud(self):
        uid = self.new_user()["user"]["id"]
        c = lambda **kw: self.claims(uid, **merged({"iss": "todo-test", "aud": "todo-api"}, kw))
        cases = [
            ("correct iss and aud", c(), 200),
            ("wrong iss", c(iss="someone-else"), 401),
            ("missing iss", c(iss=DROP), 401),
            ("wrong aud", c(aud="other-api"), 401),
            ("missing aud", c(aud=DROP), 401),
            ("both missing", c(iss=DROP, aud=DROP), 401),
            ("iss of another case", c(iss="TODO-TEST"), 401),
        ]
        for name, claims, status in cases:
            with self.subTest(name):
                resp = self.todos(self.bearer(self.forge(self.hdr(), claims)))
                if status == 200:
                    self.assertEqual(resp.status, 200, "%s: %r" % (name, resp.body))
                else:
                    self.assertUnauthorized(resp, msg=name)


class SecretRotationTest(AuthMixin, StackTestCase):
    """The stack keeps a previous secret under kid "old" (a file made before
    the stack starts, named in jwt_previous_secrets)."""

    @classmethod
    def setUpClass(cls):
        cls.keydir = tempfile.mkdtemp(prefix="oldkey-", dir=base_dir())
        cls.old_secret = base64.b64encode(os.urandom(48))
        cls.removed_secret = base64.b64encode(os.urandom(48))
        path = os.path.join(cls.keydir, "old-secret")
        write_file(path, cls.old_secret.decode() + "\n", 0o600)
        cls.stack_config = {"jwt_previous_secrets": "old=" + path, "log_level": "debug"}
        try:
            super().setUpClass()
        except BaseException:
            shutil.rmtree(cls.keydir, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.keydir, ignore_errors=True)

    def test_rotation(self):
        u = self.new_user()
        uid = u["user"]["id"]
        c = self.claims(uid)
        cases = [
            ("current secret, kid k1", self.forge(self.hdr(), c), 200),
            ("old secret, kid old", self.forge(self.hdr(kid="old"), c, key=self.old_secret), 200),
            ("kid old, signed by a removed secret",
             self.forge(self.hdr(kid="old"), c, key=self.removed_secret), 401),
            ("kid of a removed secret",
             self.forge(self.hdr(kid="older"), c, key=self.removed_secret), 401),
            ("old secret under kid k1", self.forge(self.hdr(kid="k1"), c, key=self.old_secret), 401),
            ("current secret under kid old", self.forge(self.hdr(kid="old"), c), 401),
            ("old secret, kid old, HS512",
             self.forge(self.hdr(kid="old", alg="HS512"), c, key=self.old_secret, mac="HS512"), 401),
        ]
        for name, token, status in cases:
            with self.subTest(name):
                resp = self.todos(self.bearer(token))
                if status == 200:
                    self.assertEqual(resp.status, 200, "%s: %r" % (name, resp.body))
                else:
                    self.assertUnauthorized(resp, msg=name)

    def test_new_tokens_carry_current_kid(self):
        u = self.new_user()
        header, _ = jwtforge.decode(u["token"])
        self.assertEqual(header.get("kid"), "k1")
        self.assertTrue(jwtforge.verify_hs256(u["token"], self.secret))
        self.assertFalse(jwtforge.verify_hs256(u["token"], self.old_secret))
        # A token of the old key buys a fresh one under the current key.
        old = self.forge(self.hdr(kid="old"), self.claims(u["user"]["id"]), key=self.old_secret)
        resp = self.request("GET", "/api/auth/token", headers=self.bearer(old))
        self.assertEqual(resp.status, 200, resp.body)
        fresh = resp.json["token"]
        self.remember(fresh)
        self.assertEqual(jwtforge.decode(fresh)[0].get("kid"), "k1")
        self.assertTrue(jwtforge.verify_hs256(fresh, self.secret))
        self.assertEqual(jwtforge.decode(fresh)[1].get("sub"), u["user"]["id"])


class SecretStartupTest(unittest.TestCase):
    """`todod serve` refuses to start without a usable secret (exit 2, one
    line naming the setting); with one it gets past that check. The listen
    socket's directory does not exist, so a run that passes the secret check
    stops at bind() instead of serving."""

    def base_config(self):
        return {"listen": "unix:@TMP@/no-such-dir/todod.sock",
                "db_socket": "@TMP@/no-such-db.sock", "db_user": "todod",
                "db_password": "x", "jwt_secret_file": "@TMP@/secret",
                "sql_dir": "@TMP@/sql"}

    def check(self, rc, err):
        for bad in SANITIZER_BAD:
            self.assertNotIn(bad, err)

    def test_short_secret_file(self):
        rc, _, err = run_todod(["serve"], config=self.base_config(),
                               files={"secret": "s" * 31})
        self.check(rc, err)
        self.assertEqual(rc, 2, "exit status; stderr %r" % err)
        self.assertIn("jwt_secret_file", err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)

    def test_no_secret_configured(self):
        config = self.base_config()
        del config["jwt_secret_file"]
        rc, _, err = run_todod(["serve"], config=config)
        self.check(rc, err)
        self.assertEqual(rc, 2, "exit status; stderr %r" % err)
        self.assertIn("jwt", err.lower())

    def test_short_previous_secret(self):
        config = dict(self.base_config(), jwt_previous_secrets="old=@TMP@/old")
        rc, _, err = run_todod(["serve"], config=config,
                               files={"secret": "s" * 48, "old": "o" * 31})
        self.check(rc, err)
        self.assertEqual(rc, 2, "exit status; stderr %r" % err)
        self.assertIn("jwt_previous_secrets", err)

    def test_secret_file_of_32_bytes_passes(self):
        rc, _, err = run_todod(["serve"], config=self.base_config(),
                               files={"secret": "s" * 32})
        self.check(rc, err)
        self.assertNotEqual(rc, 2, "exit status; stderr %r" % err)
        self.assertNotIn("secret", err.lower())

    def test_secret_from_environment(self):
        config = self.base_config()
        del config["jwt_secret_file"]
        rc, _, err = run_todod(["serve"], config=config, env={"TODOD_JWT_SECRET": "e" * 40})
        self.check(rc, err)
        self.assertNotEqual(rc, 2, "exit status; stderr %r" % err)
        self.assertNotIn("secret", err.lower())
        self.assertNotIn("e" * 40, err)


class AuthRoutesTest(AuthMixin, StackTestCase):
    """Success and error shapes of the five /api/auth routes."""

    stack_config = {"log_level": "debug"}

    def test_sign_up(self):
        email, password = new_email("Shape"), new_password()
        resp = self.sign_up("  " + email.upper() + "  ", password, "  Ada Lovelace \t")
        self.assertEqual(resp.status, 201, resp.body)
        self.assertJsonType(resp)
        self.assertNoStore(resp)
        self.assertEqual(set(resp.json), {"token", "user"})
        self.assertUser(resp.json["user"], email.lower(), "Ada Lovelace")
        token = resp.json["token"]
        self.assertIsInstance(token, str)
        self.assertEqual(jwtforge.decode(token)[1]["sub"], resp.json["user"]["id"])
        self.assertSessionCookie(resp, token)
        self.assertNotIn(password.encode(), resp.body)
        self.assertEqual(self.todos(self.bearer(token)).status, 200)

    def test_scrypt_libraries_share_accounts(self):
        # At start todod times OpenSSL's and libsodium's scrypt (each must
        # give the Node vector's key) and takes the faster (scrypt_library
        # = auto). An account made under either signs in under the other.
        m = re.search(r"scrypt: openssl ([0-9.]+) ms, libsodium ([0-9.]+) ms a hash: "
                      r"using (openssl|libsodium)", self.stack.todod_log())
        self.assertIsNotNone(m, "todod logs both timings and its choice")
        ossl, sodium, used = float(m.group(1)), float(m.group(2)), m.group(3)
        self.assertGreater(ossl, 0)
        self.assertGreater(sodium, 0)
        self.assertEqual(used, "libsodium" if sodium < ossl else "openssl")
        other = "openssl" if used == "libsodium" else "libsodium"
        second = self.stack.start_second_todod(env={"TODOD_SCRYPT_LIBRARY": other})
        self.assertRegex(second.todod_log(), r"scrypt: using %s \([0-9.]+ ms a hash\)" % other)
        here = self.new_user()
        resp = second.request("POST", "/api/auth/sign-up/email",
                              body={"name": "Grace", "email": new_email("lib"),
                                    "password": here["password"] + "2"})
        self.assertEqual(resp.status, 201, resp.body)
        there = {"email": resp.json["user"]["email"], "password": here["password"] + "2"}
        self.remember(there["password"], resp.json.get("token"))
        for where, user in ((second, here), (self.stack, there)):
            resp = where.request("POST", "/api/auth/sign-in/email",
                                 body={"email": user["email"], "password": user["password"]})
            self.assertEqual(resp.status, 200, resp.body)
            resp = where.request("POST", "/api/auth/sign-in/email",
                                 body={"email": user["email"], "password": user["password"] + "x"})
            self.assertEqual(resp.status, 401, resp.body)

    def test_sign_up_validation(self):
        def body(**kw):
            return merged({"name": "Ada", "email": new_email("v"), "password": new_password()}, kw)

        long_email = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 58 + ".com"
        self.assertEqual(len(long_email), 255)
        cases = [
            ("missing password", body(password=DROP), "password"),
            ("password of 7", body(password="p" * 7), "password"),
            ("password of 129", body(password="p" * 129), "password"),
            ("password of 7 two-byte characters", body(password="\u00e9" * 7), "password"),
            ("password of 129 two-byte characters", body(password="\u00e9" * 129), "password"),
            ("password not a string", body(password=12345678), "password"),
            ("password null", body(password=None), "password"),
            ("missing name", body(name=DROP), "name"),
            ("empty name", body(name=""), "name"),
            ("blank name", body(name="   \t "), "name"),
            ("name of 101", body(name="n" * 101), "name"),
            ("name of 101 two-byte characters", body(name="\u00e9" * 101), "name"),
            ("name not a string", body(name=5), "name"),
            ("missing email", body(email=DROP), "email"),
            ("empty email", body(email=""), "email"),
            ("email without @", body(email="plainaddress"), "email"),
            ("email without local part", body(email="@example.com"), "email"),
            ("email without domain", body(email="ada@"), "email"),
            ("email with two @", body(email="ada@@example.com"), "email"),
            ("email with a space", body(email="ada lovelace@example.com"), "email"),
            ("email of 255 bytes", body(email=long_email), "email"),
            ("email not a string", body(email=[new_email()]), "email"),
            ("unknown field role", body(role="admin"), "role"),
            ("unknown field emailVerified", body(emailVerified=True), "emailVerified"),
        ]
        for name, b, field in cases:
            with self.subTest(name):
                self.remember(b.get("password"))
                resp = self.request("POST", "/api/auth/sign-up/email", body=b)
                self.assertError(resp, 422, "VALIDATION_FAILED", name)
                self.assertEqual(resp.json.get("field"), field, name)
                self.assertNoStore(resp)
                self.assertNotIn("set-cookie", resp.headers, name)

    def test_sign_up_boundaries_accepted(self):
        email_254 = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 57 + ".com"
        self.assertEqual(len(email_254), 254)
        cases = [
            ("password of 8", {"password": "p" * 7 + uuid.uuid4().hex[:1]}),
            ("password of 128", {"password": uuid.uuid4().hex + "p" * 96}),
            ("password of 8 two-byte characters", {"password": "\u00e9" * 8}),
            ("password of 128 two-byte characters", {"password": "\u00e9" * 128}),
            ("name of 1", {"name": "A"}),
            ("name of 100", {"name": "n" * 100}),
            ("name of 100 two-byte characters", {"name": "\u00e9" * 100}),
            ("name of 100 after trimming", {"name": "  " + "n" * 100 + "  "}),
            ("email of 254 bytes", {"email": email_254}),
        ]
        for name, over in cases:
            with self.subTest(name):
                b = merged({"name": "Ada", "email": new_email("ok"), "password": new_password()},
                           over)
                self.remember(b["password"])
                resp = self.request("POST", "/api/auth/sign-up/email", body=b)
                self.assertEqual(resp.status, 201, "%s: %r" % (name, resp.body[:300]))
                self.remember(resp.json["token"])
                self.assertUser(resp.json["user"], b["email"].lower(), b["name"].strip())

    def test_sign_up_body_errors(self):
        good = '{"name":"Ada","email":"%s","password":"%s"}' % (new_email(), new_password())
        cases = [
            ("text/plain", {"Content-Type": "text/plain"}, good, 415, "UNSUPPORTED_MEDIA_TYPE"),
            ("form", {"Content-Type": "application/x-www-form-urlencoded"}, "name=Ada", 415,
             "UNSUPPORTED_MEDIA_TYPE"),
            ("no content type", {}, good, 415, "UNSUPPORTED_MEDIA_TYPE"),
            ("invalid JSON", JSON, "{bad", 400, "INVALID_JSON"),
            ("array", JSON, "[]", 400, "INVALID_JSON"),
            ("string", JSON, '"ada"', 400, "INVALID_JSON"),
            ("empty", JSON, "", 400, "INVALID_JSON"),
        ]
        for path in ("/api/auth/sign-up/email", "/api/auth/sign-in/email"):
            for name, headers, raw, status, code in cases:
                with self.subTest("%s %s" % (path, name)):
                    resp = self.request("POST", path, headers=headers, raw=raw)
                    self.assertError(resp, status, code, name)
                    self.assertNotIn("field", resp.json, name)
                    self.assertNoStore(resp)

    def test_sign_up_duplicate(self):
        u = self.new_user()
        resp = self.sign_up("  " + u["email"].upper() + " ", new_password(), "Other")
        self.assertError(resp, 422, "USER_ALREADY_EXISTS")
        self.assertNotIn("set-cookie", resp.headers)
        # The first account is untouched: its password still signs in.
        self.assertEqual(self.sign_in(u["email"], u["password"]).status, 200)

    def test_sign_in(self):
        u = self.new_user("Grace Hopper")
        variants = [
            ("as registered", u["email"], {}),
            ("upper case, blanks", "  " + u["email"].upper() + "  ", {}),
            ("rememberMe true", u["email"], {"rememberMe": True}),
            ("rememberMe false", u["email"], {"rememberMe": False}),
        ]
        for name, email, extra in variants:
            with self.subTest(name):
                resp = self.sign_in(email, u["password"], **extra)
                self.assertEqual(resp.status, 200, "%s: %r" % (name, resp.body))
                self.assertJsonType(resp)
                self.assertNoStore(resp)
                self.assertEqual(set(resp.json), {"redirect", "token", "user"})
                self.assertIs(resp.json["redirect"], False)
                self.assertUser(resp.json["user"], u["email"], "Grace Hopper")
                self.assertEqual(resp.json["user"], u["user"])
                self.assertSessionCookie(resp, resp.json["token"])
                self.assertNotIn(u["password"].encode(), resp.body)
                self.assertEqual(jwtforge.decode(resp.json["token"])[1]["sub"], u["user"]["id"])
                self.assertEqual(self.todos(self.bearer(resp.json["token"])).status, 200)

    def test_sign_in_validation(self):
        u = self.new_user()
        cases = [
            ("missing password", {"email": u["email"]}, "password"),
            ("missing email", {"password": u["password"]}, "email"),
            ("password not a string", {"email": u["email"], "password": 12345678}, "password"),
            ("email not a string", {"email": 1, "password": u["password"]}, "email"),
            ("unknown field", {"email": u["email"], "password": u["password"], "role": "x"},
             "role"),
        ]
        for name, b, field in cases:
            with self.subTest(name):
                resp = self.request("POST", "/api/auth/sign-in/email", body=b)
                self.assertError(resp, 422, "VALIDATION_FAILED", name)
                self.assertEqual(resp.json.get("field"), field, name)
                self.assertNotIn("set-cookie", resp.headers, name)

    def test_sign_in_same_answer_for_unknown_email(self):
        u = self.new_user()
        wrong = self.sign_in(u["email"], u["password"] + "x")
        unknown = self.sign_in(new_email("nobody"), u["password"])
        malformed = self.sign_in("not-an-email", u["password"])
        short_pw = self.sign_in(u["email"], "short")
        for name, resp in (("wrong password", wrong), ("unknown email", unknown),
                           ("malformed email", malformed), ("short password", short_pw)):
            with self.subTest(name):
                self.assertError(resp, 401, "INVALID_EMAIL_OR_PASSWORD", name)
                self.assertNoStore(resp)
                self.assertNotIn("set-cookie", resp.headers, name)
                self.assertNotIn("field", resp.json, name)
                self.assertEqual(resp.body, wrong.body, "%s: body differs" % name)
                self.assertEqual(resp.headers.get("content-type"),
                                 wrong.headers.get("content-type"))
                self.assertEqual(resp.headers.get("www-authenticate"),
                                 wrong.headers.get("www-authenticate"))

    def test_sign_in_timing(self):
        u = self.new_user()
        unknown_email = new_email("nobody")

        def timed(email, password):
            t0 = time.monotonic()
            resp = self.sign_in(email, password)
            took = time.monotonic() - t0
            self.assertEqual(resp.status, 401, resp.body)
            return took

        timed(unknown_email, u["password"])  # warm up both paths
        timed(u["email"], u["password"] + "x")
        unknown, wrong = [], []
        for _ in range(3):
            unknown.append(timed(unknown_email, u["password"]))
            wrong.append(timed(u["email"], u["password"] + "x"))
        t_unknown, t_wrong = sum(unknown) / 3, sum(wrong) / 3
        detail = "unknown email %r, wrong password %r" % (unknown, wrong)
        self.assertGreaterEqual(t_wrong, 0.05, "a wrong password answered too fast: " + detail)
        self.assertGreaterEqual(t_unknown, 0.05, "an unknown email answered too fast: " + detail)
        self.assertGreater(t_unknown, 0.3 * t_wrong, detail)

    def test_sign_out(self):
        u = self.new_user()
        cases = [
            ("bearer", self.bearer(u["token"])),
            ("cookie from our origin", self.cookie(u["token"], {"Origin": self.stack.base_url})),
            ("no credentials", {}),
        ]
        for name, headers in cases:
            with self.subTest(name):
                resp = self.request("POST", "/api/auth/sign-out", headers=headers)
                self.assertEqual(resp.status, 200, "%s: %r" % (name, resp.body))
                self.assertJsonType(resp)
                self.assertEqual(resp.json, {"success": True})
                self.assertNoStore(resp)
                self.assertClearsCookie(resp)
        # The signed-out token is revoked: refused from now on.
        resp = self.todos(self.bearer(u["token"]))
        self.assertError(resp, 401, "UNAUTHORIZED")
        self.assertIn('error="invalid_token"', resp.headers.get("www-authenticate", ""))

    def test_get_session(self):
        u = self.new_user("Session User")
        exp = jwtforge.decode(u["token"])[1]["exp"]
        expired = self.forge(self.hdr(), self.claims(u["user"]["id"], iat=int(time.time()) - 4000,
                                                     exp=int(time.time()) - 3600))
        nulls = [
            ("no credentials", {}),
            ("garbage bearer", self.bearer("garbage")),
            ("expired bearer", self.bearer(expired)),
            ("alg none bearer", self.bearer(jwtforge.forge(
                {"alg": "none"}, self.claims(u["user"]["id"]), None))),
            ("garbage cookie", self.cookie("garbage")),
            ("expired cookie", self.cookie(expired)),
        ]
        for name, headers in nulls:
            with self.subTest(name):
                resp = self.request("GET", "/api/auth/get-session", headers=headers)
                self.assertEqual(resp.status, 200, "%s: %r" % (name, resp.body))
                self.assertJsonType(resp)
                self.assertEqual(resp.body.strip(), b"null", name)
                self.assertNoStore(resp)
        for name, headers in (("bearer", self.bearer(u["token"])),
                              ("cookie only", self.cookie(u["token"]))):
            with self.subTest(name):
                resp = self.request("GET", "/api/auth/get-session", headers=headers)
                self.assertEqual(resp.status, 200, "%s: %r" % (name, resp.body))
                self.assertJsonType(resp)
                self.assertNoStore(resp)
                self.assertEqual(set(resp.json), {"session", "user"})
                self.assertEqual(set(resp.json["session"]), {"expiresAt"})
                self.assertRegex(resp.json["session"]["expiresAt"], TIME_RE)
                self.assertEqual(resp.json["session"]["expiresAt"], rfc3339(exp))
                self.assertEqual(resp.json["user"], u["user"])
                self.assertNotIn(u["password"].encode(), resp.body)

    def test_token_route(self):
        u = self.new_user()
        for name, headers in (("bearer", self.bearer(u["token"])),
                              ("cookie", self.cookie(u["token"]))):
            with self.subTest(name):
                resp = self.request("GET", "/api/auth/token", headers=headers)
                self.assertEqual(resp.status, 200, "%s: %r" % (name, resp.body))
                self.assertJsonType(resp)
                self.assertNoStore(resp)
                self.assertEqual(set(resp.json), {"token"})
                fresh = resp.json["token"]
                self.remember(fresh)
                self.assertTrue(jwtforge.verify_hs256(fresh, self.secret))
                self.assertEqual(jwtforge.decode(fresh)[1]["sub"], u["user"]["id"])
                self.assertEqual(self.todos(self.bearer(fresh)).status, 200)
        resp = self.request("GET", "/api/auth/token")
        self.assertUnauthorized(resp, presented=False)
        self.assertNoStore(resp)
        self.assertUnauthorized(self.request("GET", "/api/auth/token",
                                             headers=self.bearer("garbage")), presented=True)
        self.assertUnauthorized(self.request("GET", "/api/auth/token",
                                             headers=self.cookie("garbage")), presented=True)

    def test_concurrent_duplicate_sign_ups(self):
        base = new_email("race")
        variants = [base, base.upper(), " " + base, base + " ", "  " + base.upper() + "\t",
                    base.capitalize(), base.title(), " " + base.title() + " "]
        n = len(variants)
        passwords = [new_password() for _ in range(n)]
        barrier = threading.Barrier(n)
        results = [None] * n

        def one(i):
            try:
                barrier.wait(10)
                results[i] = self.stack.request(
                    "POST", "/api/auth/sign-up/email", timeout=60,
                    body={"name": "Racer %d" % i, "email": variants[i], "password": passwords[i]})
            except Exception as e:  # reported below
                results[i] = e

        self.remember(*passwords)
        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        statuses = []
        for i, r in enumerate(results):
            self.assertFalse(r is None or isinstance(r, Exception), "request %d: %r" % (i, r))
            statuses.append(r.status)
            if r.status == 201:
                self.remember(r.json["token"])
        self.assertEqual(statuses.count(201), 1, "statuses %r" % statuses)
        for i, r in enumerate(results):
            if r.status != 201:
                self.assertError(r, 422, "USER_ALREADY_EXISTS", "request %d" % i)
        winner = statuses.index(201)
        self.assertEqual(results[winner].json["user"]["email"], base.lower())
        self.assertEqual(self.sign_in(base, passwords[winner]).status, 200)
        for i in range(n):
            if i != winner:
                self.assertEqual(self.sign_in(base, passwords[i]).status, 401,
                                 "a losing racer's password signs in")


class SecureCookieTest(AuthMixin, StackTestCase):
    """cookie_secure (production): __Host- name and Secure; and a custom
    token lifetime, which the cookie's Max-Age follows."""

    stack_config = {"cookie_secure": "true", "jwt_ttl": "600", "log_level": "debug"}
    cookie_name = "__Host-todod_session"

    def test_sign_up_and_sign_in_cookie(self):
        email, password = new_email("secure"), new_password()
        resp = self.sign_up(email, password)
        self.assertEqual(resp.status, 201, resp.body)
        self.assertSessionCookie(resp, resp.json["token"], max_age=600, secure=True)
        _, claims = jwtforge.decode(resp.json["token"])
        self.assertEqual(claims["exp"] - claims["iat"], 600)
        resp = self.sign_in(email, password)
        self.assertEqual(resp.status, 200, resp.body)
        self.assertSessionCookie(resp, resp.json["token"], max_age=600, secure=True)

    def test_cookie_authenticates(self):
        u = self.new_user()
        self.assertEqual(self.todos(self.cookie(u["token"])).status, 200)
        resp = self.create_todo(self.cookie(u["token"], {"Origin": self.stack.base_url}))
        self.assertEqual(resp.status, 201, resp.body)
        # Only the __Host- cookie is the session cookie here.
        self.assertUnauthorized(self.todos(self.cookie(u["token"], name="todod_session")),
                                presented=False)

    def test_sign_out_clears_secure_cookie(self):
        resp = self.request("POST", "/api/auth/sign-out")
        self.assertEqual(resp.status, 200, resp.body)
        self.assertEqual(resp.json, {"success": True})
        self.assertClearsCookie(resp, secure=True)


class CookieCsrfTest(AuthMixin, StackTestCase):
    """Cookie authentication, bearer precedence, the Origin/Referer check on
    cookie-authenticated writes, and login CSRF."""

    stack_config = {"log_level": "debug"}

    def test_cookie_authenticates_reads(self):
        u = self.new_user()
        resp = self.todos(self.cookie(u["token"]))
        self.assertEqual(resp.status, 200, resp.body)
        # Among other cookies too.
        resp = self.todos({"Cookie": "theme=dark; %s=%s; lang=en" % (self.cookie_name, u["token"])})
        self.assertEqual(resp.status, 200, resp.body)

    def test_bearer_wins_over_cookie(self):
        a, b = self.new_user(), self.new_user()
        resp = self.create_todo(self.bearer(a["token"]), "owned by a")
        self.assertEqual(resp.status, 201, resp.body)
        cases = [
            ("valid bearer, garbage cookie", dict(self.bearer(a["token"]), **self.cookie("garbage")),
             200),
            ("garbage bearer, valid cookie", dict(self.bearer("garbage"), **self.cookie(b["token"])),
             401),
            ("expired bearer, valid cookie",
             dict(self.bearer(self.forge(self.hdr(), self.claims(
                 b["user"]["id"], iat=int(time.time()) - 4000, exp=int(time.time()) - 3600))),
                  **self.cookie(b["token"])), 401),
        ]
        for name, headers, status in cases:
            with self.subTest(name):
                resp = self.todos(headers)
                if status == 200:
                    self.assertEqual(resp.status, 200, "%s: %r" % (name, resp.body))
                else:
                    self.assertUnauthorized(resp, presented=True, msg=name)
        # Bearer of a, cookie of b: the request is a's.
        resp = self.todos(dict(self.bearer(a["token"]), **self.cookie(b["token"])))
        self.assertEqual(resp.status, 200, resp.body)
        self.assertEqual([t["title"] for t in resp.json["items"]], ["owned by a"])
        resp = self.todos(self.cookie(b["token"]))
        self.assertEqual(resp.json["items"], [])

    def test_cookie_writes_need_our_origin(self):
        u = self.new_user()
        own = self.stack.base_url
        port = own.rsplit(":", 1)[1]
        cases = [
            ("Origin ours", {"Origin": own}, 201),
            ("Origin foreign", {"Origin": FOREIGN}, 403),
            ("Origin ours as a prefix of another host", {"Origin": own + ".evil.example"}, 403),
            ("Origin ours with another scheme", {"Origin": "https://127.0.0.1:" + port}, 403),
            ("Origin localhost (another origin)", {"Origin": "http://localhost:" + port}, 403),
            ("Origin null", {"Origin": "null"}, 403),
            ("Referer ours", {"Referer": own + "/todos?x=1"}, 201),
            ("Referer ours, bare", {"Referer": own + "/"}, 201),
            ("Referer foreign", {"Referer": FOREIGN + "/page"}, 403),
            ("Referer ours as a prefix of another host",
             {"Referer": own + ".evil.example/page"}, 403),
            ("Referer foreign with ours in the path", {"Referer": FOREIGN + "/" + own}, 403),
            ("neither Origin nor Referer", {}, 403),
            ("Origin foreign, Referer ours", {"Origin": FOREIGN, "Referer": own + "/"}, 403),
            ("Origin ours, Referer foreign", {"Origin": own, "Referer": FOREIGN + "/"}, 201),
        ]
        for name, extra, status in cases:
            with self.subTest(name):
                resp = self.create_todo(self.cookie(u["token"], extra), "csrf " + name)
                if status == 201:
                    self.assertEqual(resp.status, 201, "%s: %r" % (name, resp.body))
                else:
                    self.assertError(resp, 403, "INVALID_ORIGIN", name)
        # None of the refused requests created anything.
        resp = self.todos(self.bearer(u["token"]))
        titles = {t["title"] for t in resp.json["items"]}
        self.assertEqual(titles, {"csrf " + name for name, _, s in cases if s == 201})

    def test_cookie_update_and_delete_need_our_origin(self):
        u = self.new_user()
        resp = self.create_todo(self.bearer(u["token"]), "target")
        self.assertEqual(resp.status, 201, resp.body)
        path = "/api/todos/%d" % resp.json["id"]
        own, foreign = {"Origin": self.stack.base_url}, {"Origin": FOREIGN}
        for method, body in (("PATCH", {"completed": True}), ("PUT", {"title": "replaced"}),
                             ("DELETE", None)):
            with self.subTest(method):
                resp = self.request(method, path, body=body, headers=self.cookie(u["token"], foreign))
                self.assertError(resp, 403, "INVALID_ORIGIN", method + " foreign")
                resp = self.request(method, path, body=body, headers=self.cookie(u["token"]))
                self.assertError(resp, 403, "INVALID_ORIGIN", method + " no origin")
                resp = self.request(method, path, body=body, headers=self.cookie(u["token"], own))
                self.assertEqual(resp.status, 204 if method == "DELETE" else 200,
                                 "%s ours: %r" % (method, resp.body))

    def test_bearer_writes_not_subject_to_csrf(self):
        u = self.new_user()
        cases = [
            ("bearer, foreign Origin", self.bearer(u["token"], {"Origin": FOREIGN})),
            ("bearer, foreign Referer", self.bearer(u["token"], {"Referer": FOREIGN + "/"})),
            ("bearer, no Origin", self.bearer(u["token"])),
            ("bearer and cookie, foreign Origin",
             dict(self.bearer(u["token"], {"Origin": FOREIGN}), **self.cookie(u["token"]))),
        ]
        for name, headers in cases:
            with self.subTest(name):
                resp = self.create_todo(headers)
                self.assertEqual(resp.status, 201, "%s: %r" % (name, resp.body))

    def test_login_csrf(self):
        u = self.new_user()
        own = self.stack.base_url
        cases = [
            ("foreign Origin", {"Origin": FOREIGN}, 403),
            ("foreign Referer", {"Referer": FOREIGN + "/login"}, 403),
            ("Sec-Fetch-Site cross-site", {"Sec-Fetch-Site": "cross-site"}, 403),
            ("Sec-Fetch-Site cross-site, our Origin",
             {"Sec-Fetch-Site": "cross-site", "Origin": own}, 403),
            ("our Origin", {"Origin": own}, None),
            ("our Referer", {"Referer": own + "/login"}, None),
            ("Sec-Fetch-Site same-origin", {"Sec-Fetch-Site": "same-origin", "Origin": own}, None),
            ("Sec-Fetch-Site none", {"Sec-Fetch-Site": "none"}, None),
            ("no such headers", {}, None),
        ]
        for name, headers, status in cases:
            with self.subTest("sign-in: " + name):
                resp = self.sign_in(u["email"], u["password"], headers=headers)
                if status == 403:
                    self.assertError(resp, 403, "INVALID_ORIGIN", name)
                    self.assertNotIn("set-cookie", resp.headers)
                else:
                    self.assertEqual(resp.status, 200, "%s: %r" % (name, resp.body))
            with self.subTest("sign-up: " + name):
                email = new_email("login-csrf")
                resp = self.sign_up(email, headers=headers)
                if status == 403:
                    self.assertError(resp, 403, "INVALID_ORIGIN", name)
                    self.assertNotIn("set-cookie", resp.headers)
                    # Nothing was created: the address is still free.
                    self.assertEqual(self.sign_up(email).status, 201, name)
                else:
                    self.assertEqual(resp.status, 201, "%s: %r" % (name, resp.body))


class TrustedOriginTest(AuthMixin, StackTestCase):

    stack_config = {"trusted_origins": "https://app.example.com", "log_level": "debug"}

    def test_trusted_origin_allowed_for_cookie_writes(self):
        u = self.new_user()
        cases = [
            ("trusted Origin", {"Origin": "https://app.example.com"}, 201),
            ("trusted Referer", {"Referer": "https://app.example.com/board"}, 201),
            ("our Origin", {"Origin": self.stack.base_url}, 201),
            ("foreign Origin", {"Origin": "https://evil.example.com"}, 403),
            ("trusted host, other scheme", {"Origin": "http://app.example.com"}, 403),
            ("trusted host, other port", {"Origin": "https://app.example.com:8443"}, 403),
            ("subdomain of the trusted host", {"Origin": "https://x.app.example.com"}, 403),
            ("no Origin", {}, 403),
        ]
        for name, extra, status in cases:
            with self.subTest(name):
                resp = self.create_todo(self.cookie(u["token"], extra))
                if status == 201:
                    self.assertEqual(resp.status, 201, "%s: %r" % (name, resp.body))
                else:
                    self.assertError(resp, 403, "INVALID_ORIGIN", name)


class SignInFloodTest(AuthMixin, StackTestCase):
    """Password hashing may occupy at most half the workers: with 4 workers,
    2 compute and none wait, so a burst of sign-ins is partly shed with 429
    while the todo routes keep answering at once."""

    stack_config = {"workers": 4, "scrypt_concurrency": 2}

    def test_sign_in_flood_does_not_starve_todo_routes(self):
        u = self.new_user()
        n_sign_in, n_todo = 12, 12
        sign_ins, todos = [None] * n_sign_in, [None] * n_todo

        def sign_in(i):
            try:
                sign_ins[i] = self.sign_in(u["email"], u["password"])
            except Exception as e:  # reported below
                sign_ins[i] = repr(e)

        def list_todos(i):
            time.sleep(0.05)  # after the sign-ins have taken their workers
            t0 = time.monotonic()
            try:
                resp = self.request("GET", "/api/todos", headers=self.bearer(u["token"]))
                todos[i] = (resp, time.monotonic() - t0)
            except Exception as e:
                todos[i] = (repr(e), None)

        threads = [threading.Thread(target=sign_in, args=(i,)) for i in range(n_sign_in)]
        threads += [threading.Thread(target=list_todos, args=(i,)) for i in range(n_todo)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)

        statuses = []
        for i, resp in enumerate(sign_ins):
            self.assertNotIsInstance(resp, str, "sign-in %d: %s" % (i, resp))
            statuses.append(resp.status)
            if resp.status == 429:
                self.assertError(resp, 429, "TOO_MANY_REQUESTS")
                self.assertEqual(resp.headers.get("retry-after"), "1")
            else:
                self.assertEqual(resp.status, 200, resp.body)
        self.assertIn(200, statuses, "some sign-ins must get through")
        self.assertIn(429, statuses, "a burst beyond the password budget is shed")
        for i, (resp, elapsed) in enumerate(todos):
            self.assertNotIsInstance(resp, str, "todo list %d: %s" % (i, resp))
            self.assertEqual(resp.status, 200, resp.body)
            # Loose bound (shared, noisy machines): a starved worker pool
            # would make these wait behind several 150 ms hashes.
            self.assertLess(elapsed, 2.0, "todo list %d took %.2fs" % (i, elapsed))


class ShedHeldTest(AuthMixin, StackTestCase):
    """A shed sign-in's 429 is held back shed_delay_ms (so a client that
    retries at once is slowed to the service's pace) without holding a
    worker: with 2 workers (one may hash, none wait), the todo routes answer
    while several refusals are held."""

    stack_config = {"workers": 2, "scrypt_concurrency": 1, "shed_delay_ms": 2500}

    def test_shed_answers_wait_without_a_worker(self):
        u = self.new_user()
        n_sign_in = 8
        sign_ins = [None] * n_sign_in
        lists = []

        def sign_in(i):
            t0 = time.monotonic()
            try:
                resp = self.sign_in(u["email"], u["password"])
                sign_ins[i] = (resp, time.monotonic() - t0, time.monotonic())
            except Exception as e:  # reported below
                sign_ins[i] = (repr(e), None, None)

        threads = [threading.Thread(target=sign_in, args=(i,)) for i in range(n_sign_in)]
        for t in threads:
            t.start()
        time.sleep(0.4)  # the refusals are held by now
        for _ in range(4):
            resp = self.request("GET", "/api/todos", headers=self.bearer(u["token"]))
            lists.append((resp.status, time.monotonic()))
        for t in threads:
            t.join(60)

        shed_at = []
        for i, (resp, elapsed, at) in enumerate(sign_ins):
            self.assertNotIsInstance(resp, str, "sign-in %d: %s" % (i, resp))
            if resp.status == 429:
                self.assertError(resp, 429, "TOO_MANY_REQUESTS")
                self.assertEqual(resp.headers.get("retry-after"), "1")
                self.assertGreaterEqual(elapsed, 2.4, "sign-in %d: held %.2fs" % (i, elapsed))
                shed_at.append(at)
            else:
                self.assertEqual(resp.status, 200, resp.body)
        self.assertGreaterEqual(len(shed_at), n_sign_in - 2, [r[0].status for r in sign_ins])
        self.assertEqual([s for s, _ in lists], [200] * 4)
        # Both workers were free: every list answered while the refusals
        # were still held.
        self.assertLess(lists[-1][1], min(shed_at))


class ShedHeldStopTest(AuthMixin, StackTestCase):
    """A held refusal is not lost when todod stops: it is sent then (held
    10 s, drain_timeout 1 s: well before the 10 s are up)."""

    stack_config = {"workers": 2, "scrypt_concurrency": 1, "shed_delay_ms": 10000,
                    "drain_timeout": 1}

    def test_held_answers_are_sent_on_stop(self):
        n = 6
        results = [None] * n

        def sign_in(i):
            t0 = time.monotonic()
            try:
                resp = self.sign_in("nobody-%d@example.com" % i, "wrong password")
                results[i] = (resp.status, (resp.json or {}).get("code"), time.monotonic() - t0)
            except Exception as e:  # reported below
                results[i] = (repr(e), None, None)

        threads = [threading.Thread(target=sign_in, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        self.stack.sigterm_todod()
        for t in threads:
            t.join(30)
        rc = self.stack.wait_todod(30)
        statuses = [r[0] for r in results]
        self.assertIn(429, statuses, results)
        for status, code, elapsed in results:
            self.assertIn(status, (401, 429), results)
            if status == 429:
                self.assertEqual(code, "TOO_MANY_REQUESTS")
                self.assertLess(elapsed, 8.0, results)
        self.assertEqual(rc, 0, "todod exit status after SIGTERM")


class AuthEdgeCasesTest(AuthMixin, StackTestCase):
    """Inputs found by review."""

    def test_email_is_lower_cased_beyond_ascii(self):
        password = new_password()
        first = self.sign_up(email="ÄDA.%s@Example.COM" % uuid.uuid4().hex[:8], password=password)
        self.assertEqual(first.status, 201, first.body)
        email = first.json["user"]["email"]
        self.assertEqual(email, email.lower())
        self.assertTrue(email.startswith("äda."), email)
        again = self.sign_up(email=email.upper(), password=new_password())
        self.assertError(again, 422, "USER_ALREADY_EXISTS")
        self.assertEqual(self.sign_in(email.upper(), password).status, 200)

    def test_overlong_password_never_matches(self):
        password = "\U0001F600" * 128  # 128 characters, 512 bytes: the longest allowed
        u = self.sign_up(password=password)
        self.assertEqual(u.status, 201, u.body)
        email = u.json["user"]["email"]
        self.assertEqual(self.sign_in(email, password).status, 200)
        for extra in ("x", "\U0001F600", "a" * 1000):
            with self.subTest(len(extra)):
                self.assertError(self.sign_in(email, password + extra), 401,
                                 "INVALID_EMAIL_OR_PASSWORD")


if __name__ == "__main__":
    unittest.main()
