#!/usr/bin/env bash
# Rolling reload under load: kelpie runs 2 bench/cluster workers (or Node
# workers of the harness's hello_cluster.js in node mode) on 127.0.0.1:8000,
# wrk -t2 -c64 runs for -d seconds, and `kelpie reload web` runs in the
# middle; prints wrk's summary (errors must be 0) and the reload's time.
# usage: bench/cluster-reload.sh [-d 10] [fds|round-robin|node]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
harness=${HARNESS:-/work/shared/bench-anchors}
dur=10
while getopts "d:" o; do case $o in d) dur=$OPTARG ;; *) exit 2 ;; esac; done
shift $((OPTIND - 1))
mode=${1:-fds}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
work=$(mktemp -d)
(cd "$root" && go build -o "$work/kelpie" . && go build -o "$work/hello" ./bench/cluster)
run="[\"$work/hello\"]"
[ "$mode" = node ] && run="[\"node\", \"$harness/node/hello_cluster.js\"]"
printf 'clusters:\n  web:\n    run: %s\n    instances: 2\n    listen: "127.0.0.1:8000"\n    mode: %s\n    restart: always\n' "$run" "$mode" >"$work/kelpie.yaml"
sock=$work/k.sock
"$work/kelpie" up --headless -f "$work/kelpie.yaml" --socket "$sock" >"$work/out" 2>&1 &
kp=$!
trap '"$work/kelpie" down --socket "$sock" >/dev/null 2>&1 || kill $kp; wait $kp 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf -o /dev/null http://127.0.0.1:8000/ && break; sleep 0.1; done
wrk -t2 -c64 -d"${dur}s" --latency http://127.0.0.1:8000/ >"$work/wrk" 2>&1 &
wp=$!
sleep $((dur / 3))
start=$(date +%s.%N)
"$work/kelpie" reload web --socket "$sock"
end=$(date +%s.%N)
wait $wp
echo "mode $mode: reload of 2 workers under wrk took $(python3 -c "print(round(($end-$start)*1000))") ms"
grep -E "Requests/sec|Socket errors|Non-2xx|requests in" "$work/wrk" || true
