-- POSTs a number and prints the latency summary as one JSON line (microseconds).
-- With WRK_UNIQUE=1, each request's body is a distinct counter, so every message can be
-- followed end to end (bench/pipeline.mjs).
wrk.method = "POST"
wrk.body = "12345"
wrk.headers["Content-Type"] = "text/plain"

if os.getenv("WRK_UNIQUE") == "1" then
  local counter = 0
  request = function()
    counter = counter + 1
    return wrk.format(nil, nil, nil, tostring(counter))
  end
end

done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format(
    '{"requests":%d,"errors":%d,"rps":%.1f,"min_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout,
    summary.requests / secs,
    latency.min, latency:percentile(50), latency:percentile(99), latency.max))
end
