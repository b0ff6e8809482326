#!/usr/bin/env bash
# Every clippy run of the project, warnings denied. `make clippy` runs this file: all
# of them in a row. scripts/test.sh sources it and runs each as a step of its own.

# The frameworks' feature sets (the browser suites and docs use them too).
LEPTOS_CSR="leptos,leptos/csr"
YEW_CSR="yew,yew/csr"
FRAMEWORKS_SSR="leptos,leptos/ssr,yew,yew/ssr"

WASM32=wasm32-unknown-unknown
# "name|arguments of cargo clippy"
CLIPPY_RUNS=(
    "native|--workspace --all-targets"
    "wasm32|-p sse-wasm --all-targets --target $WASM32"
    # The library as a Rust app gets it, without the features the suites turn on; with
    # no feature at all; and as the npm package is built.
    "wasm32, default features|-p sse-wasm --lib --target $WASM32"
    "wasm32, no features|-p sse-wasm --lib --target $WASM32 --no-default-features"
    "wasm32, npm package|-p sse-wasm --lib --target $WASM32 --no-default-features --features js,small-alloc"
    # With simd128 the parser searches lines with other code; its own target directory,
    # so that the flag does not rebuild what the other runs checked.
    "wasm32, simd128|-p sse-wasm --lib --test browser_parser --target $WASM32 --target-dir target/simd128 --config target.$WASM32.rustflags=[\"-C\",\"target-feature=+simd128\"]"
    # The test kit (sse_wasm::testing), with and without `json` (its json() needs it).
    "wasm32, testing|-p sse-wasm --lib --target $WASM32 --features testing"
    "wasm32, testing without json|-p sse-wasm --lib --target $WASM32 --no-default-features --features testing"
    "leptos, wasm32|-p sse-wasm --all-targets --features $LEPTOS_CSR --target $WASM32"
    "yew, wasm32|-p sse-wasm --all-targets --features $YEW_CSR --target $WASM32"
    "leptos+yew ssr|-p sse-wasm --all-targets --features $FRAMEWORKS_SSR"
)

clippy_name() { printf '%s' "${1%%|*}"; }

clippy_run() {
    local args
    read -ra args <<<"${1#*|}"
    cargo clippy "${args[@]}" -- -D warnings
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    cd "$(dirname "${BASH_SOURCE[0]}")/.."
    export PATH="$HOME/.cargo/bin:$PATH"
    for run in "${CLIPPY_RUNS[@]}"; do
        echo "clippy ($(clippy_name "$run"))"
        clippy_run "$run"
    done
fi
