#!/usr/bin/env bash
# Renders the hicolor PNG icons from the one SVG source. The PNGs are committed, so building needs
# no renderer; run this after changing the SVG (needs rsvg-convert: apt-get install librsvg2-bin).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/hicolor"
id=io.github.llmstreamer.Desktop
for size in 16 32 48 64 128 256; do
    mkdir -p "${size}x${size}/apps"
    rsvg-convert --width "$size" --height "$size" "scalable/apps/$id.svg" -o "${size}x${size}/apps/$id.png"
done
