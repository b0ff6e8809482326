# Starts the scripted server in the background and waits until it listens. Sourced by
# scripts/test.sh, scripts/demo.sh and scripts/bench.sh (the JS suites have the same
# in www/tests/harness.mjs).
#
#   start_sse_server BIN PORT_FILE LOG [server arguments...]
#
# Adds `--port-file PORT_FILE`; the server's output goes to LOG. Sets SERVER_PID and
# SERVER_PORT (the port it bound: pass `--port 0` for a free one). Returns 1, with the
# server's last words on stderr, when it exits or does not listen within 30 s.
start_sse_server() {
    local bin="$1" port_file="$2" log="$3"
    shift 3
    rm -f "$port_file"
    "$bin" "$@" --port-file "$port_file" </dev/null >"$log" 2>&1 &
    SERVER_PID=$!
    SERVER_PORT=""
    local deadline=$((SECONDS + 30)) port status
    while :; do
        if [ -s "$port_file" ]; then
            port="$(tr -d ' \t\r\n' <"$port_file")"
            port="${port##*:}" # "PORT" or "HOST:PORT"
            if [[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -gt 0 ]; then
                SERVER_PORT="$port"
                return 0
            fi
        fi
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            status=0
            wait "$SERVER_PID" || status=$?
            echo "sse-server exited (status $status) before it listened; its output ($log):" >&2
            tail -n 30 "$log" >&2
            SERVER_PID=""
            return 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "sse-server did not listen within 30 s; its output ($log):" >&2
            tail -n 30 "$log" >&2
            kill "$SERVER_PID" 2>/dev/null || true
            SERVER_PID=""
            return 1
        fi
        sleep 0.1
    done
}
