#!/usr/bin/env bash
# The OTLP receiver's throughput: llmstreamer-producer otlp pinned to one core (taskset), a private
# redis-server and the load (bench/otlp/llmstreamer-otlp-bench.cpp) on the other, export requests
# of 512 log records as protobuf and as JSON. Prints records/s accepted and into Redis, and the
# receiver's peak RSS. Builds what is missing in build-bench/ (Release; BUILD_DIR overrides).
#
#   bench/otlp.sh                 # 400 requests of 512 records per format, 4 connections
#   bench/otlp.sh --batches 1000 --connections 8 --transport streams
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
batches=400 connections=4 transport=pubsub
while (($#)); do
    case $1 in
    --batches) batches=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --transport) transport=$2; shift 2 ;;
    *) echo "usage: $0 [--batches N] [--connections N] [--transport pubsub|streams]" >&2; exit 2 ;;
    esac
done

if [[ ! -f $build/CMakeCache.txt ]]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DLLMSTREAMER_BUILD_BENCH=ON >/dev/null
fi
cmake --build "$build" -j"${JOBS:-2}" --target llmstreamer-producer llmstreamer-otlp-bench >/dev/null

cores=$(nproc)
receiver_cpu=$((cores > 1 ? 1 : 0))
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

echo "machine: $(nproc) cores, $(uptime | sed 's/.*load average/load average/')"
for format in protobuf json; do
    rport=$(free_port)
    taskset -c 0 redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$work" --loglevel warning >/dev/null &
    pids+=($!)
    until redis-cli -p "$rport" ping >/dev/null 2>&1; do sleep 0.1; done
    oport=$(free_port)
    # The buffer holds a whole run: the figure is the receiver's, not Redis's back-pressure.
    QT_LOGGING_RULES='llmstreamer.*.info=false' taskset -c "$receiver_cpu" \
        "$build/producer/llmstreamer-producer" --redis-url "redis://127.0.0.1:$rport" \
        --transport "$transport" --buffer 1000000 --buffer-bytes 1G \
        otlp --listen "127.0.0.1:$oport" 2>"$work/producer.log" &
    producer=$!
    pids+=($producer)
    until curl -s -o /dev/null "http://127.0.0.1:$oport/v1/logs"; do sleep 0.1; done
    taskset -c 0 "$build/bench/llmstreamer-otlp-bench" --url "http://127.0.0.1:$oport" \
        --redis-port "$rport" --pid "$producer" --format "$format" --records 512 \
        --batches "$batches" --connections "$connections"
    kill -TERM "$producer"
    wait "$producer" || true
    redis-cli -p "$rport" shutdown nosave >/dev/null 2>&1 || true
done
