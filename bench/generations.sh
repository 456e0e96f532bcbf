#!/usr/bin/env bash
# Generation benchmarks on PostgreSQL (AISHA_BENCH_DATABASE_URL, default the local `test`
# database; a fresh schema is made for each run): 1,000 local-provider jobs end to end, and
# 1,000 subscribers of one generation. Prints jobs/s, fan-out latencies and the server's RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n "$(ulimit -Hn)"
base_db=${AISHA_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
cargo build --release --quiet --bin aisha
cargo build --release --quiet --bench generations
bench=$(ls -t target/release/deps/generations-* | grep -v '\.d$' | head -n1)

run() { # run <mode> <latency ms>
  local mode=$1 latency=$2 schema data
  schema="bench_$(date +%s%N)"
  psql "$base_db" -qc "CREATE SCHEMA $schema"
  data=$(mktemp -d)
  export DATABASE_URL="$base_db?sslmode=disable&options=-c%20search_path%3D$schema" AISHA_DATA_DIR="$data" \
    AISHA_BIND=127.0.0.1:18282 RUST_LOG=warn AISHA_LOCAL_LATENCY_MS=$latency AISHA_LOCAL_IMAGE_SIZE=64 \
    AISHA_WELCOME_BONUS=100000 AISHA_JOB_POLL_MS=100 AISHA_RATE_LIMITS=read=100000000/1,write=100000000/1,paid=100000000/1,sign_in=100000000/1
  token=$(./target/release/aisha token --telegram-id 1)
  ./target/release/aisha serve >"$data/server.log" 2>&1 &
  local server=$!
  for _ in $(seq 50); do curl -fs http://127.0.0.1:18282/healthz >/dev/null && break; sleep 0.1; done
  "$bench" "$mode" http://127.0.0.1:18282 "$token" "$server" || true
  kill $server; wait $server 2>/dev/null || true
  psql "$base_db" -qc "DROP SCHEMA $schema CASCADE" 2>/dev/null
  rm -rf "$data"
}

run jobs 0
run fanout 5000
