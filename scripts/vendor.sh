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
touch "$dest/.installed"
