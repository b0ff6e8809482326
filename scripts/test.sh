#!/usr/bin/env bash
# `make test`: setup, fmt, clippy (native + wasm32), docs, native tests, the test
# server, browser tests in headless Chromium; the Leptos and Yew bindings in steps of
# their own (clippy, docs, SSR render, browser suites, examples). Every step runs and
# reports even after a failure; each step's output goes to the terminal and to
# target/test-logs/NN-step.log. The last line is exactly `N passed, M failed`
# (tests summed over every `test result:` line of cargo test and
# wasm-bindgen-test-runner; each failed non-test step counts as 1 failed).
# Exit status: 0 only if nothing failed and at least one test ran.
#
# Environment knobs:
#   WASM_BINDGEN_TEST_TIMEOUT  seconds for each browser test binary (default 300;
#                              the runner's own default of 20 s is too short)
#   CARGO_TARGET_DIR           honoured for finding the server binary
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

LOG_DIR="$ROOT/target/test-logs"
rm -rf "$LOG_DIR"
mkdir -p "$LOG_DIR"
TMP_DIR="$(mktemp -d "${TMPDIR:-/tmp}/sse-wasm-test.XXXXXX")"

TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
SERVER_BIN="$TARGET_DIR/debug/sse-server"
CHROMEDRIVER_BIN=/usr/bin/chromedriver
SERVER_PID=""
# start_sse_server; CLIPPY_RUNS and the frameworks' feature sets.
source "$ROOT/scripts/server.sh"
source "$ROOT/scripts/clippy.sh"

# ---------------------------------------------------------------------------
# Server lifecycle: started by its real binary path, stopped by the recorded PID
# on every exit path (normal end, failure, Ctrl-C, TERM).
stop_server() {
    local pid="$SERVER_PID"
    SERVER_PID=""
    [ -n "$pid" ] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        local i
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "test: server (pid $pid) ignored SIGTERM; sending SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null
        fi
    fi
    wait "$pid" 2>/dev/null
    return 0
}
cleanup() {
    stop_server
    rm -rf "$TMP_DIR"
}
trap cleanup EXIT
trap 'echo; echo "test: interrupted" >&2; exit 130' INT
trap 'echo "test: terminated" >&2; exit 143' TERM HUP

# ---------------------------------------------------------------------------
# Step bookkeeping.
STEP_NO=0
TOTAL_PASSED=0
TOTAL_FAILED=0
ANY_STEP_FAILED=0
SUMMARY=()

# Sum "test result: <ok|FAILED>. X passed; Y failed" over a log -> "X Y".
# (Format shared by libtest and wasm-bindgen-test-runner.)
count_results() {
    sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$1" | awk '
        match($0, /test result: [A-Za-z]+\. [0-9]+ passed; [0-9]+ failed/) {
            s = substr($0, RSTART, RLENGTH)
            n = split(s, f, /[ .;]+/)
            for (i = 1; i <= n; i++) {
                if (f[i] == "passed") p += f[i - 1]
                if (f[i] == "failed") x += f[i - 1]
            }
        }
        END { printf "%d %d\n", p, x }'
}

record() { # record STATUS NAME DETAIL
    SUMMARY+=("$(printf '  %-7s %-28s %s' "$1" "$2" "$3")")
}

