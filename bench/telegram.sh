#!/usr/bin/env bash
# Telegram webhook benchmark: 1,000 updates/s for 10 s against a release server on PostgreSQL
# (AISHA_BENCH_DATABASE_URL, default the local `test` database; a fresh schema per run), with a
# fake Bot API taking the replies. Prints acknowledgement latencies and the exactly-once check.
# Set REDIS_URL to run the dedupe and state on Redis instead of in-process.
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n "$(ulimit -Hn)"
base_db=${AISHA_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
cargo build --release --quiet --bin aisha
cargo build --release --quiet --bench telegram
bench=$(ls -t target/release/deps/telegram-* | grep -v '\.d$' | head -n1)
schema="bench_$(date +%s%N)"
psql "$base_db" -qc "CREATE SCHEMA $schema"
data=$(mktemp -d)
export DATABASE_URL="$base_db?sslmode=disable&options=-c%20search_path%3D$schema" AISHA_DATA_DIR="$data" RUST_LOG=warn
"$bench" ./target/release/aisha 18283 || true
psql "$base_db" -qc "DROP SCHEMA $schema CASCADE" 2>/dev/null
rm -rf "$data"
