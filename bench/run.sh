#!/usr/bin/env bash
# The benchmark suite: the gateway next to nginx+Nchan and the Python original, same machine, same
# run. Builds what is missing (build-bench/, Release), runs the desktop parser+model benchmark if
# it was built and the dashboard burst (bench/dashboard/burst.mjs), then bench/driver.py.
#
#   bench/run.sh                      # every scenario a-i, 3 repetitions, medians
#   bench/run.sh --quick              # short smoke run (smaller counts, 1 repetition)
#   bench/run.sh --scenarios acd      # a selection;  --peers gateway,nchan  --reps N
#   bench/run.sh --transports pubsub  # the gateway's transports (default pubsub,streams: both,
#                                     # side by side, in a, c, d, e, h, i);  --history-bytes 256M
#
# Set-up once: scripts/install-deps.sh --bench   (nginx, libnginx-mod-nchan, python3-fastapi,
# python3-uvicorn, python3-redis, valgrind, gnuplot-nox). BUILD_DIR overrides build-bench/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build-bench}

quick=0 args=()
for a in "$@"; do
    [[ $a == --quick ]] && quick=1
    args+=("$a")
done
if ((quick)) && [[ " $* " != *" --reps "* ]]; then args+=(--reps 1); fi

if [[ ! -x $build/bench/llmstreamer-load || ! -x $build/gateway/llmstreamer-gateway ]]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DLLMSTREAMER_BUILD_BENCH=ON >/dev/null
fi
cmake --build "$build" -j"${JOBS:-2}" --target llmstreamer-load llmstreamer-gateway \
    llmstreamer-producer >/dev/null
cmake --build "$build" -j"${JOBS:-2}" --target llmstreamer-desktop-bench >/dev/null 2>&1 || true

echo "bench: 1-min load average $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores"
desktop_bench=$build/desktop/llmstreamer-desktop-bench
if [[ -x $desktop_bench ]]; then
    echo "bench: desktop parser + model ($desktop_bench)"
    if ((quick)); then "$desktop_bench" --events 200000; else "$desktop_bench"; fi
else
    echo "bench: $desktop_bench not built (LLMSTREAMER_BUILD_BENCH=OFF?); skipping the desktop benchmark"
fi
# The dashboard's click latency under a 5,000 msg/s flood (its targets live here, not in the
# e2e test): needs node, chromium and the tests' npm packages (scripts/install-deps.sh).
if command -v node >/dev/null && [[ -x /usr/bin/chromium && -d $root/tests/node_modules ]]; then
    LLMSTREAMER_GATEWAY=$build/gateway/llmstreamer-gateway \
        LLMSTREAMER_PRODUCER=$build/producer/llmstreamer-producer \
        node "$root/bench/dashboard/burst.mjs" --seconds "$( ((quick)) && echo 5 || echo 10)" \
        --reps "$( ((quick)) && echo 1 || echo 3)"
else
    echo "bench: node, chromium or tests/node_modules missing; skipping the dashboard burst"
fi
exec /usr/bin/python3 "$root/bench/driver.py" --build-dir "$build" "${args[@]}"
