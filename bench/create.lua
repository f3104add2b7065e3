-- bench/create.lua: POST /api/todos, a JSON body with a title unique to
-- every request ("bench <run> <thread>-<n>"), bearer token as in list.lua.
--
--   wrk -t2 -c64 -d10s --latency -s bench/create.lua http://127.0.0.1:8080
--
-- $BENCH_RUN_ID names the run in the titles (default: the start time).
-- Prints the per-status breakdown, so the 201s (committed creates) show.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")
bench.count_statuses()

local run = os.getenv("BENCH_RUN_ID") or tostring(os.time())
local headers = bench.json_headers()
local n = 0

function request()
   n = n + 1
   local title = string.format("bench %s %d-%d", run, tid or 0, n)
   local body = '{"title":' .. bench.json_string(title) .. ',"priority":"normal"}'
   return wrk.format("POST", "/api/todos", headers, body)
end
