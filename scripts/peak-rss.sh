#!/usr/bin/env bash
# Peak resident memory of `cimetrics summary --json` on large generated reports.
#
#   bash scripts/peak-rss.sh                 # ~200 MB JUnit, JUnit gzipped, ~200 MB Cobertura
#   SIZE=50000000 bash scripts/peak-rss.sh   # other size (bytes, approximate)
#   KEEP=1 WORK_DIR=/tmp/rss bash scripts/peak-rss.sh   # keep the generated files
#
# Builds the release binary and the generator example (`examples/gen_report.rs`, which uses
# `benches/support/gen.rs`, the bench inputs), then runs each file under GNU time and prints
# "peak RSS: N KiB" from its "Maximum resident set size". A ~1 MB JUnit file is measured
# first as the baseline (binary, buffers, allocator): the growth beyond it is what the
# report's size costs. Respects CARGO_TARGET_DIR (binary at ${CARGO_TARGET_DIR:-target}/release).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE="${SIZE:-200000000}"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
BIN="$TARGET_DIR/release/cimetrics"
GEN="$TARGET_DIR/release/examples/gen_report"

if [ ! -x /usr/bin/time ]; then
    echo "peak-rss: /usr/bin/time (GNU time, Debian package \"time\") is missing."
    if command -v apt-get >/dev/null; then
        SUDO=""
        [ "$(id -u)" -eq 0 ] || SUDO="sudo"
        echo "peak-rss: installing it: $SUDO apt-get update && $SUDO apt-get install -y time"
        $SUDO apt-get update -qq
        $SUDO apt-get install -y -qq time
    else
        echo "peak-rss: install GNU time and rerun" >&2
        exit 1
    fi
fi

echo "peak-rss: cargo build --release (binary and the gen_report example)"
cargo build --release --bin cimetrics --example gen_report

if [ -n "${WORK_DIR:-}" ]; then
    WORK="$WORK_DIR"
    mkdir -p "$WORK"
else
    WORK="$(mktemp -d "${TMPDIR:-/tmp}/cimetrics-rss.XXXXXX")"
fi
if [ -z "${KEEP:-}" ]; then
    trap 'rm -rf "$WORK"' EXIT
fi

generate() { # format bytes path
    if [ ! -s "$3" ]; then
        "$GEN" "$1" "$2" "$3"
    fi
}

measure() { # label file
    local label="$1" file="$2" timing="$WORK/time.txt" out="$WORK/out.json" rc=0
    /usr/bin/time -v "$BIN" summary --json "$file" >"$out" 2>"$timing" || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "peak-rss: $label: cimetrics exited with $rc" >&2
        cat "$timing" >&2
        exit 1
    fi
    local rss elapsed bytes counts
    rss="$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$timing")"
    elapsed="$(sed -n 's/^[[:space:]]*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$timing")"
    bytes="$(stat -c %s "$file")"
    # The totals line of the JSON output, to show what was counted.
    counts="$(tr -d ' \n' <"$out" | grep -o '"\(tests\|coverage\)":{[^}]*}' | tail -1)"
    printf '%-22s %11s bytes  elapsed %-8s peak RSS: %s KiB\n' "$label" "$bytes" "$elapsed" "$rss"
    printf '%-22s %s\n' "" "$counts"
}

generate junit 1000000 "$WORK/junit-1mb.xml"
generate junit "$SIZE" "$WORK/junit.xml"
generate cobertura "$SIZE" "$WORK/cobertura.xml"
if [ ! -s "$WORK/junit.xml.gz" ]; then
    echo "peak-rss: gzip -c junit.xml > junit.xml.gz"
    gzip -c "$WORK/junit.xml" >"$WORK/junit.xml.gz"
fi

echo
measure "junit ~1 MB (baseline)" "$WORK/junit-1mb.xml"
measure "junit" "$WORK/junit.xml"
measure "junit gzip" "$WORK/junit.xml.gz"
measure "cobertura" "$WORK/cobertura.xml"
