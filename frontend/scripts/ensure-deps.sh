#!/usr/bin/env bash
# Install node_modules with `npm ci` when they are missing or older than package-lock.json.
# Sourced by test.sh and e2e.sh from the frontend directory.
set -euo pipefail

export NEXT_TELEMETRY_DISABLED=1
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "==> npm ci"
  npm ci --no-audit --no-fund
fi
