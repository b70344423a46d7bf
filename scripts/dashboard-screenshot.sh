#!/usr/bin/env bash
# The dashboard in a real browser: imports a small generated history (60 builds), serves it,
# and has headless Chromium (Debian's `chromium`, installed if missing) take a screenshot.
#
#   bash scripts/dashboard-screenshot.sh [OUT.png]      # default target/dashboard.png
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/tmp}/.cache/cimetrics-target}"
OUT="${1:-$PWD/target/dashboard.png}"
mkdir -p "$(dirname "$OUT")"
if ! command -v chromium >/dev/null; then
    apt-get install -y chromium >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y chromium >/dev/null)
fi
cargo build --release --quiet --bin cimetrics --example gen_history
BIN="$CARGO_TARGET_DIR/release/cimetrics"
WORK="$(mktemp -d)"
trap 'kill "${PID:-0}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
"$CARGO_TARGET_DIR/release/examples/gen_history" "$WORK/history" --builds 60 --tests 400 --files 40 >/dev/null
"$BIN" import "$WORK/history" --data-dir "$WORK/data" --project shop --quiet
PORT=$((20000 + RANDOM % 20000))
CIMETRICS_ADMIN_TOKEN=screenshot-admin-token-of-32-characters "$BIN" serve --bind "127.0.0.1:$PORT" --data-dir "$WORK/data" 2>"$WORK/serve.log" &
PID=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,2200 \
    --screenshot="$OUT" "http://127.0.0.1:$PORT/projects/shop?window=month" 2>/dev/null
echo "screenshot: $OUT"
