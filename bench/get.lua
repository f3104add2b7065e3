-- bench/get.lua: GET /api/todos/{id} of one existing todo, bearer token as
-- in list.lua.
--
--   BENCH_TODO_ID=17 wrk -t2 -c64 -d10s --latency -s bench/get.lua http://127.0.0.1:8080
--
-- $BENCH_TODO_ID: the todo's id (one of the token's user; bench/run.sh
-- takes the newest of the todos it seeds). Prints the per-status
-- breakdown, so a 404 (wrong id or user) shows at once.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")
bench.count_statuses()

local id = os.getenv("BENCH_TODO_ID") or ""
if not id:match("^[1-9][0-9]*$") then
   error("BENCH_TODO_ID must be a todo's id (got '" .. id .. "')")
end
wrk.method = "GET"
wrk.path = "/api/todos/" .. id
wrk.headers["Authorization"] = "Bearer " .. bench.token()
wrk.headers["Accept"] = "application/json"
