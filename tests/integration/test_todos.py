"""Todos: the /api/todos routes end to end through nginx, checked against
the contract in API.md: CRUD shapes and headers, authentication, isolation
between users, validation, SQL metacharacters, list filters, sorting and
paging, ETags and conditional requests, Idempotency-Key (also racing),
concurrent creates, a deleted account, and the index behind the list."""

import itertools
import re
import threading
import urllib.parse

from harness import StackTestCase

JSON = {"Content-Type": "application/json"}
TODO_KEYS = {"id", "title", "description", "completed", "priority", "dueAt", "createdAt",
             "updatedAt"}
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
ETAG_RE = re.compile(r'^"[\x21\x23-\x7e\x80-\xff]*"$')  # strong: no W/ prefix
MAX_ID = "9223372036854775807"
BAD_IDS = ["0", "-1", "abc", "1.5", "9223372036854775808", "99999999999999999999", "+1",
           "1e3", "0x10"]
RANK = {"low": 0, "normal": 1, "high": 2}
_serial = itertools.count(1)


def qs(**params):
    return urllib.parse.urlencode(params, quote_via=urllib.parse.quote)


class TodoCase(StackTestCase):
    """Helpers shared by the todo test classes (no tests of its own)."""

    def sign_up(self, name="user"):
        n = next(_serial)
        resp = self.request("POST", "/api/auth/sign-up/email",
                            body={"name": "%s %d" % (name, n),
                                  "email": "%s-%d@example.com" % (name.lower(), n),
                                  "password": "correct horse battery %d" % n})
        self.assertEqual(resp.status, 201, resp.body)
        token = resp.json["token"]
        return {"token": token, "id": resp.json["user"]["id"],
                "auth": {"Authorization": "Bearer " + token}}

    def call(self, user, method, path, body=None, headers=None, raw=None):
        hdrs = dict(user["auth"]) if user else {}
        hdrs.update(headers or {})
        if raw is not None and not any(k.lower() == "content-type" for k in hdrs):
            hdrs["Content-Type"] = "application/json"
        return self.request(method, path, body=body, headers=hdrs, raw=raw)

    def create(self, user, headers=None, **fields):
        resp = self.call(user, "POST", "/api/todos", body=fields, headers=headers)
        self.assertEqual(resp.status, 201, resp.body)
        return resp.json

    def get(self, user, tid):
        return self.call(user, "GET", "/api/todos/%s" % tid)

    def listing(self, user, query=""):
        resp = self.call(user, "GET", "/api/todos" + ("?" + query if query else ""))
        self.assertEqual(resp.status, 200, "%s: %r" % (query, resp.body[:300]))
        self.assertJsonType(resp)
        self.assertEqual(set(resp.json), {"items", "total", "limit", "offset"})
        for item in resp.json["items"]:
            self.assertTodoShape(item)
        return resp.json

    def ids(self, user, query=""):
        return [t["id"] for t in self.listing(user, query)["items"]]

    def total(self, user, query=""):
        return self.listing(user, query)["total"]

    def assertTodoShape(self, todo):
        self.assertIsInstance(todo, dict)
        self.assertEqual(set(todo), TODO_KEYS, "keys of %r" % (todo,))
        self.assertIsInstance(todo["id"], int)
        self.assertNotIsInstance(todo["id"], bool)
        self.assertGreater(todo["id"], 0)
        self.assertIsInstance(todo["title"], str)
        self.assertIsInstance(todo["description"], str)
        self.assertIsInstance(todo["completed"], bool)
        self.assertIn(todo["priority"], RANK)
        if todo["dueAt"] is not None:
            self.assertRegex(todo["dueAt"], TIME_RE)
        self.assertRegex(todo["createdAt"], TIME_RE)
        self.assertRegex(todo["updatedAt"], TIME_RE)

    def assertTodoResponse(self, resp, status=200):
        self.assertEqual(resp.status, status, resp.body[:300])
        self.assertJsonType(resp)
        self.assertTodoShape(resp.json)
        etag = resp.headers.get("etag")
        self.assertTrue(etag, "ETag missing")
        self.assertRegex(etag, ETAG_RE, "ETag must be a strong validator")
        return resp.json

    def assertValidation(self, resp, field, msg=None):
        where = msg or "%d %r" % (resp.status, resp.body[:300])
        self.assertError(resp, 422, "VALIDATION_FAILED", where)
        self.assertEqual(resp.json.get("field"), field, where)


