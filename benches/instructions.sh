#!/usr/bin/env bash
# Instructions per request of the server (valgrind's callgrind): a figure that does not move with
# the machine's load, for comparing two builds of one page on a busy 2-core machine, where req/s
# and CPU time vary by a third between runs. Not a speed target (the benchmarks are): a guide.
#
#   benches/instructions.sh BIN DATA_DIR /organizations /organizations/5000
#   API=1 N=10 benches/instructions.sh BIN DATA_DIR '/api/organizations?page%5Bsize%5D=1000'
#   KEEP=/tmp/cg benches/instructions.sh ...   # keeps each dump: callgrind_annotate --inclusive=yes
#
# DATA_DIR: a ROSTER_DATA_DIR holding a seeded SQLite database (copied first, never written). It
# signs in as EMAIL / PASSWORD (default bench@example.com / "a benchmark password"); API=1 makes an
# API key for that user and sends it instead. N requests per path (default 50) after 10 to warm up.
# Needs valgrind (Debian package `valgrind`).
set -euo pipefail
BIN=$1
DATA=$2
shift 2
PORT="${PORT:-18795}"
N="${N:-50}"
EMAIL="${EMAIL:-bench@example.com}"
PASSWORD="${PASSWORD:-a benchmark password}"
WORK=$(mktemp -d /tmp/instructions.XXXX)
cp -r "$DATA" "$WORK/data"
export ROSTER_DATA_DIR="$WORK/data" ROSTER_BIND="127.0.0.1:$PORT" RUST_LOG=warn ROSTER_API_RATE_LIMIT=100000000
KEY=""
[ -n "${API:-}" ] && KEY=$("$BIN" api-key add --user "$EMAIL" --name instructions | tail -1)
valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" "$BIN" serve 2>"$WORK/valgrind.log" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$WORK"' EXIT
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 600); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.2; done
JAR="$WORK/jar"
TOKEN=$(curl -fs -c "$JAR" "$BASE/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -1)
curl -fs -b "$JAR" -c "$JAR" -o /dev/null --data-urlencode "csrf_token=$TOKEN" \
  --data-urlencode "email=$EMAIL" --data-urlencode "password=$PASSWORD" "$BASE/login"
HEADER="Cookie: __Host-roster-session=$(awk '$6 == "__Host-roster-session" { print $7 }' "$JAR")"
[ -n "$KEY" ] && HEADER="x-api-key: $KEY"
urls() { for _ in $(seq 1 "$1"); do printf '%s\n' "url = \"$BASE$2\"" "output = /dev/null"; done; }
for path in "$@"; do
  urls 10 "$path" | curl -fs -H "$HEADER" -K - || { echo "FAILED $path" >&2; exit 1; }
  callgrind_control -z "$PID" >/dev/null 2>&1
  urls "$N" "$path" | curl -fs -H "$HEADER" -K -
  callgrind_control -d "$(tr -c 'a-zA-Z0-9\n' _ <<<"$path")" "$PID" >/dev/null 2>&1
  dump=$(ls -t "$WORK"/cg.out* | head -1)
  total=$(awk '/^summary:|^totals:/ { print $2; exit }' "$dump")
  printf '%-56s %10.1f k instructions a request\n' "$path" "$(awk -v t="$total" -v n="$N" 'BEGIN { print t / n / 1000 }')"
  if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp "$dump" "$KEEP/"; fi
done
