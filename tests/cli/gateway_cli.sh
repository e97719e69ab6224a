#!/usr/bin/env bash
# The real llmstreamer-gateway executable: --version/--help, refusal of bad values (exit 2, the
# option named), a clean exit 0 on SIGTERM and SIGINT with an open SSE stream, and SIGHUP
# reloading the token file without stopping.
# Usage: gateway_cli.sh /path/to/llmstreamer-gateway
set -u
gw=$1
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT

"$gw" --version | grep -q '^llmstreamer-gateway [0-9]' || fail "--version"
"$gw" --help | grep -q -- '--redis-url' || fail "--help lists --redis-url"

# Waits until `file` holds `pattern`: up to 60 s, a bound that only catches a hang (a loaded
# machine may take seconds to start a gateway).
wait_for() { # file pattern
    for _ in $(seq 1200); do grep -q -- "$2" "$1" && return 0; sleep 0.05; done
    return 1
}

# The port a gateway started with --port 0 prints in $tmp/log.
listening_port() {
    local port=
    for _ in $(seq 1200); do
        port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$tmp/log" | grep -o '[0-9]*$')
        [ -n "$port" ] && break
        sleep 0.05
    done
    [ -n "$port" ] && echo "$port"
}

check_refused() { # expected-text args...
    local want=$1; shift
    "$gw" "$@" >"$tmp/out" 2>&1
    local rc=$?
    [ "$rc" = 2 ] || fail "$* exited $rc, expected 2"
    grep -q -- "$want" "$tmp/out" || fail "$*: message lacks '$want': $(cat "$tmp/out")"
}
check_refused '--port' --port 70000
check_refused '--bind' --bind not-an-ip
check_refused '--redis-url' --redis-url http://x
check_refused '--max-clients' --max-clients 0
check_refused '--token-file: .*cannot read' --token-file /nonexistent/tokens
printf 'short logs:*\n' >"$tmp/bad-tokens"
check_refused '--token-file: .*line 1: token shorter' --token-file "$tmp/bad-tokens"
check_refused '--cors-origin' --cors-origin '*'
check_refused '--max-request-bytes' --max-request-bytes 10
check_refused '--idle-timeout' --idle-timeout 0
LLMSTREAMER_PORT=abc "$gw" >"$tmp/out" 2>&1; [ $? = 2 ] && grep -q LLMSTREAMER_PORT "$tmp/out" || fail "env LLMSTREAMER_PORT=abc"

# With tokens the start message says so; without, it says it is unauthenticated.
printf 'a-long-enough-token logs:*\n' >"$tmp/tokens"
"$gw" --port 0 --redis-url redis://127.0.0.1:1 --token-file "$tmp/tokens" >"$tmp/log" 2>&1 &
pid=$!
wait_for "$tmp/log" 'access:'
grep -q 'access: 1 token(s)' "$tmp/log" || fail "token start message: $(cat "$tmp/log")"
kill "$pid"; wait "$pid"

# SIGHUP reloads the token file: a removed token stops working, a new one works, the gateway
# goes on; a broken file keeps the tokens in force.
"$gw" --port 0 --redis-url redis://127.0.0.1:1 --token-file "$tmp/tokens" >"$tmp/log" 2>&1 &
pid=$!
port=$(listening_port) || fail "no 'listening on' line: $(cat "$tmp/log")"
status() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" "http://127.0.0.1:$port/api/channels"; }
[ "$(status a-long-enough-token)" = 200 ] || fail "token before reload"
printf 'another-long-token logs:*\n' >"$tmp/tokens"
kill -HUP "$pid"
wait_for "$tmp/log" 'SIGHUP: token file reloaded'
grep -q 'SIGHUP: token file reloaded: 1 token(s)' "$tmp/log" || fail "SIGHUP: $(cat "$tmp/log")"
kill -0 "$pid" || fail "SIGHUP stopped the gateway"
[ "$(status a-long-enough-token)" = 401 ] || fail "removed token still works after SIGHUP"
[ "$(status another-long-token)" = 200 ] || fail "new token not taken after SIGHUP"
printf 'short logs:*\n' >"$tmp/tokens"
kill -HUP "$pid"
wait_for "$tmp/log" 'SIGHUP: token file not reloaded'
grep -q 'not reloaded, the old tokens stay: .*line 1' "$tmp/log" || fail "broken file: $(cat "$tmp/log")"
[ "$(status another-long-token)" = 200 ] || fail "tokens lost after a broken reload"
kill "$pid"; wait "$pid"

for sig in TERM INT; do
    # Redis is deliberately absent: the gateway must still serve and stop cleanly.
    "$gw" --port 0 --redis-url redis://127.0.0.1:1 >"$tmp/log" 2>&1 &
    pid=$!
    port=$(listening_port) || fail "no 'listening on' line: $(cat "$tmp/log")"
    grep -q 'access: unauthenticated' "$tmp/log" || fail "no unauthenticated warning"
    curl -sN "http://127.0.0.1:$port/events" >"$tmp/stream" &
    curl_pid=$!
    wait_for "$tmp/stream" ': connected'
    grep -q ': connected' "$tmp/stream" || fail "stream did not open"
    kill -"$sig" "$pid"
    wait "$pid"
    rc=$?
    [ "$rc" = 0 ] || fail "SIG$sig: exit code $rc"
    wait "$curl_pid"
    grep -q 'event: shutdown' "$tmp/stream" || fail "SIG$sig: stream did not get event: shutdown"
    grep -q "SIG$sig, shutting down" "$tmp/log" || fail "SIG$sig: no shutdown message"
done
echo "gateway_cli: ok"
