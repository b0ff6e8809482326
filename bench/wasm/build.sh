#!/usr/bin/env bash
# Builds the browser bench crate (release, wasm32) and its wasm-bindgen glue.
#
#   bash bench/wasm/build.sh OUT_DIR
#
# OUT_DIR gets sse_wasm_bench.js and sse_wasm_bench_bg.wasm (`--target web`). No
# wasm-opt: the bench measures what rustc and LLVM make of the code at opt-level 3.
set -euo pipefail

if [ "$#" -ne 1 ]; then
    echo "usage: bash bench/wasm/build.sh OUT_DIR" >&2
    exit 2
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"
mkdir -p "$1"
OUT="$(cd "$1" && pwd)"
cd "$ROOT"

CARGO_TARGET_DIR="$ROOT/target/bench-wasm" cargo build --release --target wasm32-unknown-unknown \
    --manifest-path bench/wasm/Cargo.toml
wasm-bindgen --target web --out-dir "$OUT" \
    "$ROOT/target/bench-wasm/wasm32-unknown-unknown/release/sse_wasm_bench.wasm"
