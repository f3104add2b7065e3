"""Accounts and token revocation (issue 14), end to end through nginx:
change-password, update-user, delete-user and revoke-sessions (success and
error shapes, CSRF, Cache-Control), sign-out ending only the presented
token, what a revoked token gets from /api/auth/token and get-session,
common passwords refused, the jti claim (a UUIDv7, unique and
time-ordered), concurrent password changes (exactly one wins), and
revocation across two todod processes on one database (refused by the
other process within revocation_poll_ms, ordered finer than a second).

Every expectation is the contract's (/work/shared/API.md) and issue 14's.
The cross-process delays are printed at the end of their class.

TODOD_ACCOUNT_ROUNDS (default 2) is how many times the concurrent
change-password race runs."""

import os
import re
import sys
import threading
import time
import uuid

import jwtforge
import test_auth as auth
from harness import race, StackTestCase

JOHN = "/usr/share/john/password.lst"
# In john-data's list (checked by the test), 8 characters or more.
COMMON = ["password1", "Password1", "PASSWORD1", "iloveyou", "trustno1", "TrUsTnO1"]
POLL_MS = 500  # revocation_poll_ms of the stacks below (also the default)
ROUNDS = int(os.environ.get("TODOD_ACCOUNT_ROUNDS") or 2)
if ROUNDS < 1:
    raise ValueError("TODOD_ACCOUNT_ROUNDS must be at least 1")
TIMEOUT = 30  # seconds for any one request
UUID7_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
ROUTES = ("change-password", "update-user", "delete-user", "revoke-sessions")


def jti_ms(jti):
    """The 48-bit Unix milliseconds at the front of a UUIDv7."""
    return int(jti.replace("-", "")[:12], 16)


class AccountMixin(auth.AuthMixin):
    """Requests and assertions shared by the classes below; `via` is the
    Stack or a SecondTodod (anything with request())."""

    def via(self, proc):
        return proc or self.stack

    def post(self, route, body=None, headers=None, proc=None):
        return self.via(proc).request("POST", "/api/auth/" + route, body=body, headers=headers,
                                      timeout=TIMEOUT)

    def own(self, token):
        """Cookie credentials as the service's own page sends them."""
        return self.cookie(token, {"Origin": self.stack.base_url})

    def session(self, headers, proc=None):
        return self.via(proc).request("GET", "/api/auth/get-session", headers=headers)

    def fresh_token(self, token, proc=None):
        resp = self.via(proc).request("GET", "/api/auth/token", headers=self.bearer(token))
        self.assertEqual(resp.status, 200, resp.body)
        self.remember(resp.json["token"])
        return resp.json["token"]

    def sql(self, query):
        return self.stack.admin_sql(query, "todod").strip()

    def count(self, table, where):
        return int(self.sql("SELECT COUNT(*) FROM %s WHERE %s" % (table, where)))

    def assertAccepted(self, token, proc=None, msg=None):
        resp = self.via(proc).request("GET", "/api/todos", headers=self.bearer(token))
        self.assertEqual(resp.status, 200, "%s: %d %r" % (msg or "token refused", resp.status,
                                                          resp.body[:200]))
        return resp

    def assertRevoked(self, token, proc=None, msg=None):
        """Refused everywhere: 401 invalid_token on a todo route and on
        /api/auth/token (no fresh token), and get-session answers null."""
        where = msg or "revoked token"
        p = self.via(proc)
        self.assertUnauthorized(p.request("GET", "/api/todos", headers=self.bearer(token)),
                                msg=where + ": GET /api/todos")
        resp = p.request("GET", "/api/auth/token", headers=self.bearer(token))
        self.assertUnauthorized(resp, msg=where + ": GET /api/auth/token")
        self.assertNotIn("token", resp.json, where)
        resp = self.session(self.bearer(token), p)
        self.assertEqual((resp.status, resp.body.strip()), (200, b"null"),
                         where + ": get-session")

    def assertValidation(self, resp, field, msg=None):
        where = msg or "%d %r" % (resp.status, resp.body[:300])
        self.assertError(resp, 422, "VALIDATION_FAILED", where)
        self.assertEqual(resp.json.get("field"), field, where)


