-- bench/patch.lua: PATCH /api/todos/{id} without If-Match, a JSON body that
-- sets the title to one unique to every request ("bench patch <run>
-- <thread>-<n>"), bearer token as in list.lua.
--
--   BENCH_TODO_IDS=17,18,19 wrk -t2 -c64 -d10s --latency -s bench/patch.lua http://127.0.0.1:8080
--
-- $BENCH_TODO_IDS: comma-separated ids of the token's user's todos (one id
-- is fine too). Each thread takes them round-robin, one per request,
-- starting at its own offset, so that concurrent writers spread over the
-- set (bench/run.sh passes 100) instead of all waiting for one row's lock;
-- without If-Match they all succeed, one after another on a shared row.
-- $BENCH_RUN_ID names the run in the titles (default: the start time).
-- Prints the per-status breakdown, so the 200s (committed updates) show.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")
bench.count_statuses()

local ids = {}
local list = os.getenv("BENCH_TODO_IDS") or ""
for id in list:gmatch("[^,%s]+") do
   if not id:match("^[1-9][0-9]*$") then
      error("BENCH_TODO_IDS: not a todo's id: '" .. id .. "'")
   end
   table.insert(ids, id)
end
if #ids == 0 then
   error("BENCH_TODO_IDS must name at least one todo's id")
end

local run = os.getenv("BENCH_RUN_ID") or tostring(os.time())
local headers = bench.json_headers()
local n = 0
local first

function request()
   -- tid is set by setup() before the thread's first request; threads
   -- start a golden-ratio step apart in the set.
   first = first or math.floor(((tid or 1) - 1) * 0.618034 * #ids)
   n = n + 1
   local id = ids[(first + n - 1) % #ids + 1]
   local title = string.format("bench patch %s %d-%d", run, tid or 0, n)
   local body = '{"title":' .. bench.json_string(title) .. '}'
   return wrk.format("PATCH", "/api/todos/" .. id, headers, body)
end
