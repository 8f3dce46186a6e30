#!/usr/bin/env bash
# Idle cost of a terminal in a pane: kelpie's screen in tmux (120x40) with
# a `tty: true` unit running `htop -d 10` shown in the output pane, beside,
# in the same run (reps interleaved), the same screen over an idle `sleep`
# unit (the idle figure). kelpie's CPU % of a core (utime+stime over SECS,
# median of REPS) and RSS. Not part of CI.
#
# usage: bench/tty.sh   (SECS=30 REPS=3 KELPIE_BIN=a binary)
set -euo pipefail
secs=${SECS:-30}
reps=${REPS:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'tmux -L kbt kill-server 2>/dev/null || true; rm -rf "$work"' EXIT
for tool in tmux htop; do
  command -v $tool >/dev/null || { apt-get update -qq && apt-get install -y -qq $tool >/dev/null; }
done
kelpie=${KELPIE_BIN:-}
if [ -z "$kelpie" ]; then
  (cd "$root" && go build -o "$work/kelpie" .)
  kelpie=$work/kelpie
fi
mkdir "$work/htop" "$work/idle"
printf 'processes:\n  top:\n    run: ["htop", "-d", "10"]\n    tty: true\n' >"$work/htop/kelpie.yaml"
printf 'processes:\n  top:\n    run: ["sleep", "3600"]\n' >"$work/idle/kelpie.yaml"
hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
measure() { # NAME DIR
  local name=$1 dir=$2 pid
  tmux -L kbt new-session -d -s k -x 120 -y 40 -c "$dir" env TERM=xterm-256color "$kelpie" --socket "$dir/k.sock"
  sleep 1
  pid=$(tmux -L kbt list-panes -t k -F '#{pane_pid}')
  for _ in $(seq 1 100); do
    "$kelpie" ps --json --socket "$dir/k.sock" 2>/dev/null | grep -q '"state": "running"' && break
    sleep 0.1
  done
  sleep 3 # the pane drawn, htop's first screens
  if [ "$name" = htop ] && ! tmux -L kbt capture-pane -p -t k | grep -q 'Load average'; then
    echo "htop's screen is not in the pane:" >&2
    tmux -L kbt capture-pane -p -t k >&2
    exit 1
  fi
  local t0 a
  t0=$(ticks "$pid")
  sleep "$secs"
  a=$(ticks "$pid")
  echo "$name $(echo "scale=2; ($a - $t0) * 100 / $hz / $secs" | bc) $(rss "$pid")"
  "$kelpie" down --socket "$dir/k.sock" >/dev/null 2>&1 || true
  tmux -L kbt kill-server 2>/dev/null || true
  sleep 1
}
for r in $(seq 1 "$reps"); do
  measure htop "$work/htop"
  measure idle "$work/idle"
done | tee "$work/out"
echo "medians: name cpu% rss(MiB)"
for n in htop idle; do
  awk -v n=$n '$1 == n {print $2, $3}' "$work/out" | sort -n | awk -v n=$n '{c[NR]=$1; m[NR]=$2} END {print n, c[int((NR+1)/2)], m[int((NR+1)/2)]}'
done