class TodosCrudTest(TodoCase):
    """Each route's success and error paths, ids, and a deleted account."""

    def test_create_defaults_and_shape(self):
        u = self.sign_up()
        resp = self.call(u, "POST", "/api/todos", body={"title": "Buy milk"})
        todo = self.assertTodoResponse(resp, 201)
        self.assertEqual(resp.headers.get("location"), "/api/todos/%d" % todo["id"])
        self.assertEqual(todo["title"], "Buy milk")
        self.assertEqual(todo["description"], "")
        self.assertIs(todo["completed"], False)
        self.assertEqual(todo["priority"], "normal")
        self.assertIsNone(todo["dueAt"])
        got = self.get(u, todo["id"])
        self.assertEqual(self.assertTodoResponse(got), todo)
        self.assertEqual(got.headers.get("etag"), resp.headers.get("etag"))

    def test_create_all_fields(self):
        u = self.sign_up()
        body = {"title": "Taxes", "description": "forms\nand receipts", "completed": True,
                "priority": "high", "dueAt": "2026-11-25T02:00:00.000Z"}
        resp = self.call(u, "POST", "/api/todos", body=body)
        todo = self.assertTodoResponse(resp, 201)
        self.assertEqual({k: todo[k] for k in body}, body)
        self.assertEqual(self.get(u, todo["id"]).json, todo)
        for p in ("low", "normal", "high"):
            self.assertEqual(self.create(u, title="p", priority=p)["priority"], p)

    def test_get(self):
        u = self.sign_up()
        todo = self.create(u, title="Read", priority="low")
        resp = self.get(u, todo["id"])
        self.assertEqual(self.assertTodoResponse(resp), todo)
        self.assertError(self.get(u, MAX_ID), 404, "NOT_FOUND")

    def test_put_replaces_everything(self):
        u = self.sign_up()
        todo = self.create(u, title="Old", description="d", completed=True, priority="high",
                           dueAt="2026-12-01T00:00:00.000Z")
        path = "/api/todos/%d" % todo["id"]
        resp = self.call(u, "PUT", path, body={"title": "  New  "})
        new = self.assertTodoResponse(resp)
        self.assertEqual(new["id"], todo["id"])
        self.assertEqual(new["createdAt"], todo["createdAt"])
        self.assertGreaterEqual(new["updatedAt"], todo["updatedAt"])
        self.assertEqual((new["title"], new["description"], new["completed"], new["priority"],
                          new["dueAt"]), ("New", "", False, "normal", None))
        self.assertEqual(self.get(u, todo["id"]).json, new)
        full = {"title": "Full", "description": "all", "completed": True, "priority": "low",
                "dueAt": "2027-01-02T03:04:05.678Z"}
        new = self.assertTodoResponse(self.call(u, "PUT", path, body=full))
        self.assertEqual({k: new[k] for k in full}, full)
        # title is required; nothing changes.
        for body in ({}, {"description": "x"}, {"completed": False, "priority": "low"}):
            with self.subTest(body=body):
                self.assertValidation(self.call(u, "PUT", path, body=body), "title")
        self.assertEqual(self.get(u, todo["id"]).json, new)
        self.assertError(self.call(u, "PUT", "/api/todos/" + MAX_ID, body={"title": "x"}),
                         404, "NOT_FOUND")

    def test_patch_subset(self):
        u = self.sign_up()
        todo = self.create(u, title="Walk", description="the dog", priority="low",
                           dueAt="2026-12-01T00:00:00.000Z")
        path = "/api/todos/%d" % todo["id"]
        cur = todo
        for change in ({"completed": True}, {"priority": "high"}, {"dueAt": None},
                       {"description": ""}, {"title": " Run "},
                       {"dueAt": "2026-06-01T12:00:00.000Z", "completed": False}):
            with self.subTest(change=change):
                resp = self.call(u, "PATCH", path, body=change)
                new = self.assertTodoResponse(resp)
                want = dict(cur, **change)
                if "title" in change:
                    want["title"] = change["title"].strip()
                for k in ("title", "description", "completed", "priority", "dueAt", "id",
                          "createdAt"):
                    self.assertEqual(new[k], want[k], k)
                self.assertEqual(self.get(u, todo["id"]).json, new)
                cur = new
        # {} changes nothing and answers the todo.
        resp = self.call(u, "PATCH", path, body={})
        new = self.assertTodoResponse(resp)
        for k in ("id", "title", "description", "completed", "priority", "dueAt", "createdAt"):
            self.assertEqual(new[k], cur[k], k)
        self.assertValidation(self.call(u, "PATCH", path, body={"title": "   "}), "title")
        self.assertError(self.call(u, "PATCH", "/api/todos/" + MAX_ID, body={}), 404,
                         "NOT_FOUND")

    def test_delete(self):
        u = self.sign_up()
        todo = self.create(u, title="Gone soon")
        other = self.create(u, title="Stays")
        path = "/api/todos/%d" % todo["id"]
        resp = self.call(u, "DELETE", path)
        self.assertEqual(resp.status, 204, resp.body)
        self.assertEqual(resp.body, b"")
        self.assertError(self.get(u, todo["id"]), 404, "NOT_FOUND")
        self.assertError(self.call(u, "DELETE", path), 404, "NOT_FOUND")
        self.assertError(self.call(u, "PUT", path, body={"title": "x"}), 404, "NOT_FOUND")
        self.assertError(self.call(u, "PATCH", path, body={}), 404, "NOT_FOUND")
        self.assertEqual(self.ids(u), [other["id"]])
        self.assertError(self.call(u, "DELETE", "/api/todos/" + MAX_ID), 404, "NOT_FOUND")

    def test_unauthenticated_every_route(self):
        u = self.sign_up()
        tid = self.create(u, title="mine")["id"]
        routes = [("GET", "/api/todos", None), ("POST", "/api/todos", {"title": "x"}),
                  ("GET", "/api/todos/%d" % tid, None),
                  ("PUT", "/api/todos/%d" % tid, {"title": "x"}),
                  ("PATCH", "/api/todos/%d" % tid, {"title": "x"}),
                  ("DELETE", "/api/todos/%d" % tid, None)]
        for method, path, body in routes:
            with self.subTest(method=method, path=path, token="none"):
                resp = self.request(method, path, body=body)
                self.assertError(resp, 401, "UNAUTHORIZED")
                self.assertEqual(resp.headers.get("www-authenticate"), 'Bearer realm="todo"')
            with self.subTest(method=method, path=path, token="invalid"):
                resp = self.request(method, path, body=body,
                                    headers={"Authorization": "Bearer not.a.jwt"})
                self.assertError(resp, 401, "UNAUTHORIZED")
                self.assertEqual(resp.headers.get("www-authenticate"),
                                 'Bearer realm="todo", error="invalid_token"')
        # Nothing was created, changed or deleted.
        self.assertEqual(self.ids(u), [tid])
        self.assertEqual(self.get(u, tid).json["title"], "mine")

    def test_bad_ids_are_404(self):
        u = self.sign_up()
        tid = self.create(u, title="t")["id"]
        # A zero-padded form of an existing id is not the canonical decimal:
        # the service answers 404 (documented behaviour of this test).
        ids = BAD_IDS + ["000%d" % tid, "0%d" % tid]
        for bad in ids:
            path = "/api/todos/" + bad
            for method, body in (("GET", None), ("PUT", {"title": "x"}), ("PATCH", {}),
                                 ("DELETE", None)):
                with self.subTest(method=method, id=bad):
                    self.assertError(self.call(u, method, path, body=body), 404, "NOT_FOUND")
        for method, body in (("GET", None), ("PUT", {"title": "x"}), ("PATCH", {}),
                             ("DELETE", None)):
            with self.subTest(method=method, id=MAX_ID):
                self.assertError(self.call(u, method, "/api/todos/" + MAX_ID, body=body), 404,
                                 "NOT_FOUND")
        self.assertEqual(self.get(u, tid).json["title"], "t")

    def test_deleted_account(self):
        c = self.sign_up("Carol")
        old = self.create(c, title="before")
        self.stack.admin_sql("DELETE FROM users WHERE id = %d" % int(c["id"]), "todod")
        listing = self.listing(c)
        self.assertEqual(listing["items"], [])
        self.assertEqual(listing["total"], 0)
        self.assertError(self.get(c, old["id"]), 404, "NOT_FOUND")
        resp = self.call(c, "POST", "/api/todos", body={"title": "after"})
        self.assertError(resp, 401, "UNAUTHORIZED")
        self.assertTrue(resp.headers.get("www-authenticate", "").startswith('Bearer realm="todo"'))
        resp = self.call(c, "POST", "/api/todos", body={"title": "after"},
                         headers={"Idempotency-Key": "deleted-account"})
        self.assertError(resp, 401, "UNAUTHORIZED")
        self.assertEqual(self.stack.admin_sql(
            "SELECT COUNT(*) FROM todos WHERE user_id = %d" % int(c["id"]), "todod").strip(), "0")


