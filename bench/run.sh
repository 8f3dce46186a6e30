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
cd "$work/h"
which=${*:-monitor logs restart startup}
q=${QUICK:-}
for b in $which; do
  case $b in
  monitor) ./bench_monitor.sh -n 100 ${q:+-d 5 -r 1} htop kelpie ;;
  logs) ./bench_logs.sh ${q:+-l 100000 -r 1} kelpie kelpie:headless ;;
  restart) ./bench_restart.sh ${q:+-k 3} kelpie ;;
  startup) ./bench_startup.sh ${q:+-r 1} kelpie ;;
  *) echo "unknown benchmark $b" >&2; exit 2 ;;
  esac
done
echo "results in $work/h/results"
