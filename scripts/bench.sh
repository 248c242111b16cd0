#!/usr/bin/env bash
# Runs the project's load generator (bench/) against the release server on loopback and prints
# a markdown table of figures beside the targets. Arguments go to the generator:
#   scripts/bench.sh            # full run, a few minutes
#   scripts/bench.sh --quick    # smoke run, under 30 seconds
#   scripts/bench.sh --only create,fanout
#   scripts/bench.sh --only attack --attacks blocker-flip,replays   # some of the attacks
#   scripts/bench.sh --only postgres   # PostgreSQL beside SQLite: a throwaway cluster from
#                                      # scripts/postgres.sh, or MISSION_CONTROL_BENCH_POSTGRES=<url>
set -euo pipefail
cd "$(dirname "$0")/.."

# The same target directory as scripts/test.sh, outside the clone, so builds are shared.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/mission-control/target}"
export CARGO_TERM_COLOR=never

cargo build --release -p mission-control-server
cargo run --release -p mission-control-bench -- "$@"
