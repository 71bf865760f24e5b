-- wrk at a fixed rate (wrk2 is not in Debian): `wrk ... -s benches/paced.lua URL -- RATE CONNECTIONS`.
-- Every connection waits CONNECTIONS / RATE seconds between its requests, so all of them together
-- send about RATE requests a second (a slow answer delays that connection's next request: compare
-- the number of requests with RATE x duration).
local wait_ms = 0

function init(args)
  local rate = tonumber(args[1]) or 100
  local connections = tonumber(args[2]) or 8
  wait_ms = 1000 * connections / rate
end

function delay()
  return wait_ms
end
