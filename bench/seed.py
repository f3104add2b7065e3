#!/usr/bin/env python3
"""bench/seed.py: bulk data for bench/run.sh, straight into MariaDB (not
through the API), and the tokens of users made that way. Standard library
only; talks to the server through the `mariadb` client as root over its
unix socket (unix_socket authentication, as scripts/up does).

    seed.py users SOCKET DB PREFIX COUNT HASH
        Inserts COUNT users (PREFIX-00000@bench.invalid, ...; every one with
        the password hash HASH, e.g. a bench user's, so that each is a valid
        account) in multi-row INSERTs; prints their ids, one a line, in order.

    seed.py todos SOCKET DB PLAN [--chunk ROWS] [--tmp DIR]
        PLAN: a file of "user_id count" lines. Loads that many todos for each
        user with LOAD DATA LOCAL INFILE, in files of --chunk rows (50,000),
        one transaction each, with the table's triggers running (so that
        todo_counts is kept as for any other insert). Titles cycle through
        WORDS, so that q=invoice matches 1 todo in len(WORDS). Prints
        "rows=N seconds=S".

    seed.py verify SOCKET DB
        Checks that todo_counts sums to COUNT(*) for every user and every
        (user, completed, priority); prints "ok users=N todos=M" (exit 0) or
        the first mismatches (exit 1).

    seed.py tokens SECRET_FILE TEMPLATE_TOKEN IDS_FILE
        For every user id in IDS_FILE, the template token (a real one, from
        a sign-up) with sub set to that id and a fresh UUIDv7 jti, signed
        with HMAC-SHA256 by the stack's JWT secret: what todod itself would
        issue at that second. One token a line.
"""

import base64
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

WORDS = ("groceries", "laundry", "dentist", "report", "garden", "invoice",
         "taxes", "car wash", "birthday", "plumber", "backup", "meeting",
         "library", "gym", "recipe", "passport", "insurance", "painting",
         "tickets", "budget")


