-- wrk script for bench/intake.py: POST one JSON submission per request, each with its own
-- Idempotency-Key, count the answers per status and keep the order numbers of the 201s.
-- Settings come from the environment (wrk's main state, where done() runs, has no args):
--   BENCH_PATH   path to POST to (/api/v1/orders or /_bench/floor)
--   BENCH_TAG    run tag, written into every description so the run's orders can be counted
--   BENCH_TOKEN  bearer token (empty: no Authorization header)
--   BENCH_OUT    file that receives the 201 numbers, one a line
--   BENCH_CATEGORY, BENCH_PLACE  codes seeded by bench/setup_helper.py
-- done() prints one line: "BENCH_JSON {...}".

local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  path = os.getenv("BENCH_PATH") or "/"
  tag = os.getenv("BENCH_TAG") or "run"
  category = os.getenv("BENCH_CATEGORY") or "bench-lamp"
  place = os.getenv("BENCH_PLACE") or "B01-101"
  local token = os.getenv("BENCH_TOKEN") or ""
  math.randomseed(os.time() * 1000 + tid * 7919)
  salt = string.format("%06x%06x", math.random(0, 0xffffff), math.random(0, 0xffffff))
  sent = 0
  created = 0
  other = 0
  statuses = {}
  numbers = {}
  hdrs = { ["Content-Type"] = "application/json" }
  if token ~= "" then
    hdrs["Authorization"] = "Bearer " .. token
  end
end

function request()
  sent = sent + 1
  local key = string.format("%s-%d-%s-%d", tag, tid, salt, sent)
  hdrs["Idempotency-Key"] = key
  local body = string.format(
    '{"description":"bench %s %s 灯不亮","category":"%s","place":"%s",'
      .. '"reporter_name":"压测","reporter_phone":"13800138000","urgency":"normal",'
      .. '"channel":"partner"}',
    tag, key, category, place)
  return wrk.format("POST", path, hdrs, body)
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
    numbers[#numbers + 1] = string.match(body, '"number"%s*:%s*"([^"]*)"') or "?"
  else
    other = other + 1
    local s = tostring(status)
    statuses[s] = (statuses[s] or 0) + 1
  end
end

local function json_obj(t)
  local parts = {}
  for k, v in pairs(t) do
    parts[#parts + 1] = string.format('"%s":%d', k, v)
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
  local tsent, tcreated, tother, tstatuses = 0, 0, 0, {}
  local out = io.open(os.getenv("BENCH_OUT") or "/dev/null", "w")
  for _, t in ipairs(threads) do
    tsent = tsent + t:get("sent")
    tcreated = tcreated + t:get("created")
    tother = tother + t:get("other")
    for k, v in pairs(t:get("statuses")) do
      tstatuses[k] = (tstatuses[k] or 0) + v
    end
    for _, n in ipairs(t:get("numbers")) do
      out:write(n, "\n")
    end
  end
  out:close()
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"duration_us":%d,"responses":%d,"sent":%d,"created":%d,"other":%d,'
      .. '"statuses":%s,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"latency_us":{"p50":%d,"p95":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.duration, summary.requests, tsent, tcreated, tother, json_obj(tstatuses),
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    latency.mean))
end