# run_step KIND NAME CMD...   KIND: check (fail = 1 failed) | test (counts parsed)
run_step() {
    local kind="$1" name="$2"
    shift 2
    STEP_NO=$((STEP_NO + 1))
    local slug log start rc
    slug="$(printf '%s' "$name" | tr -c 'A-Za-z0-9' '-' | tr -s '-' | sed 's/-$//')"
    log="$LOG_DIR/$(printf '%02d' "$STEP_NO")-$slug.log"
    printf '\n==> [%d] %s\n    $ %s\n' "$STEP_NO" "$name" "$*"
    start=$SECONDS
    "$@" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    local secs=$((SECONDS - start))

    if [ "$kind" = test ]; then
        local p f
        read -r p f < <(count_results "$log")
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
            # Did not get as far as a failing test: build error, runner
            # timeout, driver failure ... counts as one failure.
            f=1
            echo "test: '$name' exited with status $rc without a failing test result; counted as 1 failed" >&2
        fi
        TOTAL_PASSED=$((TOTAL_PASSED + p))
        TOTAL_FAILED=$((TOTAL_FAILED + f))
        if [ "$rc" -eq 0 ] && [ "$f" -eq 0 ]; then
            record ok "$name" "${p} passed; ${f} failed (${secs}s)"
        else
            ANY_STEP_FAILED=1
            record FAILED "$name" "${p} passed; ${f} failed; exit $rc (${secs}s)"
        fi
    else
        if [ "$rc" -eq 0 ]; then
            record ok "$name" "(${secs}s)"
        else
            ANY_STEP_FAILED=1
            TOTAL_FAILED=$((TOTAL_FAILED + 1))
            record FAILED "$name" "exit $rc (${secs}s)"
        fi
    fi
    return "$rc"
}

skip_step() { # skip_step NAME REASON  (a skipped step counts as 1 failed)
    STEP_NO=$((STEP_NO + 1))
    printf '\n==> [%d] %s: SKIPPED (%s)\n' "$STEP_NO" "$1" "$2"
    ANY_STEP_FAILED=1
    TOTAL_FAILED=$((TOTAL_FAILED + 1))
    record SKIPPED "$1" "$2"
}

finish() {
    printf '\n==> summary (logs in %s)\n' "${LOG_DIR#"$ROOT"/}"
    printf '%s\n' "${SUMMARY[@]}"
    local status=0
    if [ "$TOTAL_FAILED" -gt 0 ] || [ "$ANY_STEP_FAILED" -ne 0 ]; then
        status=1
    fi
    if [ $((TOTAL_PASSED + TOTAL_FAILED)) -eq 0 ]; then
        echo "  no tests ran at all: that is a failure"
        status=1
    fi
    printf '%d passed, %d failed\n' "$TOTAL_PASSED" "$TOTAL_FAILED"
    exit "$status"
}

# Start the server and wait for its port file; sets SSE_TEST_SERVER.
start_server() {
    local server_log="$LOG_DIR/server.log"
    # www/ and pkg/ too: the JS-side tests load www/tests/page.html, which imports
    # the package from /pkg/.
    local args=(--host 127.0.0.1 --port 0 --www "$ROOT/www" --pkg "$ROOT/pkg")
    echo "    $ $SERVER_BIN ${args[*]}  (output: ${server_log#"$ROOT"/})"
    start_sse_server "$SERVER_BIN" "$TMP_DIR/port" "$server_log" "${args[@]}" || return 1
    export SSE_TEST_SERVER="http://127.0.0.1:$SERVER_PORT"
    echo "    sse-server pid $SERVER_PID listening; SSE_TEST_SERVER=$SSE_TEST_SERVER"
}

# The library's test targets as cargo selectors (--lib, --test NAME), from
# cargo metadata; empty output means "could not tell".
wasm_test_targets() {
    cargo metadata --no-deps --format-version 1 2>/dev/null | node -e '
        let s = "";
        process.stdin.on("data", d => (s += d)).on("end", () => {
            const pkg = JSON.parse(s).packages.find(p => p.name === "sse-wasm");
            for (const t of pkg ? pkg.targets : []) {
                // Suites that need a feature (the frameworks) have their own steps.
                if ((t["required-features"] || []).length > 0) continue;
                if (t.kind.some(k => ["lib", "rlib", "cdylib"].includes(k))) console.log("--lib");
                else if (t.kind.includes("test")) console.log("--test " + t.name);
            }
        });' 2>/dev/null
}

# Every browser suite's command. --mode no-install: fail at once instead of downloading
# or compiling a wasm-bindgen-cli if the one on PATH does not match Cargo.lock.
WASM_PACK_TEST=(wasm-pack test --mode no-install --headless --chrome --chromedriver "$CHROMEDRIVER_BIN")