class TodosIsolationTest(TodoCase):
    """A todo of another user is indistinguishable from a missing one."""

    def test_other_users_todo_on_every_route(self):
        a, b = self.sign_up("Alice"), self.sign_up("Bob")
        todo = self.create(a, title="A's secret", description="private", priority="high")
        before = self.get(a, todo["id"])
        path = "/api/todos/%d" % todo["id"]
        missing = "/api/todos/" + MAX_ID
        for method, body, headers in (("GET", None, None),
                                      ("PUT", {"title": "hijack"}, None),
                                      ("PATCH", {"completed": True}, None),
                                      ("DELETE", None, None),
                                      ("PUT", {"title": "hijack"}, {"If-Match": "*"}),
                                      ("PATCH", {"title": "x"}, {"If-Match": "*"}),
                                      ("DELETE", None, {"If-Match": "*"}),
                                      ("DELETE", None,
                                       {"If-Match": before.headers["etag"]}),
                                      ("GET", None,
                                       {"If-None-Match": before.headers["etag"]})):
            with self.subTest(method=method, headers=headers):
                theirs = self.call(b, method, path, body=body, headers=headers)
                absent = self.call(b, method, missing, body=body, headers=headers)
                self.assertError(theirs, 404, "NOT_FOUND")
                self.assertError(absent, 404, "NOT_FOUND")
                self.assertEqual(theirs.body, absent.body)
                self.assertNotIn("etag", theirs.headers)
        after = self.get(a, todo["id"])
        self.assertEqual(after.status, 200)
        self.assertEqual(after.body, before.body)
        self.assertEqual(after.headers.get("etag"), before.headers.get("etag"))

    def test_lists_are_separate(self):
        a, b = self.sign_up("Alice"), self.sign_up("Bob")
        a_ids = [self.create(a, title="alpha %d" % i, completed=i % 2 == 0)["id"]
                 for i in range(3)]
        b_ids = [self.create(b, title="beta %d" % i)["id"] for i in range(2)]
        self.assertEqual(sorted(self.ids(b)), sorted(b_ids))
        self.assertEqual(self.total(b), 2)
        self.assertEqual(sorted(self.ids(a)), sorted(a_ids))
        self.assertEqual(self.total(a), 3)
        for query in (qs(q="alpha"), qs(completed="true"), qs(completed="false"),
                      qs(priority="normal"), qs(sort="title", limit=200)):
            with self.subTest(query=query):
                listing = self.listing(b, query)
                self.assertFalse(set(t["id"] for t in listing["items"]) & set(a_ids))
                self.assertLessEqual(listing["total"], 2)
        self.assertEqual(self.total(b, qs(q="alpha")), 0)

    def test_id_enumeration_finds_nothing(self):
        a, b = self.sign_up("Alice"), self.sign_up("Bob")
        a_todos = [self.create(a, title="a%d" % i) for i in range(5)]
        b_own = self.create(b, title="b")["id"]
        a_before = self.listing(a, qs(limit=200))
        top = max(t["id"] for t in a_todos) + 5
        for tid in range(1, top + 1):
            if tid == b_own:
                continue
            for method, body in (("GET", None), ("PATCH", {"title": "pwned"}),
                                 ("PUT", {"title": "pwned"}), ("DELETE", None)):
                resp = self.call(b, method, "/api/todos/%d" % tid, body=body)
                self.assertEqual(resp.status, 404, "%s id %d: %r" % (method, tid, resp.body))
        self.assertEqual(self.listing(a, qs(limit=200)), a_before)
        self.assertEqual(self.ids(b), [b_own])


