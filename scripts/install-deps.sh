#!/usr/bin/env bash
# Installs every package LLM Streamer needs to build, run and test on Debian 12.
# Idempotent: packages already present are not touched and apt is not even called.
# Usage: scripts/install-deps.sh [--build-only]
set -euo pipefail

build_pkgs=(
    cmake g++ make pkgconf ccache dpkg-dev file
    qt6-base-dev qt6-httpserver-dev qt6-websockets-dev qt6-charts-dev libqt6opengl6-dev
    libhiredis-dev
)
test_pkgs=(redis-server redis-tools curl xvfb chromium fonts-dejavu-core)
# Node.js may come from elsewhere than Debian (its bundled npm then conflicts with Debian's npm
# package): only ask apt for what is missing as a command.
command -v node >/dev/null || test_pkgs+=(nodejs)
command -v npm >/dev/null || test_pkgs+=(npm)

pkgs=("${build_pkgs[@]}")
if [[ "${1:-}" != "--build-only" ]]; then
    pkgs+=("${test_pkgs[@]}")
fi

missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

if ((${#missing[@]} == 0)); then
    echo "install-deps: all ${#pkgs[@]} packages present"
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
