#!/bin/bash
# A/B wall time of kpi binaries on the benchmark pack, alternating, N rounds each:
#   bench/ab.sh N BIN1 BIN2 ...   (data: bench/data/posts_10000000.csv, made by bench/run.py)
# For comparing two builds of kpi during engine work; issue 8's figures come from run.py.
# While it times, it stops (SIGSTOP) any running rustc, cargo or valgrind and resumes them
# after: a concurrent fat-LTO build otherwise takes one of the two cores.
set -u
N=$1; shift
root=$(cd "$(dirname "$0")/.." && pwd)
data=$root/bench/data/posts_10000000.csv
pids=$(pgrep -f 'rustc|cargo|valgrind' | tr '\n' ' ')
[ -n "$pids" ] && kill -STOP $pids 2>/dev/null
trap '[ -n "$pids" ] && kill -CONT $pids 2>/dev/null' EXIT
for i in $(seq "$N"); do
  for b in "$@"; do
    /usr/bin/time -f "$b %e %U" "$b" eval "$root/bench/pack.yaml" --data "posts=$data" \
      --as-of 2026-12-31 --format json --fail-on never 2>&1 >/dev/null | tail -1
  done
done | awk '{w[$1]=w[$1]" "$2; u[$1]=u[$1]" "$3} END {for (k in w) print k, "wall:" w[k], " user:" u[k]}'
