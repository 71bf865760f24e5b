#!/usr/bin/env bash
# Benchmark of the global search (issue 17). For each backend, seeds SIZE organizations with
# RECORDS records each (seed-demo, indexed as it goes), starts the release server and measures
# with wrk in one run: the Organizations page, then /search for an exact IP, a CIDR, a serial, an
# email, a word of a document and a phone typed with other separators (values read from the
# database); each search's req/s against the Organizations page (target >= 0.5x), then a
# fixed-rate run of each search at half its maximum for p50 and p99 (target p99 < 50 ms).
#
#   benches/search.sh                                  # both backends, 100,000 x 10
#   SIZE=10000 BACKENDS=sqlite benches/search.sh
#
# Environment: SIZE (default 100000), RECORDS (default 10), BACKENDS (default "sqlite postgres"),
# DURATION (default 10s), CONNECTIONS (default 8), ROSTER_TEST_PG_URL (an admin URL, as for the
# tests), ROSTER_BIN (a roster binary to use instead of building the release one). Checks first that each search shows the record it was built from.
set -euo pipefail
cd "$(dirname "$0")/.."
# PROFILE: the Cargo profile to build and run (default release; "measure" rebuilds quickly).
PROFILE="${PROFILE:-release}"

SIZE="${SIZE:-100000}"
RECORDS="${RECORDS:-10}"
BACKENDS="${BACKENDS:-sqlite postgres}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-8}"
PORT="${PORT:-18732}"
ADMIN_URL="${ROSTER_TEST_PG_URL:-postgres://roster_test:roster_test@127.0.0.1:5432/postgres}"

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
if [ -n "${ROSTER_BIN:-}" ]; then BIN="$(realpath "$ROSTER_BIN")"; else cargo build --profile "$PROFILE" --quiet; BIN="$PWD/target/$PROFILE/roster"; fi
PACED="$PWD/benches/paced.lua"

