#!/usr/bin/env bash
# Gallery benchmark on PostgreSQL (AISHA_BENCH_DATABASE_URL, default the local `test` database;
# a fresh schema per run): one user with 10,000 images, a page of 20 (id, url, width, height,
# type, favourite) requested by wrk -t1 -c32 on the same machine. Prints requests/s, p50, p99,
# and SQL statements per request (from /metrics).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
base_db=${AISHA_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --quiet --bin aisha

schema="bench_$(date +%s%N)"
psql "$base_db" -qc "CREATE SCHEMA $schema"
data=$(mktemp -d)
# The database is on this machine: no TLS on loopback (sqlx would negotiate it otherwise).
export DATABASE_URL="$base_db?sslmode=disable&options=-c%20search_path%3D$schema" AISHA_DATA_DIR="$data" \
  AISHA_BIND=127.0.0.1:18383 RUST_LOG=warn
token=$(./target/release/aisha token --telegram-id 1 --username bench)
psql "$base_db" -q <<SQL
SET search_path = $schema;
INSERT INTO images (user_id, kind, model, prompt, prompt_folded, aspect_ratio, bucket, storage_key, content_type,
                    width, height, byte_size, sha256, favorited_at, created_at)
SELECT 1, (ARRAY['IMAGEN4','LOCAL'])[1 + i % 2], 'fal-ai/imagen4/preview', 'picture ' || i, 'picture ' || i, '1:1',
       'images', 'u/1/bench/' || i || '.png', 'image/png', 1024, 1024, 100000, 'x',
       CASE WHEN i % 4 = 0 THEN 1 END, 1790000000000000 + i::bigint * 1000000
FROM generate_series(1, 10000) AS i;
ANALYZE images;
SQL
./target/release/aisha serve >"$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; psql "$base_db" -qc "DROP SCHEMA $schema CASCADE" 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 50); do curl -fs http://127.0.0.1:18383/healthz >/dev/null && break; sleep 0.1; done

url=http://127.0.0.1:18383/graphql
query=${GALLERY_QUERY:-'{ gallery(first: 20) { edges { node { id url width height type favorite } } } }'}
metric() { curl -s http://127.0.0.1:18383/metrics | awk -v m="$1" '$1 == m { print $2 }'; }
graphql_requests() { curl -s http://127.0.0.1:18383/metrics | awk '/^aisha_http_requests_total\{route="graphql"/ { n += $2 } END { print n + 0 }'; }
BENCH_TOKEN=$token BENCH_QUERY=$query wrk -t1 -c32 -d2s -s bench/post.lua "$url" >/dev/null # warm-up
statements=$(metric aisha_sql_statements_total); requests=$(graphql_requests)
echo "a page of 20 of 10,000 images, wrk -t1 -c32 -d${seconds}s:"
[ -n "${PERF:-}" ] && (perf record -F 999 -g -p $server -o /tmp/perf-gallery.data -- sleep 4 >/dev/null 2>&1 &)
BENCH_TOKEN=$token BENCH_QUERY=$query wrk -t1 -c32 -d"${seconds}s" -s bench/post.lua "$url" | tail -n1
statements=$(( $(metric aisha_sql_statements_total) - statements )); requests=$(( $(graphql_requests) - requests ))
awk -v s="$statements" -v r="$requests" 'BEGIN { printf "SQL statements per request: %.2f (%d over %d requests)\n", s / r, s, r }'
echo "server RSS: $(awk '/VmRSS/ { printf "%.1f MB", $2 / 1024 }' /proc/$server/status)"
