-- wrk at a fixed rate (wrk2 is not in Debian):
-- `wrk -tTHREADS -cCONNECTIONS ... -s benches/paced.lua URL -- RATE CONNECTIONS THREADS`.
-- Each wrk thread keeps a schedule of RATE / THREADS requests a second, evenly spaced from its
-- start, as wrk2's constant throughput does: when an answer comes, that connection's next request
-- takes the thread's next free slot and waits for it. When the slots have fallen behind (a slow
-- answer), the schedule goes on from now: a slow server is not sent a burst to catch up, so the
-- achieved rate is at most RATE (compare the number of requests with RATE x duration).
--
-- wrk's timers count whole milliseconds: a wait is rounded up or down at random, and the schedule
-- is kept on LuaJIT's clock so that rounding never drifts the rate (a wait cut down to whole
-- milliseconds, as a plain `delay()` of CONNECTIONS / RATE would be, sent more requests than
-- RATE: 9,749 a second asked for 8,139).
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } paced_timespec;
  int clock_gettime(int clock, paced_timespec *ts);
]]
local CLOCK_MONOTONIC = 1
local now_ts = ffi.new("paced_timespec")

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now_ts)
  return tonumber(now_ts.tv_sec) * 1000 + tonumber(now_ts.tv_nsec) / 1e6
end

local period_ms = 10
local next_ms = 0

function init(args)
  local rate = tonumber(args[1]) or 100
  local connections = tonumber(args[2]) or 8
  local threads = tonumber(args[3]) or 2
  period_ms = 1000 * threads / rate
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
  -- Every connection sends its first request at the start: those take the first slots.
  next_ms = now_ms() + math.max(1, math.floor(connections / threads)) * period_ms
end

function delay()
  local now = now_ms()
  local due = math.max(next_ms, now)
  next_ms = due + period_ms
  -- Rounded up or down at random (in proportion to the fraction), so that the requests of
  -- neighbouring slots do not all leave at the same millisecond tick as a burst.
  return math.floor(due - now + math.random())
end
