#!/usr/bin/env bash
# Benchmark of the Organizations page (issue 13). For each backend, seeds organizations up to each
# size in turn (10,000, then 90,000 more, ...), starts the release server and measures with wrk in
# one run: /healthz, the Organizations page (page 1), page 1,000 (reached by "Next" from page 999,
# as a person gets there; and typed, without an anchor), a search, an organization's page, the API's
# `GET /api/organizations?page[size]=1000` (issue 14: against the Organizations page, with 20x the
# rows); the ratios to /healthz; then one fixed-rate run of the list at half its maximum (p50, p99,
# errors).
#
#   benches/organizations.sh                                  # both backends, 10k 100k 1M
#   SIZES="10000 100000" BACKENDS=sqlite benches/organizations.sh
#
# Environment: SIZES (default "10000 100000 1000000", ascending), BACKENDS (default
# "sqlite postgres"), DURATION (default 10s), CONNECTIONS (default 8), PORT (default 18731),
# ROSTER_TEST_PG_URL (an admin URL on the PostgreSQL server, as for the tests), BENCH_DB (the
# PostgreSQL database it creates and drops, default roster_bench: two runs at once need two).
# The fixed-rate run paces wrk with benches/paced.lua (wrk2 is not in Debian): each wrk thread
# sends its share of the rate on an even schedule; the rate achieved is printed beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
# PROFILE: the Cargo profile to build and run (default release; "measure" rebuilds quickly).
PROFILE="${PROFILE:-release}"

SIZES="${SIZES:-10000 100000 1000000}"
BACKENDS="${BACKENDS:-sqlite postgres}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-8}"
PORT="${PORT:-18731}"
ADMIN_URL="${ROSTER_TEST_PG_URL:-postgres://roster_test:roster_test@127.0.0.1:5432/postgres}"
BENCH_DB="${BENCH_DB:-roster_bench}"

source benches/common.sh

run_size() { # backend size seconds_to_seed added
  local backend=$1 size=$2 seeded=$3 added=$4 deep prev next org
  start_server
  deep=$(( size / 50 < 1000 ? size / 50 : 1000 ))
  expect "/organizations" "organizations, page 1 of"
  expect "/organizations?q=dental" "organizations, page 1 of"
  expect "/organizations?page=$deep" "page $deep of"
  # Page $deep as "Next" on page $deep - 1 links it (an anchor: the last row of that page).
  prev=$(fetch "/organizations?page=$((deep - 1))")
  next=$(grep -o 'href="[^"]*" rel="next"' <<<"$prev" | head -1 | sed 's/^href="//; s/" rel="next"$//; s/&#38;/\&/g; s/&amp;/\&/g')
  expect "$next" "page $deep of"
  org=$(fetch "/organizations" | grep -o 'href="/organizations/[0-9]*"' | head -1 | sed 's/[^0-9]//g')
  expect "/organizations/$org" "<h1"
  local api="/api/organizations?page%5Bsize%5D=1000" rows
  rows=$(curl -fs -H "x-api-key: $API_KEY" "$BASE$api" | grep -o '"type":"organizations"' | wc -l)
  [ "$rows" -eq $(( size < 1000 ? size : 1000 )) ] || { echo "$api gave $rows organizations" >&2; exit 1; }

  read -r H_RPS H_LAT < <(measure "/healthz")
  read -r P1_RPS P1_LAT < <(measure "/organizations")
  read -r D_RPS D_LAT < <(measure "$next")
  read -r T_RPS T_LAT < <(measure "/organizations?page=$deep")
  read -r S_RPS S_LAT < <(measure "/organizations?q=dental")
  read -r O_RPS O_LAT < <(measure "/organizations/$org")
  read -r A_RPS A_LAT < <(measure "$api" "x-api-key: $API_KEY")

  local rate p50 p99 errors total
  rate=$(awk -v r="$P1_RPS" 'BEGIN { printf "%d", r / 2 }')
  read -r p50 p99 errors total < <(paced "/organizations" "$rate")
  stop_server

  echo
  echo "== $backend, $size organizations (seeding the last $added took ${seeded}s: $(awk -v n="$added" -v s="$seeded" 'BEGIN { printf "%d", n / s }') organizations/s)"
  awk '{ printf "   (the seed-demo process: %.1f s of CPU, peak RSS %d MB)\n", $1 + $2, $3 / 1024 }' "$WORK/seed-time"
  printf '%-34s %10s %10s %10s\n' "" "req/s" "avg ms" "/ healthz"
  row() { printf '%-34s %10s %10s %10s\n' "$1" "$2" "$3" "$(ratio "$2" "$H_RPS")"; }
  row "/healthz" "$H_RPS" "$H_LAT"
  row "Organizations page 1" "$P1_RPS" "$P1_LAT"
  row "page $deep (Next from $((deep - 1)))" "$D_RPS" "$D_LAT"
  row "page $deep (typed, no anchor)" "$T_RPS" "$T_LAT"
  row "search q=dental" "$S_RPS" "$S_LAT"
  row "an organization's page" "$O_RPS" "$O_LAT"
  row "API, 1,000 organizations a page" "$A_RPS" "$A_LAT"
  echo "page $deep / page 1 latency:       $(ratio "$D_LAT" "$P1_LAT") (typed: $(ratio "$T_LAT" "$P1_LAT"))"
  echo "search / page 1 req/s:             $(ratio "$S_RPS" "$P1_RPS")"
  echo "API 1,000 rows / page 1 req/s:     $(ratio "$A_RPS" "$P1_RPS") (target >= 0.5)"
  echo "fixed rate $rate req/s on page 1:  p50 ${p50} ms, p99 ${p99} ms ($(ratio "$p99" "$p50")x p50), $errors errors in $total requests ($(achieved "$total") req/s)"
}

for backend in $BACKENDS; do
  fresh_backend "$backend"
  echo "a benchmark password" | "$BIN" user add --email bench@example.com --role administrator >/dev/null
  API_KEY=$("$BIN" api-key add --user bench@example.com --name bench 2>/dev/null)
  export ROSTER_API_RATE_LIMIT=100000000
  have=0
  for size in $SIZES; do
    added=$(( size - have ))
    started=$(date +%s.%N)
    /usr/bin/time -f "%U %S %M" -o "$WORK/seed-time" "$BIN" seed-demo --organizations "$added" --seed "$size" >/dev/null
    seeded=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    have=$size
    run_size "$backend" "$size" "$seeded" "$added"
  done
done
