-- wrk script for benchmarks/lookup_wrk.py: GET /v1/customers/lookup?email= for a random
-- e-mail per request, counting every status code.
--
--   wrk -t1 -c32 -d20s --latency -s benchmarks/lookup.lua http://127.0.0.1:8000 -- EMAILS SECRET
--
-- EMAILS is a file of e-mails, one a line; SECRET a key with customers:read. With the
-- environment variable LOOKUP_RATE (requests/s for each wrk thread) requests leave on a
-- fixed schedule instead of as soon as a connection is free: a connection that comes free
-- takes the next slot and waits for it, or goes at once if the slot is past (catching up
-- after a stall, so the rate holds while the connections last). done() prints lines that
-- lookup_wrk.py reads: "status CODE N", "latency_us P VALUE", "requests N", ...

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } lookup_timespec;
int clock_gettime(int clock, lookup_timespec *now);
]]
local clock = ffi.new("lookup_timespec")

local function now_ms()
  ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local threads = {}
local requests = {}
local rate = tonumber(os.getenv("LOOKUP_RATE") or "0")
local interval, due = 0, nil
statuses = {}
seed = 1

function setup(thread)
  table.insert(threads, thread)
  thread:set("seed", #threads)
end

local function escape(text)
  return (text:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

function init(args)
  local headers = { Authorization = "Bearer " .. args[2] }
  for email in io.lines(args[1]) do
    requests[#requests + 1] =
      wrk.format("GET", "/v1/customers/lookup?email=" .. escape(email), headers)
  end
  math.randomseed(seed * 7919)
  if rate > 0 then interval = 1000 / rate end
end

function request()
  return requests[math.random(#requests)]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

if rate > 0 then
  -- Defined only when pacing: wrk takes a delay() as a timer per request.
  function delay()
    local now = now_ms()
    due = (due or now) + interval
    if due <= now then return 0 end
    return math.floor(due - now + 0.5)
  end
end

function done(summary, latency, _)
  local total = {}
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("statuses")) do
      total[code] = (total[code] or 0) + n
    end
  end
  for code, n in pairs(total) do
    io.write(string.format("status %d %d\n", code, n))
  end
  for _, p in ipairs({ 50, 90, 99, 99.9 }) do
    io.write(string.format("latency_us %g %d\n", p, latency:percentile(p)))
  end
  io.write(string.format("latency_us max %d\n", latency.max))
  io.write(string.format("requests %d\n", summary.requests))
  io.write(string.format("duration_us %d\n", summary.duration))
  for kind, n in pairs(summary.errors) do
    io.write(string.format("error %s %d\n", kind, n))
  end
end
