#!/usr/bin/env bash
# Idle cost of probes: 100 `sleep` units each with an http readiness probe
# and an http liveness probe every second against one local keep-alive
# server (Node's http, its CPU not counted), kelpie's CPU % of a core
# (utime+stime over SECS, median of REPS), with the screen open in tmux
# (160x45) and headless, beside the same 100 units without probes, in one
# run (reps interleaved). Not part of CI.
#
# usage: bench/probes.sh   (SECS=20 REPS=3 KELPIE_BIN=a binary)
set -euo pipefail
secs=${SECS:-20}
reps=${REPS:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
srv=""
trap 'tmux kill-session -t kbp 2>/dev/null || true; [ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$work"' EXIT
command -v tmux >/dev/null || { apt-get update -qq && apt-get install -y -qq tmux >/dev/null; }
kelpie=${KELPIE_BIN:-}
if [ -z "$kelpie" ]; then
  (cd "$root" && go build -o "$work/kelpie" .)
  kelpie=$work/kelpie
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
node -e "require('http').createServer((q,s)=>s.end('ok')).listen($port,'127.0.0.1')" &
srv=$!
mkdir "$work/probes" "$work/none"
for d in probes none; do
  {
    echo "processes:"
    for i in $(seq 1 100); do
      printf '  s%d:\n    run: ["sleep", "3600"]\n' "$i"
      if [ $d = probes ]; then
        printf '    ready: { http: "http://127.0.0.1:%d/health", period: 1s }\n' "$port"
        printf '    liveness: { http: "http://127.0.0.1:%d/health", period: 1s }\n' "$port"
      fi
    done
  } >"$work/$d/kelpie.yaml"
done
hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# measure NAME DIR MODE: start kelpie (tui in tmux, or headless), wait until
# all 100 are ready, settle, sample SECS.
measure() {
  local name=$1 dir=$2 mode=$3 pid
  if [ "$mode" = tui ]; then
    tmux new-session -d -s kbp -x 160 -y 45 -c "$dir" "$kelpie" --socket "$dir/k.sock"
    sleep 1
    pid=$(tmux list-panes -t kbp -F '#{pane_pid}')
  else
    (cd "$dir" && exec "$kelpie" up --headless --socket "$dir/k.sock" >/dev/null 2>&1) &
    pid=$!
  fi
  for _ in $(seq 1 600); do
    [ "$("$kelpie" ps --json --socket "$dir/k.sock" 2>/dev/null | grep -c '"ready": true')" -ge 100 ] && break
    sleep 0.1
  done
  sleep 3
  local t0 a
  t0=$(ticks "$pid")
  sleep "$secs"
  a=$(ticks "$pid")
  echo "$name $(echo "scale=2; ($a - $t0) * 100 / $hz / $secs" | bc)"
  "$kelpie" down --socket "$dir/k.sock" >/dev/null 2>&1 || true
  tmux kill-session -t kbp 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  sleep 1
}
for r in $(seq 1 "$reps"); do
  measure probes-tui "$work/probes" tui
  measure none-tui "$work/none" tui
  measure probes-headless "$work/probes" headless
  measure none-headless "$work/none" headless
done | tee "$work/out"
echo "medians (% of a core):"
for n in probes-tui none-tui probes-headless none-headless; do
  echo "$n $(awk -v n=$n '$1 == n {print $2}' "$work/out" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
done
