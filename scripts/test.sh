#!/usr/bin/env bash
# README command 2: installs what is missing, builds everything (warnings are errors) and runs
# the whole test suite with ctest. Extra arguments go to ctest (e.g. -R gateway, -L unit).
# BUILD_DIR (default build/) and JOBS (default 2) can be set; CMAKE_ARGS adds configure options
# (e.g. CMAKE_ARGS=-DLLMSTREAMER_SANITIZE=address,undefined for the sanitizer build).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
jobs=${JOBS:-2}
read -ra cmake_args <<<"${CMAKE_ARGS:-}"

"$root/scripts/install-deps.sh"
# Share the compiler cache between checkouts (CI builds a fresh clone each time).
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLLMSTREAMER_WERROR=ON \
    -DLLMSTREAMER_REQUIRE_E2E=ON "${cmake_args[@]}"
cmake --build "$build" -j"$jobs"
cd "$build"
ctest --output-on-failure --no-tests=error -j"$jobs" "$@"
