#!/usr/bin/env bash
# Job engine benchmark: one release server on PostgreSQL (AISHA_BENCH_DATABASE_URL, default the
# local `test` database; a fresh schema per run) follows 2,000 concurrent jobs of a fake FAL
# queue (10 s latency, polling) to completion. Prints jobs/s, CPU time per job and RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n "$(ulimit -Hn)"
base_db=${AISHA_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
cargo build --release --quiet --bin aisha
cargo build --release --quiet --bench jobs
bench=$(ls -t target/release/deps/jobs-* | grep -v '\.d$' | head -n1)
schema="bench_$(date +%s%N)"
psql "$base_db" -qc "CREATE SCHEMA $schema"
data=$(mktemp -d)
export DATABASE_URL="$base_db?sslmode=disable&options=-c%20search_path%3D$schema" AISHA_DATA_DIR="$data" RUST_LOG=warn
# The schema must exist before the bench inserts its users: the server migrates it on start.
"$bench" ./target/release/aisha 18284 || true
psql "$base_db" -qc "DROP SCHEMA $schema CASCADE" 2>/dev/null
rm -rf "$data"
