#!/usr/bin/env bash
# The service at scale, every row of issue 20's table in one run:
#   1. the parse floor (`cimetrics summary` of the year's files) and `cimetrics import` of the
#      same files, timed with /usr/bin/time;
#   2. `cimetrics serve` over the imported year: the first answer after start (a trend, then
#      the first answer that needs raw results), per-route p50/p95 (examples/load.rs), and
#      the server's peak RSS (VmHWM);
#   3. 20 projects of a quarter each, read round-robin under the default cache budget: p50/p95
#      per route and peak RSS.
#
#   bash benches/service.sh                  # SQLite
#   bash benches/service.sh --postgres       # PostgreSQL (CIMETRICS_BENCH_PG_URL, default the
#                                            # local server's `test` database as admin)
#   STEPS="serve" bash benches/service.sh    # only some steps: any of floor import serve many
#
# Fixtures are kept and reused: the year in $YEAR (8.75 GB), a quarter in $QUARTER (2.2 GB).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/tmp}/.cache/cimetrics-target}"
YEAR="${YEAR:-/tmp/cimetrics-year}"
QUARTER="${QUARTER:-/tmp/cimetrics-quarter}"
WORK="${WORK:-/tmp/cimetrics-service}"
STEPS="${STEPS:-floor import serve many}"
PROJECTS="${PROJECTS:-20}"
REQUESTS="${REQUESTS:-20}"
PORT="${PORT:-18080}"
PG_ADMIN="${CIMETRICS_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
POSTGRES=0
[ "${1:-}" = "--postgres" ] && POSTGRES=1

cargo build --release --quiet --bin cimetrics --example gen_history --example load
BIN="$CARGO_TARGET_DIR/release/cimetrics"
LOAD="$CARGO_TARGET_DIR/release/examples/load"
GEN="$CARGO_TARGET_DIR/release/examples/gen_history"
timed() { /usr/bin/time -f "%e s wall, %U s user, %S s system, peak RSS %M KiB" "$@"; }
step() { [[ " $STEPS " == *" $1 "* ]]; }

fixture() { # DIR GEN-ARGS...
    local dir="$1"
    shift
    if [ ! -f "$dir/.complete" ]; then
        rm -rf "$dir"
        "$GEN" "$dir" "$@" >/dev/null
        touch "$dir/.complete"
    fi
}

# The database of one benchmark: a data dir for SQLite, a fresh database on PostgreSQL.
db_args() { # NAME
    if [ "$POSTGRES" = 1 ]; then
        echo "--database-url ${PG_ADMIN%/*}/cimetrics_bench_$1"
    else
        echo "--data-dir $WORK/$1"
    fi
}
fresh_db() { # NAME
    if [ "$POSTGRES" = 1 ]; then
        psql "$PG_ADMIN" -q -c "DROP DATABASE IF EXISTS cimetrics_bench_$1" \
            -c "CREATE DATABASE cimetrics_bench_$1"
    else
        rm -rf "${WORK:?}/$1"
    fi
}

SERVER=
stop_server() {
    if [ -n "$SERVER" ]; then
        echo "server peak RSS: $(grep VmHWM "/proc/$SERVER/status" | awk '{print $2, $3}')"
        kill "$SERVER" && wait "$SERVER" 2>/dev/null || true
        SERVER=
    fi
}
trap stop_server EXIT

# Starts the server over a database and prints how long until its first answers.
start_server() { # NAME PROJECT
    local started ms
    started=$(date +%s%N)
    # shellcheck disable=SC2046
    "$BIN" serve --bind "127.0.0.1:$PORT" $(db_args "$1") \
        $([ "$POSTGRES" = 1 ] && echo "--data-dir $WORK/spool") 2>"$WORK/serve.log" &
    SERVER=$!
    until curl -sf -o /dev/null "http://127.0.0.1:$PORT/api/v1/projects/$2/trends?metric=success_rate&window=week"; do
        kill -0 "$SERVER" || { echo "server died"; exit 1; }
        sleep 0.02
    done
    ms=$((($(date +%s%N) - started) / 1000000))
    echo "first answer after start (weekly success-rate trend, process start included): $ms ms"
    started=$(date +%s%N)
    curl -sf -o /dev/null "http://127.0.0.1:$PORT/api/v1/projects/$2/tests/flaky?days=90&limit=50"
    ms=$((($(date +%s%N) - started) / 1000000))
    echo "first answer needing raw results (flaky top 50, 90 days): $ms ms"
}

mkdir -p "$WORK"
echo "backend: $([ "$POSTGRES" = 1 ] && echo PostgreSQL || echo SQLite); $(date -u +%FT%TZ)"

if step floor || step import || step serve; then
    fixture "$YEAR"
fi
if step floor; then
    # The files are read once untimed, so the floor and the import both read them from the
    # page cache: from the disk the floor varied from 32 s to 63 s on this machine.
    find "$YEAR" -name '*.xml' -print0 | xargs -0 cat >/dev/null
    echo "== parse floor: cimetrics summary of the year's $(find "$YEAR" -name '*.xml' | wc -l) files"
    find "$YEAR" -name '*.xml' -print0 | sort -z | timed xargs -0 "$BIN" summary >/dev/null
fi
if step import; then
    echo "== import of the year"
    fresh_db year
    # shellcheck disable=SC2046
    timed "$BIN" import "$YEAR" --quiet $(db_args year)
fi
if step serve; then
    echo "== serve the year"
    start_server year default
    "$LOAD" reads --server "http://127.0.0.1:$PORT" --project default --requests "$REQUESTS"
    stop_server
fi
if step many; then
    echo "== $PROJECTS projects of a quarter each, read round-robin, default cache budget"
    fixture "$QUARTER" --builds 1250 --days 91
    if [ ! -f "$WORK/many.$POSTGRES.complete" ]; then
        fresh_db many
        for i in $(seq 1 "$PROJECTS"); do
            # shellcheck disable=SC2046
            "$BIN" import "$QUARTER" --quiet --project "q$i" $(db_args many)
        done
        touch "$WORK/many.$POSTGRES.complete"
    fi
    start_server many q1
    names=$(seq -f 'q%g' -s, 1 "$PROJECTS")
    "$LOAD" reads --server "http://127.0.0.1:$PORT" --project "${names%,}" --requests "$REQUESTS"
    stop_server
fi
