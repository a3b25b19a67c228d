-- wrk script for tests/reliability/load.py: cycles through one GET of every
-- worker the host layer runs and counts answers other than 200.
local paths = {}
for p in string.gmatch(os.getenv("LOAD_PATHS") or "/tools", "[^ ]+") do
  paths[#paths + 1] = p
end
local threads = {}
local i = 0
bad = 0  -- global: done() reads it from each thread

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function request()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end

function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do
    total = total + (t:get("bad") or 0)
  end
  io.write(string.format("LOAD requests=%d bad_status=%d socket_errors=%d p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests, total,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
