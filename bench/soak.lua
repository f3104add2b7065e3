-- bench/soak.lua: the mixed load of scripts/soak (a wrk script; see there).
--
--   SOAK_USERS_FILE=build/soak/users.txt SOAK_TOKENS_FILE=build/soak/tokens.txt \
--   SOAK_THREADS=2 wrk -t2 -c16 -d600s --timeout 10s --latency \
--     -s bench/soak.lua http://127.0.0.1:8080
--
-- Each request picks one of its thread's users at random, then:
--   70% GET /api/todos with a random limit/offset and some of completed,
--       priority, q and sort;
--   10% GET /api/todos/{id} of one of the user's seeded todos;
--   10% POST /api/todos (a quarter of them with a fresh Idempotency-Key; one
--       in twenty replays an earlier key with its body, which must answer 201
--       with the todo the key first created);
--    7% PATCH /api/todos/{id} (no If-Match) of a seeded todo;
--    3% DELETE /api/todos/{id} of a todo this thread created.
-- A user holds at most $SOAK_CAP (50) todos created during the run: at the
-- cap a create becomes a delete, and a delete with nothing to delete becomes
-- a create, so over a long run the deletes match the creates and the
-- database stays bounded.
--
-- Why no request can meet a 404: the seeded todos (the targets of GET one
-- and PATCH) are never deleted; a created todo is deleted only after its
-- 201 arrived here, exactly once, and never while a replay of its key is in
-- flight; every user belongs to one wrk thread ((k - 1) % SOAK_THREADS ==
-- tid - 1), so nothing else deletes its todos. A 201 is matched to its user
-- by the title, which names the user ("soak <run> u<k> ...").
--
-- Input files (written by scripts/soak):
--   $SOAK_USERS_FILE   one line per user: "<k> <seeded id>,<seeded id>,..."
--   $SOAK_TOKENS_FILE  one line per user: "<k> <bearer token>"; re-read every
--                      30 s, so that scripts/soak can refresh the tokens
--                      (GET /api/auth/token) before they expire.
-- Environment: SOAK_THREADS (wrk's -t), SOAK_RUN_ID, SOAK_CAP (50),
--   SOAK_RATE (0): requests/s over all threads; 0 = unpaced. Paced by a
--   delay() before every request (a schedule per thread).
--
-- done() prints bench/common.lua's BENCH line, then one SOAK line that
-- scripts/soak parses:
--   SOAK requests=N duration_s=S rps=R p50_ms= p99_ms= max_ms= non2xx=N
--        connect=N read=N write=N timeout=N status=200:N,201:N,...
--        ops=list:N,get:N,create:N,replay:N,patch:N,delete:N
--        replay_same=N replay_new=N dup_id=N unparsed_201=N
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

local run = os.getenv("SOAK_RUN_ID") or tostring(os.time())
local users_file = os.getenv("SOAK_USERS_FILE") or "build/soak/users.txt"
local tokens_file = os.getenv("SOAK_TOKENS_FILE") or "build/soak/tokens.txt"
local nthreads = tonumber(os.getenv("SOAK_THREADS") or "1") or 1
local cap = tonumber(os.getenv("SOAK_CAP") or "50") or 50
local rate = tonumber(os.getenv("SOAK_RATE") or "0") or 0

-- A monotonic clock in milliseconds (wrk's LuaJIT has the ffi).
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } soak_timespec;
int clock_gettime(int clk_id, soak_timespec *tp);
]]
local ts = ffi.new("soak_timespec")
local function now_ms()
   ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
   return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

-- Counters, globals so that done() can read them from each thread.
statuses = {} -- read by common.lua's done()
ops = { list = 0, get = 0, create = 0, replay = 0, patch = 0, delete = 0 }
checks = { replay_same = 0, replay_new = 0, dup_id = 0, unparsed_201 = 0 }

local my = {}      -- this thread's users, an array
local by_k = {}    -- k -> user
local last_reload = 0
local n = 0        -- requests made by this thread

local function read_lines(path)
   local f = io.open(path, "r")
   if not f then return nil end
   local lines = {}
   for line in f:lines() do table.insert(lines, line) end
   f:close()
   return lines
end

local function set_token(u, tok)
   u.token = tok
   u.get_h = { ["Authorization"] = "Bearer " .. tok, ["Accept"] = "application/json" }
   u.json_h = {
      ["Authorization"] = "Bearer " .. tok,
      ["Accept"] = "application/json",
      ["Content-Type"] = "application/json",
   }
end

local function reload_tokens()
   local lines = read_lines(tokens_file)
   if not lines then return end
   for _, line in ipairs(lines) do
      local k, tok = line:match("^(%d+)%s+(%S+)$")
      local u = k and by_k[tonumber(k)]
      if u and tok ~= u.token then set_token(u, tok) end
   end
end

