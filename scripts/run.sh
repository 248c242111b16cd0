#!/usr/bin/env bash
# Runs Mission Control on a fresh machine: builds the dashboard when its sources changed, then
# the release server, which serves API, Socket.io and dashboard on http://localhost:3002/ with
# its SQLite file in ./data. No settings needed (see .env.example for those there are).
# Set SKIP_DASHBOARD_BUILD=1 to serve whatever frontend/dist holds.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/mission-control/target}"

if [ "${SKIP_DASHBOARD_BUILD:-0}" != 1 ]; then
  stamp=frontend/dist/index.html
  if [ ! -f "$stamp" ] || [ -n "$(find frontend/src frontend/public frontend/index.html frontend/package.json frontend/vite.config.ts -newer "$stamp" -print -quit)" ]; then
    echo "Building the dashboard..."
    [ -d frontend/node_modules ] || npm ci --prefix frontend --no-audit --no-fund
    npm run --prefix frontend build
  fi
fi

exec cargo run --release -p mission-control-server -- "$@"