class AccountRoutesTest(AccountMixin, StackTestCase):
    """The four account routes, sign-out and common passwords on one stack."""

    stack_config = {"log_level": "debug", "scrypt_concurrency": "4",
                    "revocation_poll_ms": str(POLL_MS)}

    def change(self, token_headers, current, new, **extra):
        self.remember(current, new)
        body = dict({"currentPassword": current, "newPassword": new}, **extra)
        resp = self.post("change-password", body, token_headers)
        if resp.status == 200 and isinstance(resp.json, dict):
            self.remember(resp.json.get("token"))
        return resp

    # change-password
    def test_change_password_revokes_every_earlier_token(self):
        # Whatever revokeOtherSessions says; by bearer and by cookie.
        cases = [("revokeOtherSessions false", {"revokeOtherSessions": False}, "bearer"),
                 ("revokeOtherSessions true", {"revokeOtherSessions": True}, "bearer"),
                 ("revokeOtherSessions absent, by cookie", {}, "cookie")]
        for name, extra, how in cases:
            with self.subTest(name):
                u = self.new_user("Changer")
                other = self.sign_in(u["email"], u["password"]).json["token"]
                derived = self.fresh_token(u["token"])
                new = auth.new_password()
                creds = self.bearer(u["token"]) if how == "bearer" else self.own(u["token"])
                resp = self.change(creds, u["password"], new, **extra)
                self.assertEqual(resp.status, 200, "%s: %r" % (name, resp.body))
                self.assertJsonType(resp)
                self.assertNoStore(resp)
                self.assertEqual(set(resp.json), {"token", "user"}, name)
                self.assertUser(resp.json["user"], u["email"], "Changer")
                token = resp.json["token"]
                self.assertEqual(jwtforge.decode(token)[1]["sub"], u["user"]["id"])
                self.assertSessionCookie(resp, token)
                self.assertNotIn(new.encode(), resp.body)
                # The new token works at once; every earlier one is refused.
                self.assertAccepted(token, msg=name + ": the new token")
                for label, old in (("the token used", u["token"]), ("another sign-in's", other),
                                   ("one from /api/auth/token", derived)):
                    self.assertRevoked(old, msg="%s: %s" % (name, label))
                self.assertError(self.sign_in(u["email"], u["password"]), 401,
                                 "INVALID_EMAIL_OR_PASSWORD", name + ": old password")
                resp = self.sign_in(u["email"], new)
                self.assertEqual(resp.status, 200, name + ": new password")
                self.assertAccepted(resp.json["token"], msg=name + ": signed in with the new one")

    def test_change_password_errors(self):
        u = self.new_user()
        pw, tok = u["password"], u["token"]
        good = auth.new_password()
        cases = [
            ("missing currentPassword", {"newPassword": good}, "currentPassword"),
            ("missing newPassword", {"currentPassword": pw}, "newPassword"),
            ("currentPassword not a string", {"currentPassword": 5, "newPassword": good},
             "currentPassword"),
            ("newPassword not a string", {"currentPassword": pw, "newPassword": 12345678},
             "newPassword"),
            ("newPassword null", {"currentPassword": pw, "newPassword": None}, "newPassword"),
            ("newPassword of 7", {"currentPassword": pw, "newPassword": "p" * 7}, "newPassword"),
            ("newPassword of 129", {"currentPassword": pw, "newPassword": "p" * 129},
             "newPassword"),
            ("revokeOtherSessions not a boolean",
             {"currentPassword": pw, "newPassword": good, "revokeOtherSessions": "yes"},
             "revokeOtherSessions"),
            ("unknown key", {"currentPassword": pw, "newPassword": good, "email": "x@y.z"},
             "email"),
        ] + [("common password %s" % c, {"currentPassword": pw, "newPassword": c}, "newPassword")
             for c in COMMON]
        self.remember(good)
        for name, body, field in cases:
            with self.subTest(name):
                resp = self.post("change-password", body, self.bearer(tok))
                self.assertValidation(resp, field, name)
                self.assertNoStore(resp)
                self.assertNotIn("set-cookie", resp.headers, name)
                if name.startswith("common"):
                    self.assertIn("common", resp.json["message"].lower(), name)
        with self.subTest("wrong current password"):
            resp = self.change(self.bearer(tok), pw + "x", good)
            self.assertError(resp, 401, "INVALID_EMAIL_OR_PASSWORD")
            self.assertNoStore(resp)
            self.assertNotIn("set-cookie", resp.headers)
        for name, raw in (("invalid JSON", "{bad"), ("array", "[]"), ("empty", "")):
            with self.subTest(name):
                resp = self.request("POST", "/api/auth/change-password", raw=raw,
                                    headers=self.bearer(tok, auth.JSON))
                self.assertError(resp, 400, "INVALID_JSON", name)
        # Nothing above changed the password or ended the token.
        self.assertAccepted(tok, msg="after the refused changes")
        self.assertEqual(self.sign_in(u["email"], pw).status, 200)
        self.assertEqual(self.sign_in(u["email"], good).status, 401)

    # update-user
    def test_update_user(self):
        u = self.new_user("Ada Lovelace")
        time.sleep(0.01)  # updatedAt has milliseconds
        resp = self.post("update-user", {"name": "  Grace Hopper \t"}, self.bearer(u["token"]))
        self.assertEqual(resp.status, 200, resp.body)
        self.assertJsonType(resp)
        self.assertNoStore(resp)
        self.assertEqual(resp.json, {"status": True})
        resp = self.session(self.bearer(u["token"]))
        self.assertEqual(resp.status, 200, resp.body)
        user = resp.json["user"]
        self.assertUser(user, u["email"], "Grace Hopper")
        self.assertEqual((user["id"], user["createdAt"]), (u["user"]["id"], u["user"]["createdAt"]))
        self.assertGreater(auth.parse_time(user["updatedAt"]),
                           auth.parse_time(u["user"]["updatedAt"]), "updatedAt moved on")
        # By cookie from our page; the token keeps working (no revocation).
        resp = self.post("update-user", {"name": "n" * 100}, self.own(u["token"]))
        self.assertEqual((resp.status, resp.json), (200, {"status": True}), resp.body)
        self.assertAccepted(u["token"], msg="after update-user")
        resp = self.sign_in(u["email"], u["password"])
        self.assertEqual(resp.json["user"]["name"], "n" * 100)

    def test_update_user_validation(self):
        u = self.new_user("Unchanged")
        cases = [
            ("missing name", {}, "name"),
            ("empty name", {"name": ""}, "name"),
            ("blank name", {"name": "  \t "}, "name"),
            ("name of 101", {"name": "n" * 101}, "name"),
            ("name of 101 two-byte characters", {"name": "\u00e9" * 101}, "name"),
            ("name not a string", {"name": 5}, "name"),
            ("name null", {"name": None}, "name"),
            ("unknown key email", {"name": "Ok", "email": "other@example.com"}, "email"),
        ]
        for name, body, field in cases:
            with self.subTest(name):
                resp = self.post("update-user", body, self.bearer(u["token"]))
                self.assertValidation(resp, field, name)
                self.assertNoStore(resp)
        resp = self.session(self.bearer(u["token"]))
        self.assertEqual(resp.json["user"], u["user"], "nothing was changed")

    # delete-user
    def test_delete_user(self):
        u = self.new_user()
        uid = int(u["user"]["id"])
        other = self.sign_in(u["email"], u["password"]).json["token"]
        for extra in ({}, {"Idempotency-Key": "acct-" + uuid.uuid4().hex}):
            resp = self.request("POST", "/api/todos", body={"title": "mine"},
                                headers=self.bearer(u["token"], extra))
            self.assertEqual(resp.status, 201, resp.body)

        def rows():
            return (self.count("users", "id = %d" % uid), self.count("todos", "user_id = %d" % uid),
                    self.count("idempotency_keys", "user_id = %d" % uid))

        self.assertEqual(rows(), (1, 2, 1))
        cases = [("missing password", {}, 422, "VALIDATION_FAILED", "password"),
                 ("password not a string", {"password": 12345678}, 422, "VALIDATION_FAILED",
                  "password"),
                 ("unknown key", {"password": u["password"], "force": True}, 422,
                  "VALIDATION_FAILED", "force"),
                 ("wrong password", {"password": u["password"] + "x"}, 401,
                  "INVALID_EMAIL_OR_PASSWORD", None)]
        for name, body, status, code, field in cases:
            with self.subTest(name):
                resp = self.post("delete-user", body, self.bearer(u["token"]))
                self.assertError(resp, status, code, name)
                self.assertNoStore(resp)
                if field:
                    self.assertEqual(resp.json.get("field"), field, name)
                self.assertEqual(rows(), (1, 2, 1), name + ": nothing deleted")
        self.assertAccepted(u["token"], msg="after the refused deletions")

        resp = self.post("delete-user", {"password": u["password"]}, self.own(u["token"]))
        self.assertEqual(resp.status, 200, resp.body)
        self.assertJsonType(resp)
        self.assertNoStore(resp)
        self.assertEqual(resp.json, {"success": True, "message": "User deleted"})
        self.assertClearsCookie(resp)
        self.assertEqual(rows(), (0, 0, 0), "users, todos, idempotency_keys rows left")
        for label, tok in (("the token used", u["token"]), ("another sign-in's", other)):
            self.assertRevoked(tok, msg=label)
            self.assertUnauthorized(self.create_todo(self.bearer(tok)), msg=label + ": create")
        self.assertError(self.sign_in(u["email"], u["password"]), 401,
                         "INVALID_EMAIL_OR_PASSWORD")
        # The email is free again, and the new account starts empty.
        again = self.sign_up(u["email"], auth.new_password(), "Second Life")
        self.assertEqual(again.status, 201, again.body)
        self.assertNotEqual(again.json["user"]["id"], u["user"]["id"])
        resp = self.todos(self.bearer(again.json["token"]))
        self.assertEqual((resp.status, resp.json["items"], resp.json["total"]), (200, [], 0))
        self.assertRevoked(u["token"], msg="the old account's token after re-sign-up")

    # revoke-sessions
    def test_revoke_sessions(self):
        u = self.new_user()
        tok = u["token"]
        cases = [("bearer, no body", lambda t: self.bearer(t), None),
                 ("bearer, {}", lambda t: self.bearer(t), {}),
                 ("cookie from our page, {}", lambda t: self.own(t), {})]
        for name, creds, body in cases:
            with self.subTest(name):
                other = self.sign_in(u["email"], u["password"]).json["token"]
                derived = self.fresh_token(tok)
                resp = self.post("revoke-sessions", body, creds(tok))
                self.assertEqual(resp.status, 200, "%s: %r" % (name, resp.body))
                self.assertJsonType(resp)
                self.assertNoStore(resp)
                self.assertEqual(resp.json, {"status": True})
                for label, old in (("the token used", tok), ("another sign-in's", other),
                                   ("one from /api/auth/token", derived)):
                    self.assertRevoked(old, msg="%s: %s" % (name, label))
                # A sign-in right after: its token is accepted at once.
                resp = self.sign_in(u["email"], u["password"])
                self.assertEqual(resp.status, 200, resp.body)
                tok = resp.json["token"]
                self.assertAccepted(tok, msg=name + ": the next sign-in's token")

    # sign-out
    def test_sign_out_ends_only_the_presented_token(self):
        u = self.new_user()
        second = self.sign_in(u["email"], u["password"]).json["token"]
        third = self.sign_in(u["email"], u["password"]).json["token"]
        for name, tok, creds, alive in (("bearer", u["token"], self.bearer, [second, third]),
                                        ("cookie", second, self.own, [third])):
            with self.subTest(name):
                resp = self.post("sign-out", None, creds(tok))
                self.assertEqual((resp.status, resp.json), (200, {"success": True}), resp.body)
                self.assertNoStore(resp)
                self.assertClearsCookie(resp)
                self.assertRevoked(tok, msg=name + ": the signed-out token")
                for t in alive:
                    self.assertAccepted(t, msg=name + ": another token of the user")

    # CSRF, authentication, Cache-Control on all four
    def test_routes_need_authentication_and_our_origin(self):
        u = self.new_user("Victim")
        bodies = {"change-password": {"currentPassword": u["password"],
                                      "newPassword": auth.new_password()},
                  "update-user": {"name": "Mallory"},
                  "delete-user": {"password": u["password"]},
                  "revoke-sessions": {}}
        self.remember(bodies["change-password"]["newPassword"])
        for route in ROUTES:
            cases = [("no credentials", {}, 401, "UNAUTHORIZED"),
                     ("garbage bearer", self.bearer("garbage"), 401, "UNAUTHORIZED"),
                     ("cookie, foreign Origin", self.cookie(u["token"], {"Origin": auth.FOREIGN}),
                      403, "INVALID_ORIGIN"),
                     ("cookie, foreign Referer",
                      self.cookie(u["token"], {"Referer": auth.FOREIGN + "/x"}), 403,
                      "INVALID_ORIGIN"),
                     ("cookie, no Origin or Referer", self.cookie(u["token"]), 403,
                      "INVALID_ORIGIN")]
            for name, headers, status, code in cases:
                with self.subTest("%s: %s" % (route, name)):
                    resp = self.post(route, bodies[route], headers)
                    self.assertError(resp, status, code, "%s: %s" % (route, name))
                    self.assertNoStore(resp)
                    self.assertNotIn("set-cookie", resp.headers)
                    if status == 401:
                        self.assertUnauthorized(resp, presented=bool(headers))
        # None of them did anything.
        self.assertAccepted(u["token"], msg="after the refused calls")
        self.assertEqual(self.session(self.bearer(u["token"])).json["user"], u["user"])
        self.assertEqual(self.sign_in(u["email"], u["password"]).status, 200)

    # Common passwords
    def test_common_passwords_refused_at_sign_up(self):
        with open(JOHN, encoding="latin-1") as f:
            listed = {line.rstrip("\n").lower() for line in f if not line.startswith("#!comment:")}
        for c in COMMON:
            self.assertIn(c.lower(), listed, "%s is not in %s" % (c, JOHN))
        email = auth.new_email("common")
        for c in COMMON:
            with self.subTest(c):
                resp = self.sign_up(email, c)
                self.assertValidation(resp, "password", c)
                self.assertIn("common", resp.json["message"].lower(), c)
                self.assertNotIn("set-cookie", resp.headers)
        # Nothing was created, and a long random password is fine.
        resp = self.sign_up(email, "Zq7!" + uuid.uuid4().hex + uuid.uuid4().hex)
        self.assertEqual(resp.status, 201, resp.body)

    # jti
    def test_tokens_carry_a_uuid7_jti(self):
        u = self.new_user()
        tokens = [u["token"], self.sign_in(u["email"], u["password"]).json["token"]]
        for _ in range(5):
            time.sleep(0.005)
            tokens.append(self.fresh_token(tokens[-1]))
        claims = [jwtforge.decode(t)[1] for t in tokens]
        jtis = [c.get("jti") for c in claims]
        for c, jti in zip(claims, jtis):
            self.assertIsInstance(jti, str, c)
            self.assertRegex(jti, UUID7_RE)
            self.assertLess(abs(jti_ms(jti) / 1000.0 - c["iat"]), 2, "jti time vs iat: %r" % c)
            self.assertLess(abs(jti_ms(jti) / 1000.0 - time.time()), 120)
        self.assertEqual(len(set(jtis)), len(jtis), "jti repeated: %r" % jtis)
        stamps = [jti_ms(j) for j in jtis]
        self.assertEqual(stamps, sorted(set(stamps)), "jti times not increasing: %r" % jtis)

    # Concurrent change-password
    def test_concurrent_change_password_one_winner(self):
        n = 8
        for rnd in range(ROUNDS):
            with self.subTest(round=rnd):
                u = self.new_user("Racer")
                news = ["race-%d-%s" % (i, uuid.uuid4().hex) for i in range(n)]
                self.remember(*news)

                def call(i):
                    def go():
                        deadline = time.monotonic() + 30
                        while True:
                            resp = self.change(self.bearer(u["token"]), u["password"], news[i])
                            if resp.status != 429 or time.monotonic() > deadline:
                                return resp
                            time.sleep(float(resp.headers.get("retry-after") or 1))
                    return go

                results = race([call(i) for i in range(n)])
                codes = [getattr(r, "status", repr(r)) for r in results]
                detail = "answers %r" % [(getattr(r, "status", r), (getattr(r, "json", None) or {})
                                          .get("code")) for r in results]
                self.assertEqual(codes.count(200), 1, detail)
                winner = codes.index(200)
                for i, r in enumerate(results):
                    if i != winner:
                        # The current password no longer matched, or the
                        # token was already revoked by the winner.
                        self.assertEqual(r.status, 401, detail)
                        self.assertIn(r.json.get("code"),
                                      ("INVALID_EMAIL_OR_PASSWORD", "UNAUTHORIZED"), detail)
                self.assertAccepted(results[winner].json["token"], msg="the winner's token")
                self.assertRevoked(u["token"], msg="the token of before the race")
                signs = [self.sign_in(u["email"], p).status for p in news]
                self.assertEqual(signs.count(200), 1, "sign-ins %r; %s" % (signs, detail))
                self.assertEqual(signs.index(200), winner, "the password that works is not "
                                 "the one whose change answered 200; " + detail)
                self.assertEqual(self.sign_in(u["email"], u["password"]).status, 401,
                                 "the old password still works")