# Browser tests: `wasm-pack test --headless --chrome` once per test target. The suites
# that test no network behaviour (browser_dispatch, browser_mock_server, and the hook
# suites browser_leptos, browser_yew and the examples' tests below) use the server
# scripted in the page (feature `testing`, on through the dev-dependency) and never
# reach the test server; the others talk to it.
# One run per target because cargo stops at the first failing test binary and
# wasm-pack cannot pass --no-fail-fast (it hands the same options to
# `cargo build`, which rejects it); this way every suite reports.
browser_tests() {
    local targets rc=0 t
    targets="$(wasm_test_targets)"
    if [ -z "$targets" ]; then
        echo "(could not list test targets; one run for all of them)"
        "${WASM_PACK_TEST[@]}"
        return $?
    fi
    while IFS= read -r t; do
        printf '\n--> %s\n' "$t"
        # shellcheck disable=SC2086  # "$t" is "--lib" or "--test NAME"
        # (browser_parser checks that it was built with the search it is meant to test.)
        SSE_PARSER_SEARCH=words "${WASM_PACK_TEST[@]}" -- $t || rc=1
    done <<<"$targets"
    return "$rc"
}

# The parser again, built as an app built with `-C target-feature=+simd128` gets it:
# its line search is then another piece of code (64-byte blocks of vectors). Its own
# target directory, so that the flag does not rebuild the other suites' artifacts.
simd128_parser_tests() {
    SSE_PARSER_SEARCH=simd128 CARGO_TARGET_DIR="$ROOT/target/simd128" \
        CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128" \
        "${WASM_PACK_TEST[@]}" -- --test browser_parser
}

# One framework suite: `wasm-pack test` with the framework's features. The features
# go after `--` (to cargo): wasm-pack takes an unknown option before `--` as the start
# of cargo's arguments and would hand `--test` to the test runner instead.
framework_browser_tests() { # framework_browser_tests FEATURES TEST
    "${WASM_PACK_TEST[@]}" -- --features "$1" --test "$2"
}

# The Leptos and Yew features are compiled only by the steps that name them, so the
# core steps above never pay for either framework. csr for the browser, ssr natively.

# ---------------------------------------------------------------------------
# The steps.

if ! run_step check "setup" bash "$ROOT/scripts/setup.sh"; then
    echo "test: setup failed; nothing else can run" >&2
    finish
fi

run_step check "fmt" cargo fmt --all --check
for run in "${CLIPPY_RUNS[@]}"; do
    run_step check "clippy ($(clippy_name "$run"))" clippy_run "$run"
done
# The bench crates are workspaces of their own (bench/wasm, bench/floor): `make bench`
# builds them, so a change of the library's API must not leave them broken.
bench_crates_check() {
    local manifest
    for manifest in bench/wasm/Cargo.toml bench/floor/Cargo.toml bench/core/Cargo.toml; do
        cargo fmt --check --manifest-path "$manifest" &&
            CARGO_TARGET_DIR="$ROOT/target/bench-check" cargo clippy --manifest-path "$manifest" \
                --target wasm32-unknown-unknown -- -D warnings || return 1
    done
    node --check bench/run.mjs && node --check bench/report.mjs && node --check bench/cpu.mjs &&
        node --check bench/criterion-summary.mjs && node --check bench/www/bench.mjs
}
run_step check "bench crates (fmt, clippy wasm32, JS syntax)" bench_crates_check
run_step check "docs" env RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p sse-wasm
run_step test "native tests" cargo test --workspace --no-fail-fast
# The npm face's Rust side (feature `js`, which the workspace's defaults leave out).
run_step test "native tests (npm face)" cargo test -p sse-wasm --lib --no-default-features --features js
run_step check "docs (leptos+yew+testing)" env RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p sse-wasm --features leptos,yew,testing --target wasm32-unknown-unknown
run_step test "ssr render and unit tests (leptos+yew)" cargo test -p sse-wasm --features "$FRAMEWORKS_SSR" --lib --test ssr_render
run_step test "doc examples (leptos+yew)" cargo test -p sse-wasm --features "$FRAMEWORKS_SSR" --doc