def mariadb(socket, db, sql=None, infile=None, local_infile=False):
    cmd = ["mariadb", "--no-defaults", "--socket=" + socket, "-uroot", "--batch",
           "--skip-column-names"]
    if local_infile:
        cmd.append("--local-infile=1")
    cmd.append(db)
    if infile is not None:
        with open(infile, "rb") as f:
            r = subprocess.run(cmd, stdin=f, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    else:
        r = subprocess.run(cmd, input=sql.encode("utf-8"), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    if r.returncode != 0:
        sys.exit("seed.py: mariadb failed: " + r.stderr.decode("utf-8", "replace")[-2000:])
    return r.stdout.decode("utf-8")


def sql_str(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def cmd_users(socket, db, prefix, count, pwhash):
    count = int(count)
    emails = ["%s-%05d@bench.invalid" % (prefix, i) for i in range(count)]
    stmts = []
    for k in range(0, count, 1000):
        rows = ",".join("(%s,'Bench',%s,0,NOW(3),NOW(3))" % (sql_str(e), sql_str(pwhash))
                        for e in emails[k:k + 1000])
        stmts.append("INSERT INTO users (email, name, password_hash, email_verified,"
                     " created_at, updated_at) VALUES " + rows + ";")
    mariadb(socket, db, "\n".join(stmts))
    out = mariadb(socket, db, "SELECT id, email FROM users WHERE email LIKE %s;"
                  % sql_str(prefix.replace("_", "\\_").replace("%", "\\%") + "-%"))
    ids = {}
    for line in out.splitlines():
        uid, email = line.split("\t")
        ids[email] = uid
    missing = [e for e in emails if e not in ids]
    if missing:
        sys.exit("seed.py: %d users missing after the insert" % len(missing))
    sys.stdout.write("".join(ids[e] + "\n" for e in emails))


def todo_rows(uid, count, now):
    """count TSV rows for user uid, oldest first, one second apart."""
    base = now - count
    for k in range(count):
        t = time.gmtime(base + k)
        ts = time.strftime("%Y-%m-%d %H:%M:%S", t) + ".%03d" % (k % 1000)
        due = ts if k % 5 == 0 else "\\N"
        prio = (0, 1, 1, 2)[k % 4]
        desc = "" if k % 2 else "bulk-loaded by bench/seed.py, row %d" % k
        yield "%s\tTask %d: %s\t%s\t%d\t%d\t%s\t%s\t%s\n" % (
            uid, k + 1, WORDS[k % len(WORDS)], desc, 1 if k % 3 == 0 else 0, prio, due, ts, ts)


def cmd_todos(socket, db, plan, chunk=50000, tmp=None):
    chunk = int(chunk)
    plan_rows = []
    with open(plan) as f:
        for line in f:
            if line.strip():
                uid, n = line.split()
                plan_rows.append((int(uid), int(n)))
    tmpdir = tempfile.mkdtemp(prefix="seed-", dir=tmp)
    t0 = time.monotonic()
    now = int(time.time())
    try:
        files = []
        out = None
        in_file = chunk
        total = 0
        for uid, n in plan_rows:
            for row in todo_rows(uid, n, now):
                if in_file == chunk:
                    if out:
                        out.close()
                    files.append(os.path.join(tmpdir, "todos-%04d.tsv" % len(files)))
                    out = open(files[-1], "w", encoding="utf-8")
                    in_file = 0
                out.write(row)
                in_file += 1
                total += 1
        if out:
            out.close()
        script = os.path.join(tmpdir, "load.sql")
        with open(script, "w", encoding="utf-8") as f:
            # Session settings only: the rows are new and valid (their users
            # exist, ids come from AUTO_INCREMENT), so the per-row foreign
            # key and unique look-ups can be skipped. Triggers still run.
            f.write("SET SESSION foreign_key_checks = 0, unique_checks = 0;\n")
            for p in files:
                f.write("LOAD DATA LOCAL INFILE %s INTO TABLE todos CHARACTER SET utf8mb4"
                        " FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n'"
                        " (user_id, title, description, completed, priority, due_at,"
                        " created_at, updated_at);\n" % sql_str(p))
        mariadb(socket, db, infile=script, local_infile=True)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    print("rows=%d seconds=%.1f" % (total, time.monotonic() - t0))


def cmd_verify(socket, db):
    # Every (user, completed, priority) group on either side, compared.
    out = mariadb(socket, db, """
SELECT COALESCE(a.user_id, b.user_id), COALESCE(a.completed, b.completed),
       COALESCE(a.priority, b.priority), COALESCE(a.n, 0), COALESCE(b.n, 0)
FROM (SELECT user_id, completed, priority, COUNT(*) AS n FROM todos
      GROUP BY user_id, completed, priority) a
LEFT JOIN (SELECT user_id, completed, priority, SUM(n) AS n FROM todo_counts
      GROUP BY user_id, completed, priority) b
  USING (user_id, completed, priority)
WHERE b.n IS NULL OR a.n <> b.n
UNION ALL
SELECT b.user_id, b.completed, b.priority, 0, b.n
FROM (SELECT user_id, completed, priority, SUM(n) AS n FROM todo_counts
      GROUP BY user_id, completed, priority) b
LEFT JOIN (SELECT DISTINCT user_id, completed, priority FROM todos) a
  USING (user_id, completed, priority)
WHERE a.user_id IS NULL AND b.n <> 0
LIMIT 10;
SELECT COUNT(DISTINCT user_id), COUNT(*) FROM todos;
""")
    lines = out.strip().splitlines()
    summary = lines[-1].split("\t")
    bad = lines[:-1]
    if bad:
        print("MISMATCH user completed priority count(*) todo_counts")
        for b in bad:
            print("  " + b)
        sys.exit(1)
    print("ok users=%s todos=%s" % (summary[0], summary[1]))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def uuid7():
    ms = int(time.time() * 1000)
    b = bytearray(ms.to_bytes(6, "big") + os.urandom(10))
    b[6] = 0x70 | (b[6] & 0x0F)
    b[8] = 0x80 | (b[8] & 0x3F)
    h = b.hex()
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


def cmd_tokens(secret_file, template, ids_file):
    with open(secret_file, "rb") as f:
        key = f.read().rstrip(b"\r\n")
    head, claims, _ = template.strip().split(".")
    claims = json.loads(b64url_decode(claims))
    out = []
    with open(ids_file) as f:
        for line in f:
            uid = line.strip()
            if not uid:
                continue
            c = dict(claims, sub=uid, jti=uuid7())
            signing = head + "." + b64url(json.dumps(c, separators=(",", ":")).encode())
            sig = b64url(hmac.new(key, signing.encode("ascii"), hashlib.sha256).digest())
            out.append(signing + "." + sig + "\n")
    sys.stdout.write("".join(out))


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    opts = {}
    pos = []
    i = 0
    while i < len(args):
        if args[i].startswith("--") and i + 1 < len(args):
            opts[args[i][2:]] = args[i + 1]
            i += 2
        else:
            pos.append(args[i])
            i += 1
    funcs = {"users": (cmd_users, 5), "todos": (cmd_todos, 3), "verify": (cmd_verify, 2),
             "tokens": (cmd_tokens, 3)}
    if cmd not in funcs or len(pos) != funcs[cmd][1]:
        sys.exit(__doc__)
    funcs[cmd][0](*pos, **opts)


if __name__ == "__main__":
    main(sys.argv)
