#!/usr/bin/env bash
# Peak resident memory of `cimetrics summary --json` on large generated reports.
#
#   bash scripts/peak-rss.sh                 # ~200 MB JUnit, JUnit gzipped, ~200 MB Cobertura,
#                                            # ~200 MB each of coverage.py, istanbul, llvm-cov JSON,
#                                            # ~200 MB SARIF (target: peak RSS <= 64 MiB)
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
    counts="$(tr -d ' \n' <"$out" | grep -o '"\(tests\|coverage\|issues\)":{[^}]*}' | tail -1)"
    printf '%-22s %11s bytes  elapsed %-8s peak RSS: %s KiB\n' "$label" "$bytes" "$elapsed" "$rss"
    printf '%-22s %s\n' "" "$counts"
}

generate junit 1000000 "$WORK/junit-1mb.xml"
generate junit "$SIZE" "$WORK/junit.xml"
generate cobertura "$SIZE" "$WORK/cobertura.xml"
generate sarif "$SIZE" "$WORK/codeql.sarif"
# The JSON coverage formats, written by Python in the shapes coverage.py, istanbul and
# llvm-cov write (one file entry repeated under new paths until SIZE bytes).
generate_json() { # kind bytes path
    [ -s "$3" ] && return 0
    python3 - "$1" "$2" "$3" <<'PY'
import json, sys
kind, size, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lines = list(range(1, 401))
with open(path, "w") as out:
    if kind == "coveragepy":
        out.write('{"meta": {"format": 3, "version": "7.17.3", "show_contexts": false, "branch_coverage": true}, "files": {')
        entry = {"executed_lines": lines[::2], "missing_lines": lines[1::2], "excluded_lines": [],
                 "executed_branches": [[l, l + 1] for l in lines[::8]], "missing_branches": [[l, l + 2] for l in lines[::8]]}
    elif kind == "istanbul":
        out.write("{")
        entry = {"statementMap": {str(i): {"start": {"line": l, "column": 0}, "end": {"line": l, "column": 9}} for i, l in enumerate(lines)},
                 "s": {str(i): i % 3 for i in range(len(lines))},
                 "branchMap": {str(i): {"loc": {"start": {"line": l, "column": 0}, "end": {"line": l, "column": 9}}, "type": "if", "locations": []} for i, l in enumerate(lines[::8])},
                 "b": {str(i): [i % 2, 1] for i in range(len(lines[::8]))}, "fnMap": {}, "f": {}}
    else:
        out.write('{"data": [{"files": [')
        entry = {"segments": [[l, 1, l % 3, True, True, False] for l in lines], "branches": [],
                 "summary": {"lines": {"count": 400, "covered": 266}, "branches": {"count": 10, "covered": 5}}}
    written, n = 0, 0
    while written < size:
        name = "src/pkg%d/file%d.py" % (n // 100, n)
        if kind == "coveragepy":
            text = json.dumps(name) + ": " + json.dumps(entry)
        elif kind == "istanbul":
            text = json.dumps(name) + ": " + json.dumps(dict(entry, path=name))
        else:
            text = json.dumps(dict(entry, filename=name))
        out.write(("," if n else "") + text)
        written += len(text)
        n += 1
    if kind == "llvm":
        out.write('], "totals": {"lines": {"count": %d, "covered": %d}, "branches": {"count": %d, "covered": %d}}}], "type": "llvm.coverage.json.export", "version": "3.1.0"}' % (400 * n, 266 * n, 10 * n, 5 * n))
    else:
        out.write("}}" if kind == "coveragepy" else "}")
PY
}
generate_json coveragepy "$SIZE" "$WORK/coverage-py.json"
generate_json istanbul "$SIZE" "$WORK/coverage-final.json"
generate_json llvm "$SIZE" "$WORK/llvm-cov.json"
if [ ! -s "$WORK/junit.xml.gz" ]; then
    echo "peak-rss: gzip -c junit.xml > junit.xml.gz"
    gzip -c "$WORK/junit.xml" >"$WORK/junit.xml.gz"
fi

echo
measure "junit ~1 MB (baseline)" "$WORK/junit-1mb.xml"
measure "junit" "$WORK/junit.xml"
measure "junit gzip" "$WORK/junit.xml.gz"
measure "cobertura" "$WORK/cobertura.xml"
measure "coverage.py json" "$WORK/coverage-py.json"
measure "istanbul json" "$WORK/coverage-final.json"
measure "llvm-cov json" "$WORK/llvm-cov.json"
measure "sarif (CodeQL-like)" "$WORK/codeql.sarif"
