#!/usr/bin/env bash
# Runs every test of the project, from a fresh clone: installs what it needs (the wasm target,
# Chromium and PostgreSQL from Debian, npm packages), then format, lint, type checks, unit and
# black-box tests in Rust (the core's and the server's on SQLite, then again on PostgreSQL),
# Node and a headless browser. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

# Reuse one cargo target directory outside the clone so repeated runs are incremental.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/mission-control/target}"
export CARGO_TERM_COLOR=never
export MISSION_CONTROL_SERVER_BIN="$CARGO_TARGET_DIR/debug/mission-control-server"
export MISSION_CONTROL_TOOL_WASM="$CARGO_TARGET_DIR/wasm32-wasip2/wasm-release/mission_control_tool.wasm"

step() { printf '\n==> %s\n' "$*"; }

step "toolchain: rustfmt, clippy, wasm32-wasip2"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
rustup target add wasm32-wasip2 >/dev/null

step "Debian packages: chromium for the end-to-end tests, curl and jq for the documentation's commands, haproxy for the tests of several processes"
missing=()
for tool in chromium curl jq haproxy; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "missing, and this user cannot install them: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

step "format"
cargo fmt --all --check

step "lint"
cargo clippy --all-targets -- -D warnings
cargo clippy -p mission-control-tool --target wasm32-wasip2 -- -D warnings

step "the OpenClaw tool component (wasm32-wasip2)"
cargo build -p mission-control-tool --target wasm32-wasip2 --profile wasm-release

step "dashboard: install, type check, unit tests, build"
npm ci --prefix frontend --no-audit --no-fund
npm run --prefix frontend typecheck
npm run --prefix frontend test
npm run --prefix frontend build

step "OpenClaw plugin package: install, transpile the component for JSPI, bundle"
npm ci --prefix openclaw-plugin/package --no-audit --no-fund
npm run --prefix openclaw-plugin/package build

step "OpenClaw: Node 24 and the openclaw release from npm (first run only; cached in ~/.cache/mission-control/openclaw)"
node openclaw-plugin/package/scripts/openclaw-env.mjs

step "Rust: unit, doc and black-box tests (on SQLite)"
cargo build -p mission-control-server
cargo test

step "Rust on PostgreSQL: the core's and the server's tests again, each test on a schema of its own in a throwaway cluster (kept for the Node tests of several processes)"
pg_dir="$(mktemp -d)"
stop_postgres() {
  scripts/postgres.sh stop "$pg_dir" || true
  rm -rf "$pg_dir"
}
trap stop_postgres EXIT
pg_url="$(scripts/postgres.sh start "$pg_dir")"
MISSION_CONTROL_TEST_POSTGRES="$pg_url" cargo test -p mission-control-core -p mission-control-server
export MISSION_CONTROL_TEST_POSTGRES="$pg_url" MISSION_CONTROL_TEST_POSTGRES_DIR="$pg_dir"

step "the published contract: schemathesis against the live server"
scripts/schemathesis.sh

step "MCP: the official Python SDK (PyPI mcp) over Streamable HTTP and stdio"
timeout 600 bash tests/mcp-python/run.sh

step "Node: Socket.io with socket.io-client, MCP with the official TypeScript SDK, the plugin package and real OpenClaw (Node 24), the dashboard in Chromium"
npm ci --prefix tests --no-audit --no-fund
npm test --prefix tests
