-- bench/health.lua: GET /api/health, no token.
--
--   wrk -t2 -c64 -d10s --latency -s bench/health.lua http://127.0.0.1:8080
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

wrk.method = "GET"
wrk.path = "/api/health"
wrk.headers["Accept"] = "application/json"
