#!/usr/bin/env bash
# `make demo`: install what is missing, build the npm package and the server, then
# serve the live demo — www/ at /, the package at /pkg/, the generators at /demo/ —
# on http://127.0.0.1:8080 until Ctrl-C. Nothing outside this machine is involved.
#
#   bash scripts/demo.sh [--host HOST] [--port N]
#
#   HOST, PORT    the same as --host / --port (flags win); PORT=0 picks a free port
#   SKIP_SETUP=1  do not run scripts/setup.sh first
#   PKG_DIR       where the package is built (default pkg)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\ndemo: %s\n' "$*"; }
die() { printf 'demo: ERROR: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

host="${HOST:-127.0.0.1}"
port="${PORT:-8080}"
while [ $# -gt 0 ]; do
    case "$1" in
        --host) [ $# -ge 2 ] || die "--host needs a value"; host="$2"; shift 2 ;;
        --host=*) host="${1#*=}"; shift ;;
        --port) [ $# -ge 2 ] || die "--port needs a value"; port="$2"; shift 2 ;;
        --port=*) port="${1#*=}"; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done
[[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -le 65535 ] || die "not a port number: $port"
[ -n "$host" ] || die "--host must not be empty"

if [ "${SKIP_SETUP:-0}" = 1 ]; then
    say "setup skipped (SKIP_SETUP=1)"
else
    say "checking the toolchain (installs what is missing; a few minutes the first time)"
    bash scripts/setup.sh
fi

say "building the npm package (make pkg)"
PKG_DIR="${PKG_DIR:-pkg}"
SKIP_SETUP=1 PKG_DIR="$PKG_DIR" bash scripts/pkg.sh
case "$PKG_DIR" in /*) pkg_path="$PKG_DIR" ;; *) pkg_path="$ROOT/$PKG_DIR" ;; esac

say "building the server"
cargo build -p sse-server
target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$target_dir" in /*) ;; *) target_dir="$ROOT/$target_dir" ;; esac
server_bin="$target_dir/debug/sse-server"
[ -x "$server_bin" ] || die "no server binary at $server_bin"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/sse-wasm-demo.XXXXXX")"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

source "$ROOT/scripts/server.sh"
server_log="$ROOT/target/demo-server.log"
mkdir -p "$ROOT/target"
if ! start_sse_server "$server_bin" "$tmp/port" "$server_log" \
    --host "$host" --port "$port" --www "$ROOT/www" --pkg "$pkg_path"; then
    die "the server did not start; is port $port in use? Try: make demo PORT=$((port == 0 ? 8081 : port + 1))"
fi
server_pid="$SERVER_PID"
bound="$SERVER_PORT"

# A wildcard address is reachable on loopback; IPv6 literals need brackets.
case "$host" in
    0.0.0.0 | "") shown=127.0.0.1 ;;
    :: | "[::]") shown="[::1]" ;;
    *:*) shown="[${host#[}"; shown="${shown%]}]" ;;
    *) shown="$host" ;;
esac
url="http://$shown:$bound/"
printf '\n  sse-wasm live demo: %s\n' "$url"
printf '  (one SSE connection feeds every panel; try "Drop connection" and the two-factor sign-in)\n'
printf '  The server logs to %s. Ctrl-C stops it.\n\n' "${server_log#"$ROOT"/}"

status=0
wait "$server_pid" || status=$?
server_pid=""
exit "$status"