function init(args)
   local lines = read_lines(users_file)
   if not lines then error("soak.lua: cannot read " .. users_file) end
   for _, line in ipairs(lines) do
      local k, csv = line:match("^(%d+)%s+([%d,]+)$")
      k = tonumber(k)
      if k and (k - 1) % nthreads == (tid or 1) - 1 then
         local u = { k = k, seeded = {}, eph = {}, info = {}, by_title = {}, pending_keyed = {} }
         for id in csv:gmatch("%d+") do table.insert(u.seeded, id) end
         if #u.seeded == 0 then error("soak.lua: user " .. k .. " has no seeded todos") end
         table.insert(my, u)
         by_k[k] = u
      end
   end
   if #my == 0 then error("soak.lua: thread " .. tostring(tid) .. " owns no user") end
   reload_tokens()
   for _, u in ipairs(my) do
      if not u.token then error("soak.lua: no token for user " .. u.k .. " in " .. tokens_file) end
   end
   last_reload = now_ms()
   math.randomseed(os.time() * 1000 + (tid or 1))
end

local function pick(t) return t[math.random(#t)] end

local sorts = { "createdAt", "-createdAt", "dueAt", "-dueAt", "priority", "-priority", "title", "-title" }
local prios = { "low", "normal", "high" }
local limits = { 1, 5, 10, 20, 50, 50, 100, 200 }
local words = { "soak", "seed", "patched", "milk", "u1", "zz-no-such-text" }

local function list_req(u)
   ops.list = ops.list + 1
   local q = {}
   if math.random() < 0.7 then table.insert(q, "limit=" .. pick(limits)) end
   if math.random() < 0.4 then table.insert(q, "offset=" .. math.random(0, 120)) end
   if math.random() < 0.3 then table.insert(q, "completed=" .. (math.random() < 0.5 and "true" or "false")) end
   if math.random() < 0.2 then table.insert(q, "priority=" .. pick(prios)) end
   if math.random() < 0.1 then table.insert(q, "q=" .. pick(words)) end
   if math.random() < 0.4 then table.insert(q, "sort=" .. pick(sorts)) end
   local path = "/api/todos"
   if #q > 0 then path = path .. "?" .. table.concat(q, "&") end
   return wrk.format("GET", path, u.get_h)
end

local function get_req(u)
   ops.get = ops.get + 1
   return wrk.format("GET", "/api/todos/" .. pick(u.seeded), u.get_h)
end

local function patch_req(u)
   ops.patch = ops.patch + 1
   local r = math.random(5)
   local body
   if r == 1 then
      body = '{"completed":' .. (math.random() < 0.5 and "true" or "false") .. '}'
   elseif r == 2 then
      body = '{"priority":"' .. pick(prios) .. '"}'
   elseif r == 3 then
      body = '{"title":' .. bench.json_string(string.format("soak %s patched %d-%d", run, tid or 0, n)) .. '}'
   elseif r == 4 then
      if math.random() < 0.5 then
         body = '{"dueAt":null}'
      else
         body = string.format('{"dueAt":"2027-%02d-%02dT%02d:30:00+02:00"}',
            math.random(12), math.random(28), math.random(0, 23))
      end
   else
      body = '{"description":' .. bench.json_string("patched by the soak, " .. n) ..
         ',"completed":false,"priority":"normal"}'
   end
   return wrk.format("PATCH", "/api/todos/" .. pick(u.seeded), u.json_h, body)
end

-- The oldest created todo with no replay in flight, removed from the books
-- before its DELETE leaves, so no later request can name it.
local function delete_req(u)
   for i, id in ipairs(u.eph) do
      local e = u.info[id]
      if e.pending == 0 then
         table.remove(u.eph, i)
         u.info[id] = nil
         if e.title then u.by_title[e.title] = nil end
         ops.delete = ops.delete + 1
         return wrk.format("DELETE", "/api/todos/" .. id, u.get_h)
      end
   end
   return nil
end

local function create_req(u)
   -- Replay a key (same key, same body) now and then.
   if math.random() < 0.05 then
      local keyed = {}
      for _, id in ipairs(u.eph) do
         if u.info[id].key then table.insert(keyed, id) end
      end
      if #keyed > 0 then
         local e = u.info[pick(keyed)]
         e.pending = e.pending + 1
         ops.replay = ops.replay + 1
         local h = {}
         for name, v in pairs(u.json_h) do h[name] = v end
         h["Idempotency-Key"] = e.key
         return wrk.format("POST", "/api/todos", h, e.body)
      end
   end
   ops.create = ops.create + 1
   local title = string.format("soak %s u%d %d-%d", run, u.k, tid or 0, n)
   local body = '{"title":' .. bench.json_string(title) .. ',"priority":"' .. pick(prios) .. '"'
   if math.random() < 0.5 then
      body = body .. ',"description":"made by the soak"'
   end
   if math.random() < 0.3 then
      body = body .. string.format(',"dueAt":"2027-%02d-%02dT12:00:00Z"', math.random(12), math.random(28))
   end
   body = body .. '}'
   if math.random() < 0.25 then
      local key = string.format("soak-%s-%d-%d-%d", run, u.k, tid or 0, n)
      u.pending_keyed[title] = { key = key, body = body }
      local h = {}
      for name, v in pairs(u.json_h) do h[name] = v end
      h["Idempotency-Key"] = key
      return wrk.format("POST", "/api/todos", h, body)
   end
   return wrk.format("POST", "/api/todos", u.json_h, body)
end

function request()
   n = n + 1
   if n % 64 == 0 then
      local t = now_ms()
      if t - last_reload >= 30000 then
         last_reload = t
         reload_tokens()
      end
   end
   local u = my[math.random(#my)]
   local r = math.random()
   if r < 0.70 then
      return list_req(u)
   elseif r < 0.80 then
      return get_req(u)
   elseif r < 0.90 then
      if #u.eph >= cap then
         local d = delete_req(u)
         if d then return d end
      end
      return create_req(u)
   elseif r < 0.97 then
      return patch_req(u)
   else
      return delete_req(u) or create_req(u)
   end
end

-- A 201 is a create (or a replay) of one of this thread's users.
local function created(body)
   local id = body:match('"id"%s*:%s*(%d+)')
   local title = body:match('"title"%s*:%s*"(soak [^"]*)"')
   local k = title and title:match("^soak %S+ u(%d+) ")
   local u = k and by_k[tonumber(k)]
   if not (id and u) then
      checks.unparsed_201 = checks.unparsed_201 + 1
      return
   end
   local e = u.info[id]
   if e then
      if e.pending > 0 then
         e.pending = e.pending - 1
         checks.replay_same = checks.replay_same + 1
      else
         checks.dup_id = checks.dup_id + 1 -- a fresh create answered with an existing todo
      end
      return
   end
   local old = u.by_title[title]
   if old then
      -- The title of a keyed todo we hold: a replay that made a second todo.
      checks.replay_new = checks.replay_new + 1
      local oe = u.info[old]
      if oe and oe.pending > 0 then oe.pending = oe.pending - 1 end
   end
   local pk = u.pending_keyed[title]
   u.pending_keyed[title] = nil
   u.info[id] = { pending = 0, key = pk and pk.key, body = pk and pk.body, title = pk and title }
   if pk then u.by_title[title] = id end
   table.insert(u.eph, id)
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if status == 201 then created(body) end
end

if rate > 0 then
   local interval = nthreads * 1000 / rate -- ms between this thread's requests
   local next_t
   function delay()
      local t = now_ms()
      if not next_t or next_t < t - 1000 then next_t = t end -- catch up at most 1 s
      local slot = next_t
      next_t = slot + interval
      if slot <= t then return 0 end
      return math.floor(slot - t + 0.5)
   end
end

local threads = {}
local base_setup = setup
function setup(thread)
   base_setup(thread)
   table.insert(threads, thread)
end

local base_done = done
function done(summary, latency, requests)
   base_done(summary, latency, requests)
   local o = { list = 0, get = 0, create = 0, replay = 0, patch = 0, delete = 0 }
   local c = { replay_same = 0, replay_new = 0, dup_id = 0, unparsed_201 = 0 }
   local by = {}
   for _, t in ipairs(threads) do
      local to = t:get("ops")
      if type(to) == "table" then
         for name, v in pairs(to) do o[name] = (o[name] or 0) + v end
      end
      local tc = t:get("checks")
      if type(tc) == "table" then
         for name, v in pairs(tc) do c[name] = (c[name] or 0) + v end
      end
      local s = t:get("statuses")
      if type(s) == "table" then
         for code, v in pairs(s) do by[code] = (by[code] or 0) + v end
      end
   end
   local codes = {}
   for code in pairs(by) do table.insert(codes, code) end
   table.sort(codes)
   for i, code in ipairs(codes) do codes[i] = code .. ":" .. by[code] end
   local e = summary.errors
   local secs = summary.duration / 1e6
   io.write(string.format(
      "SOAK requests=%d duration_s=%.3f rps=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%d " ..
      "connect=%d read=%d write=%d timeout=%d status=%s " ..
      "ops=list:%d,get:%d,create:%d,replay:%d,patch:%d,delete:%d " ..
      "replay_same=%d replay_new=%d dup_id=%d unparsed_201=%d\n",
      summary.requests, secs, summary.requests / secs,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
      e.status, e.connect, e.read, e.write, e.timeout,
      #codes > 0 and table.concat(codes, ",") or "-",
      o.list, o.get, o.create, o.replay, o.patch, o.delete,
      c.replay_same, c.replay_new, c.dup_id, c.unparsed_201))
end
