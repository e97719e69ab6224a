#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (clang-14, ASan + UBSan) and runs each for N seconds
# (default 60) over a copy of its seed corpus fuzz/corpus/<target>/ (the repository is never
# written to), with fuzz/<target>.dict when there is one. Every target runs; the script fails if
# any of them crashed, leaked, hung or broke an invariant, and prints the input that did it (kept
# in <build>/fuzz-artifacts/<target>/) with the command that replays it.
# Usage: scripts/fuzz.sh [seconds] [target...]   (targets default to all fuzz_* executables)
# FUZZ_BUILD_DIR (default build-fuzz/) and JOBS (default 2) can be set.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-60}
shift $(($# > 0 ? 1 : 0))
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
jobs=${JOBS:-2}
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [seconds] [target...]" >&2; exit 2; }

"$root/scripts/install-deps.sh"
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DLLMSTREAMER_FUZZ=ON -DLLMSTREAMER_WERROR=ON
cmake --build "$build" --target fuzzers -j"$jobs"

targets=("$@")
if ((${#targets[@]} == 0)); then
    for exe in "$build"/fuzz/fuzz_*; do
        [[ -f $exe && -x $exe ]] && targets+=("$(basename "$exe")")
    done
fi

if ((${#targets[@]} == 0)); then
    echo "fuzz: no fuzz_* executables in $build/fuzz" >&2
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Leaks fail a run like crashes do; third-party allocations kept until exit are suppressed.
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/tests/sanitizers/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

failed=()
for t in "${targets[@]}"; do
    exe=$build/fuzz/$t
    corpus=$work/$t
    artifacts=$build/fuzz-artifacts/$t
    mkdir -p "$corpus" "$artifacts"
    if [[ -d $root/fuzz/corpus/$t ]]; then cp -R "$root/fuzz/corpus/$t/." "$corpus/"; fi
    args=(-max_total_time="$seconds" -timeout=25 -print_final_stats=1
          -artifact_prefix="$artifacts/" "$corpus")
    if [[ -f $root/fuzz/$t.dict ]]; then args=(-dict="$root/fuzz/$t.dict" "${args[@]}"); fi
    echo "fuzz: $t for ${seconds}s"
    rc=0
    "$exe" "${args[@]}" >"$work/$t.log" 2>&1 || rc=$?
    # "#123 DONE cov: 201 ft: 851 corp: 271/16Kb lim: 413 exec/s: 10104 rss: 520Mb"
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$work/$t.log" | tail -1 || true)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/$t.log" | tail -1)
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' <<<"$done_line" || true)
    if ((rc == 0)); then
        echo "fuzz: $t ok: ${runs:-?} runs, ${speed:-?} exec/s, ${cov:-cov: ?}"
        continue
    fi
    failed+=("$t")
    echo "fuzz: $t FAILED (exit $rc); the end of its output:"
    tail -n 60 "$work/$t.log"
    sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$work/$t.log" | while read -r input; do
        echo "fuzz: $t: crash input: $input"
        echo "fuzz: $t: replay with: $exe $input"
    done
done

if ((${#failed[@]})); then
    echo "fuzz: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${seconds}s without a finding"
