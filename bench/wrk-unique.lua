-- POSTs a distinct body per request (a counter), so each message can be followed end to end.
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain"

request = function()
  counter = counter + 1
  return wrk.format(nil, nil, nil, tostring(counter))
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