# Browser tests: headless Chromium through the Debian chromedriver, with the
# wasm-bindgen-test-runner that setup.sh installed (wasm-pack uses the one on
# PATH when its version matches Cargo.lock, so it never downloads anything).
export CHROMEDRIVER="$CHROMEDRIVER_BIN"
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-300}"
unset SSE_TEST_SERVER

if run_step check "build server" cargo build -p sse-server; then
    printf '\n==> starting the test server\n'
    if ! start_server; then
        ANY_STEP_FAILED=1
        TOTAL_FAILED=$((TOTAL_FAILED + 1))
        record FAILED "start server" "see ${LOG_DIR#"$ROOT"/}/server.log"
    else
        record ok "start server" "$SSE_TEST_SERVER"
    fi
fi
if [ -z "${SSE_TEST_SERVER:-}" ]; then
    echo "test: no test server; browser tests run without SSE_TEST_SERVER" >&2
fi

run_step test "browser tests (chromium)" browser_tests
run_step test "browser tests: parser built with simd128" simd128_parser_tests
run_step test "browser tests (leptos)" framework_browser_tests "$LEPTOS_CSR" browser_leptos
run_step check "example leptos_ticker" bash "$ROOT/scripts/example.sh" --build-only leptos_ticker
# The examples' component tests: the App mounted in the page, its stream scripted
# with sse_wasm::testing::MockServer (feature `testing`, on through the dev-dependency).
run_step test "example test leptos_ticker" framework_browser_tests "$LEPTOS_CSR" leptos_ticker_test
run_step test "browser tests (yew)" framework_browser_tests "$YEW_CSR" browser_yew
run_step check "example yew_ticker" bash "$ROOT/scripts/example.sh" --build-only yew_ticker
run_step test "example test yew_ticker" framework_browser_tests "$YEW_CSR" yew_ticker_test

# The npm package as JS users get it: built by `make pkg` (release, wasm-opt), then
# its types checked by tsc, its API driven in a plain page, apps built on it by Vite,
# webpack and esbuild, both entries under a strict CSP, and the live demo driven like
# a person would.
run_step test "js: options checks (node)" node "$ROOT/www/tests/options.test.mjs"
if run_step check "npm package (make pkg)" env SKIP_SETUP=1 bash "$ROOT/scripts/pkg.sh"; then
    run_step test "js: types (tsc --strict)" node "$ROOT/www/tests/types.test.mjs"
    run_step test "js: npm API in a page" node "$ROOT/www/tests/npm-api.test.mjs"
    run_step test "js: sharing across tabs" node "$ROOT/www/tests/share.test.mjs"
    # online, pauseWhenHiddenMs, the back/forward cache, a worker.
    run_step test "js: page lifecycle" env SSE_SERVER_BIN="$SERVER_BIN" node "$ROOT/www/tests/lifecycle.test.mjs"
    run_step test "js: Vite app" env SSE_SERVER_BIN="$SERVER_BIN" node "$ROOT/www/tests/vite-app.test.mjs"
    run_step test "js: bundlers (webpack, esbuild)" env SSE_SERVER_BIN="$SERVER_BIN" node "$ROOT/www/tests/bundlers.test.mjs"
    run_step test "js: strict CSP (both entries)" node "$ROOT/www/tests/csp.test.mjs"
    # The live demo (`make demo`) end to end; saves target/demo.png and target/demo-phone.png.
    run_step test "js: demo" env SSE_SERVER_BIN="$SERVER_BIN" node "$ROOT/www/tests/demo.test.mjs"
    # The demo scaled out (`make demo-cluster`: Redis, two instances, nginx); the
    # instance serving the page is stopped mid-stream.
    run_step test "js: demo cluster (nginx, redis)" env SSE_SERVER_BIN="$SERVER_BIN" node "$ROOT/www/tests/cluster.test.mjs"
else
    skip_step "js tests" "the npm package did not build"
fi

stop_server
finish
