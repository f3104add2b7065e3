-- bench/common.lua: shared by the wrk scripts in bench/ (loaded with dofile
-- from the script's own directory). Not a wrk script by itself.
--
-- Gives every script:
--   * setup(): numbers the wrk threads (global `tid` in each thread) and
--     remembers them so that done() can sum what they counted;
--   * done(): one machine-readable line that bench/run.sh parses, then a
--     human one:
--       BENCH requests=N duration_s=S rps=R p50_ms=.. p99_ms=.. max_ms=..
--             non2xx=N errors=N timeouts=N status=200:N,429:N
--     `non2xx` is wrk's count of responses with status >= 400 (none of the
--     routes benchmarked answers 1xx/3xx); `errors` are socket errors
--     (connect, read, write) plus timeouts, and `timeouts` those timeouts
--     alone (wrk's --timeout). `status` is the breakdown by
--     code, present only for scripts that called bench.count_statuses()
--     (a Lua response() callback costs wrk CPU on every response, so the
--     hot read benchmarks leave it out);
--   * bench.token(): the bearer token from $BENCH_TOKEN, else from the file
--     $BENCH_TOKEN_FILE (default build/bench/token);
--   * bench.json_string(s): s as a JSON string literal;
--   * bench.json_headers(): the headers of a JSON write with the token.

bench = {}

local threads = {}
local counter = 1

function setup(thread)
   thread:set("tid", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

function bench.token()
   local tok = os.getenv("BENCH_TOKEN")
   if tok and tok ~= "" then
      return tok
   end
   local path = os.getenv("BENCH_TOKEN_FILE") or "build/bench/token"
   local f = io.open(path, "r")
   if not f then
      error("no bearer token: set BENCH_TOKEN or BENCH_TOKEN_FILE (tried " .. path .. ")")
   end
   tok = f:read("*l")
   f:close()
   if not tok or tok == "" then
      error("empty token file " .. path)
   end
   return tok
end

function bench.json_string(s)
   s = s:gsub('[%c"\\]', function(c)
      if c == '"' then return '\\"' end
      if c == "\\" then return "\\\\" end
      return string.format("\\u%04x", c:byte())
   end)
   return '"' .. s .. '"'
end

function bench.count_statuses()
   statuses = {}
   function response(status, headers, body)
      statuses[status] = (statuses[status] or 0) + 1
   end
end

function done(summary, latency, requests)
   local secs = summary.duration / 1e6
   local e = summary.errors
   local by = {}
   local breakdown = ""
   for _, t in ipairs(threads) do
      local s = t:get("statuses")
      if type(s) == "table" then
         for code, n in pairs(s) do
            by[code] = (by[code] or 0) + n
         end
      end
   end
   local codes = {}
   for code in pairs(by) do table.insert(codes, code) end
   table.sort(codes)
   for i, code in ipairs(codes) do
      codes[i] = code .. ":" .. by[code]
   end
   if #codes > 0 then
      breakdown = " status=" .. table.concat(codes, ",")
   end
   io.write(string.format(
      "BENCH requests=%d duration_s=%.3f rps=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%d errors=%d timeouts=%d%s\n",
      summary.requests, secs, summary.requests / secs,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      latency.max / 1000, e.status, e.connect + e.read + e.write + e.timeout,
      e.timeout, breakdown))
   io.write(string.format(
      "%d responses in %.1fs (%.0f/s); non-2xx: %d; socket errors: connect %d, read %d, write %d, timeout %d\n",
      summary.requests, secs, summary.requests / secs, e.status,
      e.connect, e.read, e.write, e.timeout))
end

function bench.json_headers()
   return {
      ["Authorization"] = "Bearer " .. bench.token(),
      ["Content-Type"] = "application/json",
      ["Accept"] = "application/json",
   }
end
