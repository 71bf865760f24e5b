# Shell functions shared by the benchmarks (benches/organizations.sh, benches/search.sh), sourced
# from the repository's root after the script has set PORT, ADMIN_URL and BENCH_DB (the PostgreSQL
# database it creates and drops). Builds PROFILE (default release) unless ROSTER_BIN names a binary.

PROFILE="${PROFILE:-release}"
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
if [ -n "${ROSTER_BIN:-}" ]; then
  BIN="$(realpath "$ROSTER_BIN")"
else
  cargo build --profile "$PROFILE" --quiet
  BIN="$PWD/target/$PROFILE/roster"
fi
PACED="$PWD/benches/paced.lua"

WORK="$(mktemp -d)"
SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  SERVER_PID=""
}
cleanup() {
  stop_server
  psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
export ROSTER_BIND="127.0.0.1:$PORT" RUST_LOG=warn
BASE="http://127.0.0.1:$PORT"

# A fresh data folder (and, for postgres, a fresh $BENCH_DB) for a backend; ROSTER_DATA_DIR and
# ROSTER_DATABASE_URL point at it.
fresh_backend() { # backend
  rm -rf "$WORK/data"; mkdir -p "$WORK/data"
  export ROSTER_DATA_DIR="$WORK/data"
  unset ROSTER_DATABASE_URL
  if [ "$1" = postgres ]; then
    psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" >/dev/null
    psql "$ADMIN_URL" -qc "CREATE DATABASE $BENCH_DB" >/dev/null
    # Without TLS, as a server beside its database should connect (TLS on the loopback took 40%
    # of the CPU of a list page: both ends encrypt every statement); BENCH_SSLMODE=prefer to compare.
    export ROSTER_DATABASE_URL="${ADMIN_URL%/*}/$BENCH_DB?sslmode=${BENCH_SSLMODE:-disable}"
  fi
}

ms() { awk '{ v = $1; if (v ~ /us$/) { sub(/us$/, "", v); v = v / 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v = v * 1000 } print v }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
fetch() { curl -fs -H "$COOKIE" "$BASE$1"; }

# CPU time (user + system, in clock ticks of 1/100 s) the server has used so far.
server_ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"; }

measure_cpu() { # path [header] -> "rps avg_latency_ms server_cpu_ms_per_request"
  local out rps lat before after total
  before=$(server_ticks)
  out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" -H "${2:-$COOKIE}" "$BASE$1")
  after=$(server_ticks)
  rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
  lat=$(awk '$1 == "Latency" { print $2 }' <<<"$out" | ms)
  total=$(awk '/requests in/ { print $1 }' <<<"$out")
  echo "$rps $lat $(awk -v t=$((after - before)) -v n="$total" 'BEGIN { printf "%.2f", (n > 0 ? t * 10 / n : 0) }')"
}
measure() { # path [header] -> "rps avg_latency_ms"
  local rps lat _cpu
  read -r rps lat _cpu < <(measure_cpu "$@")
  echo "$rps $lat"
}

paced() { # path rate -> "p50_ms p99_ms errors requests" at a fixed rate
  local out
  out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$PACED" -H "$COOKIE" "$BASE$1" -- "$2" "$CONNECTIONS" 2)
  echo "$(awk '$1 == "50%" { print $2 }' <<<"$out" | ms) $(awk '$1 == "99%" { print $2 }' <<<"$out" | ms) \
$(awk '/Non-2xx/ { n += $NF } /Socket errors/ { for (i = 4; i <= NF; i += 2) { gsub(/,/, "", $i); n += $i } } END { print n + 0 }' <<<"$out") \
$(awk '/requests in/ { print $1 }' <<<"$out")"
}

achieved() { # requests -> requests a second over DURATION
  awk -v n="$1" -v d="$DURATION" 'BEGIN { s = d; if (s ~ /m$/) { sub(/m$/, "", s); s *= 60 } else { sub(/s$/, "", s) } printf "%d", n / s }'
}

expect() { # path text (the page is read whole first: `grep -q` leaving early would make curl fail
  # on a closed pipe, and pipefail would take that for a missing text)
  local page
  page=$(fetch "$1") || { echo "$1 could not be fetched" >&2; exit 1; }
  grep -qF -- "$2" <<<"$page" || { echo "$1 does not show \"$2\"" >&2; exit 1; }
}

start_server() { # starts "$BIN serve" and signs in as bench@example.com: COOKIE
  "$BIN" serve &
  SERVER_PID=$!
  for _ in $(seq 1 100); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.1; done
  # Sign in with curl (the cookie jar keeps the __Host- cookies on 127.0.0.1).
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
