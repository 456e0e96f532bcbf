#!/usr/bin/env bash
# Benchmark of the GraphQL endpoint through the whole middleware stack (request id, metrics,
# body limit, bearer-token auth, depth/complexity limits, error coding) on the embedded defaults.
# Prints requests/s, p50 and p99 from wrk on the same machine, and the server's RSS idle and
# after the load. Usage: bench/graphql.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-32}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --quiet --bin aisha

data=$(mktemp -d)
# One client at full speed: the budgets are checked (that is part of the cost) but never spent.
export AISHA_DATA_DIR="$data" AISHA_BIND=127.0.0.1:18181 RUST_LOG=warn AISHA_RATE_LIMITS=read=100000000/1,write=100000000/1,paid=100000000/1,sign_in=100000000/1
token=$(./target/release/aisha token --telegram-id 1 --username bench)
./target/release/aisha serve >"$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 50); do curl -fs http://127.0.0.1:18181/healthz >/dev/null && break; sleep 0.1; done
sleep 1
rss() { awk '/VmRSS/ { printf "%.1f MB", $2 / 1024 }' "/proc/$server/status"; }
echo "idle RSS: $(rss)"

url=http://127.0.0.1:18181/graphql
wrk -t1 -c"$connections" -d2s -s bench/post.lua "$url" >/dev/null  # warm-up
echo "{ __typename } with a bearer token, wrk -t1 -c$connections -d${seconds}s:"
BENCH_TOKEN=$token wrk -t1 -c"$connections" -d"${seconds}s" -s bench/post.lua "$url" | tail -n1
echo "{ me { balance } } (token resolved against the database), same load:"
BENCH_TOKEN=$token BENCH_QUERY='{ me { balance } }' wrk -t1 -c"$connections" -d"${seconds}s" -s bench/post.lua "$url" | tail -n1
echo "RSS after load: $(rss)"
