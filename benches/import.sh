#!/usr/bin/env bash
# Benchmark of the IT Glue import (issue 15): writes a synthetic export of ORGS organizations and
# RECORDS records (benches/import_export.py: contacts, configurations, passwords, documents with
# HTML bodies and images, a flexible asset file) to a temporary folder, applies it with
# `roster import itglue PATH --apply` on a fresh SQLite database and prints the elapsed time and
# the peak memory (`/usr/bin/time -v`'s "Maximum resident set size"). Targets for 10,000 and
# 500,000 on the 2-core machine: under 5 minutes, under 200 MB.
#
#   PROFILE=measure benches/import.sh
#   ORGS=1000 RECORDS=50000 ROSTER_BIN=target/measure/roster benches/import.sh
#
# Environment: ORGS (default 10000), RECORDS (default 500000), PROFILE (default release; built
# unless ROSTER_BIN names a binary), KEEP=1 keeps the temporary folder (its path is printed).
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE="${PROFILE:-release}"
ORGS="${ORGS:-10000}"
RECORDS="${RECORDS:-500000}"
if [ -n "${ROSTER_BIN:-}" ]; then
  BIN="$(realpath "$ROSTER_BIN")"
else
  cargo build --profile "$PROFILE" --quiet
  BIN="$PWD/target/$PROFILE/roster"
fi
WORK="$(mktemp -d)"
if [ "${KEEP:-}" = 1 ]; then echo "keeping $WORK"; else trap 'rm -rf "$WORK"' EXIT; fi

started=$(date +%s)
python3 benches/import_export.py "$WORK/export" "$ORGS" "$RECORDS"
echo "export written in $(( $(date +%s) - started )) s ($(du -sh "$WORK/export" | cut -f1))"

mkdir -p "$WORK/data"
export ROSTER_DATA_DIR="$WORK/data" RUST_LOG=warn
unset ROSTER_DATABASE_URL
/usr/bin/time -v "$BIN" import itglue "$WORK/export" --apply </dev/null \
  >"$WORK/out.txt" 2>"$WORK/time.txt" || { tail -n 20 "$WORK/out.txt" "$WORK/time.txt"; exit 1; }
grep -m1 "Import finished" "$WORK/out.txt"
elapsed=$(awk -F': ' '/Elapsed \(wall clock\)/ { print $2 }' "$WORK/time.txt")
rss_kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/time.txt")
cpu=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.1f", u + s }' "$WORK/time.txt")
printf 'organizations %s, records %s: elapsed %s, CPU %s s, peak RSS %d MB (targets: 5:00, 200 MB)\n' \
  "$ORGS" "$RECORDS" "$elapsed" "$cpu" "$(( rss_kb / 1024 ))"
