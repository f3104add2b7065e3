"""bench/seed_fastapi.py: a stand-in for the seed's stack (FastAPI + PyJWT
under uvicorn, 2 workers), for the issue's "more than 10x the seed's FastAPI
stack": GET /api/todos only, as such a service writes it. The token is
verified with PyJWT (HS256 and the stack's secret, exp required), then one
COUNT(*) and one page of the user's todos over PyMySQL (a connection per
thread of FastAPI's pool), rendered by FastAPI's JSON response in todod's
shape (items, total, limit, offset). bench/run.sh starts it as

    python3 -m uvicorn --app-dir bench --workers 2 --no-access-log \
        --host 127.0.0.1 --port PORT seed_fastapi:app

with BENCH_SEED_SECRET_FILE (the JWT secret file), BENCH_SEED_DB_SOCKET,
BENCH_SEED_DB_NAME, BENCH_SEED_DB_USER and BENCH_SEED_DB_PASSWORD_FILE in
its environment. Debian: python3-fastapi python3-uvicorn python3-jwt
python3-pymysql. A benchmark baseline, not part of the service.
"""

import os
import threading

import jwt
import pymysql
from fastapi import FastAPI, Header, HTTPException, Query


def _read(path):
    with open(path, "rb") as f:
        return f.read().rstrip(b"\n")


SECRET = _read(os.environ["BENCH_SEED_SECRET_FILE"])
DB = dict(unix_socket=os.environ["BENCH_SEED_DB_SOCKET"],
          database=os.environ.get("BENCH_SEED_DB_NAME", "todod"),
          user=os.environ.get("BENCH_SEED_DB_USER", "todod"),
          password=_read(os.environ["BENCH_SEED_DB_PASSWORD_FILE"]).decode(),
          autocommit=True, charset="utf8mb4")
PRIORITIES = ("low", "normal", "high")
local = threading.local()
app = FastAPI()


def db():
    conn = getattr(local, "conn", None)
    if conn is None:
        conn = local.conn = pymysql.connect(**DB)
    return conn


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


@app.get("/api/todos")
def list_todos(authorization: str = Header(""), limit: int = Query(50, ge=1, le=100),
               offset: int = Query(0, ge=0)):
    if not authorization.startswith("Bearer "):
        raise HTTPException(401, "missing token")
    try:
        claims = jwt.decode(authorization[7:], SECRET, algorithms=["HS256"],
                            options={"require": ["exp", "sub"]})
        uid = int(claims["sub"])
    except (jwt.PyJWTError, ValueError):
        raise HTTPException(401, "invalid token")
    with db().cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM todos WHERE user_id = %s", (uid,))
        total = cur.fetchone()[0]
        cur.execute("SELECT id, title, description, completed, priority, due_at, created_at, updated_at"
                    " FROM todos WHERE user_id = %s ORDER BY created_at DESC, id DESC"
                    " LIMIT %s OFFSET %s", (uid, limit, offset))
        rows = cur.fetchall()
    items = [{"id": r[0], "title": r[1], "description": r[2], "completed": bool(r[3]),
              "priority": PRIORITIES[r[4]], "dueAt": iso(r[5]) if r[5] else None,
              "createdAt": iso(r[6]), "updatedAt": iso(r[7])} for r in rows]
    return {"items": items, "total": total, "limit": limit, "offset": offset}
