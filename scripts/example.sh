#!/usr/bin/env bash
# Build a framework example for the browser and serve it with the scripted server.
#
#   scripts/example.sh leptos_ticker|yew_ticker          build, then serve on HOST:PORT
#   scripts/example.sh --build-only leptos_ticker|yew_ticker   build only (make test)
#
# The example is a cargo example of this crate (examples/NAME/main.rs) built for
# wasm32 with its framework's features; wasm-bindgen (the version pinned in
# Cargo.lock, installed by setup.sh) turns it into target/examples-web/NAME/, next to
# a copy of examples/NAME/index.html, and `sse-server --www` serves that directory and
# the /sse stream the example reads, on one origin.
#
# Environment: HOST (127.0.0.1), PORT (8080), CARGO_TARGET_DIR.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

build_only=0
if [ "${1:-}" = "--build-only" ]; then
    build_only=1
    shift
fi
name="${1:-}"
case "$name" in
    leptos_ticker) features="leptos,leptos/csr" ;;
    yew_ticker) features="yew,yew/csr" ;;
    *)
        echo "usage: $0 [--build-only] leptos_ticker|yew_ticker" >&2
        exit 2
        ;;
esac

TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
OUT="$TARGET_DIR/examples-web/$name"

echo "example: building $name (features $features)"
cargo build -p sse-wasm --example "$name" --features "$features" --target wasm32-unknown-unknown
rm -rf "$OUT"
mkdir -p "$OUT"
wasm-bindgen --target web --no-typescript --out-dir "$OUT" \
    "$TARGET_DIR/wasm32-unknown-unknown/debug/examples/$name.wasm"
cp "examples/$name/index.html" "$OUT/"
echo "example: $name is in ${OUT#"$ROOT"/}"

if [ "$build_only" -eq 1 ]; then
    exit 0
fi
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8080}"
cargo build -p sse-server
echo "example: open http://$HOST:$PORT/ (Ctrl-C stops the server)"
exec "$TARGET_DIR/debug/sse-server" --host "$HOST" --port "$PORT" --www "$OUT"
