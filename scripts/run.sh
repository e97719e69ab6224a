#!/usr/bin/env bash
# README command 1: builds LLM Streamer and runs the whole system locally: a private Redis
# (unless REDIS_URL points at yours), the gateway with its dashboard, a simulating producer, and
# the desktop monitor when there is a display (DISPLAY or WAYLAND_DISPLAY; NO_DESKTOP=1 skips it).
# Ctrl-C stops everything this script started.
#   LLMSTREAMER_PORT   dashboard/gateway port (default 8000)
#   REDIS_URL          use this Redis instead of starting one
#   PRODUCER_RATE      simulated messages per second (default 20)
#   LLMSTREAMER_TRANSPORT  pubsub (default) or streams: gateway and producer read it alike
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
port=${LLMSTREAMER_PORT:-8000}

# Only what running needs; scripts/install-deps.sh does nothing when all is present.
"$root/scripts/install-deps.sh" --run

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"${JOBS:-2}" --target llmstreamer-gateway llmstreamer-producer \
    llmstreamer-desktop

pids=()
workdir=$(mktemp -d -t llmstreamer-run.XXXXXX)
cleanup() {
    trap - INT TERM EXIT
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$workdir"
    echo "llmstreamer: stopped"
}
trap cleanup INT TERM EXIT

cli="redis-cli -u ${REDIS_URL:-}"
if [ -z "${REDIS_URL:-}" ]; then
    # A private Redis on a Unix socket: no port to collide with, gone when we stop.
    redis-server --port 0 --unixsocket "$workdir/redis.sock" --unixsocketperm 700 \
        --save '' --appendonly no --dir "$workdir" --loglevel warning &
    pids+=($!)
    for _ in $(seq 600); do [ -S "$workdir/redis.sock" ] && break; sleep 0.05; done
    export REDIS_URL="unix://$workdir/redis.sock"
    cli="redis-cli -s $workdir/redis.sock"
    echo "llmstreamer: started a private redis-server ($REDIS_URL)"
fi

"$build/gateway/llmstreamer-gateway" --port "$port" &
pids+=($!)
"$build/producer/llmstreamer-producer" simulate --rate "${PRODUCER_RATE:-20}" &
pids+=($!)

for _ in $(seq 300); do
    curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    kill -0 "${pids[-2]}" 2>/dev/null || { echo "llmstreamer: the gateway did not start" >&2; exit 1; }
    sleep 0.1
done
core=("${pids[@]}") # Redis (if ours), gateway, producer
desktop="(no display: open the dashboard in a browser)"
if [ -z "${NO_DESKTOP:-}" ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }; then
    # --url skips the first-start settings dialog; settings stay the user's own.
    "$build/desktop/llmstreamer-desktop" --url "http://127.0.0.1:$port" &
    pids+=($!)
    desktop="llmstreamer-desktop started (closing it leaves the rest running)"
fi
cat <<MSG

  Dashboard:  http://127.0.0.1:$port/
  SSE feed:   curl -N http://127.0.0.1:$port/events
  Metrics:    http://127.0.0.1:$port/metrics
  Desktop:    $desktop
  Publish:    $cli PUBLISH logs:errors 'ERROR something broke'

  Ctrl-C stops everything.
MSG
# Runs until Ctrl-C, or until Redis, the gateway or the producer stops.
wait -n "${core[@]}" || true
