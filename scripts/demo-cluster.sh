#!/usr/bin/env bash
# `make demo-cluster`: the live demo scaled out. Redis on a free loopback port, two
# sse-server instances (a and b) sharing it, and nginx in front on
# http://127.0.0.1:8080 until Ctrl-C, which stops everything this script started.
# An instance that stops (the page's "Restart this instance") is started again on
# its port after RESTART_DELAY seconds.
#
#   bash scripts/demo-cluster.sh [--host HOST] [--port N]
#
#   HOST, PORT      nginx's address, as --host / --port (flags win)
#   SKIP_SETUP=1    do not run scripts/setup.sh first
#   SSE_SERVER_BIN  run this server binary and build nothing (the package must be
#                   in PKG_DIR already)
#   PKG_DIR         where the package is built (default pkg)
#   RESTART_DELAY   seconds before a stopped instance starts again (default 3)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH:/usr/sbin:/sbin"

say() { printf '\ndemo-cluster: %s\n' "$*"; }
die() { printf 'demo-cluster: ERROR: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,16s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

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
[[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] \
    || die "not a port number nginx can listen on: $port"
[ -n "$host" ] || die "--host must not be empty"
restart_delay="${RESTART_DELAY:-3}"

if [ "${SKIP_SETUP:-0}" = 1 ]; then
    say "setup skipped (SKIP_SETUP=1)"
else
    say "checking the toolchain (installs what is missing; a few minutes the first time)"
    bash scripts/setup.sh
fi
if ! command -v redis-server >/dev/null || ! command -v nginx >/dev/null; then
    say "installing redis-server and nginx (Debian packages)"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q redis-server nginx
fi

PKG_DIR="${PKG_DIR:-pkg}"
case "$PKG_DIR" in /*) pkg_path="$PKG_DIR" ;; *) pkg_path="$ROOT/$PKG_DIR" ;; esac
if [ -n "${SSE_SERVER_BIN:-}" ]; then
    server_bin="$SSE_SERVER_BIN"
else
    say "building the npm package (make pkg)"
    SKIP_SETUP=1 PKG_DIR="$PKG_DIR" bash scripts/pkg.sh
    say "building the server"
    cargo build -p sse-server
    target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
    case "$target_dir" in /*) ;; *) target_dir="$ROOT/$target_dir" ;; esac
    server_bin="$target_dir/debug/sse-server"
fi
[ -x "$server_bin" ] || die "no server binary at $server_bin"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/sse-wasm-cluster.XXXXXX")"
logs="$ROOT/target/demo-cluster"
mkdir -p "$logs"
redis_pid="" nginx_pid=""
supervisors=()
stop_pid() { # stop_pid PID: TERM, then KILL after 5 s
    local pid="$1" i
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    trap - EXIT INT TERM HUP
    stop_pid "$nginx_pid"
    local pid
    for pid in "${supervisors[@]}"; do stop_pid "$pid"; done
    stop_pid "$redis_pid"
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# --- Redis on a free loopback port ---------------------------------------------
redis_ready() { [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ]; }
for _ in 1 2 3 4 5 6 7 8; do
    redis_port=$((20000 + RANDOM % 30000))
    redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
        </dev/null >"$logs/redis.log" 2>&1 &
    redis_pid=$!
    for ((i = 0; i < 100; i++)); do
        redis_ready "$redis_port" && break
        kill -0 "$redis_pid" 2>/dev/null || break
        sleep 0.05
    done
    redis_ready "$redis_port" && break
    stop_pid "$redis_pid"
    redis_pid=""
done
[ -n "$redis_pid" ] || die "redis-server did not start (see ${logs#"$ROOT"/}/redis.log)"
redis_url="redis://127.0.0.1:$redis_port"

# --- Two instances, each started again when it stops ----------------------------
source "$ROOT/scripts/server.sh"
# supervise NAME PORT: runs instance NAME on PORT (0: a free one, written to
# $tmp/NAME.port) and again whenever it exits, until this subshell is told to stop.
supervise() {
    local name="$1" bind="$2" pid=""
    trap '[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; exit 0' TERM
    while :; do
        start_sse_server "$server_bin" "$tmp/$name.port.now" "$logs/$name.log" \
            --host 127.0.0.1 --port "$bind" --www "$ROOT/www" --pkg "$pkg_path" \
            --redis "$redis_url" --instance "$name" --allow-restart || true
        pid="$SERVER_PID"
        if [ -n "$pid" ]; then
            bind="$SERVER_PORT"
            echo "$bind" >"$tmp/$name.port"
            wait "$pid" || true
            printf 'demo-cluster: instance %s stopped; starting it again in %s s\n' "$name" "$restart_delay"
        fi
        pid=""
        sleep "$restart_delay" &
        wait $! || true
    done
}
ports=()
for name in a b; do
    supervise "$name" 0 &
    supervisors+=("$!")
    for ((i = 0; i < 300; i++)); do
        [ -s "$tmp/$name.port" ] && break
        sleep 0.1
    done
    [ -s "$tmp/$name.port" ] || die "instance $name did not start (see ${logs#"$ROOT"/}/$name.log)"
    ports+=("$(cat "$tmp/$name.port")")
done

# --- nginx in front --------------------------------------------------------------
case "$host" in
    *:*) listen="[${host#[}"; listen="${listen%]}]:$port" ;;
    *) listen="$host:$port" ;;
esac
upstreams=""
for p in "${ports[@]}"; do
    upstreams+="        server 127.0.0.1:$p max_fails=1 fail_timeout=2s;"$'\n'
done
mkdir -p "$tmp/nginx"
conf="$(<"$ROOT/scripts/cluster/nginx.conf.in")"
conf="${conf//@DIR@/$tmp/nginx}"
conf="${conf//@LISTEN@/$listen}"
conf="${conf//@UPSTREAMS@/${upstreams%$'\n'}}"
printf '%s\n' "$conf" >"$tmp/nginx/nginx.conf"
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" \
    </dev/null >"$logs/nginx.log" 2>&1 &
nginx_pid=$!
up=0
for ((i = 0; i < 100; i++)); do
    kill -0 "$nginx_pid" 2>/dev/null || break
    if [ -s "$tmp/nginx/nginx.pid" ] && (exec 3<>"/dev/tcp/${listen%:*}/$port") 2>/dev/null; then
        up=1
        break
    fi
    sleep 0.1
done
if [ "$up" != 1 ]; then
    cat "$tmp/nginx/error.log" "$logs/nginx.log" >&2 2>/dev/null || true
    die "nginx did not listen on $listen; is the port in use? Try: make demo-cluster PORT=$((port + 1))"
fi

case "$host" in
    0.0.0.0) shown="127.0.0.1:$port" ;;
    ::) shown="[::1]:$port" ;;
    *) shown="$listen" ;;
esac
printf '\n  sse-wasm live demo, scaled out: http://%s/\n' "$shown"
printf '  nginx -> instances a (127.0.0.1:%s) and b (127.0.0.1:%s) -> Redis (%s)\n' \
    "${ports[0]}" "${ports[1]}" "$redis_url"
printf '  "Restart this instance" on the page stops the one serving the tab; the tab goes on\n'
printf '  through the other with no gap. Logs in %s. Ctrl-C stops everything.\n\n' "${logs#"$ROOT"/}"

status=0
wait "$nginx_pid" || status=$?
nginx_pid=""
die "nginx exited (status $status); see $tmp/nginx/error.log"
