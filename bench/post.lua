-- wrk script: POSTs one GraphQL query (BENCH_QUERY) with an optional bearer token (BENCH_TOKEN).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/graphql-response+json"
local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
local query = os.getenv("BENCH_QUERY") or "{ __typename }"
wrk.body = '{"query":' .. string.format("%q", query):gsub("\\\n", "\\n") .. '}'

done = function(summary, latency, requests)
  io.write(string.format("requests/s: %.0f  p50: %.2f ms  p99: %.2f ms  errors: %d non-2xx, %d socket  (%d requests)\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.requests))
end
