#!/usr/bin/env bash
# Runs kelpie through the shared benchmark harness beside its baselines, in
# one run: idle monitor (vs htop), log ingestion (vs `| cat > file`), restart
# after kill -9, startup with 50 children. Not part of CI (it takes minutes
# and wants a quiet machine).
#
# usage: bench/run.sh [monitor] [logs] [restart] [startup]   (default: all four)
#   QUICK=1 for a smoke run with small counts (figures not meaningful).
#   HARNESS=path to bench-anchors (default: ../shared/bench-anchors)
#   KELPIE_BIN=a kelpie binary to measure (default: built from this tree)
#   LOGDIR=1: logs also measures kelpie headless with log_dir: on
#   BASE=a git revision: also build kelpie at BASE and measure it in the same
#     run as "kelpie-base", beside this tree's (figures as ratios, same load)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
harness=${HARNESS:-$root/../shared/bench-anchors}
[ -d "$harness" ] || { echo "no benchmark harness at $harness (set HARNESS)" >&2; exit 2; }
for tool in tmux htop; do
  command -v $tool >/dev/null || { apt-get update -qq && apt-get install -y -qq $tool >/dev/null; }
done
work=$(mktemp -d)
cp -r "$harness" "$work/h"
chmod -R u+w "$work/h"
cp "$root/bench/kelpie-adapter.sh" "$work/h/adapters/kelpie.sh"
if [ -z "${KELPIE_BIN:-}" ]; then
  (cd "$root" && go build -o "$work/kelpie" .)
  export KELPIE_BIN=$work/kelpie
fi
tools=kelpie
if [ -n "${BASE:-}" ]; then
  git -C "$root" worktree add -q --detach "$work/base" "$BASE"
  (cd "$work/base" && go build -o "$work/kelpie-base" .)
  git -C "$root" worktree remove --force "$work/base"
  # The same adapter, reading its binary from KELPIE_BASE_BIN.
  sed 's/KELPIE_BIN/KELPIE_BASE_BIN/g; s/MGR_PIDS="kelpie=/MGR_PIDS="kelpie-base=/' \
    "$root/bench/kelpie-adapter.sh" >"$work/h/adapters/kelpie-base.sh"
  export KELPIE_BASE_BIN=$work/kelpie-base
  tools="kelpie kelpie-base"
fi
cd "$work/h"
which=${*:-monitor logs restart startup}
q=${QUICK:-}
for b in $which; do
  case $b in
  monitor) ./bench_monitor.sh -n 100 ${q:+-d 5 -r 1} htop $tools ;;
  logs) ./bench_logs.sh ${q:+-l 100000 -r 1} $tools $(for t in $tools; do echo "$t:headless"; done) ${LOGDIR:+kelpie:headless,logdir} ;;
  restart) ./bench_restart.sh ${q:+-k 3} $tools ;;
  startup) ./bench_startup.sh ${q:+-r 1} $tools ;;
  *) echo "unknown benchmark $b" >&2; exit 2 ;;
  esac
done
echo "results in $work/h/results"
