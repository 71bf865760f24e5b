#!/usr/bin/env bash
# Benchmark of the Organizations page (issue: organizations). Seeds 100,000 organizations, starts
# the release server, and measures with wrk, in one run: /healthz, the Organizations page (page 1),
# a search, and page 1,000. Prints requests per second, latencies and the ratios against targets.
#
#   benches/organizations.sh                 # SQLite
#   BACKEND=postgres benches/organizations.sh
#
# Environment: ORGS (default 100000), DURATION (default 10s), CONNECTIONS (default 8),
# ROSTER_TEST_PG_URL (an admin URL on the PostgreSQL server, as for the tests).
set -euo pipefail
cd "$(dirname "$0")/.."

ORGS="${ORGS:-100000}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-8}"
BACKEND="${BACKEND:-sqlite}"
PORT="${PORT:-18731}"

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
cargo build --release --quiet
BIN="$PWD/target/release/roster"

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ "$BACKEND" = postgres ]; then
    psql "${ROSTER_TEST_PG_URL:-postgres://roster_test:roster_test@127.0.0.1:5432/postgres}" -qc "DROP DATABASE IF EXISTS roster_bench WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

export ROSTER_DATA_DIR="$WORK" ROSTER_BIND="127.0.0.1:$PORT" RUST_LOG=warn
if [ "$BACKEND" = postgres ]; then
  ADMIN_URL="${ROSTER_TEST_PG_URL:-postgres://roster_test:roster_test@127.0.0.1:5432/postgres}"
  psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS roster_bench WITH (FORCE)" >/dev/null
  psql "$ADMIN_URL" -qc "CREATE DATABASE roster_bench" >/dev/null
  export ROSTER_DATABASE_URL="${ADMIN_URL%/*}/roster_bench"
fi

echo "== seeding $ORGS organizations on $BACKEND"
echo "a benchmark password" | "$BIN" user add --email bench@example.com --role administrator >/dev/null
"$BIN" seed-demo --organizations "$ORGS"

"$BIN" serve &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

# Sign in with curl (the cookie jar keeps the __Host- cookies on 127.0.0.1).
JAR="$WORK/cookies"
TOKEN=$(curl -fs -c "$JAR" "http://127.0.0.1:$PORT/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -1)
curl -fs -b "$JAR" -c "$JAR" -o /dev/null --data-urlencode "csrf_token=$TOKEN" \
  --data-urlencode "email=bench@example.com" --data-urlencode "password=a benchmark password" \
  "http://127.0.0.1:$PORT/login"
SESSION=$(awk '$6 == "__Host-roster-session" { print $7 }' "$JAR")
[ -n "$SESSION" ] || { echo "could not sign in" >&2; exit 1; }
COOKIE="Cookie: __Host-roster-session=$SESSION"

# Check that the pages answer what we think before timing them.
expect() { # path text
  local body
  body=$(curl -fs -H "$COOKIE" "http://127.0.0.1:$PORT$1")
  grep -q "$2" <<<"$body" || { echo "$1 does not show \"$2\"" >&2; exit 1; }
}
expect "/organizations" "organizations, page 1 of"
expect "/organizations?q=dental" "organizations, page 1 of"
expect "/organizations?page=1000" "page 1000 of"

measure() { # name path -> "rps avg_latency_ms"
  local out rps lat
  out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" -H "$COOKIE" "http://127.0.0.1:$PORT$2")
  rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
  lat=$(awk '$1 == "Latency" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v = v / 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v = v * 1000 } print v }' <<<"$out")
  printf '%-28s %10s req/s   %8.2f ms average latency\n' "$1" "$rps" "$lat" >&2
  echo "$rps $lat"
}

echo "== wrk, $DURATION each, $CONNECTIONS connections, 2 threads"
read -r H_RPS _ < <(measure "/healthz" "/healthz")
read -r P1_RPS P1_LAT < <(measure "Organizations page 1" "/organizations")
read -r S_RPS _ < <(measure "search (q=dental)" "/organizations?q=dental")
read -r P1000_RPS P1000_LAT < <(measure "Organizations page 1,000" "/organizations?page=1000")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
check() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = (op == ">=") ? (v >= t) : (v <= t); print ok ? "meets" : "MISSES" }'; }
echo "== ratios"
R1=$(ratio "$P1_RPS" "$H_RPS"); echo "Organizations page / healthz:      $R1 (target >= 0.10: $(check "$R1" 0.10 ">="))"
R2=$(ratio "$S_RPS" "$P1_RPS"); echo "search / Organizations page:       $R2 (target >= 0.25: $(check "$R2" 0.25 ">="))"
R3=$(ratio "$P1000_LAT" "$P1_LAT"); echo "page 1,000 latency / page 1:       $R3 (target <= 2.00: $(check "$R3" 2.0 "<="))"
