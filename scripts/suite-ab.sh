#!/usr/bin/env bash
# The same test selection on an older commit and on the working copy, side by side, on one private
# PostgreSQL cluster, twice each (old, new, old, new): pytest's own time, the CPU of the pytest
# process tree (/usr/bin/time) and the CPU of the PostgreSQL server (its /proc counters), with
# the load average. docs/testing.md, "Measuring".
#   scripts/suite-ab.sh OLD_COMMIT tests/store tests/accesslog -k postgresql
# VENV (default .venv) holds pytest; the old commit is checked out in a temporary worktree.
set -euo pipefail
old_rev=${1:?usage: $0 OLD_COMMIT pytest-args...}
shift
here=$(pwd)
bin=$(readlink -f "${VENV:-.venv}")/bin
work=$(mktemp -d /tmp/nidb-suite-ab-XXXX)
git worktree add --quiet --detach "$work/old" "$old_rev" >/dev/null
url=$(scripts/pg-cluster.sh start "$work/cluster" | tail -1)
cleanup() {
  "$here/scripts/pg-cluster.sh" stop "$work/cluster"
  git -C "$here" worktree remove --force "$work/old"
  rm -rf "$work"
}
trap cleanup EXIT

server_cpu() {  # seconds of CPU of the postmaster, its live children and its reaped ones
  local pid ticks=0 p
  pid=$(head -1 "$work/cluster/data/postmaster.pid")
  for p in $pid $(pgrep -P "$pid"); do
    ticks=$((ticks + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$ticks $(getconf CLK_TCK)" | awk '{printf "%.2f", $1 / $2}'
}

for round in 1 2; do
  for side in old new; do
    dir=$here
    [ "$side" = old ] && dir=$work/old
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    before=$(server_cpu)
    (cd "$dir" && NIDB_TEST_POSTGRES_URL=$url PYTHONPATH=$dir /usr/bin/time -f "%e %U %S" \
      -o "$work/time" "$bin/pytest" -q -p no:cacheprovider "$@" >"$work/$side.out" 2>&1) || true
    after=$(server_cpu)
    read -r wall user sys <"$work/time"
    echo "round $round $side: $(tail -1 "$work/$side.out" | tr -d '=') | wall ${wall} s," \
      "pytest CPU $(awk "BEGIN {printf \"%.2f\", $user + $sys}") s," \
      "server CPU $(awk "BEGIN {printf \"%.2f\", $after - $before}") s" \
      "| load $load"
  done
done
