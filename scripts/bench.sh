#!/usr/bin/env bash
# `make bench`: speed, size, memory and recovery, each against a baseline measured in
# the same run. Prints one markdown table and writes it to target/bench.md.
#
#   BENCH_QUERY   extra query for the bench page, e.g. "groups=parser&rounds=1"
#   BENCH_QUICK=1 a smoke run: fewer events, cycles, drops and criterion samples
#   SKIP_SETUP=1  do not run scripts/setup.sh first
#   BENCH_PROFILE=1 where the page's time goes: the browser rows (pick them with
#                 BENCH_QUERY, e.g. groups=parser) run under a system-wide `perf record`,
#                 with Chromium's V8 naming its compiled code for perf. target/bench/profile/
#                 gets report.txt (samples by process, library and function),
#                 annotate.txt (the hottest compiled function, by instruction) and the
#                 table of that run, whose figures the profiling slows (bench.md); the
#                 README's table and chart are left alone
#
# Builds that the size rows measure go to target directories of their own, so that a
# release wasm32 build of the Leptos example can never overwrite the sse_wasm.wasm
# that `make pkg` ships.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/www/node_modules/.bin:$HOME/.cargo/bin:$PATH"

OUT="$ROOT/target/bench"
STAGE="$OUT/www"
started=$SECONDS
say() { printf 'bench: %s\n' "$*" >&2; }

[ "${SKIP_SETUP:-0}" = 1 ] || bash scripts/setup.sh
PROFILE=""
if [ "${BENCH_PROFILE:-0}" = 1 ]; then
    PROFILE="$OUT/profile"
    if ! command -v perf >/dev/null; then
        say "installing perf (Debian's linux-perf) for BENCH_PROFILE"
        apt-get install -y -qq linux-perf >&2
    fi
fi
(cd bench && npm ci --no-audit --no-fund --silent)
mkdir -p "$OUT"
rm -rf "$STAGE"
mkdir -p "$STAGE"

query="${BENCH_QUERY:-}"
if [ "${BENCH_QUICK:-0}" = 1 ]; then
    query="events=20000&rounds=1&warmup=0&parserMib=16&cycles=50&drops=10${query:+&$query}"
    export BENCH_QUICK
fi

wasm_opt() {
    wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
        --enable-mutable-globals --enable-reference-types --enable-multivalue "$@"
}
gz() { gzip -9 -c "$1" | wc -c; }

say "building the npm package (release, wasm-opt)"
SKIP_SETUP=1 PKG_DIR="$OUT/pkg" bash scripts/pkg.sh >&2

say "building the size floor (bench/floor)"
CARGO_TARGET_DIR="$OUT/cargo-floor" cargo build --quiet --release --target wasm32-unknown-unknown \
    --manifest-path bench/floor/Cargo.toml
wasm-bindgen --target web --no-typescript --out-dir "$OUT/floor" \
    "$OUT/cargo-floor/wasm32-unknown-unknown/release/sse_wasm_floor.wasm"
wasm_opt "$OUT/floor/sse_wasm_floor_bg.wasm" -o "$OUT/floor/sse_wasm_floor_bg.wasm"

say "building the Rust API's size row (bench/core)"
CARGO_TARGET_DIR="$OUT/cargo-core" cargo build --quiet --release --target wasm32-unknown-unknown \
    --manifest-path bench/core/Cargo.toml
wasm-bindgen --target web --no-typescript --out-dir "$OUT/core" \
    "$OUT/cargo-core/wasm32-unknown-unknown/release/sse_wasm_core_size.wasm"
wasm_opt "$OUT/core/sse_wasm_core_size_bg.wasm" -o "$OUT/core/sse_wasm_core_size_bg.wasm"

say "building the Leptos example (release, wasm-opt)"
leptos_features="$(cargo metadata --format-version 1 --no-deps |
    node -e 'const m = JSON.parse(require("fs").readFileSync(0, "utf8"));
             const ex = m.packages.find((p) => p.name === "sse-wasm").targets.find((t) => t.name === "leptos_ticker");
             console.log(ex["required-features"].join(","));')"
CARGO_TARGET_DIR="$OUT/cargo-leptos" cargo build --quiet --release --target wasm32-unknown-unknown \
    -p sse-wasm --example leptos_ticker --features "$leptos_features"
wasm-bindgen --target web --no-typescript --out-dir "$OUT/leptos" \
    "$OUT/cargo-leptos/wasm32-unknown-unknown/release/examples/leptos_ticker.wasm"
wasm_opt "$OUT/leptos/leptos_ticker_bg.wasm" -o "$OUT/leptos/leptos_ticker_bg.wasm"

