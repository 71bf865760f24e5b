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
# DURATION (default 10s), CONNECTIONS (default 8), PORT (default 18732), PROFILE (the Cargo
# profile built and run, default release; "measure" rebuilds quickly), ROSTER_BIN (a roster binary
# to run instead), ROSTER_TEST_PG_URL (an admin URL, as for the tests), BENCH_DB (the PostgreSQL
# database, default roster_search_bench), KEEP (a folder keeping the seeded data for the next run:
# `KEEP=/tmp/search-data benches/search.sh` seeds once; remove the folder and drop BENCH_DB after).
# Checks first that each search shows the record it was built from. "cpu ms" is the server's CPU
# time per request (utime + stime of /proc/PID/stat over the run), steadier than req/s on a busy
# machine.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE="${SIZE:-100000}"
RECORDS="${RECORDS:-10}"
BACKENDS="${BACKENDS:-sqlite postgres}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-8}"
PORT="${PORT:-18732}"
ADMIN_URL="${ROSTER_TEST_PG_URL:-postgres://roster_test:roster_test@127.0.0.1:5432/postgres}"
BENCH_DB="${BENCH_DB:-roster_search_bench}"
source benches/common.sh

urlq() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }

# KEEP: a folder where the seeded data stays between runs (SQLite's file, and a mark that
# $BENCH_DB on PostgreSQL holds it, then not dropped at the end): seeded once, measured many times.
seeded_before() { # backend -> true when KEEP holds this size's data
  [ -n "${KEEP:-}" ] && [ "$(cat "$KEEP/$1.seeded" 2>/dev/null)" = "$SIZE x $RECORDS" ]
}
if [ -n "${KEEP:-}" ]; then
  mkdir -p "$KEEP"; KEEP="$(realpath "$KEEP")"
  trap 'stop_server; rm -rf "$WORK"' EXIT
fi

sql() { # backend query -> one value
  if [ "$1" = postgres ]; then psql "$ROSTER_DATABASE_URL" -Atqc "$2"; else sqlite3 "$ROSTER_DATA_DIR/roster.sqlite3" "$2"; fi
}

for backend in $BACKENDS; do
  if seeded_before "$backend"; then
    export ROSTER_DATA_DIR="$KEEP/$backend"
    unset ROSTER_DATABASE_URL
    [ "$backend" = postgres ] && export ROSTER_DATABASE_URL="${ADMIN_URL%/*}/$BENCH_DB?sslmode=${BENCH_SSLMODE:-disable}"
    seeded="(kept)"
  else
    if [ -n "${KEEP:-}" ]; then
      rm -f "$KEEP/$backend.seeded"
      WORK_DATA="$KEEP/$backend"
    else
      WORK_DATA="$WORK/data"
    fi
    fresh_backend "$backend"
    rm -rf "$WORK_DATA"; mkdir -p "$WORK_DATA"; export ROSTER_DATA_DIR="$WORK_DATA"
    echo "a benchmark password" | "$BIN" user add --email bench@example.com --role administrator >/dev/null
    started=$(date +%s.%N)
    "$BIN" seed-demo --organizations "$SIZE" --records "$RECORDS" >/dev/null
    seeded=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1fs", b - a }')
    [ -n "${KEEP:-}" ] && echo "$SIZE x $RECORDS" >"$KEEP/$backend.seeded"
  fi

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

  read -r L_RPS L_LAT L_CPU < <(measure_cpu "/organizations")
  echo
  echo "== $backend, $SIZE organizations x $RECORDS records (seeded in $seeded)"
  printf '%-46s %8s %7s %7s %7s %7s %7s %7s\n' "" "req/s" "avg ms" "cpu ms" "/ list" "p50 ms" "p99 ms" "errors"
  printf '%-46s %8s %7s %7s\n' "Organizations page" "$L_RPS" "$L_LAT" "$L_CPU"
  for pair in "exact IP|$ip" "CIDR|$cidr" "serial|$serial" "email|$email" "document word|$word" "phone (other separators)|$phone_other"; do
    label="${pair%%|*}"; q="${pair#*|}"
    path="/search?q=$(urlq "$q")"
    read -r rps lat cpu < <(measure_cpu "$path")
    rate=$(awk -v r="$rps" 'BEGIN { r = int(r / 2); print (r < 1 ? 1 : r) }')
    read -r p50 p99 errors _requests < <(paced "$path" "$rate")
    printf '%-46s %8s %7s %7s %7s %7s %7s %7s\n' "$label: $q" "$rps" "$lat" "$cpu" "$(ratio "$rps" "$L_RPS")" "$p50" "$p99" "$errors"
  done
  echo "targets: / list >= 0.5, p99 < 50 ms (cpu ms: the server's CPU time per request)"
  stop_server
done
