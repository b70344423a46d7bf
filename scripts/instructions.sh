#!/usr/bin/env bash
# Instructions executed by one read of each generated report (valgrind's callgrind counts
# instructions, not seconds: the same count on a busy machine as on an idle one), for the raw
# floor, `summarize` and `parse`. Only `measure` in ingest/examples/parse_once.rs is counted,
# not the generation of the input.
#
#   bash scripts/instructions.sh                    # 20 MB of each format
#   SIZE=1000000 bash scripts/instructions.sh lcov  # other size, some formats
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null; then
    echo "instructions: valgrind is missing (Debian package \"valgrind\")" >&2
    exit 1
fi
cargo build --release -p cimetrics-ingest --example parse_once
BIN="${CARGO_TARGET_DIR:-target}/release/examples/parse_once"

formats=("$@")
[ ${#formats[@]} -gt 0 ] || formats=(junit cobertura jacoco lcov)
for format in "${formats[@]}"; do
    line="$format:"
    for mode in raw summarize parse; do
        refs=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null \
            --toggle-collect='parse_once::measure' "$BIN" "$format" "$mode" 2>&1 |
            sed -n 's/.*Collected : *\([0-9]*\).*/\1/p; s/.*refs: *\([0-9,]*\).*/\1/p' | head -n1 | tr -d ,)
        line="$line $mode $((refs / 1000000))M"
    done
    echo "$line"
done
