#!/usr/bin/env bash
# The history benchmark, end to end: generate the year (once), import it into SQLite (and
# PostgreSQL with --postgres), timing the import and its peak memory, then run the criterion
# reads against each.
#
#   bash benches/history.sh                 # SQLite
#   bash benches/history.sh --postgres      # SQLite, then PostgreSQL (CIMETRICS_BENCH_PG_URL)
#   FIXTURE=/tmp/small GEN_ARGS="--builds 200 --tests 400 --files 50" bash benches/history.sh
#
# The fixture (~8.7 GB) is kept in $FIXTURE (default /tmp/cimetrics-year) and reused.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/tmp}/.cache/cimetrics-target}"
FIXTURE="${FIXTURE:-/tmp/cimetrics-year}"
GEN_ARGS="${GEN_ARGS:-}"
WORK="${WORK:-/tmp/cimetrics-year-data}"
PG_ADMIN="${CIMETRICS_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"

cargo build --release --quiet --bin cimetrics --example gen_history
BIN="$CARGO_TARGET_DIR/release/cimetrics"

if [ ! -f "$FIXTURE/.complete" ]; then
    rm -rf "$FIXTURE"
    # shellcheck disable=SC2086
    "$CARGO_TARGET_DIR/release/examples/gen_history" "$FIXTURE" $GEN_ARGS
    touch "$FIXTURE/.complete"
fi
echo "fixture: $(du -sh "$FIXTURE" | cut -f1) in $(find "$FIXTURE" -name '*.xml' | wc -l) report files"

import() { # URL-or-data-dir-args...
    /usr/bin/time -f "import: %e s wall, %U s user, %S s system, peak RSS %M KiB" \
        "$BIN" import "$FIXTURE" --quiet "$@"
}

echo "== SQLite"
rm -rf "$WORK"
import --data-dir "$WORK"
echo "database file: $(du -sh "$WORK" | cut -f1)"
CIMETRICS_BENCH_DATABASE_URL="sqlite://$WORK/cimetrics.db" \
    cargo bench --bench history -- --noplot "${BENCH_FILTER:-}"

if [ "${1:-}" = "--postgres" ]; then
    echo "== PostgreSQL"
    DB=cimetrics_bench_year
    psql "$PG_ADMIN" -q -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
    PG_URL="${PG_ADMIN%/*}/$DB"
    import --database-url "$PG_URL"
    CIMETRICS_BENCH_DATABASE_URL="$PG_URL" CIMETRICS_BENCH_STORE_URL="$PG_URL" \
        cargo bench --bench history -- --noplot "${BENCH_FILTER:-}"
fi
