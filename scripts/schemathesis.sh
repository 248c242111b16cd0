#!/usr/bin/env bash
# The published contract, tested against the real server: schemathesis (from PyPI) reads
# /api/openapi.json and runs every one of its checks, in every phase (examples, coverage,
# fuzzing, stateful), against the debug server binary started here on a random port with a
# temporary database. Nothing is configured away but the event stream, which never ends:
# scripts/schemathesis.toml and scripts/schemathesis_hooks.py say how to sign in and which agents
# exist.
#
# schemathesis is installed once into a virtualenv under ~/.cache/mission-control/ (outside the
# clone) and reused. Environment:
#   MISSION_CONTROL_SERVER_BIN  the server binary (default: $CARGO_TARGET_DIR/debug/...)
#   SCHEMATHESIS_MAX_TIME       the time budget of the run in seconds (default 90)
#   SCHEMATHESIS_SEED           replay a run with the seed it printed
#   SCHEMATHESIS_EXTRA_ARGS     more `st run` options, e.g. "--report har"
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

VERSION=4.32.5
cache="$HOME/.cache/mission-control"
venv="$cache/schemathesis-$VERSION"
target="${CARGO_TARGET_DIR:-$cache/target}"
server="${MISSION_CONTROL_SERVER_BIN:-$target/debug/mission-control-server}"
max_time="${SCHEMATHESIS_MAX_TIME:-90}"

if [ ! -f "$venv/.installed" ]; then
  echo "installing schemathesis $VERSION into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv" || { echo "python3 -m venv failed: install Python 3 with venv" >&2; exit 1; }
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION"
  touch "$venv/.installed"
fi
[ -x "$server" ] || { echo "no server binary at $server: cargo build -p mission-control-server" >&2; exit 1; }

work="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# The operator, as scripts/schemathesis.toml knows it. The server lives for this run only, on
# the loopback address, with a database that is deleted afterwards.
export MC_ADMIN_USERNAME=schemathesis MC_ADMIN_PASSWORD=contract-test-password
mkdir -p "$work/data"
: >"$work/server.out"
# Rate limits far above what the run sends, so that it measures the contract, not the limiter.
env PORT=0 HOST=127.0.0.1 \
  DATABASE_PATH="$work/data/mission-control.db" \
  JWT_SECRET="$(head -c 48 /dev/urandom | base64)" \
  ADMIN_USERNAME="$MC_ADMIN_USERNAME" ADMIN_PASSWORD="$MC_ADMIN_PASSWORD" \
  RATE_LIMIT_PER_MINUTE=1000000 LOGIN_RATE_LIMIT_PER_MINUTE=1000000 \
  DASHBOARD_DIR="$work/no-dashboard" RUST_LOG=warn LOG_FORMAT=json \
  "$server" >"$work/server.out" 2>"$work/server.err" &
pid=$!

url=""
for _ in $(seq 1 300); do
  url="$(sed -n 's/^Mission Control listening on \(http:[^ ]*\).*/\1/p' "$work/server.out" | head -n 1)"
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "the server did not start:" >&2
  cat "$work/server.err" >&2
  exit 1
fi
echo "server: $url (pid $pid)"
export MC_URL="$url" MC_REPO="$repo"

seed_args=()
[ -n "${SCHEMATHESIS_SEED:-}" ] && seed_args=(--seed "$SCHEMATHESIS_SEED")

# Run from the temporary folder: schemathesis keeps its cache in ./.schemathesis. One worker:
# its workers are threads, which CPython 3.11's `ast` module (used by hypothesis) is not safe
# with ("AST constructor recursion depth mismatch"), and which the GIL keeps to one core anyway.
status=0
(
  cd "$work"
  "$venv/bin/st" --config-file "$repo/scripts/schemathesis.toml" --no-color run \
    "$url/api/openapi.json" \
    --phases examples,coverage,fuzzing,stateful \
    --max-time "$max_time" \
    --workers 1 \
    --generation-database none \
    "${seed_args[@]}" ${SCHEMATHESIS_EXTRA_ARGS:-}
) || status=$?

if ! kill -0 "$pid" 2>/dev/null; then
  echo "the server died during the run:" >&2
  tail -n 50 "$work/server.err" >&2
  exit 1
fi
if [ "$status" -ne 0 ]; then
  echo "server log (last lines):" >&2
  tail -n 20 "$work/server.err" >&2
fi
exit "$status"
