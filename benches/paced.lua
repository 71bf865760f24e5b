-- wrk at a fixed rate (wrk2 is not in Debian): `wrk ... -s benches/paced.lua URL -- RATE CONNECTIONS`.
-- Every connection waits about CONNECTIONS / RATE seconds between its requests, so all of them
-- together send about RATE requests a second (a slow answer delays that connection's next request:
-- compare the number of requests with RATE x duration). Each wait is drawn uniformly between half
-- and one and a half times the mean: with a fixed wait, the connections, started together, stay in
-- step and arrive as bursts of CONNECTIONS requests at once, which measures the bursts' queue, not
-- the server's latency at that rate.
local wait_ms = 0

function init(args)
  local rate = tonumber(args[1]) or 100
  local connections = tonumber(args[2]) or 8
  wait_ms = 1000 * connections / rate
  -- Each wrk thread has its own Lua state: seed each differently (the table's address).
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
end

function delay()
  return wait_ms * (0.5 + math.random())
end
