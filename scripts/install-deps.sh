#!/usr/bin/env bash
# Installs every package LLM Streamer needs to build, run and test on Debian 12.
# Idempotent: packages already present are not touched and apt is not even called.
# Usage: scripts/install-deps.sh [--build-only | --run | --bench | --containers]
#   (default)     everything: build, run and test packages, and the tests' npm packages
#   --build-only  what building needs
#   --run         what scripts/run.sh needs: building, redis-server, curl
#   --bench       opt-in: what bench/run.sh and bench/soak.sh need (building, redis-server, the
#                 peers nginx + Nchan and the Python original, valgrind, gnuplot); never installed
#                 by the other profiles
#   --containers  what scripts/ci-containers.sh needs: building (for the .debs), Debian's Docker
#                 engine and docker-compose 1.29, debootstrap for the base image, curl, Python
#                 with YAML; installing docker.io starts no daemon without systemd
set -euo pipefail

build_pkgs=(
    cmake g++ make pkgconf ccache dpkg-dev file
    qt6-base-dev qt6-httpserver-dev qt6-websockets-dev qt6-charts-dev libqt6opengl6-dev
    libhiredis-dev libssl-dev
    protobuf-compiler libprotobuf-dev zlib1g-dev
)
# openssl makes the HTTPS tests' certificates.
run_pkgs=(redis-server redis-tools curl openssl)
# clang-14 and its runtimes build the libFuzzer targets (scripts/fuzz.sh); clang-format checks
# the formatting (scripts/check-format.sh).
test_pkgs=("${run_pkgs[@]}" xvfb chromium fonts-dejavu-core clang-14 libclang-rt-14-dev clang-format)
# The packaging checks (ctest -L packaging): .desktop, AppStream and systemd unit validators,
# Debian's docker-compose (validates docker-compose.yml; no Docker engine needed) and Python.
test_pkgs+=(desktop-file-utils appstream systemd docker-compose python3 python3-yaml)
# Several gateways behind a real nginx (tst_loadbalancer, the dashboard's loadbalancer e2e test):
# the tests run their own nginx unprivileged; Debian's package may also start its service on port
# 80, which they do not need (`systemctl disable --now nginx`).
test_pkgs+=(nginx)
bench_pkgs=("${run_pkgs[@]}" nginx libnginx-mod-nchan python3 python3-fastapi python3-uvicorn
    python3-redis valgrind gnuplot-nox procps)
container_pkgs=(docker.io docker-compose iptables debootstrap curl python3 python3-yaml)
# Node.js may come from elsewhere than Debian (its bundled npm then conflicts with Debian's npm
# package): only ask apt for what is missing as a command.
command -v node >/dev/null || test_pkgs+=(nodejs)
command -v npm >/dev/null || test_pkgs+=(npm)

# The dashboard's end-to-end tests need playwright-core, and its lint ESLint, from npm
# (tests/package-lock.json). Playwright drives Debian's chromium, so no browser is ever
# downloaded. Skipped when tests/node_modules was installed from this very lock file.
install_npm_deps() {
    local tests lock stamp sum
    tests=$(cd "$(dirname "${BASH_SOURCE[0]}")/../tests" && pwd)
    lock=$tests/package-lock.json
    stamp=$tests/node_modules/.llmstreamer-lock.sha256
    sum=$(sha256sum "$lock" | cut -d' ' -f1)
    if [[ -f $stamp && $(<"$stamp") == "$sum" ]]; then
        echo "install-deps: npm packages of tests/ up to date"
        return 0
    fi
    echo "install-deps: npm ci --prefix tests"
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix "$tests" --no-audit --no-fund
    echo "$sum" >"$stamp"
}

profile=${1:-all}
case "$profile" in
all) pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
--build-only) pkgs=("${build_pkgs[@]}") ;;
--run) pkgs=("${build_pkgs[@]}" "${run_pkgs[@]}") ;;
--bench) pkgs=("${build_pkgs[@]}" "${bench_pkgs[@]}") ;;
--containers) pkgs=("${build_pkgs[@]}" "${container_pkgs[@]}") ;;
*) echo "usage: $0 [--build-only | --run | --bench | --containers]" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

if ((${#missing[@]} == 0)); then
    echo "install-deps: all ${#pkgs[@]} packages present"
    if [[ $profile == all ]]; then install_npm_deps; fi
    exit 0
fi

sudo=()
if ((EUID != 0)); then
    if ! command -v sudo >/dev/null; then
        echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
        exit 1
    fi
    sudo=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
if [[ $profile == all ]]; then install_npm_deps; fi
