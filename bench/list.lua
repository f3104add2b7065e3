-- bench/list.lua: GET /api/todos with a bearer token: the default page
-- (limit 50, offset 0, newest first) with its total.
--
--   wrk -t2 -c64 -d10s --latency -s bench/list.lua http://127.0.0.1:8080
--
-- Token: $BENCH_TOKEN, else the file $BENCH_TOKEN_FILE (default
-- build/bench/token, written by bench/run.sh). $BENCH_LIST_QUERY, when set,
-- is appended as the query string (e.g. "completed=false&limit=20").
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

local q = os.getenv("BENCH_LIST_QUERY")
wrk.method = "GET"
wrk.path = "/api/todos" .. ((q and q ~= "") and ("?" .. q) or "")
wrk.headers["Authorization"] = "Bearer " .. bench.token()
wrk.headers["Accept"] = "application/json"