WORK="$(mktemp -d)"
SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  SERVER_PID=""
}
cleanup() {
  stop_server
  psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS roster_search_bench WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
export ROSTER_BIND="127.0.0.1:$PORT" RUST_LOG=warn
BASE="http://127.0.0.1:$PORT"

ms() { awk '{ v = $1; if (v ~ /us$/) { sub(/us$/, "", v); v = v / 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v = v * 1000 } print v }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
urlq() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }
measure() { # path -> "rps avg_ms"
  local out
  out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" -H "$COOKIE" "$BASE$1")
  echo "$(awk '/Requests\/sec/ { print $2 }' <<<"$out") $(awk '$1 == "Latency" { print $2 }' <<<"$out" | ms)"
}
paced() { # path rate -> "p50 p99 errors"
  local out
  out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$PACED" -H "$COOKIE" "$BASE$1" -- "$2" "$CONNECTIONS")
  echo "$(awk '$1 == "50%" { print $2 }' <<<"$out" | ms) $(awk '$1 == "99%" { print $2 }' <<<"$out" | ms) \
$(awk '/Non-2xx/ { n += $NF } /Socket errors/ { for (i = 4; i <= NF; i += 2) { gsub(/,/, "", $i); n += $i } } END { print n + 0 }' <<<"$out")"
}
expect() { # path text
  local page
  page=$(curl -fs -H "$COOKIE" "$BASE$1") || { echo "$1 could not be fetched" >&2; exit 1; }
  grep -qF -- "$2" <<<"$page" || { echo "$1 does not show \"$2\"" >&2; exit 1; }
}

start_server() {
  "$BIN" serve &
  SERVER_PID=$!
  for _ in $(seq 1 100); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.1; done
  local jar="$WORK/cookies" token session
  rm -f "$jar"
  token=$(curl -fs -c "$jar" "$BASE/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -1)
  curl -fs -b "$jar" -c "$jar" -o /dev/null --data-urlencode "csrf_token=$token" \
    --data-urlencode "email=bench@example.com" --data-urlencode "password=a benchmark password" \
    "$BASE/login"
  session=$(awk '$6 == "__Host-roster-session" { print $7 }' "$jar")
  [ -n "$session" ] || { echo "could not sign in" >&2; exit 1; }
  COOKIE="Cookie: __Host-roster-session=$session"
}

sql() { # backend query -> one value
  if [ "$1" = postgres ]; then psql "$ROSTER_DATABASE_URL" -Atqc "$2"; else sqlite3 "$ROSTER_DATA_DIR/roster.sqlite3" "$2"; fi
}

for backend in $BACKENDS; do
  rm -rf "$WORK/data"; mkdir -p "$WORK/data"
  export ROSTER_DATA_DIR="$WORK/data"
  unset ROSTER_DATABASE_URL
  if [ "$backend" = postgres ]; then
    psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS roster_search_bench WITH (FORCE)" >/dev/null
    psql "$ADMIN_URL" -qc "CREATE DATABASE roster_search_bench" >/dev/null
    export ROSTER_DATABASE_URL="${ADMIN_URL%/*}/roster_search_bench"
  fi
  echo "a benchmark password" | "$BIN" user add --email bench@example.com --role administrator >/dev/null
  started=$(date +%s.%N)
  "$BIN" seed-demo --organizations "$SIZE" --records "$RECORDS" >/dev/null
  seeded=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

  # Values of records in the middle of the data.
  middle="(SELECT id FROM records WHERE kind = 'configurations' ORDER BY id LIMIT 1 OFFSET $(( SIZE * RECORDS / 4 )))"
  conf=$(sql "$backend" "SELECT field_values FROM records WHERE id = $middle")
  contact=$(sql "$backend" "SELECT field_values FROM records WHERE kind = 'contacts' AND id > $middle ORDER BY id LIMIT 1")
  field() { python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
  ip=$(field "$conf" ip_address); serial=$(field "$conf" serial_number); name=$(field "$conf" name)
  email=$(field "$contact" emails); phone=$(field "$contact" phones)
  cidr="${ip%.*}.0/24"
  phone_other=$(tr -c '0-9\n' '.' <<<"$phone" | sed 's/^\.*//; s/\.\.*/./g')   # "+1 (555) 010-2030" -> "1.555.010.2030"
  doc=$(sql "$backend" "SELECT field_values FROM records WHERE kind = 'documents' AND id > $middle ORDER BY id LIMIT 1")
  word=$(python3 -c 'import json, re, sys; print(re.search(r"\bT[0-9]+\b", json.loads(sys.argv[1])["body"]).group(0))' "$doc")

  start_server
  expect "/organizations" "organizations, page 1 of"
  expect "/search?q=$(urlq "$ip")" "$name"
  expect "/search?q=$(urlq "$cidr")" "results-configurations"
  expect "/search?q=$(urlq "$serial")" "$name"
  expect "/search?q=$(urlq "$email")" "results-contacts"
  expect "/search?q=$(urlq "$phone_other")" "results-contacts"
  expect "/search?q=$word" "Runbook"

  read -r L_RPS L_LAT < <(measure "/organizations")
  echo
  echo "== $backend, $SIZE organizations x $RECORDS records (seeded in ${seeded}s)"
  printf '%-40s %9s %8s %8s %8s %8s %7s\n' "" "req/s" "avg ms" "/ list" "p50 ms" "p99 ms" "errors"
  printf '%-40s %9s %8s\n' "Organizations page" "$L_RPS" "$L_LAT"
  for pair in "exact IP|$ip" "CIDR|$cidr" "serial|$serial" "email|$email" "document word|$word" "phone (other separators)|$phone_other"; do
    label="${pair%%|*}"; q="${pair#*|}"
    path="/search?q=$(urlq "$q")"
    read -r rps lat < <(measure "$path")
    rate=$(awk -v r="$rps" 'BEGIN { r = int(r / 2); print (r < 1 ? 1 : r) }')
    read -r p50 p99 errors < <(paced "$path" "$rate")
    printf '%-40s %9s %8s %8s %8s %8s %7s\n' "$label: $q" "$rps" "$lat" "$(ratio "$rps" "$L_RPS")" "$p50" "$p99" "$errors"
  done
  echo "targets: / list >= 0.5, p99 < 50 ms"
  stop_server
done
