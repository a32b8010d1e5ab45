#!/usr/bin/env bash
# Install the front-end libraries from the npm registry (lockfile) and copy the files RepairHub
# serves into repairhub/static/vendor/. Nothing here is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null; then
  echo "npm is needed to install the front-end libraries (apt-get install -y nodejs npm)." >&2
  exit 1
fi
npm ci --no-audit --no-fund --loglevel=error
dest=repairhub/static/vendor
mkdir -p "$dest"
cp node_modules/htmx.org/dist/htmx.min.js "$dest/htmx.min.js"
# Leaflet for the dispatcher's live map: script, stylesheet and the images its CSS refers to.
mkdir -p "$dest/leaflet/images"
cp node_modules/leaflet/dist/leaflet.{js,js.map,css} "$dest/leaflet/"  # the map: leaflet.js names it
cp node_modules/leaflet/dist/images/*.png "$dest/leaflet/images/"
# Apache ECharts for the analytics dashboard (line and bar charts).
cp node_modules/echarts/dist/echarts.min.js "$dest/echarts.min.js"
touch "$dest/.installed"
