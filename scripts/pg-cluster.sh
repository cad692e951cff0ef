#!/usr/bin/env bash
# A private, throw-away PostgreSQL cluster for tests and benchmarks.
#   scripts/pg-cluster.sh start DIR   -> initdb + start on a free loopback port; prints the URL
#   scripts/pg-cluster.sh stop DIR    -> stop it (the caller removes DIR)
# A DIR that already holds a cluster is started again as it is (benchmarks keep their data);
# one still running (a benchmark's --keep) is reused.
# NIDB_PG_DURABLE=1 keeps fsync and synchronous commit on (benchmarks of durable writes).
# NIDB_PG_SHARED_BUFFERS sizes the buffer cache (default 512MB; benchmarks size it to their data).
# Runs the server as an unprivileged user when invoked as root (initdb refuses root).
set -euo pipefail
action=${1:?start|stop}
dir=${2:?cluster directory}
bindir=$(dirname "$(readlink -f "$(command -v pg_ctl)")")

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    local user=postgres
    id "$user" >/dev/null 2>&1 || { useradd --system --no-create-home nidbpg; user=nidbpg; }
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

case "$action" in
  start)
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
      owner=postgres; id postgres >/dev/null 2>&1 || owner=nidbpg
      id "$owner" >/dev/null 2>&1 || useradd --system --no-create-home "$owner"
      chown "$owner" "$dir"
      # the server user must be able to reach DIR (mktemp -d makes its folder 0700)
      chmod o+x "$(dirname "$(readlink -f "$dir")")"
    fi
    if [ -d "$dir/data" ] && [ -f "$dir/port" ] && as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      echo "postgresql+psycopg://nidb@127.0.0.1:$(cat "$dir/port")/nidb"  # already running (--keep)
      exit 0
    fi
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
    fresh=0
    if [ ! -d "$dir/data" ]; then
      as_owner "$bindir/initdb" -D "$dir/data" -U nidb --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1
      fresh=1
    fi
    durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    [ "${NIDB_PG_DURABLE:-0}" = 1 ] && durability="-c fsync=on -c synchronous_commit=on"
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 120 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir $durability -c max_wal_size=4GB -c shared_buffers=${NIDB_PG_SHARED_BUFFERS:-512MB} -c work_mem=64MB -c maintenance_work_mem=512MB -c max_connections=200" \
      start >/dev/null
    echo "$port" >"$dir/port"
    [ "$fresh" = 1 ] && "$bindir/createdb" -h 127.0.0.1 -p "$port" -U nidb nidb
    echo "postgresql+psycopg://nidb@127.0.0.1:$port/nidb"
    ;;
  stop)
    [ -d "$dir/data" ] && as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
