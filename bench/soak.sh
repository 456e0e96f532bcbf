#!/usr/bin/env bash
# Soak: two release instances for N minutes (default 5) on PostgreSQL (AISHA_BENCH_DATABASE_URL,
# default the local `test` database; a fresh schema per run), Redis (REDIS_URL, default the local
# one) and, when S3_ENDPOINT, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY are set, S3 (a shared
# data folder otherwise), under mixed load; prints RSS and connections every 15 s, then checks
# the books (benches/soak.rs). Exits 1 if anything was lost.
#   bash bench/soak.sh 10
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n "$(ulimit -Hn)"
minutes=${1:-5}
base_db=${AISHA_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
cargo build --release --quiet --bin aisha
cargo build --release --quiet --bench soak
bench=$(ls -t target/release/deps/soak-* | grep -v '\.d$' | head -n1)
schema="soak_$(date +%s%N)"
psql "$base_db" -qc "CREATE SCHEMA $schema"
data=$(mktemp -d)
run=$(date +%s)
if [ -n "${S3_ENDPOINT:-}" ]; then
  export S3_BUCKET_IMAGES="soak-$run-images" S3_BUCKET_PHOTOS="soak-$run-photos"
fi
export DATABASE_URL="$base_db?sslmode=disable&options=-c%20search_path%3D$schema" AISHA_DATA_DIR="$data" \
  REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379} AISHA_SOAK_LOGS="$data"
status=0
"$bench" ./target/release/aisha "$minutes" || status=$?
[ "$status" -eq 0 ] || echo "instance logs: $data/soak-a.log $data/soak-b.log"
psql "$base_db" -qc "DROP SCHEMA $schema CASCADE" 2>/dev/null
[ "$status" -ne 0 ] || rm -rf "$data"
exit "$status"