# The package's scripts are measured as a page loads them: the glue (the package's JS
# appended to it) and any snippet;
# share.js, which only a page that shares loads, on its own.
pkg_js_gz() { find "$OUT/pkg" -name '*.js' ! -name inline.js ! -name share.js -print0 | xargs -0 cat | gzip -9 | wc -c; }
cat >"$OUT/sizes.json" <<EOF
{
  "wasm": $(gz "$OUT/pkg/sse_wasm_bg.wasm"),
  "js": $(pkg_js_gz),
  "inline": $(gz "$OUT/pkg/inline.js"),
  "share": $(gz "$OUT/pkg/share.js"),
  "floorWasm": $(gz "$OUT/floor/sse_wasm_floor_bg.wasm"),
  "floorGlue": $(gz "$OUT/floor/sse_wasm_floor.js"),
  "coreWasm": $(gz "$OUT/core/sse_wasm_core_size_bg.wasm"),
  "leptosWasm": $(gz "$OUT/leptos/leptos_ticker_bg.wasm")
}
EOF

say "building the browser bench (bench/wasm)"
bash bench/wasm/build.sh "$STAGE/bench_wasm" >&2
cp bench/www/* "$STAGE/"
cp -r bench/node_modules/eventsource-parser/dist "$STAGE/eventsource-parser"

say "native parser (criterion)"
cargo bench --quiet --bench parser -- --noplot >&2
node bench/criterion-summary.mjs "${CARGO_TARGET_DIR:-target}" >"$OUT/criterion.json"

say "browser rows (Chromium started directly, server on loopback)"
cargo build --quiet --profile bench-server -p sse-server
source "$ROOT/scripts/server.sh"
start_sse_server "$ROOT/target/bench-server/sse-server" "$OUT/port" "$OUT/server.log" \
    --host 127.0.0.1 --port 0 --www "$STAGE" --pkg "$OUT/pkg"
server_pid="$SERVER_PID"
trap 'kill "$server_pid" 2>/dev/null || true' EXIT
run_page=(node bench/run.mjs --server "http://127.0.0.1:$SERVER_PORT" --out "$OUT/browser.json"
    --query "$query" --server-pid "$server_pid")
if [ -n "$PROFILE" ]; then
    rm -rf "$PROFILE"
    mkdir -p "$PROFILE"
    say "profiling the browser rows (perf record, all processes)"
    # cpu-clock works where the CPU's counters are not exposed (a VM); -k mono gives the
    # clock V8's jitdump records use, which `perf inject --jit` needs.
    perf record -a -k mono -e cpu-clock -F 1999 -o "$PROFILE/perf.data" -- \
        "${run_page[@]}" --profile "$PROFILE"
else
    "${run_page[@]}"
fi
kill "$server_pid" 2>/dev/null || true

status=0
# A profiled run's table goes beside its profile (the profiling slows its figures), and
# draws no chart.
table="$ROOT/target/bench.md"
chart=(--svg "$ROOT/docs/bench.svg")
if [ -n "$PROFILE" ]; then
    table="$PROFILE/bench.md"
    chart=()
fi
node bench/report.mjs --browser "$OUT/browser.json" --criterion "$OUT/criterion.json" \
    --sizes "$OUT/sizes.json" --seconds "$((SECONDS - started))" "${chart[@]}" >"$table" || status=$?
if [ -n "$PROFILE" ]; then
    perf inject --jit -i "$PROFILE/perf.data" -o "$PROFILE/perf.jit.data"
    perf report -i "$PROFILE/perf.jit.data" --stdio --no-children --sort comm,dso,sym \
        --percent-limit 0.2 2>/dev/null | grep -v '^#' | grep -v '^$' >"$PROFILE/report.txt"
    # The hottest function V8 compiled (JS or wasm): its own instructions' samples.
    hottest="$(perf report -i "$PROFILE/perf.jit.data" --stdio --no-children --sort dso,sym 2>/dev/null |
        awk '$2 ~ /^jitted-/ && !found { found = 1; sub(/^.*\[\.\] /, ""); print }')"
    if [ -n "$hottest" ]; then
        perf annotate -i "$PROFILE/perf.jit.data" --stdio -s "$hottest" >"$PROFILE/annotate.txt" 2>/dev/null
    fi
    head -n 30 "$PROFILE/report.txt"
    say "profile in ${PROFILE#"$ROOT"/}: report.txt, annotate.txt (${hottest:-no compiled function sampled}), bench.md ($((SECONDS - started)) s)"
    exit "$status"
fi
cat "$table"
say "table written to target/bench.md, chart to docs/bench.svg ($((SECONDS - started)) s)"
exit "$status"
