#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: Debian's `postgresql` package (installed when
# missing), `initdb` and `pg_ctl` run as the `postgres` user in a temporary folder, listening on
# 127.0.0.1 at a free port, with trust authentication for local connections only.
#
#   scripts/postgres.sh start <dir>   creates and starts a cluster in <dir>; prints its URL
#   scripts/postgres.sh stop <dir>    stops it (the caller removes <dir>)
#   scripts/postgres.sh restart <dir> starts a stopped cluster again, on the same port
#
# The URL names the `postgres` database; the tests give each test a schema of its own.
set -euo pipefail

bin_dir() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && { echo "$dir"; return; }
  done
  return 1
}

install_if_missing() {
  bin_dir >/dev/null 2>&1 && return
  if [ "$(id -u)" != 0 ]; then
    echo "PostgreSQL is missing, and this user cannot install it: sudo apt-get install -y postgresql" >&2
    exit 1
  fi
  echo "installing Debian's postgresql package" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  # The package starts a cluster of its own; the tests do not use it.
  if command -v pg_lsclusters >/dev/null 2>&1; then
    pg_lsclusters -h 2>/dev/null | while read -r version name _; do
      pg_ctlcluster "$version" "$name" stop >/dev/null 2>&1 || true
    done
  fi
}

as_postgres() {
  if [ "$(id -un)" = postgres ]; then
    "$@"
  elif [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  local dir="$1"
  install_if_missing
  local bin
  bin="$(bin_dir)"
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  as_postgres "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 \
    --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  local port
  port="$(free_port)"
  # Room for three server processes per test and tests running side by side; fsync stays on,
  # as a user's server has it.
  cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 400
shared_buffers = 128MB
ssl = off
log_min_messages = warning
EOF
  as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start >/dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }
  echo "postgres://postgres@127.0.0.1:$port/postgres"
}

restart() {
  local dir="$1"
  local bin
  bin="$(bin_dir)"
  as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start >/dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }
}

stop() {
  local dir="$1"
  local bin
  bin="$(bin_dir)" || return 0
  [ -d "$dir/data" ] || return 0
  as_postgres "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
}

case "${1:-}" in
  start) start "${2:?a folder for the cluster}" ;;
  stop) stop "${2:?the folder of the cluster}" ;;
  restart) restart "${2:?the folder of the cluster}" ;;
  *) echo "usage: $0 start|stop|restart <dir>" >&2; exit 2 ;;
esac
