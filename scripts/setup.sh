#!/usr/bin/env bash
# Install everything `make test` / `make demo` need, idempotently and without
# prompts. Fast (a second or two) when everything is already present.
#
#   wasm32-unknown-unknown target   rustup
#   rustfmt, clippy                 rustup (only if missing)
#   chromium + chromium-driver      apt-get (Debian 12: 156.x, same version)
#   redis-server + nginx            apt-get (the cluster demo and its tests)
#   wasm-bindgen-cli                cargo install, version == wasm-bindgen in Cargo.lock
#   wasm-pack                       cargo install
#   node + npm tools (www/)         apt-get if node is missing; npm ci (see below)
#
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export PATH="$HOME/.cargo/bin:$PATH"
export DEBIAN_FRONTEND=noninteractive

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

command -v cargo >/dev/null 2>&1 || die "cargo not found (install Rust via rustup first)"
command -v rustup >/dev/null 2>&1 || die "rustup not found (install Rust via rustup first)"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; fi
fi

# --- Rust: wasm32 target and components ------------------------------------
# (Output captured first: `grep -q` closing the pipe early would trip pipefail.)
installed_targets="$(rustup target list --installed 2>/dev/null || true)"
if grep -qx 'wasm32-unknown-unknown' <<<"$installed_targets"; then
    say "wasm32-unknown-unknown target: present"
else
    say "wasm32-unknown-unknown target: installing"
    rustup target add wasm32-unknown-unknown
fi

# rust-src: `make pkg` builds the package's std from source, for size.
for comp in rustfmt clippy rust-src; do
    case "$comp" in
        rustfmt) probe=(cargo fmt --version) ;;
        clippy) probe=(cargo clippy --version) ;;
        rust-src) probe=(test -d "$(rustc --print sysroot)/lib/rustlib/src/rust/library/std") ;;
    esac
    if "${probe[@]}" >/dev/null 2>&1; then
        say "$comp: present"
    else
        say "$comp: installing"
        rustup component add "$comp"
    fi
done

# --- Chromium + chromedriver (Debian packages) ------------------------------
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    say "chromium + chromedriver: present"
else
    say "chromium + chromedriver: installing via apt-get (~30 s)"
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q chromium chromium-driver
    [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] \
        || die "apt-get finished but /usr/bin/chromium or /usr/bin/chromedriver is missing"
fi

# --- Redis and nginx: `make demo-cluster` and the cluster tests ---------------
# (nginx lives in /usr/sbin, which a non-root PATH may lack.)
if command -v redis-server >/dev/null 2>&1 && [ -x "$(command -v nginx || echo /usr/sbin/nginx)" ]; then
    say "redis-server + nginx: present"
else
    say "redis-server + nginx: installing via apt-get"
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q redis-server nginx
    command -v redis-server >/dev/null 2>&1 && [ -x /usr/sbin/nginx ] \
        || die "apt-get finished but redis-server or /usr/sbin/nginx is missing"
fi

# --- wasm-bindgen-cli at exactly the Cargo.lock version ---------------------
# The version of the `wasm-bindgen` package in Cargo.lock.
lock_wbg_version() {
    [ -f Cargo.lock ] || return 1
    awk '
        /^\[\[package\]\]/ { in_wbg = 0 }
        /^name = "wasm-bindgen"$/ { in_wbg = 1; next }
        in_wbg && /^version = "/ { gsub(/^version = "|"$/, ""); print; exit }
    ' Cargo.lock
}

WBG_VERSION="$(lock_wbg_version || true)"
if [ -z "$WBG_VERSION" ]; then
    say "Cargo.lock missing or without wasm-bindgen: generating it"
    cargo generate-lockfile >/dev/null 2>&1 || cargo metadata --format-version 1 >/dev/null 2>&1 || true
    WBG_VERSION="$(lock_wbg_version || true)"
fi
if [ -z "$WBG_VERSION" ]; then
    # Last resort (e.g. a workspace member does not resolve yet): the exact pin
    # `wasm-bindgen = "=X"` in Cargo.toml.
    WBG_VERSION="$(sed -n 's/^wasm-bindgen *= *"=\([0-9][0-9.]*\)".*/\1/p' Cargo.toml | head -n1)"
    [ -n "$WBG_VERSION" ] && say "could not resolve Cargo.lock; using the pin in Cargo.toml"
fi
[ -n "$WBG_VERSION" ] || die "cannot determine the wasm-bindgen version (Cargo.lock / Cargo.toml)"

have_wbg="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
have_runner="$(wasm-bindgen-test-runner --version 2>/dev/null | awk '{print $2}' || true)"
if [ "$have_wbg" = "$WBG_VERSION" ] && [ "$have_runner" = "$WBG_VERSION" ]; then
    say "wasm-bindgen-cli $WBG_VERSION: present"
else
    say "wasm-bindgen-cli $WBG_VERSION: installing (found '${have_wbg:-none}'; ~2.5 min)"
    # No --locked: its lockfile wants a crate version this registry lacks.
    cargo install wasm-bindgen-cli --version "$WBG_VERSION" --force
fi

# --- wasm-pack ---------------------------------------------------------------
if command -v wasm-pack >/dev/null 2>&1; then
    say "wasm-pack: present ($(wasm-pack --version 2>/dev/null | awk '{print $2}'))"
else
    say "wasm-pack: installing (~2.3 min)"
    cargo install wasm-pack
fi

# --- Node.js and the npm tools of www/ -----------------------------------------
#   binaryen         wasm-opt 132 for `make pkg` (NEVER Debian's binaryen 108: its
#                    output fails at page load)
#   playwright-core  drives /usr/bin/chromium in the JS-side tests
#   typescript       checks the package's .d.ts from a consumer's side
# Scripts put www/node_modules/.bin first on PATH.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    say "node $(node --version) + npm $(npm --version 2>/dev/null): present"
else
    say "node + npm: installing via apt-get"
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q nodejs npm
fi
node_major="$(node --version | sed 's/^v\([0-9]*\).*/\1/')"
[ "$node_major" -ge 20 ] || die "Node.js 20 or newer is needed (found $(node --version))"

if [ -f www/node_modules/.package-lock.json ] \
    && [ ! www/package-lock.json -nt www/node_modules/.package-lock.json ]; then
    say "www npm packages: present"
else
    say "www npm packages: installing (npm ci)"
    (cd www && npm ci --no-audit --no-fund --loglevel=error)
fi
[ -x www/node_modules/.bin/wasm-opt ] || die "www/node_modules/.bin/wasm-opt missing after npm ci"

say "done"
