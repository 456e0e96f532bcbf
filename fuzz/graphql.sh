#!/usr/bin/env bash
# Generated GraphQL operations against a running server (schemathesis, from schema.graphql):
# fails on any 5xx, any error without extensions.code, or any INTERNAL (checks.py). Every
# operation but the upload (its Upload scalar has no generator) is fuzzed, signed in as a user.
# Usage: fuzz/graphql.sh [examples per operation, default 30]; installs schemathesis in
# fuzz/.venv on first use. Needs target/debug/aisha (cargo build).
set -euo pipefail
cd "$(dirname "$0")"
examples=${1:-30}
[ -x .venv/bin/st ] || { python3 -m venv .venv && .venv/bin/pip install -q "schemathesis==4.32.5"; }
data=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# One client at full speed: budgets it never reaches; credits for every paid operation it tries.
export AISHA_DATA_DIR="$data" AISHA_BIND="127.0.0.1:$port" RUST_LOG=warn AISHA_WELCOME_BONUS=1000000 \
  AISHA_RATE_LIMITS="read=1000000/1,write=1000000/1,paid=1000000/1,sign_in=1000000/1"
../target/debug/aisha serve >"$data/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 60); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.5; done
token=$(../target/debug/aisha token --telegram-id 1 --username fuzz)
SCHEMATHESIS_HOOKS=checks PYTHONPATH=. .venv/bin/st run ../schema.graphql --url "http://127.0.0.1:$port/graphql" \
  -H "Authorization: Bearer $token" -n "$examples" --exclude-name Mutation.addAvatarPhotos \
  --checks never_a_5xx,errors_are_coded_and_never_internal --no-color \
  || { echo "--- server log"; tail -50 "$data/server.log"; exit 1; }
