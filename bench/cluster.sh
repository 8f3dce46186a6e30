#!/usr/bin/env bash
# Cluster HTTP under wrk, through the shared harness's bench_http.sh, kelpie's
# modes beside the baselines in one run (reps interleaved):
#   go-reuseport2   2 Go processes with SO_REUSEPORT (the harness's)
#   kelpie-fds2     kelpie, fds mode, 2 bench/cluster workers on fd 3
#   kelpie-rr2      kelpie, round-robin mode, 2 bench/cluster workers
#   node-cluster2   Node's own cluster, 2 workers (the harness's)
#   kelpie-node2    kelpie as the primary of the same Node program, 2 workers
# usage: bench/cluster.sh [-d 10] [-r 3] [TARGET...]   (default: all of them)
# Not part of CI: it takes minutes and wants a quiet machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
harness=${HARNESS:-/work/shared/bench-anchors}
[ -d "$harness" ] || { echo "no benchmark harness at $harness (set HARNESS)" >&2; exit 2; }
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A copy: the harness writes its results beside itself.
cp -r "$harness" "$work/h"
chmod -R u+w "$work/h"
harness=$work/h
(cd "$root" && go build -o "$work/kelpie" . && go build -o "$work/hello" ./bench/cluster)
cfg() { # name mode run
  mkdir -p "$work/$1"
  printf 'clusters:\n  web:\n    run: %s\n    instances: 2\n    listen: "127.0.0.1:8000"\n    mode: %s\n    restart: always\n' "$3" "$2" >"$work/$1/kelpie.yaml"
}
cfg fds fds "[\"$work/hello\"]"
cfg rr round-robin "[\"$work/hello\"]"
cfg node node "[\"node\", \"$harness/node/hello_cluster.js\"]"
k() { echo "kelpie-$1=$work/kelpie up --headless -f $work/$2/kelpie.yaml --socket $work/$2/k.sock"; }
opts=()
while getopts "d:r:" o; do opts+=("-$o" "$OPTARG"); done
shift $((OPTIND - 1))
targets=("$@")
((${#targets[@]})) || targets=(go-reuseport2 kelpie-fds2 kelpie-rr2 node-cluster2 kelpie-node2)
args=()
for t in "${targets[@]}"; do
  case $t in
    kelpie-fds2) args+=("$(k fds2 fds)") ;;
    kelpie-rr2) args+=("$(k rr2 rr)") ;;
    kelpie-node2) args+=("$(k node2 node)") ;;
    *) args+=("$t") ;;
  esac
done
RESULTS_DIR=$work/results "$harness/bench_http.sh" "${opts[@]}" "${args[@]}"
cat "$work"/results/http-*.jsonl
