#!/usr/bin/env bash
# Idle cost of the screen over many worker goroutines: kelpie's TUI in tmux
# (160x45) over N idle workers (task: sleep, default 1,000), beside, in the
# same run, the TUI over 100 idle `sleep` processes and htop. Reports each
# one's CPU % of a core (utime+stime over SECS, median of REPS) and RSS.
# Not part of CI.
#
# usage: bench/workers-tui.sh [N]   (SECS=30 REPS=3 KELPIE_BIN=a binary)
set -euo pipefail
n=${1:-1000}
secs=${SECS:-30}
reps=${REPS:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'tmux kill-session -t kbw 2>/dev/null || true; rm -rf "$work"' EXIT
command -v tmux >/dev/null || { apt-get update -qq && apt-get install -y -qq tmux >/dev/null; }
command -v htop >/dev/null || { apt-get update -qq && apt-get install -y -qq htop >/dev/null; }
kelpie=${KELPIE_BIN:-}
if [ -z "$kelpie" ]; then
  (cd "$root" && go build -o "$work/kelpie" .)
  kelpie=$work/kelpie
fi
mkdir "$work/w" "$work/p"
printf 'workers:\n  idle:\n    task: sleep\n    count: %d\n' "$n" > "$work/w/kelpie.yaml"
{
  echo "processes:"
  for i in $(seq 1 100); do printf '  s%d:\n    run: ["sleep", "3600"]\n' "$i"; done
} > "$work/p/kelpie.yaml"
hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
# measure NAME DIR CMD...: start CMD in tmux, settle, sample SECS.
measure() {
  local name=$1 dir=$2
  shift 2
  tmux new-session -d -s kbw -x 160 -y 45 -c "$dir" "$@"
  sleep 1
  local pid
  pid=$(tmux list-panes -t kbw -F '#{pane_pid}')
  if [ "$name" != htop ]; then
    # Settled: every unit running.
    local want=$n
    [ "$name" = "kelpie-100-procs" ] && want=100
    for _ in $(seq 1 600); do
      [ "$("$kelpie" ps --json --socket "$dir/kelpie.sock" 2>/dev/null | grep -c '"state": "running"')" -ge "$want" ] && break
      sleep 0.1
    done
  fi
  sleep 3
  local t0 a
  t0=$(ticks "$pid")
  sleep "$secs"
  a=$(ticks "$pid")
  echo "$name $(echo "scale=2; ($a - $t0) * 100 / $hz / $secs" | bc) $(rss "$pid")"
  tmux kill-session -t kbw
  sleep 1
}
for r in $(seq 1 "$reps"); do
  measure "kelpie-$n-workers" "$work/w" "$kelpie" --socket "$work/w/kelpie.sock"
  measure "kelpie-100-procs" "$work/p" "$kelpie" --socket "$work/p/kelpie.sock"
  measure htop "$work" htop
done | tee "$work/raw"
echo
echo "| what (TUI idle, ${secs}s, median of $reps) | CPU % of a core | RSS MiB |"
echo "|---|---|---|"
for name in "kelpie-$n-workers" kelpie-100-procs htop; do
  cpu=$(awk -v n="$name" '$1 == n {print $2}' "$work/raw" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  mem=$(awk -v n="$name" '$1 == n {print $3}' "$work/raw" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "| $name | $cpu | $mem |"
done
