-- bench/mixed.lua: 80 % reads, 20 % writes, spread over many users, each
-- request as a randomly picked user with that user's own bearer token:
--   40 % GET /api/todos                 (the user's default page)
--   40 % GET /api/todos/{id}            (one of the user's todos)
--   10 % POST /api/todos                (a unique title)
--   10 % PATCH /api/todos/{id}          (a unique title, no If-Match)
--
--   BENCH_MIX_FILE=build/bench/mixed.users \
--     wrk -t2 -c64 -d10s --latency -s bench/mixed.lua http://127.0.0.1:8080
--
-- $BENCH_MIX_FILE: one user a line, "TOKEN ID,ID,..." (the ids of todos
-- that user owns; bench/run.sh writes it for 1,000 users). $BENCH_RUN_ID
-- names the run in the titles. Prints the per-status breakdown; a 401 or
-- 404 means a token or an id does not belong where it should.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")
bench.count_statuses()

local path = os.getenv("BENCH_MIX_FILE") or ""
local users = {}
local f = io.open(path, "r")
if not f then
   error("BENCH_MIX_FILE must name the users file (got '" .. path .. "')")
end
for line in f:lines() do
   local tok, list = line:match("^(%S+)%s+(%S+)$")
   if tok then
      local ids = {}
      for id in list:gmatch("[0-9]+") do
         table.insert(ids, id)
      end
      if #ids > 0 then
         table.insert(users, {
            ids = ids,
            read = { ["Authorization"] = "Bearer " .. tok, ["Accept"] = "application/json" },
            write = {
               ["Authorization"] = "Bearer " .. tok,
               ["Accept"] = "application/json",
               ["Content-Type"] = "application/json",
            },
         })
      end
   end
end
f:close()
if #users == 0 then
   error("no users in " .. path)
end

local run = os.getenv("BENCH_RUN_ID") or tostring(os.time())
local n = 0
local seeded = false

function request()
   if not seeded then
      -- setup() numbered the threads: each draws its own sequence.
      math.randomseed(os.time() * 100 + (tid or 0))
      seeded = true
   end
   n = n + 1
   local u = users[math.random(#users)]
   local r = math.random()
   if r < 0.4 then
      return wrk.format("GET", "/api/todos", u.read)
   end
   local id = u.ids[math.random(#u.ids)]
   if r < 0.8 then
      return wrk.format("GET", "/api/todos/" .. id, u.read)
   end
   local title = bench.json_string(string.format("bench mix %s %d-%d", run, tid or 0, n))
   if r < 0.9 then
      return wrk.format("POST", "/api/todos", u.write, '{"title":' .. title .. ',"priority":"normal"}')
   end
   return wrk.format("PATCH", "/api/todos/" .. id, u.write, '{"title":' .. title .. '}')
end
