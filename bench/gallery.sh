#!/usr/bin/env bash
# Gallery benchmark on PostgreSQL (AISHA_BENCH_DATABASE_URL, default the local `test` database;
# a fresh schema per run): one user with 10,000 images, a page of 20 (id, url, width, height,
# type, favourite) requested by wrk -t1 -c32 on the same machine. Prints requests/s, p50, p99,
# and SQL statements per request (from /metrics).
# BASELINE=1 serves the same page from a bare axum + sqlx handler instead (benches/gallery_baseline.rs),
# to tell what this machine can do today.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
base_db=${AISHA_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --quiet --bin aisha
[ -n "${BASELINE:-}" ] && cargo build --release --quiet --bench gallery_baseline

schema="bench_$(date +%s%N)"
psql "$base_db" -qc "CREATE SCHEMA $schema"
data=$(mktemp -d)
# The database is on this machine: no TLS on loopback (sqlx would negotiate it otherwise).
sep=$([[ $base_db == *\?* ]] && echo "&" || echo "?")
# One client hammers one page: the budgets are checked (that is part of the cost) but never spent.
export DATABASE_URL="$base_db${sep}sslmode=disable&options=-c%20search_path%3D$schema" AISHA_DATA_DIR="$data" \
  AISHA_BIND=127.0.0.1:18383 RUST_LOG=warn \
  AISHA_RATE_LIMITS=read=100000000/1,write=100000000/1,paid=100000000/1,sign_in=100000000/1
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
if [ -n "${BASELINE:-}" ]; then
  baseline=$(ls -t target/release/deps/gallery_baseline-* | grep -v '\.d$' | head -n1)
  "$baseline" "$DATABASE_URL" "$AISHA_BIND" "$token" >"$data/server.log" 2>&1 &
else
  ./target/release/aisha serve >"$data/server.log" 2>&1 &
fi
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
# PERF=1: a profile of the server (PERF_ARGS, default DWARF call graphs) or, with PERF_ALL=1, of
# the whole machine, into /tmp/perf-gallery.data.
target=(-p "$server"); [ -n "${PERF_ALL:-}" ] && target=(-a)
[ -n "${PERF:-}" ] && (perf record -F 499 ${PERF_ARGS:---call-graph dwarf,16384} "${target[@]}" -o /tmp/perf-gallery.data -- sleep 4 >/dev/null 2>&1 &)
# CPU time as the kernel accounts it (clock ticks), so that the cost of a request can be read
# apart from the machine's speed of the day: the server's user and system time, all of
# PostgreSQL's processes, and the whole machine (everything but idle and iowait).
ticks_of() { awk '{ print $14, $15 }' "/proc/$1/stat"; }
pg_ticks() { for p in $(pgrep -x postgres); do awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null; done | awk '{ s += $1 } END { print s + 0 }'; }
machine_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
read -r server_user server_sys < <(ticks_of "$server"); pg=$(pg_ticks); machine=$(machine_ticks)
result=$(BENCH_TOKEN=$token BENCH_QUERY=$query wrk -t1 -c32 -d"${seconds}s" -s bench/post.lua "$url" | tail -n1)
read -r server_user2 server_sys2 < <(ticks_of "$server"); pg=$(( $(pg_ticks) - pg )); machine=$(( $(machine_ticks) - machine ))
echo "$result"
done_requests=$(sed -E 's/.*\(([0-9]+) requests\).*/\1/' <<<"$result")
awk -v n="$done_requests" -v hz="$(getconf CLK_TCK)" -v u=$((server_user2 - server_user)) -v s=$((server_sys2 - server_sys)) \
    -v pg="$pg" -v m="$machine" 'BEGIN {
  us = 1e6 / hz / n
  printf "CPU per request: server %.0f µs (user %.0f, system %.0f), PostgreSQL %.0f µs, whole machine %.0f µs\n", (u + s) * us, u * us, s * us, pg * us, m * us
}'
[ -n "${BASELINE:-}" ] && exit 0 # one statement per request by construction, and no /metrics
statements=$(( $(metric aisha_sql_statements_total) - statements )); requests=$(( $(graphql_requests) - requests ))
awk -v s="$statements" -v r="$requests" 'BEGIN { printf "SQL statements per request: %.2f (%d over %d requests)\n", s / r, s, r }'
echo "server RSS: $(awk '/VmRSS/ { printf "%.1f MB", $2 / 1024 }' /proc/$server/status)"
