-- bench/signin.lua: POST /api/auth/sign-in/email, the same account over and
-- over (each one a full scrypt verification in todod unless it is shed).
--
--   BENCH_EMAIL=a@b.invalid BENCH_PASSWORD=... \
--     wrk -t1 -c16 -d10s --latency -s bench/signin.lua http://127.0.0.1:8080
--
-- Credentials: $BENCH_EMAIL and $BENCH_PASSWORD, else the JSON body in the
-- file $BENCH_SIGNIN_FILE (default build/bench/signin.json, written by
-- bench/run.sh). Prints the per-status breakdown: 200 signed in, 429 shed
-- (by nginx's limit_req or by todod's password-work limit).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")
bench.count_statuses()

local email, password = os.getenv("BENCH_EMAIL"), os.getenv("BENCH_PASSWORD")
local body
if email and password then
   body = '{"email":' .. bench.json_string(email) ..
      ',"password":' .. bench.json_string(password) .. '}'
else
   local path = os.getenv("BENCH_SIGNIN_FILE") or "build/bench/signin.json"
   local f = io.open(path, "r")
   if not f then
      error("no credentials: set BENCH_EMAIL and BENCH_PASSWORD or BENCH_SIGNIN_FILE (tried " .. path .. ")")
   end
   body = f:read("*a")
   f:close()
end

wrk.method = "POST"
wrk.path = "/api/auth/sign-in/email"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"

-- $BENCH_SIGNIN_DELAY_MS > 0 paces each connection (a pause before every
-- request) instead of the default unpaced flood.
local pause = tonumber(os.getenv("BENCH_SIGNIN_DELAY_MS") or "0") or 0
if pause > 0 then
   function delay()
      return pause
   end
end