class TodosValidationTest(TodoCase):
    """422 with the right field, 400/415 for bodies, nothing half-written,
    and SQL metacharacters taken literally."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # One user and one todo for the update checks.
        n = next(_serial)
        resp = cls.stack.request("POST", "/api/auth/sign-up/email",
                                 body={"name": "V", "email": "v%d@example.com" % n,
                                       "password": "correct horse battery"})
        token = resp.json["token"]
        cls.user = {"token": token, "id": resp.json["user"]["id"],
                    "auth": {"Authorization": "Bearer " + token}}
        resp = cls.stack.request("POST", "/api/todos", body={"title": "fixture"},
                                 headers=cls.user["auth"])
        cls.fixture_id = resp.json["id"]

    def check_write_routes(self, body, field, raw=None):
        """POST, PUT and PATCH all refuse the body with 422 on field."""
        u = self.user
        before = self.get(u, self.fixture_id)
        total = self.total(u)
        for method, path in (("POST", "/api/todos"),
                             ("PUT", "/api/todos/%d" % self.fixture_id),
                             ("PATCH", "/api/todos/%d" % self.fixture_id)):
            with self.subTest(method=method, body=body if raw is None else raw):
                resp = self.call(u, method, path, body=body, raw=raw)
                self.assertValidation(resp, field)
        after = self.get(u, self.fixture_id)
        self.assertEqual(after.body, before.body)
        self.assertEqual(after.headers.get("etag"), before.headers.get("etag"))
        self.assertEqual(self.total(u), total)

    def test_title_length_in_characters(self):
        u = self.user
        for ch in ("a", "é", "😀", "中"):
            with self.subTest(ch=ch):
                todo = self.create(u, title=ch * 200)
                self.assertEqual(todo["title"], ch * 200)
                self.assertEqual(self.get(u, todo["id"]).json["title"], ch * 200)
                # Trimmed first, then counted.
                self.assertEqual(self.create(u, title="  " + ch * 200 + "\t")["title"], ch * 200)
                self.check_write_routes({"title": ch * 201}, "title")

    def test_title_blank_and_trimmed(self):
        for title in ("", " ", "   ", "\t\n \r"):
            self.check_write_routes({"title": title}, "title")
        self.assertValidation(self.call(self.user, "POST", "/api/todos", body={}), "title")
        self.assertValidation(self.call(self.user, "POST", "/api/todos",
                                        body={"description": "no title"}), "title")
        todo = self.create(self.user, title="  \tBuy milk \n ")
        self.assertEqual(todo["title"], "Buy milk")
        self.assertEqual(self.get(self.user, todo["id"]).json["title"], "Buy milk")

    def test_description_length(self):
        u = self.user
        for ch in ("d", "é", "😀"):
            with self.subTest(ch=ch):
                todo = self.create(u, title="t", description=ch * 2000)
                self.assertEqual(self.get(u, todo["id"]).json["description"], ch * 2000)
                self.check_write_routes({"title": "t", "description": ch * 2001}, "description")

    def test_priority_values(self):
        for bad in ("urgent", "HIGH", "High", "", " low", 2, None, True, ["high"]):
            self.check_write_routes({"title": "t", "priority": bad}, "priority")

    def test_completed_must_be_boolean(self):
        for bad in ("true", "false", 1, 0, None, [], {}):
            self.check_write_routes({"title": "t", "completed": bad}, "completed")

    def test_due_at(self):
        for bad in ("tomorrow", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                    "2026-12-01", "2026-12-01T10:00:00", "2026-12-01 10:00:00Z",
                    "2026-12-01T25:00:00Z", "2026-12-01T10:00:00+2:00", "", 1764547200,
                    True, {}):
            self.check_write_routes({"title": "t", "dueAt": bad}, "dueAt")
        u = self.user
        todo = self.create(u, title="t", dueAt="2026-12-01T10:00:00+02:00")
        self.assertEqual(todo["dueAt"], "2026-12-01T08:00:00.000Z")
        self.assertEqual(self.get(u, todo["id"]).json["dueAt"], "2026-12-01T08:00:00.000Z")
        for given, want in (("2026-12-01T10:00:00Z", "2026-12-01T10:00:00.000Z"),
                            ("2026-12-01T10:00:00.5Z", "2026-12-01T10:00:00.500Z"),
                            ("2026-12-01T00:30:00-01:30", "2026-12-01T02:00:00.000Z"),
                            ("2028-02-29T23:59:59.999Z", "2028-02-29T23:59:59.999Z")):
            with self.subTest(dueAt=given):
                self.assertEqual(self.create(u, title="t", dueAt=given)["dueAt"], want)
        self.assertIsNone(self.create(u, title="t", dueAt=None)["dueAt"])
        resp = self.call(u, "PATCH", "/api/todos/%d" % todo["id"],
                         body={"dueAt": "2027-01-01T00:00:00+00:00"})
        self.assertEqual(resp.json["dueAt"], "2027-01-01T00:00:00.000Z")

    def test_unknown_and_server_keys(self):
        for key, value in (("userId", 2), ("user_id", 2), ("id", 1),
                           ("createdAt", "2026-01-01T00:00:00.000Z"),
                           ("updatedAt", "2026-01-01T00:00:00.000Z"), ("foo", "bar"),
                           ("Title", "x"), ("due_at", None)):
            self.check_write_routes({"title": "t", key: value}, key)
        # Also when the unknown key comes alone on PATCH.
        self.assertValidation(self.call(self.user, "PATCH", "/api/todos/%d" % self.fixture_id,
                                        body={"userId": 1}), "userId")

    def test_nul_in_strings(self):
        self.check_write_routes({"title": "a\u0000b"}, "title")
        self.check_write_routes({"title": "t", "description": "a\u0000b"}, "description")

    def test_invalid_utf8(self):
        self.check_write_routes(None, "title", raw=b'{"title":"\xff\xfe"}')
        self.check_write_routes(None, "title", raw=b'{"title":"ok\xc3"}')
        self.check_write_routes(None, "description",
                                raw=b'{"title":"t","description":"\xed\xa0\x80"}')

    def test_wrong_types(self):
        for field, bad in (("title", 5), ("title", None), ("title", ["t"]), ("title", True),
                           ("title", {"t": 1}), ("description", 5), ("description", None),
                           ("description", False)):
            body = {"title": "t"}
            body[field] = bad
            self.check_write_routes(body, field)

    def test_invalid_json_bodies(self):
        u = self.user
        before = self.get(u, self.fixture_id).body
        for raw in ("[]", '["title"]', '"title"', "1", "null", "true", "{bad", "",
                    '{"title":"t"', '{"title":"t"} x', "{'title':'t'}"):
            for method, path in (("POST", "/api/todos"),
                                 ("PUT", "/api/todos/%d" % self.fixture_id),
                                 ("PATCH", "/api/todos/%d" % self.fixture_id)):
                with self.subTest(method=method, raw=raw):
                    self.assertError(self.call(u, method, path, raw=raw), 400, "INVALID_JSON")
        self.assertEqual(self.get(u, self.fixture_id).body, before)

    def test_unsupported_media_type(self):
        u = self.user
        total = self.total(u)
        for ctype in ("text/plain", "application/x-www-form-urlencoded", None):
            for method, path in (("POST", "/api/todos"),
                                 ("PUT", "/api/todos/%d" % self.fixture_id),
                                 ("PATCH", "/api/todos/%d" % self.fixture_id)):
                with self.subTest(method=method, ctype=ctype):
                    headers = dict(u["auth"])
                    if ctype:
                        headers["Content-Type"] = ctype
                    resp = self.request(method, path, raw='{"title":"t"}', headers=headers)
                    self.assertError(resp, 415, "UNSUPPORTED_MEDIA_TYPE")
        self.assertEqual(self.total(u), total)
        self.assertEqual(self.get(u, self.fixture_id).json["title"], "fixture")
        resp = self.call(u, "POST", "/api/todos", raw='{"title":"charset"}',
                         headers={"Content-Type": "application/json; charset=utf-8"})
        self.assertEqual(resp.status, 201, resp.body)

    def test_nothing_half_written(self):
        u = self.user
        todo = self.create(u, title="whole", description="keep", priority="low")
        path = "/api/todos/%d" % todo["id"]
        before = self.get(u, todo["id"])
        for method, body, field in (
                ("PUT", {"title": "new", "priority": "urgent"}, "priority"),
                ("PUT", {"title": "new", "description": "new", "completed": "yes"}, "completed"),
                ("PUT", {"title": "new", "dueAt": "never"}, "dueAt"),
                ("PATCH", {"title": "x", "completed": "yes"}, "completed"),
                ("PATCH", {"description": "ok", "foo": 1}, "foo"),
                ("PATCH", {"completed": True, "title": ""}, "title"),
                ("PATCH", {"priority": "high", "description": "x" * 2001}, "description")):
            with self.subTest(method=method, body=body):
                self.assertValidation(self.call(u, method, path, body=body), field)
                after = self.get(u, todo["id"])
                self.assertEqual(after.body, before.body)
                self.assertEqual(after.headers.get("etag"), before.headers.get("etag"))

    def test_sql_metacharacters_round_trip(self):
        u = self.sign_up("Meta")
        texts = ["'; DROP TABLE todos; --", "100% sure", "snake_case", "back\\slash",
                 'say "hi"', "`tick`", "bang! here", "O'Brien", "a\\%b\\_c", "--",
                 "/* c */", "\\'"]
        made = {}
        for text in texts:
            todo = self.create(u, title=text, description=text)
            self.assertEqual((todo["title"], todo["description"]), (text, text))
            got = self.get(u, todo["id"]).json
            self.assertEqual((got["title"], got["description"]), (text, text))
            made[todo["id"]] = text
        self.assertEqual(self.total(u), len(texts))
        # The table is still there and the texts list back unchanged.
        listed = {t["id"]: t["title"] for t in self.listing(u, qs(limit=200))["items"]}
        self.assertEqual(listed, made)
        # Patch and put keep them literal too.
        tid = next(iter(made))
        self.assertEqual(self.call(u, "PATCH", "/api/todos/%d" % tid,
                                   body={"description": "%_\\'\"`"}).json["description"],
                         "%_\\'\"`")
        self.assertEqual(self.get(u, tid).json["description"], "%_\\'\"`")
        self.call(u, "PATCH", "/api/todos/%d" % tid, body={"description": made[tid]})

        def by_q(q):
            return {made[i] for i in self.ids(u, qs(q=q, limit=200))}

        self.assertEqual(by_q("%"), {"100% sure", "a\\%b\\_c"})
        self.assertEqual(by_q("_"), {"snake_case", "a\\%b\\_c"})
        self.assertEqual(by_q("'"), {"'; DROP TABLE todos; --", "O'Brien", "\\'"})
        self.assertEqual(by_q("\\"), {"back\\slash", "a\\%b\\_c", "\\'"})
        self.assertEqual(by_q("!"), {"bang! here"})
        self.assertEqual(by_q('"'), {'say "hi"'})
        self.assertEqual(by_q("`"), {"`tick`"})
        self.assertEqual(by_q("\\%"), {"a\\%b\\_c"})
        self.assertEqual(by_q("' OR '1'='1"), set())
        self.assertEqual(by_q("DROP TABLE"), {"'; DROP TABLE todos; --"})
        self.assertEqual(by_q("%%"), set())
        self.assertEqual(self.total(u, qs(q="%")), 2)

    def test_q_case_insensitive_and_description(self):
        u = self.sign_up("Query")
        milk = self.create(u, title="Buy MILK")["id"]
        desc = self.create(u, title="Errands", description="get the Milkshake mix")["id"]
        other = self.create(u, title="Walk dog", description="park")["id"]
        self.assertEqual(sorted(self.ids(u, qs(q="milk"))), sorted([milk, desc]))
        self.assertEqual(sorted(self.ids(u, qs(q="MiLk"))), sorted([milk, desc]))
        self.assertEqual(self.ids(u, qs(q="shake")), [desc])
        self.assertEqual(self.ids(u, qs(q="park")), [other])
        self.assertEqual(self.total(u, qs(q="milk")), 2)
        self.assertEqual(self.ids(u, qs(q="nothing like this")), [])


class TodosListTest(TodoCase):
    """Filters, sorting, paging and total, bad query values, the index."""

    def test_filters(self):
        u = self.sign_up("Filter")
        spec = [("Buy milk", False, "high"), ("Buy bread", True, "high"),
                ("Call mom", False, "low"), ("Pay rent", True, "normal"),
                ("Buy eggs", False, "normal"), ("Fix bike", True, "high")]
        todos = [self.create(u, title=t, completed=c, priority=p) for t, c, p in spec]

        def want(pred):
            return sorted(t["id"] for t in todos if pred(t))

        cases = [
            (qs(completed="true"), want(lambda t: t["completed"])),
            (qs(completed="false"), want(lambda t: not t["completed"])),
            (qs(priority="high"), want(lambda t: t["priority"] == "high")),
            (qs(priority="low"), want(lambda t: t["priority"] == "low")),
            (qs(priority="normal"), want(lambda t: t["priority"] == "normal")),
            (qs(q="buy"), want(lambda t: "buy" in t["title"].lower())),
            (qs(completed="false", priority="high"),
             want(lambda t: not t["completed"] and t["priority"] == "high")),
            (qs(completed="true", priority="high", q="bread"),
             want(lambda t: t["completed"] and t["priority"] == "high"
                  and "bread" in t["title"].lower())),
            (qs(completed="false", q="buy"),
             want(lambda t: not t["completed"] and "buy" in t["title"].lower())),
            (qs(q=""), want(lambda t: True)),
        ]
        for query, ids in cases:
            with self.subTest(query=query):
                listing = self.listing(u, query)
                self.assertEqual(sorted(t["id"] for t in listing["items"]), ids)
                self.assertEqual(listing["total"], len(ids))
                # total is the filtered count whatever the page.
                paged = self.listing(u, query + "&limit=1&offset=1")
                self.assertEqual(paged["total"], len(ids))
                self.assertEqual(len(paged["items"]), 1 if len(ids) > 1 else 0)

    def test_sorting(self):
        u = self.sign_up("Sort")
        spec = [  # title, priority, dueAt
            ("delta", "high", "2026-12-03T00:00:00.000Z"),
            ("alpha", "low", None),
            ("charlie", "normal", "2026-12-01T00:00:00.000Z"),
            ("bravo", "high", "2026-12-03T00:00:00.000Z"),
            ("alpha", "normal", "2026-11-30T00:00:00.000Z"),
            ("echo", "low", None),
            ("bravo", "normal", "2026-12-02T00:00:00.000Z"),
            ("foxtrot", "high", None),
        ]
        todos = [self.create(u, title=t, priority=p, dueAt=d) for t, p, d in spec]
        # Creation times in an order unlike the ids (with one tie).
        created = ["2026-01-05 00:00:00.000", "2026-01-01 00:00:00.000",
                   "2026-01-07 00:00:00.000", "2026-01-03 00:00:00.000",
                   "2026-01-03 00:00:00.000", "2026-01-08 00:00:00.000",
                   "2026-01-02 00:00:00.000", "2026-01-06 00:00:00.000"]
        for t, c in zip(todos, created):
            self.stack.admin_sql("UPDATE todos SET created_at = '%s' WHERE id = %d"
                                 % (c, t["id"]), "todod")
            t["createdAt"] = c.replace(" ", "T") + "Z"

        def order(key, reverse, nulls_last=False):
            present = [t for t in todos if not (nulls_last and t[key] is None)]
            absent = [t for t in todos if nulls_last and t[key] is None]
            present.sort(key=lambda t: ((RANK[t[key]] if key == "priority" else t[key]),
                                        t["id"]), reverse=reverse)
            absent.sort(key=lambda t: t["id"], reverse=reverse)
            return [t["id"] for t in present + absent]

        expected = {
            "createdAt": order("createdAt", False), "-createdAt": order("createdAt", True),
            "dueAt": order("dueAt", False, True), "-dueAt": order("dueAt", True, True),
            "priority": order("priority", False), "-priority": order("priority", True),
            "title": order("title", False), "-title": order("title", True),
        }
        for sort, ids in expected.items():
            with self.subTest(sort=sort):
                listing = self.listing(u, qs(sort=sort))
                self.assertEqual([t["id"] for t in listing["items"]], ids)
                self.assertEqual(listing["total"], len(todos))
        self.assertEqual(self.ids(u), expected["-createdAt"], "default sort is -createdAt")
        # createdAt as listed reflects the stored value.
        listed = {t["id"]: t["createdAt"] for t in self.listing(u)["items"]}
        self.assertEqual(listed, {t["id"]: t["createdAt"] for t in todos})

    def test_priority_ties_broken_by_id(self):
        u = self.sign_up("Ties")
        ids = [self.create(u, title="same %d" % i, priority="normal")["id"] for i in range(6)]
        # Same creation time, same title and due date for all: id decides.
        self.stack.admin_sql("UPDATE todos SET created_at = '2026-01-01 00:00:00.000', "
                             "title = 'same' WHERE user_id = %d" % int(u["id"]), "todod")
        for sort in ("priority", "createdAt", "title", "dueAt"):
            with self.subTest(sort=sort):
                self.assertEqual(self.ids(u, qs(sort=sort)), sorted(ids))
                self.assertEqual(self.ids(u, qs(sort="-" + sort)), sorted(ids, reverse=True))
        # And through pages.
        pages = []
        for off in range(0, 6, 4):
            pages += self.ids(u, qs(sort="-priority", limit=4, offset=off))
        self.assertEqual(pages, sorted(ids, reverse=True))

    def test_pagination(self):
        u = self.sign_up("Pages")
        ids = [self.create(u, title="p%02d" % i)["id"] for i in range(11)]
        first = self.listing(u)
        self.assertEqual(first["limit"], 50)
        self.assertEqual(first["offset"], 0)
        self.assertEqual(first["total"], 11)
        self.assertEqual([t["id"] for t in first["items"]], sorted(ids, reverse=True))
        for limit in (1, 3, 4, 11, 200):
            with self.subTest(limit=limit):
                seen = []
                for offset in range(0, 11, limit):
                    page = self.listing(u, qs(limit=limit, offset=offset))
                    self.assertEqual((page["limit"], page["offset"], page["total"]),
                                     (limit, offset, 11))
                    self.assertLessEqual(len(page["items"]), limit)
                    seen += [t["id"] for t in page["items"]]
                self.assertEqual(seen, sorted(ids, reverse=True))
        for sort in ("title", "-title"):
            seen = []
            for offset in range(0, 11, 3):
                seen += self.ids(u, qs(sort=sort, limit=3, offset=offset))
            self.assertEqual(seen, sorted(ids, reverse=sort.startswith("-")))
        beyond = self.listing(u, qs(offset=11))
        self.assertEqual((beyond["items"], beyond["total"], beyond["offset"]), ([], 11, 11))
        beyond = self.listing(u, qs(limit=5, offset=1000))
        self.assertEqual((beyond["items"], beyond["total"]), ([], 11))

    def test_bad_query_values(self):
        u = self.sign_up("Bad")
        self.create(u, title="x")
        cases = [("limit", "0"), ("limit", "201"), ("limit", "abc"), ("limit", "-1"),
                 ("limit", ""), ("limit", "1.5"), ("limit", "99999999999999999999999"),
                 ("offset", "-1"), ("offset", "x"), ("offset", ""), ("offset", "1.0"),
                 ("sort", "bogus"), ("sort", ""), ("sort", "-"), ("sort", "created_at"),
                 ("sort", "CREATEDAT"), ("sort", "--title"),
                 ("completed", "yes"), ("completed", "1"), ("completed", "TRUE"),
                 ("completed", ""),
                 ("priority", "urgent"), ("priority", "HIGH"), ("priority", "")]
        for name, value in cases:
            with self.subTest(name=name, value=value):
                resp = self.call(u, "GET", "/api/todos?" + qs(**{name: value}))
                self.assertValidation(resp, name)
        for name, value in (("limit", "1"), ("limit", "200"), ("offset", "0")):
            with self.subTest(name=name, value=value):
                self.assertEqual(self.listing(u, qs(**{name: value}))[name], int(value))

    def test_explain_uses_index(self):
        u = self.sign_up("Explain")
        for i in range(20):
            self.create(u, title="e%d" % i)
        for uid in ("1", str(int(u["id"]))):
            with self.subTest(user_id=uid):
                out = self.stack.admin_sql(
                    "EXPLAIN SELECT id FROM todos WHERE user_id = %s "
                    "ORDER BY created_at DESC, id DESC LIMIT 50" % uid, "todod")
                rows = [line.split("\t") for line in out.strip().splitlines()]
                self.assertEqual(len(rows), 1, out)
                # id, select_type, table, type, possible_keys, key, key_len,
                # ref, rows, Extra
                row = rows[0]
                self.assertEqual(row[2], "todos", out)
                self.assertNotEqual(row[3], "ALL", out)
                self.assertNotIn(row[5], ("NULL", ""), out)
                self.assertNotIn("filesort", row[-1], out)


class TodosConditionalTest(TodoCase):
    """ETag, If-None-Match (304) and If-Match (409)."""

    def test_etag_changes_on_every_update(self):
        u = self.sign_up()
        resp = self.call(u, "POST", "/api/todos", body={"title": "v1"})
        tid = resp.json["id"]
        path = "/api/todos/%d" % tid
        tags = [resp.headers["etag"]]
        for method, body in (("PUT", {"title": "v2"}), ("PATCH", {"completed": True}),
                             ("PATCH", {"title": "v3"}), ("PUT", {"title": "v3"}),
                             ("PATCH", {"priority": "high"})):
            resp = self.call(u, method, path, body=body)
            self.assertTodoResponse(resp)
            self.assertNotIn(resp.headers["etag"], tags, "%s %r" % (method, body))
            tags.append(resp.headers["etag"])
            self.assertEqual(self.get(u, tid).headers.get("etag"), resp.headers["etag"])

    def test_if_none_match(self):
        u = self.sign_up()
        resp = self.call(u, "POST", "/api/todos", body={"title": "cached"})
        tid, tag = resp.json["id"], resp.headers["etag"]
        for inm in (tag, "W/" + tag, '"nope", ' + tag, "*"):
            with self.subTest(inm=inm):
                r304 = self.call(u, "GET", "/api/todos/%d" % tid, headers={"If-None-Match": inm})
                self.assertEqual(r304.status, 304, r304.body)
                self.assertEqual(r304.body, b"")
                self.assertEqual(r304.headers.get("etag"), tag)
        self.call(u, "PATCH", "/api/todos/%d" % tid, body={"title": "changed"})
        for inm in (tag, '"other"'):
            with self.subTest(stale=inm):
                r = self.call(u, "GET", "/api/todos/%d" % tid, headers={"If-None-Match": inm})
                got = self.assertTodoResponse(r)
                self.assertEqual(got["title"], "changed")
                self.assertNotEqual(r.headers["etag"], tag)

    def test_if_match(self):
        u = self.sign_up()
        resp = self.call(u, "POST", "/api/todos", body={"title": "orig", "priority": "low"})
        tid, stale = resp.json["id"], resp.headers["etag"]
        path = "/api/todos/%d" % tid
        cur = self.call(u, "PATCH", path, body={"description": "v2"})
        self.assertEqual(cur.status, 200)
        for im in (stale, "W/" + cur.headers["etag"], '"garbage"', '"%d-999"' % tid):
            for method, body in (("PUT", {"title": "lost"}), ("PATCH", {"title": "lost"}),
                                 ("DELETE", None)):
                with self.subTest(method=method, if_match=im):
                    r = self.call(u, method, path, body=body, headers={"If-Match": im})
                    self.assertError(r, 409, "CONFLICT")
                    now = self.get(u, tid)
                    self.assertEqual(now.body, cur.body)
                    self.assertEqual(now.headers.get("etag"), cur.headers["etag"])
        # The current ETag (alone or in a list) succeeds.
        r = self.call(u, "PUT", path, body={"title": "put ok"},
                      headers={"If-Match": cur.headers["etag"]})
        self.assertEqual(self.assertTodoResponse(r)["title"], "put ok")
        r = self.call(u, "PATCH", path, body={"title": "patch ok"},
                      headers={"If-Match": '"x", ' + r.headers["etag"]})
        self.assertEqual(self.assertTodoResponse(r)["title"], "patch ok")
        # The previous one is now stale.
        self.assertError(self.call(u, "PATCH", path, body={"title": "no"},
                                   headers={"If-Match": cur.headers["etag"]}), 409, "CONFLICT")
        r = self.call(u, "PUT", path, body={"title": "star"}, headers={"If-Match": "*"})
        self.assertEqual(self.assertTodoResponse(r)["title"], "star")
        r = self.call(u, "PATCH", path, body={"completed": True}, headers={"If-Match": "*"})
        self.assertIs(self.assertTodoResponse(r)["completed"], True)
        r = self.call(u, "DELETE", path, headers={"If-Match": r.headers["etag"]})
        self.assertEqual(r.status, 204, r.body)
        self.assertError(self.get(u, tid), 404, "NOT_FOUND")
        other = self.create(u, title="star delete")
        r = self.call(u, "DELETE", "/api/todos/%d" % other["id"], headers={"If-Match": "*"})
        self.assertEqual(r.status, 204, r.body)
        self.assertError(self.get(u, other["id"]), 404, "NOT_FOUND")


class TodosIdempotencyTest(TodoCase):
    """Idempotency-Key, racing retries and concurrent creates."""

    def post(self, user, body, key):
        return self.call(user, "POST", "/api/todos", body=body,
                         headers={"Idempotency-Key": key})

    def test_same_key_same_body(self):
        u = self.sign_up()
        body = {"title": "once", "priority": "high", "dueAt": "2026-12-01T00:00:00.000Z"}
        first = self.post(u, body, "key-1")
        second = self.post(u, body, "key-1")
        self.assertTodoResponse(first, 201)
        self.assertTodoResponse(second, 201)
        self.assertEqual(second.json["id"], first.json["id"])
        self.assertEqual(second.body, first.body)
        self.assertEqual(second.headers.get("location"), "/api/todos/%d" % first.json["id"])
        self.assertEqual(second.headers.get("etag"), first.headers.get("etag"))
        self.assertEqual(self.total(u), 1)
        # A different key creates another; no key creates another.
        third = self.post(u, body, "key-2")
        self.assertEqual(third.status, 201)
        self.assertNotEqual(third.json["id"], first.json["id"])
        self.assertEqual(self.total(u), 2)

    def test_same_key_different_body(self):
        u = self.sign_up()
        first = self.post(u, {"title": "one"}, "dup")
        self.assertEqual(first.status, 201)
        for body in ({"title": "two"}, {"title": "one", "completed": True},
                     {"title": "one", "description": "x"}):
            with self.subTest(body=body):
                self.assertError(self.post(u, body, "dup"), 422, "VALIDATION_FAILED")
        self.assertEqual(self.total(u), 1)
        self.assertEqual(self.post(u, {"title": "one"}, "dup").json["id"], first.json["id"])

    def test_key_is_per_user(self):
        a, b = self.sign_up("A"), self.sign_up("B")
        ra = self.post(a, {"title": "shared"}, "shared-key")
        rb = self.post(b, {"title": "shared"}, "shared-key")
        self.assertEqual((ra.status, rb.status), (201, 201))
        self.assertNotEqual(ra.json["id"], rb.json["id"])
        self.assertEqual(self.ids(a), [ra.json["id"]])
        self.assertEqual(self.ids(b), [rb.json["id"]])
        # A different body under B's key is B's business alone.
        rb2 = self.post(b, {"title": "other"}, "another")
        self.assertEqual(rb2.status, 201)
        ra2 = self.post(a, {"title": "mine"}, "another")
        self.assertEqual(ra2.status, 201)
        self.assertEqual(self.total(a), 2)
        self.assertEqual(self.total(b), 2)

    def test_invalid_keys(self):
        u = self.sign_up()
        for key in ("k" * 256, "has space", "caf\u00e9", "tab\there", ""):
            with self.subTest(key=key[:20]):
                self.assertValidation(self.post(u, {"title": "x"}, key), "Idempotency-Key")
        self.assertEqual(self.total(u), 0)
        for key in ("k" * 255, "!", "~abc:/?#[]@=+"):
            with self.subTest(key=key[:20]):
                r = self.post(u, {"title": "ok"}, key)
                self.assertEqual(r.status, 201, r.body)

    def test_racing_retries(self):
        u = self.sign_up()
        body = {"title": "race", "description": "ten at once"}
        results = [None] * 10
        barrier = threading.Barrier(10)

        def one(i):
            barrier.wait()
            try:
                results[i] = self.post(u, body, "race-key")
            except Exception as e:  # reported below
                results[i] = e

        threads = [threading.Thread(target=one, args=(i,)) for i in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        statuses = [getattr(r, "status", r) for r in results]
        self.assertEqual(statuses, [201] * 10, [getattr(r, "body", r) for r in results])
        self.assertEqual(len({r.json["id"] for r in results}), 1)
        self.assertEqual(len({r.body for r in results}), 1)
        self.assertEqual(self.total(u), 1)

    def test_concurrent_creates(self):
        u = self.sign_up()
        results = [None] * 50
        barrier = threading.Barrier(50)

        def one(i):
            barrier.wait()
            try:
                results[i] = self.call(u, "POST", "/api/todos", body={"title": "c%02d" % i})
            except Exception as e:
                results[i] = e

        threads = [threading.Thread(target=one, args=(i,)) for i in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        statuses = [getattr(r, "status", r) for r in results]
        self.assertEqual(statuses, [201] * 50, [getattr(r, "body", r) for r in results])
        ids = {r.json["id"] for r in results}
        self.assertEqual(len(ids), 50)
        self.assertEqual({r.json["title"] for r in results}, {"c%02d" % i for i in range(50)})
        listing = self.listing(u, qs(limit=200))
        self.assertEqual(listing["total"], 50)
        self.assertEqual({t["id"] for t in listing["items"]}, ids)


class TodosEdgeCasesTest(TodoCase):
    """Inputs found by review and by the response-conformance check."""

    def test_due_dates_before_1970_round_trip(self):
        u = self.sign_up()
        cases = [("1969-12-31T12:00:00Z", "1969-12-31T12:00:00.000Z"),
                 ("1970-01-01T00:00:00+14:00", "1969-12-31T10:00:00.000Z"),
                 ("1500-06-15T10:30:00.250Z", "1500-06-15T10:30:00.250Z"),
                 ("1000-01-01T00:00:00Z", "1000-01-01T00:00:00.000Z")]
        for given, stored in cases:
            with self.subTest(given):
                resp = self.call(u, "POST", "/api/todos", body={"title": "old", "dueAt": given})
                self.assertTodoResponse(resp, 201)
                self.assertEqual(resp.json["dueAt"], stored)
                self.assertEqual(self.get(u, resp.json["id"]).json["dueAt"], stored)
                patched = self.call(u, "PATCH", "/api/todos/%d" % resp.json["id"],
                                    body={"dueAt": given})
                self.assertEqual(patched.json["dueAt"], stored)

    def test_badly_encoded_query_values_name_the_parameter(self):
        u = self.sign_up()
        for query, field in (("q=%zz", "q"), ("q=%00", "q"), ("limit=%4", "limit"),
                             ("sort=%", "sort")):
            with self.subTest(query):
                self.assertValidation(self.call(u, "GET", "/api/todos?" + query), field)
        # An undecodable parameter name is an unknown parameter: ignored.
        self.assertEqual(self.call(u, "GET", "/api/todos?%zz=1").status, 200)

    def test_offset_past_the_end(self):
        u = self.sign_up()
        self.create(u, title="only one")
        for offset in ("1", "1000001", "9223372036854775807"):
            with self.subTest(offset):
                page = self.listing(u, "offset=" + offset)
                self.assertEqual(page["items"], [])
                self.assertEqual(page["total"], 1)
                self.assertEqual(page["offset"], int(offset))
        self.assertValidation(self.call(u, "GET", "/api/todos?offset=9223372036854775808"),
                              "offset")

    def test_nul_inside_a_key_is_not_a_known_key(self):
        u = self.sign_up()
        resp = self.call(u, "POST", "/api/todos", raw=b'{"title\\u0000x":"sneaky"}')
        self.assertIn(resp.status, (400, 422), resp.body)
        self.assertEqual(self.total(u), 0)

    def test_retry_after_delete_does_not_create_again(self):
        u = self.sign_up()
        first = self.call(u, "POST", "/api/todos", body={"title": "once"},
                          headers={"Idempotency-Key": "gone-1"})
        self.assertEqual(first.status, 201)
        self.assertEqual(self.call(u, "DELETE", "/api/todos/%d" % first.json["id"]).status, 204)
        retry = self.call(u, "POST", "/api/todos", body={"title": "once"},
                          headers={"Idempotency-Key": "gone-1"})
        self.assertError(retry, 404, "NOT_FOUND")
        self.assertEqual(self.total(u), 0)