class CrossProcessRevocationTest(AccountMixin, StackTestCase):
    """Two todod processes (A: the stack's, B: start_second_todod) on one
    database: a token revoked on A is refused by A on the very next request
    and by B within revocation_poll_ms (+ 500 ms of slack)."""

    stack_config = {"log_level": "debug", "revocation_poll_ms": str(POLL_MS)}
    delays = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.b = cls.stack.start_second_todod()
        except BaseException:
            stack, cls.stack = cls.stack, None
            sys.stderr.write("second todod failed to start:\n%s\n" % stack.diagnostics())
            stack.stop(check=False, keep=True)
            raise
        cls.delays = {}

    @classmethod
    def tearDownClass(cls):
        if cls.delays:
            sys.stdout.write("\n# cross-process revocation delay (revoked on A -> refused by B), "
                             "revocation_poll_ms=%d: %s\n" % (POLL_MS, ", ".join(
                                 "%s %d ms" % (k, v * 1000) for k, v in sorted(cls.delays.items()))))
            sys.stdout.flush()
        super().tearDownClass()

    def both_accept(self, token, msg):
        self.assertAccepted(token, msg=msg + " on A")
        self.assertAccepted(token, self.b, msg=msg + " on B")

    def wait_refused_on_b(self, token, since, label):
        """Poll B every 100 ms (up to 3 s) until it refuses token; return
        the delay from `since` (when A's revoking answer arrived)."""
        deadline = since + 3.0
        while True:
            resp = self.b.request("GET", "/api/todos", headers=self.bearer(token), timeout=5)
            now = time.monotonic()
            if resp.status == 401:
                break
            self.assertEqual(resp.status, 200, resp.body)
            self.assertLess(now, deadline, "%s: B still accepts the token after 3 s" % label)
            time.sleep(0.1)
        delay = now - since
        type(self).delays[label] = delay
        self.assertUnauthorized(resp, msg=label + " on B")
        self.assertLess(delay, 1.0, "%s: B took %.3f s (the contract: within one second)" % (label, delay))
        self.assertLess(delay, POLL_MS / 1000.0 + 0.5, "%s: B took %.3f s" % (label, delay))
        self.assertRevoked(token, self.b, msg=label + " on B")
        return delay

    def revoke_on_a(self, label, route, body, token):
        self.both_accept(token, label + ": before")
        resp = self.post(route, body, self.bearer(token))
        since = time.monotonic()
        self.assertEqual(resp.status, 200, "%s: %r" % (label, resp.body))
        # A: the very next request.
        self.assertUnauthorized(self.todos(self.bearer(token)), msg=label + " on A at once")
        self.wait_refused_on_b(token, since, label)
        self.assertRevoked(token, msg=label + " on A")
        return resp

    def test_sign_out(self):
        u = self.new_user()
        other = self.sign_in(u["email"], u["password"]).json["token"]
        self.revoke_on_a("sign-out", "sign-out", None, u["token"])
        self.both_accept(other, "sign-out: another token of the user")

    def test_revoke_sessions(self):
        u = self.new_user()
        self.revoke_on_a("revoke-sessions", "revoke-sessions", {}, u["token"])

    def test_change_password(self):
        u = self.new_user()
        new = auth.new_password()
        self.remember(new)
        resp = self.revoke_on_a("change-password", "change-password",
                                {"currentPassword": u["password"], "newPassword": new},
                                u["token"])
        self.remember(resp.json["token"])
        self.both_accept(resp.json["token"], "change-password: the new token")
        self.assertEqual(self.sign_in(u["email"], u["password"]).status, 401)
        resp = self.b.request("POST", "/api/auth/sign-in/email",
                              body={"email": u["email"], "password": new})
        self.assertEqual(resp.status, 200, "the new password on B")
        self.remember(resp.json["token"])

    def test_delete_user(self):
        # Without the revocation B would list an empty set for the token.
        u = self.new_user()
        self.revoke_on_a("delete-user", "delete-user", {"password": u["password"]}, u["token"])
        self.assertEqual(self.count("users", "id = %s" % int(u["user"]["id"])), 0)

    def test_ordering_finer_than_a_second(self):
        u = self.new_user()
        token = u["token"]
        for attempt in range(3):
            frac = time.time() % 1
            if frac > 0.2:  # start just after a second begins: all of it in one second
                time.sleep(1.02 - frac)
            before = self.fresh_token(token)
            resp = self.post("revoke-sessions", {}, self.bearer(before))
            since = time.monotonic()
            self.assertEqual(resp.status, 200, resp.body)
            after_a = self.sign_in(u["email"], u["password"]).json["token"]
            resp = self.b.request("POST", "/api/auth/sign-in/email",
                                  body={"email": u["email"], "password": u["password"]})
            self.assertEqual(resp.status, 200, resp.body)
            after_b = resp.json["token"]
            self.remember(after_b)
            iats = [jwtforge.decode(t)[1]["iat"] for t in (before, after_a, after_b)]
            if len(set(iats)) == 1:
                break
            token = after_a
        self.assertEqual(len(set(iats)), 1, "no attempt stayed in one second: iats %r" % iats)
        # A at once; B once it has the revocation.
        self.assertUnauthorized(self.todos(self.bearer(before)), msg="just before, on A")
        self.assertAccepted(after_a, msg="A's sign-in just after, on A")
        self.assertAccepted(after_b, msg="B's sign-in just after, on A")
        self.wait_refused_on_b(before, since, "revoke-sessions (same second)")
        self.assertAccepted(after_a, self.b, msg="A's sign-in just after, on B")
        self.assertAccepted(after_b, self.b, msg="B's sign-in just after, on B")

    def test_zz_no_secrets_in_second_log(self):
        log = self.b.todod_log()
        self.assertTrue(log, "todod-2.log is empty")
        for value in self.sensitive + [self.secret.decode("latin-1")]:
            self.assertNotIn(value, log, "todod-2.log contains a password, token or secret")


if __name__ == "__main__":
    import unittest
    unittest.main()
